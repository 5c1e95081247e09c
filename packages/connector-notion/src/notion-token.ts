import { Client, isNotionClientError } from '@notionhq/client';
import { AuthError, type Logger, silentLogger, withRetries } from '@tributary/core';
import { mapNotionError, RECONNECT_HINT } from './notion-errors.js';
import {
  accessTokenOf,
  DEFAULT_BASE_URL,
  DEFAULT_TIMEOUT_MS,
  NOTION_CONNECTOR_TYPE,
  NOTION_VERSION,
  type NotionConnectorSettings,
  type NotionCredentials,
  type NotionOAuthCredentialsOf,
} from './notion-settings.js';

/** Refresh this long before a known expiry (clock skew, a slow first request). */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * The access token of one run's calls. OAuth credentials with a refresh token (and the factory's
 * `oauthClient`) are refreshed when Notion answers 401 or `expiresAt` has passed; Notion rotates
 * the refresh token, so the new credentials replace the old ones at once, in memory (for every
 * run of this connector object) and through `onCredentialsRefreshed` (for the next process).
 */
export interface NotionTokenSource {
  /** The token to send now (refreshed first when it is known to have expired). */
  current(): Promise<string>;
  /**
   * A call sent with `used` was answered 401: refresh once for every call rejected together (a
   * refresh under way is shared; a token already replaced is not refreshed again). False when
   * these credentials cannot be refreshed: the 401 stands.
   */
  refreshAfterRejection(used: string): Promise<boolean>;
}

interface CacheEntry {
  credentials: NotionOAuthCredentialsOf;
  /** Access tokens this entry replaced: a run that starts with one of them gets the newest. */
  replaced: Set<string>;
}

interface TokenCache {
  entries: Map<string, CacheEntry>;
  inflight: Map<string, Promise<NotionOAuthCredentialsOf>>;
}

// One cache per connector factory settings object: every run, check and fetchDocument of that
// connector shares the newest tokens and at most one refresh at a time per installation (two
// refreshes with one refresh token would spend it twice: the second is refused).
const caches = new WeakMap<NotionConnectorSettings, TokenCache>();

function cacheOf(settings: NotionConnectorSettings): TokenCache {
  let cache = caches.get(settings);
  if (!cache) {
    cache = { entries: new Map(), inflight: new Map() };
    caches.set(settings, cache);
  }
  return cache;
}

export function createTokenSource(
  credentials: NotionCredentials,
  settings: NotionConnectorSettings,
  options: { signal?: AbortSignal | undefined; logger?: Logger | undefined } = {},
): NotionTokenSource {
  if (credentials.type !== 'oauth') {
    const token = accessTokenOf(credentials);
    return { current: async () => token, refreshAfterRejection: async () => false };
  }
  const now = settings.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const cache = cacheOf(settings);
  // An installation is its bot: one per workspace and integration.
  const key = `${credentials.workspaceId}:${credentials.botId}`;
  let latest = credentials;
  const cached = cache.entries.get(key);
  if (cached?.replaced.has(credentials.accessToken)) latest = cached.credentials;
  const refreshable = () => Boolean(latest.refreshToken && settings.oauthClient);

  const refresh = async (): Promise<void> => {
    let refreshing = cache.inflight.get(key);
    if (!refreshing) {
      const from = latest;
      refreshing = refreshCredentials(from, settings, options.signal)
        .then(async (next) => {
          const entry = cache.entries.get(key);
          const replaced = new Set(entry?.replaced ?? []);
          replaced.add(from.accessToken);
          if (entry) replaced.add(entry.credentials.accessToken);
          replaced.delete(next.accessToken);
          cache.entries.set(key, { credentials: next, replaced });
          logger.info('Notion access token refreshed', { workspaceId: next.workspaceId });
          try {
            await settings.onCredentialsRefreshed?.(next);
          } catch (error) {
            // The new tokens work in this process either way; failing the run would not store them.
            logger.error(
              'storing the refreshed Notion credentials failed: the next process may need to reconnect',
              {
                workspaceId: next.workspaceId,
                error: error instanceof Error ? error.message : String(error),
              },
            );
          }
          return next;
        })
        .finally(() => cache.inflight.delete(key));
      cache.inflight.set(key, refreshing);
    }
    latest = await refreshing;
  };

  return {
    async current() {
      const expiresAt = latest.expiresAt ? Date.parse(latest.expiresAt) : Number.NaN;
      if (refreshable() && Number.isFinite(expiresAt) && expiresAt - EXPIRY_MARGIN_MS <= now()) {
        await refresh();
      }
      return latest.accessToken;
    },
    async refreshAfterRejection(used) {
      if (!refreshable()) return false;
      const refreshing = cache.inflight.get(key);
      if (refreshing) {
        latest = await refreshing;
        return true;
      }
      // Another call of this connector refreshed after `used` was sent: take its token.
      const entry = cache.entries.get(key);
      if (entry?.replaced.has(used)) {
        latest = entry.credentials;
        return true;
      }
      await refresh();
      return true;
    },
  };
}

