// 0019_repository_functions on PGlite: the reads and batch writes that used to be table queries in
// the adapters, as RPCs. Invoker rights, so row level security decides what each role sees; keyset
// pages cover every connector once; batch calls refuse what they must.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollback, type SqlDatabase } from '../src/index.js';
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
async function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected the statement to fail');
}

describe('list_connectors / get_sync_run / stores_embeddings', () => {
  it('pages every connector exactly once in (org, created, id) order, filtered, and only visible ones', async () => {
    const t = await seedTenancy(db);
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push(await insertConnector(db, t.orgA, { name: `A ${i}` }));
    await insertConnector(db, t.orgA, { type: 'notion', name: 'A notion' });
    const theirs = await insertConnector(db, t.orgB, { name: 'B' });

    const pages: string[][] = [];
    let after: string | null = null;
    for (;;) {
      const page: { id: string }[] = await call<{ id: string }>(
        service,
        `select id from public.list_connectors(p_org_id => $1, p_connector_type => 'google_drive', p_after => $2, p_limit => 2)`,
        [t.orgA, after],
      );
      pages.push(page.map((row) => row.id));
      if (page.length < 2) break;
      after = page.at(-1)?.id ?? null;
    }
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    // Connectors created in the same instant tie on created_at and are ordered by id.
    const ordered = await call<{ id: string }>(
      service,
      `select id from public.connector_configs where id = any($1) order by org_id, created_at, id`,
      [mine],
    );
    expect(pages.flat()).toEqual(ordered.map((row) => row.id));
    expect([...pages.flat()].sort()).toEqual([...mine].sort());

    const asMember = await call<{ id: string }>(user(t.memberA), 'select id from public.list_connectors()');
    expect(asMember.map((row) => row.id)).toHaveLength(6);
    expect(asMember.map((row) => row.id)).not.toContain(theirs);
    expect(
      await call(user(t.memberA), 'select id from public.list_connectors(p_connector_id => $1)', [theirs]),
    ).toEqual([]);

    expect((await failure(call(service, 'select * from public.list_connectors(p_limit => 0)'))).code).toBe(
      '22023',
    );
    expect(
      (await failure(call(service, 'select * from public.list_connectors(p_after => $1)', [randomUUID()])))
        .code,
    ).toBe('P0002');
  });

  it('returns a sync run to its organisation only, with bytes as a number', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const [started] = await call<{ sync_log_id: string }>(
      service,
      'select sync_log_id from public.start_connector_sync($1)',
      [connector],
    );
    const runId = started?.sync_log_id;
    const [run] = await call<{ id: string; status: string; bytes_transferred: number }>(
      user(t.memberA),
      'select * from public.get_sync_run($1)',
      [runId],
    );
    expect(run).toMatchObject({ id: runId, status: 'running', bytes_transferred: 0 });
    expect(await call(user(t.memberB), 'select * from public.get_sync_run($1)', [runId])).toEqual([]);
  });

  it('says the embedding column exists', async () => {
    const [row] = await call<{ stores: boolean }>(
      user(randomUUID()),
      'select public.stores_embeddings() as stores',
    );
    expect(row?.stores).toBe(true);
  });
});

describe('upload batch RPCs', () => {
  it('creates, attaches, cancels once, and finds stale batches; refuses what it must', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA, { type: 'upload' });
    // A member creates a batch for themselves (RLS: their org, their user id, fresh counters).
    const [batch] = await call<{ id: string; status: string; connector_id: string | null }>(
      user(t.memberA),
      `select * from public.create_upload_batch($1, $2, null, 'Q3', 3, '{"source":"web"}')`,
      [t.orgA, t.memberA],
    );
    expect(batch).toMatchObject({ status: 'uploading', connector_id: null });
    const refused = await failure(
      call(user(t.memberA), `select * from public.create_upload_batch($1, $2, null, 'x', 1)`, [
        t.orgB,
        t.memberA,
      ]),
    );
    expect(refused.code).toBe('42501');

    // Attaching is the server's: a member's update matches no row, so the batch is "not found".
    expect(
      (
        await failure(
          call(user(t.memberA), 'select * from public.attach_upload_batch_connector($1, $2)', [
            batch?.id,
            connector,
          ]),
        )
      ).code,
    ).toBe('P0002');
    const [attached] = await call<{ connector_id: string }>(
      service,
      'select * from public.attach_upload_batch_connector($1, $2)',
      [batch?.id, connector],
    );
    expect(attached?.connector_id).toBe(connector);
    expect(
      (
        await failure(
          call(service, 'select * from public.attach_upload_batch_connector($1, $2)', [
            randomUUID(),
            connector,
          ]),
        )
      ).code,
    ).toBe('P0002');

    const stale = await call<{ id: string }>(
      service,
      'select id from public.find_stale_upload_batches($1, $2)',
      [new Date(Date.now() + 60_000).toISOString(), t.orgA],
    );
    expect(stale.map((row) => row.id)).toContain(batch?.id);
    expect(
      (await failure(call(service, 'select * from public.find_stale_upload_batches(now(), null, 0)'))).code,
    ).toBe('22023');

    const [cancelled] = await call<{ status: string; completed_at: Date }>(
      service,
      'select * from public.cancel_upload_batch($1)',
      [batch?.id],
    );
    expect(cancelled?.status).toBe('cancelled');
    // A second cancel returns the ended batch unchanged.
    const [again] = await call<{ status: string; completed_at: Date }>(
      service,
      'select * from public.cancel_upload_batch($1)',
      [batch?.id],
    );
    expect(again).toEqual(cancelled);
    expect(await call(service, 'select * from public.get_upload_batch($1)', [randomUUID()])).toEqual([]);
    expect(
      (await call<{ id: string }>(user(t.memberB), 'select * from public.get_upload_batch($1)', [batch?.id]))
        .length,
    ).toBe(0);
  });
});

describe('0019 rollback', () => {
  it('drops the functions and nothing else', async () => {
    const scratch = await createMigratedPglite();
    try {
      await rollback(scratch.db, { to: '0018_permission_aware_search' });
      const { rows } = await scratch.db.query<{ n: number }>(
        `select count(*)::int as n from pg_proc where pronamespace = 'public'::regnamespace
           and proname in ('list_connectors', 'get_sync_run', 'stores_embeddings', 'create_upload_batch')`,
      );
      expect(rows[0]?.n).toBe(0);
      expect(await scratch.db.query('select count(*) from public.file_upload_batches')).toBeTruthy();
    } finally {
      await scratch.pglite.close();
    }
  });
});
