import type { LimitFunction } from 'p-limit';
import { adoptWaiting, type LinkStage, linkDuplicates } from '../dedup/link-duplicates-stage.js';
import { isAbortError } from '../errors/abort-error.js';
import { isFatalError } from '../errors/is-fatal-error.js';
import type { DocumentVersion, KnowledgeRepository } from '../repository/knowledge-repository.js';
import type { Logger } from '../spec/logger.js';
import type { SourceDocument } from '../spec/v1/source-document.js';
import type { SeenMarker } from './seen-marker.js';
import { type IndexStage, indexDocuments, type ToIndex } from './stages/index-documents.js';
import { documentMetadata, type LoadStage, loadDocument, type Prepared } from './stages/load-document.js';
import type { SyncDedupCounts, SyncProgressEvent, SyncRunCounts } from './types.js';

type ProgressInput = Record<string, unknown> & { type: SyncProgressEvent['type'] };

export interface GroupStage extends LoadStage {
  repository: KnowledgeRepository;
  connectorId: string;
  runId: string;
  logger: Logger;
  /** Bounds concurrent loads across all groups. */
  loadLimit: LimitFunction;
  counts: SyncRunCounts;
  dedup: SyncDedupCounts;
  index: Omit<IndexStage, 'finished' | 'failed' | 'doneProducing'>;
  progress(event: ProgressInput): void;
  recordFailure(externalId: string, error: unknown, bytes: number, keptPrevious: boolean): void;
  addContentBytes(bytes: number): void;
  /** Batches the marks of documents skipped by version (flushed before checkpoints and the sweep). */
  seen: SeenMarker;
  /** Dedup layer 5 (cross-source and near duplicates). */
  duplicates: LinkStage;
}

interface LoadFailure {
  source: SourceDocument;
  error: unknown;
}

/**
 * One group of upserts, top to bottom: version lookup (skip what is unchanged without loading it),
 * load and extract (shared load limit), record failures without losing a good earlier version,
 * store the documents, index what changed. Groups run concurrently; the caller orders checkpoints.
 */
export async function processGroup(group: readonly SourceDocument[], stage: GroupStage): Promise<void> {
  const batcher = stage.index.batcher;
  batcher.enter();
  let producing = true;
  const doneProducing = () => {
    if (!producing) return;
    producing = false;
    batcher.leave();
  };
  try {
    await walkGroup(group, stage, doneProducing);
  } finally {
    doneProducing();
  }
}

