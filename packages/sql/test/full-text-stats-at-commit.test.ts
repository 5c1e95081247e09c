// 0025_full_text_stats_at_commit on PGlite and on a real PostgreSQL server: the BM25 term
// statistics, queued per statement and folded at commit, always equal a from-scratch count of the
// chunks (random inserts, replacements, edits and deletes in random transaction groupings, with
// rollbacks and savepoints); a transaction sees its own changes and no other's; nothing stays in
// the queue after a commit; rows that reach zero go; TRUNCATE clears; concurrent writers folding at
// the same moment keep exact sums; and the down script brings 0015's per-statement triggers back.
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPg, migrate, rollback, type SqlDatabase, type SqlQueryable } from '../src/index.js';
import { migrationsFrom } from './helpers.js';
import {
  createMigratedPglite,
  insertConnector,
  type MigratedServer,
  seedTenancy,
  sha256Hex,
  startMigratedServer,
  type Tenancy,
} from './support/schema-database.js';

interface Backend {
  name: string;
  open(): Promise<{ db: SqlDatabase; pool?: pg.Pool; close(): Promise<void> }>;
}

let server: MigratedServer | undefined;
const backends: Backend[] = [
  {
    name: 'PGlite',
    async open() {
      const { pglite, db } = await createMigratedPglite();
      return { db, close: () => pglite.close() };
    },
  },
  {
    name: 'PostgreSQL server',
    async open() {
      server ??= await startMigratedServer();
      const { db, pool } = await server.createDatabase(12);
      return { db, pool, close: () => pool.end() };
    },
  },
];

afterAll(async () => {
  await server?.stop();
});

// Few words, some sharing a stem (grill/grilled, report/reports), some German, one stop word.
const words = [
  'salmon',
  'grill',
  'grilled',
  'report',
  'reports',
  'zebra',
  'lemon',
  'Häuser',
  'Haus',
  'the',
  'alpha',
];
const sentence = fc
  .array(fc.constantFrom(...words), { minLength: 1, maxLength: 6 })
  .map((list) => list.join(' '));
const chunkTexts = fc.array(sentence, { minLength: 0, maxLength: 3 });

type Operation =
  | { kind: 'add'; org: 0 | 1; language: 'en' | 'de'; chunks: string[] }
  | { kind: 'replace'; pick: number; chunks: string[] }
  | { kind: 'edit'; pick: number; text: string }
  | { kind: 'deleteDocument'; pick: number }
  | { kind: 'deleteChunk'; pick: number }
  | { kind: 'embeddingOnly'; pick: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    org: fc.constantFrom(0 as const, 1 as const),
    language: fc.constantFrom('en' as const, 'de' as const),
    chunks: chunkTexts,
  }),
  fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), chunks: chunkTexts }),
  fc.record({ kind: fc.constant('edit' as const), pick: fc.nat(), text: sentence }),
  fc.record({ kind: fc.constant('deleteDocument' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('deleteChunk' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('embeddingOnly' as const), pick: fc.nat() }),
);
// One transaction: its statements, then commit or rollback; a savepoint may roll back part of it.
const group = fc.record({
  operations: fc.array(operation, { minLength: 1, maxLength: 5 }),
  savepointAfter: fc.option(fc.nat({ max: 4 }), { nil: undefined }),
  rollbackSavepoint: fc.boolean(),
  outcome: fc.constantFrom('commit', 'commit', 'rollback'),
});

/** Differences between the statistics the search reads and a count of the chunks (empty when equal). */
async function statisticsDifferences(db: SqlQueryable): Promise<string[]> {
  const { rows } = await db.query<{ difference: string }>(
    `with expected_terms as (
       select c.org_id, l.lexeme collate "C" as lexeme, count(*) as n
       from public.document_chunks c cross join lateral unnest(tsvector_to_array(c.fts)) l(lexeme) group by 1, 2),
     kept_terms as (
       select org_id, lexeme, sum(chunk_count) as n from tributary_private.full_text_terms
       group by 1, 2 having sum(chunk_count) <> 0),
     expected_stats as (
       select org_id, language, count(*) as n, sum(length(fts)) as total from public.document_chunks group by 1, 2),
     kept_stats as (
       select org_id, language, sum(chunk_count) as n, sum(total_length) as total from tributary_private.full_text_stats
       group by 1, 2 having sum(chunk_count) <> 0 or sum(total_length) <> 0)
     select 'missing term ' || x::text as difference from (select * from expected_terms except all select * from kept_terms) x
     union all select 'extra term ' || x::text from (select * from kept_terms except all select * from expected_terms) x
     union all select 'missing stats ' || x::text from (select * from expected_stats except all select * from kept_stats) x
     union all select 'extra stats ' || x::text from (select * from kept_stats except all select * from expected_stats) x
     order by 1`,
  );
  return rows.map((row) => row.difference);
}

/** What must hold between transactions: nothing queued, no row counting zero. */
async function leftovers(db: SqlQueryable): Promise<Record<string, number>> {
  const { rows } = await db.query<Record<string, number>>(
    `select (select count(*)::int from tributary_private.full_text_changes) as queued,
            (select count(*)::int from tributary_private.full_text_terms_committed where chunk_count = 0) as zero_terms,
            (select count(*)::int from tributary_private.full_text_stats_committed
              where chunk_count = 0 and total_length = 0) as zero_stats`,
  );
  return rows[0] ?? {};
}

const clean = { queued: 0, zero_terms: 0, zero_stats: 0 };

async function addDocument(
  tx: SqlQueryable,
  orgId: string,
  connectorId: string,
  language: string,
  chunks: string[],
): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    `insert into public.imported_documents (org_id, connector_id, external_id, title, processing_status, source_metadata)
     values ($1, $2, gen_random_uuid()::text, 'doc', 'completed', jsonb_build_object('language', $3::text)) returning id`,
    [orgId, connectorId, language],
  );
  const id = rows[0]?.id ?? '';
  await replaceChunks(tx, id, chunks);
  return id;
}

