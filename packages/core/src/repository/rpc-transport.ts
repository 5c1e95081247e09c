// The one thing a database adapter provides: calling a `@tributary/sql` function by name with named
// arguments. Everything the repository does goes through it, so the logic (and each SQL function
// it relies on) exists once; a transport only moves arguments and rows and maps errors.
// Implementations: `createSqlTransport` (node-postgres, PGlite, any `SqlDatabase`) and
// `createSupabaseTransport` (supabase-js `rpc`, in `@tributary/core/supabase`).
import type { JsonValue } from '../spec/v1/json-value.js';
import type { RepositoryActor } from './knowledge-repository.js';

const jsonMarker = Symbol.for('tributary.rpc.json');

/**
 * A `jsonb` argument. Marked because SQL drivers serialise a JS array as a Postgres array, while a
 * `jsonb` parameter needs its JSON text; supabase-js sends it as it is.
 */
export interface RpcJson {
  readonly [jsonMarker]: true;
  readonly value: JsonValue;
}

/** Wraps a value for a `jsonb` parameter (`null` here is the JSON null; pass plain `null` for SQL NULL). */
export function rpcJson(value: unknown): RpcJson {
  return { [jsonMarker]: true, value: value as JsonValue };
}

export function isRpcJson(value: unknown): value is RpcJson {
  return typeof value === 'object' && value !== null && (value as Partial<RpcJson>)[jsonMarker] === true;
}

/** An argument: scalars, arrays (text[], uuid[]), `rpcJson(...)`; `undefined` leaves the SQL default. */
export type RpcArgument =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly (string | number)[]
  | RpcJson;

export type RpcArguments = Readonly<Record<string, RpcArgument>>;

export interface RpcCallOptions {
  /** The call checks a sync run's lease: SQLSTATE 55000 then means `lease_lost`, not `wrong_state`. */
  leaseGuarded?: boolean | undefined;
}

/**
 * Calls functions of the `public` schema. Errors are `RepositoryError`s (the SQLSTATE in `sqlState`).
 */
export interface RpcTransport {
  /** A set- or row-returning function: its rows (none when it returned nothing). */
  rpc<Row>(name: string, args?: RpcArguments, options?: RpcCallOptions): Promise<Row[]>;
  /** A function returning one scalar value (a count, a timestamp, a jsonb value); void gives null. */
  rpcValue<Value>(name: string, args?: RpcArguments, options?: RpcCallOptions): Promise<Value>;
  /**
   * Runs `fn` with a transport whose calls share one transaction where the transport can (SQL
   * clients). Over supabase-js each call is its own transaction: work split across calls is then
   * only as atomic as each call, and every caller of `atomic` is written to be safe to retry.
   */
  atomic<T>(fn: (transport: RpcTransport) => Promise<T>): Promise<T>;
  /** The same transport acting as someone else (row level security applies to `authenticated`). */
  withActor(actor: RepositoryActor): RpcTransport;
  /** The most rows one call may return (PostgREST's max rows), or undefined for no limit. */
  readonly maxRows: number | undefined;
  /** True when a JSON `null` argument reaches SQL as NULL (PostgREST does this). */
  readonly jsonNullIsSqlNull: boolean;
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

/** Function and argument names are code, never input; a bad one is a programming error. */
export function assertIdentifier(name: string): string {
  if (!identifier.test(name)) throw new TypeError(`[tributary] [repository] not an SQL identifier: ${name}`);
  return name;
}
