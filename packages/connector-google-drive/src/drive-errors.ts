import {
  AuthError,
  ConnectorApiError,
  createResponseError,
  isAbortError,
  isNetworkError,
  TributaryError,
} from '@tributary/core';
import { GOOGLE_DRIVE_CONNECTOR_TYPE } from './google-drive-settings.js';

const PROVIDER = GOOGLE_DRIVE_CONNECTOR_TYPE;

/** Google's 403 reasons that are throttling: retried with backoff, never an auth failure. */
const RATE_LIMIT_REASONS = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'sharingRateLimitExceeded',
]);

/** 403 reasons about one file, not about the credentials: the document fails, the run goes on. */
const FILE_REASONS = new Set([
  'exportSizeLimitExceeded',
  'cannotDownloadFile',
  'cannotExportFile',
  'fileNotDownloadable',
  'cannotDownloadAbusiveFile',
  'insufficientFilePermissions',
  'appNotAuthorizedToFile',
]);

interface GoogleErrorShape {
  message?: string;
  code?: unknown;
  config?: { url?: unknown; method?: unknown };
  response?: { status?: number; headers?: unknown; data?: unknown };
}

/** What Google's error body says: the first `errors[].reason`, the message, or an OAuth `error`. */
export interface GoogleErrorDetails {
  status: number;
  reason: string | undefined;
  message: string | undefined;
  /** Set for token endpoint errors (`invalid_grant`, `unauthorized_client`...). */
  oauthError: string | undefined;
  headers: unknown;
  url: string | undefined;
  method: string | undefined;
}

/** Reads a gaxios error's response; `undefined` when there was no HTTP response. */
export function googleErrorDetails(error: unknown): GoogleErrorDetails | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const shape = error as GoogleErrorShape;
  const status = shape.response?.status;
  if (typeof status !== 'number') return undefined;
  let data = shape.response?.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      // A non-JSON body: no reason to read.
    }
  }
  let reason: string | undefined;
  let message: string | undefined;
  let oauthError: string | undefined;
  if (typeof data === 'object' && data !== null) {
    const body = data as { error?: unknown; error_description?: unknown };
    if (typeof body.error === 'string') {
      oauthError = body.error;
      message = typeof body.error_description === 'string' ? body.error_description : undefined;
    } else if (typeof body.error === 'object' && body.error !== null) {
      const apiError = body.error as { message?: unknown; errors?: { reason?: unknown }[] };
      message = typeof apiError.message === 'string' ? apiError.message : undefined;
      const first = apiError.errors?.[0]?.reason;
      reason = typeof first === 'string' ? first : undefined;
    }
  }
  const url = shape.config?.url === undefined ? undefined : String(shape.config.url);
  const method = typeof shape.config?.method === 'string' ? shape.config.method : undefined;
  return { status, reason, message, oauthError, headers: shape.response?.headers, url, method };
}

export interface MapGoogleErrorOptions {
  /** The call is about one file's content: a 403/404 about that file fails the document only. */
  perDocument?: boolean | undefined;
  credentialsType?: 'service_account' | 'oauth2' | undefined;
  /**
   * The call is to an API the connector can do without (the Sheets API): a 403 saying it is not
   * enabled in the project (`accessNotConfigured`) is not an auth failure.
   */
  optionalApi?: boolean | undefined;
}

/**
 * Converts a googleapis / google-auth-library error into the Tributary hierarchy before the retry
 * layer sees it, so the decision uses Google's reason and not only the status: a 403
 * `userRateLimitExceeded` is throttling (retried), a 403 `exportSizeLimitExceeded` is one file's
 * problem (not retried, not fatal), a token endpoint `invalid_grant` is a revoked credential
 * (fatal `AuthError` saying how to fix it). Network errors and our own errors pass through.
 */