async function replaceChunks(tx: SqlQueryable, documentId: string, chunks: string[]): Promise<void> {
  await tx.query('select * from public.replace_document_chunks($1::jsonb)', [
    JSON.stringify([
      {
        document_id: documentId,
        chunks: chunks.map((content, index) => ({
          chunk_index: index,
          content,
          content_hash: sha256Hex(`${index}:${content}`),
        })),
      },
    ]),
  ]);
}

async function pickDocument(tx: SqlQueryable, pick: number): Promise<string | undefined> {
  const { rows } = await tx.query<{ id: string }>(
    `select id from public.imported_documents order by id offset $1 % greatest(1, (select count(*) from public.imported_documents)) limit 1`,
    [pick],
  );
  return rows[0]?.id;
}

async function apply(tx: SqlQueryable, t: Tenancy, connectors: string[], op: Operation): Promise<void> {
  if (op.kind === 'add') {
    await addDocument(tx, op.org === 0 ? t.orgA : t.orgB, connectors[op.org] ?? '', op.language, op.chunks);
    return;
  }
  const id = await pickDocument(tx, op.pick);
  if (id === undefined) return;
  if (op.kind === 'replace') await replaceChunks(tx, id, op.chunks);
  else if (op.kind === 'edit')
    await tx.query(
      `update public.document_chunks set content = $2
       where id = (select id from public.document_chunks where document_id = $1 order by chunk_index limit 1)`,
      [id, op.text],
    );
  else if (op.kind === 'deleteDocument')
    await tx.query('delete from public.imported_documents where id = $1', [id]);
  else if (op.kind === 'deleteChunk')
    await tx.query(
      `delete from public.document_chunks
       where id = (select id from public.document_chunks where document_id = $1 order by chunk_index desc limit 1)`,
      [id],
    );
  else
    await tx.query(
      'update public.document_chunks set token_count = coalesce(token_count, 0) + 1 where document_id = $1',
      [id],
    );
}

const rolledBack = new Error('rolled back on purpose');

