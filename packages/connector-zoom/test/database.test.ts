// End to end on migrated PGlite (real PostgreSQL with pgvector, in process): a first sync, the
// stored rows (transcription status, permissions of host and participants, chunks that keep
// speakers and timestamps), full-text search over a transcript, a re-sync that downloads
// nothing, and a webhook that brings the transcript of a meeting that was waiting.
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import {
  createLexicalEmbedder,
  handleWebhook,
  processWebhookEvents,
  type RunSyncOptions,
  runSync,
  search,
} from '@tributary/core';
import { createPgliteRepository } from '@tributary/core/pglite';
import { fromPglite, migrate, migrationsDirectory } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZoomConfig, ZoomCredentials } from '../src/index.js';
import { zoomVtt } from './support/fake-zoom-server.js';
import { daysAgo, startZoomHarness, type ZoomHarness } from './support/zoom-harness.js';

const SECRET = 'zoom-webhook-secret';

/** Changes whenever a bundled migration does, so the migrated snapshot is rebuilt only then. */
function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsDirectory).sort()) {
    hash.update(file).update(readFileSync(join(migrationsDirectory, file)));
  }
  return hash.digest('hex').slice(0, 16);
}
let pglite: PGlite;
let harness: ZoomHarness;

beforeAll(async () => {
  pglite = await createPgliteDatabase({
    snapshot: {
      key: `connector-zoom-${migrationsFingerprint()}`,
      prepare: (fresh) => migrate(fromPglite(fresh)).then(() => {}),
    },
  });
  harness = await startZoomHarness();
}, 120_000);

afterAll(async () => {
  await harness?.close();
  await pglite?.close();
});

describe('Zoom into Postgres', () => {
  it('stores meetings with their transcription status and permissions, searchable by what was said', async () => {
    const { fake } = harness;
    const host = fake.addUser('ada@example.com', 'Ada');
    const spoken = fake.addRecording({
      hostId: host,
      topic: 'Lighthouse maintenance',
      startTime: daysAgo(3),
      transcript: zoomVtt([
        ['Ada', 'The lighthouse lamp needs a new lens.'],
        ['Grace', 'I will order the lens from Bristol.'],
      ]),
      participants: [{ name: 'Grace', email: 'grace@example.com', userId: 'ugrace' }],
    });
    const waiting = fake.addRecording({ hostId: host, topic: 'Quiet meeting', startTime: daysAgo(20) });

    const orgId = randomUUID();
    const { rows } = await pglite.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'zoom', 'Zoom') returning id`,
      [orgId],
    );
    const connectorId = rows[0]?.id as string;
    const repository = createPgliteRepository(pglite, { actor: { role: 'service_role' } });
    const embedder = createLexicalEmbedder();
    const connector = harness.connector();
    const options: RunSyncOptions<ZoomConfig, ZoomCredentials> = {
      connector,
      connectorId,
      repository,
      embedder,
      config: { users: [host], startDate: daysAgo(60).slice(0, 10) } as ZoomConfig,
      credentials: harness.s2s,
    };
    const first = await runSync(options);
    expect(first.status).toBe('success');
    expect(first.counts.inserted).toBe(2);

    const documents = await pglite.query<{
      external_id: string;
      processing_status: string;
      status: string;
      permissions: { role: string; email?: string }[];
    }>(
      `select external_id, processing_status, source_metadata -> 'transcription' ->> 'status' as status,
              metadata -> 'permissions' as permissions
         from public.imported_documents where connector_id = $1 order by external_id`,
      [connectorId],
    );
    const byId = Object.fromEntries(documents.rows.map((row) => [row.external_id, row]));
    expect(byId[spoken.uuid]).toMatchObject({ processing_status: 'completed', status: 'zoom' });
    expect(byId[spoken.uuid]?.permissions.map((p) => [p.role, p.email])).toEqual([
      ['owner', 'ada@example.com'],
      ['reader', 'grace@example.com'],
    ]);
    expect(byId[waiting.uuid]).toMatchObject({ status: 'awaiting_transcription' });

    const chunks = await pglite.query<{ content: string }>(
      `select c.content from public.document_chunks c join public.imported_documents d on d.id = c.document_id
        where d.external_id = $1`,
      [spoken.uuid],
    );
    expect(chunks.rows.map((row) => row.content).join('\n')).toContain(
      '[00:00:05] Grace: I will order the lens from Bristol.',
    );
    const found = await search({ repository, orgId, query: 'lighthouse lens Bristol', mode: 'fullText' });
    expect(found.hits[0]?.title).toBe('Lighthouse maintenance');

    // Nothing changed: nothing downloaded, nothing embedded.
    fake.resetCalls();
    const again = await runSync({ ...options, mode: 'full' });
    expect(again.counts.skippedByVersion).toBe(2);
    expect(again.embeddings.requests).toBe(0);
    expect(Object.keys(fake.calls()).filter((route) => route.startsWith('download'))).toEqual([]);

    // Zoom finishes the waiting meeting's transcript and says so.
    fake.setTranscript(waiting.uuid, zoomVtt([['Ada', 'The harbour wall is repaired.']]));
    const intake = await handleWebhook({
      connector,
      connectorId,
      repository,
      secret: SECRET,
      request: fake.delivery(SECRET, {
        event: 'recording.transcript_completed',
        event_ts: Date.now(),
        payload: { account_id: 'acct', object: { uuid: waiting.uuid } },
      }),
    });
    const processed = await processWebhookEvents({ ...options, events: intake.events });
    expect(processed).toMatchObject({ status: 'done', refetched: 1 });
    const after = await pglite.query<{ status: string }>(
      `select source_metadata -> 'transcription' ->> 'status' as status from public.imported_documents
        where connector_id = $1 and external_id = $2`,
      [connectorId, waiting.uuid],
    );
    expect(after.rows[0]?.status).toBe('zoom');
    const wall = await search({ repository, orgId, query: 'harbour wall repaired', mode: 'fullText' });
    expect(wall.hits[0]?.title).toBe('Quiet meeting');
  });
});
