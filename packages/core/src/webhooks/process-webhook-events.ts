import { isAbortError } from '../errors/abort-error.js';
import { isFatalError } from '../errors/is-fatal-error.js';
import { runSync } from '../pipeline/run-sync.js';
import type { RunSyncOptions, SyncSummary } from '../pipeline/types.js';
import { silentLogger } from '../spec/logger.js';
import type { ConnectorChange } from '../spec/v1/connector-change.js';
import type { ConnectorV1, SyncContext } from '../spec/v1/connector-v1.js';
import type { RecordedWebhookEvent } from './handle-webhook.js';

export interface ProcessWebhookEventsOptions<Config = unknown, Credentials = unknown>
  extends Omit<RunSyncOptions<Config, Credentials>, 'mode'> {
  /** Events from `handleWebhook` (or from an earlier result's `pending`/`failed`). Only `isNew` ones are processed. */
  events: readonly RecordedWebhookEvent[];
  /**
   * Also process redelivered events that were recorded but never completed (`isNew: false`,
   * `processed: false`): a delivery whose recording failed halfway (answered 5xx, so redelivered),
   * or a host that crashed between the two calls. Off by default: two deliveries of one event
   * racing each other could then both be processed (harmless for refetch and sync, which dedup
   * layers 2 to 4 make cheap, but no longer exactly once).
   */
  retryUnprocessed?: boolean | undefined;
}

export interface FailedWebhookEvent {
  event: RecordedWebhookEvent;
  /** Also stored on the event row (`processing_error`, `retry_count` + 1). */
  error: string;
}

export interface ProcessWebhookEventsResult {
  /**
   * `done`: every new event was processed. `failed`: some completed with an error (see `failed`).
   * `retry`: another run of the connector held the lease, so some events were left unprocessed
   * (see `pending`): call again with them later.
   */
  status: 'done' | 'failed' | 'retry';
  /** Events completed without error. */
  processed: number;
  /** Events not processed because they were delivered before (`isNew: false`, unless `retryUnprocessed` picked them). */
  duplicates: number;
  /** Documents soft-deleted (delete events, and refetches that found the document gone). */
  deleted: number;
  /** Documents fetched again with `fetchDocument` and passed through the pipeline. */
  refetched: number;
  /** `runSync` runs that ran (a run that found the lease held is not counted). */
  syncsRun: number;
  /** The summaries of every `runSync` attempted, in order (targeted refetch first, then the sync). */
  syncs: SyncSummary[];
  /** Events completed with an error; pass their `event`s again to retry them. */
  failed: FailedWebhookEvent[];
  /** Events left unprocessed (not completed) because another run held the lease; retry them. */
  pending: RecordedWebhookEvent[];
}

/**
 * Processes recorded webhook events (from `handleWebhook`), each once:
 * - `delete` events soft-delete their documents in one set-based call;
 * - `refetch` events run just those documents through `runSync` (a targeted run through the
 *   connector's `fetchDocument`; `null` means gone and deletes it). A connector without
 *   `fetchDocument` gets one incremental sync instead;
 * - `sync` events, however many, become ONE incremental `runSync`.
 * Then every event is completed (`completeWebhookEvent`, with the error message when its work
 * failed, so it can be retried). When another run holds the connector's lease, the affected
 * events are left unprocessed and returned in `pending` (`status: 'retry'`).
 *
 * For one document, a later `delete` after a `refetch` wins; with `fetchDocument`, a refetch
 * always wins (it reads the source's current state, so a deleted document comes back `null`).
 * Deletes do not take the lease. Errors before a run starts (unknown connector, repository down)
 * fail the events of that step, they are not thrown.
 *
 * @example
 * const result = await processWebhookEvents({ ...syncOptions, events: intake.events });
 * if (result.status === 'retry') later(() => processWebhookEvents({ ...syncOptions, events: result.pending }));
 */
