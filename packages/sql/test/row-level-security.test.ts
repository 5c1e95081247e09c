// Row level security matrix on PGlite: every actor x every table x select / insert / update / delete,
// asserting exactly which rows each one reaches, plus the routes to secrets and the member RPCs.
// The world (rows of BOTH organisations in every table) is seeded once as the superuser; every
// statement under test runs through actAs, which rolls back, so cells never see each other's writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ActorName,
  actorNames,
  bucketId,
  type Org,
  otherBucketId,
  type RlsWorld,
  secretValues,
  seedRlsWorld,
  type TableName,
} from './support/rls-fixtures.js';
import { actAs, createMigratedPglite } from './support/schema-database.js';

// ---------------------------------------------------------------------------------------------
// The matrix. Row outcomes: 'A' / 'B' = every seeded row of that organisation in the table,
// 'all' = every seeded row (including the other bucket's object), 'none' = no row and no error,
// a list = exactly those rows, 'denied' = the statement fails with SQLSTATE 42501.
// Insert outcomes: the organisations an insert succeeds in; every other attempt fails with 42501.
// ---------------------------------------------------------------------------------------------
type Rows = 'A' | 'B' | 'all' | 'none' | readonly string[];
type Outcome = Rows | 'denied';
type InsertOutcome = 'A' | 'B' | 'AB' | 'none';
type Cell = readonly [select: Outcome, insert: InsertOutcome, update: Outcome, remove: Outcome];

const D = 'denied';
const readOnly = (own: 'A' | 'B' | 'none'): Cell => [own, 'none', D, D];
const serviceRole: Cell = ['all', 'AB', 'all', 'all'];
const privateTable: Record<ActorName, Cell> = {
  anon: [D, 'none', D, D],
  ownerA: [D, 'none', D, D],
  adminA: [D, 'none', D, D],
  memberA: [D, 'none', D, D],
  memberB: [D, 'none', D, D],
  outsider: [D, 'none', D, D],
  service_role: serviceRole,
};

