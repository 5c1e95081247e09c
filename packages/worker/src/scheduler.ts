import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { PRIORITY, SYNC_QUEUE, type SyncJobData, WEBHOOK_QUEUE, type WebhookJobData } from './queues.js';

interface ClaimedRow {
  connector_id: string;
  org_id: string;
  connector_type: string;
  due_at: Date;
}

/**
 * One scheduler pass: claims due connectors (`claim_due_syncs`, SKIP LOCKED, moving each to its
 * next slot) and inserts their sync jobs IN THE SAME TRANSACTION, page by page. However many
 * schedulers run, a due slot is claimed by one of them, and a scheduler that dies mid-pass rolls
 * its claim back with its jobs. A connector that already has a sync waiting keeps that one job
 * (pg-boss `stately` policy: the insert is skipped), so the slot is still served exactly once.
 * Returns how many connectors were claimed.
 */
export async function scheduleDueSyncs(
  pool: pg.Pool,
  boss: PgBoss,
  options: { batchSize: number; now?: Date | undefined },
): Promise<number> {
  let claimed = 0;
  for (;;) {
    const client = await pool.connect();
    let rows: ClaimedRow[];
    try {
      await client.query('begin');
      ({ rows } = await client.query<ClaimedRow>(
        'select connector_id, org_id, connector_type, due_at from public.claim_due_syncs($1, $2)',
        [options.batchSize, options.now ?? new Date()],
      ));
      if (rows.length > 0) {
        await boss.insert(
          SYNC_QUEUE,
          rows.map((row) => ({
            data: {
              connectorId: row.connector_id,
              orgId: row.org_id,
              reason: 'scheduled',
              dueAt: new Date(row.due_at).toISOString(),
            } satisfies SyncJobData,
            singletonKey: row.connector_id,
            group: { id: row.org_id },
            priority: PRIORITY.scheduled,
          })),
          { db: { executeSql: (text, values) => client.query(text, values) } },
        );
      }
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    claimed += rows.length;
    if (rows.length < options.batchSize) return claimed;
  }
}

/**
 * Enqueues a webhook job for every connector with recorded, unprocessed events older than
 * `graceSeconds` (events recorded by an endpoint that could not queue them, e.g. a Supabase Edge
 * Function that only records, or a process that died between recording and queueing). A connector
 * that already has a webhook job waiting keeps it. Returns how many connectors had pending events.
 */
export async function enqueuePendingWebhooks(
  pool: pg.Pool,
  boss: PgBoss,
  options: { maxAttempts: number; graceSeconds: number },
): Promise<number> {
  const { rows } = await pool.query<{ connector_id: string; org_id: string }>(
    `select distinct e.connector_id, e.org_id from public.connector_webhook_events e
     where not e.processed and e.retry_count < $1 and e.received_at < now() - make_interval(secs => $2)`,
    [options.maxAttempts, options.graceSeconds],
  );
  if (rows.length === 0) return 0;
  await boss.insert(
    WEBHOOK_QUEUE,
    rows.map((row) => ({
      data: { connectorId: row.connector_id, orgId: row.org_id } satisfies WebhookJobData,
      singletonKey: row.connector_id,
      group: { id: row.org_id },
      priority: PRIORITY['webhook-events'],
    })),
  );
  return rows.length;
}
