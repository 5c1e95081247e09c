import { RepositoryError } from '../repository/repository-error.js';

/** Why a run stops before its end: lease lost, cancelled, fatal error, or a long rate limit. */
export class StopRun extends Error {
  constructor(
    readonly status: 'failed' | 'cancelled' | 'partial',
    message: string,
    readonly leaseLost = false,
    /** For a rate limit longer than the run may pause: when the provider accepts calls again. */
    readonly resumeAt?: Date | undefined,
  ) {
    super(message);
  }
}

/**
 * The stop switch every stage checks: the caller's signal, a lost lease, a fatal error or a long
 * Retry-After halt the run once (the first reason wins) and abort the connector and every
 * in-flight load, embedding request and write that listens to `signal`.
 */
export class RunControl {
  readonly #controller = new AbortController();
  readonly #listing = new AbortController();
  #stop: StopRun | undefined;
  #draining: StopRun | undefined;
  #graceTimer: NodeJS.Timeout | undefined;

  /** Aborts loads, embedding requests and writes: the run stops now. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The connector's signal: aborted when the run halts or starts draining. */
  get listingSignal(): AbortSignal {
    return this.#listing.signal;
  }

  /** Set while a cancelled run finishes what it had started (see `drain`). */
  get draining(): StopRun | undefined {
    return this.#draining;
  }

  /**
   * A graceful stop (cancel, SIGTERM): the listing stops now, the groups already handed out finish
   * and the checkpoints behind them commit, then the run ends with `reason`. After `graceMs` the
   * stop becomes a halt (in-flight work aborted; what was committed stays).
   */
  drain(reason: StopRun, graceMs: number): void {
    if (this.#stop || this.#draining) return;
    this.#draining = reason;
    if (!this.#listing.signal.aborted) this.#listing.abort(reason);
    this.#graceTimer = setTimeout(() => this.halt(reason), graceMs);
    this.#graceTimer.unref?.();
  }

  /** Clears the grace timer once the run has ended. */
  dispose(): void {
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
  }

  get stopped(): StopRun | undefined {
    return this.#stop;
  }

  halt(reason: StopRun): void {
    this.#stop ??= reason;
    if (!this.#listing.signal.aborted) this.#listing.abort(reason);
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Throws the stop reason when the run was halted. */
  check(): void {
    if (this.#stop) throw this.#stop;
  }

  /** Turns a repository `lease_lost` into a halt of the run (rethrown as `StopRun`). */
  leaseLoss(runId: string) {
    return (error: unknown): never => {
      if (RepositoryError.isInstance(error) && error.reason === 'lease_lost') {
        const lost = new StopRun('failed', `lost the lease of sync run ${runId}: ${error.message}`, true);
        this.halt(lost);
        throw lost;
      }
      throw error;
    };
  }
}
