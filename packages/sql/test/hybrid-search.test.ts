// unified_content_search (0007_vector_search.sql) on PGlite with pgvector: reciprocal rank fusion of
// full-text and vector ranks, organisation scoping, what is excluded, filters, snippets, and bad input.
// The corpus is tiny and hand-made: real sentences, and 1536-dim embeddings that are unit vectors on a
// few axes, so every similarity (and so every rank) is known in advance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../src/index.js';
import {
  type Actor,
  actAs,
  createMigratedPglite,
  insertConnector,
  seedTenancy,
  sha256Hex,
  type Tenancy,
} from './support/schema-database.js';

let context: Awaited<ReturnType<typeof createMigratedPglite>>;
let db: SqlDatabase;
let t: Tenancy;

/** A 1536-dim embedding with the given axis weights, zeros elsewhere, in pgvector's text form. */
function embedding(axes: Record<number, number>): string {
  const values = new Array<number>(1536).fill(0);
  for (const [axis, value] of Object.entries(axes)) values[Number(axis)] = value;
  return `[${values.join(',')}]`;
}

// Axis 0 is "salmon, the food"; the query embedding used below is exactly axis 0.
const salmonAxis = { 0: 1 };

/** Chunk ids by name, filled in by the seed. */
const chunk: Record<string, string> = {};
const connector = { drive: '', notion: '', bDrive: '' };

async function insertDocument(
  orgId: string,
  connectorId: string,
  title: string,
  values: { status?: string; deleted?: boolean } = {},
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `insert into public.imported_documents (org_id, connector_id, external_id, title, external_url, mime_type,
       processing_status, is_deleted, deleted_at, source_metadata)
     values ($1, $2, $3, $3, 'https://example.com/' || $3, 'text/plain', $4, $5, case when $5 then now() end,
             jsonb_build_object('path', '/docs/' || $3))
     returning id`,
    [orgId, connectorId, title, values.status ?? 'completed', values.deleted ?? false],
  );
  const [row] = rows;
  if (!row) throw new Error('no document inserted');
  return row.id;
}

async function insertChunk(
  name: string,
  orgId: string,
  documentId: string,
  index: number,
  content: string,
  axes: Record<number, number> | null,
): Promise<void> {
  const { rows } = await db.query<{ id: string }>(
    `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash, embedding, embedding_model)
     values ($1, $2, $3, $4, $5, $6::extensions.vector, case when $6::text is not null then 'test-embedding-1536' end)
     returning id`,
    [orgId, documentId, index, content, sha256Hex(content), axes ? embedding(axes) : null],
  );
  const [row] = rows;
  if (!row) throw new Error('no chunk inserted');
  chunk[name] = row.id;
}

