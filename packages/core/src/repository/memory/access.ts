import type { RepositoryActor, SyncRunRecord } from '../knowledge-repository.js';
import { RepositoryError } from '../repository-error.js';
import { notFound, type State, type StoredConnector, tick } from './state.js';

/**
 * One actor's view of the shared state: what every part of the repository checks before it reads
 * or writes (who may read an organisation, who may write, which connector and run exist).
 */
export interface MemoryAccess {
  state: State;
  /** The signed-in user; undefined for the service role. */
  userId: string | undefined;
  canRead(orgId: string): boolean;
  assertWriter(what: string): void;
  /** The stored connector (any organisation: writes are the service role's), or not_found. */
  connectorOrThrow(connectorId: string): StoredConnector;
  lockRunning(syncRunId: string): SyncRunRecord;
}

export function createMemoryAccess(state: State, actor: RepositoryActor | undefined): MemoryAccess {
  const userId = actor?.role === 'authenticated' ? actor.userId : undefined;

  /** Organisations the actor may read; undefined means every one (service). */
  const readableOrgs = (): Set<string> | undefined =>
    userId === undefined ? undefined : new Set(state.memberships.get(userId)?.keys() ?? []);
  const canRead = (orgId: string) => readableOrgs()?.has(orgId) ?? true;

  /** Writes are the server's: members get what Postgres gives them (42501, permission denied). */
  const assertWriter = (what: string) => {
    if (userId !== undefined) {
      throw new RepositoryError({
        reason: 'not_allowed',
        message: `permission denied: ${what} is for the server (service role), not for signed-in users`,
        sqlState: '42501',
      });
    }
  };

  const connectorOrThrow = (connectorId: string) => {
    const connector = state.connectors.get(connectorId);
    if (!connector) throw notFound(`connector ${connectorId} not found`);
    return connector;
  };

  /** The running run that still holds its lease, or an error saying why not. */
  const lockRunning = (syncRunId: string) => {
    const run = state.runs.get(syncRunId);
    if (!run) throw notFound(`sync run ${syncRunId} not found`);
    if (run.status !== 'running' || (run.leaseExpiresAt?.getTime() ?? 0) < tick(state)) {
      throw new RepositoryError({
        reason: 'lease_lost',
        message: `sync run ${syncRunId} lost its lease (status ${run.status})`,
        hint: 'Another worker may have taken over; stop this run without committing anything more',
        sqlState: '55000',
      });
    }
    return run;
  };

  return { state, userId, canRead, assertWriter, connectorOrThrow, lockRunning };
}
