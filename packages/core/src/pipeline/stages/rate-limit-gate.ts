import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimitError } from '../../errors/rate-limit-error.js';
import type { Logger } from '../../spec/logger.js';
import { type RunControl, StopRun } from '../run-control.js';

export interface RateLimitGateOptions {
  /** Longest Retry-After the run waits out; a longer one ends the run `partial` with `resumeAt`. */
  maxPauseMs: number;
  /** Wait when the provider gave no Retry-After. */
  defaultPauseMs: number;
  /** Retries of one document after rate limits before it counts as failed. */
  maxRetries: number;
}

/**
 * One pause for the whole run: when a load hits the provider's rate limit every load waits until
 * the Retry-After has passed (instead of each document failing in turn while the run keeps
 * calling the throttled API), then the document is tried again. A Retry-After longer than the
 * run may wait stops the run as `partial`, saying when to resume; the last checkpoint is kept.
 */
export class RateLimitGate {
  #resumeAt = 0;
  pauses = 0;
  pausedMs = 0;

  constructor(
    private readonly options: RateLimitGateOptions,
    private readonly control: RunControl,
    private readonly logger: Logger,
  ) {}

  /** Runs `fn`, waiting out rate limits it reports (shared with every other caller). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.#waitIfPaused();
      try {
        return await fn();
      } catch (error) {
        if (!RateLimitError.isInstance(error) || attempt >= this.options.maxRetries) throw error;
        this.#pause(error);
      }
    }
  }

  #pause(error: RateLimitError): void {
    const wait = error.retryAfterMs ?? this.options.defaultPauseMs;
    const resumeAt = Date.now() + wait;
    if (wait > this.options.maxPauseMs) {
      const stop = new StopRun(
        'partial',
        `[tributary] [sync] the provider asked to wait ${Math.ceil(wait / 1000)}s (Retry-After), longer than the ${Math.ceil(this.options.maxPauseMs / 1000)}s the run may pause; stopped at the last checkpoint, run it again after ${new Date(resumeAt).toISOString()}`,
        false,
        new Date(resumeAt),
      );
      this.control.halt(stop);
      throw stop;
    }
    if (resumeAt > this.#resumeAt) {
      this.pauses += 1;
      this.pausedMs += resumeAt - Math.max(this.#resumeAt, Date.now());
      this.#resumeAt = resumeAt;
      this.logger.warn('rate limited: pausing loads', {
        waitMs: wait,
        until: new Date(resumeAt).toISOString(),
      });
    }
  }

  async #waitIfPaused(): Promise<void> {
    for (;;) {
      this.control.check();
      const left = this.#resumeAt - Date.now();
      if (left <= 0) return;
      await sleep(left, undefined, { signal: this.control.signal }).catch(() => undefined);
    }
  }
}