beforeAll(async () => {
  context = await createMigratedPglite();
  db = context.db;
  t = await seedTenancy(db);
  connector.drive = await insertConnector(db, t.orgA, { name: 'Drive', type: 'google_drive' });
  connector.notion = await insertConnector(db, t.orgA, { name: 'Notion', type: 'notion' });
  connector.bDrive = await insertConnector(db, t.orgB, { name: 'B Drive' });

  // Organisation A, completed and live. Full-text ranks for "salmon": recipes (3x) > fishing (2x) > platter (1x).
  const cookbook = await insertDocument(t.orgA, connector.drive, 'Cookbook');
  await insertChunk(
    'recipes',
    t.orgA,
    cookbook,
    0,
    'Salmon recipes: grilled salmon, baked salmon with lemon and dill.',
    salmonAxis,
  );
  await insertChunk('tax', t.orgA, cookbook, 1, 'Quarterly tax filing deadlines for small businesses.', {
    1: 1,
  });
  const rivers = await insertDocument(t.orgA, connector.drive, 'Rivers');
  // similarity 0.8 to the query, and 0.6 to axis 2.
  await insertChunk(
    'fishing',
    t.orgA,
    rivers,
    0,
    'Salmon fishing rules: salmon season opens in June on Alaska rivers.',
    {
      0: 0.8,
      2: 0.6,
    },
  );
  await insertChunk(
    'kubernetes',
    t.orgA,
    rivers,
    1,
    'Kubernetes deployment checklist and rollout strategy.',
    { 3: 1 },
  );
  const party = await insertDocument(t.orgA, connector.notion, 'Party');
  // Matches "salmon" in text, but its embedding is unrelated (similarity 0).
  await insertChunk('platter', t.orgA, party, 0, 'A smoked salmon platter for the office party.', { 4: 1 });
  // Close to the query in meaning (similarity 0.9) without the word.
  await insertChunk(
    'pickles',
    t.orgA,
    party,
    1,
    'Dill pickles and lemon wedges to serve with grilled fish.',
    {
      0: 0.9,
      5: Math.sqrt(1 - 0.81),
    },
  );
  // A chunk without an embedding yet: found by text only.
  await insertChunk('unembedded', t.orgA, party, 2, 'Notes on the venue and parking.', null);

  // Organisation A, never searchable: soft-deleted, or not completed. Each would otherwise rank first.
  const best = 'Salmon salmon salmon: the best salmon guide, salmon everywhere.';
  const deleted = await insertDocument(t.orgA, connector.drive, 'Deleted', { deleted: true });
  await insertChunk('deleted', t.orgA, deleted, 0, best, salmonAxis);
  for (const status of ['pending', 'processing', 'failed']) {
    const document = await insertDocument(t.orgA, connector.drive, `Status ${status}`, { status });
    await insertChunk(status, t.orgA, document, 0, best, salmonAxis);
  }

  // Organisation B: the best match of all, and never visible to A.
  const other = await insertDocument(t.orgB, connector.bDrive, 'B Guide');
  await insertChunk('orgB', t.orgB, other, 0, best, salmonAxis);
});
afterAll(async () => {
  await context?.pglite.close();
});

interface SearchArgs {
  org: string | null;
  text?: string | null;
  embedding?: Record<number, number> | null;
  count?: number | null;
  threshold?: number | null;
  includeImported?: boolean;
  connectorIds?: string[] | null;
  fullTextWeight?: number | null;
  semanticWeight?: number | null;
  rrfK?: number | null;
  /** query_embedding_model; defaults to the model every chunk here was stored with. */
  model?: string | null;
}

interface Hit {
  chunk_id: string;
  document_id: string;
  connector_id: string;
  title: string;
  external_url: string;
  mime_type: string;
  chunk_index: number;
  context: string | null;
  content: string;
  snippet: string;
  score: number;
  full_text_rank: number | null;
  semantic_rank: number | null;
  similarity: number | null;
  source_metadata: Record<string, unknown>;
}

const service: Actor = { role: 'service_role' };
const user = (userId: string): Actor => ({ role: 'authenticated', userId });

/** Calls unified_content_search with named arguments (only those given) as `actor`. */
async function search(args: SearchArgs, actor: Actor = service): Promise<Hit[]> {
  const names: [keyof SearchArgs, string, string][] = [
    ['org', 'match_org_id', 'uuid'],
    ['text', 'query_text', 'text'],
    ['embedding', 'query_embedding', 'extensions.vector'],
    ['count', 'match_count', 'integer'],
    ['threshold', 'match_threshold', 'double precision'],
    ['includeImported', 'include_imported', 'boolean'],
    ['connectorIds', 'connector_ids', 'uuid[]'],
    ['fullTextWeight', 'full_text_weight', 'double precision'],
    ['semanticWeight', 'semantic_weight', 'double precision'],
    ['rrfK', 'rrf_k', 'integer'],
    ['model', 'query_embedding_model', 'text'],
  ];
  if ('embedding' in args && !('model' in args)) args = { ...args, model: 'test-embedding-1536' };
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const [key, name, type] of names) {
    if (!(key in args)) continue;
    const value = args[key];
    params.push(key === 'embedding' && value ? embedding(value as Record<number, number>) : value);
    parts.push(`${name} => $${params.length}::${type}`);
  }
  return actAs(db, actor, async (tx) => {
    const { rows } = await tx.query<Hit>(
      `select * from public.unified_content_search(${parts.join(', ')})`,
      params,
    );
    return rows;
  });
}

