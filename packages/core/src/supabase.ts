// `@tributary/core/supabase`: the repository over supabase-js (a Supabase project's Data API) and
// the blob store over Supabase Storage.
// `@supabase/supabase-js` is an optional peer dependency: this entry only uses its types, the host
// passes its own client.

export { mapPostgrestError, type PostgrestErrorLike } from './supabase/map-postgrest-error.js';
export {
  createSupabaseBlobStore,
  mapStorageError,
  type SupabaseBlobStoreOptions,
  SupabaseStorageError,
  type SupabaseStorageErrorOptions,
  type SupabaseStorageErrorReason,
} from './supabase/supabase-blob-store.js';
export { createSupabaseGroupMembershipStore } from './supabase/supabase-group-memberships.js';
export {
  createSupabaseRepository,
  SUPABASE_UPSERT_BATCH_SIZE,
  type SupabaseRepositoryOptions,
} from './supabase/supabase-repository.js';
export { createSupabaseTransport, type SupabaseTransportOptions } from './supabase/supabase-transport.js';
