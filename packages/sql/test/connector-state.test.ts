// The state store of 0009_connector_state.sql on PGlite: state changes commit with the cursor or
// not at all, only under the run's lease; reads by keys and by keyset pages; clearing a namespace;
// the connector's deletion takes its state; members read, nobody but the service role writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../src/index.js';
import {
  type Actor,
  actAs,
  createMigratedPglite,
  insertConnector,
  seedTenancy,
} from './support/schema-database.js';

let context: Awaited<ReturnType<typeof createMigratedPglite>>;
let db: SqlDatabase;

beforeAll(async () => {
  context = await createMigratedPglite();
  db = context.db;
});
afterAll(async () => {
  await context?.pglite.close();
});

const service: Actor = { role: 'service_role' };
const user = (userId: string): Actor => ({ role: 'authenticated', userId });

async function call<Row = Record<string, unknown>>(
  actor: Actor,
  sql: string,
  params: readonly unknown[] = [],
) {
  return actAs(db, actor, async (tx) => (await tx.query<Row>(sql, params)).rows, { commit: true });
}

async function sqlStateOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

async function startRun(connectorId: string): Promise<string> {
  const [row] = await call<{ sync_log_id: string }>(
    service,
    'select sync_log_id from public.start_connector_sync($1)',
    [connectorId],
  );
  return row!.sync_log_id;
}

const commit = (
  run: string,
  cursor: unknown,
  upserts: unknown[] = [],
  deletes: unknown[] = [],
  clear: string[] = [],
) =>
  call(
    service,
    'select public.commit_sync_checkpoint_with_state($1, $2::jsonb, $3::jsonb, $4::jsonb, $5::text[])',
    [run, JSON.stringify(cursor), JSON.stringify(upserts), JSON.stringify(deletes), clear],
  );

async function stateOf(connectorId: string): Promise<Record<string, unknown>> {
  const { rows } = await db.query<{ namespace: string; key: string; value: unknown }>(
    'select namespace, key, value from public.connector_state where connector_id = $1 order by namespace, key',
    [connectorId],
  );
  return Object.fromEntries(rows.map((row) => [`${row.namespace}/${row.key}`, row.value]));
}

async function cursorOf(connectorId: string): Promise<unknown> {
  const { rows } = await db.query<{ sync_cursor: unknown }>(
    'select sync_cursor from public.connector_configs where id = $1',
    [connectorId],
  );
  return rows[0]?.sync_cursor;
}

describe('commit_sync_checkpoint_with_state', () => {
  it('writes clears, deletes, upserts and the cursor together, JSON null values included', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const run = await startRun(connector);
    await commit(run, { page: 1 }, [
      { namespace: 'folders', key: 'a', value: { name: 'A' } },
      { namespace: 'folders', key: 'b', value: { name: 'B' } },
      { namespace: 'queue', key: '1', value: null },
    ]);
    expect(await stateOf(connector)).toEqual({
      'folders/a': { name: 'A' },
      'folders/b': { name: 'B' },
      'queue/1': null,
    });
    await commit(
      run,
      { page: 2 },
      [
        { namespace: 'folders', key: 'b', value: { name: 'B2' } },
        { namespace: 'queue', key: '2', value: 2 },
      ],
      [{ namespace: 'folders', key: 'a' }],
      ['queue'],
    );
    // The clear ran before the upsert of queue/2, the delete removed folders/a.
    expect(await stateOf(connector)).toEqual({ 'folders/b': { name: 'B2' }, 'queue/2': 2 });
    expect(await cursorOf(connector)).toEqual({ page: 2 });
  });

  it('writes nothing when the lease is lost, when the input is bad, or when the cursor is too big', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const run = await startRun(connector);
    await commit(run, { page: 1 }, [{ namespace: 'folders', key: 'a', value: 1 }]);

    const duplicate = [
      { namespace: 'folders', key: 'x', value: 1 },
      { namespace: 'folders', key: 'x', value: 2 },
    ];
    expect(await sqlStateOf(commit(run, { page: 2 }, duplicate))).toBe('22023');
    expect(await sqlStateOf(commit(run, { page: 2 }, [{ namespace: 'folders', key: 'y' }]))).toBe('22023');
    expect(await sqlStateOf(commit(run, { page: 2 }, [{ namespace: '', key: 'y', value: 1 }]))).toBe('22023');
    expect(
      await sqlStateOf(commit(run, { big: 'x'.repeat(70_000) }, [{ namespace: 'f', key: 'y', value: 1 }])),
    ).toBe('22023');
    const bigValue = [{ namespace: 'f', key: 'y', value: 'x'.repeat(70_000) }];
    expect(await sqlStateOf(commit(run, { page: 2 }, bigValue))).toBe('22023');

    await db.query(
      `update public.connector_sync_logs set lease_expires_at = now() - interval '1 second' where id = $1`,
      [run],
    );
    expect(
      await sqlStateOf(
        commit(run, { page: 3 }, [{ namespace: 'folders', key: 'b', value: 2 }], [], ['folders']),
      ),
    ).toBe('55000');
    expect(await stateOf(connector)).toEqual({ 'folders/a': 1 });
    expect(await cursorOf(connector)).toEqual({ page: 1 });
  });

  it('is for the service role only, and the state goes with its connector', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const run = await startRun(connector);
    const asOwner = actAs(db, user(t.ownerA), (tx) =>
      tx.query("select public.commit_sync_checkpoint_with_state($1, '{}'::jsonb)", [run]),
    );
    expect(await sqlStateOf(asOwner)).toBe('42501');
    await commit(run, {}, [{ namespace: 'n', key: 'k', value: 1 }]);
    await db.query('delete from public.connector_configs where id = $1', [connector]);
    const { rows } = await db.query('select 1 from public.connector_state where connector_id = $1', [
      connector,
    ]);
    expect(rows).toEqual([]);
  });
});

