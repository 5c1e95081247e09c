import type { SyncLiveProgress } from '@tributary/core';
import type { SqlClient } from '@tributary/worker';

// The console's reads, one statement each (no per-row queries). It is an operator tool on the
// service connection: it sees every organisation.

export interface ConnectorRow {
  id: string;
  orgId: string;
  type: string;
  name: string;
  isActive: boolean;
  syncFrequency: string;
  nextSyncAt: string | null;
  lastSyncAt: string | null;
  lastSyncStatus: string | null;
  lastError: string | null;
  documents: number;
  /**
   * The connector's running run (any worker), with its counts so far and the live progress its
   * heartbeat stored (documents listed so far, while the source is still listing).
   */
  running: {
    runId: string;
    startedAt: string;
    done: number;
    workerId: string | null;
    progress: SyncLiveProgress | null;
  } | null;
}

export async function listConnectors(db: SqlClient, limit = 500): Promise<ConnectorRow[]> {
  const { rows } = await db.query<{
    id: string;
    org_id: string;
    connector_type: string;
    name: string | null;
    is_active: boolean;
    sync_frequency: string;
    next_sync_at: Date | null;
    last_sync_at: Date | null;
    last_sync_status: string | null;
    last_error: string | null;
    documents: string;
    run_id: string | null;
    run_started_at: Date | null;
    run_done: number | null;
    run_worker: string | null;
    run_progress: unknown;
  }>(
    `select c.id, c.org_id, c.connector_type, c.name, c.is_active, c.sync_frequency, c.next_sync_at,
            c.last_sync_at, c.last_sync_status, c.last_error,
            (select count(*) from public.imported_documents d where d.org_id = c.org_id and d.connector_id = c.id and not d.is_deleted) as documents,
            r.id as run_id, r.started_at as run_started_at,
            r.documents_synced + r.documents_updated + r.documents_skipped + r.documents_failed as run_done,
            r.worker_id as run_worker, r.metadata -> 'progress' as run_progress
     from public.connector_configs c
     left join public.connector_sync_logs r on r.connector_id = c.id and r.status = 'running'
     order by c.created_at desc, c.id
     limit $1`,
    [limit],
  );
  return rows.map((row) => ({
    id: row.id,
    orgId: row.org_id,
    type: row.connector_type,
    name: row.name ?? row.connector_type,
    isActive: row.is_active,
    syncFrequency: row.sync_frequency,
    nextSyncAt: row.next_sync_at?.toISOString() ?? null,
    lastSyncAt: row.last_sync_at?.toISOString() ?? null,
    lastSyncStatus: row.last_sync_status,
    lastError: row.last_error,
    documents: Number(row.documents),
    running:
      row.run_id === null
        ? null
        : {
            runId: row.run_id,
            startedAt: row.run_started_at?.toISOString() ?? '',
            done: row.run_done ?? 0,
            workerId: row.run_worker,
            progress: liveProgress(row.run_progress),
          },
  }));
}

export interface RunRow {
  id: string;
  connectorId: string | null;
  connectorName: string | null;
  syncType: string;
  mode: string;
  status: string;
  startedAt: string;
  completedAt: string | null;
  durationMs: number | null;
  counts: { synced: number; updated: number; skipped: number; failed: number; deleted: number };
  apiCalls: number;
  bytes: number;
  /** Busy milliseconds and calls per pipeline stage (list, load, extract, embed, write). */
  stages: Record<string, { ms: number; count: number }> | null;
  error: string | null;
  workerId: string | null;
}

/** Where a page of runs ends: the last run's start (microseconds since the epoch) and id. */
export interface RunCursor {
  startedAtMicros: string;
  id: string;
}

const CURSOR = /^(\d{1,17})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** `<microseconds>_<run id>`: opaque to clients, exact (a Date would drop the microseconds). */
export function formatRunCursor(cursor: RunCursor): string {
  return `${cursor.startedAtMicros}_${cursor.id}`;
}

/** The cursor a client sent back, or undefined when it is not one this console made. */
export function parseRunCursor(value: string): RunCursor | undefined {
  const match = CURSOR.exec(value);
  return match ? { startedAtMicros: match[1] as string, id: (match[2] as string).toLowerCase() } : undefined;
}

