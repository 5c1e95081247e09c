// Cross-source and near-duplicate detection (0020): exact copies from another connector are linked
// and take the first copy's chunks and embeddings; near duplicates are linked by MinHash/LSH; a
// canonical that leaves hands its role to a member; collapsed search and the listing respect the
// ACLs of `source`-mode connectors. On PGlite and on the real server.
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

const MODEL = 'test-embedding-1536';
const axis = (i: number) => `[${Array.from({ length: 1536 }, (_, k) => (k === i ? 1 : 0)).join(',')}]`;

/** A deterministic 128-value signature; `changed` positions get other values. */
function signature(seed: number, changed: readonly number[] = []): number[] {
  const values = Array.from({ length: 128 }, (_, i) => ((seed * 7919 + i * 104729) % 2147483647) - 1000000);
  for (const i of changed) values[i] = (values[i] ?? 0) + 17;
  return values;
}

interface Link {
  document_id: string;
  duplicate_of: string | null;
  duplicate_kind: string | null;
  similarity: number | null;
  chunks_reused: boolean;
}

interface World {
  db: SqlDatabase;
  t: Tenancy;
  drive: string;
  zoom: string;
}

async function upsert(
  tx: SqlQueryable,
  connector: string,
  externalId: string,
  content: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const { rows } = await tx.query<{ document_id: string }>(
    'select document_id from public.upsert_documents($1, $2::jsonb)',
    [
      connector,
      JSON.stringify([
        {
          external_id: externalId,
          title: `Title of ${externalId}`,
          content,
          content_hash: sha256Hex(content),
          processing_status: 'processing',
          ...extra,
        },
      ]),
    ],
  );
  return rows[0]?.document_id ?? '';
}

/** Chunks and a completed status, as the pipeline writes them for an indexed document. */
async function index(tx: SqlQueryable, documentId: string, content: string, vector = 0): Promise<void> {
  const chunks = [
    {
      chunk_index: 0,
      context: 'ctx',
      content,
      content_hash: sha256Hex(`a${content}`),
      embedding: axis(vector),
    },
    {
      chunk_index: 1,
      context: 'ctx',
      content: `${content} (2)`,
      content_hash: sha256Hex(`b${content}`),
      embedding: axis(vector),
    },
  ].map((c) => ({ ...c, token_count: 3, embedding_model: MODEL }));
  await tx.query('select * from public.replace_document_chunks($1::jsonb)', [
    JSON.stringify([{ document_id: documentId, chunks }]),
  ]);
  await tx.query("select public.set_documents_processing_status($1::uuid[], 'completed')", [[documentId]]);
}

async function link(
  tx: SqlQueryable,
  documents: { id: string; minhash?: number[] | null }[],
  threshold: number | null = null,
): Promise<Link[]> {
  const { rows } = await tx.query<Link>(
    'select * from public.link_document_duplicates($1::jsonb, $2, $3::real)',
    [
      JSON.stringify(documents.map((d) => ({ document_id: d.id, minhash: d.minhash ?? null }))),
      MODEL,
      threshold,
    ],
  );
  return rows.map((r) => ({ ...r, similarity: r.similarity === null ? null : Number(r.similarity) }));
}

async function linkOf(tx: SqlQueryable, id: string) {
  const { rows } = await tx.query<{ duplicate_of: string | null; duplicate_kind: string | null }>(
    'select duplicate_of, duplicate_kind from public.imported_documents where id = $1',
    [id],
  );
  return rows[0];
}

async function asMember(tx: SqlQueryable, userId: string, email: string): Promise<void> {
  await tx.query("select set_config('request.jwt.claims', $1, true)", [
    JSON.stringify({ sub: userId, role: 'authenticated', email }),
  ]);
  await tx.query("select set_config('role', 'authenticated', true)");
}

