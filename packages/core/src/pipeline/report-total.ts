import type { SyncContext } from '../spec/v1/connector-v1.js';

/** Where `runSync` puts its total reporter on the sync context (not enumerable, not part of the spec). */
export const REPORT_TOTAL: unique symbol = Symbol.for('tributary.pipeline.reportTotal');

/**
 * Tells the pipeline how many documents this sync will yield, so progress events carry an ETA.
 * Optional and harmless: outside `runSync` (the conformance suite, a plain `instance.sync()`)
 * it does nothing.
 *
 * @example
 * async *sync(ctx) {
 *   const files = await listAll(ctx);
 *   reportSyncTotal(ctx, files.length);
 *   for (const file of files) yield { kind: 'upsert', document: toDocument(file) };
 * }
 */
export function reportSyncTotal(ctx: SyncContext<unknown, unknown>, total: number): void {
  const reporter = (ctx as unknown as Record<symbol, unknown>)[REPORT_TOTAL];
  if (typeof reporter === 'function') reporter(total);
}
