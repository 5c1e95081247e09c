// 0011_connector_management on PGlite: the connector RPCs (create, update, delete, status) under row
// level security, the secrets RPCs' refusals, the envelope columns, key rotation pages, and the
// migration's rollback (refused while encrypted secrets exist).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, rollback, type SqlDatabase } from '../src/index.js';
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
const secretsRow = async (connector: string) =>
  (await db.query('select * from tributary_private.connector_secrets where connector_id = $1', [connector]))
    .rows[0];

describe('create_connector / update_connector / delete_connector / get_connector_status', () => {
  it('lets admins create and change connectors, members only read, and validates the type rule', async () => {
    const t = await seedTenancy(db);
    const [created] = await call<{
      id: string;
      connector_type: string;
      next_sync_at: Date | null;
      created_by: string;
    }>(
      user(t.adminA),
      `select * from public.create_connector($1, 'json_feed', 'Feed', '{"url": "https://x.test"}', null, null, 'daily')`,
      [t.orgA],
    );
    expect(created).toMatchObject({ connector_type: 'json_feed', created_by: t.adminA });
    expect(created?.next_sync_at).toBeInstanceOf(Date);
    const id = created?.id as string;

    const dash = await failure(
      call(service, "select public.create_connector($1, 'json-feed', 'Feed')", [t.orgA]),
    );
    expect(dash).toMatchObject({ code: '22023' });
    expect(dash.message).toMatch(/connector type 'json-feed' is not valid/);
    const member = await failure(
      call(user(t.memberA), "select public.create_connector($1, 'notion', 'N')", [t.orgA]),
    );
    expect(member.code).toBe('42501');
    const outsider = await failure(
      call(user(t.memberB), "select public.create_connector($1, 'notion', 'N')", [t.orgA]),
    );
    expect(outsider.code).toBe('42501');

    const [updated] = await call<{
      name: string;
      settings: unknown;
      sync_frequency: string;
      next_sync_at: Date | null;
    }>(
      user(t.ownerA),
      `select * from public.update_connector($1, '{"name": "Renamed", "settings": {"url": "https://y.test"}, "sync_frequency": "manual"}')`,
      [id],
    );
    expect(updated).toEqual(
      expect.objectContaining({
        name: 'Renamed',
        settings: { url: 'https://y.test' },
        sync_frequency: 'manual',
        next_sync_at: null,
      }),
    );
    const unknownKey = await failure(
      call(service, `select public.update_connector($1, '{"connector_type": "x"}')`, [id]),
    );
    expect(unknownKey).toMatchObject({ code: '22023' });
    expect(unknownKey.message).toMatch(/cannot change connector_type/);
    expect(
      (await failure(call(user(t.memberA), `select public.update_connector($1, '{"name": "m"}')`, [id])))
        .code,
    ).toBe('42501');
    expect(
      (await failure(call(user(t.memberB), `select public.update_connector($1, '{"name": "m"}')`, [id])))
        .code,
    ).toBe('P0002');
  });

  it('reports status with document counts and the last run, and deletes with a count of soft-deleted documents', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    await db.query(
      `insert into public.imported_documents (org_id, connector_id, external_id, processing_status, chunk_count)
       values ($1, $2, 'a', 'completed', 3), ($1, $2, 'b', 'failed', 0)`,
      [t.orgA, connector],
    );
    const [run] = await call<{ sync_log_id: string }>(
      service,
      'select * from public.start_connector_sync($1)',
      [connector],
    );
    const [status] = await call(user(t.memberA), 'select * from public.get_connector_status($1)', [
      connector,
    ]);
    expect(status).toMatchObject({
      live_documents: 2,
      completed_documents: 1,
      failed_documents: 1,
      has_credentials: false,
      last_run: expect.objectContaining({ id: run?.sync_log_id, status: 'running' }),
    });

    const busy = await failure(call(service, 'select * from public.delete_connector($1)', [connector]));
    expect(busy).toMatchObject({ code: '55000' });
    await call(service, "select public.finish_connector_sync($1, 'success')", [run?.sync_log_id]);
    expect(
      (await failure(call(user(t.memberA), 'select * from public.delete_connector($1)', [connector]))).code,
    ).toBe('42501');
    const [removed] = await call(user(t.adminA), 'select * from public.delete_connector($1)', [connector]);
    expect(removed).toEqual({ connector_id: connector, documents_deleted: 2 });
    const documents = await db.query<{ is_deleted: boolean }>(
      'select is_deleted from public.imported_documents where connector_id is null and org_id = $1',
      [t.orgA],
    );
    expect(documents.rows.map((row) => row.is_deleted)).toEqual([true, true]);
    expect(
      (await failure(call(service, 'select * from public.get_connector_status($1)', [connector]))).code,
    ).toBe('P0002');
  });
});

