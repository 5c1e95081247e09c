import { hasErrorMarker, TributaryError } from './tributary-error.js';

const marker = Symbol.for('tributary.error.unsupported_connector');

export interface UnsupportedConnectorErrorOptions {
  /** The connector's `type`, when it has one. */
  connector?: string | undefined;
  message: string;
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * Something passed as a connector is not one this version of `@tributary/core` can run: an
 * unknown `specificationVersion`, or a definition missing a required member. A programming or
 * packaging error, raised when the connector is defined or registered.
 */
export class UnsupportedConnectorError extends TributaryError {
  readonly [marker] = true;

  constructor(options: UnsupportedConnectorErrorOptions) {
    super({
      code: 'unsupported_connector',
      connector: options.connector,
      area: 'spec',
      message: options.message,
      hint: options.hint,
      cause: options.cause,
    });
  }

  static override isInstance(error: unknown): error is UnsupportedConnectorError {
    return hasErrorMarker(error, marker);
  }
}
