// Behaviour of every RPC in 0004_functions.sql (and the connector delete trigger of 0003) on PGlite:
// what each one does with good input, what it refuses (with which SQLSTATE), and that a refused
// call or a call across organisations changes nothing. One database for the file; each case uses
// fresh organisations and connectors (seedTenancy / insertConnector), so cases stay independent.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase, SqlQueryable } from '../src/index.js';
import {
  type Actor,
  actAs,
  createMigratedPglite,
  insertConnector,
  seedTenancy,
  sha256Hex,
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
const anon: Actor = { role: 'anon' };
const user = (userId: string): Actor => ({ role: 'authenticated', userId });

/** One RPC call (or any statement) as `actor`, committed: each call is its own transaction, so now() moves on. */
async function call<Row = Record<string, unknown>>(
  actor: Actor,
  sql: string,
  params: readonly unknown[] = [],
): Promise<Row[]> {
  return actAs(db, actor, async (tx) => (await tx.query<Row>(sql, params)).rows, { commit: true });
}

/** The same, expecting one row. */
async function callOne<Row = Record<string, unknown>>(
  actor: Actor,
  sql: string,
  params: readonly unknown[] = [],
): Promise<Row> {
  const rows = await call<Row>(actor, sql, params);
  expect(rows).toHaveLength(1);
  return rows[0] as Row;
}

/** Rows read by the table owner (no RLS), to compare the state before and after a call. */
async function rowsOf(sql: string, params: readonly unknown[] = []): Promise<Record<string, unknown>[]> {
  return (await db.query<Record<string, unknown>>(sql, params)).rows;
}

/** The value, failing the test with a clear message when it is missing. */
function defined<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('expected a value, got nothing');
  return value;
}

interface SqlFailure {
  code: string | undefined;
  message: string;
}

/** Runs `promise` expecting a database error; returns its SQLSTATE and message. */
async function failure(promise: Promise<unknown>): Promise<SqlFailure> {
  try {
    await promise;
  } catch (error) {
    const failed = error as { code?: string; message: string };
    return { code: failed.code, message: failed.message };
  }
  throw new Error('expected the statement to fail, but it succeeded');
}

/** Asserts that `run` fails with `code` (and a message matching `message`) and leaves `state` as it was. */
async function expectRefused(
  run: () => Promise<unknown>,
  code: string,
  message: RegExp | undefined,
  state: () => Promise<unknown>,
): Promise<void> {
  const before = await state();
  const error = await failure(run());
  expect(error.code, error.message).toBe(code);
  if (message) expect(error.message).toMatch(message);
  expect(await state()).toEqual(before);
}

async function createBatch(orgId: string, totalFiles: number, status = 'uploading'): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `insert into public.file_upload_batches (org_id, total_files, status, completed_at)
     values ($1, $2, $3, case when $3 in ('uploading', 'processing') then null else now() end) returning id`,
    [orgId, totalFiles, status],
  );
  return defined(rows[0]).id;
}

async function batchRow(id: string): Promise<Record<string, unknown>> {
  const [row] = await rowsOf(
    `select processed_files, failed_files, status, progress_percent::text as progress,
            completed_at is not null as completed, updated_at from public.file_upload_batches where id = $1`,
    [id],
  );
  return defined(row);
}

interface DocumentValues {
  externalId?: string;
  status?: 'pending' | 'processing' | 'completed' | 'failed';
  bytes?: number | null;
  chunkCount?: number;
  /** Soft-deleted this long ago (an SQL interval), e.g. '40 days'. */
  deletedAgo?: string;
  storagePath?: string | null;
  content?: string;
  lastSeenAgo?: string;
}

/** Inserts a document row directly (as the pipeline would have left it) and returns its id. */
async function insertDocument(
  orgId: string,
  connectorId: string | null,
  values: DocumentValues = {},
): Promise<string> {
  const content = values.content ?? `content of ${values.externalId ?? 'a document'}`;
  const { rows } = await db.query<{ id: string }>(
    `insert into public.imported_documents (org_id, connector_id, external_id, title, content, content_hash,
       processing_status, file_size_bytes, chunk_count, storage_path, is_deleted, deleted_at, last_seen_at)
     values ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10::interval is not null, now() - $10::interval,
             now() - coalesce($11, '0 seconds')::interval)
     returning id`,
    [
      orgId,
      connectorId,
      values.externalId ?? randomUUID(),
      content,
      sha256Hex(content),
      values.status ?? 'pending',
      values.bytes ?? null,
      values.chunkCount ?? 0,
      values.storagePath ?? null,
      values.deletedAgo ?? null,
      values.lastSeenAgo ?? null,
    ],
  );
  return defined(rows[0]).id;
}

async function insertChunks(orgId: string, documentId: string, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    const content = `chunk ${index} of ${documentId}`;
    await db.query(
      `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash)
       values ($1, $2, $3, $4, $5)`,
      [orgId, documentId, index, content, sha256Hex(content)],
    );
  }
}

async function documentsOf(connectorId: string): Promise<Record<string, unknown>[]> {
  return rowsOf('select * from public.imported_documents where connector_id = $1 order by external_id', [
    connectorId,
  ]);
}

async function syncLogsOf(connectorId: string): Promise<Record<string, unknown>[]> {
  return rowsOf('select * from public.connector_sync_logs where connector_id = $1 order by started_at, id', [
    connectorId,
  ]);
}

async function connectorRow(connectorId: string): Promise<Record<string, unknown>> {
  const [row] = await rowsOf('select * from public.connector_configs where id = $1', [connectorId]);
  return defined(row);
}

/** Makes a running sync run's lease expire (as if its worker had stopped heartbeating a while ago). */
async function expireLease(syncLogId: string): Promise<void> {
  await db.query(
    `update public.connector_sync_logs
     set lease_expires_at = now() - interval '1 second', started_at = now() - interval '10 minutes'
     where id = $1`,
    [syncLogId],
  );
}

interface StartedSync {
  started: boolean;
  sync_log_id: string;
  lease_expires_at: Date;
  sync_cursor: unknown;
}

function startSync(connectorId: string, args = ''): Promise<StartedSync> {
  return callOne<StartedSync>(service, `select * from public.start_connector_sync($1${args})`, [connectorId]);
}

function upsertDocuments(
  connectorId: string | null,
  documents: unknown,
): Promise<
  { document_id: string; external_id: string; action: string; previous_content_hash: string | null }[]
> {
  return call(service, 'select * from public.upsert_documents($1, $2::jsonb) order by external_id', [
    connectorId,
    JSON.stringify(documents),
  ]);
}

function sourceDocument(externalId: string, content: string, extra: Record<string, unknown> = {}) {
  return {
    external_id: externalId,
    title: `Title ${externalId}`,
    mime_type: 'text/plain',
    content,
    content_hash: sha256Hex(content),
    file_size_bytes: content.length,
    ...extra,
  };
}

