import type { SupabaseClient } from '@supabase/supabase-js';
import { createSupabaseTransport } from '@tributary/core/supabase';
import { createRpcUploadBatchStore } from './rpc-upload-batch-store.js';
import { UploadBatchError } from './upload-batch-error.js';
import type { UploadBatchActor, UploadBatchStore } from './upload-batch-store.js';

export interface SupabaseUploadBatchStoreOptions {
  /** Builds a client carrying a user's access token (for `withActor({ role: 'authenticated' })`). */
  clientForUser?: ((userId: string) => SupabaseClient | Promise<SupabaseClient>) | undefined;
}

/**
 * The batch store over supabase-js (the project's Data API): the same implementation as
 * `createSqlUploadBatchStore`, each method one `rpc` of `@tributary/sql`. Create it with the service
 * role client for the uploader; a client with a user's token is held to row level security.
 *
 * PostgREST runs each request in its own transaction, so what must be atomic is one RPC each
 * (`ensure_upload_connector`, `record_batch_file`, `settle_interrupted_batch`): a file's entry and
 * its count land together, and concurrent writers, in this process or another, never lose each
 * other's entries.
 */
export function createSupabaseUploadBatchStore(
  client: SupabaseClient,
  options: SupabaseUploadBatchStoreOptions = {},
): UploadBatchStore {
  const transport = createSupabaseTransport(client, { clientForUser: options.clientForUser });
  const withActor = (actor: UploadBatchActor): UploadBatchStore => {
    if (actor.role === 'service_role') return store;
    if (!options.clientForUser) {
      throw new UploadBatchError({
        reason: 'not_allowed',
        message: 'acting as a user needs a supabase-js client for that user',
        hint: 'Pass clientForUser to createSupabaseUploadBatchStore (a client with the anon key and the user access token)',
      });
    }
    return createRpcUploadBatchStore(transport.withActor(actor), withActor);
  };
  const store = createRpcUploadBatchStore(transport, withActor);
  return store;
}