async function walkGroup(
  group: readonly SourceDocument[],
  stage: GroupStage,
  doneProducing: () => void,
): Promise<void> {
  const { repository, connectorId, control, counts } = stage;
  control.check();
  let versions: Map<string, DocumentVersion> | undefined;
  try {
    versions = await repository.getDocumentVersions(
      connectorId,
      group.map((d) => d.externalId),
    );
  } catch (error) {
    // Fail open, and say so: every document of the group is loaded as if new.
    stage.dedup.versionLookupFailures += 1;
    stage.logger.warn('version lookup failed; loading the whole group (fail open)', {
      runId: stage.runId,
      documents: group.length,
      error: messageOf(error),
    });
  }
  control.check();

  // Layer 2: same source version, fully processed, not deleted: not loaded.
  const skipped: string[] = [];
  const skippedIds: string[] = [];
  const toLoad: SourceDocument[] = [];
  for (const document of group) {
    const stored = versions?.get(document.externalId);
    if (
      stored &&
      document.version !== undefined &&
      stored.sourceVersion === document.version &&
      !stored.isDeleted &&
      stored.processingStatus === 'completed'
    ) {
      skipped.push(document.externalId);
      skippedIds.push(stored.id);
    } else toLoad.push(document);
  }
  if (skipped.length > 0) {
    stage.seen.add(skippedIds);
    for (const externalId of skipped) {
      counts.skippedByVersion += 1;
      stage.progress({ type: 'document-skipped', externalId });
    }
  }

  const loaded = await Promise.all(
    toLoad.map((source) =>
      stage.loadLimit(async (): Promise<Prepared | LoadFailure> => {
        control.check();
        stage.progress({ type: 'document-started', externalId: source.externalId });
        try {
          const prepared = await loadDocument(source, stage);
          stage.addContentBytes(prepared.bytes);
          return prepared;
        } catch (error) {
          if (control.stopped) throw control.stopped;
          if (isFatalError(error)) throw error;
          // A load cut short by the cancel is not the document's failure.
          if (isAbortError(error) && (control.signal.aborted || control.draining)) throw error;
          return { source, error };
        }
      }),
    ),
  );
  control.check();
  const prepared = loaded.filter((item): item is Prepared => 'input' in item);
  const failures = loaded.filter((item): item is LoadFailure => 'error' in item);
  if (failures.length > 0) await recordLoadFailures(failures, stage);
  control.check();

  const toIndex: ToIndex[] = [];
  if (prepared.length > 0) {
    const results = await stage.index.clock.time(
      'write',
      () =>
        repository.upsertDocuments(
          connectorId,
          prepared.map((p) => p.input),
        ),
      1,
    );
    for (const [index, result] of results.entries()) {
      const item = prepared[index] as Prepared;
      if (result.action === 'inserted') counts.inserted += 1;
      else if (result.action === 'updated') counts.updated += 1;
      else counts.unchanged += 1;
      // Unchanged content whose processing finished needs nothing more; unchanged content that never
      // finished (a crash, a failure, unknown because the lookup failed) is indexed again, its
      // embeddings coming back from layer 4.
      if (
        result.action === 'unchanged' &&
        versions?.get(result.externalId)?.processingStatus === 'completed'
      ) {
        stage.progress({
          type: 'document-finished',
          externalId: result.externalId,
          action: 'unchanged',
          bytes: item.bytes,
        });
        continue;
      }
      toIndex.push({
        documentId: result.documentId,
        externalId: result.externalId,
        prepared: item,
        action: result.action,
      });
    }
  }
  control.check();
  if (toIndex.length > 0) {
    const indexStage: IndexStage = {
      ...stage.index,
      doneProducing,
      finished: (item) =>
        stage.progress({
          type: 'document-finished',
          externalId: item.externalId,
          action: item.action,
          bytes: item.prepared.bytes,
        }),
      failed: async (item, error) => {
        await repository.setProcessingStatus([item.documentId], 'failed', messageOf(error));
        stage.recordFailure(item.externalId, error, item.prepared.bytes, false);
      },
    };
    // Layer 5: exact copies of stored content take its chunks (nothing embedded); copies of content
    // this group indexes wait for it, then take its chunks too.
    const linked = await linkDuplicates(toIndex, stage.duplicates);
    for (const item of linked.done) indexStage.finished(item);
    await indexDocuments(linked.index, indexStage);
    const adopted = await adoptWaiting(linked.waiting, linked.signatures, stage.duplicates);
    for (const item of adopted.done) indexStage.finished(item);
    if (adopted.index.length > 0) await indexDocuments(adopted.index, indexStage);
  }
  stage.progress({ type: 'group-committed', documents: group.length, deleted: 0 });
}

/** One set-based call: earlier good versions stay searchable, the error is stored beside them. */
async function recordLoadFailures(failures: LoadFailure[], stage: GroupStage): Promise<void> {
  const results = await stage.repository.recordDocumentFailures(
    stage.connectorId,
    failures.map(({ source, error }) => ({
      externalId: source.externalId,
      error: messageOf(error),
      parentExternalId: source.parentExternalId ?? null,
      title: source.title || null,
      mimeType: source.mimeType ?? null,
      externalUrl: source.externalUrl ?? null,
      sourceModifiedAt: source.modifiedAt ?? null,
      sourceMetadata: source.metadata ?? {},
      metadata: documentMetadata(source, stage.capturesPermissions),
    })),
  );
  const kept = new Map(results.map((r) => [r.externalId, r.keptPrevious]));
  for (const { source, error } of failures) {
    stage.recordFailure(source.externalId, error, 0, kept.get(source.externalId) === true);
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
