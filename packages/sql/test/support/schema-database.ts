// Shared set-up for tests of the real Tributary schema (the bundled migrations).
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { createPgliteDatabase, type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';
import {
  fromPg,
  fromPglite,
  migrate,
  migrationsDirectory,
  type SqlDatabase,
  type SqlQueryable,
} from '../../src/index.js';

/** A key that changes whenever a bundled migration file changes. */
export function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsDirectory).sort()) {
    hash.update(file).update(readFileSync(join(migrationsDirectory, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

/** PGlite with every bundled migration applied (started from a cached snapshot after the first time). */
export async function createMigratedPglite(): Promise<{ pglite: PGlite; db: SqlDatabase }> {
  const pglite = await createPgliteDatabase({
    snapshot: {
      key: `tributary-sql-schema-${migrationsFingerprint()}`,
      prepare: async (fresh) => {
        await migrate(fromPglite(fresh));
      },
    },
  });
  return { pglite, db: fromPglite(pglite) };
}

export interface MigratedServer {
  server: PostgresServer;
  /** A fresh database cloned from the migrated template, with its own pool. */
  createDatabase(poolSize?: number): Promise<{ name: string; pool: pg.Pool; db: SqlDatabase }>;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL server with a template database that has every bundled migration applied. By
 * default the server has pgvector; with `{ pgvector: false }` it has none and 0007_vector_search is
 * deferred (the case of a host database without the extension).
 */
export async function startMigratedServer(options: { pgvector?: boolean } = {}): Promise<MigratedServer> {
  const pgvector = options.pgvector ?? true;
  const server = await startPostgresServer({ pgvector });
  const template = await server.createDatabase({ name: 'tributary_template' });
  const templatePool = server.pool(template, { max: 2 });
  await migrate(fromPg(templatePool), pgvector ? {} : { deferMissingExtensions: ['vector'] });
  await templatePool.end();
  return {
    server,
    async createDatabase(poolSize = 20) {
      const name = await server.createDatabase({ template });
      const pool = server.pool(name, { max: poolSize });
      return { name, pool, db: fromPg(pool) };
    },
    stop: () => server.stop(),
  };
}

export type Actor = { role: 'anon' } | { role: 'authenticated'; userId: string } | { role: 'service_role' };

/**
 * Runs `fn` in a transaction as a Supabase API role would: `set local role` plus the JWT claims
 * PostgREST sets. The transaction is rolled back unless `commit` is true, so tests stay independent.
 */
export async function actAs<T>(
  db: SqlDatabase,
  actor: Actor,
  fn: (tx: SqlQueryable) => Promise<T>,
  options: { commit?: boolean } = {},
): Promise<T> {
  const rollback = new Error('rollback');
  let result: T | undefined;
  try {
    await db.transaction(async (tx) => {
      const claims =
        actor.role === 'authenticated' ? { sub: actor.userId, role: 'authenticated' } : { role: actor.role };
      await tx.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify(claims)]);
      await tx.query("select set_config('role', $1, true)", [actor.role]);
      result = await fn(tx);
      if (!options.commit) throw rollback;
    });
  } catch (error) {
    if (error !== rollback) throw error;
  }
  return result as T;
}

export interface Tenancy {
  orgA: string;
  orgB: string;
  ownerA: string;
  adminA: string;
  memberA: string;
  memberB: string;
  /** A signed-in user who belongs to no organisation. */
  outsider: string;
}

/** Two organisations and their members, written through the default membership table. */
export async function seedTenancy(db: SqlQueryable): Promise<Tenancy> {
  const tenancy: Tenancy = {
    orgA: randomUUID(),
    orgB: randomUUID(),
    ownerA: randomUUID(),
    adminA: randomUUID(),
    memberA: randomUUID(),
    memberB: randomUUID(),
    outsider: randomUUID(),
  };
  await db.query(
    `insert into tributary_private.memberships (user_id, org_id, role) values
       ($1, $5, 'owner'), ($2, $5, 'admin'), ($3, $5, 'member'), ($4, $6, 'member')`,
    [tenancy.ownerA, tenancy.adminA, tenancy.memberA, tenancy.memberB, tenancy.orgA, tenancy.orgB],
  );
  return tenancy;
}

/** Inserts a connector as the service would and returns its id. */
export async function insertConnector(
  db: SqlQueryable,
  orgId: string,
  values: { type?: string; name?: string; syncFrequency?: string } = {},
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `insert into public.connector_configs (org_id, connector_type, name, sync_frequency)
     values ($1, $2, $3, $4) returning id`,
    [orgId, values.type ?? 'google_drive', values.name ?? 'Team Drive', values.syncFrequency ?? 'manual'],
  );
  return rows[0]!.id;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Runs `fn` in a transaction that is always rolled back, so tests leave nothing behind. */
export async function rolledBack(db: SqlDatabase, fn: (tx: SqlQueryable) => Promise<void>): Promise<void> {
  const rollback = new Error('rollback');
  try {
    await db.transaction(async (tx) => {
      await fn(tx);
      throw rollback;
    });
  } catch (error) {
    if (error !== rollback) throw error;
  }
}