/**
 * `POST /v1/oauth/token` with `grant_type: refresh_token` (HTTP Basic auth with the client id
 * and secret): a new access token and a new refresh token. Retried only when Notion says it did
 * not process the request (429, 529): a refresh that reached Notion and whose answer was lost has
 * spent the refresh token, and a retry would be refused anyway.
 */
export async function refreshCredentials(
  credentials: NotionOAuthCredentialsOf,
  settings: NotionConnectorSettings,
  signal?: AbortSignal,
): Promise<NotionOAuthCredentialsOf> {
  const client = settings.oauthClient;
  const refreshToken = credentials.refreshToken;
  if (!client || !refreshToken) {
    throw new AuthError({
      connector: NOTION_CONNECTOR_TYPE,
      message: 'the Notion access token cannot be refreshed (no refresh token, or no oauthClient setting)',
      hint: `Pass oauthClient to createNotionConnector, or ${RECONNECT_HINT.charAt(0).toLowerCase()}${RECONNECT_HINT.slice(1)}`,
    });
  }
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const baseFetch = settings.fetch ?? globalThis.fetch;
  const notion = new Client({
    baseUrl: (settings.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, ''),
    notionVersion: NOTION_VERSION,
    retry: false,
    timeoutMs: timeoutMs + 1000,
    fetch: ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const timeout = AbortSignal.timeout(timeoutMs);
      return baseFetch(input, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    }) as typeof fetch,
    logger: () => {},
  });
  const response = await withRetries(
    async () => {
      try {
        return await notion.oauth.token({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: client.clientId,
          client_secret: client.clientSecret,
        });
      } catch (error) {
        if (
          isNotionClientError(error) &&
          'status' in error &&
          (error.status === 400 || error.status === 401)
        ) {
          throw new AuthError({
            connector: NOTION_CONNECTOR_TYPE,
            status: error.status as number,
            message: `Notion refused to refresh the access token (${error.code}): the refresh token was revoked, already used (Notion rotates it on every refresh) or expired`,
            hint: RECONNECT_HINT,
            cause: error,
          });
        }
        throw mapNotionError(error, { operation: 'oauth.token (refresh)', timeoutMs });
      }
    },
    {
      ...settings.retry,
      provider: NOTION_CONNECTOR_TYPE,
      operation: 'oauth.token (refresh)',
      signal,
      shouldRetry: (error) => {
        const status = (error as { status?: unknown }).status;
        return status === 429 || status === 529;
      },
    },
  );
  const expiresIn = (response as { expires_in?: unknown }).expires_in;
  const { expiresAt: _previous, ...rest } = credentials;
  return {
    ...rest,
    accessToken: response.access_token,
    refreshToken: response.refresh_token ?? refreshToken,
    ...(typeof expiresIn === 'number' && expiresIn > 0
      ? { expiresAt: new Date((settings.now ?? Date.now)() + expiresIn * 1000).toISOString() }
      : {}),
    workspaceId: response.workspace_id || credentials.workspaceId,
    botId: response.bot_id || credentials.botId,
  };
}
