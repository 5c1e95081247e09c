// What core's search() promises on every repository that stores vectors (memory, PGlite, a real
// PostgreSQL server with pgvector): the query is embedded with the stored model only, chunks of
// other models never come back, a mismatched embedder is refused before it is called, every hit's
// score is explained, minimum relevance and filters apply, and members only search their org.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Embedder,
  InvalidConfigError,
  type KnowledgeRepository,
  RepositoryError,
  search,
} from '../src/index.js';
import {
  axisVector,
  EMBEDDING_DIMENSIONS,
  type RepositoryContractFixture,
  sha256,
} from './repository-contract.js';

/** An embedder that maps known texts to axis vectors and counts its calls. */
export function axisEmbedder(
  id: string,
  vectors: Record<string, Record<number, number>>,
  dimensions = EMBEDDING_DIMENSIONS,
): Embedder & { calls: number } {
  const embedder = {
    id,
    model: id,
    dimensions,
    kind: 'semantic' as const,
    maxInputsPerRequest: 100,
    maxTokensPerRequest: 100_000,
    calls: 0,
    async embed(texts: readonly string[]) {
      embedder.calls += 1;
      return {
        vectors: texts.map((text) => {
          const values = new Array<number>(dimensions).fill(0);
          for (const [axis, value] of Object.entries(vectors[text] ?? { 9: 1 })) values[Number(axis)] = value;
          return values;
        }),
        usage: { requests: 1, inputs: texts.length, tokens: 0, costUsd: 0 },
      };
    },
  };
  return embedder;
}

