import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPgliteDatabase,
  findPgvectorBinDir,
  PgvectorServerMissingError,
  type PostgresServer,
  startPostgresServer,
} from '../src/index.js';

describe('createPgliteDatabase', () => {
  let snapshotDir: string;
  beforeAll(async () => {
    snapshotDir = await mkdtemp(join(tmpdir(), 'tributary-testkit-'));
  });
  afterAll(async () => {
    await rm(snapshotDir, { recursive: true, force: true });
  });

  it('prepares once, saves a snapshot, and later databases start from it with pgvector', async () => {
    let prepared = 0;
    const snapshot = {
      key: 'harness-test',
      prepare: async (db: { exec(sql: string): Promise<unknown> }) => {
        prepared += 1;
        await db.exec(
          "create extension vector; create table items (id int primary key, embedding vector(3)); insert into items values (1, '[1,0,0]'), (2, '[0,1,0]');",
        );
      },
    };
    const first = await createPgliteDatabase({ snapshot, snapshotDir });
    await first.close();
    expect(await readdir(snapshotDir)).toEqual(['harness-test.tar.gz']);

    const second = await createPgliteDatabase({ snapshot, snapshotDir });
    const nearest = await second.query<{ id: number }>(
      "select id from items order by embedding <-> '[0,0.9,0]' limit 1",
    );
    expect(nearest.rows).toEqual([{ id: 2 }]);
    await second.close();
    expect(prepared).toBe(1);
  });
});

describe('startPostgresServer', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgresServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('creates UTF-8 databases whatever the locale of the environment', async () => {
    const pool = server.pool(await server.createDatabase(), { max: 1 });
    const { rows } = await pool.query<{ encoding: string; length: number }>(
      "select current_setting('server_encoding') as encoding, char_length('…') as length",
    );
    expect(rows).toEqual([{ encoding: 'UTF8', length: 1 }]);
  });

  it('serves several connections at once and isolates databases', async () => {
    const database = await server.createDatabase();
    const pool = server.pool(database, { max: 8 });
    await pool.query('create table hits (n int)');
    // Eight sessions hold a transaction open at the same moment: a single-connection database would deadlock here.
    const clients = await Promise.all(Array.from({ length: 8 }, () => pool.connect()));
    await Promise.all(
      clients.map((client, n) =>
        client.query('begin').then(() => client.query('insert into hits values ($1)', [n])),
      ),
    );
    await Promise.all(clients.map((client) => client.query('commit')));
    for (const client of clients) client.release();
    const { rows } = await pool.query<{ count: string; backends: string }>(
      'select count(*)::text as count, (select count(*) from pg_stat_activity where datname = current_database())::text as backends from hits',
    );
    expect(rows[0]?.count).toBe('8');
    expect(Number(rows[0]?.backends)).toBeGreaterThanOrEqual(8);

    const other = await server.createDatabase();
    const otherTables = await server
      .pool(other)
      .query("select count(*)::int as n from information_schema.tables where table_name = 'hits'");
    expect(otherTables.rows[0]?.n).toBe(0);
  });
});

describe('startPostgresServer with pgvector (the default)', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgresServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('stores vectors and answers nearest-neighbour queries through an HNSW index', async () => {
    expect(server.pgvector).toBe(true);
    expect(server.majorVersion).toBeGreaterThanOrEqual(15);
    const pool = server.pool(await server.createDatabase(), { max: 2 });
    await pool.query('create extension vector');
    await pool.query('create table items (id int primary key, embedding vector(3))');
    await pool.query("insert into items values (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0,0,1]')");
    await pool.query('create index on items using hnsw (embedding vector_cosine_ops)');
    const { rows } = await pool.query<{ id: number }>(
      "select id from items order by embedding <=> '[0.1,0.9,0]' limit 1",
    );
    expect(rows).toEqual([{ id: 2 }]);
    const version = await pool.query<{ extversion: string }>(
      "select extversion from pg_extension where extname = 'vector'",
    );
    expect(version.rows[0]?.extversion).toMatch(/^0\.[89]|^[1-9]/);
  });

  it('refuses loudly when the named installation has no pgvector', () => {
    expect(() => findPgvectorBinDir('/nonexistent/bin')).toThrow(PgvectorServerMissingError);
    expect(() => findPgvectorBinDir('/nonexistent/bin')).toThrow(/install-postgres\.sh/);
  });
});

describe('startPostgresServer({ pgvector: false })', () => {
  it('starts a server without the vector extension, for tests of that case', async () => {
    const server = await startPostgresServer({ pgvector: false });
    try {
      expect(server.pgvector).toBe(false);
      const pool = server.pool(undefined, { max: 1 });
      const { rows } = await pool.query(
        "select count(*)::int as n from pg_available_extensions where name = 'vector'",
      );
      expect(rows[0]?.n).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
