import { createHmac, timingSafeEqual } from 'node:crypto';
import { defineConnector, reportSyncTotal, WebhookVerificationError } from '@tributary/core';
import { z } from 'zod';

/** Words that make each note findable on its own through search. */
export const NOTE_WORDS = [
  'aurora',
  'basalt',
  'cedar',
  'delta',
  'ember',
  'fjord',
  'glacier',
  'harbor',
  'iris',
  'juniper',
];

/** Signs a delivery the way the fake provider does: hex HMAC-SHA256 in `x-notes-signature`. */
export function signNotes(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * A small local source for the console tests: `docs` notes (at most 10), each after `delayMs` so
 * a run lasts long enough to watch, with the total reported up front so progress has a percent.
 * Signed webhooks `{ id, note }` re-fetch one note.
 */
export function createNotesConnector() {
  return defineConnector({
    type: 'notes',
    displayName: 'Notes',
    capabilities: { incremental: false, webhooks: true },
    configSchema: z.object({
      docs: z.number().int().min(0).max(NOTE_WORDS.length).default(3),
      delayMs: z.number().int().min(0).max(5000).default(0),
    }),
    async check() {},
    async *sync(ctx) {
      reportSyncTotal(ctx, ctx.config.docs);
      for (let index = 0; index < ctx.config.docs; index += 1) {
        if (ctx.config.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, ctx.config.delayMs));
        const word = NOTE_WORDS[index] as string;
        yield {
          kind: 'upsert',
          document: {
            externalId: `note-${index}`,
            title: `Note about ${word}`,
            version: '1',
            content: { kind: 'text', text: `This note is about the ${word}. It is note number ${index}.` },
          },
        };
      }
      yield { kind: 'listing-complete', complete: true };
    },
    async fetchDocument(_ctx, externalId) {
      return {
        externalId,
        title: `Updated ${externalId}`,
        version: '2',
        content: { kind: 'text', text: `The ${externalId} was updated by a webhook.` },
      };
    },
    webhooks: {
      verify(request, secret) {
        const expected = createHmac('sha256', secret).update(request.rawBody).digest();
        const given = Buffer.from(request.headers['x-notes-signature'] ?? '', 'hex');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          throw new WebhookVerificationError({ connector: 'notes', reason: 'signature mismatch' });
        }
      },
      parse(request) {
        const event = JSON.parse(new TextDecoder().decode(request.rawBody)) as { id: string; note: string };
        return [
          {
            eventId: event.id,
            eventType: 'note.updated',
            action: { kind: 'refetch', externalId: event.note },
          },
        ];
      },
    },
  });
}
