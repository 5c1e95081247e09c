import { redactUrl } from './redact-secrets.js';
import { hasErrorMarker, TributaryError } from './tributary-error.js';

const marker = Symbol.for('tributary.error.auth');

export interface AuthErrorOptions {
  connector?: string | undefined;
  /** HTTP status when the provider answered 401/403. */
  status?: number | undefined;
  /** Request URL (stored redacted). */
  url?: string | URL | undefined;
  message?: string | undefined;
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * The credentials are missing, expired, revoked or lack a permission. Fatal: retrying cannot fix
 * it, so a sync run that meets one ends `failed` (not `partial`) and needs a human to reconnect.
 */
export class AuthError extends TributaryError {
  readonly [marker] = true;
  readonly status: number | undefined;
  /** Redacted request URL. */
  readonly url: string | undefined;
  readonly isRetryable = false;

  constructor(options: AuthErrorOptions = {}) {
    const url = options.url === undefined ? undefined : redactUrl(options.url);
    const target = url ? ` for ${url}` : '';
    super({
      code: 'auth_failed',
      connector: options.connector,
      area: 'auth',
      message:
        options.message ??
        (options.status === 403
          ? `the provider refused access${target} (HTTP 403)`
          : `the provider rejected the credentials${target}${options.status ? ` (HTTP ${options.status})` : ''}`),
      hint:
        options.hint ??
        'Reconnect the account or update the connector credentials, and check that the granted scopes cover this content',
      cause: options.cause,
    });
    this.status = options.status;
    this.url = url;
  }

  static override isInstance(error: unknown): error is AuthError {
    return hasErrorMarker(error, marker);
  }
}
