// Webhook intake (dedup layer 6) end to end: a test connector that signs and verifies deliveries
// with real HMAC-SHA256 over the raw bytes, `handleWebhook` (handshake, 401 on a bad signature,
// recording), `processWebhookEvents` (once per event, deletes, targeted refetch runs, one sync per
// burst, lease held, failures completed with their error) on the memory repository and on migrated
// PGlite, and the debouncer driven by a manual clock.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ConnectorChange,
  createLexicalEmbedder,
  createWebhookDebouncer,
  type DebouncerTimers,
  defineConnector,
  handleWebhook,
  type IncomingWebhookRequest,
  type KnowledgeRepository,
  type Logger,
  processWebhookEvents,
  type RecordedWebhookEvent,
  runSync,
  type SourceDocument,
  type SyncMode,
  WebhookIntakeError,
  WebhookVerificationError,
} from '../src/index.js';
import { createPgliteRepository } from '../src/pglite.js';
import { createMemoryRepository } from '../src/testing.js';
import { migrationsFingerprint } from './repository-database-fixture.js';

const SECRET = 'whsec_2c1f0e9d8b7a';
const decoder = new TextDecoder();

// ---- a source with signed webhooks ----------------------------------------------------------

interface Page {
  title: string;
  text: string;
  version: number;
}

interface DeliveredEvent {
  id: string;
  type: 'page.updated' | 'page.deleted' | 'space.changed';
  page?: string;
  at?: string;
}

function sign(rawBody: Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

function createSource(options: { fetchDocument: boolean }) {
  const pages = new Map<string, Page>();
  const broken = new Set<string>();
  const calls = { sync: [] as SyncMode[], fetch: [] as string[] };
  const toDocument = (externalId: string, page: Page): SourceDocument => ({
    externalId,
    title: `${page.title} v${page.version}`,
    version: String(page.version),
    mimeType: 'text/plain',
    content: { kind: 'text', text: page.text },
  });
  const fetchDocument = async (_ctx: unknown, externalId: string): Promise<SourceDocument | null> => {
    calls.fetch.push(externalId);
    if (broken.has(externalId)) throw new Error(`page ${externalId} is unavailable`);
    const page = pages.get(externalId);
    return page ? toDocument(externalId, page) : null;
  };
  const connector = defineConnector({
    type: 'hooks',
    capabilities: { incremental: true, deletions: true },
    async check() {},
    async *sync(ctx): AsyncIterable<ConnectorChange> {
      calls.sync.push(ctx.mode);
      for (const [externalId, page] of [...pages].sort(([a], [b]) => a.localeCompare(b))) {
        yield { kind: 'upsert', document: toDocument(externalId, page) };
      }
      yield { kind: 'checkpoint', cursor: { pages: pages.size } };
      if (ctx.mode === 'full') yield { kind: 'listing-complete', complete: true };
    },
    ...(options.fetchDocument ? { fetchDocument } : {}),
    webhooks: {
      handshake(request, secret) {
        // Graph-style challenge in the query string, echoed back as text.
        const challenge = new URL(request.url).searchParams.get('challenge');
        if (challenge !== null) {
          return { response: { status: 200, headers: { 'content-type': 'text/plain' }, body: challenge } };
        }
        // Notion-style first POST revealing the verification token, before any secret exists.
        if (secret === undefined) {
          const body = JSON.parse(decoder.decode(request.rawBody)) as { verification_token?: unknown };
          if (typeof body.verification_token === 'string') {
            return { response: { status: 200 }, revealedSecret: body.verification_token };
          }
        }
        return null;
      },
      verify(request, secret) {
        const given = request.headers['x-hooks-signature'];
        if (given === undefined) {
          throw new WebhookVerificationError({ connector: 'hooks', reason: 'missing signature header' });
        }
        const expected = Buffer.from(sign(request.rawBody, secret));
        const actual = Buffer.from(given);
        if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
          throw new WebhookVerificationError({ connector: 'hooks', reason: 'signature mismatch' });
        }
      },
      parse(request) {
        const body = JSON.parse(decoder.decode(request.rawBody)) as { events: DeliveredEvent[] };
        return body.events.map((event) => ({
          eventId: event.id,
          eventType: event.type,
          occurredAt: event.at,
          action:
            event.type === 'page.deleted'
              ? { kind: 'delete' as const, externalId: event.page ?? '' }
              : event.type === 'page.updated'
                ? { kind: 'refetch' as const, externalId: event.page ?? '' }
                : { kind: 'sync' as const, mode: 'incremental' as const },
        }));
      },
    },
  });
  return { pages, broken, calls, connector };
}