describe('secrets RPCs', () => {
  it('refuse null and unknown connectors, non-object credentials and empty calls', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const cases: Array<[string, unknown[], string, RegExp]> = [
      ["select public.set_connector_secrets(null, '{}')", [], '22004', /connector id is null/],
      [`select public.set_connector_secrets($1, '{"a": 1}')`, [randomUUID()], 'P0002', /not found/],
      [
        `select public.set_connector_secrets($1, '"token"')`,
        [connector],
        '22023',
        /must be a JSON object, not string/,
      ],
      [`select public.set_connector_secrets($1, '[1]')`, [connector], '22023', /not array/],
      ['select public.set_connector_secrets($1)', [connector], '22004', /nothing to store/],
      ['select * from public.get_connector_secrets(null)', [], '22004', /connector id is null/],
      ['select * from public.get_connector_secrets($1)', [randomUUID()], 'P0002', /not found/],
      [
        `select public.put_connector_secrets($1, '{"credentials": 5}')`,
        [connector],
        '22023',
        /JSON object, not number/,
      ],
      [
        `select public.put_connector_secrets($1, '{"token": "x"}')`,
        [connector],
        '22023',
        /unknown secret fields: token/,
      ],
      [
        `select public.put_connector_secrets($1, '{"credentials_ciphertext": "x"}')`,
        [connector],
        '22023',
        /needs key_id/,
      ],
    ];
    for (const [sql, params, code, message] of cases) {
      const error = await failure(call(service, sql, params));
      expect({ sql, code: error.code }).toEqual({ sql, code });
      expect(error.message).toMatch(message);
    }
    expect(await secretsRow(connector)).toBeUndefined();
  });

  it('store ciphertext in place of plaintext, clear a secret, and guard against concurrent writers', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const [empty] = await call(service, 'select * from public.get_connector_secrets($1)', [connector]);
    expect(empty).toMatchObject({ org_id: t.orgA, revision: 0, credentials: null, wrapped_data_key: null });

    await call(service, `select public.set_connector_secrets($1, '{"token": "legacy"}', 'whsec')`, [
      connector,
    ]);
    const envelope = {
      key_id: 'k1',
      wrapped_data_key: 'd2s=',
      credentials_ciphertext: 'Y3Q=',
      expected_revision: 1,
    };
    const [{ revision } = { revision: 0 }] = await call<{ revision: number }>(
      service,
      'select public.put_connector_secrets($1, $2) as revision',
      [connector, JSON.stringify(envelope)],
    );
    expect(revision).toBe(2);
    expect(await secretsRow(connector)).toMatchObject({
      credentials: null,
      credentials_ciphertext: 'Y3Q=',
      webhook_secret: 'whsec',
      key_id: 'k1',
    });
    const stale = await failure(
      call(service, 'select public.put_connector_secrets($1, $2)', [connector, JSON.stringify(envelope)]),
    );
    expect(stale.code).toBe('40001');

    await call(
      service,
      `select public.put_connector_secrets($1, '{"credentials": null, "webhook_secret": null}')`,
      [connector],
    );
    expect(await secretsRow(connector)).toMatchObject({
      credentials: null,
      credentials_ciphertext: null,
      webhook_secret: null,
      key_id: null,
      wrapped_data_key: null,
    });
    const [status] = await call(service, 'select has_credentials from public.get_connector_status($1)', [
      connector,
    ]);
    expect(status).toEqual({ has_credentials: false });
    for (const role of [user(t.ownerA), { role: 'anon' } as Actor]) {
      expect(
        (
          await failure(
            call(role, `select public.put_connector_secrets($1, '{"webhook_secret": "x"}')`, [connector]),
          )
        ).code,
      ).toBe('42501');
      expect(
        (await failure(call(role, 'select * from public.list_connector_secrets_to_rotate($1)', ['k2']))).code,
      ).toBe('42501');
      expect((await failure(call(role, `select public.rewrap_connector_secrets('[]')`))).code).toBe('42501');
    }
  });

  it('lists rows to rotate page by page and rewraps only rows whose revision did not move', async () => {
    const t = await seedTenancy(db);
    const ids = [
      await insertConnector(db, t.orgA),
      await insertConnector(db, t.orgA),
      await insertConnector(db, t.orgA),
    ].sort();
    const put = (id: string, secrets: object) =>
      call(service, 'select public.put_connector_secrets($1, $2)', [id, JSON.stringify(secrets)]);
    await put(ids[0] as string, { key_id: 'old', wrapped_data_key: 'AA==', credentials_ciphertext: 'AQ==' });
    await put(ids[1] as string, { key_id: 'new', wrapped_data_key: 'AA==', credentials_ciphertext: 'AQ==' });
    await call(service, `select public.set_connector_secrets($1, '{"legacy": true}')`, [ids[2]]);
    const listed = async (after: string | null) =>
      (
        await call<{ connector_id: string }>(
          service,
          'select connector_id from public.list_connector_secrets_to_rotate($1, $2, 1000) where connector_id = any ($3)',
          ['new', after, ids],
        )
      ).map((row) => row.connector_id);
    expect(await listed(null)).toEqual([ids[0], ids[2]]);
    expect(await listed(ids[0] as string)).toEqual([ids[2]]);

    const rows = [
      { connector_id: ids[0], expected_revision: 1, key_id: 'new', wrapped_data_key: 'BB==' },
      {
        connector_id: ids[2],
        expected_revision: 0,
        key_id: 'new',
        wrapped_data_key: 'BB==',
        credentials_ciphertext: 'Ag==',
      },
    ];
    const [first] = await call(service, 'select public.rewrap_connector_secrets($1) as updated', [
      JSON.stringify(rows),
    ]);
    expect(first).toEqual({ updated: 1 }); // ids[2] is at revision 1: skipped
    rows[1] = { ...rows[1], expected_revision: 1 } as (typeof rows)[1];
    await call(service, 'select public.rewrap_connector_secrets($1)', [JSON.stringify(rows.slice(1))]);
    expect(await listed(null)).toEqual([]);
    expect(await secretsRow(ids[2] as string)).toMatchObject({
      credentials: null,
      credentials_ciphertext: 'Ag==',
      key_id: 'new',
    });
  });
});

