// The contract on PGlite (in-process PostgreSQL with pgvector) through `@tributary/core/pglite`,
// acting as the service role the way a Supabase worker would; plus the round-trip counts the
// pipeline relies on (one query per lookup, however many ids).
import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresRepository, type SqlDatabase, type SqlQueryable } from '../src/index.js';
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
});
