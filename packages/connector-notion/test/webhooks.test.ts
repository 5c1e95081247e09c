// Notion webhooks through core's intake: the one-time verification_token handshake, deliveries
// signed with a real HMAC-SHA256 over the raw body, forged/altered/unsigned ones refused, a
// replayed delivery recorded once and processed once, page events re-fetching that page (deleted
// and out-of-order events decided by the page's state now), data source events one sync.
import { randomUUID } from 'node:crypto';
import { createLexicalEmbedder, handleWebhook, processWebhookEvents, runSync } from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOTION_SIGNATURE_HEADER, signNotionWebhook } from '../src/index.js';
import { block } from './support/notion-fixtures.js';
import { CREDENTIALS, type NotionHarness, startNotionHarness } from './support/notion-harness.js';

const VERIFICATION_TOKEN = 'secret_verificationToken1234567890abcdef';
let harness: NotionHarness;

beforeEach(async () => {
  harness = await startNotionHarness();
});
afterEach(() => harness.close());

function setup() {
  const repository = createMemoryRepository();
  const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'notion' }).id;
  const connector = harness.connector();
  const options = {
    connector,
    connectorId,
    repository,
    config: {},
    credentials: CREDENTIALS,
    embedder: createLexicalEmbedder({ dimensions: 64 }),
  };
  const live = () =>
    repository
      .listDocuments(connectorId)
      .filter((document) => !document.isDeleted)
      .map((document) => document.externalId);
  return { repository, connectorId, connector, options, live };
}

function event(type: string, entityId: string, id: string = randomUUID(), entityType = 'page') {
  return JSON.stringify({
    id,
    timestamp: '2026-01-01T00:10:00.000Z',
    workspace_id: 'ws-1',
    subscription_id: 'sub-1',
    integration_id: 'int-1',
    type,
    authors: [{ id: 'u-ada', type: 'person' }],
    attempt_number: 1,
    api_version: '2025-09-03',
    entity: { id: entityId, type: entityType },
    data: { parent: { id: 'ws-1', type: 'space' } },
  });
}

function delivery(body: string, signature?: string) {
  return {
    method: 'POST',
    url: 'https://host.example/hooks/notion',
    headers: {
      'content-type': 'application/json',
      ...(signature === undefined ? {} : { [NOTION_SIGNATURE_HEADER]: signature }),
    },
    rawBody: Buffer.from(body),
  };
}