// -------------------------------------------------------------------------------------------------
describe('increment_batch_processed / increment_batch_failed', () => {
  it('count each file, report progress and set the final status with the last file', async () => {
    const { orgA } = await seedTenancy(db);
    const batch = await createBatch(orgA, 4);
    const step = (fn: 'processed' | 'failed') =>
      callOne(
        service,
        `select processed_files, failed_files, status, progress_percent::text as progress,
                completed_at is not null as completed
         from public.increment_batch_${fn}($1)`,
        [batch],
      );

    expect(await batchRow(batch)).toMatchObject({
      status: 'uploading',
      processed_files: 0,
      progress: '0.00',
    });
    expect(await step('processed')).toEqual({
      processed_files: 1,
      failed_files: 0,
      status: 'processing',
      progress: '25.00',
      completed: false,
    });
    expect(await step('failed')).toEqual({
      processed_files: 2,
      failed_files: 1,
      status: 'processing',
      progress: '50.00',
      completed: false,
    });
    expect(await step('processed')).toMatchObject({ processed_files: 3, failed_files: 1, progress: '75.00' });
    expect(await step('processed')).toEqual({
      processed_files: 4,
      failed_files: 1,
      status: 'completed_with_errors',
      progress: '100.00',
      completed: true,
    });

    // Every file is accounted for: one more call of either kind is refused and changes nothing.
    for (const fn of ['processed', 'failed'] as const) {
      await expectRefused(
        () => step(fn),
        '55000',
        /already completed_with_errors/,
        () => batchRow(batch),
      );
    }
  });

  it('end as completed when no file failed and as failed when every file failed', async () => {
    const { orgA } = await seedTenancy(db);
    const clean = await createBatch(orgA, 3);
    for (let index = 0; index < 3; index++) {
      await call(service, 'select public.increment_batch_processed($1)', [clean]);
    }
    expect(await batchRow(clean)).toMatchObject({
      processed_files: 3,
      failed_files: 0,
      status: 'completed',
      progress: '100.00',
      completed: true,
    });

    const broken = await createBatch(orgA, 3);
    const progress: string[] = [];
    for (let index = 0; index < 3; index++) {
      const row = await callOne<{ progress: string }>(
        service,
        'select progress_percent::text as progress from public.increment_batch_failed($1)',
        [broken],
      );
      progress.push(row.progress);
    }
    expect(progress).toEqual(['33.33', '66.67', '100.00']);
    expect(await batchRow(broken)).toMatchObject({
      processed_files: 3,
      failed_files: 3,
      status: 'failed',
      completed: true,
    });

    // A one-file batch finishes with its only file.
    const single = await createBatch(orgA, 1);
    expect(
      await callOne(
        service,
        'select status, completed_at is not null as completed from public.increment_batch_failed($1)',
        [single],
      ),
    ).toEqual({ status: 'failed', completed: true });
  });

  it('refuse an unknown id (P0002), a null id (22004) and a cancelled batch (55000)', async () => {
    const { orgA } = await seedTenancy(db);
    const cancelled = await createBatch(orgA, 2, 'cancelled');
    for (const fn of ['increment_batch_processed', 'increment_batch_failed']) {
      const unknown = await failure(call(service, `select public.${fn}($1)`, [randomUUID()]));
      expect(unknown).toMatchObject({
        code: 'P0002',
        message: expect.stringMatching(/upload batch .* not found/),
      });
      const missing = await failure(call(service, `select public.${fn}(null)`));
      expect(missing).toMatchObject({
        code: '22004',
        message: expect.stringMatching(/batch_id_param is null/),
      });
      await expectRefused(
        () => call(service, `select public.${fn}($1)`, [cancelled]),
        '55000',
        /already cancelled/,
        () => batchRow(cancelled),
      );
    }
  });

  it("let no signed-in user move a batch: their own is 42501, another organisation's is not found (P0002)", async () => {
    const t = await seedTenancy(db);
    const own = await createBatch(t.orgA, 5);
    const other = await createBatch(t.orgB, 5);
    const finished = await createBatch(t.orgA, 1);
    await call(service, 'select public.increment_batch_processed($1)', [own]);
    await call(service, 'select public.increment_batch_processed($1)', [finished]);
    const state = async () => [await batchRow(own), await batchRow(other), await batchRow(finished)];
    for (const fn of ['increment_batch_processed', 'increment_batch_failed']) {
      const cases: [Actor, string, string, RegExp][] = [
        // Their organisation's batch in progress: visible, but progress is the server's.
        [user(t.ownerA), own, '42501', /not allowed to update upload batch/],
        [user(t.memberA), own, '42501', /not allowed to update upload batch/],
        // Their organisation's finished batch: the state error.
        [user(t.memberA), finished, '55000', /already completed/],
        // Another organisation's batch, or any batch for a user of no organisation: invisible.
        [user(t.memberA), other, 'P0002', /upload batch .* not found/],
        [user(t.memberB), own, 'P0002', /upload batch .* not found/],
        [user(t.outsider), own, 'P0002', /upload batch .* not found/],
        [user(t.memberA), randomUUID(), 'P0002', /not found/],
        // anon may not even call it.
        [anon, own, '42501', /permission denied for function/],
      ];
      for (const [actor, batch, code, message] of cases) {
        await expectRefused(() => call(actor, `select public.${fn}($1)`, [batch]), code, message, state);
      }
    }
    // A member sees their own organisation's batch only.
    const visible = await call<{ id: string }>(
      user(t.memberA),
      'select id from public.file_upload_batches where id = any ($1::uuid[])',
      [[own, other]],
    );
    expect(visible.map((row) => row.id)).toEqual([own]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('record_batch_file / ensure_upload_connector (0013)', () => {
  const entries = async (id: string) =>
    (
      await rowsOf(`select metadata -> 'files' as files from public.file_upload_batches where id = $1`, [id])
    )[0]?.files;

  it('writes the entry and the count together, compact when the row is nearly full', async () => {
    const { orgA } = await seedTenancy(db);
    const batch = await createBatch(orgA, 3);
    const row = await callOne<{ processed_files: number; failed_files: number }>(
      service,
      'select processed_files, failed_files from public.record_batch_file($1, 0, $2::jsonb, true)',
      [batch, JSON.stringify({ s: 'failed', n: 'a.pdf', m: 'broken' })],
    );
    expect(row).toEqual({ processed_files: 1, failed_files: 1 });
    expect(await entries(batch)).toEqual({ '0': { s: 'failed', n: 'a.pdf', m: 'broken' } });

    // Fill the row's metadata close to its 64 KB limit: the next full entry no longer fits.
    await db.query(
      `update public.file_upload_batches set metadata = jsonb_set(metadata, '{filler}', to_jsonb(repeat(md5(random()::text), 2040)))
       where id = $1`,
      [batch],
    );
    await call(service, 'select public.record_batch_file($1, 1, $2::jsonb, false)', [
      batch,
      JSON.stringify({ s: 'duplicate', d: randomUUID(), n: 'x'.repeat(120), m: 'y'.repeat(300) }),
    ]);
    const compact = (await entries(batch)) as Record<string, Record<string, unknown>>;
    expect(Object.keys(compact['1'] ?? {}).sort()).toEqual(['d', 's']);
  });

  it('refuses bad input, an ended batch and a member, changing nothing', async () => {
    const { orgA, memberA } = await seedTenancy(db);
    const batch = await createBatch(orgA, 1);
    const state = async () => ({ row: await batchRow(batch), files: await entries(batch) });
    await expectRefused(
      () => call(service, 'select public.record_batch_file(null, 0, null, false)'),
      '22004',
      /p_batch_id/,
      state,
    );
    await expectRefused(
      () => call(service, `select public.record_batch_file($1, 0, '["completed"]'::jsonb, false)`, [batch]),
      '22023',
      /status "s"/,
      state,
    );
    await expectRefused(
      () =>
        call(service, `select public.record_batch_file($1, -1, '{"s":"completed"}'::jsonb, false)`, [batch]),
      '22023',
      /p_file_index/,
      state,
    );
    await expectRefused(
      () =>
        call(user(memberA), `select public.record_batch_file($1, 0, '{"s":"completed"}'::jsonb, false)`, [
          batch,
        ]),
      '42501',
      /not allowed/,
      state,
    );
    await call(service, `select public.record_batch_file($1, 0, '{"s":"completed"}'::jsonb, false)`, [batch]);
    await expectRefused(
      () => call(service, `select public.record_batch_file($1, 0, '{"s":"failed"}'::jsonb, true)`, [batch]),
      '55000',
      /already completed/,
      state,
    );
  });

  it('gives one upload connector per organisation, and refuses a null organisation', async () => {
    const { orgA } = await seedTenancy(db);
    const first = await callOne<{ id: string }>(service, 'select public.ensure_upload_connector($1) as id', [
      orgA,
    ]);
    const second = await callOne<{ id: string }>(service, 'select public.ensure_upload_connector($1) as id', [
      orgA,
    ]);
    expect(second.id).toBe(first.id);
    await expectRefused(
      () => call(service, 'select public.ensure_upload_connector(null)'),
      '22004',
      /p_org_id/,
      () => rowsOf("select count(*)::int as n from public.connector_configs where connector_type = 'upload'"),
    );
  });
});

describe('replace_document_chunks / find_reusable_embeddings / get_document_versions (0014)', () => {
  const chunk = (index: number, content: string, embedding: number[] | null = null) => ({
    chunk_index: index,
    content,
    content_hash: sha256Hex(content),
    embedding: embedding ? `[${embedding.join(',')}]` : null,
    embedding_model: embedding ? 'model-a' : null,
  });
  const embedding = (seed: number) => Array.from({ length: 1536 }, (_, i) => (i === seed ? 1 : 0));

  it('replaces many documents at once, refuses bad input whole, and reuses one embedding per hash', async () => {
    const { orgA } = await seedTenancy(db);
    const connector = await insertConnector(db, orgA);
    const docs = await callOne<{ ids: string[] }>(
      service,
      `select array_agg(document_id order by external_id) as ids from public.upsert_documents($1, $2::jsonb)`,
      [
        connector,
        JSON.stringify([
          { external_id: 'a', content_hash: sha256Hex('a') },
          { external_id: 'b', content_hash: sha256Hex('b') },
        ]),
      ],
    );
    const [a, b] = docs.ids as [string, string];
    const chunks = () =>
      rowsOf(
        'select document_id, chunk_index, content from public.document_chunks where document_id = any ($1) order by 1, 2',
        [[a, b]],
      );
    const written = await call<{ document_id: string; chunk_count: number; removed: number }>(
      service,
      'select document_id, chunk_count, removed from public.replace_document_chunks($1::jsonb) order by chunk_count',
      [
        JSON.stringify([
          { document_id: a, chunks: [chunk(0, 'shared footer', embedding(1))] },
          {
            document_id: b,
            chunks: [chunk(0, 'shared footer', embedding(1)), chunk(1, 'b only', embedding(2))],
          },
        ]),
      ],
    );
    expect(written).toEqual([
      { document_id: a, chunk_count: 1, removed: 0 },
      { document_id: b, chunk_count: 2, removed: 0 },
    ]);
    // One row per distinct hash, however many chunks share it.
    const reused = await call<{ content_hash: string }>(
      service,
      'select content_hash from public.find_reusable_embeddings($1, $2, $3::text[])',
      [orgA, 'model-a', [sha256Hex('shared footer'), sha256Hex('shared footer'), sha256Hex('unknown')]],
    );
    expect(reused).toEqual([{ content_hash: sha256Hex('shared footer') }]);

    await expectRefused(
      () =>
        call(service, 'select * from public.replace_document_chunks($1::jsonb)', [
          JSON.stringify([
            { document_id: a, chunks: [] },
            { document_id: randomUUID(), chunks: [] },
          ]),
        ]),
      'P0002',
      /not found/,
      chunks,
    );
    await expectRefused(
      () =>
        call(service, 'select * from public.replace_document_chunks($1::jsonb)', [
          JSON.stringify([{ document_id: a, chunks: [chunk(0, 'x'), chunk(0, 'y')] }]),
        ]),
      '22023',
      /appears twice/,
      chunks,
    );
    await expectRefused(
      () => call(service, `select * from public.replace_document_chunks('{}'::jsonb)`),
      '22023',
      /JSON array/,
      chunks,
    );
    await expectRefused(
      () =>
        call(service, 'select * from public.find_reusable_embeddings($1, null, $2::text[])', [orgA, ['x']]),
      '22004',
      /must not be null/,
      chunks,
    );
    await expectRefused(
      () => call(user(randomUUID()), 'select * from public.replace_document_chunks($1::jsonb)', ['[]']),
      '42501',
      undefined,
      chunks,
    );
    const versions = await call<{ external_id: string }>(
      service,
      'select external_id from public.get_document_versions($1, $2::text[]) order by 1',
      [connector, ['a', 'b', 'missing']],
    );
    expect(versions.map((row) => row.external_id)).toEqual(['a', 'b']);
    await expectRefused(
      () =>
        call(service, 'select * from public.get_document_versions($1, $2::text[])', [randomUUID(), ['a']]),
      'P0002',
      /connector .* not found/,
      chunks,
    );
  });
});

describe('embedding reuse inside the database (0030)', () => {
  const vector = (seed: number) =>
    `[${Array.from({ length: 1536 }, (_, i) => (i === seed ? 1 : 0)).join(',')}]`;
  const sent = (index: number, content: string, seed: number) => ({
    chunk_index: index,
    content,
    content_hash: sha256Hex(content),
    embedding: vector(seed),
    embedding_model: 'model-a',
  });
  const reuse = (index: number, content: string, model = 'model-a') => ({
    chunk_index: index,
    content,
    content_hash: sha256Hex(content),
    reuse_embedding: true,
    embedding_model: model,
  });
  interface Written {
    document_id: string;
    chunk_count: number;
    removed: number;
    embeddings_generated: boolean;
    missing_embeddings: string[];
  }
  const replace = (documents: unknown[]) =>
    call<Written>(service, 'select * from public.replace_document_chunks($1::jsonb) order by document_id', [
      JSON.stringify(documents),
    ]);

  async function twoDocuments() {
    const { orgA, orgB } = await seedTenancy(db);
    const connector = await insertConnector(db, orgA);
    const other = await insertConnector(db, orgB);
    const upsert = async (connectorId: string, externalIds: string[]) =>
      (
        await callOne<{ ids: string[] }>(
          service,
          'select array_agg(document_id order by external_id) as ids from public.upsert_documents($1, $2::jsonb)',
          [
            connectorId,
            JSON.stringify(externalIds.map((id) => ({ external_id: id, content_hash: sha256Hex(id) }))),
          ],
        )
      ).ids;
    const [a, b] = (await upsert(connector, ['a', 'b'])) as [string, string];
    const [foreign] = (await upsert(other, ['f'])) as [string];
    return { orgA, orgB, a, b, foreign };
  }
  const stored = (documentIds: string[]) =>
    rowsOf(
      `select document_id, chunk_index, content, embedding::text as embedding, embedding_model
       from public.document_chunks where document_id = any ($1) order by document_id, chunk_index`,
      [documentIds],
    );

  it("copies a stored vector by hash and model, also from the document's own chunks it replaces", async () => {
    const { orgA, a, b } = await twoDocuments();
    await replace([{ document_id: a, chunks: [sent(0, 'intro', 1), sent(1, 'footer', 2)] }]);
    const hashes = await call<{ content_hash: string }>(
      service,
      'select content_hash from public.find_reusable_embedding_hashes($1, $2, $3::text[]) order by 1',
      [orgA, 'model-a', [sha256Hex('footer'), sha256Hex('footer'), sha256Hex('intro'), sha256Hex('new')]],
    );
    expect(hashes.map((row) => row.content_hash)).toEqual([sha256Hex('footer'), sha256Hex('intro')].sort());
    const before = await stored([a]);

    // a: a new first chunk, its old chunks moved one position on (copied, while they are replaced);
    // b: reuses a's footer.
    const written = await replace([
      { document_id: a, chunks: [sent(0, 'new', 3), reuse(1, 'intro'), reuse(2, 'footer')] },
      { document_id: b, chunks: [reuse(0, 'footer')] },
    ]);
    expect(
      written.map((row) => [
        row.document_id,
        row.chunk_count,
        row.embeddings_generated,
        row.missing_embeddings,
      ]),
    ).toEqual(
      [
        [a, 3, true, []],
        [b, 1, true, []],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    const after = await stored([a, b]);
    const vectorOf = (rows: Record<string, unknown>[], content: string) =>
      rows.find((row) => row.content === content)?.embedding;
    expect(
      vectorOf(
        after.filter((row) => row.document_id === a),
        'intro',
      ),
    ).toBe(vectorOf(before, 'intro'));
    expect(
      vectorOf(
        after.filter((row) => row.document_id === a),
        'footer',
      ),
    ).toBe(vectorOf(before, 'footer'));
    expect(
      vectorOf(
        after.filter((row) => row.document_id === b),
        'footer',
      ),
    ).toBe(vectorOf(before, 'footer'));
    expect(after.every((row) => row.embedding_model === 'model-a')).toBe(true);
  });

  it('leaves a document whose reused hash is not stored as it was, and names the hashes', async () => {
    const { a, b, foreign } = await twoDocuments();
    await replace([
      { document_id: a, chunks: [sent(0, 'kept', 1)] },
      { document_id: foreign, chunks: [sent(0, 'elsewhere', 5)] },
    ]);
    const before = await stored([a, b]);
    const written = await replace([
      // Another organisation's vector, another model's, and a hash nobody stored: none is copied.
      { document_id: a, chunks: [reuse(0, 'elsewhere'), reuse(1, 'kept', 'model-b'), reuse(2, 'never')] },
      { document_id: b, chunks: [reuse(0, 'kept')] },
    ]);
    const byId = new Map(written.map((row) => [row.document_id, row]));
    expect(byId.get(a)?.missing_embeddings).toEqual(
      [sha256Hex('elsewhere'), sha256Hex('kept'), sha256Hex('never')].sort(),
    );
    expect(byId.get(a)?.chunk_count).toBe(1);
    expect(byId.get(b)).toMatchObject({ chunk_count: 1, embeddings_generated: true, missing_embeddings: [] });
    const after = await stored([a, b]);
    expect(after.filter((row) => row.document_id === a)).toEqual(
      before.filter((row) => row.document_id === a),
    );
    expect(after.find((row) => row.document_id === b)?.embedding).toBe(
      before.find((row) => row.content === 'kept')?.embedding,
    );
  });

  it('refuses a reuse flag with an embedding, without a model, or not a boolean (22023, nothing written)', async () => {
    const { a } = await twoDocuments();
    const state = () => stored([a]);
    for (const bad of [
      { ...sent(0, 'x', 1), reuse_embedding: true },
      { ...reuse(0, 'x'), embedding_model: null },
      { ...reuse(0, 'x'), reuse_embedding: 'yes' },
    ]) {
      await expectRefused(
        () => replace([{ document_id: a, chunks: [bad] }]),
        '22023',
        /reuse_embedding/,
        state,
      );
    }
  });

  it('finds hashes only with the caller rights (members of the organisation) and refuses null or oversized input', async () => {
    const { orgA, a } = await twoDocuments();
    await replace([{ document_id: a, chunks: [sent(0, 'members only', 1)] }]);
    const lookup = (actor: Actor) =>
      call<{ content_hash: string }>(
        actor,
        'select content_hash from public.find_reusable_embedding_hashes($1, $2, $3::text[])',
        [orgA, 'model-a', [sha256Hex('members only')]],
      );
    expect(await lookup(user(randomUUID()))).toEqual([]);
    await expectRefused(
      () => lookup(anon),
      '42501',
      undefined,
      () => stored([a]),
    );
    await expectRefused(
      () =>
        call(service, 'select * from public.find_reusable_embedding_hashes($1, $2, null)', [orgA, 'model-a']),
      '22004',
      /must not be null/,
      () => stored([a]),
    );
    await expectRefused(
      () =>
        call(service, 'select * from public.find_reusable_embedding_hashes($1, $2, $3::text[])', [
          orgA,
          'model-a',
          Array.from({ length: 5001 }, (_, i) => String(i)),
        ]),
      '22023',
      /at most 5000/,
      () => stored([a]),
    );
  });
});

describe('get_connector_stats', () => {
  it('returns exact numbers for an organisation in one call, the same for a member and the service role', async () => {
    const t = await seedTenancy(db);
    const alpha = await insertConnector(db, t.orgA, { name: 'Alpha' });
    const beta = await insertConnector(db, t.orgA, { name: 'Beta', type: 'notion' });
    const gamma = await insertConnector(db, t.orgA, { name: 'Gamma', type: 'zoom' });
    await db.query(
      `update public.connector_configs set last_sync_at = '2025-03-01T10:00:00Z', last_sync_status = 'success'
       where id = $1`,
      [alpha],
    );
    await db.query(
      `update public.connector_configs set is_active = false, error_count = 2, last_sync_status = 'failed',
         last_sync_at = '2025-02-01T10:00:00Z' where id = $1`,
      [beta],
    );
    await db.query(`update public.connector_configs set error_count = 1 where id = $1`, [gamma]);

    // Alpha: 2 pending, 1 processing, 3 completed, 1 failed, 2 deleted.
    await insertDocument(t.orgA, alpha, { status: 'pending', bytes: 100 });
    await insertDocument(t.orgA, alpha, { status: 'pending', bytes: 200 });
    await insertDocument(t.orgA, alpha, { status: 'processing', bytes: 300 });
    for (let index = 0; index < 3; index++) {
      await insertDocument(t.orgA, alpha, { status: 'completed', bytes: 1000, chunkCount: 5 });
    }
    await insertDocument(t.orgA, alpha, { status: 'failed', bytes: null });
    await insertDocument(t.orgA, alpha, {
      status: 'completed',
      bytes: 5000,
      chunkCount: 7,
      deletedAgo: '1 day',
    });
    await insertDocument(t.orgA, alpha, {
      status: 'completed',
      bytes: 5000,
      chunkCount: 7,
      deletedAgo: '1 hour',
    });
    // Beta: 1 completed, 1 failed.
    await insertDocument(t.orgA, beta, { status: 'completed', bytes: 40, chunkCount: 2 });
    await insertDocument(t.orgA, beta, { status: 'failed', bytes: 60 });

    // Sync runs: three in the last 24 hours (one failed), one older failed run that does not count.
    await db.query(
      `insert into public.connector_sync_logs (org_id, connector_id, status, started_at, completed_at) values
         ($1, $2, 'success', now() - interval '2 hours', now() - interval '1 hour'),
         ($1, $2, 'failed', now() - interval '3 hours', now() - interval '3 hours'),
         ($1, $3, 'partial', now() - interval '23 hours', now() - interval '22 hours'),
         ($1, $3, 'failed', now() - interval '2 days', now() - interval '2 days')`,
      [t.orgA, alpha, beta],
    );
    // Organisation B's rows never count for A.
    const bConnector = await insertConnector(db, t.orgB, { name: 'B Drive' });
    await insertDocument(t.orgB, bConnector, { status: 'completed', bytes: 999_999, chunkCount: 99 });
    await db.query(
      `insert into public.connector_sync_logs (org_id, connector_id, status, started_at, completed_at)
       values ($1, $2, 'failed', now(), now())`,
      [t.orgB, bConnector],
    );

    const statsSql = `select to_jsonb(s) - 'last_sync_at' - 'connectors' as stats,
                             s.last_sync_at = '2025-03-01T10:00:00Z'::timestamptz as last_sync_ok,
                             s.connectors
                      from public.get_connector_stats($1) s`;
    const asMember = await callOne<{ stats: unknown; last_sync_ok: boolean; connectors: unknown }>(
      user(t.memberA),
      statsSql,
      [t.orgA],
    );
    expect(asMember.stats).toEqual({
      total_connectors: 3,
      active_connectors: 2,
      failing_connectors: 2,
      total_documents: 9,
      pending_documents: 2,
      processing_documents: 1,
      completed_documents: 4,
      failed_documents: 2,
      deleted_documents: 2,
      total_chunks: 17,
      total_bytes: 100 + 200 + 300 + 3000 + 40 + 60,
      syncs_last_24h: 3,
      failed_syncs_last_24h: 1,
    });
    expect(asMember.last_sync_ok).toBe(true);
    expect(asMember.connectors).toEqual([
      {
        id: alpha,
        name: 'Alpha',
        connector_type: 'google_drive',
        is_active: true,
        last_sync_at: expect.any(String),
        last_sync_status: 'success',
        error_count: 0,
        documents: 7,
        failed_documents: 1,
      },
      {
        id: beta,
        name: 'Beta',
        connector_type: 'notion',
        is_active: false,
        last_sync_at: expect.any(String),
        last_sync_status: 'failed',
        error_count: 2,
        documents: 2,
        failed_documents: 1,
      },
      {
        id: gamma,
        name: 'Gamma',
        connector_type: 'zoom',
        is_active: true,
        last_sync_at: null,
        last_sync_status: null,
        error_count: 1,
        documents: 0,
        failed_documents: 0,
      },
    ]);
    expect(await callOne(service, statsSql, [t.orgA])).toEqual(asMember);
  });

  it("refuses another organisation's id for a member (42501) and a null id (22004)", async () => {
    const t = await seedTenancy(db);
    await insertConnector(db, t.orgB, { name: 'Secret B' });
    for (const [actor, org] of [
      [user(t.memberA), t.orgB],
      [user(t.ownerA), t.orgB],
      [user(t.memberB), t.orgA],
      [user(t.outsider), t.orgA],
    ] as const) {
      const error = await failure(call(actor, 'select * from public.get_connector_stats($1)', [org]));
      expect(error).toMatchObject({
        code: '42501',
        message: expect.stringContaining(`not a member of organisation ${org}`),
      });
    }
    const nullOrg = await failure(call(service, 'select * from public.get_connector_stats(null)'));
    expect(nullOrg).toMatchObject({ code: '22004', message: expect.stringMatching(/org id is null/) });
    const asAnon = await failure(call(anon, 'select * from public.get_connector_stats($1)', [t.orgA]));
    expect(asAnon.code).toBe('42501');
  });

  it('returns zeros for an organisation with nothing (service role, unknown org)', async () => {
    const stats = await callOne<Record<string, unknown>>(
      service,
      'select * from public.get_connector_stats($1)',
      [randomUUID()],
    );
    expect(stats).toEqual({
      total_connectors: 0,
      active_connectors: 0,
      failing_connectors: 0,
      total_documents: 0,
      pending_documents: 0,
      processing_documents: 0,
      completed_documents: 0,
      failed_documents: 0,
      deleted_documents: 0,
      total_chunks: expect.anything(),
      total_bytes: expect.anything(),
      last_sync_at: null,
      syncs_last_24h: 0,
      failed_syncs_last_24h: 0,
      connectors: [],
    });
    expect(Number(stats.total_chunks)).toBe(0);
    expect(Number(stats.total_bytes)).toBe(0);
  });
});

// -------------------------------------------------------------------------------------------------
describe('cleanup_old_connector_imports', () => {
  // Each case runs in a transaction that is rolled back, so the purge (which spans all
  // organisations, as the retention job does) never sees another case's rows.
  const inRolledBack = <T>(fn: (tx: SqlQueryable) => Promise<T>) => actAs(db, service, fn);

  it('purges only documents soft-deleted longer ago than days_old, with their chunks', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    await inRolledBack(async (tx) => {
      const insert = async (externalId: string, values: Record<string, unknown>) => {
        const { rows } = await tx.query<{ id: string }>(
          `insert into public.imported_documents (org_id, connector_id, external_id, content_hash, file_size_bytes,
             storage_path, is_deleted, deleted_at)
           values ($1, $2, $3, $4, $5, $6, $7::interval is not null, now() - $7::interval) returning id`,
          [
            t.orgA,
            connector,
            externalId,
            sha256Hex(externalId),
            values.bytes ?? null,
            values.path ?? null,
            values.deletedAgo ?? null,
          ],
        );
        return defined(rows[0]).id;
      };
      const old1 = await insert('old-1', {
        bytes: 100,
        path: `${t.orgA}/connectors/old-1.pdf`,
        deletedAgo: '40 days',
      });
      const old2 = await insert('old-2', { bytes: 50, deletedAgo: '31 days' });
      const recent = await insert('recent', { bytes: 7, path: 'recent.pdf', deletedAgo: '29 days' });
      const live = await insert('live', { bytes: 9, path: 'live.pdf' });
      for (const document of [old1, old2, recent, live]) {
        await tx.query(
          `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash)
           values ($1, $2, 0, 'text', $3)`,
          [t.orgA, document, sha256Hex('text')],
        );
      }

      const { rows } = await tx.query(
        'select deleted_files, storage_freed_bytes::int as bytes, storage_paths from public.cleanup_old_connector_imports(30)',
      );
      expect(rows).toEqual([
        { deleted_files: 2, bytes: 150, storage_paths: [`${t.orgA}/connectors/old-1.pdf`] },
      ]);
      const left = await tx.query<{ external_id: string; chunks: number }>(
        `select d.external_id, (select count(*)::int from public.document_chunks c where c.document_id = d.id) as chunks
         from public.imported_documents d where d.connector_id = $1 order by d.external_id`,
        [connector],
      );
      expect(left.rows).toEqual([
        { external_id: 'live', chunks: 1 },
        { external_id: 'recent', chunks: 1 },
      ]);
      const orphans = await tx.query<{ n: number }>(
        'select count(*)::int as n from public.document_chunks where document_id = any ($1::uuid[])',
        [[old1, old2]],
      );
      expect(orphans.rows).toEqual([{ n: 0 }]);
      // Nothing is left to purge: the next call reports zeros.
      const again = await tx.query(
        'select deleted_files, storage_freed_bytes::int as bytes, storage_paths from public.cleanup_old_connector_imports(30)',
      );
      expect(again.rows).toEqual([{ deleted_files: 0, bytes: 0, storage_paths: [] }]);
      // A smaller days_old reaches the recent one.
      const shorter = await tx.query('select deleted_files from public.cleanup_old_connector_imports(28)');
      expect(shorter.rows).toEqual([{ deleted_files: 1 }]);
    });
  });

  it('works in slices of batch_limit rows, oldest first', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    await inRolledBack(async (tx) => {
      for (const [externalId, ago] of [
        ['a', '50 days'],
        ['b', '60 days'],
        ['c', '70 days'],
      ]) {
        await tx.query(
          `insert into public.imported_documents (org_id, connector_id, external_id, storage_path, file_size_bytes,
             is_deleted, deleted_at) values ($1, $2, $3, $3, 1, true, now() - $4::interval)`,
          [t.orgA, connector, externalId, ago],
        );
      }
      const slice = async () =>
        (
          await tx.query<{ deleted_files: number; storage_paths: string[] }>(
            'select deleted_files, storage_paths from public.cleanup_old_connector_imports(days_old => 30, batch_limit => 2)',
          )
        ).rows[0];
      expect(await slice()).toEqual({ deleted_files: 2, storage_paths: expect.arrayContaining(['b', 'c']) });
      expect(await slice()).toEqual({ deleted_files: 1, storage_paths: ['a'] });
      expect(await slice()).toEqual({ deleted_files: 0, storage_paths: [] });
    });
  });

  it('refuses days_old 0, -1, null, 100000 and a bad batch_limit (22023) and deletes nothing', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    await insertDocument(t.orgA, connector, { externalId: 'ancient', deletedAgo: '400 days' });
    const state = () => documentsOf(connector);
    try {
      for (const days of [0, -1, null, 100_000]) {
        await expectRefused(
          () => call(service, 'select * from public.cleanup_old_connector_imports($1)', [days]),
          '22023',
          /days_old must be between 1 and 36500/,
          state,
        );
      }
      for (const limit of [0, -5, null, 100_001]) {
        await expectRefused(
          () => call(service, 'select * from public.cleanup_old_connector_imports(30, $1)', [limit]),
          '22023',
          /batch_limit must be between 1 and 100000/,
          state,
        );
      }
      // Signed-in users and anon may not call the retention job at all.
      for (const actor of [user(t.ownerA), anon]) {
        await expectRefused(
          () => call(actor, 'select * from public.cleanup_old_connector_imports(30)'),
          '42501',
          /permission denied for function/,
          state,
        );
      }
    } finally {
      // Remove this case's old row so later purges in this file see only their own.
      await db.query('delete from public.imported_documents where connector_id = $1', [connector]);
    }
  });
});

// -------------------------------------------------------------------------------------------------
describe('start_connector_sync / heartbeat_connector_sync / commit_sync_checkpoint / finish_connector_sync', () => {
  it('starts one run per connector: started true, then false with the running run while it runs', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const first = await startSync(connector, ", 'scheduled', 'incremental', 120, 'worker-1'");
    expect(first).toMatchObject({ started: true, sync_cursor: null });
    const [row] = await syncLogsOf(connector);
    expect(row).toMatchObject({
      id: first.sync_log_id,
      org_id: t.orgA,
      status: 'running',
      sync_type: 'scheduled',
      sync_mode: 'incremental',
      worker_id: 'worker-1',
      completed_at: null,
    });
    const lease =
      (defined(row).lease_expires_at as Date).getTime() - (defined(row).started_at as Date).getTime();
    expect(lease).toBe(120_000);
    expect((await connectorRow(connector)).last_sync_status).toBe('running');

    const second = await startSync(connector);
    expect(second).toEqual({
      started: false,
      sync_log_id: first.sync_log_id,
      lease_expires_at: first.lease_expires_at,
      sync_cursor: null,
    });
    expect(await syncLogsOf(connector)).toHaveLength(1);

    // Another connector of the same organisation starts independently.
    const other = await insertConnector(db, t.orgA, { name: 'Other' });
    expect((await startSync(other)).started).toBe(true);
  });

  it('fails a run whose lease expired, with the lease message, and starts a new one', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const first = await startSync(connector);
    await expireLease(first.sync_log_id);
    const second = await startSync(connector);
    expect(second.started).toBe(true);
    expect(second.sync_log_id).not.toBe(first.sync_log_id);
    const rows = await syncLogsOf(connector);
    expect(rows.map((row) => [row.id, row.status])).toEqual([
      [first.sync_log_id, 'failed'],
      [second.sync_log_id, 'running'],
    ]);
    expect(rows[0]).toMatchObject({ completed_at: expect.any(Date) });
    expect(defined(rows[0]).error_message).toMatch(/lease expired: the worker stopped heartbeating/);
    expect(defined(rows[0]).duration_ms as number).toBeGreaterThanOrEqual(600_000);
  });

  it('refuses an inactive connector (55000), an unknown one (P0002), null (22004) and bad arguments (22023)', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const inactive = await insertConnector(db, t.orgA, { name: 'Paused' });
    await db.query('update public.connector_configs set is_active = false where id = $1', [inactive]);
    const state = async () => [
      await syncLogsOf(connector),
      await syncLogsOf(inactive),
      await connectorRow(connector),
    ];
    const start = (id: string | null, args: string) => () =>
      call(service, `select * from public.start_connector_sync($1${args})`, [id]);

    await expectRefused(start(inactive, ''), '55000', /is inactive/, state);
    await expectRefused(start(randomUUID(), ''), 'P0002', /connector .* not found/, state);
    await expectRefused(start(null, ''), '22004', /p_connector_id is null/, state);
    await expectRefused(start(connector, ", 'cron'"), '22023', /p_sync_type must be .* got cron/, state);
    await expectRefused(start(connector, ', null'), '22023', /p_sync_type/, state);
    await expectRefused(
      start(connector, ", 'manual', 'delta'"),
      '22023',
      /p_sync_mode must be full or incremental/,
      state,
    );
    await expectRefused(start(connector, ", 'manual', null"), '22023', /p_sync_mode/, state);
    for (const lease of ['4', '86401', 'null', '-1']) {
      await expectRefused(
        start(connector, `, 'manual', 'full', ${lease}`),
        '22023',
        /p_lease_seconds must be between 5 and 86400/,
        state,
      );
    }
  });

  it('heartbeats extend the lease and record progress; a lost lease is refused (55000)', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const run = await startSync(connector);
    const [extended] = await call<{ expiry: Date; expected: Date }>(
      service,
      `select public.heartbeat_connector_sync($1, 600, '{"documents_synced": 3, "api_calls_made": 7, "bytes_transferred": 4096}')
                as expiry, now() + interval '600 seconds' as expected`,
      [run.sync_log_id],
    );
    expect(defined(extended).expiry).toEqual(defined(extended).expected);
    const [row] = await syncLogsOf(connector);
    expect(row).toMatchObject({
      lease_expires_at: defined(extended).expiry,
      documents_synced: 3,
      api_calls_made: 7,
      documents_updated: 0,
      status: 'running',
    });
    expect(Number(defined(row).bytes_transferred)).toBe(4096);
    expect((defined(row).heartbeat_at as Date).getTime()).toBeGreaterThan(
      (defined(row).started_at as Date).getTime(),
    );

    // Live progress (0024): stored as metadata.progress, kept by a heartbeat without it, read back
    // by get_sync_run.
    const progress = { listed: 40, listing: true, total: 90, at: '2026-12-04T11:00:00.000Z' };
    await call(service, 'select public.heartbeat_connector_sync($1, 600, $2::jsonb)', [
      run.sync_log_id,
      JSON.stringify({ documents_synced: 4, progress }),
    ]);
    await call(service, 'select public.heartbeat_connector_sync($1, 600)', [run.sync_log_id]);
    const [read] = await call<{ progress: unknown; documents_synced: number }>(
      service,
      'select progress, documents_synced from public.get_sync_run($1)',
      [run.sync_log_id],
    );
    expect(read).toEqual({ progress, documents_synced: 4 });

    const state = () => syncLogsOf(connector);
    const beat = (id: string | null, lease: string) => () =>
      call(service, `select public.heartbeat_connector_sync($1, ${lease})`, [id]);
    for (const lease of ['4', '86401', 'null']) {
      await expectRefused(beat(run.sync_log_id, lease), '22023', /p_lease_seconds/, state);
    }
    await expectRefused(beat(randomUUID(), '300'), 'P0002', /sync run .* not found/, state);
    await expectRefused(beat(null, '300'), '22004', /p_sync_log_id is null/, state);

    await expireLease(run.sync_log_id);
    await expectRefused(beat(run.sync_log_id, '300'), '55000', /lost its lease \(status running\)/, state);
  });

  it('commits a cursor only while the run holds its lease; after expiry 55000 and the cursor is unchanged', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const run = await startSync(connector);
    const commit = (id: string | null, cursor: unknown) => () =>
      call(service, 'select public.commit_sync_checkpoint($1, $2::jsonb)', [
        id,
        cursor === null ? null : JSON.stringify(cursor),
      ]);
    await commit(run.sync_log_id, { page: 2, token: 'abc' })();
    expect((await connectorRow(connector)).sync_cursor).toEqual({ page: 2, token: 'abc' });

    const cursorState = async () => (await connectorRow(connector)).sync_cursor;
    await expectRefused(commit(run.sync_log_id, null), '22023', /p_cursor must be a JSON value/, cursorState);
    await expectRefused(
      commit(run.sync_log_id, { blob: 'x'.repeat(70_000) }),
      '22023',
      /at most 64 KB/,
      cursorState,
    );
    await expectRefused(commit(randomUUID(), { page: 9 }), 'P0002', /not found/, cursorState);
    await expectRefused(commit(null, { page: 9 }), '22004', /is null/, cursorState);

    // The worker goes quiet; a new run takes over and gets the last committed cursor.
    await expireLease(run.sync_log_id);
    await expectRefused(commit(run.sync_log_id, { page: 3 }), '55000', /lost its lease/, cursorState);
    const takeover = await startSync(connector);
    expect(takeover).toMatchObject({ started: true, sync_cursor: { page: 2, token: 'abc' } });
    // The zombie is refused now too (its run is failed), and cannot overwrite the new run's cursor.
    await commit(takeover.sync_log_id, { page: 10 })();
    await expectRefused(
      commit(run.sync_log_id, { page: 3 }),
      '55000',
      /lost its lease \(status failed\)/,
      cursorState,
    );
    expect(await cursorState()).toEqual({ page: 10 });
  });

  it('finishes a run with its counts and duration and updates the connector; cannot finish twice', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA, { syncFrequency: 'hourly' });
    await db.query(
      "update public.connector_configs set error_count = 3, last_error = 'old', last_error_at = now() where id = $1",
      [connector],
    );
    const run = await startSync(connector);
    await db.query(
      "update public.connector_sync_logs set started_at = now() - interval '2 seconds' where id = $1",
      [run.sync_log_id],
    );
    const counts = {
      documents_synced: 5,
      documents_updated: 2,
      documents_skipped: 1,
      documents_failed: 0,
      documents_deleted: 1,
      api_calls_made: 9,
      bytes_transferred: 12_345,
      metadata: { pages: 3 },
    };
    const finished = await callOne<Record<string, unknown>>(
      service,
      'select * from public.finish_connector_sync($1, $2, $3::jsonb)',
      [run.sync_log_id, 'success', JSON.stringify(counts)],
    );
    expect(finished).toMatchObject({
      id: run.sync_log_id,
      status: 'success',
      lease_expires_at: null,
      documents_synced: 5,
      documents_updated: 2,
      documents_skipped: 1,
      documents_failed: 0,
      documents_deleted: 1,
      api_calls_made: 9,
      metadata: { pages: 3 },
      error_message: null,
    });
    expect(Number(finished.bytes_transferred)).toBe(12_345);
    expect(finished.completed_at).toBeInstanceOf(Date);
    expect(finished.duration_ms as number).toBeGreaterThanOrEqual(2000);
    expect(finished.duration_ms as number).toBeLessThan(60_000);

    const [config] = await rowsOf(
      `select last_sync_status, error_count, last_error, last_sync_at = $2::timestamptz as at_finish,
              extract(epoch from next_sync_at - last_sync_at)::int as next_in
       from public.connector_configs where id = $1`,
      [connector, finished.completed_at],
    );
    // Success resets error_count; last_error is kept as history.
    expect(config).toEqual({
      last_sync_status: 'success',
      error_count: 0,
      last_error: 'old',
      at_finish: true,
      next_in: 3600,
    });

    const state = async () => [await syncLogsOf(connector), await connectorRow(connector)];
    for (const status of ['success', 'failed']) {
      await expectRefused(
        () => call(service, 'select public.finish_connector_sync($1, $2)', [run.sync_log_id, status]),
        '55000',
        /lost its lease \(status success\)/,
        state,
      );
    }
  });

  it('counts failures in error_count, keeps it on partial/cancelled, resets it on success, and schedules by frequency', async () => {
    const t = await seedTenancy(db);
    const expectations: [string, number | null][] = [
      ['manual', null],
      ['hourly', 3600],
      ['daily', 86_400],
      ['weekly', 604_800],
    ];
    for (const [frequency, seconds] of expectations) {
      const connector = await insertConnector(db, t.orgA, { name: frequency, syncFrequency: frequency });
      const finish = async (status: string, message: string | null) => {
        const run = await startSync(connector);
        await call(service, 'select public.finish_connector_sync($1, $2, null, $3)', [
          run.sync_log_id,
          status,
          message,
        ]);
        const [row] = await rowsOf(
          `select last_sync_status, error_count, last_error, last_error_at is not null as has_error_at,
                  extract(epoch from next_sync_at - last_sync_at)::int as next_in
           from public.connector_configs where id = $1`,
          [connector],
        );
        return row;
      };
      expect(await finish('failed', 'token revoked')).toEqual({
        last_sync_status: 'failed',
        error_count: 1,
        last_error: 'token revoked',
        has_error_at: true,
        next_in: seconds,
      });
      expect(await finish('failed', null)).toMatchObject({ error_count: 2, last_error: 'token revoked' });
      expect(await finish('partial', '3 files failed')).toMatchObject({
        last_sync_status: 'partial',
        error_count: 2,
        last_error: '3 files failed',
      });
      expect(await finish('cancelled', null)).toMatchObject({
        last_sync_status: 'cancelled',
        error_count: 2,
      });
      expect(await finish('success', null)).toMatchObject({ last_sync_status: 'success', error_count: 0 });
    }
    // The failed run keeps its message on the log row too.
    const connector = await insertConnector(db, t.orgA, { name: 'log row' });
    const run = await startSync(connector);
    const row = await callOne(
      service,
      `select status, error_message, error_details from public.finish_connector_sync($1, 'failed', '{}', 'boom', '{"at": "page 3"}')`,
      [run.sync_log_id],
    );
    expect(row).toEqual({ status: 'failed', error_message: 'boom', error_details: { at: 'page 3' } });
  });

  it('refuses a bad status or counts (22023), an unknown run (P0002) and changes nothing', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const run = await startSync(connector);
    const state = async () => [await syncLogsOf(connector), await connectorRow(connector)];
    const finish = (id: string | null, status: string | null, counts: string) => () =>
      call(service, `select public.finish_connector_sync($1, $2, ${counts})`, [id, status]);
    await expectRefused(finish(run.sync_log_id, 'done', "'{}'"), '22023', /p_status must be success/, state);
    await expectRefused(finish(run.sync_log_id, 'running', "'{}'"), '22023', /got running/, state);
    await expectRefused(finish(run.sync_log_id, null, "'{}'"), '22023', /got null/, state);
    await expectRefused(
      finish(run.sync_log_id, 'success', "'[1]'"),
      '22023',
      /p_counts must be a JSON object/,
      state,
    );
    await expectRefused(finish(randomUUID(), 'success', "'{}'"), 'P0002', /not found/, state);
    await expectRefused(finish(null, 'success', "'{}'"), '22004', /is null/, state);
    // A negative count breaks the table's check: refused as an invalid value (0012), the whole call undone.
    await expectRefused(
      finish(run.sync_log_id, 'success', `'{"documents_synced": -1}'`),
      '22023',
      /finish_connector_sync: a value breaks connector_sync_logs_counts_check/,
      state,
    );
  });

  it('refuses a p_counts.metadata that is not an object (22023) and changes nothing', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const [run] = await call<{ sync_log_id: string }>(
      service,
      'select * from public.start_connector_sync($1)',
      [connector],
    );
    await expectRefused(
      () =>
        call(service, `select public.finish_connector_sync($1, 'success', '{"metadata": "oops"}')`, [
          run?.sync_log_id,
        ]),
      '22023',
      /metadata/,
      () =>
        rowsOf('select status, metadata from public.connector_sync_logs where id = $1', [run?.sync_log_id]),
    );
  });

  it("are for workers only: a signed-in owner (own or another organisation's run) gets 42501 and nothing changes", async () => {
    const t = await seedTenancy(db);
    const connectorA = await insertConnector(db, t.orgA);
    const connectorB = await insertConnector(db, t.orgB);
    const runA = await startSync(connectorA);
    const runB = await startSync(connectorB);
    const state = async () => [
      await syncLogsOf(connectorA),
      await syncLogsOf(connectorB),
      await connectorRow(connectorA),
      await connectorRow(connectorB),
    ];
    for (const actor of [user(t.ownerA), user(t.adminA), anon]) {
      for (const [connector, run] of [
        [connectorA, runA],
        [connectorB, runB],
      ] as const) {
        for (const [sql, params] of [
          ['select * from public.start_connector_sync($1)', [connector]],
          ['select public.heartbeat_connector_sync($1)', [run.sync_log_id]],
          [`select public.commit_sync_checkpoint($1, '{"page": 1}')`, [run.sync_log_id]],
          ["select public.finish_connector_sync($1, 'success')", [run.sync_log_id]],
        ] as const) {
          await expectRefused(
            () => call(actor, sql, params),
            '42501',
            /permission denied for function/,
            state,
          );
        }
      }
    }
    // Members read their own organisation's runs only.
    const visible = await call<{ id: string }>(
      user(t.memberA),
      'select id from public.connector_sync_logs where id = any ($1::uuid[])',
      [[runA.sync_log_id, runB.sync_log_id]],
    );
    expect(visible.map((row) => row.id)).toEqual([runA.sync_log_id]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('record_webhook_event / complete_webhook_event', () => {
  const record = (
    connectorId: string | null,
    source: string | null,
    eventId: string | null,
    payload = '{"n": 1}',
  ) =>
    call<{ webhook_event_id: string; is_new: boolean; processed: boolean }>(
      service,
      `select * from public.record_webhook_event($1, $2, $3, 'file.changed', $4::jsonb, '{"x-signature": "s"}')`,
      [connectorId, source, eventId, payload],
    );

  it("keeps organisations apart: the same event id on another organisation's connector is a new event", async () => {
    const t = await seedTenancy(db);
    const connectorA = await insertConnector(db, t.orgA);
    const connectorB = await insertConnector(db, t.orgB);
    const eventId = `msg-${randomUUID()}`;
    const [a] = await record(connectorA, 'google_drive', eventId);
    const [b] = await record(connectorB, 'google_drive', eventId);
    expect(b).toEqual({ webhook_event_id: expect.any(String), is_new: true, processed: false });
    expect(b?.webhook_event_id).not.toBe(a?.webhook_event_id);
    expect(
      await rowsOf('select org_id, connector_id from public.connector_webhook_events where id = $1', [
        b?.webhook_event_id,
      ]),
    ).toEqual([{ org_id: t.orgB, connector_id: connectorB }]);
  });

  it('never stores credential-carrying headers (members can read events)', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const [event] = await call<{ webhook_event_id: string }>(
      service,
      `select * from public.record_webhook_event($1, 'google_drive', $2, 'change', '{}'::jsonb, $3::jsonb)`,
      [
        connector,
        `evt-${randomUUID()}`,
        JSON.stringify({
          Authorization: 'Bearer abc',
          'X-Goog-Channel-Token': 'channel-secret',
          Cookie: 'sid=1',
          'X-Api-Key': 'k',
          'X-Goog-Resource-State': 'update',
          'Content-Type': 'application/json',
        }),
      ],
    );
    expect(
      await rowsOf('select headers from public.connector_webhook_events where id = $1', [
        event?.webhook_event_id,
      ]),
    ).toEqual([{ headers: { 'x-goog-resource-state': 'update', 'content-type': 'application/json' } }]);
  });

  it('records a delivery once: is_new true the first time, then false with the same row', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const eventId = `evt-${randomUUID()}`;
    const [first] = await record(connector, 'google_drive', eventId);
    expect(first).toEqual({ webhook_event_id: expect.any(String), is_new: true, processed: false });
    const [second] = await record(connector, 'google_drive', eventId, '{"n": 2}');
    expect(second).toEqual({
      webhook_event_id: defined(first).webhook_event_id,
      is_new: false,
      processed: false,
    });
    const rows = await rowsOf('select * from public.connector_webhook_events where connector_id = $1', [
      connector,
    ]);
    expect(rows).toHaveLength(1);
    // The first delivery's payload is kept.
    expect(rows[0]).toMatchObject({
      org_id: t.orgA,
      event_source: 'google_drive',
      event_id: eventId,
      event_type: 'file.changed',
      payload: { n: 1 },
      headers: { 'x-signature': 's' },
      processed: false,
      retry_count: 0,
    });
    // Another source with the same event id is another event.
    const [otherSource] = await record(connector, 'notion', eventId);
    expect(defined(otherSource).is_new).toBe(true);

    await call(service, 'select public.complete_webhook_event($1)', [defined(first).webhook_event_id]);
    const [third] = await record(connector, 'google_drive', eventId);
    expect(third).toEqual({
      webhook_event_id: defined(first).webhook_event_id,
      is_new: false,
      processed: true,
    });
  });

  it('completes an event with an error (retry_count + 1) and then without (processed)', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const [event] = await record(connector, 'zoom', `evt-${randomUUID()}`);
    const complete = (error: string | null) =>
      callOne(
        service,
        `select processed, processed_at is not null as has_processed_at, processing_error, retry_count
         from public.complete_webhook_event($1, $2)`,
        [defined(event).webhook_event_id, error],
      );
    expect(await complete('timeout')).toEqual({
      processed: false,
      has_processed_at: false,
      processing_error: 'timeout',
      retry_count: 1,
    });
    expect(await complete('x'.repeat(5000))).toEqual({
      processed: false,
      has_processed_at: false,
      processing_error: 'x'.repeat(4000),
      retry_count: 2,
    });
    expect(await complete(null)).toEqual({
      processed: true,
      has_processed_at: true,
      processing_error: null,
      retry_count: 2,
    });
  });

  it('refuses missing fields (22004), an unknown connector or event (P0002), a bad source (22023)', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const state = () => rowsOf('select * from public.connector_webhook_events where org_id = $1', [t.orgA]);
    const eventId = `evt-${randomUUID()}`;
    await expectRefused(() => record(connector, null, eventId), '22004', /are required/, state);
    await expectRefused(() => record(connector, 'zoom', null), '22004', /are required/, state);
    await expectRefused(
      () =>
        call(service, `select * from public.record_webhook_event($1, 'zoom', 'e', null, '{}')`, [connector]),
      '22004',
      /are required/,
      state,
    );
    await expectRefused(
      () =>
        call(service, `select * from public.record_webhook_event($1, 'zoom', 'e', 't', null)`, [connector]),
      '22004',
      /are required/,
      state,
    );
    await expectRefused(
      () => record(randomUUID(), 'zoom', eventId),
      'P0002',
      /connector .* not found/,
      state,
    );
    await expectRefused(() => record(null, 'zoom', eventId), '22004', /p_connector_id is null/, state);
    await expectRefused(
      () => record(connector, 'Not A Source', eventId),
      '22023',
      /event_source_check/,
      state,
    );
    await expectRefused(
      () => call(service, 'select public.complete_webhook_event($1)', [randomUUID()]),
      'P0002',
      /webhook event .* not found/,
      state,
    );
    await expectRefused(
      () => call(service, 'select public.complete_webhook_event(null)'),
      'P0002',
      /not found/,
      state,
    );
  });

  it('are for workers only (42501 for signed-in users and anon, nothing changed)', async () => {
    const t = await seedTenancy(db);
    const connectorA = await insertConnector(db, t.orgA);
    const connectorB = await insertConnector(db, t.orgB);
    const [eventB] = await record(connectorB, 'zoom', `evt-${randomUUID()}`);
    const state = () =>
      rowsOf('select * from public.connector_webhook_events where org_id = any ($1::uuid[]) order by id', [
        [t.orgA, t.orgB],
      ]);
    for (const actor of [user(t.ownerA), user(t.memberB), anon]) {
      for (const connector of [connectorA, connectorB]) {
        await expectRefused(
          () =>
            call(actor, `select * from public.record_webhook_event($1, 'zoom', 'e-1', 't', '{}')`, [
              connector,
            ]),
          '42501',
          /permission denied for function/,
          state,
        );
      }
      await expectRefused(
        () =>
          call(actor, `select public.complete_webhook_event($1, 'x')`, [defined(eventB).webhook_event_id]),
        '42501',
        /permission denied for function/,
        state,
      );
    }
    // A member of A does not see B's events.
    const visible = await call(
      user(t.memberA),
      'select id from public.connector_webhook_events where id = $1',
      [defined(eventB).webhook_event_id],
    );
    expect(visible).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('upsert_documents', () => {
  it('reports inserted, unchanged, updated, and a revived soft-deleted document as updated', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const inserted = await upsertDocuments(connector, [
      sourceDocument('doc-1', 'alpha'),
      sourceDocument('doc-2', 'beta'),
      sourceDocument('doc-3', 'gamma', { storage_path: 'a/doc-3.txt', metadata: { lang: 'en' } }),
    ]);
    expect(inserted.map((row) => [row.external_id, row.action, row.previous_content_hash])).toEqual([
      ['doc-1', 'inserted', null],
      ['doc-2', 'inserted', null],
      ['doc-3', 'inserted', null],
    ]);
    const ids = Object.fromEntries(inserted.map((row) => [row.external_id, row.document_id]));
    const stored = await documentsOf(connector);
    expect(
      stored.map((row) => [row.id, row.org_id, row.processing_status, row.sync_count, row.is_deleted]),
    ).toEqual([
      [ids['doc-1'], t.orgA, 'pending', 1, false],
      [ids['doc-2'], t.orgA, 'pending', 1, false],
      [ids['doc-3'], t.orgA, 'pending', 1, false],
    ]);

    // The pipeline processed all three.
    await db.query(
      `update public.imported_documents set processing_status = 'completed', chunks_generated = true,
         embeddings_generated = true, chunk_count = 2 where connector_id = $1`,
      [connector],
    );
    await call(service, "select public.soft_delete_documents($1, array['doc-3'])", [connector]);

    const second = await upsertDocuments(connector, [
      sourceDocument('doc-1', 'alpha', { title: 'Renamed' }),
      sourceDocument('doc-2', 'beta, edited'),
      sourceDocument('doc-3', 'gamma', { metadata: { pages: 1 } }),
      sourceDocument('doc-4', 'delta'),
    ]);
    expect(second.map((row) => [row.external_id, row.action, row.previous_content_hash])).toEqual([
      ['doc-1', 'unchanged', sha256Hex('alpha')],
      ['doc-2', 'updated', sha256Hex('beta')],
      ['doc-3', 'updated', sha256Hex('gamma')],
      ['doc-4', 'inserted', null],
    ]);
    // Identity is kept: the same row ids.
    expect(second.slice(0, 3).map((row) => row.document_id)).toEqual([
      ids['doc-1'],
      ids['doc-2'],
      ids['doc-3'],
    ]);

    const after = Object.fromEntries((await documentsOf(connector)).map((row) => [row.external_id, row]));
    expect(after['doc-1']).toMatchObject({
      title: 'Renamed',
      processing_status: 'completed',
      chunks_generated: true,
      embeddings_generated: true,
      sync_count: 2,
    });
    expect(after['doc-2']).toMatchObject({
      content: 'beta, edited',
      content_hash: sha256Hex('beta, edited'),
      processing_status: 'pending',
      processing_error: null,
      chunks_generated: false,
      embeddings_generated: false,
      sync_count: 2,
    });
    expect(after['doc-3']).toMatchObject({
      is_deleted: false,
      deleted_at: null,
      processing_status: 'pending',
      chunks_generated: false,
      storage_path: 'a/doc-3.txt',
      metadata: { lang: 'en', pages: 1 },
    });
    expect(after['doc-4']).toMatchObject({ processing_status: 'pending', sync_count: 1 });
  });

  it('keeps documents of different connectors apart and takes the organisation from the connector', async () => {
    const t = await seedTenancy(db);
    const connectorA = await insertConnector(db, t.orgA);
    const connectorB = await insertConnector(db, t.orgB);
    await upsertDocuments(connectorA, [sourceDocument('same-id', 'a')]);
    // An org_id smuggled into the payload is ignored: B's connector writes B's rows.
    const [row] = await upsertDocuments(connectorB, [sourceDocument('same-id', 'a', { org_id: t.orgA })]);
    expect(defined(row).action).toBe('inserted');
    const [stored] = await documentsOf(connectorB);
    expect(defined(stored).org_id).toBe(t.orgB);
    expect(await documentsOf(connectorA)).toHaveLength(1);
  });

  it('refuses bad batches (22023) and an unknown connector (P0002), writing nothing', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    await upsertDocuments(connector, [sourceDocument('existing', 'old text')]);
    const state = () => documentsOf(connector);
    const tooMany = Array.from({ length: 1001 }, (_, index) =>
      sourceDocument(`bulk-${index}`, `text ${index}`),
    );
    const cases: [unknown, RegExp][] = [
      [tooMany, /holds 1001 documents; send at most 1000/],
      [[sourceDocument('dup', 'a'), sourceDocument('dup', 'b')], /external_id values must be unique/],
      [[sourceDocument('ok', 'a'), { title: 'no id', content: 'x' }], /needs a non-empty external_id/],
      [[sourceDocument('ok', 'a'), { external_id: '', content: 'x' }], /needs a non-empty external_id/],
      [[sourceDocument('ok', 'a'), 'not an object'], /every element must be a JSON object/],
      [sourceDocument('ok', 'a'), /must be a JSON array/],
      ['just a string', /must be a JSON array/],
      [null, /must be a JSON array/],
    ];
    for (const [documents, message] of cases) {
      await expectRefused(
        () =>
          call(service, 'select * from public.upsert_documents($1, $2::jsonb)', [
            connector,
            documents === null ? null : JSON.stringify(documents),
          ]),
        '22023',
        message,
        state,
      );
    }
    // Exactly 1000 is fine (then undone: the transaction is rolled back).
    const thousand = tooMany.slice(0, 1000);
    const written = await actAs(db, service, async (tx) => {
      const { rows } = await tx.query<{ n: number }>(
        'select count(*)::int as n from public.upsert_documents($1, $2::jsonb)',
        [connector, JSON.stringify(thousand)],
      );
      return defined(rows[0]).n;
    });
    expect(written).toBe(1000);
    await expectRefused(
      () => upsertDocuments(randomUUID(), [sourceDocument('x', 'y')]),
      'P0002',
      /connector .* not found/,
      state,
    );
    await expectRefused(
      () => upsertDocuments(null, [sourceDocument('x', 'y')]),
      '22004',
      /p_connector_id is null/,
      state,
    );
    // One bad row (its hash breaks the table's check) undoes the whole call, including the good rows.
    await expectRefused(
      () =>
        upsertDocuments(connector, [
          sourceDocument('fine', 'x'),
          { external_id: 'bad-hash', content_hash: 'XYZ' },
        ]),
      '22023',
      /content_hash_check/,
      state,
    );
    // Not for signed-in users, whichever organisation.
    for (const actor of [user(t.ownerA), user(t.memberB), anon]) {
      await expectRefused(
        () =>
          call(actor, 'select * from public.upsert_documents($1, $2::jsonb)', [
            connector,
            JSON.stringify([sourceDocument('x', 'y')]),
          ]),
        '42501',
        /permission denied for function/,
        state,
      );
    }
  });
});

// -------------------------------------------------------------------------------------------------
describe('mark_documents_seen / soft_delete_documents', () => {
  it("mark the connector's live documents seen, and only those", async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const sibling = await insertConnector(db, t.orgA, { name: 'Sibling' });
    for (const externalId of ['a', 'b', 'c']) {
      await insertDocument(t.orgA, connector, { externalId, lastSeenAgo: '1 hour' });
      await insertDocument(t.orgA, sibling, { externalId, lastSeenAgo: '1 hour' });
    }
    await insertDocument(t.orgA, connector, {
      externalId: 'gone',
      lastSeenAgo: '1 hour',
      deletedAgo: '1 hour',
    });
    const before = Object.fromEntries((await documentsOf(connector)).map((row) => [row.external_id, row]));
    const siblingBefore = await documentsOf(sibling);

    const [{ n }] = (await call<{ n: number }>(service, 'select public.mark_documents_seen($1, $2) as n', [
      connector,
      ['a', 'b', 'gone', 'missing'],
    ])) as [{ n: number }];
    expect(n).toBe(2);
    const after = Object.fromEntries((await documentsOf(connector)).map((row) => [row.external_id, row]));
    for (const externalId of ['a', 'b']) {
      expect(defined(after[externalId]).sync_count).toBe(2);
      expect((defined(after[externalId]).last_seen_at as Date).getTime()).toBeGreaterThan(
        (defined(before[externalId]).last_seen_at as Date).getTime(),
      );
    }
    expect(after.c).toEqual(before.c);
    expect(after.gone).toEqual(before.gone);
    expect(await documentsOf(sibling)).toEqual(siblingBefore);

    for (const ids of [[], null]) {
      const [row] = await call<{ n: number }>(service, 'select public.mark_documents_seen($1, $2) as n', [
        connector,
        ids,
      ]);
      expect(defined(row).n).toBe(0);
    }
  });

  it("soft-delete the connector's documents by external id, once", async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const sibling = await insertConnector(db, t.orgA, { name: 'Sibling' });
    for (const externalId of ['a', 'b']) {
      await insertDocument(t.orgA, connector, { externalId });
      await insertDocument(t.orgA, sibling, { externalId });
    }
    const siblingBefore = await documentsOf(sibling);
    const softDelete = async (ids: string[] | null) =>
      (
        await callOne<{ n: number }>(service, 'select public.soft_delete_documents($1, $2) as n', [
          connector,
          ids,
        ])
      ).n;
    expect(await softDelete(['a', 'missing'])).toBe(1);
    const [first] = await documentsOf(connector);
    expect(first).toMatchObject({ external_id: 'a', is_deleted: true, deleted_at: expect.any(Date) });
    // Deleting again counts nothing and keeps the first deleted_at (the retention clock).
    expect(await softDelete(['a'])).toBe(0);
    expect((await documentsOf(connector))[0]).toEqual(first);
    expect(await softDelete(null)).toBe(0);
    expect(await documentsOf(sibling)).toEqual(siblingBefore);
    // Chunks stay until the retention job purges the row.
    expect((await documentsOf(connector))[1]).toMatchObject({ external_id: 'b', is_deleted: false });
  });

  it('are for workers only (42501, nothing changed)', async () => {
    const t = await seedTenancy(db);
    const connectorA = await insertConnector(db, t.orgA);
    const connectorB = await insertConnector(db, t.orgB);
    await insertDocument(t.orgA, connectorA, { externalId: 'a' });
    await insertDocument(t.orgB, connectorB, { externalId: 'a' });
    const state = async () => [await documentsOf(connectorA), await documentsOf(connectorB)];
    for (const actor of [user(t.ownerA), user(t.memberA), anon]) {
      for (const connector of [connectorA, connectorB]) {
        for (const fn of ['mark_documents_seen', 'soft_delete_documents']) {
          await expectRefused(
            () => call(actor, `select public.${fn}($1, array['a'])`, [connector]),
            '42501',
            /permission denied for function/,
            state,
          );
        }
      }
    }
  });
});

