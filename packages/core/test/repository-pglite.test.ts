// The contract on PGlite (in-process PostgreSQL with pgvector) through `@tributary/core/pglite`,
// acting as the service role the way a Supabase worker would; plus the round-trip counts the
// pipeline relies on (one query per lookup, however many ids).
import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresRepository,
  createRpcRepository,
  createSqlTransport,
  type RpcTransport,
  type SqlDatabase,
  type SqlQueryable,
} from '../src/index.js';
import { createPgliteRepository } from '../src/pglite.js';
import { axisVector, defineRepositoryContract, sha256 } from './repository-contract.js';
import { databaseFixture, migrationsFingerprint } from './repository-database-fixture.js';

function migratedPglite(): Promise<PGlite> {
  return createPgliteDatabase({
    snapshot: {
      key: `tributary-core-repository-${migrationsFingerprint()}`,
      prepare: async (fresh) => {
        await migrate(fromPglite(fresh));
      },
    },
  });
}

defineRepositoryContract('PGlite (service role)', async () => {
  const pglite = await migratedPglite();
  const repository = createPgliteRepository(pglite, { actor: { role: 'service_role' } });
  return databaseFixture(fromPglite(pglite), repository, { vectors: true }, () => pglite.close());
});

describe('Postgres repository round trips (PGlite)', () => {
  let pglite: PGlite;
  const statements: string[] = [];

  /** The adapter's database, recording every statement it sends. */
  function countingDatabase(inner: SqlDatabase): SqlDatabase {
    const record = (target: SqlQueryable): SqlQueryable => ({
      query(sql, params) {
        statements.push(sql);
        return target.query(sql, params);
      },
    });
    return { ...record(inner), transaction: (fn) => inner.transaction((tx) => fn(record(tx))) };
  }

  beforeAll(async () => {
    pglite = await migratedPglite();
  });
  afterAll(async () => {
    await pglite?.close();
  });

  it('looks up 1000 versions and reusable embeddings with one statement each', async () => {
    // @tributary/sql's fromPglite fits createPostgresRepository's `db` as is.
    const repository = createPostgresRepository({ db: countingDatabase(fromPglite(pglite)) });
    const orgId = randomUUID();
    const { rows } = await pglite.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'notion', 'Wiki') returning id`,
      [orgId],
    );
    const connectorId = rows[0]?.id ?? '';
    const documents = Array.from({ length: 1000 }, (_, i) => ({
      externalId: `page-${i}`,
      contentHash: sha256(`page ${i}`),
    }));
    const [first] = await repository.upsertDocuments(connectorId, documents);
    await repository.replaceChunks(first?.documentId ?? '', [
      {
        index: 0,
        content: 'one',
        contentHash: sha256('one'),
        embedding: axisVector({ 3: 1 }),
        embeddingModel: 'm',
      },
    ]);

    statements.length = 0;
    const versions = await repository.getDocumentVersions(
      connectorId,
      documents.map((d) => d.externalId),
    );
    expect(versions.size).toBe(1000);
    expect(statements).toHaveLength(1);

    statements.length = 0;
    const hashes = Array.from({ length: 500 }, (_, i) => sha256(`chunk ${i}`)).concat(sha256('one'));
    const reuse = await repository.findReusableEmbeddings(orgId, 'm', hashes);
    expect([...reuse.keys()]).toEqual([sha256('one')]);
    expect(statements).toHaveLength(1);
  });

  it('does not rewrite unchanged chunks when a document is re-chunked', async () => {
    const repository = createPostgresRepository({ db: fromPglite(pglite) });
    const orgId = randomUUID();
    const { rows } = await pglite.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'notion', 'Wiki') returning id`,
      [orgId],
    );
    const [document] = await repository.upsertDocuments(rows[0]?.id ?? '', [
      { externalId: 'page', contentHash: sha256('page') },
    ]);
    const documentId = document?.documentId ?? '';
    const chunk = (index: number, text: string) => ({
      index,
      content: text,
      contentHash: sha256(text),
      embedding: axisVector({ [index]: 1 }),
      embeddingModel: 'm',
    });
    const versions = async () =>
      (
        await pglite.query<{ chunk_index: number; version: string }>(
          'select chunk_index, xmin::text as version from public.document_chunks where document_id = $1 order by chunk_index',
          [documentId],
        )
      ).rows;
    await repository.replaceChunks(documentId, [chunk(0, 'intro'), chunk(1, 'body'), chunk(2, 'end')]);
    const before = await versions();
    // Only the middle chunk changes: the other two rows keep their row version (not rewritten).
    await repository.replaceChunks(documentId, [chunk(0, 'intro'), chunk(1, 'new body'), chunk(2, 'end')]);
    const after = await versions();
    expect(after.map((row) => row.chunk_index)).toEqual([0, 1, 2]);
    expect(after[0]?.version).toBe(before[0]?.version);
    expect(after[2]?.version).toBe(before[2]?.version);
    expect(after[1]?.version).not.toBe(before[1]?.version);
  });

  it('sends nothing but calls of public functions: every method is one RPC, no table query', async () => {
    const repository = createPostgresRepository({ db: countingDatabase(fromPglite(pglite)) });
    const orgId = randomUUID();
    statements.length = 0;
    const connector = await repository.createConnector({
      orgId,
      connectorType: 'notion',
      name: 'Wiki',
      settings: {},
    });
    await repository.getConnector(connector.id);
    await repository.listConnectors({ orgId });
    const run = await repository.startSync({ connectorId: connector.id });
    await repository.heartbeat(run.syncRunId);
    const [document] = await repository.upsertDocuments(connector.id, [
      { externalId: 'a', contentHash: sha256('a') },
    ]);
    await repository.getDocumentVersions(connector.id, ['a']);
    await repository.replaceChunks(document?.documentId ?? '', [
      { index: 0, content: 'a', contentHash: sha256('a') },
    ]);
    await repository.setProcessingStatus([document?.documentId ?? ''], 'completed');
    await repository.markDocumentsSeen(connector.id, ['a']);
    await repository.commitCheckpoint(
      run.syncRunId,
      { page: 1 },
      { upserts: [{ namespace: 'n', key: 'k', value: 1 }] },
    );
    await repository.getState(connector.id, 'n', ['k']);
    await repository.sweepUnseenDocuments(run.syncRunId);
    await repository.finishSync(run.syncRunId, { status: 'success' });
    await repository.getSyncRun(run.syncRunId);
    await repository.vectorSettings();
    await repository.search({ orgId, queryText: 'a' });
    expect(statements.length).toBeGreaterThanOrEqual(18);
    for (const sql of statements) expect(sql).toMatch(/^select (\* from )?public\.[a-z_]+\(/);
  });

  it('runs the whole repository over a transport a host writes (here: one that logs each call)', async () => {
    const calls: string[] = [];
    const logging = (inner: RpcTransport): RpcTransport => ({
      ...inner,
      rpc: (name, args, options) => {
        calls.push(name);
        return inner.rpc(name, args, options);
      },
      rpcValue: (name, args, options) => {
        calls.push(name);
        return inner.rpcValue(name, args, options);
      },
      atomic: (fn) => inner.atomic((tx) => fn(logging(tx))),
      withActor: (actor) => logging(inner.withActor(actor)),
    });
    const repository = createRpcRepository(logging(createSqlTransport(fromPglite(pglite))));
    const orgId = randomUUID();
    const connector = await repository.createConnector({
      orgId,
      connectorType: 'notion',
      name: 'Wiki',
      settings: {},
    });
    const documents = Array.from({ length: 1001 }, (_, i) => ({
      externalId: `d${i}`,
      contentHash: sha256(`d${i}`),
    }));
    const results = await repository.upsertDocuments(connector.id, documents);
    expect(results.map((result) => result.action)).toEqual(Array(1001).fill('inserted'));
    // Two batches in one transaction (atomic), then a read: all through the host's transport.
    expect(calls).toEqual(['create_connector', 'upsert_documents', 'upsert_documents']);
    const userId = randomUUID();
    const asOutsider = repository.withUser(userId);
    expect(await asOutsider.getConnector(connector.id)).toBeUndefined();
    expect(calls.at(-1)).toBe('list_connectors');
  });
});