describe('Notion webhooks', () => {
  it('answers the verification handshake and reveals the token to store', async () => {
    const { options } = setup();
    const result = await handleWebhook({
      ...options,
      request: delivery(JSON.stringify({ verification_token: VERIFICATION_TOKEN })),
      secret: undefined,
    });
    expect(result.outcome).toBe('handshake');
    expect(result.response.status).toBe(200);
    expect(result.outcome === 'handshake' && result.revealedSecret).toBe(VERIFICATION_TOKEN);
  });

  it('accepts a signed page event and re-fetches that one page', async () => {
    const { options, live } = setup();
    const pageId = harness.fake.store.addPage({ title: 'Moorings', blocks: [block.paragraph('Berth 4')] });
    const body = event('page.created', pageId);
    const intake = await handleWebhook({
      ...options,
      request: delivery(body, signNotionWebhook(body, VERIFICATION_TOKEN)),
      secret: VERIFICATION_TOKEN,
    });
    expect(intake.outcome).toBe('accepted');
    expect(intake.events.map((recorded) => recorded.action)).toEqual([
      { kind: 'refetch', externalId: pageId },
    ]);
    harness.fake.resetCounts();
    const processed = await processWebhookEvents({ ...options, events: intake.events });
    expect(processed.refetched).toBe(1);
    expect(live()).toEqual([pageId]);
    // One page read, its content, nothing listed.
    expect(harness.fake.count('POST /v1/search')).toBe(0);
    expect(harness.fake.count('GET /v1/pages/:id')).toBe(1);
  });

  it('refuses forged, altered, unsigned and wrongly keyed deliveries, recording nothing', async () => {
    const { options, repository, connectorId } = setup();
    const pageId = harness.fake.store.addPage({ title: 'Secret' });
    const body = event('page.content_updated', pageId);
    const genuine = signNotionWebhook(body, VERIFICATION_TOKEN);
    const forged = [
      delivery(body, signNotionWebhook(body, 'secret_someoneElsesToken000000000000000')),
      delivery(body.replace('page.content_updated', 'page.deleted'), genuine),
      delivery(body),
      delivery(body, 'sha256=not-hex'),
      delivery(body, genuine.replace('sha256=', 'sha1=')),
    ];
    for (const request of forged) {
      const result = await handleWebhook({ ...options, request, secret: VERIFICATION_TOKEN });
      expect(result.outcome).toBe('rejected');
      expect(result.response.status).toBe(401);
    }
    expect(repository.listDocuments(connectorId)).toEqual([]);
  });

  it('records a replayed delivery once and processes it once', async () => {
    const { options } = setup();
    const pageId = harness.fake.store.addPage({ title: 'Replay', blocks: [block.paragraph('x')] });
    const body = event('page.content_updated', pageId, 'evt-replayed');
    const request = delivery(body, signNotionWebhook(body, VERIFICATION_TOKEN));
    const first = await handleWebhook({ ...options, request, secret: VERIFICATION_TOKEN });
    const replay = await handleWebhook({ ...options, request, secret: VERIFICATION_TOKEN });
    expect(first.outcome === 'accepted' && first.events[0]?.isNew).toBe(true);
    expect(replay.outcome === 'accepted' && replay.duplicates).toBe(1);
    await processWebhookEvents({ ...options, events: first.events });
    harness.fake.resetCounts();
    const again = await processWebhookEvents({ ...options, events: replay.events });
    expect(again.duplicates).toBe(1);
    expect(again.refetched).toBe(0);
    expect(harness.fake.total).toBe(0);
  });

  it('decides deletes by the page state now: a trashed page leaves, a late "deleted" for a restored page does not', async () => {
    const { options, live } = setup();
    const store = harness.fake.store;
    const kept = store.addPage({ title: 'Kept', blocks: [block.paragraph('a')] });
    const trashed = store.addPage({ title: 'Trashed', blocks: [block.paragraph('b')] });
    const sign = (body: string) => delivery(body, signNotionWebhook(body, VERIFICATION_TOKEN));
    for (const id of [kept, trashed]) {
      const intake = await handleWebhook({
        ...options,
        request: sign(event('page.created', id)),
        secret: VERIFICATION_TOKEN,
      });
      await processWebhookEvents({ ...options, events: intake.events });
    }
    expect(live().sort()).toEqual([kept, trashed].sort());
    store.trashPage(trashed);
    // Out of order: "kept" was deleted and restored; the deleted event arrives last.
    const events = [];
    for (const body of [event('page.deleted', trashed), event('page.deleted', kept)]) {
      const intake = await handleWebhook({ ...options, request: sign(body), secret: VERIFICATION_TOKEN });
      events.push(...intake.events);
    }
    await processWebhookEvents({ ...options, events });
    expect(live()).toEqual([kept]);
  });

  it('ignores comments', async () => {
    const { options } = setup();
    const body = event('comment.created', randomUUID(), undefined, 'comment');
    const comment = await handleWebhook({
      ...options,
      request: delivery(body, signNotionWebhook(body, VERIFICATION_TOKEN)),
      secret: VERIFICATION_TOKEN,
    });
    expect(comment.events).toEqual([]);
  });
});

