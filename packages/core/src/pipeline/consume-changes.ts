import { createBufferedConnectorState } from '../spec/buffered-connector-state.js';
import { createConnectorInstance } from '../spec/create-connector-instance.js';
import type { SyncMetrics } from '../spec/sync-metrics.js';
import type { ConnectorChange } from '../spec/v1/connector-change.js';
import type { SyncContext, SyncMode } from '../spec/v1/connector-v1.js';
import type { JsonValue } from '../spec/v1/json-value.js';
import type { SourceDocument } from '../spec/v1/source-document.js';
import { ChangeReader, DEADLINE_PASSED } from './change-reader.js';
import type { GroupScheduler } from './group-scheduler.js';
import type { ListingProgress } from './listing-progress.js';
import { type GroupStage, processGroup } from './process-group.js';
import { REPORT_TOTAL } from './report-total.js';
import type { RunControl } from './run-control.js';
import type { StageClock } from './stage-timings.js';
import type { EmbedBatcher } from './stages/embed-batcher.js';
import type { RunSyncOptions } from './types.js';

export interface Listing {
  complete: boolean;
  reason?: string | undefined;
}

/**
 * The list stage: reads the connector's changes, cuts them into groups handed to the scheduler
 * (which runs them concurrently), applies deletes in order, and queues each checkpoint behind
 * everything listed before it. Order per document is kept: an upsert or delete of an id waits for
 * the group still holding that id. A group is handed out when it is full, at a checkpoint, or once
 * its first document has waited `groupMaxWaitMs` (pending deletes likewise), so a slow source's
 * documents are stored while it still lists. Returns how the listing ended.
 */