describe.each(backends)('BM25 statistics folded at commit (0025) on $name', (backend) => {
  let db: SqlDatabase;
  let pool: pg.Pool | undefined;
  let close: () => Promise<void>;
  let t: Tenancy;
  let connectors: string[];

  beforeAll(async () => {
    ({ db, pool, close } = await backend.open());
    t = await seedTenancy(db);
    connectors = [await insertConnector(db, t.orgA), await insertConnector(db, t.orgB)];
  });

  afterAll(async () => {
    await close();
  });

  it('equals a from-scratch count after random writes in random transactions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(group, { minLength: 1, maxLength: 4 }), async (groups) => {
        for (const g of groups) {
          try {
            await db.transaction(async (tx) => {
              for (const [index, op] of g.operations.entries()) {
                await apply(tx, t, connectors, op);
                if (g.savepointAfter === index) await tx.query('savepoint part');
              }
              // Inside the transaction the search's statistics include its own uncommitted writes.
              expect(await statisticsDifferences(tx)).toEqual([]);
              if (
                g.savepointAfter !== undefined &&
                g.savepointAfter < g.operations.length &&
                g.rollbackSavepoint
              ) {
                await tx.query('rollback to savepoint part');
                expect(await statisticsDifferences(tx)).toEqual([]);
              }
              if (g.outcome === 'rollback') throw rolledBack;
            });
          } catch (error) {
            if (error !== rolledBack) throw error;
          }
          expect(await statisticsDifferences(db)).toEqual([]);
          expect(await leftovers(db)).toEqual(clean);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('folds at the end of a statement under SET CONSTRAINTS ALL IMMEDIATE, and again for later statements', async () => {
    await db.transaction(async (tx) => {
      await tx.query('set constraints all immediate');
      await addDocument(tx, t.orgA, connectors[0] ?? '', 'en', ['zebra lemon']);
      expect(await leftovers(tx)).toEqual(clean);
      await addDocument(tx, t.orgA, connectors[0] ?? '', 'en', ['zebra alpha']);
      expect(await statisticsDifferences(tx)).toEqual([]);
    });
    expect(await statisticsDifferences(db)).toEqual([]);
    expect(await leftovers(db)).toEqual(clean);
  });

  it('clears on TRUNCATE, counting what the same transaction writes afterwards', async () => {
    await db.transaction(async (tx) => {
      await addDocument(tx, t.orgB, connectors[1] ?? '', 'en', ['lemon zebra']);
      await tx.query('truncate public.document_chunks');
      const { rows } = await tx.query<{ n: number }>(
        'select (select count(*) from tributary_private.full_text_terms) + (select count(*) from tributary_private.full_text_stats) as n',
      );
      expect(Number(rows[0]?.n)).toBe(0);
      await addDocument(tx, t.orgB, connectors[1] ?? '', 'en', ['grilled salmon']);
    });
    expect(await statisticsDifferences(db)).toEqual([]);
    expect(await leftovers(db)).toEqual(clean);
    const { rows } = await db.query<{ lexeme: string }>(
      'select distinct lexeme from tributary_private.full_text_terms order by 1',
    );
    expect(rows.map((row) => row.lexeme)).toEqual(['grill', 'salmon']);
  });

  // PGlite has one connection and serialises transactions: the next two are defined for the
  // server only; the rollback test runs once, on PGlite, whose database is the test's own.
  const onServer = backend.name === 'PostgreSQL server';

  if (onServer)
    it('lets no other transaction see changes before they commit', async () => {
      if (!pool) throw new Error('the server backend has a pool');
      const zebras = async (q: SqlQueryable) =>
        Number(
          (
            await q.query<{ n: string }>(
              `select coalesce(sum(chunk_count), 0) as n from tributary_private.full_text_terms
             where org_id = $1 and lexeme = 'zebra'`,
              [t.orgA],
            )
          ).rows[0]?.n,
        );
      const before = await zebras(db);
      const writer = await pool.connect();
      try {
        await writer.query('begin');
        const { rows } = await writer.query<{ id: string }>(
          `insert into public.imported_documents (org_id, connector_id, external_id, title, processing_status)
         values ($1, $2, 'unseen', 'unseen', 'completed') returning id`,
          [t.orgA, connectors[0]],
        );
        await writer.query(
          `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash)
         values ($1, $2, 0, 'zebra zebra', $3)`,
          [t.orgA, rows[0]?.id, sha256Hex('zebra zebra')],
        );
        expect(await zebras(fromPg(writer))).toBe(before + 1);
        expect(await zebras(db)).toBe(before);
        await writer.query('commit');
      } finally {
        writer.release();
      }
      expect(await zebras(db)).toBe(before + 1);
      expect(await leftovers(db)).toEqual(clean);
    });

  if (onServer)
    it('keeps exact sums when concurrent writers fold at the same moment (no deadlock)', async () => {
      if (!pool) throw new Error('the server backend has a pool');
      const writers = 8;
      for (let round = 0; round < 3; round++) {
        const key = 9_100 + round;
        const coordinator = await pool.connect();
        const clients: pg.PoolClient[] = [];
        try {
          await coordinator.query('select pg_advisory_lock($1)', [key]);
          // Distinct documents to delete: two writers deleting the same row would wait on each
          // other's row lock instead of on the advisory lock, and the wait below would never end.
          const victims = (
            await coordinator.query<{ id: string }>(
              'select id from public.imported_documents order by id offset $1 limit $2',
              [round, writers],
            )
          ).rows.map((row) => row.id);
          for (let index = 0; index < writers; index++) clients.push(await pool.connect());
          const runs = clients.map(async (client, index) => {
            await client.query('begin');
            try {
              const tx = fromPg(client);
              // Overlapping lexemes in both organisations, in different orders per writer.
              for (let doc = 0; doc < 3; doc++) {
                const chosen = words.filter((_, w) => (w + index + doc) % 3 !== 0);
                if (index % 2 === 1) chosen.reverse();
                await addDocument(
                  tx,
                  (index + doc) % 2 === 0 ? t.orgA : t.orgB,
                  connectors[(index + doc) % 2] ?? '',
                  'en',
                  [chosen.join(' '), chosen.slice(0, 3).join(' ')],
                );
              }
              const victim = index % 3 === 0 ? victims[index] : undefined;
              if (victim) await client.query('delete from public.imported_documents where id = $1', [victim]);
              await client.query('select pg_advisory_xact_lock_shared($1)', [key]); // wait, then all commit at once
              await client.query('commit');
            } catch (error) {
              await client.query('rollback').catch(() => undefined);
              throw error;
            }
          });
          for (;;) {
            const { rows } = await coordinator.query<{ waiting: number }>(
              `select count(*)::int as waiting from pg_locks
             where locktype = 'advisory' and objid = $1 and not granted
               and database = (select oid from pg_database where datname = current_database())`,
              [key],
            );
            if (rows[0]?.waiting === writers) break;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          await coordinator.query('select pg_advisory_unlock($1)', [key]);
          const results = await Promise.allSettled(runs);
          const failed = results.find((result) => result.status === 'rejected');
          if (failed) throw (failed as PromiseRejectedResult).reason;
        } finally {
          coordinator.release();
          for (const client of clients) client.release();
        }
        expect(await statisticsDifferences(db)).toEqual([]);
        expect(await leftovers(db)).toEqual(clean);
      }
    });

  if (!onServer)
    it('rolls back to 0015 (statement triggers, the tables under their old names) and forward again', async () => {
      // Back to 0024: migrations after 0025 are rolled back first, in one transaction.
      const later = await migrationsFrom('0025_full_text_stats_at_commit');
      const result = await rollback(db, { to: '0024_run_history_indexes' });
      expect(result.rolledBack.map((entry) => entry.name)).toEqual([...later].reverse());
      const { rows } = await db.query<{ name: string; kind: string | null }>(
        `select name, (select c.relkind::text from pg_class c where c.oid = to_regclass('tributary_private.' || name)) as kind
       from unnest(array['full_text_stats', 'full_text_terms', 'full_text_changes', 'full_text_stats_committed']) name
       order by name`,
      );
      expect(rows).toEqual([
        { name: 'full_text_changes', kind: null },
        { name: 'full_text_stats', kind: 'r' },
        { name: 'full_text_stats_committed', kind: null },
        { name: 'full_text_terms', kind: 'r' },
      ]);
      // 0015's triggers keep the tables right again, statement by statement.
      await addDocument(db, t.orgA, connectors[0] ?? '', 'en', ['zebra report lemon']);
      const id = await pickDocument(db, 3);
      if (id) await db.query('delete from public.imported_documents where id = $1', [id]);
      expect(await statisticsDifferences(db)).toEqual([]);
      const again = await migrate(db);
      expect(again.applied.map((entry) => entry.name)).toEqual(later);
      await addDocument(db, t.orgB, connectors[1] ?? '', 'de', ['Häuser Haus']);
      expect(await statisticsDifferences(db)).toEqual([]);
      expect(await leftovers(db)).toEqual(clean);
    });
});
