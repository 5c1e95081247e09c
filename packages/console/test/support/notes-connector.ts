import { defineConnector, reportSyncTotal } from '@tributary/core';
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

/**
 * A small local source for the console tests: `docs` notes (at most 10), each after `delayMs` so
 * a run lasts long enough to watch, with the total reported up front so progress has a percent.
 */
export function createNotesConnector() {
  return defineConnector({
    type: 'notes',
    displayName: 'Notes',
    capabilities: { incremental: false },
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
  });
}