const matrix: Record<TableName, Record<ActorName, Cell>> = {
  // Members read; owners/admins of the org insert, update, delete.
  'public.connector_configs': {
    anon: [D, 'none', D, D],
    ownerA: ['A', 'A', 'A', 'A'],
    adminA: ['A', 'A', 'A', 'A'],
    memberA: ['A', 'none', 'none', 'none'],
    memberB: ['B', 'none', 'none', 'none'],
    outsider: ['none', 'none', 'none', 'none'],
    service_role: serviceRole,
  },
  // Members read; owners/admins delete any of their org, a member what they uploaded; only the
  // service role inserts or updates. Nobody deletes docAFormer but owners/admins (its uploader left).
  'public.imported_documents': {
    anon: [D, 'none', D, D],
    ownerA: ['A', 'none', D, 'A'],
    adminA: ['A', 'none', D, 'A'],
    memberA: ['A', 'none', D, ['docAMember']],
    memberB: ['B', 'none', D, ['docBMember']],
    outsider: ['none', 'none', D, 'none'],
    service_role: serviceRole,
  },
  'public.document_chunks': {
    anon: [D, 'none', D, D],
    ownerA: readOnly('A'),
    adminA: readOnly('A'),
    memberA: readOnly('A'),
    memberB: readOnly('B'),
    outsider: readOnly('none'),
    service_role: serviceRole,
  },
  'public.connector_sync_logs': {
    anon: [D, 'none', D, D],
    ownerA: readOnly('A'),
    adminA: readOnly('A'),
    memberA: readOnly('A'),
    memberB: readOnly('B'),
    outsider: readOnly('none'),
    service_role: serviceRole,
  },
  // State may hold source ids and names, never secrets: members read, only the service role writes.
  'public.connector_state': {
    anon: [D, 'none', D, D],
    ownerA: readOnly('A'),
    adminA: readOnly('A'),
    memberA: readOnly('A'),
    memberB: readOnly('B'),
    outsider: readOnly('none'),
    service_role: serviceRole,
  },
  'public.connector_webhook_events': {
    anon: [D, 'none', D, D],
    ownerA: readOnly('A'),
    adminA: readOnly('A'),
    memberA: readOnly('A'),
    memberB: readOnly('B'),
    outsider: readOnly('none'),
    service_role: serviceRole,
  },
  // Members read and create batches of their org (as themselves, 'uploading', zero counts).
  // UPDATE is granted without a policy (so the increment RPCs can explain a refusal): updates
  // touch no row.
  'public.file_upload_batches': {
    anon: [D, 'none', D, D],
    ownerA: ['A', 'A', 'none', D],
    adminA: ['A', 'A', 'none', D],
    memberA: ['A', 'A', 'none', D],
    memberB: ['B', 'B', 'none', D],
    outsider: ['none', 'none', 'none', D],
    service_role: serviceRole,
  },
  // connector-imports only: members read/upload in their org folder; owners/admins update and
  // delete anything in it, a member only objects whose owner_id is them. objAForeign (owner
  // memberB, in org A's folder) is out of memberB's reach. The anon grant exists (as on Supabase)
  // but no policy.
  'storage.objects': {
    anon: ['none', 'none', 'none', 'none'],
    ownerA: ['A', 'A', 'A', 'A'],
    adminA: ['A', 'A', 'A', 'A'],
    memberA: ['A', 'A', ['objAMember'], ['objAMember']],
    memberB: ['B', 'B', ['objBMember'], ['objBMember']],
    outsider: ['none', 'none', 'none', 'none'],
    service_role: serviceRole,
  },
  'tributary_private.memberships': privateTable,
  'tributary_private.connector_secrets': privateTable,
  // Install facts are written by the migrations; the service role may only read them.
  'tributary_private.install_facts': { ...privateTable, service_role: ['all', 'none', D, D] },
};

const operations = ['select', 'insert', 'update', 'delete'] as const;
type Operation = (typeof operations)[number];

interface MatrixCase {
  table: TableName;
  actor: ActorName;
  operation: Operation;
  expected: Outcome | InsertOutcome;
  label: string;
}

function describeOutcome(expected: Outcome | InsertOutcome, operation: Operation): string {
  if (expected === 'denied') return 'denied (42501)';
  if (operation === 'insert') return expected === 'none' ? 'denied (42501)' : `allowed in org ${expected}`;
  if (Array.isArray(expected)) return `only ${expected.join(', ')}`;
  return expected === 'none' ? 'no rows' : expected === 'all' ? 'all rows' : `org ${expected} rows`;
}

const cases: MatrixCase[] = Object.entries(matrix).flatMap(([table, byActor]) =>
  actorNames.flatMap((actor) =>
    operations.map((operation, index) => {
      const expected = byActor[actor][index] as Outcome | InsertOutcome;
      return {
        table: table as TableName,
        actor,
        operation,
        expected,
        label: describeOutcome(expected, operation),
      };
    }),
  ),
);

// ---------------------------------------------------------------------------------------------

