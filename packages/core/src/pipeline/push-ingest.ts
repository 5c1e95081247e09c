import { InvalidConfigError } from '../errors/invalid-config-error.js';
import { defineConnector } from '../spec/define-connector.js';
import type { ConnectorChange } from '../spec/v1/connector-change.js';
import type { SourceDocument } from '../spec/v1/source-document.js';
import { runSync } from './run-sync.js';
import type { RunSyncOptions, SyncProgressEvent, SyncSummary } from './types.js';

export interface PushIngestOptions
  extends Omit<RunSyncOptions, 'connector' | 'config' | 'credentials' | 'mode' | 'loadStored'> {
  /** The connector type the run is recorded under (the connector row's type). Default `push`. */
  connectorType?: string | undefined;
  /** With pushes waiting and none new for this long, what was pushed is committed (default 1,000 ms). */
  idleFlushMs?: number | undefined;
  /** Pushed changes the run holds before `push` waits (back-pressure). Default 1,000. */
  maxPending?: number | undefined;
}

/** A running ingest a host hands documents to (see `startPushIngest`). */
export interface PushIngest {
  /** Queues a document (waits while `maxPending` are queued). Rejects once the run has ended. */
  push(document: SourceDocument): Promise<void>;
  /** Queues the removal of a document. */
  delete(externalId: string): Promise<void>;
  /** Resolves once everything pushed before it is stored and checkpointed; rejects if the run stopped first. */
  flush(): Promise<void>;
  /** Commits what is pending and ends the run; resolves with its summary. */
  close(): Promise<SyncSummary>;
  /** The run's summary when it ends (closed, cancelled through `signal`, or failed). */
  readonly done: Promise<SyncSummary>;
}

type Item = ConnectorChange | { kind: 'flush'; committed: Deferred } | { kind: 'end' };

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * Starts one sync run (a lease, a `connector_sync_logs` row, the whole pipeline) that a host feeds:
 * upload handlers, queue consumers, webhooks that carry content. Documents pushed are grouped,
 * loaded, embedded and stored like any connector's; a checkpoint is committed when pushes pause
 * for `idleFlushMs`, on `flush()`, and at `close()`, so `flush()` resolving means durably stored.
 * The run is incremental: nothing is swept.
 *
 * @example
 * const ingest = startPushIngest({ connectorId, repository, embedder });
 * await ingest.push({ externalId: 'a.txt', title: 'a.txt', version: sha, content: { kind: 'text', text } });
 * const summary = await ingest.close();
 */
export function startPushIngest(options: PushIngestOptions): PushIngest {
  const idleFlushMs = options.idleFlushMs ?? 1000;
  const maxPending = options.maxPending ?? 1000;
  if (!(idleFlushMs > 0) || !(Number.isInteger(maxPending) && maxPending > 0)) {
    throw new InvalidConfigError({
      subject: 'startPushIngest',
      issues: [{ fieldPath: 'idleFlushMs/maxPending', message: 'must be positive (maxPending an integer)' }],
    });
  }
  const queue: Item[] = [];
  let wakeReader: (() => void) | undefined;
  const spaceWaiters: (() => void)[] = [];
  // Checkpoints yielded and not yet committed, in order (they commit in order).
  const uncommitted: Deferred[] = [];
  let ended: Error | undefined;
  let closing = false;
  let sequence = 0;

  const enqueue = async (item: Item) => {
    if (ended) throw ended;
    while (queue.length >= maxPending && !ended) {
      await new Promise<void>((resolve) => spaceWaiters.push(resolve));
    }
    if (ended) throw ended;
    queue.push(item);
    wakeReader?.();
  };

  const connector = defineConnector({
    type: options.connectorType ?? 'push',
    displayName: 'Push ingest',
    capabilities: { incremental: true },
    async check() {},
    async *sync(ctx): AsyncIterable<ConnectorChange> {
      let sinceCheckpoint = 0;
      const checkpoint = (committed?: Deferred): ConnectorChange => {
        sinceCheckpoint = 0;
        uncommitted.push(committed ?? deferred());
        return { kind: 'checkpoint', cursor: { pushed: sequence } };
      };
      for (;;) {
        if (ctx.signal.aborted) return;
        const item = queue.shift();
        if (item) {
          spaceWaiters.shift()?.();
          if (item.kind === 'end') {
            if (sinceCheckpoint > 0) yield checkpoint();
            return;
          }
          if (item.kind === 'flush') {
            yield checkpoint(item.committed);
            continue;
          }
          if (item.kind === 'upsert' || item.kind === 'delete') {
            sequence += 1;
            sinceCheckpoint += 1;
          }
          yield item;
          continue;
        }
        // Nothing queued: wait for a push, or commit what is pending once pushes pause.
        const idle = await new Promise<boolean>((resolve) => {
          const timer = sinceCheckpoint > 0 ? setTimeout(() => resolve(true), idleFlushMs) : undefined;
          const onAbort = () => resolve(false);
          ctx.signal.addEventListener('abort', onAbort, { once: true });
          wakeReader = () => {
            if (timer) clearTimeout(timer);
            ctx.signal.removeEventListener('abort', onAbort);
            resolve(false);
          };
        });
        wakeReader = undefined;
        if (idle && queue.length === 0) yield checkpoint();
      }
    },
  });

  const onProgress = (event: SyncProgressEvent) => {
    if (event.type === 'checkpoint') uncommitted.shift()?.resolve();
    options.onProgress?.(event);
  };
  const { connectorType: _type, idleFlushMs: _idle, maxPending: _max, ...runOptions } = options;
  const done = runSync({ ...runOptions, connector, mode: 'incremental', onProgress }).then(
    (summary) => {
      const why = new Error(
        summary.status === 'skipped'
          ? `[tributary] [sync] another run of connector ${options.connectorId} holds the lease (until ${summary.leaseExpiresAt?.toISOString() ?? 'unknown'}); nothing was ingested`
          : `[tributary] [sync] the push ingest has ended (${summary.status})${summary.error ? `: ${summary.error}` : ''}`,
      );
      finish(why);
      return summary;
    },
    (error: unknown) => {
      finish(error instanceof Error ? error : new Error(String(error)));
      throw error;
    },
  );
  const finish = (why: Error) => {
    ended = why;
    for (const pending of uncommitted.splice(0)) pending.reject(why);
    for (const item of queue.splice(0)) if (item.kind === 'flush') item.committed.reject(why);
    for (const wake of spaceWaiters.splice(0)) wake();
    wakeReader?.();
  };

  return {
    push: (document) => enqueue({ kind: 'upsert', document }),
    delete: (externalId) => enqueue({ kind: 'delete', externalId }),
    flush: async () => {
      const committed = deferred();
      await enqueue({ kind: 'flush', committed });
      return committed.promise;
    },
    close: async () => {
      if (!closing && !ended) {
        closing = true;
        queue.push({ kind: 'end' });
        wakeReader?.();
      }
      return done;
    },
    done,
  };
}