/** A signed delivery; pretty-printed with non-ASCII text so re-serialising it changes the bytes. */
function delivery(
  events: DeliveredEvent[],
  options: { secret?: string; signature?: string | null; body?: Uint8Array } = {},
): IncomingWebhookRequest {
  const rawBody = options.body ?? Buffer.from(JSON.stringify({ events, note: 'Zürich ✓' }, null, 2));
  const signature =
    options.signature === null ? undefined : (options.signature ?? sign(rawBody, options.secret ?? SECRET));
  return {
    method: 'POST',
    url: 'https://app.example.com/hooks/hooks',
    // Mixed-case names, as some frameworks keep them.
    headers: {
      'Content-Type': 'application/json',
      ...(signature === undefined ? {} : { 'X-Hooks-Signature': signature }),
    },
    rawBody,
  };
}

function capturingLogger() {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  const logger: Logger = {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
  };
  return { logger, lines };
}

// ---- backends ---------------------------------------------------------------------------------

interface StoredDocument {
  externalId: string;
  title: string | null;
  isDeleted: boolean;
}

interface Harness {
  repository: KnowledgeRepository;
  connectorId: string;
  documents(): Promise<StoredDocument[]>;
  /** The stored row of an event, where the backend lets a test read it (PGlite). */
  webhookRow?(
    eventId: string,
  ): Promise<{ processed: boolean; processingError: string | null; retryCount: number }>;
}

let pglite: PGlite | undefined;
afterAll(async () => {
  await pglite?.close();
});

const backends: Array<{ name: string; create(): Promise<Harness> }> = [
  {
    name: 'memory',
    async create() {
      const repository = createMemoryRepository();
      const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'hooks' }).id;
      return {
        repository,
        connectorId,
        async documents() {
          return repository
            .listDocuments(connectorId)
            .map(({ externalId, title, isDeleted }) => ({ externalId, title, isDeleted }))
            .sort((a, b) => a.externalId.localeCompare(b.externalId));
        },
      };
    },
  },
  {
    name: 'PGlite',
    async create() {
      pglite ??= await createPgliteDatabase({
        snapshot: {
          key: `tributary-core-repository-${migrationsFingerprint()}`,
          prepare: async (fresh) => {
            await migrate(fromPglite(fresh));
          },
        },
      });
      const database = pglite;
      const repository = createPgliteRepository(database, { actor: { role: 'service_role' } });
      const { rows } = await database.query<{ id: string }>(
        `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'hooks', 'Hooks') returning id`,
        [randomUUID()],
      );
      const connectorId = rows[0]?.id ?? '';
      return {
        repository,
        connectorId,
        async documents() {
          const result = await database.query<StoredDocument>(
            `select external_id as "externalId", title, is_deleted as "isDeleted"
               from public.imported_documents where connector_id = $1 order by external_id`,
            [connectorId],
          );
          return result.rows;
        },
        async webhookRow(eventId) {
          const result = await database.query<{
            processed: boolean;
            processingError: string | null;
            retryCount: number;
          }>(
            `select processed, processing_error as "processingError", retry_count as "retryCount"
               from public.connector_webhook_events where connector_id = $1 and event_id = $2`,
            [connectorId, eventId],
          );
          if (result.rows.length !== 1)
            throw new Error(`expected one row for event ${eventId}, got ${result.rows.length}`);
          return result.rows[0] as { processed: boolean; processingError: string | null; retryCount: number };
        },
      };
    },
  },
];

/** The stored state of an event, read through the repository (re-recording reports it without changing it). */
async function eventState(harness: Harness, eventId: string) {
  const recorded = await harness.repository.recordWebhookEvent({
    connectorId: harness.connectorId,
    eventSource: 'hooks',
    eventId,
    eventType: 'probe',
    payload: {},
  });
  return { isNew: recorded.isNew, processed: recorded.processed };
}