function sqlState(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

async function expectSqlState(promise: Promise<unknown>, code: string): Promise<void> {
  let outcome: unknown = 'no error';
  try {
    outcome = await promise;
  } catch (error) {
    expect(sqlState(error), String((error as Error).message)).toBe(code);
    return;
  }
  expect.fail(`expected SQLSTATE ${code}, but the statement succeeded: ${JSON.stringify(outcome)}`);
}

const clientActors: readonly ActorName[] = actorNames.filter((name) => name !== 'service_role');

describe('row level security on PGlite', () => {
  let context: Awaited<ReturnType<typeof createMigratedPglite>>;
  let world: RlsWorld;

  beforeAll(async () => {
    context = await createMigratedPglite();
    world = await seedRlsWorld(context.db);
  });
  afterAll(async () => {
    await context?.pglite.close();
  });

  function expectedNames(table: TableName, rows: Rows): string[] {
    const seeded = Object.entries(world.rows[table]);
    if (Array.isArray(rows)) return [...rows].sort();
    if (rows === 'none') return [];
    return seeded
      .filter(([, row]) => rows === 'all' || row.org === rows)
      .map(([name]) => name)
      .sort();
  }

  function namesOf(table: TableName, keys: readonly string[]): string[] {
    const byKey = new Map(Object.entries(world.rows[table]).map(([name, row]) => [row.key, name]));
    return keys.map((key) => byKey.get(key) ?? `unexpected row ${key}`).sort();
  }

  const as = <T>(actor: ActorName, fn: Parameters<typeof actAs<T>>[2], options?: { commit?: boolean }) =>
    actAs<T>(context.db, world.actor(actor), fn, options);

  describe('the matrix: actor x table x operation', () => {
    it('covers every actor, table and operation', () => {
      expect(cases).toHaveLength(actorNames.length * Object.keys(matrix).length * operations.length);
    });

    it.each(cases)('$table: $actor $operation -> $label', async ({ table, actor, operation, expected }) => {
      const spec = world.tables[table];
      if (operation === 'insert') {
        for (const org of ['A', 'B'] as const satisfies readonly Org[]) {
          const { sql, params } = spec.insert(org);
          const attempt = as(actor, async (tx) => (await tx.query<{ id: string }>(sql, params)).rows);
          if (expected === 'AB' || expected === org) {
            const rows = await attempt;
            expect(rows, `insert into org ${org}`).toHaveLength(1);
          } else {
            await expectSqlState(attempt, '42501');
          }
        }
        return;
      }
      const statement = spec[operation];
      const attempt = as(actor, async (tx) => (await tx.query<{ id: string }>(statement)).rows);
      if (expected === 'denied') {
        await expectSqlState(attempt, '42501');
        return;
      }
      const rows = await attempt;
      expect(
        namesOf(
          table,
          rows.map((row) => row.id),
        ),
      ).toEqual(expectedNames(table, expected as Rows));
    });
  });

  describe('credentials and webhook secrets', () => {
    it('no column of a public table or view is named like a credential or a secret', async () => {
      const { rows } = await context.db.query<{ column: string; type: string }>(
        `select table_name || '.' || column_name as column, data_type as type
         from information_schema.columns
         where table_schema = 'public'
           and column_name ~* '(credential|secret|password|passwd|api_?key|access_token|refresh_token|private_key)'
         order by 1`,
      );
      // Only the timestamp of the last credentials change, never the credentials themselves.
      expect(rows).toEqual([
        { column: 'connector_configs.credentials_updated_at', type: 'timestamp with time zone' },
      ]);
    });

    it('no client role holds any privilege on the private schema objects', async () => {
      const { rows } = await context.db.query<{ grant: string }>(
        `select r.rolname || ' ' || p.privilege || ' ' || c.oid::regclass::text as grant
         from pg_class c
         cross join (values ('anon'), ('authenticated')) r (rolname)
         cross join (values ('select'), ('insert'), ('update'), ('delete'), ('truncate'), ('references'), ('trigger')) p (privilege)
         where c.relnamespace = 'tributary_private'::regnamespace and c.relkind in ('r', 'v', 'm', 'p', 'f')
           and has_table_privilege(r.rolname, c.oid, p.privilege)
         order by 1`,
      );
      // 0018: the ACL rows, whose own policy shows a member only the rows naming their principals.
      expect(rows).toEqual([{ grant: 'authenticated select tributary_private.document_principals' }]);
      const usage = await context.db.query<{ anon: boolean; authenticated: boolean }>(
        `select has_schema_privilege('anon', 'tributary_private', 'usage') as anon,
                has_schema_privilege('authenticated', 'tributary_private', 'usage') as authenticated`,
      );
      // authenticated needs USAGE to call the membership functions its policies use; nothing else.
      expect(usage.rows).toEqual([{ anon: false, authenticated: true }]);
    });

    it.each(clientActors)('%s cannot read the membership view', async (actor) => {
      await expectSqlState(
        as(actor, (tx) => tx.query('select * from tributary_private.membership_source')),
        '42501',
      );
    });

    it.each(clientActors)('%s cannot execute get_connector_secrets (42501)', async (actor) => {
      await expectSqlState(
        as(actor, (tx) => tx.query('select * from public.get_connector_secrets($1)', [world.ids.connA])),
        '42501',
      );
    });

    it.each(clientActors)('%s cannot execute set_connector_secrets (42501)', async (actor) => {
      await expectSqlState(
        as(actor, (tx) =>
          tx.query(`select public.set_connector_secrets($1, '{"token": "mine"}', 'mine')`, [world.ids.connA]),
        ),
        '42501',
      );
    });

    it('service_role reads the secrets through get_connector_secrets', async () => {
      const rows = await as('service_role', async (tx) => {
        const result = await tx.query<{ credentials: unknown; webhook_secret: string }>(
          'select credentials, webhook_secret from public.get_connector_secrets($1)',
          [world.ids.connA],
        );
        return result.rows;
      });
      expect(rows).toEqual([
        { credentials: { token: secretValues.credentialsA }, webhook_secret: secretValues.webhookSecretA },
      ]);
    });

    it.each(actorNames)(
      '%s: select * on connector_configs and the stats RPC return no secret',
      async (actor) => {
        const read = as(actor, async (tx) => {
          const configs = await tx.query('select * from public.connector_configs');
          const stats = await tx.query('select * from public.get_connector_stats($1)', [world.tenancy.orgA]);
          return { configs: configs.rows, stats: stats.rows };
        });
        if (actor === 'anon') {
          await expectSqlState(read, '42501');
          return;
        }
        if (actor === 'memberB' || actor === 'outsider') {
          // Not members of org A: the stats RPC refuses; the table read alone is checked below.
          await expectSqlState(read, '42501');
        } else {
          const { configs, stats } = await read;
          expect(configs.length).toBeGreaterThan(0);
          const text = JSON.stringify({ configs, stats });
          for (const secret of Object.values(secretValues)) expect(text).not.toContain(secret);
        }
        const configs = await as(
          actor,
          async (tx) => (await tx.query('select * from public.connector_configs')).rows,
        );
        const text = JSON.stringify(configs);
        for (const secret of Object.values(secretValues)) expect(text).not.toContain(secret);
        expect(configs.every((row) => !('credentials' in row) && !('webhook_secret' in row))).toBe(true);
      },
    );
  });

  describe('function privileges', () => {
    it('anon can execute no function of public or tributary_private', async () => {
      const { rows } = await context.db.query<{ fn: string }>(
        `select p.oid::regprocedure::text as fn from pg_proc p
         where p.pronamespace in ('public'::regnamespace, 'tributary_private'::regnamespace)
           and has_function_privilege('anon', p.oid, 'execute')
         order by 1`,
      );
      expect(rows).toEqual([]);
    });

    it('authenticated can execute exactly the member RPCs and the membership checks', async () => {
      const { rows } = await context.db.query<{ fn: string }>(
        `select p.pronamespace::regnamespace::text || '.' || p.proname as fn from pg_proc p
         where p.pronamespace in ('public'::regnamespace, 'tributary_private'::regnamespace)
           and has_function_privilege('authenticated', p.oid, 'execute')
         order by 1`,
      );
      // Invoker rights (get_connector_state, list_connector_state and the 0019 repository reads and
      // batch writes): row level security limits them to the member's organisations.
      expect(rows.map((row) => row.fn).sort()).toEqual([
        'public.attach_upload_batch_connector',
        'public.cancel_upload_batch',
        'public.create_connector',
        'public.create_upload_batch',
        'public.delete_connector',
        'public.ensure_upload_connector',
        'public.find_reusable_embedding_hashes',
        'public.find_reusable_embeddings',
        'public.find_stale_upload_batches',
        'public.get_connector_state',
        'public.get_connector_stats',
        'public.get_connector_status',
        'public.get_document_versions',
        'public.get_sync_run',
        'public.get_upload_batch',
        'public.get_upload_batch_status',
        'public.increment_batch_failed',
        'public.increment_batch_processed',
        'public.list_connector_state',
        'public.list_connectors',
        'public.list_document_duplicates',
        'public.record_batch_file',
        'public.stores_embeddings',
        'public.unified_content_search',
        'public.unified_content_search_deduplicated',
        'public.update_connector',
        'public.vector_settings',
        'tributary_private.account_batch_file',
        'tributary_private.assert_org_access',
        'tributary_private.batch_metadata_with_entries',
        'tributary_private.caller_principals',
        'tributary_private.connector_org_id',
        'tributary_private.content_search',
        'tributary_private.source_mode_connector_ids',
        'tributary_private.user_org_ids',
        'tributary_private.user_org_ids_with_role',
      ]);
    });
  });

  describe('member RPCs per role', () => {
    async function batchState(batchId: string) {
      const { rows } = await context.db.query<{
        processed_files: number;
        failed_files: number;
        status: string;
      }>('select processed_files, failed_files, status from public.file_upload_batches where id = $1', [
        batchId,
      ]);
      return rows[0];
    }
    const untouched = { processed_files: 0, failed_files: 0, status: 'uploading' };

    const refusedBatchCalls: ReadonlyArray<[string, ActorName, 'batchA' | 'batchB', string]> = [
      ['increment_batch_processed', 'anon', 'batchA', '42501'],
      // Another organisation's batch is invisible: not found, as if it did not exist.
      ['increment_batch_processed', 'memberA', 'batchB', 'P0002'],
      ['increment_batch_processed', 'ownerA', 'batchB', 'P0002'],
      ['increment_batch_processed', 'outsider', 'batchA', 'P0002'],
      // Progress is recorded by the server: even the batch's own uploader cannot move it.
      ['increment_batch_processed', 'memberA', 'batchA', '42501'],
      ['increment_batch_failed', 'anon', 'batchA', '42501'],
      ['increment_batch_failed', 'memberA', 'batchB', 'P0002'],
      ['increment_batch_failed', 'memberA', 'batchA', '42501'],
    ];

    it.each(refusedBatchCalls)(
      '%s: %s on %s fails with %s and changes nothing',
      async (fn, actor, batch, code) => {
        const batchId = world.ids[batch];
        // Committed on purpose: had the call succeeded, the change would stay and be seen below.
        await expectSqlState(
          as(actor, (tx) => tx.query(`select * from public.${fn}($1)`, [batchId]), { commit: true }),
          code,
        );
        expect(await batchState(world.ids.batchA)).toEqual(untouched);
        expect(await batchState(world.ids.batchB)).toEqual(untouched);
      },
    );

    it.each([
      ['increment_batch_processed', { processed_files: 1, failed_files: 0, status: 'processing' }],
      ['increment_batch_failed', { processed_files: 1, failed_files: 1, status: 'processing' }],
    ] as const)('%s: service_role counts a file of any batch', async (fn, expected) => {
      const row = await as('service_role', async (tx) => {
        const { rows } = await tx.query<{
          id: string;
          processed_files: number;
          failed_files: number;
          status: string;
        }>(`select id, processed_files, failed_files, status from public.${fn}($1)`, [world.ids.batchB]);
        return rows[0];
      });
      expect(row).toEqual({ id: world.ids.batchB, ...expected });
    });

    const refusedStats: ReadonlyArray<[ActorName, Org]> = [
      ['anon', 'A'],
      ['outsider', 'A'],
      ['memberA', 'B'],
      ['ownerA', 'B'],
      ['memberB', 'A'],
    ];
    it.each(refusedStats)('get_connector_stats: %s on org %s fails with 42501', async (actor, org) => {
      const orgId = org === 'A' ? world.tenancy.orgA : world.tenancy.orgB;
      await expectSqlState(
        as(actor, (tx) => tx.query('select * from public.get_connector_stats($1)', [orgId])),
        '42501',
      );
    });

    const allowedStats: ReadonlyArray<[ActorName, Org, number, number, readonly string[]]> = [
      ['memberA', 'A', 2, 4, ['connA', 'connAUpload']],
      ['ownerA', 'A', 2, 4, ['connA', 'connAUpload']],
      ['memberB', 'B', 2, 2, ['connB', 'connBUpload']],
      ['service_role', 'A', 2, 4, ['connA', 'connAUpload']],
      ['service_role', 'B', 2, 2, ['connB', 'connBUpload']],
    ];
    it.each(allowedStats)(
      'get_connector_stats: %s on org %s counts only that org',
      async (actor, org, connectors, documents, connectorNames) => {
        const orgId = org === 'A' ? world.tenancy.orgA : world.tenancy.orgB;
        const stats = await as(actor, async (tx) => {
          const { rows } = await tx.query<{
            total_connectors: number;
            total_documents: number;
            connectors: { id: string }[];
          }>('select total_connectors, total_documents, connectors from public.get_connector_stats($1)', [
            orgId,
          ]);
          expect(rows).toHaveLength(1);
          return rows[0] as (typeof rows)[number];
        });
        expect(stats.total_connectors).toBe(connectors);
        expect(stats.total_documents).toBe(documents);
        expect(
          namesOf(
            'public.connector_configs',
            stats.connectors.map((connector) => connector.id),
          ),
        ).toEqual([...connectorNames].sort());
      },
    );

    it.each([
      ['anon', 'A', '42501'],
      ['memberA', 'B', '42501'],
      ['outsider', 'A', '42501'],
    ] as const)('unified_content_search: %s on org %s fails with %s', async (actor, org, code) => {
      const orgId = org === 'A' ? world.tenancy.orgA : world.tenancy.orgB;
      await expectSqlState(
        as(actor, (tx) =>
          tx.query('select * from public.unified_content_search(match_org_id => $1, query_text => $2)', [
            orgId,
            'chunk',
          ]),
        ),
        code,
      );
    });

    it.each([
      ['memberA', 'A', ['chunkA1', 'chunkA2']],
      ['memberB', 'B', ['chunkB1']],
      ['service_role', 'B', ['chunkB1']],
    ] as const)('unified_content_search: %s on org %s finds only that org', async (actor, org, chunks) => {
      const orgId = org === 'A' ? world.tenancy.orgA : world.tenancy.orgB;
      const rows = await as(actor, async (tx) => {
        const result = await tx.query<{ chunk_id: string }>(
          'select chunk_id from public.unified_content_search(match_org_id => $1, query_text => $2)',
          [orgId, 'chunk'],
        );
        return result.rows;
      });
      expect(
        namesOf(
          'public.document_chunks',
          rows.map((row) => row.chunk_id),
        ),
      ).toEqual([...chunks]);
    });
  });

  describe('write guards beyond the matrix', () => {
    const batchInsert = `insert into public.file_upload_batches
        (org_id, user_id, connector_id, total_files, processed_files, failed_files, status, completed_at)
      values ($1, $2, $3, 3, $4, $5, $6, $7) returning id`;

    it.each([
      ['for someone else', { user: 'adminA' }],
      ['already processing', { status: 'processing' }],
      ['already counted', { processed: 1 }],
      ['already finished', { status: 'completed', processed: 3, completedAt: new Date().toISOString() }],
    ] as const)('memberA cannot create a batch %s (42501)', async (_label, overrides) => {
      const values = {
        user: 'memberA',
        status: 'uploading',
        processed: 0,
        completedAt: null as string | null,
        ...overrides,
      };
      await expectSqlState(
        as('memberA', (tx) =>
          tx.query(batchInsert, [
            world.tenancy.orgA,
            world.tenancy[values.user as 'memberA' | 'adminA'],
            world.ids.connAUpload,
            values.processed,
            0,
            values.status,
            values.completedAt,
          ]),
        ),
        '42501',
      );
    });

    it("a batch never points at another organisation's connector", async () => {
      await expectSqlState(
        as('memberA', (tx) =>
          tx.query(batchInsert, [
            world.tenancy.orgA,
            world.tenancy.memberA,
            world.ids.connBUpload,
            0,
            0,
            'uploading',
            null,
          ]),
        ),
        '23503',
      );
    });

    it('an admin cannot move a connector into an organisation they do not administer (42501)', async () => {
      await expectSqlState(
        as('adminA', (tx) =>
          tx.query('update public.connector_configs set org_id = $1 where id = $2', [
            world.tenancy.orgB,
            world.ids.connA,
          ]),
        ),
        '42501',
      );
    });

    it("a member of org B cannot touch org A's connector by id (zero rows, no error)", async () => {
      const rows = await as('memberB', async (tx) => {
        const updated = await tx.query(
          `update public.connector_configs set name = 'mine' where id = $1 returning id`,
          [world.ids.connA],
        );
        const deleted = await tx.query('delete from public.connector_configs where id = $1 returning id', [
          world.ids.connA,
        ]);
        return [...updated.rows, ...deleted.rows];
      });
      expect(rows).toEqual([]);
    });

    it.each([
      ['into another bucket', otherBucketId, (orgA: string) => `${orgA}/connectors/upload/x.pdf`],
      ['at the bucket root (no org folder)', bucketId, (orgA: string) => `${orgA}`],
      ['into a folder named like no org', bucketId, () => 'connectors/upload/x.pdf'],
    ] as const)('memberA cannot upload %s (42501)', async (_label, bucket, name) => {
      await expectSqlState(
        as('memberA', (tx) =>
          tx.query(`insert into storage.objects (bucket_id, name, owner_id) values ($1, $2, $3)`, [
            bucket,
            name(world.tenancy.orgA),
            world.tenancy.memberA,
          ]),
        ),
        '42501',
      );
    });

    it("a member cannot delete another member's upload by first claiming it (owner_id)", async () => {
      const objAAdmin = world.rows['storage.objects'].objAAdmin?.key;
      const outcome = await as('memberA', async (tx) => {
        const claimed = await tx.query(
          'update storage.objects set owner_id = (select auth.uid())::text where id = $1 returning id',
          [objAAdmin],
        );
        const deleted = await tx.query('delete from storage.objects where id = $1 returning id', [objAAdmin]);
        return { claimed: claimed.rows.length, deleted: deleted.rows.length };
      });
      expect(outcome).toEqual({ claimed: 0, deleted: 0 });
    });

    it('a member cannot hand their own object to someone else (42501)', async () => {
      await expectSqlState(
        as('memberA', (tx) =>
          tx.query('update storage.objects set owner_id = $1 where id = $2', [
            world.tenancy.adminA,
            world.rows['storage.objects'].objAMember?.key,
          ]),
        ),
        '42501',
      );
    });

    it.each([
      [
        "into org B's folder",
        'name',
        (world: RlsWorld) => `${world.tenancy.orgB}/connectors/upload/moved.pdf`,
      ],
      ['into another bucket', 'bucket_id', () => otherBucketId],
    ] as const)('memberA cannot move an object of org A %s (42501)', async (_label, column, value) => {
      await expectSqlState(
        as('memberA', (tx) =>
          tx.query(`update storage.objects set ${column} = $1 where id = $2`, [
            value(world),
            world.rows['storage.objects'].objAMember?.key,
          ]),
        ),
        '42501',
      );
    });
  });
});