export async function consumeChanges<Config, Credentials>(input: {
  options: RunSyncOptions<Config, Credentials>;
  config: unknown;
  credentials: unknown;
  cursor: JsonValue | undefined;
  mode: SyncMode;
  runId: string;
  control: RunControl;
  clock: StageClock;
  metrics: SyncMetrics;
  scheduler: GroupScheduler;
  groupStage: GroupStage;
  groupSize: number;
  /** Hand out a group (or the pending deletes) once its oldest entry waited this long; Infinity: never. */
  groupMaxWaitMs: number;
  batcher: EmbedBatcher;
  listingProgress: ListingProgress;
  onTotal(total: number): void;
}): Promise<Listing | undefined> {
  const { options, control, scheduler, groupStage, groupSize, groupMaxWaitMs, runId, clock } = input;
  const { repository, connectorId, connector } = options;
  const logger = groupStage.logger;
  // ctx.state: writes wait in memory for the next checkpoint and commit with its cursor, so the
  // stored state always matches the stored cursor.
  const state = createBufferedConnectorState({
    get: (namespace, keys) => repository.getState(connectorId, namespace, keys),
    list: (namespace, listOptions) => repository.listState(connectorId, namespace, listOptions),
  });
  const instance = createConnectorInstance(connector, {
    config: input.config,
    credentials: input.credentials,
  });
  const base = instance.createContext({
    signal: control.listingSignal,
    logger,
    metrics: input.metrics,
    fetch: options.fetch,
    rateLimit: options.rateLimit,
  });
  const context: SyncContext<Config, Credentials> = {
    ...base,
    cursor: input.cursor,
    mode: input.mode,
    state,
  };
  Object.defineProperty(context, REPORT_TOTAL, {
    enumerable: false,
    value: (n: number) => {
      if (Number.isFinite(n) && n >= 0) input.onTotal(n);
    },
  });

  let group: SourceDocument[] = [];
  let groupIds = new Set<string>();
  let deletes: string[] = [];
  let deleteIds = new Set<string>();
  // When the first entry of `group` / `deletes` arrived (performance.now()).
  let groupSince = 0;
  let deletesSince = 0;
  let listing: Listing | undefined;

  const submitGroup = async () => {
    if (group.length === 0) return;
    const current = group;
    group = [];
    groupIds = new Set();
    await scheduler.submit(
      current.map((d) => d.externalId),
      () => processGroup(current, groupStage),
    );
  };
  const flushDeletes = async () => {
    if (deletes.length === 0) return;
    const current = deletes;
    deletes = [];
    deleteIds = new Set();
    await scheduler.waitFor(current);
    control.check();
    const removed = await clock.time('write', () => repository.softDeleteDocuments(connectorId, current));
    groupStage.counts.deleted += removed;
    groupStage.progress({ type: 'group-committed', documents: 0, deleted: removed });
  };

  // The time-based cut: when the oldest document (or delete) still held here has waited
  // groupMaxWaitMs. A fast source fills its groups long before, so only slow ones are cut early.
  const cutDue = (): number | undefined => {
    if (!Number.isFinite(groupMaxWaitMs)) return undefined;
    let oldest = Number.POSITIVE_INFINITY;
    if (group.length > 0) oldest = groupSince;
    if (deletes.length > 0) oldest = Math.min(oldest, deletesSince);
    return Number.isFinite(oldest) ? oldest + groupMaxWaitMs : undefined;
  };
  // Only what is due: a young group is not cut because old deletes are (ids in the two are distinct,
  // see the upsert and delete cases, so their order does not matter).
  const cutOverdue = async () => {
    const now = performance.now();
    if (group.length > 0 && now - groupSince >= groupMaxWaitMs) await submitGroup();
    if (deletes.length > 0 && now - deletesSince >= groupMaxWaitMs) await flushDeletes();
  };

  const iterator = connector.sync(context)[Symbol.asyncIterator]();
  // While the source is slow to answer, the listing must still cut groups on time: the reader keeps
  // the one outstanding next() across a cut and hands its change over afterwards.
  const reader = new ChangeReader<ConnectorChange>(iterator);
  let finished = false;
  try {
    for (;;) {
      control.check();
      if (control.draining) break;
      const read = await reader.next(cutDue());
      if (read === DEADLINE_PASSED) {
        control.check();
        // Cancelled while waiting: what is not handed out yet is dropped, as below.
        if (control.draining) break;
        await cutOverdue();
        continue;
      }
      if (!read.ok) {
        // The connector stopped because the run is draining: not a failure of the listing.
        if (control.draining && !control.stopped) break;
        throw read.error;
      }
      const next = read.result;
      clock.add('list', read.listMs, next.done ? 0 : 1);
      if (next.done) {
        finished = true;
        break;
      }
      control.check();
      if (control.draining) break;
      const change = next.value;
      switch (change.kind) {
        case 'upsert': {
          const id = change.document.externalId;
          groupStage.counts.seen += 1;
          input.listingProgress.listed();
          if (deleteIds.has(id)) await flushDeletes();
          if (groupIds.has(id)) await submitGroup();
          await scheduler.waitFor([id]);
          if (group.length === 0) groupSince = performance.now();
          group.push(change.document);
          groupIds.add(id);
          if (group.length >= groupSize) await submitGroup();
          break;
        }
        case 'delete': {
          const id = change.externalId;
          if (groupIds.has(id)) await submitGroup();
          if (deleteIds.has(id)) break;
          if (deletes.length === 0) deletesSince = performance.now();
          deletes.push(id);
          deleteIds.add(id);
          if (deletes.length >= groupSize) await flushDeletes();
          break;
        }
        case 'checkpoint': {
          await submitGroup();
          await flushDeletes();
          const changes = state.take();
          const cursor = change.cursor;
          const committed = scheduler.checkpoint(async () => {
            await groupStage.seen.flush();
            await repository.commitCheckpoint(runId, cursor, changes).catch(control.leaseLoss(runId));
            groupStage.progress({ type: 'checkpoint' });
          });
          // State written before this checkpoint is read back by the connector from the store
          // (the buffer hands it over here): wait until it is committed before listing further.
          // Connectors that keep no state keep listing while earlier groups are still stored.
          if (changes) await committed;
          break;
        }
        case 'listing-complete':
          listing = { complete: change.complete, reason: change.reason };
          break;
        case 'scope-failed':
          // A part of the source the connector could not read: counted as a failure (run `partial`).
          groupStage.recordFailure(change.scope, new Error(change.message), 0, false);
          break;
        default:
          logger.warn('unknown change kind ignored', { kind: (change as { kind?: unknown }).kind });
      }
    }
    input.listingProgress.end();
    if (control.draining) {
      // Cancelled: what was listed after the last checkpoint is dropped (the next run lists it
      // again); what was handed out finishes and its checkpoints commit.
      input.batcher.close();
      await scheduler.drain();
      throw control.draining;
    }
    await submitGroup();
    await flushDeletes();
    input.batcher.close();
    await scheduler.drain();
    await groupStage.seen.flush();
  } finally {
    if (!finished) await iterator.return?.().catch(() => undefined);
  }
  if (state.pendingCount > 0) {
    logger.warn('state written after the last checkpoint was discarded', {
      runId,
      changes: state.pendingCount,
    });
  }
  return listing;
}
