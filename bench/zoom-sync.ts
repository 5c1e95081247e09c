// What does a Zoom sync cost in API calls and time? The real connector against the fake Zoom
// server of the connector's tests (a local node:http server with a fixed latency per request),
// through `runSync` into the in-memory repository with the offline lexical embedder.
//
// - Source: BENCH_ZOOM_RECORDINGS (default 2,000) recordings over the last 12 months, spread over
//   BENCH_ZOOM_USERS (default 20) users of one account: 90% with Zoom's transcript, 30% with a
//   chat file, 3 participants each; 10% without a transcript (stored awaiting transcription).
// - Phases: (1) initial full sync (users: 'all', startDate 12 months back); (2) incremental re-sync
//   with nothing new (target: no downloads); (3) full re-sync with nothing new (lists everything,
//   downloads nothing); (4) incremental sync after 20 new recordings (target: proportional).
// - BENCH_ZOOM_LATENCY_MS (default 5) is added by the fake to every request.
// - BENCH_ZOOM_LIMITS: `lifted` (default: the limiter out of the way, to measure the connector),
//   `pro` or `business` (the connector's defaults: that plan's per-category limits times 0.5).
//   For `lifted`, the floor the default limits would impose is printed from the call counts.
//
// Run: pnpm --filter @tributary/bench zoom   (after building the workspace packages)
import { randomUUID } from 'node:crypto';
import { createZoomConnector, effectiveLimits, type ZoomConnectorSettings } from '@tributary/connector-zoom';
import {
  createConnectorInstance,
  createLexicalEmbedder,
  runSync,
  type SourceDocument,
} from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';
import type {
  FakeZoom,
  startFakeZoom as StartFakeZoom,
  zoomVtt as ZoomVtt,
} from '../packages/connector-zoom/test/support/fake-zoom-server.ts';

const RECORDINGS = Number(process.env.BENCH_ZOOM_RECORDINGS ?? 2000);
const USERS = Number(process.env.BENCH_ZOOM_USERS ?? 20);
const LATENCY_MS = Number(process.env.BENCH_ZOOM_LATENCY_MS ?? 5);
const LIMITS = (process.env.BENCH_ZOOM_LIMITS ?? 'lifted') as 'lifted' | 'pro' | 'business';
const DAY_MS = 86_400_000;

// A .ts module loaded by URL: the bench runs with --experimental-strip-types, and the fake server
// lives with the connector's tests.
const fakeModule = new URL('../packages/connector-zoom/test/support/fake-zoom-server.ts', import.meta.url);
const { startFakeZoom, zoomVtt, S2S_APP } = (await import(fakeModule.href)) as {
  startFakeZoom: typeof StartFakeZoom;
  zoomVtt: typeof ZoomVtt;
  S2S_APP: { accountId: string; clientId: string; clientSecret: string };
};

const vocabulary = [
  'tide',
  'harbour',
  'ledger',
  'sprint',
  'rocket',
  'invoice',
  'budget',
  'design',
  'query',
  'river',
];
function sentence(seed: number, count: number): string {
  const out: string[] = [];
  for (let index = 0; index < count; index++)
    out.push(vocabulary[(seed * 7 + index * 13) % vocabulary.length] as string);
  return out.join(' ');
}

const fake: FakeZoom = await startFakeZoom({ latencyMs: LATENCY_MS });
const users: string[] = [];
for (let index = 0; index < USERS; index++)
  users.push(fake.addUser(`user${index}@example.com`, `User ${index}`));

const now = Date.now();
let added = 0;
function addRecording(index: number, startMs: number) {
  const host = users[index % USERS] as string;
  const lines: [string, string][] = [];
  for (let line = 0; line < 40; line++) lines.push([line % 2 ? 'Ada' : 'Grace', sentence(index + line, 12)]);
  fake.addRecording({
    hostId: host,
    topic: `Meeting ${index}: ${sentence(index, 3)}`,
    startTime: new Date(startMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    durationMinutes: 30 + (index % 60),
    ...(index % 10 === 9 ? {} : { transcript: zoomVtt(lines) }),
    ...(index % 10 < 3
      ? { chat: `00:01:00\t From  Ada : ${sentence(index, 8)}\n00:02:00\t From  Grace : ok\n` }
      : {}),
    participants: [
      { name: 'Ada', email: 'ada@example.com', userId: 'uada' },
      { name: 'Grace', email: 'grace@example.com', userId: 'ugrace' },
      { name: 'Guest' },
    ],
  });
  added += 1;
}
// Spread over 365 days, starting 12 hours ago (all inside the listing's window).
for (let index = 0; index < RECORDINGS; index++) {
  addRecording(index, now - 12 * 3_600_000 - Math.floor((index / RECORDINGS) * 364 * DAY_MS));
}

const settings: ZoomConnectorSettings = {
  apiUrl: fake.apiUrl,
  oauthUrl: fake.oauthUrl,
  ...(LIMITS === 'lifted'
    ? { limits: { light: 100_000, medium: 100_000, heavy: 100_000, download: 100_000 }, rateLimitFraction: 1 }
    : { plan: LIMITS }),
};
const connector = createZoomConnector(settings);
const credentials = { type: 'server_to_server', ...S2S_APP };
const startDate = new Date(now - 365 * DAY_MS).toISOString().slice(0, 10);
const config = { users: 'all', startDate };
const repository = createMemoryRepository();
const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'zoom' }).id;
const embedder = createLexicalEmbedder({ dimensions: 256 });

