// 0015_search_quality on PGlite and on a real PostgreSQL server: any-word full text ranked by BM25
// with per-organisation statistics, web-search syntax, prefixes, the document's language, the
// statistics kept right through inserts, replacements and deletes, and tenants kept apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase, SqlQueryable } from '../src/index.js';
import {
  actAs,
  createMigratedPglite,
  insertConnector,
  type MigratedServer,
  rolledBack,
  seedTenancy,
  sha256Hex,
  startMigratedServer,
  type Tenancy,
} from './support/schema-database.js';

interface Backend {
  name: string;
  open(): Promise<{ db: SqlDatabase; close(): Promise<void> }>;
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
      const { db, pool } = await server.createDatabase(4);
      return { db, close: () => pool.end() };
    },
  },
];

afterAll(async () => {
  await server?.stop();
});

interface Hit {
  chunk_id: string;
  document_id: string;
  title: string;
  content: string;
  snippet: string;
  full_text_rank: number | null;
  full_text_score: number | null;
}

describe.each(backends)('BM25 full text (0015) on $name', (backend) => {
  let db: SqlDatabase;
  let close: () => Promise<void>;
  let t: Tenancy;
  let connectorA: string;
  let connectorB: string;

  async function addDocument(
    orgId: string,
    connectorId: string,
    title: string,
    chunks: string[],
    metadata: Record<string, unknown> = {},
  ): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `insert into public.imported_documents (org_id, connector_id, external_id, title, processing_status, source_metadata)
       values ($1, $2, $3, $3, 'completed', $4::jsonb) returning id`,
      [orgId, connectorId, title, JSON.stringify(metadata)],
    );
    const id = rows[0]?.id ?? '';
    await replaceChunks(id, chunks);
    return id;
  }

  async function replaceChunks(documentId: string, chunks: string[]): Promise<void> {
    await db.query('select * from public.replace_document_chunks($1::jsonb)', [
      JSON.stringify([
        {
          document_id: documentId,
          chunks: chunks.map((content, index) => ({
            chunk_index: index,
            content,
            content_hash: sha256Hex(content),
          })),
        },
      ]),
    ]);
  }

  async function search(orgId: string, text: string, tx: SqlQueryable = db): Promise<Hit[]> {
    const { rows } = await tx.query<Hit>(
      `select chunk_id, document_id, title, content, snippet, full_text_rank, full_text_score
       from public.unified_content_search(match_org_id => $1, query_text => $2, match_count => 50)`,
      [orgId, text],
    );
    return rows;
  }

  const titles = (hits: Hit[]) => hits.map((hit) => hit.title);

  /** What the statistics should say, counted from the chunks themselves. */
  async function statisticsMatchChunks(): Promise<void> {
    const { rows: expected } = await db.query<{ org_id: string; lexeme: string; n: number }>(
      `select c.org_id, l.lexeme, count(*)::int as n from public.document_chunks c,
         unnest(tsvector_to_array(c.fts)) l(lexeme) group by 1, 2 order by c.org_id, l.lexeme collate "C"`,
    );
    const { rows: kept } = await db.query<{ org_id: string; lexeme: string; n: number }>(
      `select org_id, lexeme, sum(chunk_count)::int as n from tributary_private.full_text_terms
       group by 1, 2 having sum(chunk_count) <> 0 order by org_id, lexeme collate "C"`,
    );
    expect(kept).toEqual(expected);
    const { rows: totals } = await db.query<{ same: boolean }>(
      `select coalesce((select array_agg(x order by x) from (
           select org_id::text || ':' || language::text || ':' || count(*) || ':' || sum(length(fts)) as x
           from public.document_chunks group by org_id, language) a), '{}')
         = coalesce((select array_agg(x order by x) from (
           select org_id::text || ':' || language::text || ':' || sum(chunk_count) || ':' || sum(total_length) as x
           from tributary_private.full_text_stats group by org_id, language having sum(chunk_count) <> 0) b), '{}') as same`,
    );
    expect(totals[0]?.same).toBe(true);
  }

  beforeAll(async () => {
    ({ db, close } = await backend.open());
    t = await seedTenancy(db);
    connectorA = await insertConnector(db, t.orgA);
    connectorB = await insertConnector(db, t.orgB);
    // Many reports, one zebra: "report" is common in A, "zebra" rare.
    for (let index = 0; index < 12; index += 1) {
      await addDocument(t.orgA, connectorA, `Report ${index}`, [
        `The quarterly report number ${index} covers budget and staffing.`,
      ]);
    }
    await addDocument(t.orgA, connectorA, 'Zebra report', ['A report on the zebra enclosure at the zoo.']);
    await addDocument(t.orgA, connectorA, 'Zebra only', ['Zebra crossings are painted white and black.']);
    await addDocument(t.orgA, connectorA, 'Grilled salmon', ['Grilled salmon with lemon, a quick dinner.']);
    await addDocument(t.orgA, connectorA, 'Smoked salmon', ['Smoked salmon on rye bread for lunch.']);
    await addDocument(t.orgA, connectorA, 'Salmon grilled late', ['The salmon was grilled late at night.']);
    await addDocument(t.orgA, connectorA, 'Häuser', ['Die alten Häuser stehen am Fluss.'], {
      language: 'de',
    });
    await addDocument(t.orgA, connectorA, 'Unknown tongue', ['Zorblat kivvu grelshen.'], {
      language: 'xx-QQ',
    });
    await addDocument(t.orgB, connectorB, 'B salmon', [
      'Organisation B also grills salmon and writes reports.',
    ]);
  });

  afterAll(async () => {
    await close();
  });

  it('matches any word of a question, so question-style queries find something', async () => {
    const hits = await search(t.orgA, 'What is a good way to cook salmon for dinner?');
    expect(titles(hits)[0]).toBe('Grilled salmon'); // salmon and dinner
    expect(titles(hits)).toEqual(expect.arrayContaining(['Smoked salmon', 'Salmon grilled late']));
    // Stop words alone match nothing.
    expect(await search(t.orgA, 'what is the')).toEqual([]);
  });

  it('ranks by BM25: a rare term outweighs a common one, and covering more terms ranks higher', async () => {
    const hits = await search(t.orgA, 'report zebra');
    expect(titles(hits).slice(0, 2)).toEqual(['Zebra report', 'Zebra only']);
    expect(titles(hits)).toContain('Report 3');
    const [both, rareOnly] = hits;
    const common = hits.find((hit) => hit.title === 'Report 3');
    const score = (hit: Hit | undefined) => hit?.full_text_score ?? Number.NaN;
    expect(score(both)).toBeGreaterThan(score(rareOnly));
    expect(score(rareOnly)).toBeGreaterThan(score(common));
    expect(hits.map((hit) => hit.full_text_rank)).toEqual(hits.map((_, index) => index + 1));
  });

  it('lets only terms within tributary.full_text_max_matches decide the candidates; the others still score them', async () => {
    // 0032: `report` is in 13 chunks of A, `zebra` in 2. With a bound of 5, `report` no longer
    // makes candidates (before, any term after rarer ones under the bound did, however many
    // chunks it matched), so only the zebra chunks are scored, `report` still ranking the one
    // that has it first. The rarest term decides even past the bound.
    await rolledBack(db, async (tx) => {
      await tx.query("select set_config('tributary.full_text_max_matches', '5', true)");
      const bounded = await search(t.orgA, 'report zebra', tx);
      expect(titles(bounded)).toEqual(['Zebra report', 'Zebra only']);
      // At most twice the bound are scored (README: Bounded work).
      expect(titles(await search(t.orgA, 'report', tx))).toHaveLength(10);
    });
    expect(titles(await search(t.orgA, 'report zebra'))).toHaveLength(14);
  });

  it('checks documents after ranking, and every match when the best ones fail the filters', async () => {
    // 0034: the matched chunks are ranked first and the best 2 x 40 candidates have their document
    // checked. Here the 100 best `walrus` chunks belong to documents the search must not return
    // (deleted, still processing, or outside the connector filter), so the first pass finds none
    // and the second checks every match: the three weak matches that qualify still come back.
    await rolledBack(db, async (tx) => {
      const other = await insertConnector(tx, t.orgA, { name: 'Other connector' });
      const strong = 'walrus walrus walrus walrus on the ice';
      const { rows: blocked } = await tx.query<{ id: string; i: number }>(
        `insert into public.imported_documents (org_id, connector_id, external_id, title, processing_status,
           is_deleted, deleted_at)
         select $1, case when i % 3 = 0 then $2::uuid else $3::uuid end, 'strong-' || i, 'Strong ' || i,
                case when i % 3 = 1 then 'pending' else 'completed' end, i % 3 = 2,
                case when i % 3 = 2 then now() end
         from generate_series(0, 99) i returning id, substr(external_id, 8)::integer as i`,
        [t.orgA, other, connectorA],
      );
      const weak = [0, 1, 2].map((i) => `A note on seals, one walrus and the colony number ${i}.`);
      const { rows: live } = await tx.query<{ id: string }>(
        `insert into public.imported_documents (org_id, connector_id, external_id, title, processing_status)
         select $1, $2, 'weak-' || i, 'Weak ' || i, 'completed' from generate_series(0, 2) i returning id`,
        [t.orgA, connectorA],
      );
      const chunksOf = (id: string, content: string) => ({
        document_id: id,
        chunks: [{ chunk_index: 0, content, content_hash: sha256Hex(content) }],
      });
      await tx.query('select * from public.replace_document_chunks($1::jsonb)', [
        JSON.stringify([
          ...blocked.map((row) => chunksOf(row.id, `${strong} ${row.i}`)),
          ...live.map((row, i) => chunksOf(row.id, weak[i] ?? '')),
        ]),
      ]);
      const { rows } = await tx.query<Hit>(
        `select chunk_id, document_id, title, content, snippet, full_text_rank, full_text_score
         from public.unified_content_search(match_org_id => $1, query_text => 'walrus', match_count => 5,
           connector_ids => array[$2::uuid])`,
        [t.orgA, connectorA],
      );
      expect(titles(rows).sort()).toEqual(['Weak 0', 'Weak 1', 'Weak 2']);
      // Without the connector filter the 34 completed, live `Strong` documents outrank them.
      const unfiltered = await search(t.orgA, 'walrus', tx);
      expect(titles(unfiltered).filter((title) => title.startsWith('Strong'))).toHaveLength(34);
      expect(titles(unfiltered).slice(-3).sort()).toEqual(['Weak 0', 'Weak 1', 'Weak 2']);
    });
  });

  it('honours "quoted phrases", -exclusions, OR and prefix*', async () => {
    expect(titles(await search(t.orgA, '"grilled salmon"'))).toEqual(['Grilled salmon']);
    const notSmoked = titles(await search(t.orgA, 'salmon -smoked'));
    expect(notSmoked).toEqual(expect.arrayContaining(['Grilled salmon', 'Salmon grilled late']));
    expect(notSmoked).not.toContain('Smoked salmon');
    expect(titles(await search(t.orgA, 'salmon -"rye bread"'))).not.toContain('Smoked salmon');
    expect(titles(await search(t.orgA, 'zebra OR lemon')).sort()).toEqual([
      'Grilled salmon',
      'Zebra only',
      'Zebra report',
    ]);
    expect(titles(await search(t.orgA, 'zeb*')).sort()).toEqual(['Zebra only', 'Zebra report']);
    const [snippet] = await search(t.orgA, '"grilled salmon"');
    expect(snippet?.snippet).toContain('**Grilled**');
  });

  it("stems each chunk in its document's language ('simple' for an unknown one)", async () => {
    const { rows } = await db.query<{ title: string; language: string }>(
      `select d.title, c.language::text as language from public.document_chunks c
       join public.imported_documents d on d.id = c.document_id
       where d.title in ('Häuser', 'Unknown tongue', 'Zebra only') order by d.title`,
    );
    expect(rows).toEqual([
      { title: 'Häuser', language: 'german' },
      { title: 'Unknown tongue', language: 'simple' },
      { title: 'Zebra only', language: 'english' },
    ]);
    // German stemming: "Haus"/"Häusern" reach "Häuser"; German stop words ("die") are dropped.
    expect(titles(await search(t.orgA, 'Häusern'))).toEqual(['Häuser']);
    expect(titles(await search(t.orgA, 'die'))).toEqual([]);
    expect(titles(await search(t.orgA, 'grelshen'))).toEqual(['Unknown tongue']);
  });

  it('keeps the term statistics equal to the chunks through inserts, replacements and deletes', async () => {
    await statisticsMatchChunks();
    const id = await addDocument(t.orgA, connectorA, 'Changing', ['alpha beta', 'gamma delta']);
    await statisticsMatchChunks();
    // Replace: one chunk rewritten, one removed, one unchanged-and-kept elsewhere.
    await replaceChunks(id, ['alpha epsilon']);
    await statisticsMatchChunks();
    const { rows } = await db.query<{ n: number }>(
      `select coalesce(sum(chunk_count), 0)::int as n from tributary_private.full_text_terms
       where org_id = $1 and lexeme = 'gamma'`,
      [t.orgA],
    );
    expect(rows[0]?.n).toBe(0);
    await db.query('delete from public.imported_documents where id = $1', [id]);
    await statisticsMatchChunks();
    // An embedding-only update changes no statistic and no row of them.
    await db.query(`update public.document_chunks set token_count = 3 where org_id = $1`, [t.orgA]);
    await statisticsMatchChunks();
  });

  it('searches only the caller’s organisation; the statistics are not readable by members', async () => {
    const asMember = await actAs(db, { role: 'authenticated', userId: t.memberA }, (tx) =>
      search(t.orgA, 'salmon reports', tx),
    );
    expect(titles(asMember)).not.toContain('B salmon');
    expect(asMember.length).toBeGreaterThan(0);
    const other = await actAs(db, { role: 'authenticated', userId: t.memberA }, (tx) =>
      search(t.orgB, 'salmon', tx).then(
        () => 'allowed',
        (error: { code?: string }) => error.code,
      ),
    );
    expect(other).toBe('42501');
    const stats = await actAs(db, { role: 'authenticated', userId: t.memberA }, (tx) =>
      tx.query('select * from tributary_private.full_text_terms').then(
        () => 'readable',
        (error: { code?: string }) => error.code,
      ),
    );
    expect(stats).toBe('42501');
    // B's statistics count only B's chunks: its one "report" chunk.
    const { rows } = await db.query<{ n: number }>(
      `select sum(chunk_count)::int as n from tributary_private.full_text_terms where org_id = $1 and lexeme = 'report'`,
      [t.orgB],
    );
    expect(rows[0]?.n).toBe(1);
  });
});
