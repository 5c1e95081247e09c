// The contract through the real supabase-js client against a local PostgREST-compatible endpoint
// (`startPostgrestServer` of @tributary/testkit-postgres) on a real migrated PostgreSQL server, acting as the
// service role; `withUser` builds a client with a signed user access token. The server has no
// pgvector, so 0007_vector_search is deferred and the vector cases assert the documented
// `unavailable` errors. Plus: a client made from a user token directly, and a bad key.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { fromPg, migrate, type TributaryDatabase } from '@tributary/sql';
import {
  type PostgresServer,
  type PostgrestServer,
  startPostgresServer,
  startPostgrestServer,
} from '@tributary/testkit-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RepositoryError } from '../src/index.js';
import { createSupabaseRepository, mapPostgrestError } from '../src/supabase.js';
import { defineRepositoryContract, sha256 } from './repository-contract.js';
import { databaseFixture } from './repository-database-fixture.js';

const auth = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false };

interface Harness {
  postgres: PostgresServer;
  pool: pg.Pool;
  api: PostgrestServer;
  service: SupabaseClient;
  clientFor(token: string): SupabaseClient;
  close(): Promise<void>;
}

async function startHarness(): Promise<Harness> {
  const postgres = await startPostgresServer();
  const pool = postgres.pool(await postgres.createDatabase(), { max: 12 });
  await migrate(fromPg(pool), { deferMissingExtensions: ['vector'] });
  const api = await startPostgrestServer({ pool });
  const clientFor = (token: string) =>
    createClient(api.url, api.anonKey, {
      auth,
      global: { headers: { Authorization: `Bearer ${token}` } },
    });
  return {
    postgres,
    pool,
    api,
    service: createClient(api.url, api.serviceRoleKey, { auth }),
    clientFor,
    async close() {
      await api.stop();
      await postgres.stop();
    },
  };
}

defineRepositoryContract('Supabase (supabase-js over PostgREST, service role)', async () => {
  const harness = await startHarness();
  const repository = createSupabaseRepository(harness.service, {
    clientForUser: async (userId) => harness.clientFor(await harness.api.signUserToken(userId)),
  });
  return databaseFixture(fromPg(harness.pool), repository, { vectors: false }, () => harness.close());
});

