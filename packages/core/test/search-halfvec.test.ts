// A database migrated with `vector: { dimensions: 768, type: 'halfvec' }` (PGlite): runSync refuses
// a 1536-dimension embedder before listing or embedding anything, and a 768-dimension embedder
// syncs and is searched end to end through search().
import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLexicalEmbedder,
  defineConnector,
  type Embedder,
  InvalidConfigError,
  type KnowledgeRepository,
  runSync,
  search,
} from '../src/index.js';
import { createPgliteRepository } from '../src/pglite.js';
import { migrationsFingerprint } from './repository-database-fixture.js';

function counting(embedder: Embedder): Embedder & { calls: number } {
  const wrapped = {
    ...embedder,
    calls: 0,
    embed: (texts: readonly string[], options?: { signal?: AbortSignal }) => {
      wrapped.calls += 1;
      return embedder.embed(texts, options);
    },
  };
  return wrapped;
}

describe('search and sync on a halfvec(768) database', () => {
  let pglite: PGlite;
  let repository: KnowledgeRepository;
  let connectorId = '';
  const orgId = randomUUID();
  const listed = { count: 0 };
  const notes = defineConnector({
    type: 'notes',
    async check() {},
    async *sync() {
      listed.count += 1;
      yield {
        kind: 'upsert' as const,
        document: {
          externalId: 'otters',
          title: 'Otters',
          content: { kind: 'text' as const, text: 'Sea otters hold hands while they sleep.' },
        },
      };
    },
  });

  beforeAll(async () => {
    pglite = await createPgliteDatabase({
      snapshot: {
        key: `tributary-core-halfvec-768-${migrationsFingerprint()}`,
        prepare: async (fresh) => {
          await migrate(fromPglite(fresh), { vector: { dimensions: 768, type: 'halfvec' } });
        },
      },
    });
    repository = createPgliteRepository(pglite, { actor: { role: 'service_role' } });
    const { rows } = await pglite.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'notes', 'Notes') returning id`,
      [orgId],
    );
    connectorId = rows[0]?.id ?? '';
  });
  afterAll(async () => {
    await pglite?.close();
  });

  it('reports the stored type and size', async () => {
    expect(await repository.vectorSettings()).toEqual({
      type: 'halfvec',
      dimensions: 768,
      distance: 'cosine',
    });
  });

  it('refuses a 1536-dimension embedder before the run starts: nothing listed, embedded or logged', async () => {
    const wide = counting(createLexicalEmbedder());
    const error = await runSync({ connector: notes, connectorId, repository, embedder: wide }).catch(
      (caught: unknown) => caught,
    );
    expect(InvalidConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /lexical:.*@1536 makes 1536-dimension vectors, and this database stores halfvec\(768\)/,
    );
    expect((error as Error).message).toMatch(/tributary migrate --vector-dimensions 1536/);
    expect(wide.calls).toBe(0);
    expect(listed.count).toBe(0);
    const logs = await pglite.query('select 1 from public.connector_sync_logs where connector_id = $1', [
      connectorId,
    ]);
    expect(logs.rows).toHaveLength(0);
  });

  it('syncs with a 768-dimension embedder and finds the document through search()', async () => {
    const narrow = counting(createLexicalEmbedder({ dimensions: 768 }));
    const summary = await runSync({ connector: notes, connectorId, repository, embedder: narrow });
    expect(summary.status).toBe('success');
    const { hits } = await search({ repository, orgId, query: 'otters sleep', embedder: narrow, limit: 3 });
    expect(hits[0]).toMatchObject({ title: 'Otters' });
    expect(hits[0]?.explanation.foundBy).toEqual(['fullText', 'semantic']);
    expect(hits[0]?.explanation.semantic?.strategy).toBe('exact');
    const wrongSize = counting(createLexicalEmbedder());
    await expect(search({ repository, orgId, query: 'otters', embedder: wrongSize })).rejects.toThrow(
      /stores halfvec\(768\)/,
    );
    expect(wrongSize.calls).toBe(0);
  });
  it('copies halfvec vectors inside the database when a re-sync reuses them', async () => {
    const narrow = counting(createLexicalEmbedder({ dimensions: 768 }));
    const paragraph = (topic: string) =>
      `${topic} ${'river otters and sea otters share the coast '.repeat(40)}`;
    const texts = { first: 'Otters eat urchins.', second: 'Otters eat crabs.' };
    let revision: keyof typeof texts = 'first';
    const long = defineConnector({
      type: 'long_notes',
      async check() {},
      async *sync() {
        yield {
          kind: 'upsert' as const,
          document: {
            externalId: 'coast',
            title: 'Coast',
            content: {
              kind: 'text' as const,
              text: ['# Coast', paragraph('Kelp.'), paragraph('Tides.'), texts[revision]].join('\n\n'),
            },
          },
        };
      },
    });
    const record = await pglite.query<{ id: string }>(
      "insert into public.connector_configs (org_id, connector_type, name) values ($1, 'long_notes', 'Long notes') returning id",
      [orgId],
    );
    const longId = record.rows[0]?.id ?? '';
    const base = { connector: long, connectorId: longId, repository, embedder: narrow };
    expect((await runSync(base)).status).toBe('success');
    const stored = async () =>
      (
        await pglite.query<{ content_hash: string; embedding: string }>(
          `select c.content_hash, c.embedding::text as embedding from public.document_chunks c
           join public.imported_documents d on d.id = c.document_id
           where d.connector_id = $1 order by c.chunk_index`,
          [longId],
        )
      ).rows;
    const before = await stored();
    expect(before.length).toBeGreaterThan(1);
    revision = 'second';
    const summary = await runSync(base);
    expect(summary.status).toBe('success');
    expect(summary.embeddings.reused).toBeGreaterThan(0);
    const after = await stored();
    expect(after.every((row) => row.embedding !== null)).toBe(true);
    // Reused chunks hold the same halfvec values as before; only the changed chunk was embedded.
    const earlier = new Map(before.map((row) => [row.content_hash, row.embedding]));
    const kept = after.filter((row) => earlier.has(row.content_hash));
    expect(kept).toHaveLength(summary.embeddings.reused);
    for (const row of kept) expect(row.embedding).toBe(earlier.get(row.content_hash));
    expect(summary.embeddings.inputs).toBe(after.length - kept.length);
  });
});
