const marker = Symbol.for('tributary.error');

/** Options every Tributary error accepts. */
export interface TributaryErrorOptions {
  /** Stable machine-readable code, e.g. `connector_api_error`. */
  code: string;
  /** What happened, in one sentence (no `[tributary]` prefix: it is added). */
  message: string;
  /** What to do next, in one sentence. Appended after the message. */
  hint?: string | undefined;
  /** The connector type (`notion`, `google_drive`) the error belongs to, when there is one. */
  connector?: string | undefined;
  /** The part of Tributary that raised it when no connector is involved (`http`, `spec`, `webhooks`). */
  area?: string | undefined;
  cause?: unknown;
}

/**
 * Base of every error Tributary throws. Messages read
 * `[tributary] [<connector or area>] <what happened>. <what to do next>`.
 *
 * Use the static `isInstance` checks rather than `instanceof`: a host app can end up with two
 * copies of `@tributary/core` (a connector plugin resolving its own), and `instanceof` fails
 * across copies. Every error carries the `Symbol.for('tributary.error')` marker (a global
 * symbol, identical in every copy; `@tributary/sql`'s errors carry it too), and each subclass
 * carries its own `Symbol.for('tributary.error.<code>')` marker for its own `isInstance`.
 */
export class TributaryError extends Error {
  readonly [marker] = true;
  /** Stable machine-readable code. */
  readonly code: string;
  /** Connector type the error belongs to, if any. */
  readonly connector: string | undefined;

  constructor(options: TributaryErrorOptions) {
    super(
      formatTributaryMessage(options),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name;
    this.code = options.code;
    this.connector = options.connector;
  }

  /** True for any Tributary error, from this copy of the package or another one. */
  static isInstance(error: unknown): error is TributaryError {
    return hasErrorMarker(error, marker) && 'code' in (error as object);
  }
}

/**
 * True when `error` carries `symbol` set to `true`. Subclasses use it with their own
 * `Symbol.for(...)` marker so their `isInstance` also works across duplicate package copies.
 */
export function hasErrorMarker(error: unknown, symbol: symbol): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    symbol in error &&
    (error as Record<symbol, unknown>)[symbol] === true
  );
}

/** Builds `[tributary] [<scope>] <message>. <hint>` with exactly one full stop between parts. */
export function formatTributaryMessage(
  options: Pick<TributaryErrorOptions, 'message' | 'hint' | 'connector' | 'area'>,
): string {
  const scope = options.connector ?? options.area ?? 'core';
  const what = endSentence(options.message.trim());
  const next = options.hint ? ` ${endSentence(options.hint.trim())}` : '';
  return `[tributary] [${scope}] ${what}${next}`;
}

function endSentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
