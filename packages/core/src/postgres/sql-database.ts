// The SQL surface the Postgres repository needs. Structurally the same as @tributary/sql's
// SqlDatabase (so `fromPg(pool)` / `fromPglite(db)` from there fit), written here so core never
// imports the sql package or a database client at runtime.

export interface SqlQueryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: Row[] }>;
}

export interface SqlDatabase extends SqlQueryable {
  /** Runs `fn` inside one transaction on one connection; commits on success, rolls back on error. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
}

/** Structural type of a node-postgres `Client` (or a pool's client). */
export interface PgClientLike {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Structural type of a node-postgres `Pool`. */
export interface PgPoolLike extends PgClientLike {
  connect(): Promise<PgClientLike & { release(error?: Error | boolean): void }>;
}

/** Structural type of a PGlite instance (`@electric-sql/pglite`). */
export interface PgliteLike {
  query<Row>(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  transaction<T>(fn: (tx: PgliteTransactionLike) => Promise<T>): Promise<T>;
}

export interface PgliteTransactionLike {
  query<Row>(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
}

function wrapPgClient(client: PgClientLike): SqlQueryable {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]) {
      const result = await client.query(sql, params ? [...params] : undefined);
      return { rows: result.rows as Row[] };
    },
  };
}

function isPool(value: PgPoolLike | PgClientLike): value is PgPoolLike {
  // A pg.Client has connect() too; only a pool has the connection counters.
  return typeof (value as PgPoolLike).connect === 'function' && 'idleCount' in value && 'totalCount' in value;
}

/**
 * Adapts a node-postgres `Pool` or `Client`. With a Pool each transaction takes its own connection;
 * with a Client transactions run on that client (do not share it between concurrent callers).
 */
export function nodePostgresDatabase(poolOrClient: PgPoolLike | PgClientLike): SqlDatabase {
  return {
    ...wrapPgClient(poolOrClient),
    async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      const pool = isPool(poolOrClient) ? poolOrClient : undefined;
      const client = pool ? await pool.connect() : poolOrClient;
      const tx = wrapPgClient(client);
      let failed = false;
      try {
        await tx.query('begin');
        const result = await fn(tx);
        await tx.query('commit');
        return result;
      } catch (error) {
        failed = true;
        await tx.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        // A connection whose rollback may have failed is discarded, not reused.
        if (pool)
          (client as PgClientLike & { release(error?: Error | boolean): void }).release(failed || undefined);
      }
    },
  };
}

/** Adapts a PGlite instance (one connection; PGlite serialises transactions itself). */
export function pgliteDatabase(pglite: PgliteLike): SqlDatabase {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]) {
      const result = await pglite.query<Row>(sql, params ? [...params] : undefined);
      return { rows: result.rows };
    },
    transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      return pglite.transaction((tx) =>
        fn({
          async query<Row>(sql: string, params?: readonly unknown[]) {
            const result = await tx.query<Row>(sql, params ? [...params] : undefined);
            return { rows: result.rows };
          },
        }),
      );
    },
  };
}