const namesOf = (hits: Hit[]) =>
  hits.map(
    (hit) => Object.entries(chunk).find(([, id]) => id === hit.chunk_id)?.[0] ?? `unknown:${hit.chunk_id}`,
  );

/** SQLSTATE and message of a failed search. */
async function searchFailure(
  args: SearchArgs,
  actor: Actor = service,
): Promise<{ code?: string; message: string }> {
  try {
    await search(args, actor);
  } catch (error) {
    const failed = error as { code?: string; message: string };
    return { code: failed.code, message: failed.message };
  }
  throw new Error('expected the search to fail, but it succeeded');
}

const neverVisible = ['deleted', 'pending', 'processing', 'failed', 'orgB'];

describe('unified_content_search ranking (reciprocal rank fusion)', () => {
  it('puts the chunk that ranks first in both lists first, and fuses the rest by 1/(k + rank)', async () => {
    const hits = await search({ org: t.orgA, text: 'salmon', embedding: salmonAxis, threshold: 0.5 });
    expect(namesOf(hits)).toEqual(['recipes', 'fishing', 'pickles', 'platter']);
    const [recipes, fishing, pickles, platter] = hits;
    expect(recipes).toMatchObject({ full_text_rank: 1, semantic_rank: 1 });
    expect(recipes?.similarity).toBeCloseTo(1, 5);
    expect(recipes?.score).toBeCloseTo(1 / 61 + 1 / 61, 10);
    expect(fishing).toMatchObject({ full_text_rank: 2, semantic_rank: 3 });
    expect(fishing?.similarity).toBeCloseTo(0.8, 5);
    expect(fishing?.score).toBeCloseTo(1 / 62 + 1 / 63, 10);
    expect(pickles).toMatchObject({ full_text_rank: null, semantic_rank: 2 });
    expect(pickles?.similarity).toBeCloseTo(0.9, 5);
    expect(pickles?.score).toBeCloseTo(1 / 62, 10);
    // Below the threshold semantically (similarity 0): a full-text hit only.
    expect(platter).toMatchObject({ full_text_rank: 3, semantic_rank: null, similarity: null });
    expect(platter?.score).toBeCloseTo(1 / 63, 10);
  });

  it('returns the document fields with each chunk', async () => {
    const [first] = await search({ org: t.orgA, text: 'salmon', embedding: salmonAxis, count: 1 });
    expect(first).toMatchObject({
      chunk_id: chunk.recipes,
      connector_id: connector.drive,
      title: 'Cookbook',
      external_url: 'https://example.com/Cookbook',
      mime_type: 'text/plain',
      chunk_index: 0,
      context: null,
      content: 'Salmon recipes: grilled salmon, baked salmon with lemon and dill.',
      source_metadata: { path: '/docs/Cookbook' },
    });
  });

  it('works with full text only', async () => {
    const hits = await search({ org: t.orgA, text: 'salmon' });
    expect(namesOf(hits)).toEqual(['recipes', 'fishing', 'platter']);
    expect(hits.map((hit) => [hit.full_text_rank, hit.semantic_rank, hit.similarity])).toEqual([
      [1, null, null],
      [2, null, null],
      [3, null, null],
    ]);
    expect(hits.map((hit) => hit.score)).toEqual(
      [1 / 61, 1 / 62, 1 / 63].map((score) => expect.closeTo(score, 10)),
    );
    // Web search syntax: a phrase and an exclusion.
    expect(namesOf(await search({ org: t.orgA, text: '"salmon fishing"' }))).toEqual(['fishing']);
    expect(namesOf(await search({ org: t.orgA, text: 'salmon -grilled' }))).toEqual(['fishing', 'platter']);
    // Stemming: "deployments" finds "deployment".
    expect(namesOf(await search({ org: t.orgA, text: 'deployments' }))).toEqual(['kubernetes']);
  });

  it('works with the embedding only (semantic ranks, no full-text rank, plain snippet)', async () => {
    const hits = await search({ org: t.orgA, embedding: salmonAxis, threshold: 0.5 });
    expect(namesOf(hits)).toEqual(['recipes', 'pickles', 'fishing']);
    expect(hits.map((hit) => [hit.full_text_rank, hit.semantic_rank])).toEqual([
      [null, 1],
      [null, 2],
      [null, 3],
    ]);
    expect(hits[1]?.snippet).toBe('Dill pickles and lemon wedges to serve with grilled fish.');
    // With the default threshold 0 every embedded chunk with similarity >= 0 is a candidate;
    // the chunk without an embedding never is.
    const all = namesOf(await search({ org: t.orgA, embedding: salmonAxis }));
    expect(all.slice(0, 3)).toEqual(['recipes', 'pickles', 'fishing']);
    expect(new Set(all)).toEqual(new Set(['recipes', 'pickles', 'fishing', 'tax', 'kubernetes', 'platter']));
  });

  it('filters semantic hits by match_threshold', async () => {
    const strict = await search({ org: t.orgA, embedding: salmonAxis, threshold: 0.85 });
    expect(namesOf(strict)).toEqual(['recipes', 'pickles']);
    expect(namesOf(await search({ org: t.orgA, embedding: salmonAxis, threshold: 0.95 }))).toEqual([
      'recipes',
    ]);
    // In hybrid mode, a chunk below the threshold keeps only its full-text rank.
    const hybrid = await search({ org: t.orgA, text: 'salmon', embedding: salmonAxis, threshold: 0.85 });
    expect(hybrid.find((hit) => hit.chunk_id === chunk.fishing)).toMatchObject({
      full_text_rank: 2,
      semantic_rank: null,
    });
    expect(await search({ org: t.orgA, embedding: { 7: 1 }, threshold: 0.1 })).toEqual([]);
  });

  it('lets the weights shift the order', async () => {
    // Text "salmon": recipes 1st, fishing 2nd. Embedding on axis 2: only fishing is similar (0.6).
    const base = { org: t.orgA, text: 'salmon', embedding: { 2: 1 }, threshold: 0.5 };
    expect(namesOf(await search(base)).slice(0, 2)).toEqual(['fishing', 'recipes']);
    expect(namesOf(await search({ ...base, semanticWeight: 0 })).slice(0, 2)).toEqual(['recipes', 'fishing']);
    // Full text weighted 100x: recipes (100/61) now beats fishing (100/62 + 1/61).
    expect(namesOf(await search({ ...base, fullTextWeight: 100 })).slice(0, 2)).toEqual([
      'recipes',
      'fishing',
    ]);
    const ftOnly = await search({ ...base, semanticWeight: 0 });
    expect(ftOnly[0]?.score).toBeCloseTo(1 / 61, 10);
    // Semantic only by weight: fishing alone scores.
    const semanticOnly = await search({ ...base, fullTextWeight: 0 });
    expect(namesOf(semanticOnly)[0]).toBe('fishing');
    expect(semanticOnly[0]?.score).toBeCloseTo(1 / 61, 10);
    expect(semanticOnly.slice(1).every((hit) => hit.score === 0)).toBe(true);
    // rrf_k changes how fast scores fall with rank.
    const sharp = await search({ org: t.orgA, text: 'salmon', rrfK: 1 });
    expect(sharp.map((hit) => hit.score)).toEqual(
      [1 / 2, 1 / 3, 1 / 4].map((score) => expect.closeTo(score, 10)),
    );
  });

  it('limits the result to match_count', async () => {
    const hits = await search({
      org: t.orgA,
      text: 'salmon',
      embedding: salmonAxis,
      threshold: 0.5,
      count: 2,
    });
    expect(namesOf(hits)).toEqual(['recipes', 'fishing']);
  });
});

