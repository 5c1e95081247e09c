// Property-based fuzzing (fast-check, bounded runs) of the Drive connector's webhook verifier and
// parser and of its cursor decoder: any input ends in a value or a typed error, never a crash.
import { type WebhookRequest, WebhookVerificationError } from '@tributary/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDriveCursor } from '../src/drive-cursor.js';
import { createChannelId, googleDriveWebhooks, isOwnChannelId } from '../src/google-drive-push.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SECRET = 'drive-webhook-secret-7d1c';

const headerValue = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }));
const request = fc
  .record({
    token: fc.option(fc.oneof(fc.constant(SECRET), headerValue), { nil: undefined }),
    channel: fc.option(
      fc.oneof(fc.constant(createChannelId(SECRET)), fc.constant(createChannelId('other')), headerValue),
      { nil: undefined },
    ),
    state: fc.option(
      fc.oneof(fc.constantFrom('sync', 'add', 'remove', 'update', 'trash', 'untrash', 'change'), headerValue),
      { nil: undefined },
    ),
    message: fc.option(headerValue, { nil: undefined }),
    body: fc.uint8Array({ maxLength: 128 }),
  })
  .map(({ token, channel, state, message, body }): WebhookRequest => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers['x-goog-channel-token'] = token;
    if (channel !== undefined) headers['x-goog-channel-id'] = channel;
    if (state !== undefined) headers['x-goog-resource-state'] = state;
    if (message !== undefined) headers['x-goog-message-number'] = message;
    return {
      method: 'POST',
      url: 'https://app.example.com/hooks/drive',
      headers,
      rawBody: body,
    } as WebhookRequest;
  });

describe('Drive webhooks under fuzzing', () => {
  it('verify accepts only our token and channel, and throws nothing but WebhookVerificationError', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (delivery) => {
        let accepted = false;
        try {
          await googleDriveWebhooks.verify(delivery, SECRET);
          accepted = true;
        } catch (error) {
          expect(WebhookVerificationError.isInstance(error), String(error)).toBe(true);
        }
        if (accepted) {
          expect(delivery.headers['x-goog-channel-token']).toBe(SECRET);
          expect(isOwnChannelId(delivery.headers['x-goog-channel-id'] ?? '', SECRET)).toBe(true);
        }
        const events = await googleDriveWebhooks.parse(delivery);
        expect(Array.isArray(events)).toBe(true);
        for (const event of events) expect(event.eventId).toEqual(expect.any(String));
      }),
      { numRuns: RUNS * 5 },
    );
  });
});

describe('Drive cursor decoder under fuzzing', () => {
  it('decodes any JSON value into a cursor or undefined, never throwing', () => {
    const shaped = fc.record(
      {
        version: fc.constantFrom(1, 2, 3, '2'),
        phase: fc.constantFrom('changes', 'listing', 'other'),
        pageToken: fc.oneof(fc.string(), fc.integer()),
        changesToken: fc.oneof(fc.string(), fc.constant(null)),
        queueHead: fc.oneof(fc.integer(), fc.double()),
        queueTail: fc.integer(),
        incomplete: fc.oneof(fc.array(fc.string()), fc.string()),
        folders: fc.oneof(fc.object(), fc.array(fc.string())),
        tasks: fc.array(fc.jsonValue({ maxDepth: 1 })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), shaped), (value) => {
        const cursor = parseDriveCursor(value as never);
        if (cursor !== undefined) expect([1, 2]).toContain(cursor.version);
      }),
      { numRuns: RUNS * 5 },
    );
  });
});
