import type { LimitFunction } from 'p-limit';
import { type Chunk, type Chunker, chunkEmbeddingText } from '../../chunking/chunker.js';
import type { Embedder } from '../../embedding/embedder.js';
import { isFatalError } from '../../errors/is-fatal-error.js';
import type {
  ChunkInput,
  KnowledgeRepository,
  ReplaceChunksEntry,
  ReplaceChunksResult,
} from '../../repository/knowledge-repository.js';
import type { Logger } from '../../spec/logger.js';
import type { RunControl } from '../run-control.js';
import type { StageClock } from '../stage-timings.js';
import type { SyncDedupCounts, SyncEmbeddingCounts } from '../types.js';
import type { VectorBudget } from '../vector-budget.js';
import type { EmbedBatcher } from './embed-batcher.js';
import type { Prepared } from './load-document.js';

/** A stored document whose chunks must be (re)written. */
export interface ToIndex {
  documentId: string;
  externalId: string;
  prepared: Prepared;
  action: 'inserted' | 'updated' | 'unchanged';
}

export interface IndexStage {
  repository: KnowledgeRepository;
  orgId: string;
  embedder: Embedder;
  chunker: Chunker;
  batcher: EmbedBatcher;
  /** Bounds concurrent write statements (one per writer connection). */
  writeLimit: LimitFunction;
  control: RunControl;
  clock: StageClock;
  embeddings: SyncEmbeddingCounts;
  dedup: SyncDedupCounts;
  logger: Logger;
  runId: string;
  finished(item: ToIndex): void;
  failed(item: ToIndex, error: unknown): Promise<void>;
  /** Called once this group has handed all its inputs to the batcher. */
  doneProducing(): void;
  /**
   * Lets another group run while this one waits on the batcher (weight: inputs sent); the release
   * is called once this group's chunks are written. Optional: without it the group keeps its slot.
   */
  park?: ((weight: number) => () => void) | undefined;
  /** Bounds the vectors held until written: the group waits for room before it embeds. */
  vectorBudget?: VectorBudget | undefined;
}

/** Documents per chunk-write statement; the slices of a group go to the writers in parallel. */
const WRITE_BATCH_DOCUMENTS = 50;

/**
 * Chunks the documents, reuses stored embeddings of identical chunks (dedup layer 4), embeds the
 * rest through the shared batcher (requests filled across groups), then writes every document's
 * chunks in one set-based statement and marks them completed. A document is written only once all
 * its vectors are in hand.
 */
