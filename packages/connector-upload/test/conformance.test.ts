// The connector conformance suite, where it applies to uploads.
//
// `createUploadConnector` is what the uploader runs through `runSync`: it yields stored uploads,
// identified and versioned by their sha256. Uploads are content-addressed and never listed as a
// whole: a file is added by a batch and removed by a user deleting its document, never by the
// source "changing" or "losing" it. So the checks built on the source changing or removing
// documents do not apply:
// - 'changes flow through': changed bytes are a new upload (a new sha256, a new document), not a
//   new version of an old one;
// - 'deletes flow through': nothing is deleted by a sync; deleting is the user's action (tested
//   in uploader-security-transcription.test.ts through RLS);
// - 'shrunken listing' / 'empty listing does not wipe data': the connector never sends a complete
//   listing, so no sweep can run at all (asserted below in its own test);
// - 'survives rate limits and server errors': the source is a blob store, not HTTP (httpFaults: false).

import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  builtInExtractors,
  createExtractorRegistry,
  createLexicalEmbedder,
  createLocalBlobStore,
  runSync,
} from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';
import {
  type ConformanceCheckName,
  runConformanceCheck,
  type TestConnectorOptions,
} from '@tributary/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createUploadConnector, type StoredUpload, uploadExtractors } from '../src/index.js';
import { validCorpus } from './fixtures/corpus.js';

const blobRoot = await mkdtemp(join(tmpdir(), 'tributary-upload-conformance-'));
const blobStore = createLocalBlobStore({ root: blobRoot });
const connector = createUploadConnector({ blobStore });

afterAll(async () => {
  await rm(blobRoot, { recursive: true, force: true });
});

/** The corpus's documents, stored in the blob store as the uploader would have stored them. */
async function storedUploads(): Promise<StoredUpload[]> {
  const uploads: StoredUpload[] = [];
  for (const file of validCorpus().filter((f) => f.marker)) {
    const sha256 = createHash('sha256').update(file.bytes).digest('hex');
    const path = `org-1/connectors/upload/c-1/2026-01-01/documents/${sha256.slice(0, 8)}-${file.name}`;
    await blobStore.put(path, file.bytes);
    uploads.push({ sha256, name: file.name, mimeType: file.mimeType, path });
  }
  return uploads;
}

const options: TestConnectorOptions = {
  name: 'upload',
  connector,
  httpFaults: false,
  source: async () => {
    const uploads = await storedUploads();
    return {
      config: { uploads, checkpointEvery: 2 },
      async remove(count) {
        return uploads.splice(0, count).map((u) => u.sha256);
      },
      async change() {
        throw new Error('uploads are content-addressed: changed bytes are a new upload');
      },
    };
  },
  invalidConfigs: [
    { config: { uploads: 'not-a-list' }, field: 'uploads' },
    { config: { uploads: [], checkpointEvery: 0 }, field: 'checkpointEvery' },
  ],
  sync: { extractors: createExtractorRegistry([...builtInExtractors(), ...uploadExtractors()]) },
};

const applicable: ConformanceCheckName[] = [
  'refuses invalid config',
  'accepts the source config',
  'syncs every document',
  're-run is deterministic',
  'unchanged re-sync stores and embeds nothing',
  'resumes from every checkpoint',
];

describe('conformance: upload connector (checks that apply to content-addressed uploads)', () => {
  for (const name of applicable) {
    it(name, () => runConformanceCheck(name, options), 120_000);
  }

  it('never deletes or sweeps: uploads missing from a later feed stay indexed', async () => {
    const repository = createMemoryRepository();
    repository.addConnector({ id: 'c-upload', orgId: 'org-1', connectorType: 'upload' });
    const uploads = await storedUploads();
    const embedder = createLexicalEmbedder({ dimensions: 64 });
    const extractors = createExtractorRegistry([...builtInExtractors(), ...uploadExtractors()]);
    const first = await runSync({
      connector,
      config: { uploads },
      connectorId: 'c-upload',
      repository,
      embedder,
      extractors,
      mode: 'full',
    });
    expect(first.status).toBe('success');
    expect(first.counts.inserted).toBe(uploads.length);
    const second = await runSync({
      connector,
      config: { uploads: uploads.slice(0, 1) },
      connectorId: 'c-upload',
      repository,
      embedder,
      extractors,
      mode: 'full',
    });
    expect(second.status).toBe('success');
    expect(second.counts.deleted).toBe(0);
    expect(second.counts.skippedByVersion).toBe(1);
    expect(repository.listDocuments('c-upload').filter((d) => !d.isDeleted)).toHaveLength(uploads.length);
  });
});
