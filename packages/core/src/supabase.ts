// `@tributary/core/supabase`: the repository over supabase-js (a Supabase project's Data API).
// `@supabase/supabase-js` is an optional peer dependency: this entry only uses its types, the host
// passes its own client.

export { mapPostgrestError, type PostgrestErrorLike } from './supabase/map-postgrest-error.js';
export {
  createSupabaseRepository,
  SUPABASE_CHUNK_BATCH_SIZE,
  SUPABASE_UPSERT_BATCH_SIZE,
  type SupabaseRepositoryOptions,
} from './supabase/supabase-repository.js';
