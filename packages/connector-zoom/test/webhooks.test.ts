// Webhooks, through core's intake (handleWebhook) and processing (processWebhookEvents):
// endpoint.url_validation answered only when signed; x-zm-signature v0 verified over the raw body;
// forged, tampered, stale and replayed deliveries refused or recorded once; recording.completed
// and recording.transcript_completed refetch one meeting (with the event's download token);
// recording.deleted / recording.trashed delete it.
import { createHmac } from 'node:crypto';
import {
  createConnectorInstance,
  createLexicalEmbedder,
  handleWebhook,
  processWebhookEvents,
  type WebhookRequest,
  WebhookVerificationError,
} from '@tributary/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createZoomWebhooks, zoomSignature } from '../src/index.js';
import { S2S_APP, zoomVtt } from './support/fake-zoom-server.js';
import { daysAgo, pipeline, startZoomHarness, type ZoomHarness } from './support/zoom-harness.js';

const SECRET = 'zoom-webhook-secret-token-0123';

let harness: ZoomHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function recordingEvent(event: string, uuid: string, extra: Record<string, unknown> = {}) {
  return {
    event,
    event_ts: 1_764_800_000_123,
    payload: {
      account_id: S2S_APP.accountId,
      object: { uuid, id: 81000000001, host_id: 'uhost', topic: 'T' },
    },
    ...extra,
  };
}

describe('verification', () => {
  it('answers endpoint.url_validation with the HMAC of plainToken, only for a signed, fresh request', async () => {
    harness = await startZoomHarness();
    const webhooks = createZoomWebhooks();
    const body = {
      event: 'endpoint.url_validation',
      event_ts: Date.now(),
      payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' },
    };
    const answer = await webhooks.handshake?.(harness.fake.delivery(SECRET, body), SECRET);
    expect(answer?.response.status).toBe(200);
    expect(JSON.parse(answer?.response.body ?? '{}')).toEqual({
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
      encryptedToken: createHmac('sha256', SECRET).update('qgg8vlvZRS6UYooatFL8Aw').digest('hex'),
    });
    // Unsigned (or signed with another secret): refused, or the endpoint would sign anything.
    const forged = harness.fake.delivery('another-secret', {
      ...body,
      payload: { plainToken: 'v0:1764800000:{"event":"recording.deleted"}' },
    });
    expect(() => webhooks.handshake?.(forged, SECRET)).toThrow(WebhookVerificationError);
    // Any other event is no handshake.
    expect(
      await webhooks.handshake?.(
        harness.fake.delivery(SECRET, recordingEvent('recording.completed', 'u1')),
        SECRET,
      ),
    ).toBeNull();
  });

  it('verifies x-zm-signature over the raw body; refuses forged, tampered and stale deliveries', async () => {
    harness = await startZoomHarness();
    const webhooks = createZoomWebhooks();
    const good = harness.fake.delivery(SECRET, recordingEvent('recording.completed', 'abc=='));
    expect(() => webhooks.verify(good, SECRET)).not.toThrow();
    expect(good.headers['x-zm-signature']).toBe(
      zoomSignature(SECRET, good.headers['x-zm-request-timestamp'] as string, good.rawBody),
    );
    const refuse = (request: WebhookRequest) => {
      try {
        webhooks.verify(request, SECRET);
        return undefined;
      } catch (error) {
        return error as WebhookVerificationError;
      }
    };
    const forged = refuse(
      harness.fake.delivery('guessed-secret', recordingEvent('recording.deleted', 'abc==')),
    );
    expect(forged?.reason).toBe('signature mismatch');
    expect(forged?.message).not.toContain(SECRET);
    const tampered = refuse({
      ...good,
      rawBody: new TextEncoder().encode(
        new TextDecoder().decode(good.rawBody).replace('completed', 'deleted'),
      ),
    });
    expect(tampered?.reason).toBe('signature mismatch');
    const stale = refuse(
      harness.fake.delivery(SECRET, recordingEvent('recording.completed', 'abc=='), {
        timestamp: Math.floor(Date.now() / 1000) - 10 * 60,
      }),
    );
    expect(stale?.reason).toMatch(/stale timestamp/);
    // The very same delivery replayed 10 minutes later: its signature is valid, its timestamp is not.
    let clock = Date.now();
    const later = createZoomWebhooks({ now: () => clock });
    expect(() => later.verify(good, SECRET)).not.toThrow();
    clock += 10 * 60 * 1000;
    expect(() => later.verify(good, SECRET)).toThrow(/stale timestamp/);
    const { 'x-zm-signature': _signature, ...unsigned } = good.headers;
    expect(refuse({ ...good, headers: unsigned })?.reason).toMatch(/missing/);
  });
});