// -------------------------------------------------------------------------------------------------
describe('sweep_unseen_documents', () => {
  /** A connector with `count` live documents last seen a day ago, and a running full sync. */
  async function connectorWithDocuments(orgId: string, count: number) {
    const connector = await insertConnector(db, orgId);
    for (let index = 0; index < count; index++) {
      await insertDocument(orgId, connector, { externalId: `doc-${index}`, lastSeenAgo: '1 day' });
    }
    const run = await startSync(connector);
    return { connector, run };
  }
  const markSeen = (connector: string, count: number) =>
    call(service, 'select public.mark_documents_seen($1, $2)', [
      connector,
      Array.from({ length: count }, (_, index) => `doc-${index}`),
    ]);
  const sweep = (syncLogId: string | null, fraction: string | number | null = 0.5) =>
    callOne<{ swept: number; unseen: number; total: number; refused: boolean }>(
      service,
      'select * from public.sweep_unseen_documents($1, $2)',
      [syncLogId, fraction],
    );
  const liveIds = async (connector: string) =>
    (await documentsOf(connector)).filter((row) => !row.is_deleted).map((row) => row.external_id);

  it("soft-deletes the run's connector's live documents not seen since the run started, and only those", async () => {
    const t = await seedTenancy(db);
    const { connector, run } = await connectorWithDocuments(t.orgA, 10);
    // A sibling connector with stale documents, and an already deleted one, are left alone.
    const sibling = await insertConnector(db, t.orgA, { name: 'Sibling' });
    await insertDocument(t.orgA, sibling, { externalId: 'doc-0', lastSeenAgo: '1 day' });
    await insertDocument(t.orgA, connector, {
      externalId: 'old-deleted',
      lastSeenAgo: '9 days',
      deletedAgo: '2 days',
    });
    const siblingBefore = await documentsOf(sibling);
    const deletedBefore = (await documentsOf(connector)).find((row) => row.external_id === 'old-deleted');

    await markSeen(connector, 8);
    expect(await sweep(run.sync_log_id)).toEqual({ swept: 2, unseen: 2, total: 10, refused: false });
    expect(await liveIds(connector)).toEqual([
      'doc-0',
      'doc-1',
      'doc-2',
      'doc-3',
      'doc-4',
      'doc-5',
      'doc-6',
      'doc-7',
    ]);
    expect(await documentsOf(sibling)).toEqual(siblingBefore);
    expect((await documentsOf(connector)).find((row) => row.external_id === 'old-deleted')).toEqual(
      deletedBefore,
    );
    // Sweeping again finds nothing more.
    expect(await sweep(run.sync_log_id)).toEqual({ swept: 0, unseen: 0, total: 8, refused: false });
  });

  it('refuses (refused = true, nothing deleted) when more than p_max_fraction would go', async () => {
    const t = await seedTenancy(db);
    const { connector, run } = await connectorWithDocuments(t.orgA, 10);
    await markSeen(connector, 3); // 7 of 10 unseen
    const before = await documentsOf(connector);
    expect(await sweep(run.sync_log_id, 0.5)).toEqual({ swept: 0, unseen: 7, total: 10, refused: true });
    expect(await sweep(run.sync_log_id, 0.69)).toEqual({ swept: 0, unseen: 7, total: 10, refused: true });
    expect(await documentsOf(connector)).toEqual(before);
    // Exactly at the limit is allowed.
    expect(await sweep(run.sync_log_id, 0.7)).toEqual({ swept: 7, unseen: 7, total: 10, refused: false });
    expect(await liveIds(connector)).toEqual(['doc-0', 'doc-1', 'doc-2']);
  });

  it('applies the bounds: fraction 0 allows no deletion, 1 allows all', async () => {
    const t = await seedTenancy(db);
    const zero = await connectorWithDocuments(t.orgA, 4);
    await markSeen(zero.connector, 3);
    expect(await sweep(zero.run.sync_log_id, 0)).toEqual({ swept: 0, unseen: 1, total: 4, refused: true });
    await markSeen(zero.connector, 4);
    expect(await sweep(zero.run.sync_log_id, 0)).toEqual({ swept: 0, unseen: 0, total: 4, refused: false });

    const all = await connectorWithDocuments(t.orgA, 4);
    expect(await sweep(all.run.sync_log_id, 1)).toEqual({ swept: 4, unseen: 4, total: 4, refused: false });
    expect(await liveIds(all.connector)).toEqual([]);
  });

  it('refuses a fraction outside 0..1 or null (22023), a lost lease (55000), unknown (P0002), null (22004)', async () => {
    const t = await seedTenancy(db);
    const { connector, run } = await connectorWithDocuments(t.orgA, 4);
    const state = () => documentsOf(connector);
    for (const fraction of [-0.01, 1.01, null, 5]) {
      await expectRefused(
        () => sweep(run.sync_log_id, fraction),
        '22023',
        /p_max_fraction must be between 0 and 1/,
        state,
      );
    }
    await expectRefused(() => sweep(randomUUID(), 1), 'P0002', /sync run .* not found/, state);
    await expectRefused(() => sweep(null, 1), '22004', /p_sync_log_id is null/, state);
    for (const actor of [user(t.ownerA), anon]) {
      await expectRefused(
        () => call(actor, 'select * from public.sweep_unseen_documents($1, 1)', [run.sync_log_id]),
        '42501',
        /permission denied for function/,
        state,
      );
    }
    // A finished run cannot sweep, nor can one whose lease expired.
    await call(service, "select public.finish_connector_sync($1, 'success')", [run.sync_log_id]);
    await expectRefused(() => sweep(run.sync_log_id, 1), '55000', /lost its lease \(status success\)/, state);
    const next = await startSync(connector);
    await expireLease(next.sync_log_id);
    await expectRefused(
      () => sweep(next.sync_log_id, 1),
      '55000',
      /lost its lease \(status running\)/,
      state,
    );
  });
});

