import type { KnowledgeRepository, SyncCounts } from '../repository/knowledge-repository.js';
import { RepositoryError } from '../repository/repository-error.js';
import type { Logger } from '../spec/logger.js';
import { type RunControl, StopRun } from './run-control.js';

/**
 * Renews the run's lease every `intervalMs` (one heartbeat at a time). A lost lease (the run
 * expired or an operator released it) halts the run; other heartbeat errors are logged.
 * Returns the function that stops the timer.
 */
export function startLeaseHeartbeat(options: {
  repository: KnowledgeRepository;
  runId: string;
  leaseSeconds: number;
  intervalMs: number;
  control: RunControl;
  logger: Logger;
  progress: () => SyncCounts;
}): () => void {
  const { repository, runId, leaseSeconds, control, logger } = options;
  let inFlight = false;
  const timer = setInterval(() => {
    if (inFlight || control.stopped?.leaseLost) return;
    inFlight = true;
    repository
      .heartbeat(runId, { leaseSeconds, progress: options.progress() })
      .catch((error: unknown) => {
        if (RepositoryError.isInstance(error) && error.reason === 'lease_lost') {
          logger.error('sync run lost its lease; stopping', { runId });
          control.halt(new StopRun('failed', `lost the lease of sync run ${runId}: ${error.message}`, true));
        } else {
          logger.warn('heartbeat failed', {
            runId,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      })
      .finally(() => {
        inFlight = false;
      });
  }, options.intervalMs);
  timer.unref?.();
  return () => clearInterval(timer);
}