const embedder = createLexicalEmbedder();

/** A source with pages a, b, c stored by a full sync, and the options both calls need. */
async function seeded(harness: Harness, options: { fetchDocument: boolean }) {
  const source = createSource(options);
  for (const id of ['a', 'b', 'c']) {
    source.pages.set(id, { title: `Page ${id}`, text: `Page ${id} is about topic ${id}.`, version: 1 });
  }
  const base = {
    connector: source.connector,
    connectorId: harness.connectorId,
    repository: harness.repository,
    embedder,
  };
  const first = await runSync(base);
  expect(first.status).toBe('success');
  source.calls.sync.length = 0;
  const intake = async (events: DeliveredEvent[]) => {
    const result = await handleWebhook({ ...base, request: delivery(events), secret: SECRET });
    if (result.outcome !== 'accepted') throw new Error(`delivery not accepted: ${result.outcome}`);
    return result;
  };
  return { source, base, intake };
}

// ---- intake ------------------------------------------------------------------------------------

describe('handleWebhook', () => {
  it('answers a challenge and hands back a revealed secret without logging it or recording anything', async () => {
    const repository = createMemoryRepository();
    const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'hooks' }).id;
    const { connector } = createSource({ fetchDocument: true });
    const { logger, lines } = capturingLogger();

    const challenge = await handleWebhook({
      connector,
      connectorId,
      repository,
      logger,
      secret: SECRET,
      request: {
        method: 'GET',
        url: 'https://app.example.com/hooks?challenge=ch-42',
        headers: {},
        rawBody: new Uint8Array(),
      },
    });
    expect(challenge).toMatchObject({
      outcome: 'handshake',
      response: { status: 200, body: 'ch-42' },
      events: [],
    });

    const reveal = await handleWebhook({
      connector,
      connectorId,
      repository,
      logger,
      secret: undefined,
      request: delivery([], {
        body: Buffer.from('{"verification_token":"tok_revealed_9f"}'),
        signature: null,
      }),
    });
    expect(reveal.outcome).toBe('handshake');
    expect(reveal.outcome === 'handshake' ? reveal.revealedSecret : undefined).toBe('tok_revealed_9f');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain('tok_revealed_9f');
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('rejects bad signatures with 401 and a short reason, and records nothing', async () => {
    const repository = createMemoryRepository();
    const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'hooks' }).id;
    const { connector } = createSource({ fetchDocument: true });
    const events: DeliveredEvent[] = [{ id: 'evt-1', type: 'page.updated', page: 'a' }];
    const base = { connector, connectorId, repository, secret: SECRET };

    const wrongSecret = await handleWebhook({
      ...base,
      request: delivery(events, { secret: 'not-the-secret' }),
    });
    expect(wrongSecret).toMatchObject({
      outcome: 'rejected',
      reason: 'signature mismatch',
      response: { status: 401, body: 'signature mismatch' },
      events: [],
    });
    const unsigned = await handleWebhook({ ...base, request: delivery(events, { signature: null }) });
    expect(unsigned.response.status).toBe(401);
    expect(unsigned.response.body).toBe('missing signature header');

    // The signature of the raw bytes does not cover a re-serialised body (what a JSON body parser hands over).
    const genuine = delivery(events);
    const reserialised = Buffer.from(
      JSON.stringify(JSON.parse(decoder.decode(genuine.rawBody as Uint8Array))),
    );
    const tampered = await handleWebhook({ ...base, request: { ...genuine, rawBody: reserialised } });
    expect(tampered.response.status).toBe(401);

    // Nothing was recorded: the genuine delivery is the first one of evt-1.
    const accepted = await handleWebhook({ ...base, request: genuine });
    expect(accepted).toMatchObject({ outcome: 'accepted', response: { status: 200 }, duplicates: 0 });
    expect(accepted.events).toMatchObject([
      {
        eventId: 'evt-1',
        eventType: 'page.updated',
        isNew: true,
        action: { kind: 'refetch', externalId: 'a' },
      },
    ]);
  });

  it('reads header names in any case, from a Headers object too, and takes an ArrayBuffer body', async () => {
    const repository = createMemoryRepository();
    const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'hooks' }).id;
    const { connector } = createSource({ fetchDocument: true });
    const request = delivery([{ id: 'evt-h', type: 'space.changed' }]);
    const bytes = request.rawBody as Uint8Array;
    const arrayBuffer = bytes.buffer.slice(
      bytes.byteOffset,
      bytes.byteOffset + bytes.byteLength,
    ) as ArrayBuffer;
    const result = await handleWebhook({
      connector,
      connectorId,
      repository,
      secret: SECRET,
      request: {
        ...request,
        headers: new Headers(request.headers as Record<string, string>),
        rawBody: arrayBuffer,
      },
    });
    expect(result.outcome).toBe('accepted');
    expect(result.events.map((event) => event.eventId)).toEqual(['evt-h']);
  });

  it('answers 400 to a verified delivery that cannot be parsed, and records nothing', async () => {
    const repository = createMemoryRepository();
    const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'hooks' }).id;
    const { connector } = createSource({ fetchDocument: true });
    const body = Buffer.from('{"events": "not a list"');
    const result = await handleWebhook({
      connector,
      connectorId,
      repository,
      secret: SECRET,
      request: delivery([], { body }),
    });
    expect(result).toMatchObject({ outcome: 'rejected', response: { status: 400 }, events: [] });
  });

  it('throws typed errors for misuse: no webhooks, no secret, a parsed body', async () => {
    const repository = createMemoryRepository();
    const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'hooks' }).id;
    const { connector } = createSource({ fetchDocument: true });
    const plain = defineConnector({
      type: 'plain',
      async check() {},
      async *sync() {},
    });
    const request = delivery([{ id: 'evt-m', type: 'space.changed' }]);
    const reasonOf = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        return WebhookIntakeError.isInstance(error) ? error.reason : `other: ${String(error)}`;
      }
      return 'no error';
    };
    expect(
      await reasonOf(() =>
        handleWebhook({ connector: plain, connectorId, repository, request, secret: SECRET }),
      ),
    ).toBe('no_webhooks');
    expect(
      await reasonOf(() => handleWebhook({ connector, connectorId, repository, request, secret: undefined })),
    ).toBe('no_secret');
    expect(
      await reasonOf(() => handleWebhook({ connector, connectorId, repository, request, secret: '' })),
    ).toBe('no_secret');
    const parsedBody = {
      ...request,
      rawBody: decoder.decode(request.rawBody as Uint8Array) as unknown as Uint8Array,
    };
    expect(
      await reasonOf(() =>
        handleWebhook({ connector, connectorId, repository, request: parsedBody, secret: SECRET }),
      ),
    ).toBe('raw_body_required');
    // None of them recorded the event.
    const accepted = await handleWebhook({ connector, connectorId, repository, request, secret: SECRET });
    expect(accepted.events[0]?.isNew).toBe(true);
  });
});

