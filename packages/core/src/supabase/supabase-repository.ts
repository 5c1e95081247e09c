import type { SupabaseClient } from '@supabase/supabase-js';
import type { KnowledgeRepository } from '../repository/knowledge-repository.js';
import { createRpcRepository } from '../store/rpc-repository.js';
import { createSupabaseTransport } from './supabase-transport.js';

export interface SupabaseRepositoryOptions {
  /**
   * Builds a supabase-js client that acts as the given user, e.g.
   * `createClient(url, anonKey, { global: { headers: { Authorization: \`Bearer ${accessToken}\` } } })`.
   * Needed by `withUser(id)` / `withActor({ role: 'authenticated', userId })`: supabase-js carries
   * its identity in the client, so the repository cannot switch users by itself. Without it those
   * calls throw a `RepositoryError` with reason `unavailable`. Called once per `withUser` repository.
   */
  clientForUser?: ((userId: string) => SupabaseClient | Promise<SupabaseClient>) | undefined;
  /**
   * The project's PostgREST "max rows" setting (Supabase default 1,000): the largest page one
   * request returns. Lists are read in pages of this size; lower it if your project's is lower.
   */
  maxRows?: number | undefined;
}

/** Documents per `upsert_documents` call (the RPC's limit). */
export const SUPABASE_UPSERT_BATCH_SIZE = 1000;

/**
 * A `KnowledgeRepository` over supabase-js (the Data API, i.e. PostgREST), for hosts that reach
 * their database only through a Supabase project's URL and key. The same implementation as
 * `createPostgresRepository`: every method is one `rpc` of `@tributary/sql`, and row level security
 * applies to whoever the client is (create it with the service role key for sync workers).
 *
 * Each call is one transaction on the server; a call split into several requests (more than 1,000
 * documents to upsert, say) is atomic per request and idempotent when retried.
 */
export function createSupabaseRepository(
  client: SupabaseClient,
  options: SupabaseRepositoryOptions = {},
): KnowledgeRepository {
  return createRpcRepository(createSupabaseTransport(client, options));
}