describe('events through the intake and the pipeline', () => {
  it('recording.completed imports one meeting with the download token; a replay is recorded once', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    const meeting = fake.addRecording({
      hostId: host,
      topic: 'Launch review',
      startTime: daysAgo(0, 1),
      transcript: zoomVtt([['Ada', 'Ship it on Friday.']]),
    });
    const run = pipeline(harness, { users: [host] });
    const downloadToken = fake.issueDownloadToken(meeting.uuid);
    const delivery = fake.delivery(SECRET, {
      ...recordingEvent('recording.completed', meeting.uuid),
      download_token: downloadToken,
    });
    const intake = await handleWebhook({
      connector: run.connector,
      connectorId: run.connectorId,
      repository: run.repository,
      request: delivery,
      secret: SECRET,
    });
    expect(intake.outcome).toBe('accepted');
    // The intake only verifies and records (Zoom wants an answer within 3 s): no call to Zoom.
    expect(fake.calls()).toEqual({});
    expect(intake.events.map((event) => [event.eventType, event.action])).toEqual([
      ['recording.completed', { kind: 'refetch', externalId: meeting.uuid }],
    ]);
    // Zoom retries a delivery it got no 200 for: the same event is a duplicate.
    const replay = await handleWebhook({
      connector: run.connector,
      connectorId: run.connectorId,
      repository: run.repository,
      request: delivery,
      secret: SECRET,
    });
    expect(replay.duplicates).toBe(1);

    // The OAuth token is of no use: only the download token can fetch the transcript.
    fake.revokeAccessTokens();
    const processed = await processWebhookEvents({
      connector: run.connector,
      connectorId: run.connectorId,
      repository: run.repository,
      credentials: harness.s2s,
      config: { users: [host] },
      embedder: createLexicalEmbedder({ dimensions: 64 }),
      events: [...intake.events, ...replay.events],
    });
    expect(processed).toMatchObject({ status: 'done', refetched: 1, duplicates: 1 });
    expect(run.live()).toEqual([meeting.uuid]);
    expect(fake.callCount('meeting.recordings')).toBe(1);
    expect(fake.callCount('download:TRANSCRIPT')).toBe(1);
    expect(fake.callCount('download-auth:download_token')).toBe(1);
    expect(fake.callCount('download-auth:bearer')).toBe(0);
    expect(fake.callCount('recordings.list')).toBe(0);
  });

  it('recording.transcript_completed updates a meeting that waited; recording.trashed deletes it', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    const meeting = fake.addRecording({ hostId: host, topic: 'Design review', startTime: daysAgo(40) });
    const run = pipeline(harness, { users: [host], startDate: daysAgo(60).slice(0, 10) });
    await run.sync();
    const before = run.repository.listDocuments(run.connectorId)[0];
    expect(before?.processingStatus).toBe('completed');

    fake.setTranscript(meeting.uuid, zoomVtt([['Grace', 'The design is approved.']]));
    const options = {
      connector: run.connector,
      connectorId: run.connectorId,
      repository: run.repository,
      credentials: harness.s2s,
      config: { users: [host] },
      embedder: createLexicalEmbedder({ dimensions: 64 }),
    };
    const transcript = await handleWebhook({
      ...options,
      request: fake.delivery(SECRET, recordingEvent('recording.transcript_completed', meeting.uuid)),
      secret: SECRET,
    });
    const refetched = await processWebhookEvents({ ...options, events: transcript.events });
    expect(refetched.refetched).toBe(1);
    const after = run.repository.listDocuments(run.connectorId)[0];
    expect(after?.contentHash).not.toBe(before?.contentHash);
    expect(after?.sourceVersion).not.toBe(before?.sourceVersion);

    fake.trash(meeting.uuid);
    const trashed = await handleWebhook({
      ...options,
      request: fake.delivery(SECRET, {
        ...recordingEvent('recording.trashed', meeting.uuid),
        event_ts: 1_764_800_999_000,
      }),
      secret: SECRET,
    });
    const deleted = await processWebhookEvents({ ...options, events: trashed.events });
    expect(deleted.deleted).toBe(1);
    expect(run.live()).toEqual([]);
  });

  it('a forged delivery is answered 401 and records nothing', async () => {
    harness = await startZoomHarness();
    const run = pipeline(harness, { users: 'all' });
    const result = await handleWebhook({
      connector: run.connector,
      connectorId: run.connectorId,
      repository: run.repository,
      request: harness.fake.delivery('not-our-secret', recordingEvent('recording.deleted', 'x')),
      secret: SECRET,
    });
    expect(result.outcome).toBe('rejected');
    expect(result.response.status).toBe(401);
    expect(result.events).toEqual([]);
  });

  it('a refetch of a meeting of a user outside config.users imports nothing', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const inScope = fake.addUser('ada@example.com');
    const other = fake.addUser('eve@example.com');
    const meeting = fake.addRecording({
      hostId: other,
      startTime: daysAgo(1),
      transcript: zoomVtt([['Eve', 'secret']]),
    });
    const connector = harness.connector();
    const context = (users: string[]) =>
      createConnectorInstance(connector, { config: { users }, credentials: harness?.s2s }).createContext();
    expect(await connector.fetchDocument?.(context([inScope]), meeting.uuid)).toBeNull();
    expect((await connector.fetchDocument?.(context([other]), meeting.uuid))?.externalId).toBe(meeting.uuid);
    // Gone at Zoom: null (the pipeline soft-deletes it).
    fake.trash(meeting.uuid);
    expect(await connector.fetchDocument?.(context([other]), meeting.uuid)).toBeNull();
  });
});