function suite(name: string, open: () => Promise<{ db: SqlDatabase; close: () => Promise<void> }>) {
  describe(`cross-source duplicates on ${name}`, () => {
    let w: World;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const opened = await open();
      close = opened.close;
      const t = await seedTenancy(opened.db);
      w = {
        db: opened.db,
        t,
        drive: await insertConnector(opened.db, t.orgA, { type: 'google_drive', name: 'Drive' }),
        zoom: await insertConnector(opened.db, t.orgA, { type: 'zoom', name: 'Zoom' }),
      };
    }, 120_000);
    afterAll(async () => close?.());

    it('links an exact copy from another connector and gives it the first copy’s chunks and embeddings', async () => {
      await rolledBack(w.db, async (tx) => {
        const text = 'The quarterly planning notes, word for word.';
        const original = await upsert(tx, w.drive, 'drive-1', text);
        expect(await link(tx, [{ id: original, minhash: signature(1) }])).toEqual([
          {
            document_id: original,
            duplicate_of: null,
            duplicate_kind: null,
            similarity: null,
            chunks_reused: false,
          },
        ]);
        await index(tx, original, text, 3);
        const copy = await upsert(tx, w.zoom, 'zoom-9', text, { title: 'A different title' });
        const [result] = await link(tx, [{ id: copy, minhash: signature(1) }]);
        expect(result).toEqual({
          document_id: copy,
          duplicate_of: original,
          duplicate_kind: 'exact',
          similarity: 1,
          chunks_reused: true,
        });
        const { rows } = await tx.query<{
          document_id: string;
          content: string;
          embedding: string;
          embedding_model: string;
        }>(
          `select document_id, content, embedding::text as embedding, embedding_model from public.document_chunks
           where document_id = any ($1::uuid[]) order by chunk_index, document_id = $2`,
          [[original, copy], original],
        );
        expect(rows).toHaveLength(4);
        const byDoc = (id: string) =>
          rows.filter((r) => r.document_id === id).map(({ document_id, ...r }) => r);
        expect(byDoc(copy)).toEqual(byDoc(original));
        const doc = await tx.query<{
          processing_status: string;
          chunk_count: number;
          title: string;
          connector_id: string;
        }>(
          'select processing_status, chunk_count, title, connector_id from public.imported_documents where id = $1',
          [copy],
        );
        // Its own identity and metadata, the original's chunks.
        expect(doc.rows[0]).toEqual({
          processing_status: 'completed',
          chunk_count: 2,
          title: 'A different title',
          connector_id: w.zoom,
        });
      });
    });

    it('links copies within one call to the earliest, and reuses nothing while it is not indexed', async () => {
      await rolledBack(w.db, async (tx) => {
        const text = 'Same transcript arriving twice in one batch.';
        const a = await upsert(tx, w.drive, 'a-first', text);
        const b = await upsert(tx, w.drive, 'b-second', text);
        const results = await link(tx, [{ id: b }, { id: a }]);
        expect(results.map((r) => [r.document_id, r.duplicate_of, r.chunks_reused])).toEqual([
          [a, null, false],
          [b, a, false],
        ]);
        await index(tx, a, text);
        // The pipeline asks again once the canonical is indexed.
        expect((await link(tx, [{ id: b }]))[0]).toMatchObject({ duplicate_of: a, chunks_reused: true });
        // Chunks of another embedding model are not reused.
        const c = await upsert(tx, w.zoom, 'c-other-model', text);
        const { rows } = await tx.query<Link>(
          "select * from public.link_document_duplicates($1::jsonb, 'another-model')",
          [JSON.stringify([{ document_id: c }])],
        );
        expect(rows[0]).toMatchObject({ duplicate_of: a, duplicate_kind: 'exact', chunks_reused: false });
      });
    });

    it('links near duplicates over the threshold through the LSH bands, and no pair below it', async () => {
      await rolledBack(w.db, async (tx) => {
        // Stored in one transaction: the call links them in external id order.
        const zoomCopy = await upsert(tx, w.zoom, 'a-zoom-meeting', 'transcript as Zoom writes it');
        const teamsCopy = await upsert(tx, w.drive, 'b-teams-meeting', 'transcript as Teams writes it');
        const other = await upsert(tx, w.drive, 'c-other-meeting', 'another meeting of the series');
        // 16 of 128 positions differ (in 4 bands): estimated similarity 112/128 = 0.875.
        const near = Array.from({ length: 16 }, (_, i) => i * 8);
        // 80 differ: 48/128 = 0.375, but several whole bands still agree (a candidate, rejected).
        const far = Array.from({ length: 80 }, (_, i) => i + 48);
        const results = await link(tx, [
          { id: zoomCopy, minhash: signature(5) },
          { id: teamsCopy, minhash: signature(5, near) },
          { id: other, minhash: signature(5, far) },
        ]);
        expect(results).toEqual([
          {
            document_id: zoomCopy,
            duplicate_of: null,
            duplicate_kind: null,
            similarity: null,
            chunks_reused: false,
          },
          {
            document_id: teamsCopy,
            duplicate_of: zoomCopy,
            duplicate_kind: 'near',
            similarity: 0.875,
            chunks_reused: false,
          },
          {
            document_id: other,
            duplicate_of: null,
            duplicate_kind: null,
            similarity: null,
            chunks_reused: false,
          },
        ]);
        // A stricter threshold (per call) leaves the pair apart.
        expect(
          (await link(tx, [{ id: teamsCopy, minhash: signature(5, near) }], 0.9))[0]?.duplicate_of,
        ).toBeNull();
        await expect(link(tx, [{ id: other, minhash: [1, 2, 3] }])).rejects.toThrow(/multiple of 4/);
      });
    });

    it('hands the canonical role to a copy when the original is deleted, soft or hard, or changes', async () => {
      await rolledBack(w.db, async (tx) => {
        const text = 'Security policy, version 3.';
        const original = await upsert(tx, w.drive, 'policy', text);
        await link(tx, [{ id: original }]);
        await index(tx, original, text);
        const first = await upsert(tx, w.zoom, 'policy-copy-1', text);
        const second = await upsert(tx, w.drive, 'policy-copy-2', text);
        await link(tx, [{ id: first }, { id: second }]);
        expect(await linkOf(tx, second)).toEqual({ duplicate_of: original, duplicate_kind: 'exact' });

        await tx.query('select public.soft_delete_documents($1, $2::text[])', [w.drive, ['policy']]);
        expect(await linkOf(tx, first)).toEqual({ duplicate_of: null, duplicate_kind: null });
        expect(await linkOf(tx, second)).toEqual({ duplicate_of: first, duplicate_kind: 'exact' });
        // The deleted original coming back joins the group of its heir.
        await upsert(tx, w.drive, 'policy', text);
        expect((await link(tx, [{ id: original }]))[0]).toMatchObject({
          duplicate_of: first,
          chunks_reused: true,
        });

        // The heir's content changes: it leaves, and the next member takes over.
        await upsert(tx, w.zoom, 'policy-copy-1', 'Security policy, version 4, rewritten.');
        expect(await linkOf(tx, first)).toEqual({ duplicate_of: null, duplicate_kind: null });
        const leader = await linkOf(tx, original);
        expect(
          [leader?.duplicate_of, (await linkOf(tx, second))?.duplicate_of].filter((x) => x === null),
        ).toHaveLength(1);

        // Hard delete (retention): the remaining member stands alone.
        const canonical = leader?.duplicate_of === null ? original : second;
        const member = canonical === original ? second : original;
        await tx.query('delete from public.imported_documents where id = $1', [canonical]);
        expect(await linkOf(tx, member)).toEqual({ duplicate_of: null, duplicate_kind: null });
      });
    });

    it('keeps near members similar to the heir on hand-over and drops the others', async () => {
      await rolledBack(w.db, async (tx) => {
        // Each near member differs from the root in 24 positions (104/128 = 0.8125), from the
        // other in 48 (80/128 = 0.625). Stored and linked one after the other, as syncs do.
        const spreadA = Array.from({ length: 24 }, (_, i) => i * 5);
        const spreadB = Array.from({ length: 24 }, (_, i) => i * 5 + 1);
        const store = async (connector: string, externalId: string, text: string, minhash: number[]) => {
          const id = await upsert(tx, connector, externalId, text);
          await link(tx, [{ id, minhash }]);
          return id;
        };
        const root = await store(w.drive, 'root', 'root text', signature(9));
        const exact = await store(w.zoom, 'exact', 'root text', signature(9));
        const n1 = await store(w.drive, 'n1', 'near text one', signature(9, spreadA));
        const n2 = await store(w.drive, 'n2', 'near text two', signature(9, spreadB));
        expect(await linkOf(tx, n1)).toEqual({ duplicate_of: root, duplicate_kind: 'near' });
        expect(await linkOf(tx, n2)).toEqual({ duplicate_of: root, duplicate_kind: 'near' });
        // The exact copy inherits; both near members are as similar to it as to the root.
        await tx.query('select public.soft_delete_documents($1, $2::text[])', [w.drive, ['root']]);
        expect(await linkOf(tx, exact)).toEqual({ duplicate_of: null, duplicate_kind: null });
        expect(await linkOf(tx, n1)).toEqual({ duplicate_of: exact, duplicate_kind: 'near' });
        expect(await linkOf(tx, n2)).toEqual({ duplicate_of: exact, duplicate_kind: 'near' });
        // Then n1 inherits, and n2 (0.625 to n1) leaves the group under a stricter database setting.
        await tx.query("select set_config('tributary.near_duplicate_threshold', '0.7', true)");
        await tx.query('select public.soft_delete_documents($1, $2::text[])', [w.zoom, ['exact']]);
        expect(await linkOf(tx, n1)).toEqual({ duplicate_of: null, duplicate_kind: null });
        expect(await linkOf(tx, n2)).toEqual({ duplicate_of: null, duplicate_kind: null });
      });
    });

    it('collapses a group in search to the copy each member may read, listing the other readable ones', async () => {
      await rolledBack(w.db, async (tx) => {
        await tx.query("update public.connector_configs set permission_mode = 'source' where id = $1", [
          w.zoom,
        ]);
        const text = 'Harbour tides turn at noon on the first day.';
        const aclFor = (email: string) => ({ permissions: [{ type: 'user', email, role: 'reader' }] });
        // The canonical is in a source-mode connector, readable by alice only; the copy (org mode)
        // by every member; a third copy by bob only.
        const canonical = await upsert(tx, w.zoom, 'tides-zoom', text, {
          metadata: aclFor('alice@a.example'),
        });
        await link(tx, [{ id: canonical }]);
        await index(tx, canonical, text);
        const shared = await upsert(tx, w.drive, 'tides-drive', text);
        const bobs = await upsert(tx, w.zoom, 'tides-bob', text, { metadata: aclFor('bob@a.example') });
        await link(tx, [{ id: shared }, { id: bobs }]);

        const search = async (dedup: boolean) =>
          (
            await tx.query<{
              document_id: string;
              alternatives?: { document_id: string; is_canonical: boolean }[];
            }>(
              `select * from public.${dedup ? 'unified_content_search_deduplicated' : 'unified_content_search'}(
                 match_org_id => $1, query_text => 'harbour tides', match_count => 10)`,
              [w.t.orgA],
            )
          ).rows;
        const groups = async () =>
          (
            await tx.query<{ document_id: string; is_canonical: boolean }>(
              'select document_id, is_canonical from public.list_document_duplicates($1)',
              [w.t.orgA],
            )
          ).rows;

        // Service role: six chunks without collapsing; one document's two chunks with it.
        expect(await search(false)).toHaveLength(6);
        const all = await search(true);
        expect(all.map((r) => r.document_id)).toEqual([all[0]?.document_id, all[0]?.document_id]);
        expect(all[0]?.alternatives?.map((a) => a.document_id).sort()).toEqual(
          [canonical, shared, bobs].filter((id) => id !== all[0]?.document_id).sort(),
        );
        const listed = (await groups()).map((g) => g.document_id);
        expect(listed[0]).toBe(canonical);
        expect(listed.slice(1).sort()).toEqual([shared, bobs].sort());

        // Carol reads only the org-mode copy: it stands for the group, with no alternative.
        await asMember(tx, w.t.memberA, 'carol@a.example');
        const carol = await search(true);
        expect(new Set(carol.map((r) => r.document_id))).toEqual(new Set([shared]));
        expect(carol[0]?.alternatives).toEqual([]);
        expect(await groups()).toEqual([{ document_id: shared, is_canonical: false }]);

        // Alice reads the canonical and the shared copy, never bob's.
        await asMember(tx, w.t.memberA, 'alice@a.example');
        const alice = await search(true);
        expect(alice).toHaveLength(2);
        const shown = alice[0]?.document_id;
        expect([canonical, shared]).toContain(shown);
        expect(alice[0]?.alternatives?.map((a) => a.document_id)).toEqual(
          [canonical, shared].filter((id) => id !== shown),
        );
        expect((await groups()).map((g) => g.document_id)).toEqual([canonical, shared]);
      });
    });
  });
}

suite('PGlite', async () => {
  const { pglite, db } = await createMigratedPglite();
  return { db, close: () => pglite.close() };
});

let server: MigratedServer | undefined;
suite('the PostgreSQL server', async () => {
  server = await startMigratedServer();
  const { db } = await server.createDatabase(4);
  return { db, close: async () => server?.stop() };
});
