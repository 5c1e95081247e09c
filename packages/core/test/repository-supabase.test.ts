// The contract through the real supabase-js client against a local PostgREST-compatible endpoint
// (`startPostgrestServer` of @tributary/testkit-postgres) on a real migrated PostgreSQL server, acting as the
// service role; `withUser` builds a client with a signed user access token. The server has pgvector,
// so the vector cases (storing, reuse, hybrid search) run for real. Plus: a client made from a user
// token directly, and a bad key.
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
  await migrate(fromPg(pool));
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
  return databaseFixture(fromPg(harness.pool), repository, { vectors: true }, () => harness.close());
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
    expect((await rejection(asUser.getDocumentVersions(theirs.connectorId, ['page']))).reason).toBe(
      'not_found',
    );

    const writes: Array<() => Promise<unknown>> = [
      () => asUser.upsertDocuments(mine.connectorId, [{ externalId: 'new' }]),
      () => asUser.startSync({ connectorId: mine.connectorId }),
      () => asUser.markDocumentsSeen(mine.connectorId, ['page']),
      () => asUser.markDocumentsSeenById(own?.documentId ?? '', [own?.documentId ?? '']),
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

  it('replaces chunks with gaps in one RPC; a batch naming a missing document changes nothing', async () => {
    const { connectorId } = await organisation();
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
    const repository = createSupabaseRepository(counting);
    const [first, second] = await repository.upsertDocuments(connectorId, [
      { externalId: 'd', contentHash: sha256('d') },
      { externalId: 'e', contentHash: sha256('e') },
    ]);
    const documentId = first?.documentId ?? '';
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
    requests.length = 0;
    expect(await repository.replaceChunks(documentId, [chunk(0, 'a2'), chunk(7, 'd2')])).toEqual({
      chunkCount: 2,
      removed: 2,
      embeddingsGenerated: false,
    });
    // One request, so one transaction on the server (it used to be four, and could stop halfway).
    expect(requests).toEqual(['POST rpc/replace_document_chunks']);
    const before = await stored();
    expect(before).toEqual({
      chunks: [
        [0, 'a2'],
        [7, 'd2'],
      ],
      document: { chunk_count: 2, chunks_generated: true },
    });

    // Two documents in one call, the second missing: refused as a whole, the first left as it was.
    const refused = await rejection(
      repository.replaceChunksBatch([
        { documentId, chunks: [chunk(0, 'x')] },
        { documentId: randomUUID(), chunks: [chunk(0, 'y')] },
      ]),
    );
    expect(refused.reason).toBe('not_found');
    expect(await stored()).toEqual(before);

    const both = await repository.replaceChunksBatch([
      { documentId, chunks: [chunk(0, 'x')] },
      { documentId: second?.documentId ?? '', chunks: [chunk(0, 'y'), chunk(1, 'z')] },
    ]);
    expect(both).toEqual([
      { chunkCount: 1, removed: 1, embeddingsGenerated: false },
      { chunkCount: 2, removed: 0, embeddingsGenerated: false },
    ]);
    expect(await stored()).toEqual({
      chunks: [[0, 'x']],
      document: { chunk_count: 1, chunks_generated: true },
    });
  });

  it('looks up long id lists in one RPC and pages lists by maxRows', async () => {
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
    // Keyset pages of maxRows through the list_connectors RPC (0019), never one unbounded read.
    expect(requests).toEqual(Array(3).fill('POST rpc/list_connectors'));

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
    // A POST body, not a URL: one call however long the ids.
    expect(requests).toEqual(['POST rpc/get_document_versions']);
    expect(versions.get(documents[299]?.externalId ?? '')?.id).toBe(results[299]?.documentId);

    const ids = [...results.map((r) => r.documentId), randomUUID()];
    requests.length = 0;
    expect(await repository.setProcessingStatus(ids, 'completed')).toBe(300);
    expect(requests).toEqual(['POST rpc/set_documents_processing_status']);
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
