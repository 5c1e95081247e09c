import { defineConnector } from '@tributary/core';
import { z } from 'zod';

/**
 * A tiny source for worker tests: `docs` documents whose version is the config's `round`, each
 * upsert preceded by an optional delay or, with `sourceUrl`, one request to that server through
 * the HTTP kit (so rate limits apply), then a checkpoint. With `holdBeforeEnd`, a run without
 * `sourceUrl` lists its documents and then waits for that promise before it ends its listing, so a
 * test can look at it while it is certainly still running.
 */
export function createTickConnector(
  options: {
    delayMs?: number;
    rateLimit?: { requestsPerSecond: number; burst?: number };
    holdBeforeEnd?: Promise<void>;
  } = {},
) {
  return defineConnector({
    type: 'tick',
    capabilities: { incremental: false },
    ...(options.rateLimit ? { rateLimit: { ...options.rateLimit } } : {}),
    configSchema: z.object({
      docs: z.number().int().min(0).default(2),
      round: z.number().int().default(0),
      sourceUrl: z.string().optional(),
      label: z.string().optional(),
    }),
    async check() {},
    async *sync(ctx) {
      for (let index = 0; index < ctx.config.docs; index += 1) {
        if (ctx.config.sourceUrl) {
          // Through the HTTP kit: the shared rate budget applies to each request.
          const response = await ctx.http.request(
            `${ctx.config.sourceUrl}/doc/${index}?c=${encodeURIComponent(ctx.config.label ?? '')}`,
          );
          // Reading the body is what counts its bytes.
          await response.text();
        } else if (options.delayMs) {
          await new Promise((resolve) => setTimeout(resolve, options.delayMs));
        }
        yield {
          kind: 'upsert',
          document: {
            externalId: `doc-${index}`,
            title: `Doc ${index}`,
            version: String(ctx.config.round),
            content: { kind: 'text', text: `document ${index} of round ${ctx.config.round}` },
          },
        };
      }
      if (options.holdBeforeEnd && !ctx.config.sourceUrl) await options.holdBeforeEnd;
      yield { kind: 'checkpoint', cursor: { round: ctx.config.round } };
      yield { kind: 'listing-complete', complete: true };
    },
  });
}
