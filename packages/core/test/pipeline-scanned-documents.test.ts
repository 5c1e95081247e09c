// Scans through the whole pipeline on migrated PGlite: with OCR off, a scanned PDF and a
// photographed page are recorded as failed with reason `needs_ocr` (never `completed` with no
// chunks); with OCR on (real tesseract.js, offline) the next run stores and indexes their words.
import { randomUUID } from 'node:crypto';
import { fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTesseractOcr, documentExtractors } from '../src/extractors.js';
import {
  builtInExtractors,
  type ConnectorChange,
  createChunker,
  createExtractorRegistry,
  createLexicalEmbedder,
  defineConnector,
  type KnowledgeRepository,
  runSync,
} from '../src/index.js';
import { createPgliteRepository } from '../src/pglite.js';
import { scannedPdf, textPng } from './__fixtures__/text-image.js';
import { migrationsFingerprint } from './repository-database-fixture.js';

const files: Record<string, { mimeType: string; bytes: () => Promise<Uint8Array> }> = {
  'boiler-inspection.pdf': {
    mimeType: 'application/pdf',
    bytes: () => scannedPdf([textPng(['Boiler inspection passed on Tuesday'])]),
  },
  'whiteboard.png': {
    mimeType: 'image/png',
    bytes: async () => textPng(['Sprint goal: migrate the billing service']),
  },
};

const scans = defineConnector({
  type: 'scans',
  async check() {},
  async *sync(): AsyncIterable<ConnectorChange> {
    for (const [name, file] of Object.entries(files)) {
      const bytes = await file.bytes();
      yield {
        kind: 'upsert',
        document: {
          externalId: name,
          title: name,
          mimeType: file.mimeType,
          version: '1',
          content: { kind: 'bytes', bytes },
        },
      };
    }
    yield { kind: 'checkpoint', cursor: 'end' };
    yield { kind: 'listing-complete', complete: true };
  },
});

describe('scanned documents through runSync', () => {
  let pglite: Awaited<ReturnType<typeof createPgliteDatabase>>;
  let repository: KnowledgeRepository;
  const engine = createTesseractOcr({ languages: ['eng'] });
  const orgId = randomUUID();

  beforeAll(async () => {
    pglite = await createPgliteDatabase({
      snapshot: {
        key: `tributary-core-repository-${migrationsFingerprint()}`,
        prepare: async (fresh) => {
          await migrate(fromPglite(fresh));
        },
      },
    });
    repository = createPgliteRepository(pglite, { actor: { role: 'service_role' } });
  });
  afterAll(async () => {
    await engine.close();
    await pglite?.close();
  });

  async function rows(connectorId: string) {
    const { rows } = await pglite.query<{ external_id: string; processing_status: string; chunks: number }>(
      `select d.external_id, d.processing_status,
              (select count(*)::int from public.document_chunks c where c.document_id = d.id) as chunks
       from public.imported_documents d where d.connector_id = $1 order by d.external_id`,
      [connectorId],
    );
    return rows;
  }

  it('marks scans needs_ocr while OCR is off, and indexes their words once it is on', async () => {
    const { rows: created } = await pglite.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'scans', 'Scans') returning id`,
      [orgId],
    );
    const connectorId = created[0]?.id ?? '';
    const embedder = createLexicalEmbedder({ dimensions: 1536 });
    const base = {
      connector: scans,
      connectorId,
      repository,
      embedder,
      chunker: createChunker({ maxTokens: 128 }),
    };

    const off = await runSync(base);
    expect(off.status).toBe('partial');
    expect(
      off.errors
        .map(({ externalId, reason }) => ({ externalId, reason }))
        .sort((a, b) => a.externalId.localeCompare(b.externalId)),
    ).toEqual([
      { externalId: 'boiler-inspection.pdf', reason: 'needs_ocr' },
      { externalId: 'whiteboard.png', reason: 'needs_ocr' },
    ]);
    expect(await rows(connectorId)).toEqual([
      { external_id: 'boiler-inspection.pdf', processing_status: 'failed', chunks: 0 },
      { external_id: 'whiteboard.png', processing_status: 'failed', chunks: 0 },
    ]);

    const on = await runSync({
      ...base,
      extractors: createExtractorRegistry([
        ...builtInExtractors(),
        ...documentExtractors({ ocr: { engine } }),
      ]),
    });
    expect(on.status).toBe('success');
    expect(await rows(connectorId)).toEqual([
      { external_id: 'boiler-inspection.pdf', processing_status: 'completed', chunks: 1 },
      { external_id: 'whiteboard.png', processing_status: 'completed', chunks: 1 },
    ]);
    const [queryEmbedding] = (await embedder.embed(['billing service sprint'])).vectors;
    const hits = await repository.search({
      orgId,
      connectorIds: [connectorId],
      queryText: 'billing service',
      queryEmbedding,
      embeddingModel: embedder.id,
    });
    expect(hits[0]?.title).toBe('whiteboard.png');
    expect(hits[0]?.content).toContain('migrate the billing service');
  });
});
