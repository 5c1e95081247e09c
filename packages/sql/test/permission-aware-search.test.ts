// Permission-aware search (0018): for random ACLs and random callers, a member of the organisation
// sees exactly the documents (and chunks) of `source`-mode connectors that name one of their
// principals, plus everything of `org`-mode connectors and uploads; through the search RPC (full
// text and vectors) and through direct selects under RLS. On PGlite and on the real server.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase, SqlQueryable } from '../src/index.js';
import {
  createMigratedPglite,
  insertConnector,
  type MigratedServer,
  rolledBack,
  seedTenancy,
  sha256Hex,
  startMigratedServer,
  type Tenancy,
} from './support/schema-database.js';

const users = [0, 1, 2, 3].map((i) => ({ id: `id-${i}`, email: `User${i}@A.example` }));
const groups = ['eng@a.example', 'Sales@A.example', 'gid-7'];
const domains = ['a.example', 'b.example'];

type Entry =
  | { type: 'user'; id?: string; email?: string; role: 'reader' }
  | { type: 'group'; id?: string; email?: string; role: 'reader' }
  | { type: 'domain'; domain: string; role: 'reader' }
  | { type: 'anyone'; role: 'reader' };

const entryArb: fc.Arbitrary<Entry> = fc.oneof(
  fc.constantFrom(...users).map((u) => ({ type: 'user' as const, id: u.id, role: 'reader' as const })),
  fc.constantFrom(...users).map((u) => ({ type: 'user' as const, email: u.email, role: 'reader' as const })),
  fc
    .constantFrom(...groups)
    .map((g) =>
      g.includes('@')
        ? { type: 'group' as const, email: g, role: 'reader' as const }
        : { type: 'group' as const, id: g, role: 'reader' as const },
    ),
  fc
    .constantFrom(...domains)
    .map((d) => ({ type: 'domain' as const, domain: d.toUpperCase(), role: 'reader' as const })),
  fc.constant({ type: 'anyone' as const, role: 'reader' as const }),
);

interface Doc {
  source: boolean;
  /** null: the connector could not read the ACL (no `permissions` key). */
  acl: Entry[] | null;
}
const docArb: fc.Arbitrary<Doc> = fc.record({
  source: fc.boolean(),
  acl: fc.option(fc.array(entryArb, { maxLength: 4 }), { nil: null, freq: 4 }),
});

interface Caller {
  email: string | null;
  identities: string[];
  groups: string[];
  /** Rows of tributary_private.user_principals (a host resolver / synced group membership). */
  stored: string[];
}
const callerArb: fc.Arbitrary<Caller> = fc.record({
  email: fc.option(fc.constantFrom(...users.map((u) => u.email.toLowerCase()), 'someone@b.example'), {
    nil: null,
  }),
  identities: fc.subarray(users.map((u) => `user:${u.id}`)),
  groups: fc.subarray(groups),
  stored: fc.subarray(['group:eng@a.example', 'group:gid-7', 'user:id-3']),
});

/** The oracle: what the source would let this caller open. */
function principalsOf(caller: Caller): Set<string> {
  const keys = new Set<string>(['anyone']);
  if (caller.email) {
    keys.add(`email:${caller.email.toLowerCase()}`);
    keys.add(`domain:${(caller.email.split('@')[1] ?? '').toLowerCase()}`);
  }
  for (const identity of caller.identities) keys.add(identity);
  for (const group of caller.groups) keys.add(`group:${group.includes('@') ? group.toLowerCase() : group}`);
  for (const key of caller.stored) keys.add(key);
  return keys;
}
function entryKeys(entry: Entry): string[] {
  switch (entry.type) {
    case 'user':
      return [entry.id ? `user:${entry.id}` : '', entry.email ? `email:${entry.email.toLowerCase()}` : ''];
    case 'group':
      return [entry.id ? `group:${entry.id}` : '', entry.email ? `group:${entry.email.toLowerCase()}` : ''];
    case 'domain':
      return [`domain:${entry.domain.toLowerCase()}`];
    case 'anyone':
      return ['anyone'];
  }
}
function canOpen(doc: Doc, keys: Set<string>): boolean {
  if (!doc.source) return true;
  return (doc.acl ?? []).some((entry) => entryKeys(entry).some((key) => keys.has(key)));
}

/** A 1536-dim vector on axis 0: the query every search here asks. */
const axis0 = `[1${',0'.repeat(1535)}]`;