function callsTable(): { total: number; table: string; byRoute: Record<string, number> } {
  const byRoute = Object.fromEntries(
    Object.entries(fake.calls()).filter(([route]) => !route.startsWith('download-auth:')),
  );
  const api = Object.entries(byRoute).filter(([route]) => !route.startsWith('token:'));
  return {
    total: api.reduce((sum, [, value]) => sum + value, 0),
    table: Object.entries(byRoute)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([route, value]) => `${route}=${value}`)
      .join(' '),
    byRoute,
  };
}

/** The least time the default limiter (Pro, half the account) would need for these calls. */
function limiterFloorSeconds(byRoute: Record<string, number>, plan: 'pro' | 'business'): number {
  const limits = effectiveLimits({ plan });
  const perCategory = { light: 0, medium: 0, heavy: 0, download: 0 };
  for (const [route, value] of Object.entries(byRoute)) {
    if (route.startsWith('token:')) continue;
    if (route.startsWith('download:')) perCategory.download += value;
    else if (route === 'users.me' || route === 'meeting.recordings') perCategory.light += value;
    else perCategory.medium += value;
  }
  // Categories have separate buckets and run side by side: the slowest one sets the floor.
  return Math.max(
    ...Object.entries(perCategory).map(
      ([category, calls]) =>
        Math.max(0, calls - limits[category as keyof typeof limits]) /
        limits[category as keyof typeof limits],
    ),
  );
}

async function phase(name: string, mode: 'full' | 'incremental' | undefined) {
  fake.resetCalls();
  const started = performance.now();
  const summary = await runSync({ connector, config, credentials, connectorId, repository, embedder, mode });
  const wallMs = performance.now() - started;
  const calls = callsTable();
  const c = summary.counts;
  console.log(
    `${name.padEnd(38)} ${summary.mode.padEnd(11)} ${summary.status.padEnd(8)} ` +
      `${(wallMs / 1000).toFixed(2).padStart(7)} s  api calls ${String(calls.total).padStart(5)} ` +
      `(connector counted ${summary.apiCalls})  seen ${c.seen} inserted ${c.inserted} updated ${c.updated} ` +
      `unchanged ${c.unchanged} skipped ${c.skippedByVersion} deleted ${c.deleted} failed ${c.failed}`,
  );
  console.log(`${''.padEnd(38)} ${calls.table}`);
  if (LIMITS === 'lifted') {
    console.log(
      `${''.padEnd(38)} floor under the default limiter: Pro ${limiterFloorSeconds(calls.byRoute, 'pro').toFixed(1)} s, ` +
        `Business ${limiterFloorSeconds(calls.byRoute, 'business').toFixed(1)} s`,
    );
  }
  return summary;
}

console.log(
  `Zoom connector bench: ${RECORDINGS} recordings over 12 months, ${USERS} users, ` +
    `${LATENCY_MS} ms per request, limits ${LIMITS}\n`,
);
// 0. The connector alone: list everything and load every document (4 at a time, as the pipeline
// does), no chunking, embedding or storing: what the connector itself costs.
{
  fake.resetCalls();
  const started = performance.now();
  const instance = createConnectorInstance(createZoomConnector(settings), { config, credentials });
  const pending: SourceDocument[] = [];
  let loaded = 0;
  let characters = 0;
  const drain = async () => {
    const batch = pending.splice(0);
    for (let offset = 0; offset < batch.length; offset += 4) {
      await Promise.all(
        batch.slice(offset, offset + 4).map(async (document) => {
          if (document.content.kind !== 'lazy') return;
          const content = await document.content.load({ signal: new AbortController().signal });
          if (content.kind === 'text') characters += content.text.length;
          loaded += 1;
        }),
      );
    }
  };
  for await (const change of instance.sync({ mode: 'full' })) {
    if (change.kind === 'upsert') pending.push(change.document);
    if (pending.length >= 50) await drain();
  }
  await drain();
  const calls = callsTable();
  console.log(
    `${'0. connector alone: list + load all'.padEnd(38)} ${'full'.padEnd(11)} ${'-'.padEnd(8)} ` +
      `${((performance.now() - started) / 1000).toFixed(2).padStart(7)} s  api calls ${String(calls.total).padStart(5)}  ` +
      `loaded ${loaded} documents, ${(characters / 1e6).toFixed(1)} M characters`,
  );
  console.log(`${''.padEnd(38)} ${calls.table}`);
}
await phase('1. initial full sync', 'full');
await phase('2. incremental re-sync, nothing new', undefined);
await phase('3. full re-sync, nothing new', 'full');
for (let index = 0; index < 20; index++)
  addRecording(RECORDINGS + index, now - 2 * 3_600_000 - index * 60_000);
await phase('4. incremental after 20 new recordings', undefined);
console.log(`\n${added} recordings in the source; rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
await fake.close();
