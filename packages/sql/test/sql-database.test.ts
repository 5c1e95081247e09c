import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPg } from '../src/index.js';

describe('fromPg', () => {
  let server: PostgresServer;
  let database: string;
  beforeAll(async () => {
    server = await startPostgresServer();
    database = await server.createDatabase();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('runs transactions on a single pg.Client, committing and rolling back', async () => {
    const client = new pg.Client({ connectionString: server.connectionString(database) });
    await client.connect();
    try {
      const db = fromPg(client);
      await db.exec('create table client_items (n int)');
      await db.transaction(async (tx) => {
        await tx.query('insert into client_items values ($1)', [1]);
      });
      await expect(
        db.transaction(async (tx) => {
          await tx.query('insert into client_items values ($1)', [2]);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const { rows } = await db.query<{ n: number }>('select n from client_items order by n');
      expect(rows).toEqual([{ n: 1 }]);
    } finally {
      await client.end();
    }
  });

  it('runs each transaction of a pg.Pool on its own connection', async () => {
    const pool = server.pool(database, { max: 4 });
    const db = fromPg(pool);
    await db.exec('create table pool_items (pid int)');
    await Promise.all(
      Array.from({ length: 4 }, () =>
        db.transaction(async (tx) => {
          await tx.query('insert into pool_items select pg_backend_pid()');
          await tx.query('select pg_sleep(0.05)');
        }),
      ),
    );
    const { rows } = await db.query<{ backends: number }>(
      'select count(distinct pid)::int as backends from pool_items',
    );
    expect(rows[0]?.backends).toBeGreaterThan(1);
  });
});