export function defineSearchContract(name: string, factory: () => Promise<RepositoryContractFixture>): void {
  describe(`search(): ${name}`, () => {
    let fixture: RepositoryContractFixture;
    let repo: KnowledgeRepository;
    const orgId = randomUUID();
    const otherOrgId = randomUUID();
    let drive = '';
    let wiki = '';
    const ids: Record<string, string> = {};
    // "salmon" points along axis 0 for model A, along axis 5 for model B.
    const modelA = axisEmbedder('test:model-a@1536', { salmon: { 0: 1 }, 'grilled salmon': { 0: 1 } });
    const modelB = axisEmbedder('test:model-b@1536', { salmon: { 5: 1 } });

    async function store(
      connectorId: string,
      name: string,
      content: string,
      model: string,
      axes: Record<number, number>,
      extra: { mimeType?: string; sourceMetadata?: Record<string, string> } = {},
    ) {
      const [result] = await repo.upsertDocuments(connectorId, [
        { externalId: name, title: name, contentHash: sha256(content), mimeType: 'text/plain', ...extra },
      ]);
      const documentId = result?.documentId ?? '';
      await repo.replaceChunks(documentId, [
        {
          index: 0,
          content,
          contentHash: sha256(content),
          embedding: axisVector(axes),
          embeddingModel: model,
        },
      ]);
      await repo.setProcessingStatus([documentId], 'completed');
      ids[name] = documentId;
    }

    const names = (hits: { documentId: string }[]) =>
      hits.map((hit) => Object.entries(ids).find(([, id]) => id === hit.documentId)?.[0] ?? 'unknown');

    beforeAll(async () => {
      fixture = await factory();
      repo = fixture.repository;
      drive = await fixture.createConnector(orgId);
      wiki = await fixture.createConnector(orgId);
      const foreign = await fixture.createConnector(otherOrgId);
      await store(
        drive,
        'a-grilled',
        'Grilled salmon with dill',
        modelA.id,
        { 0: 1 },
        {
          sourceMetadata: { team: 'kitchen' },
        },
      );
      await store(drive, 'a-tax', 'Quarterly tax filing', modelA.id, { 0: 0.6, 1: 0.8 });
      await store(
        wiki,
        'a-fishing',
        'Notes on rivers and boats',
        modelA.id,
        { 0: 0.8, 2: 0.6 },
        {
          mimeType: 'text/markdown',
          sourceMetadata: { team: 'outdoors' },
        },
      );
      // Model B's chunk points exactly along model A's query axis: comparable only by accident.
      await store(drive, 'b-lookalike', 'Other model text', modelB.id, { 0: 1 });
      await store(wiki, 'b-salmon', 'Salmon in model B', modelB.id, { 5: 1 });
      await store(foreign, 'foreign', 'Grilled salmon elsewhere', modelA.id, { 0: 1 });
    });
    afterAll(async () => {
      await fixture?.close();
    });

    it('full text matches any word of a question, and fuses with the RRF k it is given', async () => {
      const question = await search({
        repository: repo,
        orgId,
        query: 'How long should grilled salmon rest before serving?',
        mode: 'fullText',
        limit: 50,
      });
      expect(names(question.hits)[0]).toBe('a-grilled');
      const fused = await search({
        repository: repo,
        orgId,
        query: 'grilled salmon',
        embedder: modelA,
        fusion: { k: 10 },
        limit: 5,
      });
      const [first] = fused.hits;
      expect(first?.explanation.fusion).toEqual({ method: 'rrf', k: 10 });
      expect(first?.explanation.fullText?.contribution).toBeCloseTo(1 / 11, 10);
      expect(first?.score).toBeCloseTo(2 / 11, 10);
      await expect(search({ repository: repo, orgId, query: 'salmon', fusion: { k: 0 } })).rejects.toThrow(
        /rrfK must be an integer between 1 and 1000/,
      );
    });

    it('compares the query only with chunks of the same model', async () => {
      const vectorA = await search({
        repository: repo,
        orgId,
        query: 'salmon',
        embedder: modelA,
        mode: 'vector',
        limit: 50,
      });
      expect(names(vectorA.hits)).toEqual(['a-grilled', 'a-fishing', 'a-tax']);
      expect(vectorA.embedding?.embedderId).toBe(modelA.id);
      const vectorB = await search({
        repository: repo,
        orgId,
        query: 'salmon',
        embedder: modelB,
        mode: 'vector',
        limit: 50,
      });
      // Model B's own chunks only (the lookalike at similarity 0), none of model A's.
      expect(names(vectorB.hits)).toEqual(['b-salmon', 'b-lookalike']);
      // Hybrid: text hits of every model's chunks still count (text is model-free); vectors do not mix.
      const hybrid = await search({ repository: repo, orgId, query: 'salmon', embedder: modelA, limit: 50 });
      expect(hybrid.hits.find((hit) => hit.documentId === ids['b-lookalike'])).toBeUndefined();
      const bText = hybrid.hits.find((hit) => hit.documentId === ids['b-salmon']);
      expect(bText?.explanation.foundBy).toEqual(['fullText']);
    });

    it('explains each score: which halves found it, ranks, raw values, contributions', async () => {
      const { hits } = await search({
        repository: repo,
        orgId,
        query: 'grilled salmon',
        embedder: modelA,
        limit: 5,
      });
      const [first] = hits;
      expect(first?.documentId).toBe(ids['a-grilled']);
      const explanation = first?.explanation;
      expect(explanation?.foundBy).toEqual(['fullText', 'semantic']);
      expect(explanation?.fullText).toMatchObject({
        rank: 1,
        weight: 1,
        contribution: expect.closeTo(1 / 61, 10),
      });
      expect(explanation?.fullText?.score).toBeGreaterThan(0);
      expect(explanation?.semantic).toMatchObject({
        rank: 1,
        weight: 1,
        cosineSimilarity: expect.closeTo(1, 5),
        contribution: expect.closeTo(1 / 61, 10),
        strategy: 'exact',
      });
      expect(first?.score).toBeCloseTo(
        (explanation?.fullText?.contribution ?? 0) + (explanation?.semantic?.contribution ?? 0),
        12,
      );
      expect(explanation?.fusion).toEqual({ method: 'rrf', k: 60 });
      expect(explanation?.summary).toMatch(
        /^full text #1 \(bm25 [0-9.]+\) \+ vector #1 \(cosine 1\.000, exact\) = 0\.0328$/,
      );
      const fishing = hits.find((hit) => hit.documentId === ids['a-fishing']);
      expect(fishing?.explanation).toMatchObject({ foundBy: ['semantic'], fullText: null });
      expect(fishing?.explanation.semantic?.cosineSimilarity).toBeCloseTo(0.8, 5);
    });

    it('drops hits below the minimum relevance instead of filling the limit', async () => {
      const all = await search({
        repository: repo,
        orgId,
        query: 'salmon',
        embedder: modelA,
        mode: 'vector',
        limit: 10,
      });
      expect(all.hits).toHaveLength(3);
      const relevant = await search({
        repository: repo,
        orgId,
        query: 'salmon',
        embedder: modelA,
        mode: 'vector',
        limit: 10,
        minRelevance: { similarity: 0.7 },
      });
      expect(names(relevant.hits)).toEqual(['a-grilled', 'a-fishing']);
      const none = await search({
        repository: repo,
        orgId,
        query: 'salmon',
        embedder: modelA,
        mode: 'vector',
        minRelevance: { similarity: 0.99999 },
      });
      expect(names(none.hits)).toEqual(['a-grilled']);
      const strictText = await search({
        repository: repo,
        orgId,
        query: 'salmon',
        minRelevance: { fullTextScore: 1 },
      });
      expect(strictText.hits).toEqual([]);
    });

    it('filters by connector, MIME type and source metadata', async () => {
      const base = {
        repository: repo,
        orgId,
        query: 'salmon',
        embedder: modelA,
        mode: 'vector' as const,
        limit: 10,
      };
      expect(names((await search({ ...base, filters: { connectorIds: [wiki] } })).hits)).toEqual([
        'a-fishing',
      ]);
      expect(names((await search({ ...base, filters: { mimeTypes: ['text/markdown'] } })).hits)).toEqual([
        'a-fishing',
      ]);
      expect(names((await search({ ...base, filters: { metadata: { team: 'kitchen' } } })).hits)).toEqual([
        'a-grilled',
      ]);
      expect((await search({ ...base, filters: { metadata: { team: 'nobody' } } })).hits).toEqual([]);
    });

    it('refuses an embedder of another size before calling it', async () => {
      const small = axisEmbedder('test:small@768', {}, 768);
      const error = await search({ repository: repo, orgId, query: 'salmon', embedder: small }).catch(
        (e: unknown) => e,
      );
      expect(InvalidConfigError.isInstance(error)).toBe(true);
      expect((error as InvalidConfigError).fieldPath).toBe('dimensions');
      expect((error as Error).message).toMatch(
        /test:small@768 makes 768-dimension vectors, and this database stores vector\(1536\)/,
      );
      expect((error as Error).message).toMatch(/Use an embedder of 1536 dimensions/);
      expect(small.calls).toBe(0);
    });

    it('refuses query vectors of the wrong size, all zeros, without a model, and NaN or infinite weights', async () => {
      const invalid = async (promise: Promise<unknown>, message: RegExp) => {
        const error = await promise.catch((e: unknown) => e);
        expect(RepositoryError.isInstance(error), String(error)).toBe(true);
        expect((error as RepositoryError).reason).toBe('invalid_input');
        expect((error as Error).message).toMatch(message);
      };
      const base = { orgId, embeddingModel: modelA.id };
      await invalid(repo.search({ ...base, queryEmbedding: new Array(768).fill(0.1) }), /768 dimensions/);
      await invalid(
        repo.search({ ...base, queryEmbedding: new Array(EMBEDDING_DIMENSIONS).fill(0) }),
        /all zeros/,
      );
      await invalid(repo.search({ orgId, queryEmbedding: axisVector({ 0: 1 }) }), /needs embeddingModel/);
      await invalid(
        repo.search({ orgId, queryText: 'salmon', weights: { fullText: Number.NaN } }),
        /weights.fullText/,
      );
      await invalid(
        repo.search({ orgId, queryText: 'salmon', weights: { semantic: Number.POSITIVE_INFINITY } }),
        /weights.semantic/,
      );
      await invalid(
        repo.search({ orgId, queryText: 'salmon', matchThreshold: Number.NaN }),
        /matchThreshold/,
      );
    });

    it('lets a member search their organisation only', async () => {
      const member = randomUUID();
      await fixture.addMember(member, orgId, 'member');
      const asMember = repo.withUser(member);
      const own = await search({ repository: asMember, orgId, query: 'salmon', embedder: modelA, limit: 50 });
      expect(names(own.hits)).toContain('a-grilled');
      expect(names(own.hits)).not.toContain('foreign');
      const error = await search({
        repository: asMember,
        orgId: otherOrgId,
        query: 'salmon',
        embedder: modelA,
      }).catch((e: unknown) => e);
      expect(RepositoryError.isInstance(error) && error.reason).toBe('not_allowed');
    });
  });
}