export function mapGoogleError(error: unknown, options: MapGoogleErrorOptions = {}): unknown {
  if (TributaryError.isInstance(error) || isAbortError(error)) return error;
  const details = googleErrorDetails(error);
  if (!details) {
    if (isNetworkError(error)) {
      return new ConnectorApiError({
        connector: PROVIDER,
        isRetryable: true,
        message: `Google's API could not be reached (network error${errorCode(error)})`,
        hint: 'Check the network and the rootUrl/tokenUrl settings; the call is retried',
      });
    }
    if (error instanceof Error && /DECODER|PEM|asn1|private key|secretOrPrivateKey/i.test(error.message)) {
      return new AuthError({
        connector: PROVIDER,
        message: 'the service account private key cannot be read',
        hint: 'Paste private_key from the service account JSON key file as is, with its BEGIN/END lines and newlines',
      });
    }
    return error;
  }
  const { status, reason, oauthError } = details;

  if (oauthError !== undefined) {
    if (status >= 500 || status === 429) {
      return createResponseError({ provider: PROVIDER, status, headers: details.headers, url: details.url });
    }
    return tokenError(oauthError, options.credentialsType, status);
  }

  const body = [reason, details.message].filter(Boolean).join(': ');
  if (status === 403 && reason !== undefined && RATE_LIMIT_REASONS.has(reason)) {
    return createResponseError({
      provider: PROVIDER,
      status,
      headers: details.headers,
      body: `${reason} (rate limit)`,
      method: details.method,
      url: details.url,
    });
  }
  if (options.optionalApi && status === 403 && reason === 'accessNotConfigured') {
    return new ConnectorApiError({
      connector: PROVIDER,
      status,
      method: details.method,
      url: details.url,
      responseBody: body,
      isRetryable: false,
      message: 'the API is not enabled in the Google Cloud project (accessNotConfigured)',
      hint: 'Enable it in the Google Cloud console (APIs & Services) for the full export',
    });
  }
  if (
    options.perDocument &&
    (status === 404 || (status === 403 && (reason === undefined || FILE_REASONS.has(reason))))
  ) {
    return new ConnectorApiError({
      connector: PROVIDER,
      status,
      method: details.method,
      url: details.url,
      responseBody: body,
      isRetryable: false,
      message: `Drive refused this file (HTTP ${status}${reason ? ` ${reason}` : ''})${details.message ? `: ${details.message}` : ''}`,
      hint: 'The document is recorded as failed and retried on the next sync; check that the account can open it',
    });
  }
  return createResponseError({
    provider: PROVIDER,
    status,
    headers: details.headers,
    body,
    method: details.method,
    url: details.url,
  });
}

function tokenError(
  oauthError: string,
  credentialsType: MapGoogleErrorOptions['credentialsType'],
  status: number,
): AuthError {
  if (credentialsType === 'service_account') {
    return new AuthError({
      connector: PROVIDER,
      status,
      message: `Google's token endpoint refused the service account (${oauthError})`,
      hint:
        oauthError === 'unauthorized_client'
          ? 'Grant the service account domain-wide delegation for the drive.readonly scope in the Admin console, or remove the subject'
          : 'Check that the service account key is current (not deleted or disabled) and that the subject, if set, is a user of the domain',
    });
  }
  return new AuthError({
    connector: PROVIDER,
    status,
    message:
      oauthError === 'invalid_grant'
        ? 'the Google refresh token was revoked or has expired (invalid_grant)'
        : `Google's token endpoint refused the OAuth client (${oauthError})`,
    hint:
      oauthError === 'invalid_grant'
        ? 'Reconnect the Google account (run the consent flow again with access_type=offline) and store the new refresh token'
        : 'Check the OAuth client id and secret of the connector credentials',
  });
}

function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return `: ${code}`;
    current = (current as { cause?: unknown }).cause;
  }
  return '';
}

/** A Drive API call answered 401 (the access token was rejected), not the token endpoint. */
export function isAccessTokenRejection(error: unknown): boolean {
  const details = googleErrorDetails(error);
  return details !== undefined && details.status === 401 && details.oauthError === undefined;
}

/**
 * Thrown inside `withRetries` after a 401, once a fresh access token is in hand: retryable and
 * without delay (`retryAfterMs: 0`), so the same request is sent once more with the new token,
 * through the one retry owner (the attempt is counted and waits for the request budget). It never
 * leaves the connector: if no retry is left, it becomes the `AuthError` of a rejected token.
 */
export class AccessTokenRefreshedError extends ConnectorApiError {
  constructor(readonly operation: string) {
    super({
      connector: PROVIDER,
      isRetryable: true,
      retryAfterMs: 0,
      message: `Google rejected the access token (HTTP 401) on ${operation}; retrying once with a new token`,
    });
  }
}

/** A 401 with a token fetched after the previous 401: the credentials themselves are refused. */
export function rejectedTokenError(
  operation: string,
  credentialsType: MapGoogleErrorOptions['credentialsType'],
): AuthError {
  return new AuthError({
    connector: PROVIDER,
    status: 401,
    message: `Google rejected the access token (HTTP 401) on ${operation}, again with a newly issued token`,
    hint:
      credentialsType === 'service_account'
        ? "Check that the service account and its key are enabled, that the Drive API is enabled in its project, and that this machine's clock is right (tokens are refused under clock skew); then run the sync again"
        : "Reconnect the Google account (the user may have removed the app's access), check that the OAuth client is enabled and that this machine's clock is right; then run the sync again",
  });
}
