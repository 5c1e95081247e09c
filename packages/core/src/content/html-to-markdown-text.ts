import type { FormatCallback, HtmlToTextOptions } from 'html-to-text';

type Convert = (html: string) => string;

let compiled: Promise<Convert> | undefined;

/**
 * Readable text from HTML, shaped as light Markdown so the chunker keeps the structure: headings
 * become `#` lines, tables become Markdown tables (header row first), lists use `- ` / `1. `.
 * Scripts, styles, navigation, footers, asides and forms are dropped, images leave their alt text; links keep their text only (URLs
 * are noise in embeddings). When the page has a `<main>` or `<article>`, only that is converted,
 * so site chrome around it stays out. html-to-text is loaded on first use.
 */
export async function htmlToMarkdownText(html: string): Promise<string> {
  compiled ??= loadConverter();
  const convert = await compiled;
  return convert(pickMainContent(html));
}

/** The text of the first `<title>` element, entity-decoded, or undefined. */
export async function htmlTitle(html: string): Promise<string | undefined> {
  const match = /<title\b[^>]*>([\s\S]*?)<\/title\s*>/i.exec(html.slice(0, 200_000));
  if (!match?.[1]) return undefined;
  compiled ??= loadConverter();
  const convert = await compiled;
  const title = convert(`<p>${match[1]}</p>`).replace(/\s+/g, ' ').trim();
  return title === '' ? undefined : title;
}

/** Keeps `<main>` (or every `<article>`) when the page has one; the whole document otherwise. */
function pickMainContent(html: string): string {
  const main = /<main\b[^>]*>([\s\S]*)<\/main\s*>/i.exec(html);
  if (main?.[1] && /\S/.test(main[1])) return main[1];
  const articles = [...html.matchAll(/<article\b[^>]*>([\s\S]*?)<\/article\s*>/gi)].map(
    (match) => match[1] ?? '',
  );
  if (articles.some((article) => /\S/.test(article))) return articles.join('\n');
  return html;
}

async function loadConverter(): Promise<Convert> {
  const { compile } = await import('html-to-text');
  return compile(converterOptions());
}

const DROPPED = [
  'script',
  'style',
  'noscript',
  'template',
  'nav',
  'footer',
  'aside',
  'svg',
  'canvas',
  'iframe',
  'object',
  'embed',
  'form',
  'button',
  'select',
  'input',
  'textarea',
  'picture',
  'video',
  'audio',
  'head',
  '[role="navigation"]',
  '[aria-hidden="true"]',
  '[hidden]',
];

function converterOptions(): HtmlToTextOptions {
  return {
    wordwrap: false,
    formatters: { markdownHeading, markdownTable, imageAltText },
    selectors: [
      ...DROPPED.map((selector) => ({ selector, format: 'skip' })),
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'ul', options: { itemPrefix: '- ' } },
      ...[1, 2, 3, 4, 5, 6].map((level) => ({
        selector: `h${level}`,
        format: 'markdownHeading',
        options: { level },
      })),
      { selector: 'table', format: 'markdownTable' },
      { selector: 'img', format: 'imageAltText' },
      { selector: 'hr', format: 'skip' },
    ],
  };
}

/** An image leaves only its alt text (a description someone wrote); never its source or data. */
const imageAltText: FormatCallback = (element, _walk, builder) => {
  const alt = String((element as { attribs?: Record<string, string> }).attribs?.alt ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  if (alt !== '') builder.addInline(alt);
};

/** `<h2>Install</h2>` → `## Install` on its own line, whatever inline markup is inside. */
const markdownHeading: FormatCallback = (element, walk, builder, formatOptions) => {
  const level = Math.min(6, Math.max(1, Number(formatOptions.level) || 1));
  builder.openBlock({ leadingLineBreaks: 2 });
  walk(element.children, builder);
  builder.closeBlock({
    trailingLineBreaks: 2,
    blockTransform: (text) => {
      const heading = text.replace(/\s+/g, ' ').trim();
      return heading === '' ? '' : `${'#'.repeat(level)} ${heading}`;
    },
  });
};

/** A `<table>` as a Markdown table; the first row is the header. Nested tables flatten into cells. */
const markdownTable: FormatCallback = (element, walk, builder) => {
  builder.openTable();
  const walkTable = (node: { type: string; name?: string; children?: unknown[] }) => {
    if (node.type !== 'tag') return;
    if (node.name === 'thead' || node.name === 'tbody' || node.name === 'tfoot') {
      for (const child of node.children ?? []) walkTable(child as typeof node);
      return;
    }
    if (node.name !== 'tr') return;
    builder.openTableRow();
    for (const cell of (node.children ?? []) as Array<typeof node & { attribs?: Record<string, string> }>) {
      if (cell.type !== 'tag' || (cell.name !== 'td' && cell.name !== 'th')) continue;
      builder.openTableCell({ maxColumnWidth: undefined });
      walk(cell.children as never, builder);
      builder.closeTableCell({
        colspan: Number(cell.attribs?.colspan) || 1,
        rowspan: Number(cell.attribs?.rowspan) || 1,
      });
    }
    builder.closeTableRow();
  };
  for (const child of element.children ?? []) walkTable(child as never);
  builder.closeTable({ leadingLineBreaks: 2, trailingLineBreaks: 2, tableToString: markdownTableToString });
};

function markdownTableToString(rows: Array<Array<{ text: string; colspan: number }>>): string {
  const cells = rows
    .map((row) => row.flatMap((cell) => [cell.text, ...Array.from({ length: cell.colspan - 1 }, () => '')]))
    .map((row) => row.map(toCellText))
    .filter((row) => row.some((cell) => cell !== ''));
  const [header, ...body] = cells;
  if (!header) return '';
  const width = Math.max(...cells.map((row) => row.length));
  const pad = (row: string[]) => [...row, ...Array.from({ length: width - row.length }, () => '')];
  const line = (row: string[]) => `| ${pad(row).join(' | ')} |`;
  return [line(header), line(Array.from({ length: width }, () => '---')), ...body.map(line)].join('\n');
}

/** One table cell on one line, with pipes escaped so the Markdown table stays a table. */
export function toCellText(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');
}
