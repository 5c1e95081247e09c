import { stripInlineImages } from '@tributary/core';
import TurndownService from 'turndown';
import { strikethrough, tables, taskListItems } from 'turndown-plugin-gfm';

let turndown: TurndownService | undefined;

/** Minimal DOM surface the table preparation uses (linkedom's elements have it). */
interface DomElement {
  nodeName: string;
  nodeType: number;
  childNodes: ArrayLike<DomElement>;
  textContent: string | null;
  ownerDocument: { createElement(name: string): DomElement };
  querySelectorAll(selector: string): Iterable<DomElement>;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  replaceWith(...nodes: DomElement[]): void;
  appendChild(node: DomElement): DomElement;
  remove(): void;
}

/**
 * Markdown of an HTML fragment (an element of a parsed document): GitHub-flavoured tables,
 * fenced code blocks (with the language from `language-*` / `lang-*` classes, also for a `<pre>`
 * without `<code>`), ATX headings, and images reduced to their alt text with a short link
 * (`stripInlineImages`), so a base64 picture never becomes text.
 */
export function elementToMarkdown(root: unknown): string {
  if (!root) return '';
  prepareTables(root as DomElement);
  turndown ??= createTurndown();
  // Turndown re-parses the serialised HTML with its own DOM (domino), which has `table.rows`.
  const markdown = turndown.turndown((root as { innerHTML?: string }).innerHTML ?? '');
  return stripInlineImages(markdown)
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function createTurndown(): TurndownService {
  const service = new TurndownService({
    headingStyle: 'atx',
    codeBlockStyle: 'fenced',
    bulletListMarker: '-',
    emDelimiter: '_',
  });
  service.use([tables, strikethrough, taskListItems]);
  service.remove(['script', 'style', 'noscript', 'iframe', 'form', 'button', 'template', 'svg', 'canvas']);
  service.addRule('tableCell', {
    // The plugin's own cell rule leaves `|` and line breaks in cell text, which split the row.
    filter: ['th', 'td'],
    replacement: (content, node) => {
      const cell = node as unknown as DomElement & { parentNode: DomElement | null };
      const siblings = cell.parentNode ? Array.from(cell.parentNode.childNodes) : [];
      const first = siblings.filter((child) => child.nodeType === 1)[0] === cell;
      const text = content
        .replace(/\s+/g, ' ')
        .trim()
        .replace(/(?<!\\)\|/g, '\\|');
      return `${first ? '| ' : ' '}${text} |`;
    },
  });
  service.addRule('image', {
    filter: 'img',
    replacement: (_content, node) => {
      const element = node as unknown as DomElement;
      return imageMarkdown(element.getAttribute('alt') ?? '', element.getAttribute('src') ?? '');
    },
  });
  service.addRule('codeBlock', {
    // Every <pre>: Turndown's own rule only fences <pre><code>, so a bare <pre> lost its layout.
    filter: (node) => node.nodeName === 'PRE',
    replacement: (_content, node) => {
      const element = node as unknown as DomElement;
      const code = (element.textContent ?? '').replace(/\n+$/, '');
      const language = codeLanguage(element);
      const longestRun = Math.max(2, ...[...code.matchAll(/`+/g)].map((match) => match[0].length));
      const fence = '`'.repeat(longestRun + 1);
      return `\n\n${fence}${language}\n${code}\n${fence}\n\n`;
    },
  });
  return service;
}

function imageMarkdown(alt: string, src: string): string {
  const text = alt.replace(/\s+/g, ' ').trim().replace(/[[\]]/g, '');
  if (text === '') return '';
  return /^https?:\/\//i.test(src) && src.length <= 200 ? `![${text}](${src})` : text;
}

/** `class="language-ts"`, `lang-ts`, `highlight-source-ts` on the `<pre>` or its `<code>`. */
function codeLanguage(pre: DomElement): string {
  const code = [...Array.from(pre.childNodes)].find((child) => child.nodeName === 'CODE');
  for (const element of [code, pre]) {
    const classes = element?.getAttribute('class') ?? '';
    const match = /(?:^|\s)(?:language|lang|highlight-source)-([\w+#.-]+)/.exec(classes);
    if (match?.[1]) return match[1];
    const data = element?.getAttribute('data-lang') ?? element?.getAttribute('data-language');
    if (data && /^[\w+#.-]+$/.test(data)) return data;
  }
  return '';
}

/**
 * The GFM plugin converts only tables whose first row is a header row and keeps others as raw
 * HTML. Real pages often have no `<th>`: promote the first row's cells to headers so the table
 * stays a table; flatten tables nested in cells (layout) to their text.
 */
function prepareTables(root: DomElement): void {
  if (typeof root.querySelectorAll !== 'function') return;
  for (const nested of [...root.querySelectorAll('td table, th table')]) {
    const paragraph = nested.ownerDocument.createElement('span');
    paragraph.textContent = ` ${(nested.textContent ?? '').replace(/\s+/g, ' ').trim()} `;
    nested.replaceWith(paragraph);
  }
  for (const table of root.querySelectorAll('table')) {
    const rows = [...table.querySelectorAll('tr')];
    const first = rows[0];
    if (!first) {
      // A table without rows crashes the GFM plugin (it reads `rows[0]`): keep its text only.
      const text = table.ownerDocument.createElement('p');
      text.textContent = (table.textContent ?? '').replace(/\s+/g, ' ').trim();
      table.replaceWith(text);
      continue;
    }
    // The plugin's header-row test compares first children: whitespace text must not come first.
    removeBlankText(table);
    for (const section of table.querySelectorAll('thead, tbody, tfoot')) removeBlankText(section);
    for (const row of rows) removeBlankText(row);
    const cells = [...Array.from(first.childNodes)].filter((child) => child.nodeType === 1);
    if (cells.length > 0 && cells.every((cell) => cell.nodeName === 'TH')) continue;
    for (const cell of cells) {
      const header = cell.ownerDocument.createElement('th');
      for (const child of [...Array.from(cell.childNodes)]) header.appendChild(child);
      const colspan = cell.getAttribute('colspan');
      if (colspan) header.setAttribute('colspan', colspan);
      cell.replaceWith(header);
    }
  }
}

/** Whitespace text between rows and cells confuses the GFM plugin's "first row/cell" tests. */
function removeBlankText(parent: DomElement): void {
  for (const child of [...Array.from(parent.childNodes)]) {
    if (child.nodeType === 3 && (child.textContent ?? '').trim() === '') child.remove();
  }
}