describe('defineConnector and fetchDocument', () => {
  it('keeps fetchDocument when given and rejects one that is not a function', () => {
    expect(typeof createSource({ fetchDocument: true }).connector.fetchDocument).toBe('function');
    expect(createSource({ fetchDocument: false }).connector.fetchDocument).toBeUndefined();
    expect(() =>
      defineConnector({
        type: 'odd',
        async check() {},
        async *sync() {},
        fetchDocument: 'nope' as unknown as () => Promise<null>,
      }),
    ).toThrow(/fetchDocument/);
  });
});

// ---- processing, on both backends ------------------------------------------------------------------

describe.each(backends)('processWebhookEvents on $name', (backend) => {
  let harness: Harness;

  it('processes a redelivered event once (dedup layer 6)', async () => {
    harness = await backend.create();
    const { source, base, intake } = await seeded(harness, { fetchDocument: true });
    source.pages.set('a', { title: 'Page a', text: 'Page a now covers the river delta.', version: 2 });
    const event: DeliveredEvent = {
      id: 'evt-dup',
      type: 'page.updated',
      page: 'a',
      at: '2026-11-22T05:00:00Z',
    };

    const first = await intake([event]);
    const second = await intake([event]);
    expect(first.events[0]).toMatchObject({
      isNew: true,
      processed: false,
      occurredAt: '2026-11-22T05:00:00Z',
    });
    expect(second.duplicates).toBe(1);
    expect(second.events[0]).toMatchObject({ isNew: false, webhookEventId: first.events[0]?.webhookEventId });

    const processed = await processWebhookEvents({ ...base, events: first.events });
    expect(processed).toMatchObject({
      status: 'done',
      processed: 1,
      refetched: 1,
      syncsRun: 1,
      failed: [],
      pending: [],
    });
    const again = await processWebhookEvents({ ...base, events: second.events });
    expect(again).toMatchObject({ status: 'done', processed: 0, duplicates: 1, syncsRun: 0 });
    expect(source.calls.fetch).toEqual(['a']);

    const third = await intake([event]);
    expect(third.events[0]).toMatchObject({ isNew: false, processed: true });
    expect(await eventState(harness, 'evt-dup')).toEqual({ isNew: false, processed: true });
    if (harness.webhookRow) {
      expect(await harness.webhookRow('evt-dup')).toEqual({
        processed: true,
        processingError: null,
        retryCount: 0,
      });
    }
  });

  it('refetches just the named documents with fetchDocument, without moving the cursor', async () => {
    harness = await backend.create();
    const { source, base, intake } = await seeded(harness, { fetchDocument: true });
    const cursorBefore = (await harness.repository.getConnector(harness.connectorId))?.syncCursor;
    source.pages.set('a', { title: 'Page a', text: 'Page a, second edition.', version: 2 });
    source.pages.set('b', { title: 'Page b', text: 'Page b, second edition.', version: 2 });
    source.pages.set('c', { title: 'Page c', text: 'Page c changed but no event said so.', version: 2 });
    const { events } = await intake([
      { id: 'evt-a', type: 'page.updated', page: 'a' },
      { id: 'evt-b', type: 'page.updated', page: 'b' },
      { id: 'evt-a2', type: 'page.updated', page: 'a' },
    ]);

    const result = await processWebhookEvents({ ...base, events });
    expect(result).toMatchObject({ status: 'done', processed: 3, refetched: 2, syncsRun: 1 });
    expect(result.syncs[0]).toMatchObject({ mode: 'incremental', counts: { seen: 2, updated: 2 } });
    expect(source.calls.fetch).toEqual(['a', 'b']);
    expect(source.calls.sync).toEqual([]);
    expect(await harness.documents()).toEqual([
      { externalId: 'a', title: 'Page a v2', isDeleted: false },
      { externalId: 'b', title: 'Page b v2', isDeleted: false },
      { externalId: 'c', title: 'Page c v1', isDeleted: false },
    ]);
    expect((await harness.repository.getConnector(harness.connectorId))?.syncCursor).toEqual(cursorBefore);
    const run = await harness.repository.getSyncRun(result.syncs[0]?.runId ?? '');
    expect(run).toMatchObject({ syncType: 'webhook', status: 'success' });
  });

  it('falls back to one incremental sync for refetches when the connector has no fetchDocument', async () => {
    harness = await backend.create();
    const { source, base, intake } = await seeded(harness, { fetchDocument: false });
    source.pages.set('b', { title: 'Page b', text: 'Page b, rewritten.', version: 2 });
    const { events } = await intake([
      { id: 'evt-1', type: 'page.updated', page: 'a' },
      { id: 'evt-2', type: 'page.updated', page: 'b' },
      { id: 'evt-3', type: 'page.updated', page: 'c' },
    ]);

    const result = await processWebhookEvents({ ...base, events });
    expect(result).toMatchObject({ status: 'done', processed: 3, refetched: 0, syncsRun: 1 });
    expect(source.calls.sync).toEqual(['incremental']);
    expect(source.calls.fetch).toEqual([]);
    expect((await harness.documents()).find((d) => d.externalId === 'b')?.title).toBe('Page b v2');
  });

  it('soft-deletes on delete events, and when a refetch finds the document gone', async () => {
    harness = await backend.create();
    const { source, base, intake } = await seeded(harness, { fetchDocument: true });
    source.pages.delete('b');
    source.pages.delete('c');
    const { events } = await intake([
      { id: 'evt-del-b', type: 'page.deleted', page: 'b' },
      { id: 'evt-upd-c', type: 'page.updated', page: 'c' },
    ]);

    const result = await processWebhookEvents({ ...base, events });
    expect(result).toMatchObject({ status: 'done', processed: 2, deleted: 2, refetched: 0 });
    expect(source.calls.fetch).toEqual(['c']);
    expect(await harness.documents()).toEqual([
      { externalId: 'a', title: 'Page a v1', isDeleted: false },
      { externalId: 'b', title: 'Page b v1', isDeleted: true },
      { externalId: 'c', title: 'Page c v1', isDeleted: true },
    ]);
  });

  it('turns a burst of 20 sync events into one runSync', async () => {
    harness = await backend.create();
    const { source, base, intake } = await seeded(harness, { fetchDocument: true });
    source.pages.set('d', { title: 'Page d', text: 'Page d is new.', version: 1 });
    const events: RecordedWebhookEvent[] = [];
    for (let index = 0; index < 20; index += 1) {
      events.push(...(await intake([{ id: `evt-sync-${index}`, type: 'space.changed' }])).events);
    }

    const result = await processWebhookEvents({ ...base, events });
    expect(result).toMatchObject({ status: 'done', processed: 20, syncsRun: 1 });
    expect(result.syncs).toHaveLength(1);
    expect(source.calls.sync).toEqual(['incremental']);
    expect((await harness.documents()).map((d) => d.externalId)).toEqual(['a', 'b', 'c', 'd']);
    expect(await eventState(harness, 'evt-sync-19')).toEqual({ isNew: false, processed: true });
  });

  it('leaves events unprocessed while another run holds the lease, and processes them on retry', async () => {
    harness = await backend.create();
    const { source, base, intake } = await seeded(harness, { fetchDocument: true });
    source.pages.set('a', { title: 'Page a', text: 'Page a, edited during a sync.', version: 2 });
    const { events } = await intake([
      { id: 'evt-l1', type: 'page.updated', page: 'a' },
      { id: 'evt-l2', type: 'space.changed' },
    ]);
    const held = await harness.repository.startSync({ connectorId: harness.connectorId, syncMode: 'full' });
    expect(held.status).toBe('started');

    const blocked = await processWebhookEvents({ ...base, events });
    expect(blocked).toMatchObject({ status: 'retry', processed: 0, syncsRun: 0, failed: [] });
    expect(blocked.pending.map((event) => event.eventId)).toEqual(['evt-l1', 'evt-l2']);
    expect(blocked.syncs.map((summary) => summary.status)).toEqual(['skipped', 'skipped']);
    expect(source.calls.fetch).toEqual([]);
    expect(await eventState(harness, 'evt-l1')).toEqual({ isNew: false, processed: false });

    await harness.repository.finishSync(held.syncRunId, { status: 'success' });
    const retried = await processWebhookEvents({ ...base, events: blocked.pending });
    expect(retried).toMatchObject({ status: 'done', processed: 2, syncsRun: 2, pending: [] });
    expect((await harness.documents()).find((d) => d.externalId === 'a')?.title).toBe('Page a v2');
    expect(await eventState(harness, 'evt-l2')).toEqual({ isNew: false, processed: true });
  });

  it('processes a redelivery of a never-completed event only with retryUnprocessed', async () => {
    harness = await backend.create();
    const { source, base, intake } = await seeded(harness, { fetchDocument: true });
    source.pages.set('c', { title: 'Page c', text: 'Page c, recorded but never processed.', version: 2 });
    const event: DeliveredEvent = { id: 'evt-lost', type: 'page.updated', page: 'c' };
    await intake([event]); // recorded; the host never processed it
    const redelivered = await intake([event]);
    expect(redelivered.events[0]).toMatchObject({ isNew: false, processed: false });

    const strict = await processWebhookEvents({ ...base, events: redelivered.events });
    expect(strict).toMatchObject({ status: 'done', processed: 0, duplicates: 1, syncsRun: 0 });
    const recovered = await processWebhookEvents({
      ...base,
      events: redelivered.events,
      retryUnprocessed: true,
    });
    expect(recovered).toMatchObject({ status: 'done', processed: 1, duplicates: 0, refetched: 1 });
    expect(source.calls.fetch).toEqual(['c']);
    expect((await harness.documents()).find((d) => d.externalId === 'c')?.title).toBe('Page c v2');

    // Once completed, even retryUnprocessed leaves it alone.
    const later = await intake([event]);
    expect(later.events[0]).toMatchObject({ isNew: false, processed: true });
    const none = await processWebhookEvents({ ...base, events: later.events, retryUnprocessed: true });
    expect(none).toMatchObject({ processed: 0, duplicates: 1, syncsRun: 0 });
  });

  it('completes a failing refetch with its error, so it can be retried', async () => {
    harness = await backend.create();
    const { source, base, intake } = await seeded(harness, { fetchDocument: true });
    source.broken.add('a');
    source.pages.set('b', { title: 'Page b', text: 'Page b, fine.', version: 2 });
    const { events } = await intake([
      { id: 'evt-bad', type: 'page.updated', page: 'a' },
      { id: 'evt-good', type: 'page.updated', page: 'b' },
    ]);

    const result = await processWebhookEvents({ ...base, events });
    expect(result.status).toBe('failed');
    expect(result.processed).toBe(1);
    expect(result.failed.map((f) => [f.event.eventId, f.error])).toEqual([
      ['evt-bad', 'fetchDocument failed: page a is unavailable'],
    ]);
    expect(await eventState(harness, 'evt-bad')).toEqual({ isNew: false, processed: false });
    if (harness.webhookRow) {
      expect(await harness.webhookRow('evt-bad')).toEqual({
        processed: false,
        processingError: 'fetchDocument failed: page a is unavailable',
        retryCount: 1,
      });
    }

    source.broken.delete('a');
    source.pages.set('a', { title: 'Page a', text: 'Page a, reachable again.', version: 2 });
    const retried = await processWebhookEvents({ ...base, events: result.failed.map((f) => f.event) });
    expect(retried).toMatchObject({ status: 'done', processed: 1 });
    expect((await harness.documents()).find((d) => d.externalId === 'a')?.title).toBe('Page a v2');
    expect(await eventState(harness, 'evt-bad')).toEqual({ isNew: false, processed: true });
  });
});

