// `RpcTransport` over supabase-js: each call is one `client.rpc(name, args)` request, so one
// transaction on the server.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { RepositoryActor } from '../repository/knowledge-repository.js';
import { RepositoryError } from '../repository/repository-error.js';
import {
  isRpcJson,
  type RpcArguments,
  type RpcCallOptions,
  type RpcTransport,
} from '../repository/rpc-transport.js';
import { invalidInput } from '../repository/validate-input.js';
import { mapPostgrestError } from './map-postgrest-error.js';

export interface SupabaseTransportOptions {
  /**
   * Builds a supabase-js client that acts as the given user (needed by `withActor` for an
   * `authenticated` actor: supabase-js carries its identity in the client). Called once per actor.
   */
  clientForUser?: ((userId: string) => SupabaseClient | Promise<SupabaseClient>) | undefined;
  /** The project's PostgREST "max rows" setting (Supabase default 1,000). */
  maxRows?: number | undefined;
}

interface PostgrestOutcome {
  data: unknown;
  error: unknown;
  status: number;
}

function plainArguments(args: RpcArguments): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args)) {
    if (value === undefined) continue;
    plain[name] = isRpcJson(value) ? value.value : Array.isArray(value) ? [...value] : value;
  }
  return plain;
}

/**
 * The service view is the client given (create it with the service role key for sync workers);
 * `withActor` for a user builds that user's client with `clientForUser`.
 */
export function createSupabaseTransport(
  client: SupabaseClient,
  options: SupabaseTransportOptions = {},
): RpcTransport {
  const maxRows = options.maxRows ?? 1000;
  if (!Number.isInteger(maxRows) || maxRows < 1) {
    throw invalidInput(`maxRows must be a positive integer, got ${String(options.maxRows)}`);
  }
  return build(() => Promise.resolve(client), client, options, maxRows);
}

function build(
  clientOf: () => Promise<SupabaseClient>,
  root: SupabaseClient,
  options: SupabaseTransportOptions,
  maxRows: number,
): RpcTransport {
  /** Sends one request; PostgREST answers a set as an array, a row as an object, a scalar as itself. */
  async function call(name: string, args: RpcArguments, callOptions: RpcCallOptions): Promise<unknown> {
    const client = await clientOf();
    let outcome: PostgrestOutcome;
    try {
      outcome = (await client.rpc(name, plainArguments(args))) as PostgrestOutcome;
    } catch (error) {
      throw mapPostgrestError(error, { ...callOptions, status: 0 });
    }
    if (outcome.error) throw mapPostgrestError(outcome.error, { ...callOptions, status: outcome.status });
    return outcome.data;
  }

  function withActor(actor: RepositoryActor): RpcTransport {
    // supabase-js cannot raise its own privileges: the service view is the root client.
    if (actor.role === 'service_role') return build(() => Promise.resolve(root), root, options, maxRows);
    const factory = options.clientForUser;
    if (!factory) {
      throw new RepositoryError({
        reason: 'unavailable',
        message:
          'withUser/withActor needs a way to build a supabase-js client for that user: pass clientForUser to createSupabaseRepository',
        hint: "e.g. clientForUser: (userId) => createClient(url, anonKey, { global: { headers: { Authorization: 'Bearer ' + accessTokenOf(userId) } } })",
      });
    }
    let userClient: Promise<SupabaseClient> | undefined;
    return build(
      () => {
        userClient ??= Promise.resolve()
          .then(() => factory(actor.userId))
          .catch((error: unknown) => {
            userClient = undefined;
            if (RepositoryError.isInstance(error)) throw error;
            throw new RepositoryError({
              reason: 'not_allowed',
              message: `clientForUser could not build a client for user ${actor.userId}: ${error instanceof Error ? error.message : String(error)}`,
              cause: error,
            });
          });
        return userClient;
      },
      root,
      options,
      maxRows,
    );
  }

  const transport: RpcTransport = {
    maxRows,
    jsonNullIsSqlNull: true,
    rpc: async <Row>(name: string, args: RpcArguments = {}, callOptions: RpcCallOptions = {}) => {
      const data = await call(name, args, callOptions);
      if (Array.isArray(data)) return data as Row[];
      return data === null || data === undefined ? [] : [data as Row];
    },
    rpcValue: async <Value>(name: string, args: RpcArguments = {}, callOptions: RpcCallOptions = {}) =>
      ((await call(name, args, callOptions)) ?? null) as Value,
    // No transaction spans HTTP requests: each call is atomic on its own (see RpcTransport.atomic).
    atomic: (fn) => fn(transport),
    withActor,
  };
  return transport;
}
