import { type ConfigIssue, InvalidConfigError } from '../errors/invalid-config-error.js';
import type { RunSyncOptions } from './types.js';

type Tuning = Pick<
  RunSyncOptions<unknown, unknown>,
  'concurrency' | 'embedBatch' | 'groupSize' | 'maxContentBytes' | 'rateLimitPause'
>;

/**
 * Refuses tuning options that cannot be meant (`concurrency.write: 0`, `groupSize: 2.5`,
 * `embedBatch.maxWaitMs: -1`, NaN, strings from an unparsed environment variable) before the run
 * takes its lease, naming every bad field at once. Unset fields keep their defaults. Before this a
 * bad value was replaced by the default without a word, so a typo looked like a tuning that did
 * nothing.
 */
export function checkTuningOptions(options: Tuning): void {
  const issues: ConfigIssue[] = [];
  const positiveInteger = (fieldPath: string, value: unknown) => {
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      issues.push({ fieldPath, message: `must be a whole number of 1 or more, got ${describe(value)}` });
    }
  };
  // A limit, where Infinity means none.
  const limit = (fieldPath: string, value: unknown) => {
    if (value === undefined || value === Number.POSITIVE_INFINITY) return;
    positiveInteger(fieldPath, value);
  };
  const milliseconds = (fieldPath: string, value: unknown) => {
    if (value === undefined) return;
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      issues.push({ fieldPath, message: `must be 0 or more milliseconds, got ${describe(value)}` });
    }
  };
  const concurrency = options.concurrency ?? {};
  for (const key of ['load', 'embed', 'write', 'groups'] as const) {
    positiveInteger(`concurrency.${key}`, concurrency[key]);
  }
  positiveInteger('groupSize', options.groupSize);
  limit('maxContentBytes', options.maxContentBytes);
  const batch = options.embedBatch ?? {};
  limit('embedBatch.maxInputs', batch.maxInputs);
  limit('embedBatch.maxTokens', batch.maxTokens);
  limit('embedBatch.maxHeldVectors', batch.maxHeldVectors);
  milliseconds('embedBatch.flushDelayMs', batch.flushDelayMs);
  milliseconds('embedBatch.maxWaitMs', batch.maxWaitMs);
  const pause = options.rateLimitPause ?? {};
  milliseconds('rateLimitPause.maxPauseMs', pause.maxPauseMs);
  milliseconds('rateLimitPause.defaultPauseMs', pause.defaultPauseMs);
  if (pause.maxRetries !== undefined && !(Number.isInteger(pause.maxRetries) && pause.maxRetries >= 0)) {
    issues.push({
      fieldPath: 'rateLimitPause.maxRetries',
      message: `must be a whole number of 0 or more, got ${describe(pause.maxRetries)}`,
    });
  }
  if (issues.length > 0) {
    throw new InvalidConfigError({
      subject: 'runSync options',
      issues,
      hint: 'Fix or leave out these fields (unset ones take their defaults); nothing was synced',
    });
  }
}

/** A number as written; anything else by its type (options are not secrets, but keep it short). */
function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : `a ${typeof value}`;
}
