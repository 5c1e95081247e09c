import type { SyncProgressEvent } from '@tributary/core';
import type { RunningJob } from '@tributary/worker';

/** The live state of a connector's latest sync job, as the console shows it. */
export interface LiveProgress {
  connectorId: string;
  jobId: string;
  state: 'queued' | 'running' | 'finished' | 'cancelled';
  runId?: string | undefined;
  /**
   * Documents the connector handed to the pipeline so far (`counts.seen`, what core's ETA uses);
   * they are stored in groups, so the stored count catches up at each group commit.
   */
  done: number;
  /** Documents the connector said it will yield, when it said (`reportSyncTotal`). */
  total?: number | undefined;
  /** True while the source is still listing (from core's `listing-progress` events). */
  listing?: boolean | undefined;
  /** 0 to 100 when a total is known or the run finished; `null` while unknown. */
  percent: number | null;
  etaMs?: number | undefined;
  /** The run's end status once finished (`success`, `partial`, `failed`, ...). */
  status?: string | undefined;
  counts?: SyncProgressEvent['counts'] | undefined;
  updatedAt: number;
}

/**
 * Keeps the latest progress of each connector's sync from the worker's `onProgress` events (runs
 * this process executes) and tells subscribers when something changed. Runs on other workers are
 * read from their `connector_sync_logs` row instead.
 */
export class ProgressTracker {
  readonly #byConnector = new Map<string, LiveProgress>();
  readonly #listeners = new Set<() => void>();
  #version = 0;

  get version(): number {
    return this.#version;
  }

  get(connectorId: string): LiveProgress | undefined {
    return this.#byConnector.get(connectorId);
  }

  all(): LiveProgress[] {
    return [...this.#byConnector.values()];
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  queued(connectorId: string, jobId: string): void {
    const current = this.#byConnector.get(connectorId);
    // A request absorbed by the job already running keeps that job's progress.
    if (current && current.jobId === jobId && current.state === 'running') return;
    this.#set({ connectorId, jobId, state: 'queued', done: 0, percent: null, updatedAt: Date.now() });
  }

  cancelled(connectorId: string, jobId: string): void {
    const current = this.#byConnector.get(connectorId);
    if (current?.jobId !== jobId) return;
    this.#set({ ...current, state: 'cancelled', updatedAt: Date.now() });
  }

  record(event: SyncProgressEvent, job: RunningJob): void {
    const done = event.counts.seen;
    const finished = event.type === 'run-finished';
    const succeeded = finished && (event.status === 'success' || event.status === 'partial');
    let percent: number | null = null;
    if (succeeded) percent = 100;
    else if (event.total !== undefined && event.total > 0) {
      // 100 only once the run says it finished: the last documents may still be writing.
      percent = Math.min(99, Math.floor((done / event.total) * 100));
    } else if (event.total === 0 && !finished) percent = 0;
    const previous = this.#byConnector.get(job.connectorId);
    const listing =
      event.type === 'listing-progress'
        ? event.listing
        : event.type === 'run-started'
          ? true
          : finished
            ? false
            : previous?.jobId === job.jobId
              ? previous.listing
              : undefined;
    this.#set({
      connectorId: job.connectorId,
      jobId: job.jobId,
      state: !finished ? 'running' : event.status === 'cancelled' ? 'cancelled' : 'finished',
      runId: event.runId,
      done,
      total: event.total,
      listing,
      percent,
      etaMs: event.etaMs,
      status: finished ? event.status : undefined,
      counts: event.counts,
      updatedAt: Date.now(),
    });
  }

  #set(progress: LiveProgress): void {
    this.#byConnector.set(progress.connectorId, progress);
    this.#version += 1;
    for (const listener of this.#listeners) listener();
  }
}
