// Change notifications end to end over https: the fake Graph validates the host's endpoint when a
// subscription is created (validationToken answered as text/plain), delivers notifications with
// clientState, and lifecycle events; the host endpoint (handleTeamsWebhook) answers 202 with the
// work recorded, refuses forged deliveries, and processWebhookEvents re-fetches the thread.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  createLexicalEmbedder,
  InvalidConfigError,
  processWebhookEvents,
  type RecordedWebhookEvent,
} from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTeamsSubscriptions,
  type HandleTeamsWebhookResult,
  handleTeamsWebhook,
  notificationAction,
  type TeamsConnector,
  teamsResources,
  threadExternalId,
  transcriptExternalId,
} from '../src/index.js';
import { startTeamsHarness, type TeamsHarness } from './support/teams-harness.ts';

const SECRET = 'client-state-secret-0123456789abcdef';

let harness: TeamsHarness;
let host: Server;
let hostUrl: string;
let results: HandleTeamsWebhookResult[];
let connector: TeamsConnector;
const repository = createMemoryRepository();
const connectorId = repository.addConnector({
  orgId: '00000000-0000-4000-8000-0000000000b2',
  connectorType: 'teams',
}).id;

beforeEach(async () => {
  harness = await startTeamsHarness();
  connector = harness.connector();
  results = [];
  // The host's webhook route: raw body in, handleTeamsWebhook, reply, work queued for later.
  host = createServer({ cert: harness.cert.cert, key: harness.cert.key }, async (request, response) => {
    const parts: Buffer[] = [];
    for await (const part of request) parts.push(part as Buffer);
    const result = await handleTeamsWebhook({
      connector,
      connectorId,
      repository,
      secret: SECRET,
      request: {
        method: request.method ?? 'POST',
        url: `${hostUrl}${request.url}`,
        headers: request.headers,
        rawBody: Buffer.concat(parts),
      },
    });
    results.push(result);
    response.writeHead(result.response.status, result.response.headers);
    response.end(result.response.body);
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  hostUrl = `https://localhost:${(host.address() as AddressInfo).port}`;
});
afterEach(async () => {
  host.closeAllConnections();
  await new Promise((resolve) => host.close(resolve));
  await harness.close();
});

function setup() {
  const { tenant } = harness;
  const ada = tenant.addUser('Ada');
  const team = tenant.addTeam('Ops');
  const channel = tenant.addChannel(team, 'General', [ada]);
  const root = tenant.post(channel, { from: ada, text: 'Is the release out?' });
  const subscriptions = createTeamsSubscriptions({
    credentials: harness.credentials,
    settings: harness.settings,
  });
  const input = {
    resource: teamsResources.channelMessages(team.id, channel.id),
    notificationUrl: `${hostUrl}/hooks/teams`,
    lifecycleNotificationUrl: `${hostUrl}/hooks/teams/lifecycle`,
    clientState: SECRET,
  };
  return { tenant, ada, team, channel, root, subscriptions, input };
}

describe('subscriptions', () => {
  it('creation is validated against the endpoint (validationToken echoed as text/plain); renew and remove', async () => {
    const { subscriptions, input } = setup();
    const subscription = await subscriptions.create(input);
    // Two validation requests (notification and lifecycle URLs), both answered by the handshake.
    expect(results.map((result) => result.outcome)).toEqual(['handshake', 'handshake']);
    expect(harness.fake.subscriptions.get(subscription.id)).toMatchObject({
      clientState: SECRET,
      lifecycleNotificationUrl: input.lifecycleNotificationUrl,
    });
    expect(subscriptions.needsRenewal(subscription)).toBe(false);
    expect(
      subscriptions.needsRenewal(subscription, { now: Date.parse(subscription.expirationDateTime) - 60_000 }),
    ).toBe(true);
    const renewed = await subscriptions.renew(subscription.id, 120);
    expect(Date.parse(renewed.expirationDateTime)).toBeGreaterThan(
      Date.parse(subscription.expirationDateTime),
    );
    await subscriptions.remove(subscription.id);
    await subscriptions.remove(subscription.id); // already gone: not an error
    expect(harness.fake.subscriptions.size).toBe(0);
  });

  it('refuses an endpoint that does not answer the validation, and bad input', async () => {
    const { subscriptions, input } = setup();
    await expect(
      subscriptions.create({ ...input, notificationUrl: 'https://localhost:1/nothing-here' }),
    ).rejects.toThrow(/\[tributary\] \[teams\].*HTTP 400/);
    await expect(subscriptions.create({ ...input, clientState: 'short' })).rejects.toSatisfy(
      (error) => InvalidConfigError.isInstance(error) && /clientState/.test((error as Error).message),
    );
  });
});

describe('notifications', () => {
  it('a reply notification is answered 202 at once, recorded, and re-fetches its thread', async () => {
    const { tenant, ada, team, channel, root, subscriptions, input } = setup();
    const embedder = createLexicalEmbedder({ dimensions: 16 });
    const syncOptions = {
      connector,
      config: { teamIds: [team.id] },
      credentials: harness.credentials,
      connectorId,
      repository,
      embedder,
    };
    const subscription = await subscriptions.create(input);
    const reply = tenant.reply(root, { from: ada, text: 'Yes, shipped at noon' });
    const resource = `teams('${team.id}')/channels('${channel.id}')/messages('${root.id}')/replies('${reply.id}')`;
    const answer = await harness.fake.deliver(subscription.id, [
      harness.fake.notification(subscription.id, 'created', resource),
    ]);
    expect(answer.status).toBe(202);
    const accepted = results.at(-1) as HandleTeamsWebhookResult;
    expect(accepted.events).toHaveLength(1);
    expect(accepted.events[0]?.action).toEqual({
      kind: 'refetch',
      externalId: threadExternalId(team.id, channel.id, root.id),
    });
    const processed = await processWebhookEvents({
      ...syncOptions,
      events: accepted.events as RecordedWebhookEvent[],
    });
    expect(processed).toMatchObject({ status: 'done', refetched: 1 });
    const stored = repository
      .listDocuments(connectorId)
      .find((document) => document.externalId === threadExternalId(team.id, channel.id, root.id));
    expect(stored?.processingStatus).toBe('completed');
    expect(stored?.sourceVersion).toContain('|1|');
    // The same delivery again (Graph retries): recorded once, nothing processed twice.
    await harness.fake.deliver(subscription.id, [
      harness.fake.notification(subscription.id, 'created', resource),
    ]);
    expect((results.at(-1) as HandleTeamsWebhookResult).duplicates).toBe(1);
    // A deleted root deletes its thread without a fetch.
    const deleted = await harness.fake.deliver(subscription.id, [
      harness.fake.notification(
        subscription.id,
        'deleted',
        `teams('${team.id}')/channels('${channel.id}')/messages('${root.id}')`,
      ),
    ]);
    expect(deleted.status).toBe(202);
    expect((results.at(-1) as HandleTeamsWebhookResult).events[0]?.action.kind).toBe('delete');
  });

  it('a forged notification (wrong clientState) is refused with 401 and nothing is recorded', async () => {
    const { team, channel, root, subscriptions, input } = setup();
    const subscription = await subscriptions.create(input);
    const forged = {
      ...harness.fake.notification(
        subscription.id,
        'created',
        `teams('${team.id}')/channels('${channel.id}')/messages('${root.id}')`,
      ),
      clientState: 'guessed-client-state-value',
    };
    const genuine = harness.fake.notification(
      subscription.id,
      'created',
      `teams('${team.id}')/channels('${channel.id}')/messages('${root.id}')`,
    );
    const answer = await harness.fake.deliver(subscription.id, [genuine, forged]);
    expect(answer.status).toBe(401);
    expect(answer.body).not.toContain(SECRET);
    expect(results.at(-1)?.outcome).toBe('rejected');
    expect(results.at(-1)?.events).toEqual([]);
    const missing = await harness.fake.deliver(subscription.id, [{ ...genuine, clientState: undefined }]);
    expect(missing.status).toBe(401);
  });

  it('lifecycle: reauthorizationRequired reauthorizes, subscriptionRemoved recreates, missed resyncs through delta', async () => {
    const { subscriptions, input } = setup();
    const subscription = await subscriptions.create(input);
    const deliverLifecycle = async (event: string) => {
      const answer = await harness.fake.deliver(
        subscription.id,
        [harness.fake.lifecycleNotification(subscription.id, event)],
        true,
      );
      expect(answer.status).toBe(202);
      return results.at(-1) as HandleTeamsWebhookResult;
    };
    const reauth = await deliverLifecycle('reauthorizationRequired');
    expect(reauth.events[0]).toMatchObject({
      eventType: 'lifecycle.reauthorizationRequired',
      action: { kind: 'sync', mode: 'incremental' },
    });
    expect(reauth.lifecycle).toEqual([
      {
        subscriptionId: subscription.id,
        lifecycleEvent: 'reauthorizationRequired',
        resource: input.resource,
      },
    ]);
    expect(await subscriptions.handleLifecycle(reauth.lifecycle[0] as never, input)).toEqual({
      action: 'reauthorized',
    });
    expect(harness.fake.subscriptions.get(subscription.id)?.reauthorizations).toBe(1);

    const missed = await deliverLifecycle('missed');
    expect(missed.events[0]?.action).toEqual({ kind: 'sync', mode: 'incremental' });
    expect(await subscriptions.handleLifecycle(missed.lifecycle[0] as never, input)).toEqual({
      action: 'none',
    });

    const removed = await deliverLifecycle('subscriptionRemoved');
    harness.fake.subscriptions.delete(subscription.id);
    const outcome = await subscriptions.handleLifecycle(removed.lifecycle[0] as never, input);
    expect(outcome.action).toBe('recreated');
    expect(outcome.subscription?.id).not.toBe(subscription.id);
    expect(harness.fake.subscriptions.has(outcome.subscription?.id as string)).toBe(true);
  });
});

describe('notification mapping', () => {
  it('maps message, reply, transcript and tenant-wide notifications to targeted work', () => {
    const team = '11111111-1111-4111-8111-111111111111';
    const channel = '19:abc@thread.tacv2';
    expect(
      notificationAction({
        changeType: 'updated',
        resource: `teams('${team}')/channels('${channel}')/messages('42')`,
      }),
    ).toEqual({
      kind: 'refetch',
      externalId: threadExternalId(team, channel, '42'),
    });
    expect(
      notificationAction({
        changeType: 'deleted',
        resource: `teams('${team}')/channels('${channel}')/messages('42')/replies('43')`,
      }),
    ).toEqual({ kind: 'refetch', externalId: threadExternalId(team, channel, '42') });
    expect(
      notificationAction({
        changeType: 'created',
        resource: `users('u1')/onlineMeetings('m1')/transcripts('t1')`,
      }),
    ).toEqual({ kind: 'refetch', externalId: transcriptExternalId('u1', 'm1', 't1') });
    expect(
      notificationAction({
        changeType: 'created',
        resource: `communications/onlineMeetings('m1')/transcripts('t1')`,
      }),
    ).toEqual({ kind: 'sync', mode: 'incremental' });
    expect(teamsResources.meetingTranscripts('m1')).toBe('communications/onlineMeetings/m1/transcripts');
  });
});
