import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../../spec/v1/json-value.js';
import { assertCursorSize, assertStateChanges, type ConnectorStateChanges } from '../connector-state.js';
import type {
  FinishSyncInput,
  HeartbeatInput,
  KnowledgeRepository,
  StartSyncInput,
  SyncCounts,
  SyncRunRecord,
} from '../knowledge-repository.js';
import { RepositoryError } from '../repository-error.js';
import { liveProgress } from '../schema-rows.js';
import { assertLeaseSeconds, invalidInput } from '../validate-input.js';
import type { MemoryAccess } from './access.js';
import { publicRun, tick } from './state.js';

// Sync runs and their leases: one running run per connector, heartbeats, checkpoints (cursor and
// `ctx.state` committed together), finishing and an operator's take-over.

export function memorySyncRuns(
  access: MemoryAccess,
): Pick<
  KnowledgeRepository,
  'startSync' | 'heartbeat' | 'commitCheckpoint' | 'finishSync' | 'releaseSync' | 'getSyncRun'
> {
  const { state, canRead, assertWriter, connectorOrThrow, lockRunning } = access;

  const applyCounts = (run: SyncRunRecord, counts: SyncCounts) => {
    for (const key of [
      'documentsSynced',
      'documentsUpdated',
      'documentsSkipped',
      'documentsFailed',
      'documentsDeleted',
      'apiCallsMade',
      'bytesTransferred',
    ] as const) {
      const value = counts[key];
      if (value !== undefined) run[key] = value;
    }
  };

  return {
    async startSync(input: StartSyncInput) {
      const leaseSeconds = input.leaseSeconds ?? 300;
      assertLeaseSeconds(leaseSeconds);
      // As start_connector_sync (0012): refused, not truncated.
      // Counted in code points, as Postgres's char_length does.
      const workerIdLength = input.workerId === undefined ? 0 : [...input.workerId].length;
      if (workerIdLength > 200) {
        throw invalidInput(`workerId is ${workerIdLength} characters long; at most 200 are allowed`);
      }
      assertWriter('startSync');
      const connector = connectorOrThrow(input.connectorId);
      if (!connector.isActive) {
        throw new RepositoryError({
          reason: 'wrong_state',
          message: `connector ${connector.id} is inactive`,
          hint: 'Set is_active = true on the connector to sync it again',
          sqlState: '55000',
        });
      }
      const now = tick(state);
      for (const run of state.runs.values()) {
        if (
          run.connectorId === connector.id &&
          run.status === 'running' &&
          (run.leaseExpiresAt?.getTime() ?? 0) < now
        ) {
          run.status = 'failed';
          run.completedAt = new Date(now);
          run.errorMessage = '[tributary] lease expired: the worker stopped heartbeating';
        }
      }
      const running = [...state.runs.values()].find(
        (r) => r.connectorId === connector.id && r.status === 'running',
      );
      const cursor = structuredClone(connector.syncCursor);
      if (running) {
        return {
          status: 'alreadyRunning',
          syncRunId: running.id,
          leaseExpiresAt: new Date(running.leaseExpiresAt?.getTime() ?? now),
          cursor,
        };
      }
      const id = randomUUID();
      const leaseExpiresAt = new Date(now + leaseSeconds * 1000);
      if ((input.syncMode ?? 'full') === 'full') {
        // After a full run that did not finish, this run continues its listing: what it listed
        // counts as seen (as 0008_resumable_listing does in Postgres).
        const previous = [...state.runs.values()]
          .filter((r) => r.connectorId === connector.id)
          .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0];
        const resumes =
          previous?.syncMode === 'full' && (previous.status === 'failed' || previous.status === 'cancelled');
        state.listingStarts.set(
          id,
          resumes ? (state.listingStarts.get(previous.id) ?? previous.startedAt.getTime()) : now,
        );
      }
      state.runs.set(id, {
        id,
        orgId: connector.orgId,
        connectorId: connector.id,
        syncType: input.syncType ?? 'manual',
        syncMode: input.syncMode ?? 'full',
        status: 'running',
        startedAt: new Date(now),
        completedAt: null,
        leaseExpiresAt,
        workerId: input.workerId ?? null,
        documentsSynced: 0,
        documentsUpdated: 0,
        documentsSkipped: 0,
        documentsFailed: 0,
        documentsDeleted: 0,
        apiCallsMade: 0,
        bytesTransferred: 0,
        errorMessage: null,
        progress: null,
      });
      connector.lastSyncStatus = 'running';
      return { status: 'started', syncRunId: id, leaseExpiresAt: new Date(leaseExpiresAt), cursor };
    },

    async heartbeat(syncRunId: string, input: HeartbeatInput = {}) {
      const leaseSeconds = input.leaseSeconds ?? 300;
      assertLeaseSeconds(leaseSeconds);
      assertWriter('heartbeat');
      const run = lockRunning(syncRunId);
      run.leaseExpiresAt = new Date(tick(state) + leaseSeconds * 1000);
      if (input.progress) applyCounts(run, input.progress);
      if (input.live) run.progress = liveProgress(structuredClone(input.live));
      return new Date(run.leaseExpiresAt);
    },

    async commitCheckpoint(syncRunId: string, cursor: JsonValue, changes?: ConnectorStateChanges) {
      assertWriter('commitCheckpoint');
      if (cursor === undefined) throw invalidInput('commitCheckpoint needs a cursor (any JSON value)');
      // Everything is checked before anything changes: the commit is all or nothing, as in SQL.
      assertCursorSize(cursor);
      if (changes) assertStateChanges(changes);
      const run = lockRunning(syncRunId);
      const connector = run.connectorId ? state.connectors.get(run.connectorId) : undefined;
      if (!connector) return;
      if (changes) state.connectorState.apply(connector.id, changes);
      connector.syncCursor = structuredClone(cursor);
    },

    async finishSync(syncRunId: string, input: FinishSyncInput) {
      assertWriter('finishSync');
      if (!['success', 'partial', 'failed', 'cancelled'].includes(input.status)) {
        throw invalidInput(
          `status must be success, partial, failed or cancelled, got ${String(input.status)}`,
        );
      }
      const run = lockRunning(syncRunId);
      const now = tick(state);
      run.status = input.status;
      run.completedAt = new Date(now);
      run.leaseExpiresAt = null;
      if (input.counts) applyCounts(run, input.counts);
      // As in SQL, finish merges its metadata over the stored one: a progress given wins.
      if (input.counts?.metadata && 'progress' in input.counts.metadata) {
        run.progress = liveProgress(structuredClone(input.counts.metadata.progress));
      }
      run.errorMessage = input.errorMessage?.slice(0, 4000) ?? null;
      const connector = run.connectorId ? state.connectors.get(run.connectorId) : undefined;
      if (connector) {
        connector.lastSyncAt = new Date(now);
        connector.lastSyncStatus = input.status;
        if (input.status === 'failed') connector.errorCount += 1;
        if (input.status === 'success') connector.errorCount = 0;
        if ((input.status === 'failed' || input.status === 'partial') && input.errorMessage) {
          connector.lastError = input.errorMessage.slice(0, 4000);
        }
        const hours = { manual: 0, hourly: 1, daily: 24, weekly: 168 }[connector.syncFrequency];
        connector.nextSyncAt = hours ? new Date(now + hours * 3_600_000) : null;
      }
      return publicRun(run);
    },

    async releaseSync(connectorId: string, reason?: string) {
      assertWriter('releaseSync');
      const connector = connectorOrThrow(connectorId);
      const now = tick(state);
      const running = [...state.runs.values()].find(
        (r) => r.connectorId === connector.id && r.status === 'running',
      );
      if (!running) return undefined;
      running.status = 'cancelled';
      running.completedAt = new Date(now);
      running.errorMessage =
        `[tributary] released by an operator (take-over)${reason ? `: ${reason}` : ''}; the next run resumes from the last committed checkpoint`.slice(
          0,
          4000,
        );
      return {
        syncRunId: running.id,
        leaseExpiresAt: running.leaseExpiresAt ? new Date(running.leaseExpiresAt.getTime()) : null,
        workerId: running.workerId,
        wasExpired: (running.leaseExpiresAt?.getTime() ?? 0) < now,
      };
    },

    async getSyncRun(syncRunId: string) {
      const run = state.runs.get(syncRunId);
      return run && canRead(run.orgId) ? publicRun(run) : undefined;
    },
  };
}