describe('Supabase repository beyond the contract', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness?.close();
  });

  async function organisation() {
    const orgId = randomUUID();
    const { rows } = await harness.pool.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'notion', 'Wiki') returning id`,
      [orgId],
    );
    return { orgId, connectorId: rows[0]?.id ?? '' };
  }

  async function rejection(promise: Promise<unknown>): Promise<RepositoryError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(RepositoryError.isInstance(error), `expected a RepositoryError, got ${String(error)}`).toBe(true);
    return error as RepositoryError;
  }

  it('a client made from a user access token sees only that organisation and may not write', async () => {
    const service = createSupabaseRepository(harness.service);
    const mine = await organisation();
    const theirs = await organisation();
    const userId = randomUUID();
    await harness.pool.query(
      `insert into tributary_private.memberships (user_id, org_id, role) values ($1, $2, 'member')`,
      [userId, mine.orgId],
    );
    const [own] = await service.upsertDocuments(mine.connectorId, [
      { externalId: 'page', contentHash: sha256('mine') },
    ]);
    await service.upsertDocuments(theirs.connectorId, [
      { externalId: 'page', contentHash: sha256('theirs') },
    ]);

    const asUser = createSupabaseRepository(harness.clientFor(await harness.api.signUserToken(userId)));
    expect((await asUser.listConnectors()).map((c) => c.id)).toEqual([mine.connectorId]);
    expect(await asUser.getConnector(theirs.connectorId)).toBeUndefined();
    expect((await asUser.getDocumentVersions(mine.connectorId, ['page'])).get('page')?.id).toBe(
      own?.documentId,
    );
    expect((await asUser.getDocumentVersions(theirs.connectorId, ['page'])).size).toBe(0);

    const writes: Array<() => Promise<unknown>> = [
      () => asUser.upsertDocuments(mine.connectorId, [{ externalId: 'new' }]),
      () => asUser.startSync({ connectorId: mine.connectorId }),
      () => asUser.markDocumentsSeen(mine.connectorId, ['page']),
      () => asUser.softDeleteDocuments(mine.connectorId, ['page']),
      () => asUser.setProcessingStatus([own?.documentId ?? ''], 'failed'),
      () =>
        asUser.replaceChunks(own?.documentId ?? '', [{ index: 0, content: 'x', contentHash: sha256('x') }]),
    ];
    for (const write of writes) {
      const error = await rejection(write());
      expect(error.reason).toBe('not_allowed');
      expect(error.sqlState).toBe('42501');
    }
    expect((await service.getDocumentVersions(mine.connectorId, ['page', 'new'])).get('page')).toMatchObject({
      isDeleted: false,
      processingStatus: 'pending',
    });
    expect((await service.getDocumentVersions(mine.connectorId, ['new'])).size).toBe(0);
  });

  it('answers a bad service key with a clear not_allowed error', async () => {
    const forged = createClient(harness.api.url, 'not-a-jwt', { auth });
    const error = await rejection(createSupabaseRepository(forged).listConnectors());
    expect(error.reason).toBe('not_allowed');
    expect(error.message).toMatch(
      /^\[tributary\] \[repository\] Supabase refused the credentials: .*PGRST301/,
    );
    expect(error.message).toMatch(/service role key/);
    expect(error.isRetryable).toBe(false);

    const expired = harness.clientFor(await harness.api.signToken({ role: 'service_role' }, -60));
    expect((await rejection(createSupabaseRepository(expired).getConnector(randomUUID()))).message).toMatch(
      /JWT expired/,
    );
  });

  it('withUser without clientForUser says how to provide one; a failing clientForUser is reported', async () => {
    const repository = createSupabaseRepository(harness.service);
    let error: unknown;
    try {
      repository.withUser(randomUUID());
    } catch (caught) {
      error = caught;
    }
    expect(RepositoryError.isInstance(error) && error.reason).toBe('unavailable');
    expect(String((error as Error).message)).toMatch(/clientForUser/);
    const failing = createSupabaseRepository(harness.service, {
      clientForUser: () => {
        throw new Error('no session for this user');
      },
    }).withUser(randomUUID());
    const failed = await rejection(failing.listConnectors());
    expect(failed.reason).toBe('not_allowed');
    expect(failed.message).toMatch(/clientForUser could not build a client .*no session for this user/);
    // The service view needs no factory: it is the client the repository was created with.
    expect(repository.withActor({ role: 'service_role' })).toBeDefined();
  });

  it('accepts a client typed with TributaryDatabase and reports unreachable projects as retryable', async () => {
    const typed = createClient<TributaryDatabase>(harness.api.url, harness.api.serviceRoleKey, { auth });
    const { connectorId } = await organisation();
    expect((await createSupabaseRepository(typed).getConnector(connectorId))?.id).toBe(connectorId);

    const error = mapPostgrestError(
      { message: 'TypeError: fetch failed', details: '', hint: '', code: '' },
      { status: 0 },
    );
    expect(error).toMatchObject({ reason: 'database', isRetryable: true });
    expect(error.message).toMatch(/could not reach the Supabase API/);
    expect(mapPostgrestError({ code: 'PGRST202', message: 'Could not find the function' }).reason).toBe(
      'unavailable',
    );
    expect(mapPostgrestError({ code: '55000', message: 'lease' }, { leaseGuarded: true }).reason).toBe(
      'lease_lost',
    );
  });

  it('replaces chunks with gaps in the positions, and a replace interrupted halfway converges when retried', async () => {
    const { connectorId } = await organisation();
    let failDeletes = 0;
    const flaky = createClient(harness.api.url, harness.api.serviceRoleKey, {
      auth,
      global: {
        fetch: (input, init) => {
          if (init?.method === 'DELETE' && failDeletes > 0) {
            failDeletes--;
            return Promise.reject(new TypeError('fetch failed'));
          }
          return fetch(input, init);
        },
      },
    });
    const repository = createSupabaseRepository(flaky);
    const [document] = await repository.upsertDocuments(connectorId, [
      { externalId: 'd', contentHash: sha256('d') },
    ]);
    const documentId = document?.documentId ?? '';
    const chunk = (index: number, content: string) => ({ index, content, contentHash: sha256(content) });
    const stored = async () => {
      const { rows } = await harness.pool.query<{ chunk_index: number; content: string }>(
        'select chunk_index, content from public.document_chunks where document_id = $1 order by chunk_index',
        [documentId],
      );
      const { rows: docs } = await harness.pool.query<{ chunk_count: number; chunks_generated: boolean }>(
        'select chunk_count, chunks_generated from public.imported_documents where id = $1',
        [documentId],
      );
      return { chunks: rows.map((r) => [r.chunk_index, r.content]), document: docs[0] };
    };

    expect(
      await repository.replaceChunks(documentId, [
        chunk(0, 'a'),
        chunk(2, 'b'),
        chunk(3, 'c'),
        chunk(7, 'd'),
      ]),
    ).toEqual({ chunkCount: 4, removed: 0, embeddingsGenerated: false });
    expect(await repository.replaceChunks(documentId, [chunk(0, 'a2'), chunk(7, 'd2')])).toEqual({
      chunkCount: 2,
      removed: 2,
      embeddingsGenerated: false,
    });
    expect(await stored()).toEqual({
      chunks: [
        [0, 'a2'],
        [7, 'd2'],
      ],
      document: { chunk_count: 2, chunks_generated: true },
    });

    failDeletes = 1;
    const interrupted = await rejection(repository.replaceChunks(documentId, [chunk(0, 'x')]));
    expect(interrupted).toMatchObject({ reason: 'database', isRetryable: true });
    // The new chunk is written, the stale one not yet removed, and the document says so.
    expect(await stored()).toEqual({
      chunks: [
        [0, 'x'],
        [7, 'd2'],
      ],
      document: { chunk_count: 2, chunks_generated: false },
    });
    expect(await repository.replaceChunks(documentId, [chunk(0, 'x')])).toEqual({
      chunkCount: 1,
      removed: 1,
      embeddingsGenerated: false,
    });
    expect(await stored()).toEqual({
      chunks: [[0, 'x']],
      document: { chunk_count: 1, chunks_generated: true },
    });
  });

  it('splits long id lists over several requests and pages lists by maxRows', async () => {
    const requests: string[] = [];
    const counting = createClient(harness.api.url, harness.api.serviceRoleKey, {
      auth,
      global: {
        fetch: (input, init) => {
          const url = new URL(input instanceof Request ? input.url : String(input));
          requests.push(`${init?.method ?? 'GET'} ${url.pathname.replace('/rest/v1/', '')}`);
          return fetch(input, init);
        },
      },
    });
    const repository = createSupabaseRepository(counting, { maxRows: 2 });
    const { orgId, connectorId } = await organisation();
    for (let i = 0; i < 4; i++) {
      await harness.pool.query(
        `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'notion', $2)`,
        [orgId, `Wiki ${i}`],
      );
    }
    expect(await repository.listConnectors({ orgId })).toHaveLength(5);
    expect(requests).toEqual(Array(3).fill('GET connector_configs'));

    // 300 ids of 200 characters: far more than one URL holds.
    const documents = Array.from({ length: 300 }, (_, i) => ({
      externalId: `${String(i).padStart(4, '0')}/${'x'.repeat(195)}`,
      contentHash: sha256(`doc ${i}`),
    }));
    const results = await repository.upsertDocuments(connectorId, documents);
    requests.length = 0;
    const versions = await repository.getDocumentVersions(
      connectorId,
      documents.map((d) => d.externalId),
    );
    expect(versions.size).toBe(300);
    // The connector's org, then slices of about 6,000 URL characters (about 27 of these ids each).
    expect(requests.filter((r) => r === 'GET imported_documents').length).toBeGreaterThanOrEqual(10);
    expect(versions.get(documents[299]?.externalId ?? '')?.id).toBe(results[299]?.documentId);

    const ids = [...results.map((r) => r.documentId), randomUUID()];
    requests.length = 0;
    expect(await repository.setProcessingStatus(ids, 'completed')).toBe(300);
    expect(requests).toEqual(Array(3).fill('PATCH imported_documents'));
    const { rows } = await harness.pool.query<{ count: number }>(
      `select count(*)::int as count from public.imported_documents where connector_id = $1 and processing_status = 'completed'`,
      [connectorId],
    );
    expect(rows[0]?.count).toBe(300);
  });

  it('finds external ids with quotes, backslashes, commas and parentheses', async () => {
    const repository = createSupabaseRepository(harness.service);
    const { connectorId } = await organisation();
    const externalIds = ['a"b', 'c\\d', 'e,f', '(g)', ' h i ', 'j\\"k', 'l.m:n'];
    const results = await repository.upsertDocuments(
      connectorId,
      externalIds.map((externalId) => ({ externalId, contentHash: sha256(externalId) })),
    );
    const versions = await repository.getDocumentVersions(connectorId, [...externalIds, 'a', 'b']);
    expect([...versions.keys()].sort()).toEqual([...externalIds].sort());
    for (const [i, externalId] of externalIds.entries()) {
      expect(versions.get(externalId)?.id).toBe(results[i]?.documentId);
    }
  });

  it('refuses a null cursor up front (PostgREST would pass it as SQL NULL)', async () => {
    const repository = createSupabaseRepository(harness.service);
    const { connectorId } = await organisation();
    const run = await repository.startSync({ connectorId });
    expect((await rejection(repository.commitCheckpoint(run.syncRunId, null))).reason).toBe('invalid_input');
  });
});

describe('Supabase repository with pgvector (scripted Data API)', () => {
  // No pgvector on the test server: the vector paths are checked against scripted PostgREST answers
  // (the request supabase-js sends, and parsing pgvector's text form back).
  interface Seen {
    method: string;
    path: string;
    search: URLSearchParams;
    body: unknown;
  }

  function scripted(
    answer: (request: Seen) => { status: number; body?: unknown; headers?: Record<string, string> },
  ) {
    const seen: Seen[] = [];
    const client = createClient('http://127.0.0.1:1', 'service-key', {
      auth,
      global: {
        fetch: async (input, init) => {
          const url = new URL(input instanceof Request ? input.url : String(input));
          const request: Seen = {
            method: init?.method ?? 'GET',
            path: url.pathname.replace('/rest/v1/', ''),
            search: url.searchParams,
            body: typeof init?.body === 'string' && init.body !== '' ? JSON.parse(init.body) : undefined,
          };
          seen.push(request);
          const reply = answer(request);
          return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
            status: reply.status,
            headers: { 'Content-Type': 'application/json', ...reply.headers },
          });
        },
      },
    });
    return { seen, repository: createSupabaseRepository(client) };
  }

  it('stores embeddings as pgvector text, reuses them parsed, and searches with a text query vector', async () => {
    const documentId = randomUUID();
    const orgId = randomUUID();
    const { seen, repository } = scripted((request) => {
      const key = `${request.method} ${request.path}`;
      if (key === 'GET document_chunks' && request.search.get('select') === 'embedding') {
        return { status: 200, body: [] };
      }
      if (key === 'PATCH imported_documents') return { status: 200, body: [{ org_id: orgId }] };
      if (key === 'POST document_chunks') return { status: 201 };
      if (key === 'DELETE document_chunks') return { status: 204, headers: { 'Content-Range': '*/0' } };
      if (key === 'GET document_chunks') {
        return {
          status: 200,
          body: [
            { content_hash: sha256('first'), embedding: '[0.5,0.25,0]' },
            { content_hash: sha256('first'), embedding: '[9,9,9]' },
          ],
        };
      }
      if (key === 'POST rpc/unified_content_search') {
        return {
          status: 200,
          body: [
            {
              chunk_id: 'c1',
              document_id: documentId,
              connector_id: null,
              title: 'T',
              external_url: null,
              chunk_index: 0,
              content: 'first',
              snippet: '**first**',
              score: 0.032,
              full_text_rank: 1,
              semantic_rank: null,
            },
          ],
        };
      }
      return { status: 500, body: { code: 'XX000', message: `unexpected ${key}` } };
    });

    expect(
      await repository.replaceChunks(documentId, [
        {
          index: 0,
          content: 'first',
          contentHash: sha256('first'),
          embedding: [0.5, 0.25, 0],
          embeddingModel: 'm',
        },
        { index: 1, content: 'second', contentHash: sha256('second') },
      ]),
    ).toEqual({ chunkCount: 2, removed: 0, embeddingsGenerated: false });
    const upsert = seen.find((r) => r.method === 'POST' && r.path === 'document_chunks');
    expect(upsert?.search.get('on_conflict')).toBe('org_id,document_id,chunk_index');
    expect(upsert?.body).toEqual([
      expect.objectContaining({ chunk_index: 0, embedding: '[0.5,0.25,0]', embedding_model: 'm' }),
      // A chunk without an embedding clears a stale one at its position.
      expect.objectContaining({ chunk_index: 1, embedding: null, embedding_model: null }),
    ]);

    const reuse = await repository.findReusableEmbeddings(orgId, 'm', [sha256('first'), sha256('first')]);
    expect([...reuse]).toEqual([[sha256('first'), [0.5, 0.25, 0]]]);

    const results = await repository.search({
      orgId,
      queryText: 'first',
      queryEmbedding: [1, 0, 0],
      embeddingModel: 'm',
    });
    expect(results).toEqual([
      expect.objectContaining({ chunkId: 'c1', fullTextRank: 1, semanticRank: null, score: 0.032 }),
    ]);
    const search = seen.find((r) => r.path === 'rpc/unified_content_search');
    expect(search?.body).toMatchObject({
      query_embedding: '[1,0,0]',
      match_org_id: orgId,
      query_text: 'first',
      include_imported: true,
      query_embedding_model: 'm',
    });
    // The vector probe ran once for all three calls.
    expect(seen.filter((r) => r.search.get('select') === 'embedding')).toHaveLength(1);
  });
});

describe('@tributary/core package manifest: supabase', () => {
  it('keeps supabase-js an optional peer behind its own entry, out of the main entry', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
      exports: Record<string, unknown>;
    };
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('@supabase/supabase-js');
    expect(manifest.peerDependenciesMeta?.['@supabase/supabase-js']?.optional).toBe(true);
    expect(Object.keys(manifest.exports)).toContain('./supabase');
    const index = readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8');
    expect(index).not.toMatch(/@supabase\/supabase-js|\.\/supabase/);
  });
});