describe('unified_content_search scoping and exclusions', () => {
  it("never returns another organisation's chunks, soft-deleted documents or documents not completed", async () => {
    for (const args of [
      { org: t.orgA, text: 'salmon', embedding: salmonAxis },
      { org: t.orgA, text: 'salmon' },
      { org: t.orgA, embedding: salmonAxis },
      { org: t.orgA, text: 'best guide everywhere' },
    ]) {
      for (const actor of [service, user(t.memberA), user(t.ownerA)]) {
        const names = namesOf(await search({ ...args, count: 200 }, actor));
        for (const hidden of neverVisible) expect(names).not.toContain(hidden);
      }
    }
    expect(await search({ org: t.orgA, text: 'best guide everywhere' })).toEqual([]);
    // The same words in B are found for B (so the exclusion above is about scoping, not the query).
    expect(namesOf(await search({ org: t.orgB, text: 'best guide everywhere' }))).toEqual(['orgB']);
    expect(
      namesOf(await search({ org: t.orgB, text: 'salmon', embedding: salmonAxis }, user(t.memberB))),
    ).toEqual(['orgB']);
  });

  it('finds a document again once it is completed, and loses it when it is soft-deleted', async () => {
    await db.query(
      "update public.imported_documents set processing_status = 'completed' where title = 'Status pending'",
    );
    try {
      const found = namesOf(await search({ org: t.orgA, text: 'salmon', embedding: salmonAxis }));
      expect(found).toContain('pending');
      // Five "salmon" beat three in full text.
      expect(namesOf(await search({ org: t.orgA, text: 'salmon' }))[0]).toBe('pending');
      await db.query(
        "update public.imported_documents set is_deleted = true, deleted_at = now() where title = 'Status pending'",
      );
      expect(namesOf(await search({ org: t.orgA, text: 'salmon', embedding: salmonAxis }))).not.toContain(
        'pending',
      );
    } finally {
      await db.query(
        "update public.imported_documents set processing_status = 'pending', is_deleted = false, deleted_at = null where title = 'Status pending'",
      );
    }
  });

  it('restricts to connector_ids', async () => {
    const args = { org: t.orgA, text: 'salmon', embedding: salmonAxis, threshold: 0.5 };
    // Ranks are taken within the filtered chunks: each Notion chunk is first in its list (a tie).
    const notion = await search({ ...args, connectorIds: [connector.notion] });
    expect(new Set(namesOf(notion))).toEqual(new Set(['pickles', 'platter']));
    expect(notion.find((hit) => hit.chunk_id === chunk.platter)).toMatchObject({
      full_text_rank: 1,
      semantic_rank: null,
    });
    expect(notion.find((hit) => hit.chunk_id === chunk.pickles)).toMatchObject({
      full_text_rank: null,
      semantic_rank: 1,
    });
    expect(notion.map((hit) => hit.score)).toEqual([expect.closeTo(1 / 61, 10), expect.closeTo(1 / 61, 10)]);
    const drive = await search({ ...args, connectorIds: [connector.drive] });
    expect(namesOf(drive)).toEqual(['recipes', 'fishing']);
    expect(drive.every((hit) => hit.connector_id === connector.drive)).toBe(true);
    expect(namesOf(await search({ ...args, connectorIds: [connector.drive, connector.notion] }))).toEqual([
      'recipes',
      'fishing',
      'pickles',
      'platter',
    ]);
    // Another organisation's connector id finds nothing in A; an empty list matches nothing.
    expect(await search({ ...args, connectorIds: [connector.bDrive] })).toEqual([]);
    expect(await search({ ...args, connectorIds: [] })).toEqual([]);
  });

  it('marks the query terms in the snippet with ** when query_text is given', async () => {
    const hits = await search({ org: t.orgA, text: 'salmon', embedding: salmonAxis, threshold: 0.5 });
    for (const hit of hits.filter((h) => h.full_text_rank !== null)) {
      expect(hit.snippet).toMatch(/\*\*salmon\*\*/i);
    }
    const [recipes] = hits;
    expect(recipes?.snippet).toContain('**Salmon** recipes: grilled **salmon**');
    // A stemmed match is marked in its original form.
    const [deploy] = await search({ org: t.orgA, text: 'deployments' });
    expect(deploy?.snippet).toContain('**deployment**');
  });

  it('as a member of A: works for A, 42501 for B; non-members get 42501; anon may not call it', async () => {
    const hits = await search({ org: t.orgA, text: 'salmon' }, user(t.memberA));
    expect(namesOf(hits)).toEqual(['recipes', 'fishing', 'platter']);
    for (const [actor, org] of [
      [user(t.memberA), t.orgB],
      [user(t.ownerA), t.orgB],
      [user(t.memberB), t.orgA],
      [user(t.outsider), t.orgA],
    ] as const) {
      expect(await searchFailure({ org, text: 'salmon', embedding: salmonAxis }, actor)).toMatchObject({
        code: '42501',
        message: expect.stringContaining(`not a member of organisation ${org}`),
      });
    }
    expect(await searchFailure({ org: t.orgA, text: 'salmon' }, { role: 'anon' })).toMatchObject({
      code: '42501',
      message: expect.stringMatching(/permission denied for function/),
    });
  });
});

