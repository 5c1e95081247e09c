// What does a web crawl cost, and what does re-crawling an unchanged site cost? The URL connector
// (`@tributary/connector-url`) crawls a local 500-page site through the real pipeline (`runSync`,
// in-memory repository, core's lexical embedder with its requests counted).
//
// - Site: a node:http server on 127.0.0.1: a home page, 9 section pages and 490 articles of ~5 KB
//   (links: home → sections → articles, articles → their section and two siblings), a robots.txt,
//   ETag and Last-Modified on every page, 304 for a matching If-None-Match.
// - Connector: `startUrl` = the home page, `maxDepth` 3, politeness BENCH_RPS requests/second per
//   host (default 100) with BENCH_CONCURRENCY in flight (default 4); the site is allowlisted (it is
//   loopback, which the SSRF guard otherwise refuses).
// - Phases: (1) first crawl, (2) re-crawl with nothing changed (target: no bodies, no loads, no
//   embeddings), (3) re-crawl with 10% of the articles changed. Each prints wall time, pages/s
//   against the politeness limit, requests, status codes, body bytes sent by the server and read
//   by the connector, documents loaded, embedding requests, and peak RSS.
//
// Run: pnpm --filter @tributary/bench url   (after building core and connector-url; see README.md)
// Tune: BENCH_PAGES (default 500), BENCH_RPS (default 100), BENCH_CONCURRENCY (default 4).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createUrlConnector } from '@tributary/connector-url';
import {
  createConnectorInstance,
  createLexicalEmbedder,
  type Embedder,
  runSync,
  type SyncSummary,
} from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';

const PAGES = Number(process.env.BENCH_PAGES ?? 500);
const RPS = Number(process.env.BENCH_RPS ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const SECTIONS = 9;
const ARTICLES = PAGES - 1 - SECTIONS;
const CHANGED_SHARE = 0.1;

// ---- the site ------------------------------------------------------------------------------

const WORDS =
  'river delta basin current estuary channel meander tributary floodplain sediment levee oxbow watershed confluence rapids wetland'.split(
    ' ',
  );

function paragraph(seed: number, index: number): string {
  const words: string[] = [];
  for (let w = 0; w < 70; w += 1)
    words.push(WORDS[(seed * 7 + index * 13 + w * 5 + ((w * w) % 11)) % WORDS.length] as string);
  return `${words.join(' ')} (note ${seed}.${index}).`;
}

function page(title: string, body: string, links: string[]): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} | River Atlas</title>
<meta name="description" content="${title}"></head><body>
<header><nav>${links.map((href) => `<a href="${href}">${href}</a>`).join(' ')}</nav></header>
<main><article><h1>${title}</h1>${body}</article></main><footer>River Atlas</footer></body></html>`;
}

const revisions = new Map<number, number>();

function render(path: string): string | undefined {
  if (path === '/') {
    return page(
      'River Atlas',
      `<p>${paragraph(0, 0)}</p>`,
      Array.from({ length: SECTIONS }, (_, s) => `/section/${s}`),
    );
  }
  const section = /^\/section\/(\d+)$/.exec(path);
  if (section) {
    const s = Number(section[1]);
    if (s >= SECTIONS) return undefined;
    const links = ['/'];
    for (let a = s; a < ARTICLES; a += SECTIONS) links.push(`/article/${a}`);
    return page(`Section ${s}`, `<p>${paragraph(1000 + s, 0)}</p>`, links);
  }
  const article = /^\/article\/(\d+)$/.exec(path);
  if (article) {
    const a = Number(article[1]);
    if (a >= ARTICLES) return undefined;
    const revision = revisions.get(a) ?? 0;
    const body = Array.from(
      { length: 8 },
      (_, p) => `<h2>Part ${p}</h2><p>${paragraph(a + revision * 7919, p)}</p>`,
    ).join('');
    const siblings = [(a + 1) % ARTICLES, (a + ARTICLES - 1) % ARTICLES].map((n) => `/article/${n}`);
    return page(`Article ${a}${revision ? ` (revision ${revision})` : ''}`, body, [
      `/section/${a % SECTIONS}`,
      ...siblings,
    ]);
  }
  return undefined;
}

const stats = { requests: 0, bodyBytes: 0, byStatus: new Map<number, number>() };
const server = createServer((request, response) => {
  stats.requests += 1;
  const path = request.url ?? '/';
  const send = (status: number, body?: string, headers: Record<string, string> = {}) => {
    stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
    response.writeHead(status, headers);
    if (body !== undefined) stats.bodyBytes += Buffer.byteLength(body);
    response.end(body);
  };
  if (path === '/robots.txt') {
    send(200, 'User-agent: *\nDisallow: /admin/\n', { 'content-type': 'text/plain' });
    return;
  }
  const html = render(path);
  if (html === undefined) {
    send(404, 'not found', { 'content-type': 'text/plain' });
    return;
  }
  const etag = `"${fnv(html).toString(16)}-${html.length}"`;
  const headers = {
    etag,
    'last-modified': 'Mon, 02 Nov 2026 10:00:00 GMT',
    'content-type': 'text/html; charset=utf-8',
  };
  if (request.headers['if-none-match'] === etag) send(304, undefined, headers);
  else send(200, html, headers);
});

function fnv(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1)
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193) >>> 0;
  return hash;
}

// ---- the run -------------------------------------------------------------------------------

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
const origin = `http://127.0.0.1:${port}`;

