import { APIErrorCode, ClientErrorCode, isNotionClientError } from '@notionhq/client';
import {
  AuthError,
  ConnectorApiError,
  createResponseError,
  isAbortError,
  isNetworkError,
  TimeoutError,
  TributaryError,
} from '@tributary/core';
import { NOTION_CONNECTOR_TYPE } from './notion-settings.js';

const PROVIDER = NOTION_CONNECTOR_TYPE;

export const RECONNECT_HINT =
  'Reconnect the Notion workspace (run the OAuth flow again, or paste a new internal integration secret) and run the sync again';

export interface MapNotionErrorOptions {
  /** What was called, for messages: `pages.retrieve`, `blocks.children.list`. */
  operation: string;
  /** The per-attempt timeout, for the `TimeoutError` message. */
  timeoutMs: number;
}

/**
 * Converts an error of @notionhq/client (or of the fetch under it) into the Tributary hierarchy
 * before the retry layer sees it, so the decision uses Notion's error code and not only the status:
 * `unauthorized` is a revoked or expired token (fatal `AuthError` saying to reconnect);
 * `rate_limited` (429) and `service_overload` (529) are retried, honouring `Retry-After`;
 * `object_not_found` / `restricted_resource` are about one object (not retried, not fatal);
 * a timed-out attempt is a retryable `TimeoutError`.
 */
export function mapNotionError(error: unknown, options: MapNotionErrorOptions): unknown {
  if (TributaryError.isInstance(error) || isAbortError(error)) return error;
  if (isNotionClientError(error)) {
    if (error.code === ClientErrorCode.RequestTimeout) {
      return new TimeoutError({
        connector: PROVIDER,
        timeoutMs: options.timeoutMs,
        operation: options.operation,
        cause: error,
      });
    }
    if (error.code === ClientErrorCode.InvalidPathParameter) {
      return new ConnectorApiError({
        connector: PROVIDER,
        isRetryable: false,
        message: `${options.operation} was given an invalid id`,
        hint: 'Check the page, block or data source id',
        cause: error,
      });
    }
    const status = 'status' in error ? (error.status as number) : undefined;
    const headers = 'headers' in error ? error.headers : undefined;
    const body = `${error.code}: ${error.message}`;
    if (error.code === APIErrorCode.Unauthorized || status === 401) {
      return new AuthError({
        connector: PROVIDER,
        status: 401,
        message: `Notion rejected the integration token on ${options.operation} (HTTP 401 unauthorized): it was revoked, has expired, or the integration was removed from the workspace`,
        hint: RECONNECT_HINT,
        cause: error,
      });
    }
    if (error.code === APIErrorCode.ObjectNotFound || error.code === APIErrorCode.RestrictedResource) {
      return new ConnectorApiError({
        connector: PROVIDER,
        status,
        isRetryable: false,
        responseBody: body,
        message: `${options.operation} failed: ${error.code} (HTTP ${status ?? '?'})`,
        hint: 'The object was deleted or is not shared with the integration: share it (Connections in the page menu) or remove it from the connector config',
        cause: error,
      });
    }
    if (status === 403) {
      // Not a rate limit in Notion's vocabulary: the integration lacks a capability.
      return new AuthError({
        connector: PROVIDER,
        status,
        message: `Notion refused ${options.operation} (HTTP 403 ${error.code})`,
        hint: 'Give the integration the "Read content" capability in its settings, then run the sync again',
        cause: error,
      });
    }
    if (status !== undefined) {
      return createResponseError({ provider: PROVIDER, status, headers, body, cause: error });
    }
  }
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new TimeoutError({
      connector: PROVIDER,
      timeoutMs: options.timeoutMs,
      operation: options.operation,
      cause: error,
    });
  }
  if (isNetworkError(error)) {
    return new ConnectorApiError({
      connector: PROVIDER,
      isRetryable: true,
      message: `${options.operation} failed before any response arrived (network error)`,
      hint: 'Check network access to the Notion API (or the baseUrl setting); the call is retried',
      cause: error,
    });
  }
  return error;
}

/** An object that is gone or not shared: the document leaves, nothing else fails. */
export function isGone(error: unknown): boolean {
  return (
    ConnectorApiError.isInstance(error) &&
    (error.status === 404 || error.status === 403) &&
    !error.isRetryable
  );
}
