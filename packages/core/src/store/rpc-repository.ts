// The one `KnowledgeRepository`: every method is a `@tributary/sql` function called through an
// `RpcTransport`, so node-postgres, PGlite and supabase-js share the same code and the same SQL.
import type { KnowledgeRepository, StoredVectorSettings } from '../repository/knowledge-repository.js';
import type { RpcTransport } from '../repository/rpc-transport.js';
import { rpcChunks } from './rpc-chunks.js';
import { rpcConnectorAdmin } from './rpc-connector-admin.js';
import { rpcDocuments } from './rpc-documents.js';
import { rpcDuplicates } from './rpc-duplicates.js';
import { rpcSyncRuns } from './rpc-sync-runs.js';
import { single } from './single-row.js';

interface SharedState {
  /** The transport the repository was created with (its actor asks the capability questions). */
  root: RpcTransport;
  /** Whether document_chunks has the pgvector columns (0007_vector_search applied); asked once. */
  vectors: Promise<boolean> | undefined;
}

/** A `KnowledgeRepository` over any transport (`createSqlTransport`, `createSupabaseTransport`). */
export function createRpcRepository(transport: RpcTransport): KnowledgeRepository {
  return build({ root: transport, vectors: undefined }, transport);
}

function build(state: SharedState, transport: RpcTransport): KnowledgeRepository {
  function hasVectors(): Promise<boolean> {
    state.vectors ??= state.root.rpcValue<boolean>('stores_embeddings').then(
      (stores) => stores === true,
      (error: unknown) => {
        state.vectors = undefined;
        throw error;
      },
    );
    return state.vectors;
  }

  return {
    ...rpcConnectorAdmin(transport),
    ...rpcSyncRuns(transport),
    ...rpcDocuments(transport),
    ...rpcChunks(transport, hasVectors),
    ...rpcDuplicates(transport),
    withActor: (actor) => build(state, transport.withActor(actor)),
    withUser: (userId) => build(state, transport.withActor({ role: 'authenticated', userId })),
    storesEmbeddings: () => hasVectors(),
    vectorSettings: async () => {
      if (!(await hasVectors())) return undefined;
      const rows = await transport.rpc<{ vector_type: 'vector' | 'halfvec'; dimensions: number }>(
        'vector_settings',
      );
      const row = single(rows, 'vector_settings');
      const settings: StoredVectorSettings = {
        type: row.vector_type,
        dimensions: Number(row.dimensions),
        distance: 'cosine',
      };
      return settings;
    },
  };
}
