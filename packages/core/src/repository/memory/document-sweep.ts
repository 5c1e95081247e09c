import type { KnowledgeRepository } from '../knowledge-repository.js';
import { assertDocumentIds, assertMaxFraction } from '../validate-input.js';
import type { MemoryAccess } from './access.js';
import { documentKey, tick } from './state.js';

// Deletions: what a listing saw, soft deletes, and the sweep of what a full listing did not see
// (with its coverage guard).

export function memoryDocumentSweep(
  access: MemoryAccess,
): Pick<
  KnowledgeRepository,
  'markDocumentsSeen' | 'markDocumentsSeenById' | 'softDeleteDocuments' | 'sweepUnseenDocuments'
> {
  const { state, assertWriter, connectorOrThrow, lockRunning } = access;

  const liveDocumentsOf = (connectorId: string) =>
    [...state.documents.values()].filter((d) => d.connectorId === connectorId && !d.isDeleted);

  return {
    async markDocumentsSeen(connectorId: string, externalIds: readonly string[]) {
      assertWriter('markDocumentsSeen');
      // An unknown connector is an error, not a count of 0 (as mark_documents_seen since 0012).
      connectorOrThrow(connectorId);
      const now = tick(state);
      let count = 0;
      for (const externalId of new Set(externalIds)) {
        const id = state.documentIds.get(documentKey(connectorId, externalId));
        const document = id ? state.documents.get(id) : undefined;
        if (!document || document.isDeleted) continue;
        document.lastSeenAt = now;
        document.syncCount += 1;
        count += 1;
      }
      return count;
    },

    async markDocumentsSeenById(syncRunId: string, documentIds: readonly string[]) {
      assertDocumentIds(documentIds);
      assertWriter('markDocumentsSeenById');
      if (documentIds.length === 0) return 0;
      const run = lockRunning(syncRunId);
      const listingStart = state.listingStarts.get(run.id);
      // As 0023_listing_seen_marks: only full listings are swept, so only they keep marks.
      if (run.syncMode !== 'full' || listingStart === undefined || !run.connectorId) return 0;
      const connectorId = run.connectorId;
      connectorOrThrow(connectorId);
      // Stored unchecked, as in SQL: the sweep only reads marks for the connector's live documents.
      const distinct = new Set(documentIds);
      const marks = state.seenMarks.get(connectorId) ?? new Map<number, Set<string>>();
      const ids = marks.get(listingStart) ?? new Set<string>();
      for (const id of distinct) ids.add(id);
      marks.set(listingStart, ids);
      state.seenMarks.set(connectorId, marks);
      return distinct.size;
    },

    async softDeleteDocuments(connectorId: string, externalIds: readonly string[]) {
      assertWriter('softDeleteDocuments');
      connectorOrThrow(connectorId);
      const now = tick(state);
      let count = 0;
      for (const externalId of new Set(externalIds)) {
        const id = state.documentIds.get(documentKey(connectorId, externalId));
        const document = id ? state.documents.get(id) : undefined;
        if (!document || document.isDeleted) continue;
        document.isDeleted = true;
        document.deletedAt = now;
        count += 1;
      }
      return count;
    },

    async sweepUnseenDocuments(syncRunId: string, maxFraction = 0.5) {
      assertMaxFraction(maxFraction);
      assertWriter('sweepUnseenDocuments');
      const run = lockRunning(syncRunId);
      const live = run.connectorId ? liveDocumentsOf(run.connectorId) : [];
      const seenSince = state.listingStarts.get(run.id) ?? run.startedAt.getTime();
      const marks = run.connectorId ? state.seenMarks.get(run.connectorId) : undefined;
      const marked = marks?.get(seenSince);
      const unseen = live.filter((d) => d.lastSeenAt < seenSince && !marked?.has(d.id));
      if (live.length > 0 && unseen.length > maxFraction * live.length) {
        return { swept: 0, unseen: unseen.length, total: live.length, refused: true };
      }
      const now = tick(state);
      for (const document of unseen) {
        document.isDeleted = true;
        document.deletedAt = now;
      }
      // Older listings are over; this listing's marks stay until the next completed sweep.
      for (const listingStart of [...(marks?.keys() ?? [])]) {
        if (listingStart < seenSince) marks?.delete(listingStart);
      }
      return { swept: unseen.length, unseen: unseen.length, total: live.length, refused: false };
    },
  };
}