describe('handleWebhook on PGlite', () => {
  it('stores the event with its action and body, lower-case headers, and no credential headers', async () => {
    const harness = await (backends[1] as (typeof backends)[number]).create();
    const { connector } = createSource({ fetchDocument: true });
    const request = delivery([
      { id: 'evt-stored', type: 'page.deleted', page: 'b', at: '2026-11-22T06:00:00Z' },
    ]);
    const result = await handleWebhook({
      connector,
      connectorId: harness.connectorId,
      repository: harness.repository,
      secret: SECRET,
      request: {
        ...request,
        headers: { ...request.headers, Authorization: 'Bearer sk_live_123', 'X-Request-Id': 'r-1' },
      },
    });
    expect(result.outcome).toBe('accepted');
    const { rows } = await (pglite as PGlite).query<{
      eventSource: string;
      eventType: string;
      payload: unknown;
      headers: Record<string, string>;
    }>(
      `select event_source as "eventSource", event_type as "eventType", payload, headers
         from public.connector_webhook_events where connector_id = $1`,
      [harness.connectorId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      eventSource: 'hooks',
      eventType: 'page.deleted',
      payload: {
        eventType: 'page.deleted',
        occurredAt: '2026-11-22T06:00:00Z',
        action: { kind: 'delete', externalId: 'b' },
        body: { events: [{ id: 'evt-stored', page: 'b' }], note: 'Zürich ✓' },
      },
    });
    expect(rows[0]?.headers).toMatchObject({ 'content-type': 'application/json', 'x-request-id': 'r-1' });
    expect(Object.keys(rows[0]?.headers ?? {})).not.toContain('authorization');
    expect(JSON.stringify(rows[0])).not.toContain('sk_live_123');
  });
});

