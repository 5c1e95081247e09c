const marker = Symbol.for('tributary.error');

/**
 * A failure the CLI explains in one line (bad flags, no database configured, unreachable
 * server). Carries the shared `tributary.error` marker like every Tributary error.
 */
export class TributaryCliError extends Error {
  readonly [marker] = true;
  readonly code: string;
  /** The process exit code (default 1; `sync` uses 2 for a partial run). */
  readonly exitCode: number;
  /** The command already printed its result under `--json`, so no `{ "error" }` object follows. */
  readonly jsonPrinted: boolean;

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; exitCode?: number; jsonPrinted?: boolean },
  ) {
    super(`[tributary] ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TributaryCliError';
    this.code = code;
    this.exitCode = options?.exitCode ?? 1;
    this.jsonPrinted = options?.jsonPrinted ?? false;
  }
}

const connectionCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
  'EAI_AGAIN',
]);

/** True for errors that mean "could not reach the server", as opposed to an SQL error. */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && connectionCodes.has(code)) return true;
  return typeof message === 'string' && /timeout expired|Connection terminated unexpectedly/i.test(message);
}

function describeCause(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, code, errors } = error as { message?: unknown; code?: unknown; errors?: unknown };
  if (typeof message === 'string' && message !== '') return message;
  // Node reports a refused `localhost` (tried on ::1 and 127.0.0.1) as an AggregateError without a message.
  if (Array.isArray(errors) && errors.length > 0) return describeCause(errors[0]);
  return typeof code === 'string' ? code : String(error);
}

/** The one line printed for a failure: always starts with `[tributary]`, never spans lines. */
export function formatFailure(error: unknown): { code: string; message: string } {
  const text = describeCause(error);
  const message = (text.startsWith('[tributary]') ? text : `[tributary] ${text}`).replace(/\s*\n\s*/g, ' ');
  const code =
    typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
      ? (error as { code: string }).code
      : 'error';
  return { code, message };
}
