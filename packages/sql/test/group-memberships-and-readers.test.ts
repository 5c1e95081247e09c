// 0021: chunks carry their document's ACL keys (document_chunks.readers, the vector search's
// prefilter) exactly while the connector is in `source` mode; connectors report group memberships
// that expand a member's principals (nested groups too), so an ACL naming a group opens the
// document to its members. A property test over random groups and ACLs checks search and direct
// selects against an oracle. On PGlite and on the real server.
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

const axis0 = `[1${',0'.repeat(1535)}]`;

interface World {
  db: SqlDatabase;
  t: Tenancy;
  connector: string;
}

async function writeDoc(tx: SqlQueryable, w: World, index: number, metadata: object): Promise<string> {
  const content = `bravo memo number ${index}`;
  const { rows } = await tx.query<{ document_id: string }>(
    'select document_id from public.upsert_documents($1, $2::jsonb)',
    [
      w.connector,
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
  await tx.query("update public.imported_documents set processing_status = 'completed' where id = $1", [id]);
  await tx.query(
    `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash, embedding, embedding_model)
     values ($1, $2, 0, $3, $4, $5::extensions.vector, 'test-embedding-1536')`,
    [w.t.orgA, id, content, sha256Hex(content), axis0],
  );
  return id;
}

async function readers(tx: SqlQueryable, documentId: string): Promise<string[] | null> {
  const { rows } = await tx.query<{ readers: string[] | null }>(
    'select readers from public.document_chunks where document_id = $1',
    [documentId],
  );
  return rows[0]?.readers ?? null;
}

async function asMember(tx: SqlQueryable, userId: string, email: string): Promise<void> {
  await tx.query("select set_config('request.jwt.claims', $1, true)", [
    JSON.stringify({ sub: userId, role: 'authenticated', email }),
  ]);
  await tx.query("select set_config('role', 'authenticated', true)");
}

async function asService(tx: SqlQueryable): Promise<void> {
  await tx.query("select set_config('role', 'service_role', true)");
}

function suite(
  name: string,
  open: () => Promise<{ db: SqlDatabase; close: () => Promise<void> }>,
  runs: number,
) {
  describe(`group memberships and chunk readers on ${name}`, () => {
    let w: World;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const opened = await open();
      close = opened.close;
      const t = await seedTenancy(opened.db);
      const connector = await insertConnector(opened.db, t.orgA, { name: 'Drive' });
      await opened.db.query("update public.connector_configs set permission_mode = 'source' where id = $1", [
        connector,
      ]);
      w = { db: opened.db, t, connector };
    }, 120_000);
    afterAll(async () => close?.());

    it('keeps each chunk’s readers equal to its ACL keys and connector, whatever the mode', async () => {
      await rolledBack(w.db, async (tx) => {
        const connectorKey = `connector:${w.connector}`;
        const shared = await writeDoc(tx, w, 1, {
          permissions: [
            { type: 'user', email: 'Ann@A.example', id: 'u-1', role: 'reader' },
            { type: 'group', email: 'eng@a.example', role: 'reader' },
          ],
        });
        const unreadable = await writeDoc(tx, w, 2, {});
        expect(await readers(tx, shared)).toEqual([
          'email:ann@a.example',
          'group:eng@a.example',
          'user:u-1',
          connectorKey,
        ]);
        expect(await readers(tx, unreadable)).toEqual([connectorKey]);
        // An ACL change without a content change reaches the chunks.
        const content = 'bravo memo number 1';
        await tx.query('select public.upsert_documents($1, $2::jsonb)', [
          w.connector,
          JSON.stringify([
            {
              external_id: 'doc-1',
              title: 'Doc 1',
              content,
              content_hash: sha256Hex(content),
              metadata: { permissions: [{ type: 'anyone', role: 'reader' }] },
            },
          ]),
        ]);
        expect(await readers(tx, shared)).toEqual(['anyone', connectorKey]);
        // Chunks from before 0021 (null) are filled in batches.
        await tx.query('update public.document_chunks set readers = null where document_id = any ($1)', [
          [shared, unreadable],
        ]);
        const filled = await tx.query<{ n: number }>('select tributary_private.fill_chunk_readers(1) as n');
        expect(filled.rows[0]?.n).toBe(1);
        await tx.query('select tributary_private.fill_chunk_readers()');
        expect(await readers(tx, shared)).toEqual(['anyone', connectorKey]);
        expect(await readers(tx, unreadable)).toEqual([connectorKey]);
        // In org mode the unreadable document is found again; back in source mode it is not.
        const found = async () =>
          (
            await tx.query<{ id: string }>(
              `select document_id as id from public.unified_content_search(match_org_id => $1, query_embedding => $2::extensions.vector,
                 query_embedding_model => 'test-embedding-1536', match_count => 200, full_text_weight => 0)`,
              [w.t.orgA, axis0],
            )
          ).rows.map((r) => r.id);
        for (const [mode, expected] of [
          ['org', [shared, unreadable].sort()],
          ['source', [shared]],
        ] as const) {
          await tx.query('select set_config($1, $2, true)', ['role', 'none']);
          await tx.query('reset role');
          await tx.query('update public.connector_configs set permission_mode = $1 where id = $2', [
            mode,
            w.connector,
          ]);
          await asMember(tx, w.t.memberA, 'zed@b.example');
          expect((await found()).sort()).toEqual(expected);
        }
      });
    }, 60_000);

    it('replaces a group’s members, prunes groups not reported since, and validates input', async () => {
      await rolledBack(w.db, async (tx) => {
        await asService(tx);
        const first = await tx.query<{ stored: number; synced_at: Date }>(
          'select * from public.replace_group_memberships($1, $2::jsonb)',
          [
            w.connector,
            JSON.stringify([
              { id: 'g-1', email: 'Eng@A.example', members: [{ type: 'user', email: 'ann@a.example' }] },
              { email: 'old@a.example', members: [{ type: 'user', id: 'u-9' }] },
            ]),
          ],
        );
        // g-1 under both of its keys, one member each; old@ one member.
        expect(first.rows[0]?.stored).toBe(3);
        await tx.query('select * from public.replace_group_memberships($1, $2::jsonb)', [
          w.connector,
          JSON.stringify([{ id: 'g-1', members: [{ type: 'group', email: 'ops@a.example' }] }]),
        ]);
        const rows = async () =>
          (
            await tx.query<{ g: string; m: string }>(
              'select group_principal as g, member_principal as m from tributary_private.group_memberships order by 1, 2',
            )
          ).rows;
        expect(await rows()).toEqual([
          { g: 'group:eng@a.example', m: 'email:ann@a.example' },
          { g: 'group:g-1', m: 'group:ops@a.example' },
          { g: 'group:old@a.example', m: 'user:u-9' },
        ]);
        // Rows written in this transaction share its now(): prune everything before "later".
        const pruned = await tx.query<{ n: number }>(
          "select public.prune_group_memberships($1, now() + interval '1 second') as n",
          [w.connector],
        );
        expect(pruned.rows[0]?.n).toBe(3);
        expect(await rows()).toEqual([]);
      });
      for (const bad of ['[{"members": []}]', '{}', '[{"id": "g"}]']) {
        await rolledBack(w.db, async (tx) => {
          await expect(
            tx.query('select * from public.replace_group_memberships($1, $2::jsonb)', [w.connector, bad]),
          ).rejects.toMatchObject({ code: '22023' });
        });
      }
      await rolledBack(w.db, async (tx) => {
        await expect(
          tx.query('select * from public.replace_group_memberships($1, $2::jsonb)', [w.t.orgA, '[]']),
        ).rejects.toMatchObject({ code: 'P0002' });
      });
      await rolledBack(w.db, async (tx) => {
        await asMember(tx, w.t.memberA, 'ann@a.example');
        await expect(
          tx.query('select * from public.replace_group_memberships($1, $2::jsonb)', [w.connector, '[]']),
        ).rejects.toMatchObject({ code: '42501' });
      });
    }, 60_000);

    it('opens a document to the members of a group its ACL names, nested groups too, in search and selects', async () => {
      const people = ['ann@a.example', 'bob@a.example', 'cat@a.example'];
      const groupNames = ['g0@a.example', 'g1@a.example', 'g2@a.example'];
      const membershipArb = fc.record({
        // Direct members of each group (people), and which group nests in which (g_i in g_j, i < j).
        members: fc.array(fc.subarray(people), { minLength: 3, maxLength: 3 }),
        nested: fc.subarray([
          [0, 1],
          [1, 2],
          [0, 2],
        ] as const),
      });
      const aclArb = fc.array(
        fc.subarray([...groupNames.map((g) => `group:${g}`), ...people.map((p) => `email:${p}`)]),
        {
          minLength: 1,
          maxLength: 6,
        },
      );
      await fc.assert(
        fc.asyncProperty(membershipArb, aclArb, fc.constantFrom(...people), async (groups, acls, caller) => {
          await rolledBack(w.db, async (tx) => {
            const ids: string[] = [];
            for (const [i, acl] of acls.entries()) {
              const permissions = acl.map((key) =>
                key.startsWith('group:')
                  ? { type: 'group', email: key.slice(6), role: 'reader' }
                  : { type: 'user', email: key.slice(6), role: 'reader' },
              );
              ids.push(await writeDoc(tx, w, i, { permissions }));
            }
            const reported = groupNames.map((g, i) => ({
              email: g,
              members: [
                ...(groups.members[i] ?? []).map((email) => ({ type: 'user', email })),
                ...groups.nested
                  .filter(([, outer]) => outer === i)
                  .map(([inner]) => ({
                    type: 'group',
                    email: groupNames[inner],
                  })),
              ],
            }));
            await tx.query('select * from public.replace_group_memberships($1, $2::jsonb)', [
              w.connector,
              JSON.stringify(reported),
            ]);
            // The oracle: the caller's groups, closed under nesting.
            const mine = new Set<string>([`email:${caller}`]);
            for (let changed = true; changed; ) {
              changed = false;
              groupNames.forEach((g, i) => {
                const holds =
                  (groups.members[i] ?? []).some((p) => mine.has(`email:${p}`)) ||
                  groups.nested.some(
                    ([inner, outer]) => outer === i && mine.has(`group:${groupNames[inner]}`),
                  );
                if (holds && !mine.has(`group:${g}`)) {
                  mine.add(`group:${g}`);
                  changed = true;
                }
              });
            }
            const expected = ids.filter((_, i) => (acls[i] ?? []).some((key) => mine.has(key))).sort();
            await asMember(tx, w.t.memberA, caller);
            const ids2 = async (sql: string, params: unknown[]) =>
              (await tx.query<{ id: string }>(sql, params)).rows.map((r) => r.id).sort();
            expect(
              await ids2('select id from public.imported_documents where org_id = $1', [w.t.orgA]),
            ).toEqual(expected);
            expect(
              await ids2(
                `select document_id as id from public.unified_content_search(match_org_id => $1, query_embedding => $2::extensions.vector,
                   query_embedding_model => 'test-embedding-1536', match_count => 200, full_text_weight => 0)`,
                [w.t.orgA, axis0],
              ),
            ).toEqual(expected);
            expect(
              await ids2(
                "select document_id as id from public.unified_content_search(match_org_id => $1, query_text => 'bravo', match_count => 200, semantic_weight => 0)",
                [w.t.orgA],
              ),
            ).toEqual(expected);
            // A member of another organisation gains nothing from this organisation's groups.
            await asMember(tx, w.t.memberB, caller);
            expect(await ids2('select id from public.imported_documents', [])).toEqual([]);
          });
        }),
        { numRuns: runs },
      );
    }, 300_000);
  });
}

suite('PGlite', async () => {
  const { pglite, db } = await createMigratedPglite();
  return { db, close: () => pglite.close() };
}, 12);

let server: MigratedServer | undefined;
suite('the PostgreSQL server', async () => {
  server = await startMigratedServer();
  const { db } = await server.createDatabase();
  return { db, close: async () => server?.stop() };
}, 8);
