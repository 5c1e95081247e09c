// Shared set-up: a migrated PGlite (one per test file, from a snapshot), a local blob store in a
// temp directory, and the uploader wired to them.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import {
  createLexicalEmbedder,
  createLocalBlobStore,
  type KnowledgeRepository,
  type SqlDatabase,
} from '@tributary/core';
import { fromPglite, migrate, migrationsDirectory } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit';
import { createSqlUploadBatchStore, createUploader, type UploaderSettings } from '../src/index.js';

export function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsDirectory).sort()) {
    hash.update(file).update(readFileSync(join(migrationsDirectory, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

export async function migratedPglite(): Promise<PGlite> {
  return createPgliteDatabase({
    snapshot: {
      key: `connector-upload-${migrationsFingerprint()}`,
      prepare: async (db) => {
        await migrate(fromPglite(db));
      },
    },
  });
}

const temporaryDirectories: string[] = [];

export async function tempBlobRoot(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'tributary-upload-test-'));
  temporaryDirectories.push(directory);
  return directory;
}

/** Removes the blob roots this test file created (call in afterAll). */
export async function removeTempBlobRoots(): Promise<void> {
  await Promise.all(
    temporaryDirectories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })),
  );
}

export async function makeUploader(
  db: SqlDatabase,
  repository: KnowledgeRepository,
  overrides: Partial<UploaderSettings> = {},
) {
  const root = await tempBlobRoot();
  const blobStore = createLocalBlobStore({ root });
  const batches = createSqlUploadBatchStore(db);
  const uploader = createUploader({
    repository,
    batches,
    blobStore,
    embedder: createLexicalEmbedder(),
    concurrency: 4,
    leaseRetryMs: 50,
    ...overrides,
  });
  return { uploader, blobStore, batches, root };
}

export async function addMember(db: SqlDatabase, userId: string, orgId: string, role = 'member') {
  await db.query('insert into tributary_private.memberships (user_id, org_id, role) values ($1, $2, $3)', [
    userId,
    orgId,
    role,
  ]);
}
