// `RpcTransport` over a SQL client: each call is `select * from public.fn(name => $1, ...)`.
import type { RepositoryActor } from '../repository/knowledge-repository.js';
import {
  assertIdentifier,
  isRpcJson,
  type RpcArguments,
  type RpcCallOptions,
  type RpcTransport,
} from '../repository/rpc-transport.js';
import { mapDatabaseError } from './map-database-error.js';
import type { SqlDatabase, SqlQueryable } from './sql-database.js';

/** The statement and its parameters; `jsonb` arguments are sent as JSON text and cast. */
function callSql(name: string, args: RpcArguments, scalar: boolean): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const named: string[] = [];
  for (const [argument, value] of Object.entries(args)) {
    if (value === undefined) continue;
    if (isRpcJson(value)) {
      params.push(JSON.stringify(value.value));
      named.push(`${assertIdentifier(argument)} => $${params.length}::jsonb`);
    } else {
      params.push(Array.isArray(value) ? [...value] : value);
      named.push(`${assertIdentifier(argument)} => $${params.length}`);
    }
  }
  const call = `public.${assertIdentifier(name)}(${named.join(', ')})`;
  return { sql: scalar ? `select ${call} as value` : `select * from ${call}`, params };
}

/** The JWT claims PostgREST would set for this actor (read by auth.uid() and the 0018 principals). */
export function actorClaims(actor: RepositoryActor): Record<string, unknown> {
  if (actor.role === 'service_role') return { role: 'service_role' };
  return {
    sub: actor.userId,
    role: 'authenticated',
    ...(actor.email !== undefined ? { email: actor.email } : {}),
    ...(actor.groups !== undefined ? { tributary_groups: actor.groups } : {}),
    ...(actor.identities !== undefined ? { tributary_identities: actor.identities } : {}),
  };
}

async function actAs(tx: SqlQueryable, actor: RepositoryActor): Promise<void> {
  await tx.query("select set_config('request.jwt.claims', $1, true), set_config('role', $2, true)", [
    JSON.stringify(actorClaims(actor)),
    actor.role,
  ]);
}

type Statement = { sql: string; params: unknown[] };
type Execute = <Row>(statement: Statement, options: RpcCallOptions) => Promise<Row[]>;

function transport(
  execute: Execute,
  atomic: RpcTransport['atomic'],
  withActor: RpcTransport['withActor'],
): RpcTransport {
  return {
    maxRows: undefined,
    jsonNullIsSqlNull: false,
    rpc: (name, args = {}, options = {}) => execute(callSql(name, args, false), options),
    rpcValue: async <Value>(name: string, args: RpcArguments = {}, options: RpcCallOptions = {}) => {
      const rows = await execute<{ value: Value }>(callSql(name, args, true), options);
      return rows[0]?.value as Value;
    },
    atomic,
    withActor,
  };
}

/**
 * Calls run as `actor` when one is given: each call is then a transaction with `role` and
 * `request.jwt.claims` set as PostgREST sets them. Without one they run as the connection's own
 * role and a single call needs no BEGIN/COMMIT round trips.
 */
export function createSqlTransport(db: SqlDatabase, actor?: RepositoryActor): RpcTransport {
  const execute: Execute = async <Row>(statement: Statement, options: RpcCallOptions) => {
    try {
      if (!actor) return (await db.query<Row>(statement.sql, statement.params)).rows;
      return await db.transaction(async (tx) => {
        await actAs(tx, actor);
        return (await tx.query<Row>(statement.sql, statement.params)).rows;
      });
    } catch (error) {
      throw mapDatabaseError(error, options);
    }
  };
  return transport(
    execute,
    async (fn) => {
      try {
        return await db.transaction(async (tx) => {
          if (actor) await actAs(tx, actor);
          return fn(transactionTransport(tx));
        });
      } catch (error) {
        throw mapDatabaseError(error);
      }
    },
    (next) => createSqlTransport(db, next),
  );
}

/** Calls inside one open transaction (the actor, if any, is already set on it). */
function transactionTransport(tx: SqlQueryable): RpcTransport {
  const execute: Execute = async <Row>(statement: Statement, options: RpcCallOptions) => {
    try {
      return (await tx.query<Row>(statement.sql, statement.params)).rows;
    } catch (error) {
      throw mapDatabaseError(error, options);
    }
  };
  const inTransaction: RpcTransport = transport(
    execute,
    (fn) => fn(inTransaction),
    () => {
      throw new TypeError('[tributary] [repository] cannot change the actor inside a transaction');
    },
  );
  return inTransaction;
}
