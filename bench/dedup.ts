// Cross-source and near-duplicate detection (dedup layer 5): how well does it find duplicates, and
// what does it cost at ingest?
//
// - The labelled set (dedup-corpus.ts): BENCH_DEDUP_PER_KIND (default 70) pairs of each of eight
//   kinds, 560 pairs by default. True near duplicates: an exact copy under another title, a Markdown
//   document and its PDF export read back (wrapped lines, hyphenated breaks, page headers and
//   numbers), a lightly edited copy (1-4% of words replaced, inserted or deleted), Markdown vs plain
//   text, and the same meeting as Zoom and Teams transcribe it (VTT: numbered "Name: text" cues vs
//   voice tags, other timings, long turns split in several cues, 2% of words heard differently).
//   Hard negatives: two meetings of one recurring series (same opening, agenda, closing and
//   attendees), two versions of a policy with half its sections rewritten, and two incident reports
//   of one template. Transcripts go through core's WebVTT extractor, as in the pipeline.
// - Quality, in process: core's minHashSignature (128 values, word 3-shingles) and the same LSH
//   banding as the database (4 values per band) over every document of the set, so a false
//   positive between any two documents counts, not only within a pair. Precision and recall of the
//   predicted pairs (exact content hash, or LSH candidate with estimated similarity >= threshold)
//   per threshold and shingle size; per kind at the default threshold.
// - End to end on a PostgreSQL server with pgvector: runSync of the whole set through two
//   connectors (each pair's first document in one, the second in the other) with an embedder stub
//   that sleeps 50 ms per request (OpenAI-like limits), once with detection and once without, each in
//   a fresh database. Precision and recall of the groups the database formed; the run's detection
//   busy time (signatures and link calls, `summary.dedup.duplicateDetectionMs`) as a share of the
//   run; wall time and embedding inputs with and without.
//
// Run: pnpm --filter @tributary/bench dedup   (after building the workspace packages; see README.md)
import { createHash } from 'node:crypto';
import {
  type ConnectorChange,
  contentHash,
  createExtractorRegistry,
  DEFAULT_NEAR_DUPLICATE_THRESHOLD,
  defineConnector,
  type Embedder,
  minHashSignature,
  runSync,
  type SyncSummary,
  signatureSimilarity,
} from '@tributary/core';
import { createNodePostgresRepository } from '@tributary/core/postgres';
import { fromPg, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import {
  type BenchDocument,
  buildLabelledSet,
  type LabelledPair,
  type PairKind,
  POSITIVE_KINDS,
} from './dedup-corpus.ts';

const perKind = Number(process.env.BENCH_DEDUP_PER_KIND ?? 70);
const pairs = buildLabelledSet(perKind);
const documents = pairs.flatMap((p) => [p.a, p.b]);
const key = (x: string, y: string) => (x < y ? `${x}|${y}` : `${y}|${x}`);
const positives = new Set(pairs.filter((p) => p.duplicate).map((p) => key(p.a.id, p.b.id)));
const kindOf = new Map(pairs.map((p) => [key(p.a.id, p.b.id), p.kind] as const));

const registry = createExtractorRegistry();
const texts = new Map<string, string>();
for (const d of documents) {
  const extracted = await registry.extract({ text: d.raw, claimedMimeType: d.mimeType, fileName: d.title });
  texts.set(d.id, extracted.text);
}
const hashes = new Map([...texts].map(([id, text]) => [id, contentHash(text)]));

console.log(
  `labelled set: ${pairs.length} pairs (${positives.size} true near duplicates, ${pairs.length - positives.size} hard negatives), ${documents.length} documents`,
);

interface Scores {
  precision: number;
  recall: number;
  predicted: Set<string>;
}

function score(predicted: Set<string>): Scores {
  let hits = 0;
  for (const pair of predicted) if (positives.has(pair)) hits += 1;
  return {
    precision: predicted.size === 0 ? 1 : hits / predicted.size,
    recall: hits / positives.size,
    predicted,
  };
}

/** The database's rule, in process: same content hash, or an LSH candidate over the threshold. */
function predict(signatures: Map<string, number[] | undefined>, threshold: number): Set<string> {
  const predicted = new Set<string>();
  const byHash = new Map<string, string[]>();
  for (const [id, hash] of hashes) byHash.set(hash, [...(byHash.get(hash) ?? []), id]);
  for (const ids of byHash.values())
    for (let i = 0; i < ids.length; i += 1)
      for (let j = i + 1; j < ids.length; j += 1) predicted.add(key(ids[i] as string, ids[j] as string));
  const buckets = new Map<string, string[]>();
  for (const [id, signature] of signatures) {
    if (!signature) continue;
    for (let band = 0; band < signature.length / 4; band += 1) {
      const bucket = `${band}:${signature.slice(band * 4, band * 4 + 4).join(',')}`;
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), id]);
    }
  }
  const compared = new Set<string>();
  for (const ids of buckets.values()) {
    for (let i = 0; i < ids.length; i += 1) {
      for (let j = i + 1; j < ids.length; j += 1) {
        const pair = key(ids[i] as string, ids[j] as string);
        if (compared.has(pair)) continue;
        compared.add(pair);
        const similarity = signatureSimilarity(
          signatures.get(ids[i] as string) ?? [],
          signatures.get(ids[j] as string) ?? [],
        );
        if (similarity >= threshold) predicted.add(pair);
      }
    }
  }
  return predicted;
}

