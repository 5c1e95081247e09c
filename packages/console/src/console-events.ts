import type { Worker } from '@tributary/worker';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { listConnectors } from './console-queries.js';
import type { ProgressTracker } from './progress-tracker.js';

/**
 * `GET /api/events`: server-sent events. A `connectors` event carries every connector with its
 * status, its running run (on any worker: counts from the run row) and the live progress of runs
 * this process executes. It is sent at once, then whenever the tracker reports progress or, for
 * runs elsewhere, when a look every `refreshMs` finds the data changed. The browser's EventSource
 * reconnects by itself.
 */
export function connectorEvents(
  c: Context,
  deps: { worker: Worker; tracker: ProgressTracker; refreshMs: number },
): Response {
  return streamSSE(c, async (stream) => {
    let last = '';
    let id = 0;
    let wake: (() => void) | undefined;
    const unsubscribe = deps.tracker.subscribe(() => wake?.());
    stream.onAbort(() => {
      unsubscribe();
      wake?.();
    });
    try {
      while (!stream.aborted) {
        const rows = await listConnectors(deps.worker.pool);
        const data = JSON.stringify(rows.map((row) => ({ ...row, live: deps.tracker.get(row.id) ?? null })));
        if (data !== last) {
          last = data;
          id += 1;
          await stream.writeSSE({ event: 'connectors', data, id: String(id) });
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deps.refreshMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
    }
  });
}