export async function processWebhookEvents<Config, Credentials>(
  options: ProcessWebhookEventsOptions<Config, Credentials>,
): Promise<ProcessWebhookEventsResult> {
  const { events, connector, connectorId, repository, retryUnprocessed, ...rest } = options;
  const logger = options.logger ?? silentLogger;
  const runOptions: RunSyncOptions<Config, Credentials> = {
    ...rest,
    connector,
    connectorId,
    repository,
    syncType: options.syncType ?? 'webhook',
  };
  const result: ProcessWebhookEventsResult = {
    status: 'done',
    processed: 0,
    duplicates: 0,
    deleted: 0,
    refetched: 0,
    syncsRun: 0,
    syncs: [],
    failed: [],
    pending: [],
  };

  // Plan: the last word per document, and the events that ask for a sync.
  const fresh = dedupeById(
    events.filter((event) => event.isNew || (retryUnprocessed === true && !event.processed)),
  );
  result.duplicates = events.length - fresh.length;
  const canFetch = typeof connector.fetchDocument === 'function';
  const perDocument = new Map<string, { kind: 'refetch' | 'delete'; events: RecordedWebhookEvent[] }>();
  const syncEvents: RecordedWebhookEvent[] = [];
  for (const event of fresh) {
    const action = event.action;
    if (action.kind === 'sync' || (action.kind === 'refetch' && !canFetch)) {
      syncEvents.push(event);
      continue;
    }
    const entry = perDocument.get(action.externalId);
    if (!entry) {
      perDocument.set(action.externalId, { kind: action.kind, events: [event] });
    } else {
      entry.events.push(event);
      if (!(canFetch && entry.kind === 'refetch')) entry.kind = action.kind;
    }
  }
  const toDelete = [...perDocument].filter(([, entry]) => entry.kind === 'delete');
  const toRefetch = [...perDocument].filter(([, entry]) => entry.kind === 'refetch');

  /** Outcome per event: `null` = processed, a string = failed with it, `pending` = left for retry. */
  const outcomes = new Map<RecordedWebhookEvent, string | null | 'pending'>();
  const settle = (list: readonly RecordedWebhookEvent[], outcome: string | null | 'pending') => {
    for (const event of list) outcomes.set(event, outcome);
  };

  // 1. Deletes: one set-based call.
  if (toDelete.length > 0) {
    const deleteEvents = toDelete.flatMap(([, entry]) => entry.events);
    try {
      result.deleted += await repository.softDeleteDocuments(
        connectorId,
        toDelete.map(([externalId]) => externalId),
      );
      settle(deleteEvents, null);
    } catch (error) {
      logger.warn('webhook deletes failed', { connectorId, error: messageOf(error) });
      settle(deleteEvents, `soft delete failed: ${messageOf(error)}`);
    }
  }

  // 2. Refetches: one targeted run of just those documents.
  if (toRefetch.length > 0 && connector.fetchDocument) {
    const fetchDocument = connector.fetchDocument.bind(connector);
    const ids = toRefetch.map(([externalId]) => externalId);
    const fetchErrors = new Map<string, string>();
    const targeted: ConnectorV1<Config, Credentials> = {
      ...connector,
      // Incremental, so the run neither sweeps nor expects a complete listing; no checkpoint is
      // yielded, so the connector's cursor stays where it is.
      capabilities: { ...connector.capabilities, incremental: true },
      async *sync(ctx: SyncContext<Config, Credentials>): AsyncIterable<ConnectorChange> {
        for (const externalId of ids) {
          let document: Awaited<ReturnType<typeof fetchDocument>>;
          try {
            document = await fetchDocument(ctx, externalId);
          } catch (error) {
            if (isFatalError(error) || (isAbortError(error) && ctx.signal.aborted)) throw error;
            fetchErrors.set(externalId, `fetchDocument failed: ${messageOf(error)}`);
            continue;
          }
          if (document === null) {
            yield { kind: 'delete', externalId };
          } else if (document.externalId !== externalId) {
            fetchErrors.set(
              externalId,
              `fetchDocument(${externalId}) returned a document with externalId ${document.externalId}`,
            );
          } else {
            yield { kind: 'upsert', document };
          }
        }
      },
    };
    const summary = await attemptRun({ ...runOptions, connector: targeted, mode: 'incremental' }, result);
    for (const [externalId, entry] of toRefetch) {
      if (typeof summary === 'string') settle(entry.events, summary);
      else if (summary.status === 'skipped') settle(entry.events, 'pending');
      else if (summary.status === 'failed' || summary.status === 'cancelled') {
        settle(entry.events, `refetch run ${summary.status}: ${summary.error ?? 'no reason given'}`);
      } else {
        const failure =
          fetchErrors.get(externalId) ?? summary.errors.find((e) => e.externalId === externalId)?.message;
        settle(entry.events, failure ?? null);
      }
    }
    if (typeof summary !== 'string' && summary.status !== 'skipped') {
      result.deleted += summary.counts.deleted;
      result.refetched += summary.counts.seen;
    }
  }

  // 3. Sync events (and refetches without fetchDocument): one incremental run, however many.
  if (syncEvents.length > 0) {
    const summary = await attemptRun({ ...runOptions, mode: 'incremental' }, result);
    for (const event of syncEvents) {
      if (typeof summary === 'string') settle([event], summary);
      else if (summary.status === 'skipped') settle([event], 'pending');
      else if (summary.status === 'failed' || summary.status === 'cancelled') {
        settle([event], `sync run ${summary.status}: ${summary.error ?? 'no reason given'}`);
      } else {
        const externalId = event.action.kind === 'refetch' ? event.action.externalId : undefined;
        const failure =
          externalId === undefined
            ? undefined
            : summary.errors.find((e) => e.externalId === externalId)?.message;
        settle([event], failure ?? null);
      }
    }
    if (typeof summary !== 'string' && summary.status !== 'skipped') result.deleted += summary.counts.deleted;
  }

  // 4. Complete every event that was worked on; leave the pending ones for a retry.
  for (const event of fresh) {
    const outcome = outcomes.has(event) ? (outcomes.get(event) as string | null) : 'pending';
    if (outcome === 'pending') {
      result.pending.push(event);
      continue;
    }
    try {
      await repository.completeWebhookEvent(event.webhookEventId, outcome);
    } catch (error) {
      logger.warn('could not complete webhook event', {
        connectorId,
        webhookEventId: event.webhookEventId,
        error: messageOf(error),
      });
      result.failed.push({
        event,
        error: `${outcome ?? 'processed'}; then marking it processed failed: ${messageOf(error)}`,
      });
      continue;
    }
    if (outcome === null) result.processed += 1;
    else result.failed.push({ event, error: outcome });
  }
  result.status = result.pending.length > 0 ? 'retry' : result.failed.length > 0 ? 'failed' : 'done';
  logger.info('webhook events processed', {
    connectorId,
    status: result.status,
    processed: result.processed,
    failed: result.failed.length,
    pending: result.pending.length,
    duplicates: result.duplicates,
  });
  return result;
}

/** Runs `runSync`, recording the summary; an error before the run started becomes its message. */
async function attemptRun<Config, Credentials>(
  options: RunSyncOptions<Config, Credentials>,
  result: ProcessWebhookEventsResult,
): Promise<SyncSummary | string> {
  try {
    const summary = await runSync(options);
    result.syncs.push(summary);
    if (summary.status !== 'skipped') result.syncsRun += 1;
    return summary;
  } catch (error) {
    (options.logger ?? silentLogger).warn('webhook sync could not start', {
      connectorId: options.connectorId,
      error: messageOf(error),
    });
    return `sync could not start: ${messageOf(error)}`;
  }
}

/** The same recorded event passed twice (e.g. a retry list built carelessly) is handled once. */
function dedupeById(events: readonly RecordedWebhookEvent[]): RecordedWebhookEvent[] {
  const seen = new Set<string>();
  return events.filter((event) => {
    if (seen.has(event.webhookEventId)) return false;
    seen.add(event.webhookEventId);
    return true;
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
