import { TributaryError } from '@tributary/core';

const marker = Symbol.for('tributary.error.console');

/**
 * Why the console refused: `invalid_options` (createConsole input, e.g. a non-local bind without a
 * token), `unknown_connector_type` (no plugin of that type was passed), `not_found` (no such
 * connector or job).
 */
export type ConsoleErrorReason = 'invalid_options' | 'unknown_connector_type' | 'not_found';

export class ConsoleError extends TributaryError {
  readonly [marker] = true;
  readonly reason: ConsoleErrorReason;

  constructor(options: { reason: ConsoleErrorReason; message: string; hint?: string; cause?: unknown }) {
    super({
      code: `console_${options.reason}`,
      area: 'console',
      message: options.message,
      hint: options.hint,
      cause: options.cause,
    });
    this.reason = options.reason;
  }

  static override isInstance(error: unknown): error is ConsoleError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
