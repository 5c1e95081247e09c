import { InvalidConfigError } from '../errors/index.js';
import { isFatalError } from '../errors/is-fatal-error.js';
import type { ToIndex } from '../pipeline/stages/index-documents.js';
import type { SyncDedupCounts } from '../pipeline/types.js';
import type { KnowledgeRepository } from '../repository/knowledge-repository.js';
import type { Logger } from '../spec/logger.js';
import type { DuplicateLink } from './duplicate-types.js';
import { checkMinHashOptions, type MinHashOptions, minHashSignature } from './minhash.js';

/** `runSync({ duplicates })`: cross-source and near-duplicate detection (dedup layer 5). */
export interface DuplicateDetectionOptions {
  /** Default true. False: no signatures, no links; every document is indexed itself. */
  enabled?: boolean | undefined;
  /**
   * Estimated Jaccard similarity of word shingles (0 < t <= 1) from which two documents are near
   * duplicates. Default 0.6 (bench/dedup.ts: precision and recall 1.0 on its labelled set of 560 pairs).
   */
  threshold?: number | undefined;
  /** Signature settings; keep them the same for every connector of an organisation. */
  minhash?: MinHashOptions | undefined;
}

export const DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.6;

/** Checks `runSync`'s `duplicates` option before a run starts (InvalidConfigError naming the field). */
export function checkDuplicateOptions(
  options: DuplicateDetectionOptions | undefined,
): DuplicateDetectionOptions {
  const threshold = options?.threshold;
  if (threshold !== undefined && !(Number.isFinite(threshold) && threshold > 0 && threshold <= 1)) {
    throw new InvalidConfigError({
      subject: 'duplicates option',
      issues: [
        { fieldPath: 'threshold', message: `must be a number above 0 and at most 1, got ${threshold}` },
      ],
      hint: 'Pass an estimated Jaccard similarity such as 0.6 (the default), or leave it out',
    });
  }
  if (options?.minhash) checkMinHashOptions(options.minhash);
  return options ?? {};
}

export interface LinkStage {
  repository: KnowledgeRepository;
  embedderId: string;
  options: DuplicateDetectionOptions;
  dedup: SyncDedupCounts;
  logger: Logger;
  runId: string;
}

export interface LinkOutcome {
  /** Exact copies that took a stored copy's chunks: completed, nothing to index. */
  done: ToIndex[];
  /** To index as usual. */
  index: ToIndex[];
  /** Exact copies of content this group is indexing now: linked again once it is written. */
  waiting: ToIndex[];
  /** The signatures sent, by document id (sent again with the waiting ones). */
  signatures: Map<string, number[] | null>;
}

/** At most this many documents per `linkDuplicates` call (the RPC's limit). */
const LINK_BATCH = 1000;

/**
 * Signs the documents about to be indexed and links them to their duplicate group in one call.
 * Fails open: when the call fails, everything is indexed as if unique, and the run says so.
 */
export async function linkDuplicates(items: readonly ToIndex[], stage: LinkStage): Promise<LinkOutcome> {
  const signatures = new Map<string, number[] | null>();
  if (stage.options.enabled === false || items.length === 0) {
    return { done: [], index: [...items], waiting: [], signatures };
  }
  const started = performance.now();
  try {
    for (const item of items) {
      signatures.set(item.documentId, minHashSignature(item.prepared.text, stage.options.minhash) ?? null);
    }
    const links = await callLink(items, signatures, stage);
    const outcome: LinkOutcome = { done: [], index: [], waiting: [], signatures };
    // Content this group indexes itself; an exact copy of it waits instead of being embedded twice.
    const indexedHere = new Set<string>();
    const copies: ToIndex[] = [];
    for (const item of items) {
      const link = links.get(item.documentId);
      if (link?.kind === 'near') stage.dedup.nearDuplicates += 1;
      if (link?.chunksReused) {
        stage.dedup.exactCopies += 1;
        outcome.done.push(item);
      } else if (link?.kind === 'exact') copies.push(item);
      else {
        outcome.index.push(item);
        indexedHere.add(hashOf(item));
      }
    }
    for (const item of copies) {
      if (indexedHere.has(hashOf(item))) outcome.waiting.push(item);
      else {
        outcome.index.push(item);
        indexedHere.add(hashOf(item));
      }
    }
    return outcome;
  } catch (error) {
    failOpen(error, items.length, stage);
    return { done: [], index: [...items], waiting: [], signatures };
  } finally {
    stage.dedup.duplicateDetectionMs += performance.now() - started;
  }
}

/**
 * Exact copies that waited for their content to be written by this group: linked again, they take
 * its chunks now; those it could not serve (its indexing failed) are returned to be indexed.
 */
export async function adoptWaiting(
  waiting: readonly ToIndex[],
  signatures: Map<string, number[] | null>,
  stage: LinkStage,
): Promise<{ done: ToIndex[]; index: ToIndex[] }> {
  if (waiting.length === 0) return { done: [], index: [] };
  const started = performance.now();
  try {
    const links = await callLink(waiting, signatures, stage);
    const done: ToIndex[] = [];
    const index: ToIndex[] = [];
    for (const item of waiting) {
      if (links.get(item.documentId)?.chunksReused) {
        stage.dedup.exactCopies += 1;
        done.push(item);
      } else index.push(item);
    }
    return { done, index };
  } catch (error) {
    failOpen(error, waiting.length, stage);
    return { done: [], index: [...waiting] };
  } finally {
    stage.dedup.duplicateDetectionMs += performance.now() - started;
  }
}

function hashOf(item: ToIndex): string {
  return item.prepared.input.contentHash ?? item.documentId;
}

async function callLink(
  items: readonly ToIndex[],
  signatures: Map<string, number[] | null>,
  stage: LinkStage,
): Promise<Map<string, DuplicateLink>> {
  const links = new Map<string, DuplicateLink>();
  for (let start = 0; start < items.length; start += LINK_BATCH) {
    const slice = items.slice(start, start + LINK_BATCH);
    const results = await stage.repository.linkDuplicates({
      documents: slice.map((item) => ({
        documentId: item.documentId,
        minhash: signatures.get(item.documentId) ?? null,
      })),
      embeddingModel: stage.embedderId,
      threshold: stage.options.threshold ?? DEFAULT_NEAR_DUPLICATE_THRESHOLD,
    });
    for (const link of results) links.set(link.documentId, link);
  }
  return links;
}

function failOpen(error: unknown, documents: number, stage: LinkStage): void {
  if (isFatalError(error)) throw error;
  stage.dedup.duplicateLinkFailures += 1;
  stage.logger.warn('duplicate detection failed; indexing the documents as unique (fail open)', {
    runId: stage.runId,
    documents,
    error: error instanceof Error ? error.message : String(error),
  });
}
