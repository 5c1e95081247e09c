// Optional reranking: search() hands the fused candidates to a Reranker and keeps the best by its
// score; createHostedReranker speaks the Cohere/Jina rerank wire format, tested against a local
// fake server (auth, 429 with Retry-After, 5xx, malformed answers).
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  ConnectorApiError,
  createHostedReranker,
  RateLimitError,
  type Reranker,
  search,
} from '../src/index.js';
import { createMemoryRepository } from '../src/testing.js';

const API_KEY = 'rerank-secret-key';

interface FakeRerankServer {
  url: string;
  requests: Array<{
    authorization?: string | undefined;
    body: { model: string; query: string; documents: string[]; top_n: number };
  }>;
  /** Answers to give before the normal one, in order. */
  queue: Array<(response: ServerResponse) => void>;
  close(): Promise<void>;
}

/** Scores each document by how many query words it contains (the fake's "model"). */
async function startFakeRerankServer(): Promise<FakeRerankServer> {
  const fake: Omit<FakeRerankServer, 'url' | 'close'> = { requests: [], queue: [] };
  const server: Server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    let raw = '';
    for await (const chunk of request) raw += chunk;
    const body = JSON.parse(raw) as FakeRerankServer['requests'][number]['body'];
    fake.requests.push({ authorization: request.headers.authorization, body });
    const next = fake.queue.shift();
    if (next) return next(response);
    if (request.headers.authorization !== `Bearer ${API_KEY}`) {
      response.writeHead(401, { 'content-type': 'application/json' });
      return response.end(JSON.stringify({ message: 'invalid api token' }));
    }
    const words = body.query.toLowerCase().split(/\W+/).filter(Boolean);
    const results = body.documents
      .map((document, index) => ({
        index,
        relevance_score: words.filter((word) => document.toLowerCase().includes(word)).length / words.length,
      }))
      .sort((a, b) => b.relevance_score - a.relevance_score)
      .slice(0, body.top_n);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ id: randomUUID(), results, meta: { billed_units: { search_units: 1 } } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...fake,
    get requests() {
      return fake.requests;
    },
    get queue() {
      return fake.queue;
    },
    url: `http://127.0.0.1:${port}/v2/rerank`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('createHostedReranker against a local rerank API', () => {
  let fake: FakeRerankServer;
  beforeAll(async () => {
    fake = await startFakeRerankServer();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('sends the documented request and returns one score per text, in input order', async () => {
    const reranker = createHostedReranker({ url: fake.url, model: 'rerank-test', apiKey: API_KEY });
    expect(reranker.id).toBe('hosted:rerank-test');
    const scores = await reranker.rerank('salmon dinner', ['tax forms', 'salmon for dinner', 'salmon']);
    expect(scores).toEqual([0, 1, 0.5]);
    const last = fake.requests.at(-1);
    expect(last?.authorization).toBe(`Bearer ${API_KEY}`);
    expect(last?.body).toEqual({
      model: 'rerank-test',
      query: 'salmon dinner',
      documents: ['tax forms', 'salmon for dinner', 'salmon'],
      top_n: 3,
    });
  });

  it('waits out a 429 with Retry-After, then fails with RateLimitError once retries run out', async () => {
    const reranker = createHostedReranker({ url: fake.url, model: 'm', apiKey: API_KEY, maxRetries: 1 });
    const before = fake.requests.length;
    fake.queue.push((response) => {
      response.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' });
      response.end('{"message":"too many requests"}');
    });
    expect(await reranker.rerank('salmon', ['salmon'])).toEqual([1]);
    expect(fake.requests.length - before).toBe(2);
    for (let index = 0; index < 2; index += 1) {
      fake.queue.push((response) => {
        response.writeHead(429, { 'retry-after': '0' });
        response.end('slow down');
      });
    }
    const error = await reranker.rerank('salmon', ['salmon']).catch((caught: unknown) => caught);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/^\[tributary\] \[rerank\]/);
  });

  it('fails with AuthError on 401 and ConnectorApiError on 5xx or a malformed answer; the key never shows', async () => {
    const unauthorised = createHostedReranker({ url: fake.url, model: 'm', apiKey: 'wrong-key' });
    const auth = await unauthorised.rerank('q', ['a']).catch((caught: unknown) => caught);
    expect(AuthError.isInstance(auth)).toBe(true);
    expect(String((auth as Error).message)).not.toContain('wrong-key');

    const reranker = createHostedReranker({ url: fake.url, model: 'm', apiKey: API_KEY, maxRetries: 0 });
    fake.queue.push((response) => {
      response.writeHead(503);
      response.end('unavailable');
    });
    const unavailable = await reranker.rerank('q', ['a']).catch((caught: unknown) => caught);
    expect(ConnectorApiError.isInstance(unavailable)).toBe(true);
    expect((unavailable as ConnectorApiError).status).toBe(503);

    fake.queue.push((response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"data":[]}');
    });
    const malformed = await reranker.rerank('q', ['a']).catch((caught: unknown) => caught);
    expect(ConnectorApiError.isInstance(malformed)).toBe(true);
    expect(String((malformed as Error).message)).toMatch(/without a results array/);
  });

  it('refuses a bad URL or a missing model', () => {
    expect(() => createHostedReranker({ url: 'not a url', model: 'm' })).toThrow(/url/);
    expect(() => createHostedReranker({ url: fake.url, model: ' ' })).toThrow(/model/);
  });
});

describe('search() with a reranker', () => {
  const orgId = randomUUID();
  const repository = createMemoryRepository();
  let fake: FakeRerankServer;

  beforeAll(async () => {
    fake = await startFakeRerankServer();
    const connectorId = repository.addConnector({ orgId, connectorType: 'google_drive' }).id;
    const texts = {
      'salmon-only': 'salmon salmon salmon salmon',
      'salmon-dinner': 'a salmon recipe for a weeknight dinner',
      'dinner-only': 'dinner ideas',
    };
    for (const [name, content] of Object.entries(texts)) {
      const [result] = await repository.upsertDocuments(connectorId, [
        { externalId: name, title: name, contentHash: sha256(content), mimeType: 'text/plain' },
      ]);
      const documentId = result?.documentId ?? '';
      await repository.replaceChunks(documentId, [{ index: 0, content, contentHash: sha256(content) }]);
      await repository.setProcessingStatus([documentId], 'completed');
    }
  });
  afterAll(async () => {
    await fake.close();
  });

  it('reorders the fused candidates by the reranker and explains both ranks', async () => {
    const reranker = createHostedReranker({ url: fake.url, model: 'm', apiKey: API_KEY });
    const plain = await search({ repository, orgId, query: 'salmon dinner', limit: 3 });
    const reranked = await search({
      repository,
      orgId,
      query: 'salmon dinner',
      limit: 2,
      rerank: { reranker, candidates: 10 },
    });
    expect(reranked.hits).toHaveLength(2);
    expect(reranked.hits[0]?.title).toBe('salmon-dinner');
    const fusedRank = plain.hits.findIndex((hit) => hit.title === 'salmon-dinner') + 1;
    expect(reranked.hits[0]?.explanation.rerank).toEqual({ rerankerId: 'hosted:m', score: 1, fusedRank });
    expect(reranked.hits[0]?.explanation.summary).toMatch(/^reranker hosted:m 1\.000 \(fused #\d: full text/);
    // The reranker saw every candidate (fewer than 10 exist), with titles.
    expect(fake.requests.at(-1)?.body.documents).toHaveLength(plain.hits.length);
  });

  it('refuses a reranker that returns the wrong number of scores, and bad candidate counts', async () => {
    const broken: Reranker = { id: 'broken', rerank: async () => [1] };
    await expect(
      search({ repository, orgId, query: 'salmon dinner', rerank: { reranker: broken } }),
    ).rejects.toThrow(/reranker broken returned 1 scores for 3 texts/);
    await expect(
      search({ repository, orgId, query: 'salmon', rerank: { reranker: broken, candidates: 0 } }),
    ).rejects.toThrow(/rerank.candidates must be an integer from 1 to 200/);
  });
});
