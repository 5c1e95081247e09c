// Extraction fidelity: word recall and precision per kind of document, over the corpus in
// fidelity-corpus/ (files/ + expected/). Web pages go through the real URL connector (served by a
// local HTTP server) and then core's extractor registry, as in a sync; other files go through
// the registry from their bytes. Baselines for comparison:
//   html: "old" = Readability with charThreshold 100 + plain Turndown (the connector before this
//         change), "reference" = Readability with its defaults + plain Turndown;
//   pdf:  "old" = unpdf's extractText without PDF.js character maps, no form fields or annotations.
// Recall = expected words found / expected words; precision = extracted words that were expected
// / extracted words (multisets, lower-cased; CJK counted per character). Markdown syntax is not a word.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readability } from '@mozilla/readability';
import { createUrlConnector } from '@tributary/connector-url';
import {
  createConnectorInstance,
  createExtractorRegistry,
  UnsupportedContentError,
  type UpsertChange,
} from '@tributary/core';
import { parseHTML } from 'linkedom';
import TurndownService from 'turndown';

const root = new URL('./fidelity-corpus/', import.meta.url).pathname;
const files = readdirSync(join(root, 'files')).sort();
const registry = createExtractorRegistry();

const pages = new Map(
  files
    .filter((name) => name.endsWith('.html'))
    .map((name) => [`/${name}`, readFileSync(join(root, 'files', name))]),
);
const server = createServer((request, response) => {
  const body = pages.get(request.url ?? '');
  if (!body) return void response.writeHead(404).end();
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;
const connector = createUrlConnector({ allowedHosts: [`127.0.0.1:${port}`] });

export function words(text: string): string[] {
  return (
    text
      .toLowerCase()
      .match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{N}]+/gu) ?? []
  );
}

function score(expected: string, actual: string): { recall: number; precision: number } {
  const want = new Map<string, number>();
  for (const word of words(expected)) want.set(word, (want.get(word) ?? 0) + 1);
  const got = words(actual);
  let matched = 0;
  for (const word of got) {
    const left = want.get(word) ?? 0;
    if (left > 0) {
      matched += 1;
      want.set(word, left - 1);
    }
  }
  const expectedCount = words(expected).length;
  return {
    recall: expectedCount === 0 ? 1 : matched / expectedCount,
    precision: got.length === 0 ? 0 : matched / got.length,
  };
}

async function viaConnector(name: string): Promise<string> {
  const instance = createConnectorInstance(connector, {
    config: { url: `http://127.0.0.1:${port}/${name}`, requestsPerSecond: 1000 },
  });
  for await (const change of instance.sync({ mode: 'full' })) {
    if (change.kind !== 'upsert') continue;
    const content = (change as UpsertChange).document.content;
    const loaded =
      content.kind === 'lazy' ? await content.load({ signal: new AbortController().signal }) : content;
    if (loaded.kind !== 'text') throw new Error(`unexpected ${loaded.kind} content for ${name}`);
    return (await registry.extract({ text: loaded.text, claimedMimeType: 'text/markdown' })).text;
  }
  throw new Error(`no document for ${name}`);
}

function readabilityTurndown(html: string, charThreshold: number | undefined): string {
  const { document } = parseHTML(html);
  const article = new Readability(
    document as never,
    charThreshold === undefined ? {} : { charThreshold },
  ).parse();
  return new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced' }).turndown(
    article?.content ?? '',
  );
}

async function oldPdf(bytes: Uint8Array): Promise<string> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  // No cMapUrl/standardFontDataUrl, as before; unpdf's own fallback cannot see pdfjs-dist from its folder.
  const document = await getDocumentProxy(new Uint8Array(bytes), {
    verbosity: 0,
    cMapUrl: undefined,
    standardFontDataUrl: undefined,
  });
  return (await extractText(document, { mergePages: true })).text as string;
}

type Row = { kind: string; file: string; variant: string; recall: number; precision: number; note?: string };
const rows: Row[] = [];
const started = performance.now();
for (const file of files) {
  const kind = file.split('.').pop() as string;
  const refused = (() => {
    try {
      return readFileSync(join(root, 'expected', `${file}.refused`), 'utf8').trim();
    } catch {
      return undefined;
    }
  })();
  const bytes = readFileSync(join(root, 'files', file));
  if (refused) {
    const outcome = await registry.extract({ bytes, fileName: file }).then(
      (result) => `stored ${result.text.length} characters`,
      (error: unknown) =>
        UnsupportedContentError.isInstance(error) ? `refused: ${error.reason}` : `error: ${String(error)}`,
    );
    rows.push({ kind, file, variant: 'now', recall: Number.NaN, precision: Number.NaN, note: outcome });
    continue;
  }
  const expected = readFileSync(join(root, 'expected', `${file}.txt`), 'utf8');
  const measure = async (variant: string, run: () => Promise<string> | string) => {
    try {
      const text = await run();
      const inline = text.match(/data:[\w.+-]+\/[\w.+-]+;base64,[A-Za-z0-9+/=]+/g) ?? [];
      const note =
        inline.length > 0
          ? `${inline.length} base64 image(s) kept as text, ${inline.join('').length} characters`
          : undefined;
      rows.push({ kind, file, variant, ...score(expected, text), ...(note ? { note } : {}) });
    } catch (error) {
      rows.push({
        kind,
        file,
        variant,
        recall: 0,
        precision: 0,
        note: UnsupportedContentError.isInstance(error)
          ? `refused: ${error.reason}`
          : String(error).slice(0, 80),
      });
    }
  };
  if (kind === 'html') {
    const html = bytes.toString('utf8');
    await measure('old', () => readabilityTurndown(html, 100));
    await measure('reference', () => readabilityTurndown(html, undefined));
    await measure('now', () => viaConnector(file));
  } else {
    if (kind === 'pdf') await measure('old', () => oldPdf(bytes));
    await measure('now', async () => (await registry.extract({ bytes, fileName: file })).text);
  }
}
server.close();

const percent = (value: number) =>
  Number.isNaN(value) ? '   -  ' : `${(value * 100).toFixed(1).padStart(5)}%`;
console.log('file                             variant    recall  precision  note');
for (const row of rows) {
  console.log(
    `${row.file.padEnd(32)} ${row.variant.padEnd(9)} ${percent(row.recall)}  ${percent(row.precision)}   ${row.note ?? ''}`,
  );
}
console.log('\nper kind (mean over files)        variant    recall  precision');
const groups = new Map<string, Row[]>();
for (const row of rows.filter((entry) => !Number.isNaN(entry.recall))) {
  const key = `${row.kind}\u0000${row.variant}`;
  groups.set(key, [...(groups.get(key) ?? []), row]);
}
for (const [key, group] of [...groups].sort()) {
  const [kind, variant] = key.split('\u0000') as [string, string];
  const mean = (pick: (row: Row) => number) => group.reduce((sum, row) => sum + pick(row), 0) / group.length;
  console.log(
    `${`${kind} (${group.length} files)`.padEnd(33)} ${variant.padEnd(9)} ${percent(mean((row) => row.recall))}  ${percent(mean((row) => row.precision))}`,
  );
}
console.log(`\n${files.length} files in ${((performance.now() - started) / 1000).toFixed(1)} s`);
