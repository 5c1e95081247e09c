// The time-based group cut (`runSync` option `groupMaxWaitMs`): how soon a slow source's documents
// are stored, and what the cut costs a fast source. `runSync` into the in-memory repository (the cut
// is pipeline-level: no database figure changes it) with the offline lexical embedder behind a
// fixed 50 ms per request, as the pipeline bench's stub.
//
// - slow: BENCH_SLOW_DOCUMENTS (default 20) documents, one every BENCH_SLOW_INTERVAL_MS (250 ms), no
//   checkpoint until the listing ends (a rate-limited API that lists page by page without cursors).
//   Per variant: time from the run's start to the first document stored, documents stored when the
//   listing ended, embedding requests, run duration.
// - fast: BENCH_FAST_DOCUMENTS (default 2,000) documents listed from memory, groupSize 200:
//   embedding requests, groups handed out, duration, with the default cut and with it off.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ConnectorChange,
  createLexicalEmbedder,
  defineConnector,
  type Embedder,
  runSync,
  type SyncProgressEvent,
} from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';

const SLOW_DOCUMENTS = Number(process.env.BENCH_SLOW_DOCUMENTS ?? 20);
const SLOW_INTERVAL_MS = Number(process.env.BENCH_SLOW_INTERVAL_MS ?? 250);
const FAST_DOCUMENTS = Number(process.env.BENCH_FAST_DOCUMENTS ?? 2000);
const FAST_ROUNDS = Number(process.env.BENCH_FAST_ROUNDS ?? 5);
const REQUEST_MS = 50;

function stubEmbedder() {
  const inner = createLexicalEmbedder();
  const stats = { requests: 0, inputs: 0 };
  const embedder: Embedder = {
    ...inner,
    async embed(texts, options) {
      stats.requests += 1;
      stats.inputs += texts.length;
      await sleep(REQUEST_MS);
      return inner.embed(texts, options);
    },
  };
  return { embedder, stats };
}

function note(index: number): ConnectorChange {
  const id = `note-${index}`;
  return {
    kind: 'upsert',
    document: {
      externalId: id,
      title: `Note ${index}`,
      version: '1',
      mimeType: 'text/markdown',
      content: {
        kind: 'text',
        text: `# Note ${index}\n\n${`The river ${index} carries word${index} to the sea. `.repeat(20)}`,
      },
    },
  };
}

async function run(variant: { count: number; intervalMs: number; groupMaxWaitMs: number | undefined }) {
  const repository = createMemoryRepository();
  const record = repository.addConnector({
    orgId: crypto.randomUUID(),
    connectorType: 'bench',
    name: 'Bench',
  });
  const connector = defineConnector({
    type: 'bench',
    async check() {},
    async *sync(): AsyncIterable<ConnectorChange> {
      for (let index = 0; index < variant.count; index += 1) {
        if (variant.intervalMs > 0 && index > 0) await sleep(variant.intervalMs);
        yield note(index);
      }
      yield { kind: 'checkpoint', cursor: variant.count };
      yield { kind: 'listing-complete', complete: true };
    },
  });
  const { embedder, stats } = stubEmbedder();
  const started = performance.now();
  let firstStoredMs: number | undefined;
  let stored = 0;
  let storedAtListingEnd: number | undefined;
  let groups = 0;
  const summary = await runSync({
    connector,
    connectorId: record.id,
    repository,
    embedder,
    groupMaxWaitMs: variant.groupMaxWaitMs,
    onProgress: (event: SyncProgressEvent) => {
      if (event.type === 'document-finished') {
        stored += 1;
        firstStoredMs ??= performance.now() - started;
      } else if (event.type === 'listing-progress' && !event.listing) storedAtListingEnd ??= stored;
      else if (event.type === 'group-committed' && event.documents > 0) groups += 1;
    },
  });
  if (summary.status !== 'success') throw new Error(`run ended ${summary.status}: ${summary.error}`);
  return {
    firstStoredMs: Math.round(firstStoredMs ?? Number.NaN),
    storedAtListingEnd: storedAtListingEnd ?? 0,
    requests: stats.requests,
    inputs: stats.inputs,
    groups,
    durationMs: Math.round(performance.now() - started),
  };
}

const label = (wait: number | undefined) => (wait === undefined ? 'default (2000)' : String(wait));

console.log(
  `slow source: ${SLOW_DOCUMENTS} documents, one every ${SLOW_INTERVAL_MS} ms, checkpoint at the end`,
);
console.log(
  'groupMaxWaitMs | first stored (ms) | stored when listing ended | requests | inputs | duration (ms)',
);
for (const groupMaxWaitMs of [undefined, 500, Number.POSITIVE_INFINITY]) {
  const figures = await run({ count: SLOW_DOCUMENTS, intervalMs: SLOW_INTERVAL_MS, groupMaxWaitMs });
  console.log(
    `${label(groupMaxWaitMs)} | ${figures.firstStoredMs} | ${figures.storedAtListingEnd}/${SLOW_DOCUMENTS} | ${figures.requests} | ${figures.inputs} | ${figures.durationMs}`,
  );
}

console.log(
  `\nfast source: ${FAST_DOCUMENTS} documents from memory, groupSize 200 (${FAST_ROUNDS} interleaved rounds, median duration)`,
);
console.log('groupMaxWaitMs | groups | requests | inputs | duration (ms)');
const fast = new Map<number | undefined, Awaited<ReturnType<typeof run>>[]>();
for (let round = 0; round < FAST_ROUNDS; round += 1) {
  // Alternate which goes first, so warm-up and drift hit both alike.
  const order =
    round % 2 === 0 ? [undefined, Number.POSITIVE_INFINITY] : [Number.POSITIVE_INFINITY, undefined];
  for (const groupMaxWaitMs of order) {
    const figures = await run({ count: FAST_DOCUMENTS, intervalMs: 0, groupMaxWaitMs });
    fast.set(groupMaxWaitMs, [...(fast.get(groupMaxWaitMs) ?? []), figures]);
  }
}
for (const [groupMaxWaitMs, rounds] of fast) {
  const durations = rounds.map((figures) => figures.durationMs).sort((a, b) => a - b);
  const first = rounds[0];
  const same = rounds.every((f) => f.groups === first?.groups && f.requests === first?.requests);
  console.log(
    `${label(groupMaxWaitMs)} | ${first?.groups}${same ? '' : ' (varied)'} | ${first?.requests} | ${first?.inputs} | ${durations[Math.floor(durations.length / 2)]}`,
  );
}