// -------------------------------------------------------------------------------------------------
describe('set_connector_secrets / get_connector_secrets', () => {
  it('stores and merges secrets; credentials_updated_at moves only when credentials change', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    const get = () =>
      call<{ credentials: unknown; webhook_secret: string | null; updated_at: Date }>(
        service,
        'select * from public.get_connector_secrets($1)',
        [connector],
      );
    const credentialsUpdatedAt = async () =>
      (await connectorRow(connector)).credentials_updated_at as Date | null;
    // An existing connector without secrets: one row of nulls at revision 0 (0011).
    expect(await get()).toEqual([
      expect.objectContaining({ credentials: null, webhook_secret: null, revision: 0 }),
    ]);
    expect(await credentialsUpdatedAt()).toBeNull();

    await call(service, `select public.set_connector_secrets($1, '{"token": "t-1"}')`, [connector]);
    const [first] = await get();
    expect(first).toMatchObject({ credentials: { token: 't-1' }, webhook_secret: null });
    const firstAt = await credentialsUpdatedAt();
    expect(firstAt).toBeInstanceOf(Date);

    // Only the webhook secret: credentials and credentials_updated_at stay.
    await call(service, "select public.set_connector_secrets($1, null, 'whsec-1')", [connector]);
    const [second] = await get();
    expect(second).toMatchObject({ credentials: { token: 't-1' }, webhook_secret: 'whsec-1' });
    expect(defined(second).updated_at.getTime()).toBeGreaterThan(defined(first).updated_at.getTime());
    expect(await credentialsUpdatedAt()).toEqual(firstAt);

    await call(service, `select public.set_connector_secrets($1, '{"token": "t-2"}')`, [connector]);
    const [third] = await get();
    expect(third).toMatchObject({ credentials: { token: 't-2' }, webhook_secret: 'whsec-1' });
    expect(defined(await credentialsUpdatedAt()).getTime()).toBeGreaterThan(defined(firstAt).getTime());

    // Secrets never appear on the connector row itself.
    const columns = Object.keys(await connectorRow(connector));
    expect(columns).not.toContain('credentials');
    expect(columns).not.toContain('webhook_secret');
  });

  it('refuses an unknown connector (P0002) and every client role (42501), which cannot read the table either', async () => {
    const t = await seedTenancy(db);
    const connector = await insertConnector(db, t.orgA);
    await call(service, `select public.set_connector_secrets($1, '{"token": "secret"}', 'whsec')`, [
      connector,
    ]);
    const state = async () => [
      await rowsOf('select * from tributary_private.connector_secrets where connector_id = $1', [connector]),
      await connectorRow(connector),
    ];
    await expectRefused(
      () => call(service, `select public.set_connector_secrets($1, '{"token": "x"}')`, [randomUUID()]),
      'P0002',
      /connector .* not found/,
      state,
    );
    // 0011: an unknown connector is refused, not answered with zero rows.
    await expectRefused(
      () => call(service, 'select * from public.get_connector_secrets($1)', [randomUUID()]),
      'P0002',
      /connector .* not found/,
      state,
    );
    for (const actor of [user(t.ownerA), user(t.adminA), user(t.memberB), anon]) {
      await expectRefused(
        () => call(actor, `select public.set_connector_secrets($1, '{"token": "stolen"}')`, [connector]),
        '42501',
        /permission denied for function/,
        state,
      );
      await expectRefused(
        () => call(actor, 'select * from public.get_connector_secrets($1)', [connector]),
        '42501',
        /permission denied for function/,
        state,
      );
      const direct = await failure(call(actor, 'select * from tributary_private.connector_secrets'));
      expect(direct.code).toBe('42501');
    }
  });
});