const fmt = (n: number) => n.toFixed(3);
console.log('\n1. Quality in process (precision / recall of predicted pairs over all documents)');
const thresholds = [0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];
console.log(`   shingle  ${thresholds.map((t) => `t=${t}`.padEnd(12)).join('')}`);
for (const shingleSize of [2, 3, 4, 5]) {
  const signatures = new Map([...texts].map(([id, text]) => [id, minHashSignature(text, { shingleSize })]));
  const cells = thresholds.map((t) => {
    const s = score(predict(signatures, t));
    return `${fmt(s.precision)}/${fmt(s.recall)}`.padEnd(12);
  });
  console.log(`   ${String(shingleSize).padEnd(8)} ${cells.join('')}`);
}

const started = performance.now();
const signatures = new Map([...texts].map(([id, text]) => [id, minHashSignature(text)]));
const signMs = performance.now() - started;
const chars = [...texts.values()].reduce((sum, text) => sum + text.length, 0);
const defaults = score(predict(signatures, DEFAULT_NEAR_DUPLICATE_THRESHOLD));
console.log(
  `\n   default (3-shingles, 128 values, threshold ${DEFAULT_NEAR_DUPLICATE_THRESHOLD}): precision ${fmt(defaults.precision)}, recall ${fmt(defaults.recall)}`,
);
console.log(
  `   signatures: ${documents.length} documents (${(chars / documents.length / 1024).toFixed(1)} KB of text each) in ${signMs.toFixed(0)} ms (${(signMs / documents.length).toFixed(3)} ms per document)`,
);
printPerKind(defaults.predicted);

function printPerKind(predicted: Set<string>): void {
  const byKind = new Map<PairKind, { total: number; linked: number }>();
  for (const pair of pairs) {
    const entry = byKind.get(pair.kind) ?? { total: 0, linked: 0 };
    entry.total += 1;
    if (predicted.has(key(pair.a.id, pair.b.id))) entry.linked += 1;
    byKind.set(pair.kind, entry);
  }
  for (const [kind, { total, linked }] of byKind) {
    const label = POSITIVE_KINDS.includes(kind) ? 'found' : 'wrongly linked';
    console.log(`   ${kind.padEnd(24)} ${label.padEnd(15)} ${linked}/${total}`);
  }
  const stray = [...predicted].filter((pair) => !kindOf.has(pair)).length;
  console.log(`   pairs linked across unrelated documents: ${stray}`);
}

// ---------------------------------------------------------------------------------------------
// 2. End to end on a PostgreSQL server.
// ---------------------------------------------------------------------------------------------
function stubEmbedder(counts: { requests: number; inputs: number }): Embedder {
  return {
    id: 'bench:stub@1536',
    model: 'stub',
    kind: 'semantic',
    dimensions: 1536,
    maxInputsPerRequest: 2048,
    maxTokensPerRequest: 300_000,
    async embed(batch) {
      counts.requests += 1;
      counts.inputs += batch.length;
      await new Promise((resolve) => setTimeout(resolve, 50));
      const vectors = batch.map((text) => {
        const seed = createHash('sha256').update(text).digest();
        const vector = Array.from(
          { length: 1536 },
          (_, i) => ((seed[i % 32] as number) - 127.5) / 127.5 + 1e-3 * i,
        );
        const norm = Math.hypot(...vector);
        return vector.map((v) => v / norm);
      });
      const tokens = batch.reduce((sum, t) => sum + Math.ceil(t.length / 4), 0);
      return { vectors, usage: { requests: 1, inputs: batch.length, tokens, costUsd: 0 } };
    },
  };
}

