// What does a Notion sync cost, at Notion's own rate limit? The real connector (@notionhq/client)
// against the fake Notion server of the connector's tests, which here ENFORCES the limit (a token
// bucket of 3 requests/s with bursts: over it, 429 with Retry-After), through `runSync` into the
// in-memory repository with the offline lexical embedder.
//
// - Source: BENCH_NOTION_PAGES (default 1,000) pages: 20 top-level sections, the rest below them,
//   one in ten with a nested list (one more children call). Each page a few blocks.
// - Phases: (1) full sync: wall time, requests, achieved request rate as a fraction of the limit
//   (target >= 0.9) and 429s (target 0); (2) incremental re-sync with nothing changed and (3) a full
//   re-sync with nothing changed: API calls and time; (4) 10 pages edited, incremental: API calls
//   (target: proportional to the edits); (5) the same with `detectDeletes: false`; (6) 5 pages
//   trashed and 5 unshared, incremental with the delete sweep due (`deleteSweepHours: 0`): the
//   trash search finds the first, the id listing plus one confirmation each the others.
// - Limits: BENCH_NOTION_RPS (default 3) and BENCH_NOTION_BURST (default 10) for the fake; the
//   connector runs with its defaults (3 requests/s, burst 3) unless BENCH_NOTION_CLIENT_RPS is set.
//
// A 1,000-page full sync makes ~1,100 requests: at 3 requests/s that is about 6 minutes.
//
// Run: pnpm --filter @tributary/bench notion   (after building the workspace packages)
import { randomUUID } from 'node:crypto';
import { createNotionConnector } from '@tributary/connector-notion';
import { createLexicalEmbedder, runSync, type SyncMode, type SyncSummary } from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';
import type {
  FakeNotion,
  INTERNAL_TOKEN as InternalToken,
  startFakeNotion as StartFakeNotion,
} from '../packages/connector-notion/test/support/fake-notion-server.ts';
import type { block as Block } from '../packages/connector-notion/test/support/notion-fixtures.ts';

const PAGES = Number(process.env.BENCH_NOTION_PAGES ?? 1000);
const RPS = Number(process.env.BENCH_NOTION_RPS ?? 3);
const BURST = Number(process.env.BENCH_NOTION_BURST ?? 10);
const CLIENT_RPS = process.env.BENCH_NOTION_CLIENT_RPS
  ? Number(process.env.BENCH_NOTION_CLIENT_RPS)
  : undefined;

// .ts modules loaded by URL: the bench runs with --experimental-strip-types, and the fake server
// lives with the connector's tests.
const support = (file: string) =>
  new URL(`../packages/connector-notion/test/support/${file}`, import.meta.url).href;
const { startFakeNotion, INTERNAL_TOKEN } = (await import(support('fake-notion-server.ts'))) as {
  startFakeNotion: typeof StartFakeNotion;
  INTERNAL_TOKEN: typeof InternalToken;
};
const { block } = (await import(support('notion-fixtures.ts'))) as { block: typeof Block };

function seed(fake: FakeNotion): string[] {
  const ids: string[] = [];
  const sections: string[] = [];
  for (let index = 0; index < Math.min(20, PAGES); index++) {
    const id = fake.store.addPage({
      title: `Section ${index}`,
      blocks: [block.heading(1, `Section ${index}`)],
    });
    sections.push(id);
    ids.push(id);
  }
  for (let index = 0; ids.length < PAGES; index++) {
    const nested =
      index % 10 === 0 ? [block.bullet('steps', [block.bullet('first'), block.bullet('second')])] : [];
    ids.push(
      fake.store.addPage({
        title: `Note ${index}`,
        parentPageId: sections[index % sections.length],
        blocks: [
          block.heading(2, `Note ${index}`),
          block.paragraph(`Tides, harbours and ledgers, note ${index}.`),
          block.code(`const note = ${index};`, 'javascript'),
          ...nested,
        ],
      }),
    );
  }
  return ids;
}

function routes(fake: FakeNotion): string {
  return [...fake.requests.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, count]) => `${route}=${count}`)
    .join(' ');
}

async function main() {
  const fake = await startFakeNotion({ requestsPerSecond: RPS, burst: BURST });
  const ids = seed(fake);
  const repository = createMemoryRepository();
  const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'notion' }).id;
  const embedder = createLexicalEmbedder({ dimensions: 64 });
  const connector = createNotionConnector({
    baseUrl: fake.url,
    ...(CLIENT_RPS ? { requestsPerSecond: CLIENT_RPS } : {}),
  });
  const credentials = { type: 'internal', token: INTERNAL_TOKEN };
  console.log(
    `notion-sync: ${PAGES} pages; fake enforces ${RPS} requests/s (burst ${BURST}); connector budget ${CLIENT_RPS ?? 3}/s (burst 3)`,
  );

  const phase = async (
    label: string,
    mode: SyncMode,
    config: Record<string, unknown> = {},
  ): Promise<SyncSummary> => {
    fake.resetCounts();
    const started = performance.now();
    const summary = await runSync({
      connector,
      config,
      credentials,
      connectorId,
      repository,
      embedder,
      mode,
    });
    const seconds = (performance.now() - started) / 1000;
    const rate = fake.total / seconds;
    console.log(
      `${label}: ${summary.status} in ${seconds.toFixed(1)} s; ${fake.total} requests (${rate.toFixed(2)}/s = ${(rate / RPS).toFixed(2)} of the limit), 429s ${fake.rateLimited}; ` +
        `inserted ${summary.counts.inserted}, updated ${summary.counts.updated}, unchanged ${summary.counts.unchanged}, skipped by version ${summary.counts.skippedByVersion}, deleted ${summary.counts.deleted}`,
    );
    console.log(`  requests by route: ${routes(fake)}`);
    if (summary.status !== 'success') console.log(`  error: ${summary.error}`);
    return summary;
  };

  await phase('1. full sync', 'full');
  await phase('2. incremental re-sync, nothing changed', 'incremental');
  await phase('3. full re-sync, nothing changed', 'full');
  const third = Math.floor(ids.length / 3);
  for (const id of ids.slice(third, third + 10)) fake.store.editPage(id, [block.paragraph(`Edited ${id}`)]);
  await phase('4. 10 pages edited, incremental', 'incremental');
  for (const id of ids.slice(2 * third, 2 * third + 10))
    fake.store.editPage(id, [block.paragraph(`Edited again ${id}`)]);
  await phase('5. 10 pages edited, incremental, detectDeletes: false', 'incremental', {
    detectDeletes: false,
  });
  for (const id of ids.slice(2 * third + 20, 2 * third + 25)) fake.store.trashPage(id);
  for (const id of ids.slice(2 * third + 30, 2 * third + 35)) fake.store.unsharePage(id);
  await phase('6. 5 pages trashed + 5 unshared, incremental with the sweep due', 'incremental', {
    deleteSweepHours: 0,
  });
  await fake.close();
}

await main();
