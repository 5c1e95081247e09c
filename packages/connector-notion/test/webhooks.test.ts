// Notion webhooks through core's intake: the one-time verification_token handshake, deliveries
// signed with a real HMAC-SHA256 over the raw body, forged/altered/unsigned ones refused, a
// replayed delivery recorded once and processed once, page events re-fetching that page (deleted
// and out-of-order events decided by the page's state now), data source events one sync.
import { randomUUID } from 'node:crypto';
import { createLexicalEmbedder, handleWebhook, processWebhookEvents } from '@tributary/core';
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

  it('maps data source events to one incremental sync and ignores comments', async () => {
    const { options } = setup();
    const sign = (body: string) => delivery(body, signNotionWebhook(body, VERIFICATION_TOKEN));
    const dataSource = await handleWebhook({
      ...options,
      request: sign(event('data_source.schema_updated', randomUUID(), undefined, 'data_source')),
      secret: VERIFICATION_TOKEN,
    });
    expect(dataSource.events.map((recorded) => recorded.action)).toEqual([
      { kind: 'sync', mode: 'incremental' },
    ]);
    const comment = await handleWebhook({
      ...options,
      request: sign(event('comment.created', randomUUID(), undefined, 'comment')),
      secret: VERIFICATION_TOKEN,
    });
    expect(comment.events).toEqual([]);
  });
});
