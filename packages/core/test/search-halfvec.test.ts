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
});