describe('Notion data source webhooks', () => {
  function dataSourceEvent(type: string, dataSourceId: string, updatedRows: string[] = []) {
    const body = JSON.parse(event(type, dataSourceId, undefined, 'data_source')) as Record<string, unknown>;
    if (type.endsWith('content_updated')) {
      body.data = {
        parent: { id: randomUUID(), type: 'database' },
        updated_blocks: [
          ...updatedRows.map((id) => ({ id, type: 'page' })),
          { id: randomUUID(), type: 'block' },
        ],
      };
    }
    return JSON.stringify(body);
  }

  async function deliver(options: ReturnType<typeof setup>['options'], body: string) {
    const intake = await handleWebhook({
      ...options,
      request: delivery(body, signNotionWebhook(body, VERIFICATION_TOKEN)),
      secret: VERIFICATION_TOKEN,
    });
    expect(intake.outcome).toBe('accepted');
    return intake;
  }

  /** Two data sources of three rows each, fully synced. */
  async function synced() {
    const context = setup();
    const { store } = harness.fake;
    const crew = store.addDataSource({ title: 'Crew', schema: { Role: 'select' } });
    const cargo = store.addDataSource({ title: 'Cargo', schema: { Weight: 'number' } });
    const crewRows = ['Ada', 'Grace', 'Joan'].map((title) =>
      store.addRow(crew, {
        title,
        values: { Role: 'Deckhand' },
        blocks: [block.paragraph(`${title} sails`)],
      }),
    );
    const cargoRows = ['Rope', 'Tar', 'Sail'].map((title) =>
      store.addRow(cargo, { title, values: { Weight: 3 }, blocks: [block.paragraph(title)] }),
    );
    const summary = await runSync({ ...context.options, mode: 'full' });
    expect(summary.counts.inserted).toBe(6);
    return { ...context, crew, cargo, crewRows, cargoRows };
  }

  it('content_updated re-fetches just the rows it lists: an edited row is updated, a trashed one deleted', async () => {
    const { options, live, crew, crewRows, cargoRows } = await synced();
    const { store } = harness.fake;
    const [edited, trashed] = crewRows as [string, string, string];
    store.setRowValue(edited, 'Role', 'Captain');
    store.trashPage(trashed);
    const intake = await deliver(
      options,
      dataSourceEvent('data_source.content_updated', crew, [edited, trashed]),
    );
    expect(intake.events.map((recorded) => recorded.action)).toEqual([
      { kind: 'refetch', externalId: edited },
      { kind: 'refetch', externalId: trashed },
    ]);
    harness.fake.resetCounts();
    const processed = await processWebhookEvents({ ...options, events: intake.events });
    expect(processed.status).toBe('done');
    expect(processed.deleted).toBe(1);
    expect(live().sort()).toEqual([edited, crewRows[2], ...cargoRows].sort());
    // Targeted: no search, no query of the data source; two page reads and one row's content.
    expect(harness.fake.count('POST /v1/search')).toBe(0);
    expect(harness.fake.count('POST /v1/data_sources/:id/query')).toBe(0);
    expect(harness.fake.count('GET /v1/pages/:id')).toBe(2);
    expect(harness.fake.count('GET /v1/blocks/:id/children')).toBe(1);
  });

  it('schema_updated re-queries that data source only, and every row gets the renamed property', async () => {
    const { options, repository, connectorId, crew, crewRows, cargoRows } = await synced();
    const versions = () =>
      new Map(
        repository
          .listDocuments(connectorId)
          .map((document) => [document.externalId, document.sourceVersion]),
      );
    const before = versions();
    harness.fake.store.renameProperty(crew, 'Role', 'Rank');
    const intake = await deliver(options, dataSourceEvent('data_source.schema_updated', crew));
    expect(intake.events.map((recorded) => recorded.action)).toEqual([{ kind: 'sync', mode: 'incremental' }]);
    harness.fake.resetCounts();
    const processed = await processWebhookEvents({ ...options, events: intake.events });
    expect(processed.status).toBe('done');
    // The three rows' content changed (their header reads "Rank: Deckhand" now).
    expect(processed.syncs[0]?.counts.updated).toBe(3);
    // One query (Crew), none for Cargo; the three rows' content, nothing else.
    expect(harness.fake.count('POST /v1/data_sources/:id/query')).toBe(1);
    expect(harness.fake.count('GET /v1/blocks/:id/children')).toBe(3);
    const after = versions();
    for (const id of crewRows) expect(after.get(id)).not.toBe(before.get(id));
    for (const id of cargoRows) expect(after.get(id)).toBe(before.get(id));
  });

  it('deleted (trashed with its rows) and unshared data sources lose their rows; undeleted brings them back', async () => {
    const { options, live, crew, cargo, crewRows, cargoRows } = await synced();
    const { store } = harness.fake;
    store.trashDataSource(crew);
    const deleted = await processWebhookEvents({
      ...options,
      events: (await deliver(options, dataSourceEvent('data_source.deleted', crew))).events,
    });
    expect(deleted.deleted).toBe(3);
    expect(live().sort()).toEqual([...cargoRows].sort());
    // Access to Cargo removed: the data source disappears from search and its query is refused.
    store.requireDataSource(cargo).shared = false;
    for (const id of cargoRows) store.unsharePage(id);
    store.trashDataSource(crew, false);
    const undeleted = await processWebhookEvents({
      ...options,
      events: (await deliver(options, dataSourceEvent('data_source.undeleted', crew))).events,
    });
    expect(undeleted.status).toBe('done');
    expect(live().sort()).toEqual([...crewRows].sort());
  });

  it('moved out of the configured root: its rows leave', async () => {
    const context = setup();
    const { store } = harness.fake;
    const root = store.addPage({ title: 'Ship' });
    const elsewhere = store.addPage({ title: 'Archive' });
    const crew = store.addDataSource({ title: 'Crew', parentPageId: root, schema: { Role: 'select' } });
    const rows = ['Ada', 'Grace'].map((title) => store.addRow(crew, { title, values: { Role: 'Cook' } }));
    const options = { ...context.options, config: { rootPageIds: [root] } };
    await runSync({ ...options, mode: 'full' });
    expect(context.live().sort()).toEqual([root, ...rows].sort());
    store.moveDataSource(crew, elsewhere);
    const moved = await processWebhookEvents({
      ...options,
      events: (await deliver(options, dataSourceEvent('data_source.moved', crew))).events,
    });
    expect(moved.deleted).toBe(2);
    expect(context.live()).toEqual([root]);
  });
});
