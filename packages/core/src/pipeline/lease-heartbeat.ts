import type {
  KnowledgeRepository,
  SyncCounts,
  SyncLiveProgress,
} from '../repository/knowledge-repository.js';
import { RepositoryError } from '../repository/repository-error.js';
import type { Logger } from '../spec/logger.js';
import { type RunControl, StopRun } from './run-control.js';

/**
 * Renews the run's lease every `intervalMs` (one heartbeat at a time), and in between, every
 * `progressIntervalMs`, whenever the live progress or the counts changed: the same call stores the
 * counts and `metadata.progress`, so other machines (the console, `tributary status`) see a run move while
 * its source is still listing. A lost lease (the run expired or an operator released it) halts
 * the run; other heartbeat errors are logged. Returns the function that stops the timer.
 */
export function startLeaseHeartbeat(options: {
  repository: KnowledgeRepository;
  runId: string;
  leaseSeconds: number;
  intervalMs: number;
  control: RunControl;
  logger: Logger;
  progress: () => SyncCounts;
  /** Milliseconds between progress writes while it changes (never more often than this). */
  progressIntervalMs?: number | undefined;
  live?: (() => Omit<SyncLiveProgress, 'at'>) | undefined;
}): () => void {
  const { repository, runId, leaseSeconds, control, logger, intervalMs } = options;
  const tick = Math.min(intervalMs, options.progressIntervalMs ?? intervalMs);
  let inFlight = false;
  let lastBeat = Date.now();
  let written = '';
  const timer = setInterval(() => {
    if (inFlight || control.stopped?.leaseLost) return;
    const live = options.live?.();
    const counts = options.progress();
    // Written when anything a reader sees moved: listed, still listing, total, or the counts.
    const key = options.live ? JSON.stringify([live, counts]) : '';
    // Half a tick of slack: timers fire late, and a heartbeat skipped for a few milliseconds
    // would wait a whole tick more.
    if (key === written && Date.now() - lastBeat < intervalMs - tick / 2) return;
    inFlight = true;
    lastBeat = Date.now();
    repository
      .heartbeat(runId, {
        leaseSeconds,
        progress: counts,
        ...(live ? { live: { ...live, at: new Date().toISOString() } } : {}),
      })
      .then(() => {
        written = key;
      })
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
  }, tick);
  timer.unref?.();
  return () => clearInterval(timer);
}