// ---- debouncer ---------------------------------------------------------------------------------

function manualTimers() {
  let now = 0;
  let nextId = 0;
  const scheduled = new Map<number, { at: number; callback: () => void }>();
  const timers: DebouncerTimers = {
    now: () => now,
    setTimeout(callback, ms) {
      nextId += 1;
      scheduled.set(nextId, { at: now + ms, callback });
      return nextId;
    },
    clearTimeout(handle) {
      scheduled.delete(handle as number);
    },
  };
  /** Moves the clock, firing due timers in order. */
  const advance = (ms: number) => {
    const target = now + ms;
    for (;;) {
      const due = [...scheduled]
        .filter(([, timer]) => timer.at <= target)
        .sort(([, a], [, b]) => a.at - b.at)[0];
      if (!due) break;
      scheduled.delete(due[0]);
      now = due[1].at;
      due[1].callback();
    }
    now = target;
  };
  return { timers, advance, scheduledCount: () => scheduled.size };
}

describe('createWebhookDebouncer', () => {
  it('runs a burst as one batch after the quiet period', async () => {
    const { timers, advance } = manualTimers();
    const batches: number[][] = [];
    const debouncer = createWebhookDebouncer<number>({
      delayMs: 500,
      timers,
      run: (items) => void batches.push(items),
    });
    for (let index = 0; index < 20; index += 1) {
      debouncer.add(index);
      advance(100);
    }
    expect(batches).toEqual([]);
    expect(debouncer.pending).toBe(20);
    advance(400);
    await debouncer.flush();
    expect(batches).toEqual([Array.from({ length: 20 }, (_, index) => index)]);
    expect(debouncer.pending).toBe(0);
  });

  it('starts a batch by maxWaitMs however busy the stream is', async () => {
    const { timers, advance } = manualTimers();
    const batches: number[][] = [];
    const debouncer = createWebhookDebouncer<number>({
      delayMs: 500,
      maxWaitMs: 1000,
      timers,
      run: (items) => void batches.push(items),
    });
    for (let index = 0; index < 6; index += 1) {
      debouncer.add(index);
      advance(300);
    }
    await debouncer.flush();
    // Items 0-3 arrived by t=900; the batch started at t=1000, before item 4 (t=1200).
    expect(batches[0]).toEqual([0, 1, 2, 3]);
    expect(batches.flat()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('never overlaps runs: items added during a run wait for the next batch', async () => {
    const { timers, advance } = manualTimers();
    const batches: string[][] = [];
    let active = 0;
    let maxActive = 0;
    let release: () => void = () => {};
    const debouncer = createWebhookDebouncer<string>({
      delayMs: 10,
      timers,
      run: async (items) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        batches.push(items);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        active -= 1;
      },
    });
    debouncer.add('first');
    advance(10);
    expect(debouncer.running).toBe(true);
    debouncer.add('second');
    advance(50);
    expect(batches).toEqual([['first']]);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    advance(10);
    release();
    await debouncer.flush();
    expect(batches).toEqual([['first'], ['second']]);
    expect(maxActive).toBe(1);
  });

  it('reports a failing run to onError and keeps going; cancel drops waiting items', async () => {
    const { timers, advance, scheduledCount } = manualTimers();
    const errors: string[] = [];
    const batches: number[][] = [];
    const debouncer = createWebhookDebouncer<number>({
      delayMs: 5,
      timers,
      run: (items) => {
        batches.push(items);
        if (items.includes(1)) throw new Error('boom');
      },
      onError: (error, items) => errors.push(`${(error as Error).message} ${items.join(',')}`),
    });
    debouncer.add(1);
    advance(5);
    await debouncer.flush();
    debouncer.add(2);
    advance(5);
    await debouncer.flush();
    expect(errors).toEqual(['boom 1']);
    expect(batches).toEqual([[1], [2]]);
    debouncer.add(3, 4);
    expect(debouncer.cancel()).toEqual([3, 4]);
    expect(scheduledCount()).toBe(0);
    expect(() => createWebhookDebouncer({ delayMs: -1, run: () => {} })).toThrow(RangeError);
  });
});