describe('rolling 0011 back', () => {
  it('is refused while encrypted secrets exist, and restores the 0004 functions otherwise', async () => {
    const fresh = await createMigratedPglite();
    try {
      const t = await seedTenancy(fresh.db);
      const connector = await insertConnector(fresh.db, t.orgA);
      await fresh.db.query(
        `select public.put_connector_secrets($1, '{"key_id": "k", "wrapped_data_key": "AA==", "webhook_secret_ciphertext": "AQ=="}')`,
        [connector],
      );
      const migrations = await loadMigrations();
      // Back to the migration before 0011 (later ones are rolled back first, in one transaction).
      const index = migrations.findIndex((migration) => migration.name === '0011_connector_management');
      const to = migrations[index - 1]?.name as string;
      const later = migrations.slice(index).map((migration) => migration.name);
      const refused = await failure(rollback(fresh.db, { migrations, to }));
      expect(refused.message).toMatch(/stored encrypted; rolling back 0011 would lose them/);
      await fresh.db.query(`select public.put_connector_secrets($1, '{"webhook_secret": "plain"}')`, [
        connector,
      ]);
      const result = await rollback(fresh.db, { migrations, to });
      expect(result.rolledBack.map((entry) => entry.name)).toEqual([...later].reverse());
      const { rows } = await fresh.db.query('select * from public.get_connector_secrets($1)', [connector]);
      expect(rows).toEqual([{ credentials: null, webhook_secret: 'plain', updated_at: expect.any(Date) }]);
      expect((await migrate(fresh.db)).applied.map((entry) => entry.name)).toEqual(later);
    } finally {
      await fresh.pglite.close();
    }
  });
});