export async function indexDocuments(items: readonly ToIndex[], stage: IndexStage): Promise<void> {
  const { control, embedder } = stage;
  const maxPerInput = embedder.maxTokensPerInput ?? embedder.maxTokensPerRequest;
  const chunksOf = new Map<ToIndex, Chunk[]>();
  const failures = new Map<ToIndex, unknown>();
  for (const item of items) {
    try {
      const chunks = await stage.chunker.chunk(item.prepared.text, {
        structure: item.prepared.structure,
        title: item.prepared.input.title ?? undefined,
      });
      const tooLong = chunks.find((chunk) => chunk.tokenCount > maxPerInput);
      if (tooLong) {
        throw new Error(
          `chunk ${tooLong.index} has ${tooLong.tokenCount} tokens, over the embedder's limit of ${maxPerInput}`,
        );
      }
      chunksOf.set(item, chunks);
    } catch (error) {
      if (isFatalError(error)) throw error;
      failures.set(item, error);
    }
  }
  control.check();

  const wanted = new Map<string, { text: string; tokens: number }>();
  for (const chunks of chunksOf.values()) {
    for (const chunk of chunks) {
      if (!wanted.has(chunk.hash))
        wanted.set(chunk.hash, { text: chunkEmbeddingText(chunk), tokens: chunk.tokenCount });
    }
  }

  const errorsByHash = new Map<string, Error>();
  let unpark = () => {};
  let releaseVectors = () => {};
  let stopWriting = () => {};
  try {
    // Layer 4: identical chunks reuse stored embeddings. Only the hashes come back: the write
    // copies the vectors inside the database, so reused vectors never travel or take memory here.
    // A broken lookup fails open: everything is embedded, and the run says so (log and summary
    // counter).
    let reusable = new Set<string>();
    if (wanted.size > 0) {
      try {
        reusable = await stage.repository.findReusableEmbeddingHashes(stage.orgId, embedder.id, [
          ...wanted.keys(),
        ]);
      } catch (error) {
        stage.dedup.reuseLookupFailures += 1;
        stage.logger.warn('embedding reuse lookup failed; embedding every chunk of the group (fail open)', {
          runId: stage.runId,
          chunks: wanted.size,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    control.check();
    for (const chunks of chunksOf.values()) {
      stage.embeddings.reused += chunks.filter((chunk) => reusable.has(chunk.hash)).length;
    }
    const missing = [...wanted].filter(([hash]) => !reusable.has(hash));

    // Every chunk embedded here holds one vector until it is written, so the group asks the budget
    // for room for all of them before it embeds any.
    if (missing.length > 0 && stage.vectorBudget) {
      const budget = stage.vectorBudget;
      if (budget.wouldWait(missing.length)) {
        // Writes are behind: wait for room without holding back the batch that others started
        // (while waiting this group adds nothing, so the batcher may send what it has).
        stage.batcher.leave();
        try {
          releaseVectors = await budget.acquire(missing.length, control.signal);
        } finally {
          stage.batcher.enter();
        }
        control.check();
      } else releaseVectors = await budget.acquire(missing.length);
    }

    // Held as float32 (what pgvector stores) until written: half the bytes of a number[] of doubles.
    const vectors = new Map<string, Float32Array>();
    if (missing.length > 0) {
      const embedding = stage.batcher.embed(
        missing.map(([hash, { text, tokens }]) => ({ hash, text, tokens })),
      );
      stage.doneProducing();
      // Held until the chunks are written: the bound covers these inputs' vectors too.
      unpark = stage.park?.(missing.length) ?? unpark;
      const outcomes = await embedding;
      control.check();
      for (const [hash, outcome] of outcomes) {
        if (outcome instanceof Error) errorsByHash.set(hash, outcome);
        else vectors.set(hash, outcome);
      }
    }
    stage.doneProducing();
    // Every vector is in hand: the room this group holds comes back once it has written.
    stopWriting = stage.vectorBudget?.startWriting() ?? stopWriting;
    const written = { chunksOf, vectors, reusable, errorsByHash, failures };
    const vanished = await writeReady(written, stage);
    if (vanished.size > 0) await rewriteVanished(vanished, written, wanted, stage);
  } finally {
    stopWriting();
    releaseVectors();
    unpark();
  }
  for (const [item, error] of failures) await stage.failed(item, error);
}

/** A document ready to write; its entry (with the vectors as plain arrays) is built only while it is written. */
interface ReadyDocument {
  item: ToIndex;
  entry: () => ReplaceChunksEntry;
}

/** What a group writes: its documents' chunks, the vectors in hand and the hashes the database holds. */
interface GroupWrite {
  chunksOf: Map<ToIndex, Chunk[]>;
  vectors: Map<string, Float32Array>;
  reusable: Set<string>;
  errorsByHash: Map<string, Error>;
  failures: Map<ToIndex, unknown>;
}

/**
 * Writes every document whose vectors are all in hand or stored, 50 documents per statement.
 * Returns the documents the database left unwritten because a reused vector was no longer stored,
 * with those hashes.
 */
async function writeReady(group: GroupWrite, stage: IndexStage): Promise<Map<ToIndex, readonly string[]>> {
  const { control, embedder } = stage;
  const { chunksOf, vectors, reusable, errorsByHash, failures } = group;
  const ready: ReadyDocument[] = [];
  for (const [item, chunks] of chunksOf) {
    const broken = chunks.find((chunk) => !vectors.has(chunk.hash) && !reusable.has(chunk.hash));
    if (broken) {
      failures.set(item, errorsByHash.get(broken.hash) ?? new Error('chunk embedding missing'));
      continue;
    }
    const entry = (): ReplaceChunksEntry => ({
      documentId: item.documentId,
      chunks: chunks.map((chunk): ChunkInput => {
        const vector = vectors.get(chunk.hash);
        return {
          index: chunk.index,
          context: chunk.context,
          content: chunk.content,
          contentHash: chunk.hash,
          tokenCount: chunk.tokenCount,
          ...(vector ? { embedding: Array.from(vector) } : { reuseEmbedding: true }),
          embeddingModel: embedder.id,
        };
      }),
    });
    ready.push({ item, entry });
  }

  const slices: ReadyDocument[][] = [];
  for (let start = 0; start < ready.length; start += WRITE_BATCH_DOCUMENTS) {
    slices.push(ready.slice(start, start + WRITE_BATCH_DOCUMENTS));
  }
  const vanished = new Map<ToIndex, readonly string[]>();
  await Promise.all(
    slices.map(async (slice) => {
      control.check();
      const written = await writeChunks(slice, stage, failures, vanished);
      if (written.length === 0) return;
      await stage.writeLimit(() =>
        stage.clock.time('write', () =>
          stage.repository.setProcessingStatus(
            written.map(({ item }) => item.documentId),
            'completed',
          ),
        ),
      );
      for (const { item } of written) stage.finished(item);
    }),
  );
  return vanished;
}

/**
 * Documents whose reused vectors vanished between the lookup and the write (another group rewrote
 * or deleted the last chunks holding them): those hashes are embedded after all and the documents
 * written again, now carrying those vectors. Rare, and bounded by the vanished hashes.
 */
async function rewriteVanished(
  vanished: Map<ToIndex, readonly string[]>,
  group: GroupWrite,
  wanted: Map<string, { text: string; tokens: number }>,
  stage: IndexStage,
): Promise<void> {
  const hashes = new Set([...vanished.values()].flat());
  stage.logger.info('reused embeddings vanished before the write; embedding them', {
    runId: stage.runId,
    documents: vanished.size,
    chunks: hashes.size,
  });
  const items = [...hashes].flatMap((hash) => {
    const input = wanted.get(hash);
    return input ? [{ hash, ...input }] : [];
  });
  const outcomes = await stage.batcher.embed(items);
  stage.control.check();
  const vectors = new Map<string, Float32Array>();
  for (const [hash, outcome] of outcomes) {
    if (outcome instanceof Error) group.errorsByHash.set(hash, outcome);
    else vectors.set(hash, outcome);
  }
  const chunksOf = new Map<ToIndex, Chunk[]>();
  for (const item of vanished.keys()) {
    const chunks = group.chunksOf.get(item) ?? [];
    stage.embeddings.reused -= chunks.filter((chunk) => hashes.has(chunk.hash)).length;
    chunksOf.set(item, chunks);
  }
  for (const [hash, vector] of group.vectors) if (!vectors.has(hash)) vectors.set(hash, vector);
  const reusable = new Set([...group.reusable].filter((hash) => !hashes.has(hash)));
  const again = await writeReady({ ...group, chunksOf, vectors, reusable }, stage);
  // Vanished twice (the same races again): the document fails this run and is retried by the next.
  for (const [item, missing] of again) {
    group.failures.set(
      item,
      new Error(
        `stored embeddings vanished twice while writing (${missing.length} chunks); retried by the next sync`,
      ),
    );
  }
}

/** One statement for the whole slice; when it fails, each document alone, so one bad document fails only itself. */
async function writeChunks(
  slice: ReadyDocument[],
  stage: IndexStage,
  failures: Map<ToIndex, unknown>,
  vanished: Map<ToIndex, readonly string[]>,
): Promise<ReadyDocument[]> {
  const { repository, writeLimit, clock, control } = stage;
  /** The documents the database wrote (not those whose reused vectors vanished). */
  const stored = (written: ReadyDocument[], results: readonly ReplaceChunksResult[]) =>
    written.filter((one, index) => {
      const missing = results[index]?.missingEmbeddings;
      if (!missing?.length) return true;
      vanished.set(one.item, missing);
      return false;
    });
  try {
    const results = await writeLimit(() =>
      clock.time('write', () => repository.replaceChunksBatch(slice.map((s) => s.entry()))),
    );
    return stored(slice, results);
  } catch (error) {
    if (control.stopped || isFatalError(error)) throw control.stopped ?? error;
    if (slice.length === 1) {
      failures.set(slice[0]?.item as ToIndex, error);
      return [];
    }
  }
  const written: ReadyDocument[] = [];
  for (const one of slice) {
    try {
      control.check();
      const results = await writeLimit(() =>
        clock.time('write', () => repository.replaceChunksBatch([one.entry()])),
      );
      written.push(...stored([one], results));
    } catch (error) {
      if (control.stopped || isFatalError(error)) throw control.stopped ?? error;
      failures.set(one.item, error);
    }
  }
  return written;
}
