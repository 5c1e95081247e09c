// Dedup layer 5, one RPC each (0020_cross_source_duplicates): linking stored documents to their
// duplicate group, and listing groups as far as the actor may read them.
import {
  type DuplicateLinkRow,
  type DuplicateMemberRow,
  linkDuplicatesJson,
  mapDuplicateLink,
  mapDuplicateMember,
} from '../dedup/duplicate-types.js';
import type { KnowledgeRepository } from '../repository/knowledge-repository.js';
import { type RpcTransport, rpcJson } from '../repository/rpc-transport.js';

export type DuplicateMethods = Pick<KnowledgeRepository, 'linkDuplicates' | 'listDuplicates'>;

export function rpcDuplicates(transport: RpcTransport): DuplicateMethods {
  return {
    linkDuplicates: async (input) => {
      const rows = await transport.rpc<DuplicateLinkRow>('link_document_duplicates', {
        p_documents: rpcJson(linkDuplicatesJson(input)),
        p_embedding_model: input.embeddingModel ?? null,
        p_threshold: input.threshold ?? null,
      });
      return rows.map(mapDuplicateLink);
    },

    listDuplicates: async (input) => {
      const rows = await transport.rpc<DuplicateMemberRow>('list_document_duplicates', {
        p_org_id: input.orgId,
        p_document_id: input.documentId ?? null,
        p_limit: input.limit ?? 100,
      });
      return rows.map(mapDuplicateMember);
    },
  };
}