let chunksWritten = 0;
/**
 * A distinct vector close to axis 0 for each chunk written, so every chunk is a semantic hit for
 * the same query. Not axis 0 itself: HNSW is not built for many identical vectors (pgvector links
 * exact duplicates poorly, so a scan can miss live rows behind rolled-back copies of the same
 * point; CI once saw the HNSW strategy return nothing).
 */
function nearAxis0(): string {
  chunksWritten += 1;
  const values = new Array<number>(1536).fill(0);
  values[0] = 1;
  values[1 + (chunksWritten % 1535)] = 0.001 * (1 + Math.floor(chunksWritten / 1535));
  return `[${values.join(',')}]`;
}

interface World {
  db: SqlDatabase;
  t: Tenancy;
  sourceConnector: string;
  orgConnector: string;
}

async function setUp(db: SqlDatabase): Promise<World> {
  const t = await seedTenancy(db);
  const sourceConnector = await insertConnector(db, t.orgA, { name: 'Source mode' });
  const orgConnector = await insertConnector(db, t.orgA, { name: 'Org mode' });
  await db.query("update public.connector_configs set permission_mode = 'source' where id = $1", [
    sourceConnector,
  ]);
  return { db, t, sourceConnector, orgConnector };
}

async function writeDocs(tx: SqlQueryable, w: World, docs: readonly Doc[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [index, doc] of docs.entries()) {
    const connector = doc.source ? w.sourceConnector : w.orgConnector;
    const metadata = doc.acl === null ? {} : { permissions: doc.acl };
    const content = `alpha report number ${index}`;
    const { rows } = await tx.query<{ document_id: string }>(
      'select document_id from public.upsert_documents($1, $2::jsonb)',
      [
        connector,
        JSON.stringify([
          {
            external_id: `doc-${index}`,
            title: `Doc ${index}`,
            content,
            content_hash: sha256Hex(content),
            metadata,
          },
        ]),
      ],
    );
    const id = rows[0]?.document_id ?? '';
    expect(id).not.toBe('');
    await tx.query("update public.imported_documents set processing_status = 'completed' where id = $1", [
      id,
    ]);
    await tx.query(
      `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash, embedding, embedding_model)
       values ($1, $2, 0, $3, $4, $5::extensions.vector, 'test-embedding-1536')`,
      [w.t.orgA, id, content, sha256Hex(content), nearAxis0()],
    );
    ids.push(id);
  }
  return ids;
}

/** Uploads: documents without a connector (every member reads them; their chunks' readers are null). */
async function writeUploads(tx: SqlQueryable, w: World, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const content = `alpha upload number ${index}`;
    const { rows } = await tx.query<{ id: string }>(
      `insert into public.imported_documents (org_id, external_id, title, content, content_hash, processing_status)
       values ($1, $2, $3, $4, $5, 'completed') returning id`,
      [w.t.orgA, `upload-${index}`, `Upload ${index}`, content, sha256Hex(content)],
    );
    const id = rows[0]?.id ?? '';
    await tx.query(
      `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash, embedding, embedding_model)
       values ($1, $2, 0, $3, $4, $5::extensions.vector, 'test-embedding-1536')`,
      [w.t.orgA, id, content, sha256Hex(content), nearAxis0()],
    );
    ids.push(id);
  }
  return ids;
}

/** The vector strategies a search reports (`exact` for the readers path, `index` for HNSW). */
async function strategiesOf(tx: SqlQueryable, orgId: string): Promise<string[]> {
  const { rows } = await tx.query<{ strategy: string }>(
    `select distinct semantic_strategy as strategy from public.unified_content_search(match_org_id => $1,
       query_embedding => $2::extensions.vector, query_embedding_model => 'test-embedding-1536',
       match_count => 200, full_text_weight => 0)`,
    [orgId, axis0],
  );
  return rows.map((row) => row.strategy);
}

async function asCaller(tx: SqlQueryable, userId: string, caller: Caller): Promise<void> {
  const claims: Record<string, unknown> = { sub: userId, role: 'authenticated' };
  if (caller.email) claims.email = caller.email;
  if (caller.identities.length) claims.tributary_identities = caller.identities;
  if (caller.groups.length) claims.tributary_groups = caller.groups;
  await tx.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify(claims)]);
  await tx.query("select set_config('role', 'authenticated', true)");
}

interface Seen {
  documents: string[];
  chunks: string[];
  fullText: string[];
  semantic: string[];
}