describe('get_connector_state / list_connector_state', () => {
  it('read by keys and page through a namespace in byte order, with a prefix; members read their org only', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const run = await startRun(connector);
    // Byte order: upper case before lower case, 'é' after 'z'.
    const keys = ['b', 'a/1', 'a/2', 'Z', 'é', 'z', 'a/10'];
    await commit(
      run,
      {},
      keys.map((key, index) => ({ namespace: 'files', key, value: index })),
    );
    await commit(run, {}, [{ namespace: 'other', key: 'a/1', value: 'other' }]);

    const got = await call<{ key: string; value: number }>(
      service,
      'select * from public.get_connector_state($1, $2, $3::text[]) order by key',
      [connector, 'files', ['a/1', 'z', 'missing']],
    );
    expect(got).toEqual([
      { key: 'a/1', value: 1 },
      { key: 'z', value: 5 },
    ]);

    const pages: string[][] = [];
    let after: string | null = null;
    for (;;) {
      const page: { key: string }[] = await call<{ key: string }>(
        service,
        'select key from public.list_connector_state($1, $2, $3, 3)',
        [connector, 'files', after],
      );
      if (page.length === 0) break;
      pages.push(page.map((row) => row.key));
      after = page[page.length - 1]!.key;
    }
    expect(pages).toEqual([['Z', 'a/1', 'a/10'], ['a/2', 'b', 'z'], ['é']]);
    const prefixed = await call<{ key: string }>(
      service,
      "select key from public.list_connector_state($1, 'files', 'a/1', 10, 'a/')",
      [connector],
    );
    expect(prefixed.map((row) => row.key)).toEqual(['a/10', 'a/2']);

    const asMember = await call<{ key: string }>(
      user(t.memberA),
      "select key from public.get_connector_state($1, 'files', array['b'])",
      [connector],
    );
    expect(asMember).toEqual([{ key: 'b' }]);
    const asOtherOrg = await call(user(t.memberB), "select * from public.list_connector_state($1, 'files')", [
      connector,
    ]);
    expect(asOtherOrg).toEqual([]);
    const memberWrite = actAs(db, user(t.ownerA), (tx) =>
      tx.query("update public.connector_state set value = '0' where connector_id = $1", [connector]),
    );
    expect(await sqlStateOf(memberWrite)).toBe('42501');
  });

  it('refuses oversized batches and page sizes', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const keys = Array.from({ length: 1001 }, (_, index) => String(index));
    expect(
      await sqlStateOf(
        call(service, "select * from public.get_connector_state($1, 'n', $2::text[])", [connector, keys]),
      ),
    ).toBe('22023');
    expect(
      await sqlStateOf(
        call(service, "select * from public.list_connector_state($1, 'n', null, 1001)", [connector]),
      ),
    ).toBe('22023');
  });
});
