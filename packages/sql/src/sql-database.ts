/**
 * The smallest database surface the sql package needs, so it works with any client the host
 * already has (node-postgres, PGlite, or anything else that can run SQL) without depending on one.
 */
export interface SqlQueryable {
  /** Runs one statement with optional `$1`-style parameters. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: Row[] }>;
  /**
   * Runs a script of several statements (no parameters). `onNotice` receives the notices and warnings
   * the server sends meanwhile (`raise warning` in a migration); an implementation that cannot see
   * them may ignore it, and the runner then reports no warnings.
   */
  exec(sql: string, options?: ExecOptions): Promise<void>;
}

/** A NOTICE or WARNING message the server sent while a statement ran. */
export interface SqlNotice {
  /** `WARNING`, `NOTICE`, `INFO`, ... as the server reports it. */
  severity: string;
  message: string;
  detail?: string | undefined;
  hint?: string | undefined;
}

export interface ExecOptions {
  onNotice?: (notice: SqlNotice) => void;
}

/** Normalises the notice objects of node-postgres and PGlite (same field names, optional values). */
export function toSqlNotice(raw: unknown): SqlNotice {
  const value = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const text = (key: string) =>
    typeof value[key] === 'string' && value[key] !== '' ? (value[key] as string) : undefined;
  return {
    severity: text('severity') ?? 'NOTICE',
    message: text('message') ?? String(raw),
    detail: text('detail'),
    hint: text('hint'),
  };
}

export interface SqlDatabase extends SqlQueryable {
  /** Runs `fn` inside one transaction on one connection; commits on success, rolls back on error. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
}

/** Structural type of a node-postgres `Pool` (or anything with `connect()` returning a client). */
export interface PgPoolLike {
  connect(): Promise<PgClientLike & { release(error?: Error | boolean): void }>;
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Structural type of a node-postgres `Client` (an EventEmitter: `notice` events carry warnings). */
export interface PgClientLike {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  on?(event: 'notice', listener: (notice: unknown) => void): unknown;
  removeListener?(event: 'notice', listener: (notice: unknown) => void): unknown;
}

/** Structural type of a PGlite instance (`@electric-sql/pglite`). */
export interface PgliteLike {
  query<Row>(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  exec(sql: string, options?: { onNotice?: (notice: unknown) => void }): Promise<unknown>;
  transaction<T>(fn: (tx: PgliteTransactionLike) => Promise<T>): Promise<T>;
}

export interface PgliteTransactionLike {
  query<Row>(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  exec(sql: string, options?: { onNotice?: (notice: unknown) => void }): Promise<unknown>;
}

function pgliteExecOptions(options: ExecOptions | undefined): { onNotice?: (notice: unknown) => void } {
  const onNotice = options?.onNotice;
  return onNotice ? { onNotice: (notice) => onNotice(toSqlNotice(notice)) } : {};
}

function wrapPgQueryable(client: PgClientLike): SqlQueryable {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]) {
      const result = await client.query(sql, params ? [...params] : undefined);
      return { rows: result.rows as Row[] };
    },
    async exec(sql: string, options?: ExecOptions) {
      const onNotice = options?.onNotice;
      if (!onNotice || typeof client.on !== 'function') {
        // Without parameters node-postgres uses the simple query protocol, which runs several statements.
        await client.query(sql);
        return;
      }
      // Notices arrive as events on the connection; inside a transaction it is ours alone.
      const listener = (notice: unknown) => onNotice(toSqlNotice(notice));
      client.on('notice', listener);
      try {
        await client.query(sql);
      } finally {
        client.removeListener?.('notice', listener);
      }
    },
  };
}

function isPool(value: PgPoolLike | PgClientLike): value is PgPoolLike {
  // A pg.Client has connect() too; what only a pool has is its connection counters.
  return typeof (value as PgPoolLike).connect === 'function' && 'idleCount' in value && 'totalCount' in value;
}

/**
 * Adapts a node-postgres `Pool` or `Client`. With a Pool, each transaction takes its own
 * connection; with a Client, transactions run on that client (do not share it concurrently).
 */
export function fromPg(poolOrClient: PgPoolLike | PgClientLike): SqlDatabase {
  const base = wrapPgQueryable(poolOrClient);
  return {
    ...base,
    async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      const pool = isPool(poolOrClient) ? poolOrClient : undefined;
      const client = pool ? await pool.connect() : (poolOrClient as PgClientLike);
      const tx = wrapPgQueryable(client);
      let failed: unknown;
      try {
        await tx.exec('begin');
        const result = await fn(tx);
        await tx.exec('commit');
        return result;
      } catch (error) {
        failed = error;
        await tx.exec('rollback').catch(() => undefined);
        throw error;
      } finally {
        if (pool)
          (client as PgClientLike & { release(error?: Error | boolean): void }).release(
            failed ? true : undefined,
          );
      }
    },
  };
}

/** Adapts a PGlite instance (one connection; PGlite serialises transactions itself). */
export function fromPglite(db: PgliteLike): SqlDatabase {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]) {
      const result = await db.query<Row>(sql, params ? [...params] : undefined);
      return { rows: result.rows };
    },
    async exec(sql: string, options?: ExecOptions) {
      await db.exec(sql, pgliteExecOptions(options));
    },
    transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      return db.transaction((tx) =>
        fn({
          async query<Row>(sql: string, params?: readonly unknown[]) {
            const result = await tx.query<Row>(sql, params ? [...params] : undefined);
            return { rows: result.rows };
          },
          async exec(sql: string, options?: ExecOptions) {
            await tx.exec(sql, pgliteExecOptions(options));
          },
        }),
      );
    },
  };
}
