// @tributary/connector-upload/supabase: the batch store over supabase-js (optional peer).
export {
  createSupabaseUploadBatchStore,
  type SupabaseUploadBatchStoreOptions,
} from './supabase-upload-batch-store.js';