function connectorFor(type: string, docs: readonly BenchDocument[]) {
  return defineConnector({
    type,
    async check() {},
    async *sync(): AsyncIterable<ConnectorChange> {
      for (const d of docs) {
        yield {
          kind: 'upsert',
          document: {
            externalId: d.id,
            title: d.title,
            version: '1',
            mimeType: d.mimeType,
            content: { kind: 'text', text: d.raw },
          },
        };
      }
      yield { kind: 'listing-complete', complete: true };
    },
  });
}

const server = await startPostgresServer();
try {
  const runs: Record<
    'on' | 'off',
    {
      summaries: SyncSummary[];
      counts: { requests: number; inputs: number };
      wallMs: number;
      predicted?: Set<string>;
    }
  > = {
    on: { summaries: [], counts: { requests: 0, inputs: 0 }, wallMs: 0 },
    off: { summaries: [], counts: { requests: 0, inputs: 0 }, wallMs: 0 },
  };
  for (const mode of ['off', 'on'] as const) {
    const pool = server.pool(await server.createDatabase(), { max: 4 });
    await migrate(fromPg(pool));
    const orgId = '00000000-0000-4000-8000-0000000000d5';
    const repository = createNodePostgresRepository(pool);
    const embedder = stubEmbedder(runs[mode].counts);
    const t0 = performance.now();
    for (const [type, side] of [
      ['drive', 'a'],
      ['zoom', 'b'],
    ] as const) {
      const { rows } = await pool.query<{ id: string }>(
        `insert into public.connector_configs (org_id, connector_type, name) values ($1, $2, $2) returning id`,
        [orgId, type],
      );
      const docs = pairs.map((p: LabelledPair) => p[side]);
      const summary = await runSync({
        connector: connectorFor(type, docs),
        connectorId: rows[0]?.id ?? '',
        repository,
        embedder,
        duplicates: { enabled: mode === 'on' },
      });
      if (summary.status !== 'success')
        throw new Error(`run ${mode} ${type} ended ${summary.status}: ${summary.error}`);
      runs[mode].summaries.push(summary);
    }
    runs[mode].wallMs = performance.now() - t0;
    if (mode === 'on') {
      const { rows } = await pool.query<{ a: string; b: string }>(
        `select x.external_id as a, y.external_id as b from public.imported_documents x
         join public.imported_documents y on y.org_id = x.org_id and y.id <> x.id
           and coalesce(y.duplicate_of, y.id) = coalesce(x.duplicate_of, x.id)
         where x.org_id = $1 and x.id < y.id and not x.is_deleted and not y.is_deleted`,
        [orgId],
      );
      runs.on.predicted = new Set(rows.map((r) => key(r.a, r.b)));
    }
    await pool.end();
  }
  const database = score(runs.on.predicted ?? new Set());
  console.log(
    '\n2. End to end on a PostgreSQL server (runSync, two connectors, embedder stub 50 ms/request)',
  );
  console.log(
    `   groups formed in the database: precision ${fmt(database.precision)}, recall ${fmt(database.recall)}`,
  );
  printPerKind(database.predicted);
  const sum = (mode: 'on' | 'off', pick: (s: SyncSummary) => number) =>
    runs[mode].summaries.reduce((total, s) => total + pick(s), 0);
  const runMs = sum('on', (s) => s.durationMs);
  const detectionMs = sum('on', (s) => s.dedup.duplicateDetectionMs);
  console.log(
    `   with detection:    ${(runs.on.wallMs / 1000).toFixed(1)} s, ${runs.on.counts.inputs} embedding inputs in ${runs.on.counts.requests} requests, ` +
      `${sum('on', (s) => s.dedup.exactCopies)} exact copies given stored chunks, ${sum('on', (s) => s.dedup.nearDuplicates)} near duplicates linked`,
  );
  console.log(
    `   without detection: ${(runs.off.wallMs / 1000).toFixed(1)} s, ${runs.off.counts.inputs} embedding inputs in ${runs.off.counts.requests} requests`,
  );
  console.log(
    `   detection busy time: ${detectionMs.toFixed(0)} ms of ${runMs} ms of runs = ${((100 * detectionMs) / runMs).toFixed(1)}% ` +
      `(signatures alone: ${((100 * signMs) / runMs).toFixed(1)}%; the link calls include copying exact copies' chunks, work the pipeline would otherwise do itself)`,
  );
} finally {
  await server.stop();
}