const repository = createMemoryRepository();
const record = repository.addConnector({ orgId: randomUUID(), connectorType: 'url', name: 'River Atlas' });
const lexical = createLexicalEmbedder({ dimensions: 256 });
let embedRequests = 0;
const embedder: Embedder = {
  ...lexical,
  embed: (texts, options) => {
    embedRequests += 1;
    return lexical.embed(texts, options);
  },
};
const connector = createUrlConnector({ allowedHosts: [`127.0.0.1:${port}`], checkpointEvery: 100 });
const config = {
  startUrl: `${origin}/`,
  maxDepth: 3,
  maxPages: PAGES * 2,
  requestsPerSecond: RPS,
  concurrency: CONCURRENCY,
};

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

interface Row {
  phase: string;
  summary: SyncSummary;
  seconds: number;
  requests: number;
  statuses: string;
  serverBytes: number;
  embedRequests: number;
  rss: number;
}
const rows: Row[] = [];

async function phase(name: string): Promise<void> {
  stats.requests = 0;
  stats.bodyBytes = 0;
  stats.byStatus.clear();
  embedRequests = 0;
  peakRss = 0;
  const started = performance.now();
  const summary = await runSync({ connector, config, connectorId: record.id, repository, embedder });
  const seconds = (performance.now() - started) / 1000;
  rows.push({
    phase: name,
    summary,
    seconds,
    requests: stats.requests,
    statuses: [...stats.byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}×${count}`)
      .join(' '),
    serverBytes: stats.bodyBytes,
    embedRequests,
    rss: peakRss,
  });
  console.log(
    `${name}: ${summary.status} in ${seconds.toFixed(1)} s, ${summary.counts.seen} pages, ${stats.requests} requests, ${embedRequests} embedding requests`,
  );
}

console.log(
  `site: ${PAGES} pages at ${origin}; politeness ${RPS} requests/s, ${CONCURRENCY} in flight per host`,
);
{
  // The connector alone (fetch, robots, HTML to Markdown; no pipeline): its rate against the limit.
  const started = performance.now();
  let pages = 0;
  for await (const change of createConnectorInstance(connector, { config }).sync()) {
    if (change.kind === 'upsert') pages += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `listing only (no pipeline): ${pages} pages in ${seconds.toFixed(1)} s = ${(pages / seconds).toFixed(1)} pages/s (limit ${RPS}/s)`,
  );
  stats.requests = 0;
}
await phase('first crawl');
await phase('re-crawl, nothing changed');
const changed = Math.round(ARTICLES * CHANGED_SHARE);
for (let a = 0; a < changed; a += 1) revisions.set(a * 10, 1);
await phase(`re-crawl, ${changed} articles changed`);
clearInterval(sampler);
server.close();

const format = (n: number) => n.toLocaleString('en-US');
const header = [
  'phase',
  'status',
  'wall',
  'pages/s',
  'limit',
  'requests',
  'statuses',
  'bytes sent',
  'bytes read',
  'loaded',
  'skipped',
  'embed req',
  'inputs',
  'peak RSS',
];
const table = rows.map((row) => [
  row.phase,
  row.summary.status,
  `${row.seconds.toFixed(1)} s`,
  (row.requests / row.seconds).toFixed(1),
  `${RPS}/s`,
  format(row.requests),
  row.statuses,
  format(row.serverBytes),
  format(row.summary.bytes),
  format(row.summary.counts.inserted + row.summary.counts.updated + row.summary.counts.unchanged),
  format(row.summary.counts.skippedByVersion),
  format(row.embedRequests),
  format(row.summary.embeddings.inputs),
  `${Math.round(row.rss / 1024 / 1024)} MB`,
]);
const widths = header.map((title, index) =>
  Math.max(title.length, ...table.map((cells) => (cells[index] as string).length)),
);
const line = (cells: string[]) =>
  `| ${cells.map((cell, index) => cell.padEnd(widths[index] as number)).join(' | ')} |`;
console.log();
console.log(line(header));
console.log(line(widths.map((width) => '-'.repeat(width))));
for (const cells of table) console.log(line(cells));
const unchanged = rows[1];
if (
  unchanged &&
  (unchanged.embedRequests > 0 || unchanged.summary.counts.skippedByVersion < unchanged.summary.counts.seen)
) {
  console.log('!! FLAG: the unchanged re-crawl loaded or embedded something');
}
process.exit(0);
