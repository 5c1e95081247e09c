import type {
  DuplicateLink,
  DuplicateMember,
  LinkDuplicatesInput,
  ListDuplicatesInput,
} from '../../dedup/duplicate-types.js';
import type { KnowledgeRepository } from '../knowledge-repository.js';
import type { MemoryAccess } from './access.js';
import { notFound } from './state.js';

export function memoryDuplicates(
  access: MemoryAccess,
): Pick<KnowledgeRepository, 'linkDuplicates' | 'listDuplicates'> {
  const { state, assertWriter } = access;
  return {
    // Duplicate detection lives in SQL (0020); this adapter for unit tests links nothing, so the
    // pipeline indexes every document itself here.
    async linkDuplicates(input: LinkDuplicatesInput): Promise<DuplicateLink[]> {
      assertWriter('linkDuplicates');
      for (const entry of input.documents) {
        if (!state.documents.has(entry.documentId)) throw notFound(`document ${entry.documentId} not found`);
      }
      return input.documents.map((entry) => ({
        documentId: entry.documentId,
        duplicateOf: null,
        kind: null,
        similarity: null,
        chunksReused: false,
      }));
    },

    async listDuplicates(_input: ListDuplicatesInput): Promise<DuplicateMember[]> {
      return [];
    },
  };
}