// -------------------------------------------------------------------------------------------------
describe('deleting a connector', () => {
  /** A connector with documents, chunks, runs, secrets, webhook events and an upload batch. */
  async function populatedConnector(orgId: string, name: string) {
    const connector = await insertConnector(db, orgId, { name });
    const live = await insertDocument(orgId, connector, { externalId: 'live', status: 'completed' });
    await insertChunks(orgId, live, 2);
    await insertDocument(orgId, connector, { externalId: 'live-2' });
    await insertDocument(orgId, connector, { externalId: 'already-deleted', deletedAgo: '3 days' });
    const run = await startSync(connector);
    await call(service, "select public.finish_connector_sync($1, 'success')", [run.sync_log_id]);
    await call(service, `select public.set_connector_secrets($1, '{"token": "t"}', 'whsec')`, [connector]);
    await call(service, `select * from public.record_webhook_event($1, 'zoom', $2, 't', '{}')`, [
      connector,
      `evt-${randomUUID()}`,
    ]);
    await db.query(
      'insert into public.file_upload_batches (org_id, connector_id, total_files) values ($1, $2, 3)',
      [orgId, connector],
    );
    return { connector, live };
  }
  const everything = async (orgId: string) => ({
    connectors: await rowsOf('select * from public.connector_configs where org_id = $1 order by id', [orgId]),
    documents: await rowsOf('select * from public.imported_documents where org_id = $1 order by id', [orgId]),
    chunks: await rowsOf('select * from public.document_chunks where org_id = $1 order by id', [orgId]),
    runs: await rowsOf('select * from public.connector_sync_logs where org_id = $1 order by id', [orgId]),
    events: await rowsOf('select * from public.connector_webhook_events where org_id = $1 order by id', [
      orgId,
    ]),
    batches: await rowsOf('select * from public.file_upload_batches where org_id = $1 order by id', [orgId]),
    secrets: await rowsOf(
      `select s.* from tributary_private.connector_secrets s
       join public.connector_configs c on c.id = s.connector_id where c.org_id = $1 order by s.connector_id`,
      [orgId],
    ),
  });

  for (const [label, actorOf] of [
    ['the service role', () => service],
    ['an admin of the organisation', (t: Awaited<ReturnType<typeof seedTenancy>>) => user(t.adminA)],
  ] as const) {
    it(`as ${label}: soft-deletes its documents and keeps them and its runs with connector_id null`, async () => {
      const t = await seedTenancy(db);
      const { connector, live } = await populatedConnector(t.orgA, 'Doomed');
      await populatedConnector(t.orgA, 'Survivor');
      const before = await everything(t.orgA);
      const doomedDocuments = before.documents.filter((row) => row.connector_id === connector);

      const deleted = await call(
        actorOf(t),
        'delete from public.connector_configs where id = $1 returning id',
        [connector],
      );
      expect(deleted).toEqual([{ id: connector }]);
      const after = await everything(t.orgA);

      expect(after.connectors.map((row) => row.id)).toEqual(
        before.connectors.filter((row) => row.id !== connector).map((row) => row.id),
      );
      // Documents: all kept, all soft-deleted, connector_id cleared; the old deletion keeps its date.
      const orphaned = after.documents.filter((row) => doomedDocuments.some((doc) => doc.id === row.id));
      expect(orphaned).toHaveLength(3);
      for (const row of orphaned) {
        expect(row).toMatchObject({ connector_id: null, is_deleted: true, deleted_at: expect.any(Date) });
      }
      const old = defined(doomedDocuments.find((row) => row.external_id === 'already-deleted'));
      expect(defined(orphaned.find((row) => row.id === old.id)).deleted_at).toEqual(old.deleted_at);
      // Chunks go only when the retention job purges the documents.
      expect(after.chunks.filter((row) => row.document_id === live)).toHaveLength(2);
      // Runs are history: kept, connector_id cleared.
      const doomedRuns = before.runs.filter((row) => row.connector_id === connector);
      expect(after.runs.filter((row) => doomedRuns.some((run) => run.id === row.id))).toEqual(
        doomedRuns.map((row) => ({ ...row, connector_id: null })),
      );
      // Batches are kept with connector_id cleared.
      const doomedBatches = before.batches.filter((row) => row.connector_id === connector);
      expect(doomedBatches).toHaveLength(1);
      expect(after.batches.find((row) => row.id === defined(doomedBatches[0]).id)).toMatchObject({
        connector_id: null,
      });
      // Secrets and webhook events go with the connector.
      expect(after.secrets.map((row) => row.connector_id)).not.toContain(connector);
      expect(
        await rowsOf('select 1 from tributary_private.connector_secrets where connector_id = $1', [
          connector,
        ]),
      ).toEqual([]);
      expect(after.events.map((row) => row.connector_id)).not.toContain(connector);
      expect(after.events).toHaveLength(1);

      // The surviving connector's rows are untouched.
      const survivorOf = (state: typeof before) => ({
        documents: state.documents.filter(
          (row) => row.connector_id !== connector && !doomedDocuments.some((d) => d.id === row.id),
        ),
        secrets: state.secrets.filter((row) => row.connector_id !== connector),
        events: state.events.filter((row) => row.connector_id !== connector),
      });
      expect(survivorOf(after)).toEqual(survivorOf(before));

      // The orphaned documents are purged by the retention job like any other soft-deleted row.
      await actAs(db, service, async (tx) => {
        await tx.query(
          "update public.imported_documents set deleted_at = now() - interval '100 days' where id = any ($1::uuid[])",
          [orphaned.map((row) => row.id)],
        );
        const { rows } = await tx.query('select deleted_files from public.cleanup_old_connector_imports(90)');
        expect(rows).toEqual([{ deleted_files: 3 }]);
      });
    });
  }

  it('a plain member, or an admin of another organisation, deletes nothing', async () => {
    const t = await seedTenancy(db);
    const { connector } = await populatedConnector(t.orgA, 'Kept');
    const before = await everything(t.orgA);
    for (const actor of [user(t.memberA), user(t.memberB), user(t.outsider), anon]) {
      const result = await actAs(db, actor, async (tx) => {
        try {
          return (
            await tx.query('delete from public.connector_configs where id = $1 returning id', [connector])
          ).rows;
        } catch (error) {
          return (error as { code?: string }).code;
        }
      });
      // anon has no DELETE privilege (42501); signed-in non-admins see no row to delete.
      expect(result).toEqual(actor.role === 'anon' ? '42501' : []);
      expect(await everything(t.orgA)).toEqual(before);
    }
  });
});