async function observe(tx: SqlQueryable, orgId: string): Promise<Seen> {
  const ids = async (sql: string, params: unknown[] = []) =>
    (await tx.query<{ id: string }>(sql, params)).rows.map((row) => row.id).sort();
  return {
    documents: await ids('select id from public.imported_documents where org_id = $1', [orgId]),
    chunks: await ids('select document_id as id from public.document_chunks where org_id = $1', [orgId]),
    fullText: await ids(
      "select document_id as id from public.unified_content_search(match_org_id => $1, query_text => 'alpha', match_count => 200, semantic_weight => 0)",
      [orgId],
    ),
    semantic: await ids(
      `select document_id as id from public.unified_content_search(match_org_id => $1, query_embedding => $2::extensions.vector,
         query_embedding_model => 'test-embedding-1536', match_count => 200, full_text_weight => 0)`,
      [orgId, axis0],
    ),
  };
}

function suite(
  name: string,
  open: () => Promise<{ db: SqlDatabase; close: () => Promise<void> }>,
  runs: number,
) {
  describe(`permission-aware search on ${name}`, () => {
    let w: World;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const opened = await open();
      close = opened.close;
      w = await setUp(opened.db);
    }, 120_000);
    afterAll(async () => close?.());

    it('shows a member exactly what the source lets them open, in search and direct selects', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(docArb, { minLength: 1, maxLength: 8 }),
          callerArb,
          async (docs, caller) => {
            await rolledBack(w.db, async (tx) => {
              const ids = await writeDocs(tx, w, docs);
              for (const key of caller.stored) {
                await tx.query(
                  'insert into tributary_private.user_principals (user_id, principal) values ($1, $2)',
                  [w.t.memberA, key],
                );
              }
              const keys = principalsOf(caller);
              const expected = ids.filter((_, i) => docs[i] !== undefined && canOpen(docs[i], keys)).sort();
              await asCaller(tx, w.t.memberA, caller);
              const seen = await observe(tx, w.t.orgA);
              expect(seen).toEqual({
                documents: expected,
                chunks: expected,
                fullText: expected,
                semantic: expected,
              });
              // The service role sees everything, ACL or not.
              await tx.query("select set_config('role', 'service_role', true)");
              const all = await observe(tx, w.t.orgA);
              expect(all.documents).toEqual([...ids].sort());
              expect(all.fullText).toEqual([...ids].sort());
            });
          },
        ),
        { numRuns: runs },
      );
    }, 300_000);

    it('finds the same chunks when an all-source organisation is searched from the ACL rows', async () => {
      // orgB holds only a source-mode connector, so a member's vector search may compare just the
      // chunks their ACL rows name (strategy reported as exact) instead of scanning the HNSW index.
      const onlySource = await insertConnector(w.db, w.t.orgB, { name: 'Only source' });
      await w.db.query("update public.connector_configs set permission_mode = 'source' where id = $1", [
        onlySource,
      ]);
      const inB: World = {
        ...w,
        t: { ...w.t, orgA: w.t.orgB },
        sourceConnector: onlySource,
        orgConnector: onlySource,
      };
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            docArb.map((doc) => ({ ...doc, source: true })),
            { minLength: 2, maxLength: 8 },
          ),
          callerArb,
          // 0028: '' is the default limit (the readers path for these few chunks), '0' the HNSW scan.
          fc.constantFrom('0', '', '10000'),
          // 0026: the filtered HNSW scan's candidate list (unset: 800).
          fc.constantFrom('', '40', '1000'),
          // 0028: chunks written before 0021 and never filled keep null readers; the readers path
          // still finds them (and the document-level check still decides).
          fc.boolean(),
          async (docs, caller, readableLimit, filteredEf, staleReaders) => {
            await rolledBack(w.db, async (tx) => {
              const ids = await writeDocs(tx, inB, docs);
              if (staleReaders) {
                await tx.query(
                  'update public.document_chunks set readers = null where document_id = any ($1)',
                  [ids],
                );
              }
              const keys = principalsOf({ ...caller, stored: [] });
              const expected = ids.filter((_, i) => docs[i] !== undefined && canOpen(docs[i], keys)).sort();
              await asCaller(tx, w.t.memberB, { ...caller, stored: [] });
              await tx.query("select set_config('tributary.exact_search_max_rows', '1', true)");
              await tx.query("select set_config('tributary.permission_exact_max_rows', $1, true)", [
                readableLimit,
              ]);
              await tx.query("select set_config('tributary.hnsw_filtered_ef_search', $1, true)", [
                filteredEf,
              ]);
              await tx.query("select set_config('hnsw.ef_search', '57', true)");
              const { semantic } = await observe(tx, w.t.orgB);
              // The scan's own ef_search is put back for the caller's later queries.
              const after = await tx.query<{ ef: string }>("select current_setting('hnsw.ef_search') as ef");
              expect(after.rows[0]?.ef).toBe('57');
              if (readableLimit === '0') {
                // The HNSW scan is approximate (near-identical vectors, rolled-back rows still in the
                // index): it may miss readable chunks, but never returns an unreadable one.
                expect(semantic.filter((id) => !expected.includes(id))).toEqual([]);
              } else {
                expect(semantic).toEqual(expected);
                // Compared exactly (0028's readers path), not through the HNSW index.
                const strategies = await tx.query<{ strategy: string }>(
                  `select distinct semantic_strategy as strategy from public.unified_content_search(match_org_id => $1,
                     query_embedding => $2::extensions.vector, query_embedding_model => 'test-embedding-1536',
                     match_count => 200, full_text_weight => 0)`,
                  [w.t.orgB, axis0],
                );
                expect(strategies.rows.map((row) => row.strategy)).toEqual(
                  expected.length > 0 ? ['exact'] : [],
                );
              }
            });
          },
        ),
        { numRuns: Math.ceil(runs / 2) },
      );
    }, 300_000);

    it('finds the same chunks through the readers path where org-mode connectors and uploads sit beside source ones', async () => {
      // 0029: orgA mixes a source-mode connector, an org-mode one and uploads (no connector, null
      // readers); a member with few readable chunks is compared exactly over them, not through the
      // HNSW scan, and sees exactly what the oracle allows.
      await fc.assert(
        fc.asyncProperty(
          fc.array(docArb, { minLength: 1, maxLength: 8 }),
          fc.integer({ min: 0, max: 3 }),
          callerArb,
          fc.constantFrom('', '10000'),
          async (docs, uploads, caller, readableLimit) => {
            await rolledBack(w.db, async (tx) => {
              const ids = await writeDocs(tx, w, docs);
              const uploaded = await writeUploads(tx, w, uploads);
              const keys = principalsOf({ ...caller, stored: [] });
              const expected = [
                ...ids.filter((_, i) => docs[i] !== undefined && canOpen(docs[i], keys)),
                ...uploaded,
              ].sort();
              await asCaller(tx, w.t.memberA, { ...caller, stored: [] });
              await tx.query("select set_config('tributary.exact_search_max_rows', '1', true)");
              await tx.query("select set_config('tributary.permission_exact_max_rows', $1, true)", [
                readableLimit,
              ]);
              const { semantic } = await observe(tx, w.t.orgA);
              expect(semantic).toEqual(expected);
              expect(await strategiesOf(tx, w.t.orgA)).toEqual(expected.length > 0 ? ['exact'] : []);
            });
          },
        ),
        { numRuns: Math.ceil(runs / 2) },
      );
    }, 300_000);

    it('counts org-mode documents and uploads against the readers limit, and scans HNSW past it', async () => {
      for (const shape of ['org-mode documents', 'uploads'] as const) {
        await rolledBack(w.db, async (tx) => {
          // One readable source document, plus 4 chunks every member reads.
          const readable: Doc = { source: true, acl: [{ type: 'anyone', role: 'reader' }] };
          const everyone: Doc = { source: false, acl: null };
          const docs = shape === 'uploads' ? [readable] : [readable, everyone, everyone, everyone, everyone];
          await writeDocs(tx, w, docs);
          await writeUploads(tx, w, shape === 'uploads' ? 4 : 0);
          await asCaller(tx, w.t.memberA, { email: null, identities: [], groups: [], stored: [] });
          await tx.query("select set_config('tributary.exact_search_max_rows', '1', true)");
          // 5 readable chunks: within a limit of 5 the readers path, past a limit of 4 the HNSW scan.
          await tx.query("select set_config('tributary.permission_exact_max_rows', '5', true)");
          expect(await strategiesOf(tx, w.t.orgA), shape).toEqual(['exact']);
          await tx.query("select set_config('tributary.permission_exact_max_rows', '4', true)");
          expect(await strategiesOf(tx, w.t.orgA), shape).toEqual(['index']);
        });
      }
    }, 120_000);

    it('takes the readers path for a member who reads few chunks whatever the organisation holds, and still reports none for a model it lacks', async () => {
      // 0032: the readers check comes before the count of the organisation's chunks. A member who
      // reads few chunks gets the same exact ranking whether the count would have chosen `exact`
      // (a small organisation) or `index`; a model without chunks still reports `none`.
      await rolledBack(w.db, async (tx) => {
        const reader: Caller = { email: 'user1@a.example', identities: [], groups: [], stored: [] };
        const docs: Doc[] = [
          { source: true, acl: [{ type: 'user', email: 'user1@a.example', role: 'reader' }] },
          { source: true, acl: [{ type: 'user', email: 'user2@a.example', role: 'reader' }] },
          { source: true, acl: [{ type: 'anyone', role: 'reader' }] },
          { source: false, acl: null },
        ];
        const ids = await writeDocs(tx, w, docs);
        const expected = [ids[0], ids[2], ids[3]].sort();
        await asCaller(tx, w.t.memberA, reader);
        for (const exactLimit of ['1', '100000']) {
          await tx.query("select set_config('tributary.exact_search_max_rows', $1, true)", [exactLimit]);
          expect((await observe(tx, w.t.orgA)).semantic, exactLimit).toEqual(expected);
          expect(await strategiesOf(tx, w.t.orgA), exactLimit).toEqual(['exact']);
        }
        const { rows } = await tx.query<{ strategy: string | null; semantic_rank: number | null }>(
          `select semantic_strategy as strategy, semantic_rank from public.unified_content_search(match_org_id => $1,
             query_embedding => $2::extensions.vector, query_embedding_model => 'no-such-model',
             query_text => 'alpha', match_count => 200)`,
          [w.t.orgA, axis0],
        );
        expect(rows.length).toBe(expected.length);
        expect(new Set(rows.map((row) => row.strategy))).toEqual(new Set(['none']));
        expect(rows.every((row) => row.semantic_rank === null)).toBe(true);
      });
    }, 120_000);

    it('applies permission changes on re-upsert even when the content did not change', async () => {
      await rolledBack(w.db, async (tx) => {
        const reader: Caller = { email: 'user1@a.example', identities: [], groups: [], stored: [] };
        const [id] = await writeDocs(tx, w, [
          { source: true, acl: [{ type: 'user', email: 'user1@a.example', role: 'reader' }] },
        ]);
        await asCaller(tx, w.t.memberA, reader);
        expect((await observe(tx, w.t.orgA)).fullText).toEqual([id]);
        await tx.query("select set_config('role', 'none', true)");
        await tx.query('reset role');
        // Same content, same hash: the upsert reports it unchanged but writes the new ACL.
        const content = 'alpha report number 0';
        const { rows } = await tx.query<{ action: string }>(
          'select action from public.upsert_documents($1, $2::jsonb)',
          [
            w.sourceConnector,
            JSON.stringify([
              {
                external_id: 'doc-0',
                title: 'Doc 0',
                content,
                content_hash: sha256Hex(content),
                metadata: { permissions: [{ type: 'user', email: 'user2@a.example', role: 'reader' }] },
              },
            ]),
          ],
        );
        expect(rows[0]?.action).toBe('unchanged');
        await asCaller(tx, w.t.memberA, reader);
        expect(await observe(tx, w.t.orgA)).toEqual({
          documents: [],
          chunks: [],
          fullText: [],
          semantic: [],
        });
        await asCaller(tx, w.t.memberA, { ...reader, email: 'user2@a.example' });
        expect((await observe(tx, w.t.orgA)).documents).toEqual([id]);
      });
    }, 60_000);

    it('keeps members of another organisation out and refuses an unknown mode', async () => {
      await rolledBack(w.db, async (tx) => {
        await writeDocs(tx, w, [{ source: true, acl: [{ type: 'anyone', role: 'reader' }] }]);
        await asCaller(tx, w.t.memberB, { email: null, identities: [], groups: [], stored: [] });
        const seen = await tx.query('select id from public.imported_documents');
        expect(seen.rows).toEqual([]);
        await expect(
          tx.query('select * from public.unified_content_search(match_org_id => $1, query_text => $2)', [
            w.t.orgA,
            'alpha',
          ]),
        ).rejects.toMatchObject({ code: '42501' });
      });
      await expect(
        w.db.query("update public.connector_configs set permission_mode = 'everyone' where id = $1", [
          w.orgConnector,
        ]),
      ).rejects.toMatchObject({ code: '23514' });
    }, 60_000);
  });
}

suite('PGlite', async () => {
  const { pglite, db } = await createMigratedPglite();
  return { db, close: () => pglite.close() };
}, 60);

let server: MigratedServer | undefined;
suite('the PostgreSQL server', async () => {
  server = await startMigratedServer();
  const { db } = await server.createDatabase();
  return { db, close: async () => server?.stop() };
}, 40);
