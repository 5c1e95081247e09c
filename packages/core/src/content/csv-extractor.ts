import { CorruptContentError } from '../errors/index.js';
import type { ContentExtractor, ExtractorInput, ExtractorOutput } from './content-extractor.js';
import { toCellText } from './html-to-markdown-text.js';

/** Rows per group: each group is a Markdown table that repeats the header row. */
export const CSV_ROWS_PER_GROUP = 25;

/**
 * CSV: rows become Markdown tables of {@link CSV_ROWS_PER_GROUP} rows, each group starting with the
 * header row, separated by blank lines. A chunk then always carries the column names next to its
 * values (a bare `42,17,yes` row means nothing to a search). Quoted fields may hold newlines and
 * delimiters; the delimiter (`,` `;` tab `|`) is detected from the first lines.
 */
export const csvExtractor: ContentExtractor = {
  name: 'csv',
  mimeTypes: ['text/csv', 'application/csv', 'text/comma-separated-values'],
  extensions: ['csv'],
  binary: false,
  extract: (input) => extractDelimited(input),
};

/** Tab-separated values, rendered like {@link csvExtractor}. */
export const tsvExtractor: ContentExtractor = {
  name: 'tsv',
  mimeTypes: ['text/tab-separated-values'],
  extensions: ['tsv', 'tab'],
  binary: false,
  extract: (input) => extractDelimited(input, '\t'),
};

async function extractDelimited(input: ExtractorInput, forcedDelimiter?: string): Promise<ExtractorOutput> {
  const text = input.text ?? '';
  if (text.trim() === '')
    return { text: '', structure: 'markdown', metadata: { rowCount: 0, columnCount: 0 } };
  const delimiter = forcedDelimiter ?? detectDelimiter(text);
  const { parse } = await import('csv-parse/sync');
  let records: string[][];
  try {
    records = parse(text, {
      delimiter,
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
    }) as string[][];
  } catch (error) {
    throw new CorruptContentError({
      fileName: input.fileName,
      mimeType: input.mimeType,
      reason: `it is not valid CSV (${error instanceof Error ? error.message : String(error)})`,
      hint: 'Check the quoting in the file (an unclosed quote swallows the rest of it), fix it at its source and sync again',
      cause: error,
    });
  }

  const [header, ...rows] = records;
  if (!header) return { text: '', structure: 'markdown', metadata: { rowCount: 0, columnCount: 0 } };
  const columnCount = Math.max(header.length, ...rows.map((row) => row.length));
  const headerCells = Array.from(
    { length: columnCount },
    (_, index) => toCellText(header[index] ?? '') || `column ${index + 1}`,
  );
  const line = (cells: readonly string[]) =>
    `| ${Array.from({ length: columnCount }, (_, index) => toCellText(cells[index] ?? '')).join(' | ')} |`;
  const headerLines = `${line(headerCells)}\n| ${headerCells.map(() => '---').join(' | ')} |`;

  const groups: string[] = [];
  let length = 0;
  for (let start = 0; start < Math.max(rows.length, 1); start += CSV_ROWS_PER_GROUP) {
    const group = [headerLines, ...rows.slice(start, start + CSV_ROWS_PER_GROUP).map(line)].join('\n');
    groups.push(group);
    length += group.length + 2;
    // Stop building past the cap: the registry reports the overflow with a clear error.
    if (length > input.maxCharacters) break;
  }

  return {
    text: groups.join('\n\n'),
    structure: 'markdown',
    metadata: {
      rowCount: rows.length,
      columnCount,
      columns: headerCells,
      delimiter: delimiter === '\t' ? 'tab' : delimiter,
    },
  };
}

/** The candidate that splits the first lines most consistently (quotes respected). */
function detectDelimiter(text: string): string {
  const sample = text.slice(0, 16 * 1024);
  let best = ',';
  let bestScore = 0;
  for (const candidate of [',', ';', '\t', '|']) {
    const counts = countPerLine(sample, candidate).slice(0, 10);
    const first = counts[0] ?? 0;
    if (first === 0) continue;
    const consistent = counts.filter((count) => count === first).length;
    const score = consistent * 1000 + first;
    if (score > bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** Delimiter count per record, ignoring delimiters inside double quotes (which may span lines). */
function countPerLine(text: string, delimiter: string): number[] {
  const counts: number[] = [];
  let count = 0;
  let quoted = false;
  for (const character of text) {
    if (character === '"') quoted = !quoted;
    else if (!quoted && character === delimiter) count += 1;
    else if (!quoted && character === '\n') {
      counts.push(count);
      count = 0;
    }
  }
  if (count > 0) counts.push(count);
  return counts;
}
