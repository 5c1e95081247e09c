import { createHmac, timingSafeEqual } from 'node:crypto';
import { defineConnector, WebhookVerificationError } from '@tributary/core';

/** Signs a body the way the fake provider does: hex HMAC-SHA256 in `x-hook-signature`. */
export function signHook(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * A connector with signed webhooks: each delivery `{ id, docId }` is a `refetch` of `docId`, and
 * `fetchDocument` counts how often each document was fetched (the test's proof of exactly once).
 */
export function createHookConnector(fetchCounts: Map<string, number>) {
  return defineConnector({
    type: 'hooks',
    capabilities: { webhooks: true },
    async check() {},
    async *sync() {
      yield { kind: 'checkpoint', cursor: {} };
    },
    async fetchDocument(_ctx, externalId) {
      fetchCounts.set(externalId, (fetchCounts.get(externalId) ?? 0) + 1);
      return {
        externalId,
        title: externalId,
        version: '1',
        content: { kind: 'text', text: `body of ${externalId}` },
      };
    },
    webhooks: {
      verify(request, secret) {
        const expected = createHmac('sha256', secret).update(request.rawBody).digest();
        const given = Buffer.from(request.headers['x-hook-signature'] ?? '', 'hex');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          throw new WebhookVerificationError({ connector: 'hooks', reason: 'signature mismatch' });
        }
      },
      parse(request) {
        const event = JSON.parse(new TextDecoder().decode(request.rawBody)) as { id: string; docId: string };
        return [
          {
            eventId: event.id,
            eventType: 'doc.updated',
            action: { kind: 'refetch', externalId: event.docId },
          },
        ];
      },
    },
  });
}
