import type { PgBoss } from 'pg-boss';

/** pg-boss queue names. */
export const SYNC_QUEUE = 'tributary_sync';
export const WEBHOOK_QUEUE = 'tributary_webhook';
/** Jobs that used up their retries land here (and stay `failed` in their own queue). */
export const DEAD_LETTER_QUEUE = 'tributary_dead';

/** Why a sync job was enqueued; becomes the run's `syncType`. */
export type SyncJobReason = 'manual' | 'scheduled' | 'webhook';

export interface SyncJobData {
  connectorId: string;
  orgId: string;
  reason: SyncJobReason;
  mode?: 'full' | 'incremental' | undefined;
  /** For scheduled jobs: the `next_sync_at` slot that was due. */
  dueAt?: string | undefined;
}

export interface WebhookJobData {
  connectorId: string;
  orgId: string;
}

/** Priorities: a person waiting on a manual sync goes first, then webhook work, then schedules. */
export const PRIORITY: Record<SyncJobReason | 'webhook-events', number> = {
  manual: 20,
  'webhook-events': 15,
  webhook: 10,
  scheduled: 0,
};

export interface QueueSettings {
  retryLimit: number;
  retryDelaySeconds: number;
  retryDelayMaxSeconds: number;
  expireInSeconds: number;
  heartbeatSeconds: number;
}

/**
 * Creates (or updates) the queues. `stately` with the connector id as singleton key: at most one
 * job per connector waiting and one running, so a connector never syncs twice at once and a burst
 * of requests collapses into one waiting job. Failures retry with exponential backoff; a job out of
 * retries stays `failed` in its queue and a copy goes to the dead-letter queue.
 */
export async function ensureQueues(boss: PgBoss, settings: QueueSettings): Promise<void> {
  const options = {
    policy: 'stately' as const,
    retryLimit: settings.retryLimit,
    retryDelay: settings.retryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: settings.retryDelayMaxSeconds,
    expireInSeconds: settings.expireInSeconds,
    heartbeatSeconds: settings.heartbeatSeconds,
    deadLetter: DEAD_LETTER_QUEUE,
    // Keep finished jobs a day, long enough to await or inspect them.
    deleteAfterSeconds: 86_400,
  };
  if (!(await boss.getQueue(DEAD_LETTER_QUEUE))) await createIgnoringRace(boss, DEAD_LETTER_QUEUE, {});
  for (const name of [SYNC_QUEUE, WEBHOOK_QUEUE]) {
    if (await boss.getQueue(name)) {
      const { policy: _policy, deadLetter, ...changeable } = options;
      await boss.updateQueue(name, { ...changeable, deadLetter });
    } else {
      await createIgnoringRace(boss, name, options);
    }
  }
}

async function createIgnoringRace(
  boss: PgBoss,
  name: string,
  options: Parameters<PgBoss['createQueue']>[1],
): Promise<void> {
  try {
    await boss.createQueue(name, options);
  } catch (error) {
    // Another worker starting at the same moment created it first.
    if (!(await boss.getQueue(name))) throw error;
  }
}