export interface RunPage {
  runs: RunRow[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  nextCursor?: string | undefined;
}

/**
 * The newest runs first, a page at a time: keyset paging on (started_at, id), so each page is an
 * index range (0024's connector_sync_logs_started_idx across organisations, 0003's
 * connector_sync_logs_connector_idx for one connector) whatever the page's depth, and runs that
 * start while someone pages neither shift nor repeat rows.
 */
export async function listRuns(
  db: SqlClient,
  options: { connectorId?: string | undefined; limit: number; before?: RunCursor | undefined },
): Promise<RunPage> {
  const { rows } = await db.query<{
    id: string;
    connector_id: string | null;
    name: string | null;
    sync_type: string;
    sync_mode: string;
    status: string;
    started_at: Date;
    started_micros: string;
    completed_at: Date | null;
    duration_ms: number | null;
    documents_synced: number;
    documents_updated: number;
    documents_skipped: number;
    documents_failed: number;
    documents_deleted: number;
    api_calls_made: number;
    bytes_transferred: string;
    stages: Record<string, { ms: number; count: number }> | null;
    error_message: string | null;
    worker_id: string | null;
  }>(
    `select r.id, r.connector_id, c.name, r.sync_type, r.sync_mode, r.status, r.started_at,
            (extract(epoch from r.started_at) * 1000000)::bigint::text as started_micros, r.completed_at,
            r.duration_ms, r.documents_synced, r.documents_updated, r.documents_skipped, r.documents_failed,
            r.documents_deleted, r.api_calls_made, r.bytes_transferred, r.metadata -> 'stages' as stages,
            r.error_message, r.worker_id
     from (
       -- The newest rows first, narrow: their metadata is read and joined only for those kept.
       -- One connector: its org_id too, so 0003's (org_id, connector_id, started_at) index serves.
       select id from public.connector_sync_logs
       where ($1::uuid is null
              or (org_id = (select org_id from public.connector_configs where id = $1::uuid) and connector_id = $1::uuid))
         and ($3::bigint is null
              or (started_at, id) < ('epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4::uuid))
       order by started_at desc, id desc
       limit $2
     ) newest
     join public.connector_sync_logs r on r.id = newest.id
     left join public.connector_configs c on c.id = r.connector_id
     order by r.started_at desc, r.id desc`,
    [
      options.connectorId ?? null,
      // One more than asked: whether an older page exists, without a count.
      options.limit + 1,
      options.before?.startedAtMicros ?? null,
      options.before?.id ?? null,
    ],
  );
  const more = rows.length > options.limit;
  const kept = more ? rows.slice(0, options.limit) : rows;
  const last = kept.at(-1);
  const runs = kept.map((row) => ({
    id: row.id,
    connectorId: row.connector_id,
    connectorName: row.name,
    syncType: row.sync_type,
    mode: row.sync_mode,
    status: row.status,
    startedAt: row.started_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
    durationMs: row.duration_ms,
    counts: {
      synced: row.documents_synced,
      updated: row.documents_updated,
      skipped: row.documents_skipped,
      failed: row.documents_failed,
      deleted: row.documents_deleted,
    },
    apiCalls: row.api_calls_made,
    bytes: Number(row.bytes_transferred),
    stages: row.stages,
    error: row.error_message,
    workerId: row.worker_id,
  }));
  return {
    runs,
    nextCursor:
      more && last ? formatRunCursor({ startedAtMicros: last.started_micros, id: last.id }) : undefined,
  };
}

/** One point per finished run: when it started, how long it took, how many documents it touched. */
export interface HistoryPoint {
  startedAt: number;
  durationMs: number;
  documents: number;
  status: string;
}

export async function runHistory(
  db: SqlClient,
  options: { days: number; limit: number },
): Promise<HistoryPoint[]> {
  const { rows } = await db.query<{ t: number; duration_ms: number; documents: number; status: string }>(
    `select extract(epoch from started_at)::float8 as t, duration_ms,
            documents_synced + documents_updated + documents_deleted as documents, status
     from public.connector_sync_logs
     where completed_at is not null and started_at > now() - make_interval(days => $1)
     order by started_at desc
     limit $2`,
    [options.days, options.limit],
  );
  return rows.reverse().map((row) => ({
    startedAt: row.t,
    durationMs: row.duration_ms ?? 0,
    documents: row.documents,
    status: row.status,
  }));
}

/** A run's stored `metadata.progress`, or null when it has none (yet) or it is not one. */
function liveProgress(value: unknown): SyncLiveProgress | null {
  if (typeof value !== 'object' || value === null) return null;
  const progress = value as Record<string, unknown>;
  if (typeof progress.listed !== 'number' || typeof progress.listing !== 'boolean') return null;
  return {
    listed: progress.listed,
    listing: progress.listing,
    ...(typeof progress.total === 'number' ? { total: progress.total } : {}),
    at: typeof progress.at === 'string' ? progress.at : '',
  };
}