describe('unified_content_search bad input', () => {
  it('refuses each bad argument with a clear error', async () => {
    const valid = { org: t.orgA, text: 'salmon' };
    const cases: [SearchArgs, string, RegExp][] = [
      [{ ...valid, count: 0 }, '22023', /match_count must be between 1 and 200, got 0/],
      [{ ...valid, count: 201 }, '22023', /match_count must be between 1 and 200, got 201/],
      [{ ...valid, count: null }, '22023', /match_count .* got null/],
      [{ ...valid, org: null }, '22004', /match_org_id is required/],
      [{ org: t.orgA }, '22004', /give query_text, query_embedding, or both/],
      [{ org: t.orgA, text: '   ' }, '22004', /give query_text, query_embedding, or both/],
      [{ org: t.orgA, text: null, embedding: null }, '22004', /give query_text, query_embedding, or both/],
      [{ ...valid, text: 'x'.repeat(2001) }, '22023', /query_text is longer than 2000 characters/],
      [{ ...valid, rrfK: 0 }, '22023', /rrf_k must be between 1 and 1000/],
      [{ ...valid, rrfK: 1001 }, '22023', /rrf_k must be between 1 and 1000/],
      [{ ...valid, rrfK: null }, '22023', /rrf_k/],
      [{ ...valid, threshold: 1.5 }, '22023', /match_threshold must be between -1 and 1/],
      [{ ...valid, threshold: null }, '22023', /match_threshold/],
      [{ ...valid, fullTextWeight: -1 }, '22023', /weight must be >= 0/],
      [{ ...valid, semanticWeight: null }, '22023', /weight must be >= 0/],
    ];
    for (const [args, code, message] of cases) {
      const error = await searchFailure(args);
      expect(
        error.code,
        `${JSON.stringify({ ...args, text: args.text?.slice(0, 20) })}: ${error.message}`,
      ).toBe(code);
      expect(error.message).toMatch(message);
    }
    // 2000 characters is still fine (any word matches since 0015, so salmon is found); so are the
    // bounds of match_count.
    expect((await search({ ...valid, text: `salmon ${'y'.repeat(1993)}` })).length).toBeGreaterThan(0);
    expect(await search({ ...valid, count: 1 })).toHaveLength(1);
    expect(await search({ ...valid, count: 200 })).toHaveLength(3);
    // An embedding of the wrong size is refused by the type.
    const wrongSize = await actAs(db, service, async (tx) =>
      tx
        .query(
          'select * from public.unified_content_search(query_embedding => $1::extensions.vector(1536), match_org_id => $2)',
          ['[1,0,0]', t.orgA],
        )
        .then(
          () => undefined,
          (error: { code?: string }) => error.code,
        ),
    );
    expect(wrongSize).toBe('22000');
  });

  it('returns nothing when include_imported is false (Tributary only holds imported documents)', async () => {
    expect(await search({ org: t.orgA, text: 'salmon', includeImported: false })).toEqual([]);
  });
});
