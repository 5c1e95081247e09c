import { createHash } from 'node:crypto';
import { AuthError, ConnectorApiError, createHttpClient, type HttpClient } from '@tributary/core';
import { z } from 'zod';
import {
  DEFAULT_OAUTH_URL,
  ZOOM_CONNECTOR_TYPE,
  type ZoomConnectorSettings,
  type ZoomCredentials,
  type ZoomUserOAuthCredentials,
} from './zoom-settings.js';

/** Renew a cached token this long before Zoom says it expires (clock skew, slow requests). */
const EXPIRY_MARGIN_MS = 60_000;

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().positive(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
});
type TokenResponse = z.infer<typeof tokenResponseSchema>;

/** A bearer token and the generation it belongs to (see `refreshAfterRejection`). */
export interface ZoomAccessToken {
  readonly accessToken: string;
  readonly generation: number;
}

/**
 * Access tokens for one set of credentials, cached in memory until shortly before they expire.
 * Server-to-Server OAuth fetches a new token with the account credentials grant; user OAuth
 * refreshes with the refresh token, which Zoom rotates: the new one replaces the old at once (in
 * memory and through `onCredentialsRefreshed`), since the old one stops working.
 */
export interface ZoomTokenProvider {
  /** Stable key of the account the credentials belong to (rate-limit buckets, token cache). */
  readonly accountKey: string;
  token(signal?: AbortSignal): Promise<ZoomAccessToken>;
  /**
   * A request was answered 401 with the token of `generation`: fetch a new one, once for every
   * request rejected together (a refresh under way is shared; a rejection of a token already
   * replaced fetches nothing).
   */
  refreshAfterRejection(generation: number, signal?: AbortSignal): Promise<void>;
}

export function tokenUrl(settings: ZoomConnectorSettings): string {
  return `${(settings.oauthUrl ?? DEFAULT_OAUTH_URL).replace(/\/+$/, '')}/oauth/token`;
}

/** The HTTP client used for token requests: Zoom's token endpoint is not in a rate category. */
export function createTokenHttp(settings: ZoomConnectorSettings, signal?: AbortSignal): HttpClient {
  return createHttpClient({
    provider: ZOOM_CONNECTOR_TYPE,
    fetch: settings.fetch,
    retry: settings.retry,
    timeoutMs: settings.timeoutMs,
    // Token grants are safe to repeat: a retried request at worst issues a second token.
    retryNonIdempotent: true,
    signal,
    logger: settings.logger,
  });
}

function basicAuth(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
}

/** Posts one grant to the token endpoint; a refused grant is an `AuthError` that names it. */
export async function requestToken(
  http: HttpClient,
  settings: ZoomConnectorSettings,
  client: { clientId: string; clientSecret: string },
  form: Record<string, string>,
  signal?: AbortSignal,
): Promise<TokenResponse> {
  try {
    return await http.json(tokenUrl(settings), {
      method: 'POST',
      headers: {
        authorization: basicAuth(client.clientId, client.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form).toString(),
      schema: tokenResponseSchema,
      signal,
    });
  } catch (error) {
    // Zoom answers a refused grant with 400 (invalid_client, invalid_grant) or 401.
    const status = (error as { status?: unknown }).status;
    if (
      (ConnectorApiError.isInstance(error) || AuthError.isInstance(error)) &&
      (status === 400 || status === 401)
    ) {
      throw new AuthError({
        connector: ZOOM_CONNECTOR_TYPE,
        status,
        message: `Zoom refused the ${form.grant_type} grant (HTTP ${status})`,
        hint:
          form.grant_type === 'refresh_token'
            ? 'The refresh token was revoked, already used (Zoom rotates it on every refresh) or expired: authorize the app again and store the new credentials'
            : 'Check the Account ID, Client ID and Client Secret of the Server-to-Server OAuth app, and that the app is activated',
        cause: error,
      });
    }
    throw error;
  }
}

interface CachedToken {
  accessToken: string;
  expiresAt: number;
  generation: number;
  /** User OAuth: the newest refresh token (rotated). */
  refreshToken?: string;
}

/**
 * Creates token providers that share one cache per account (per connector factory), so every
 * sync, `check` and `fetchDocument` of a process reuses a token until it expires.
 */
export function createTokenProviders(settings: ZoomConnectorSettings) {
  const cache = new Map<string, CachedToken>();
  // One refresh at a time per account, shared by every run of this connector object: two runs
  // refreshing a user OAuth token at once would spend the same refresh token twice.
  const inflight = new Map<string, Promise<void>>();
  const now = settings.now ?? Date.now;

  return function providerFor(credentials: ZoomCredentials, signal?: AbortSignal): ZoomTokenProvider {
    const accountKey =
      credentials.type === 'server_to_server'
        ? `s2s:${credentials.accountId}`
        : `oauth:${credentials.clientId}:${fingerprint(credentials.refreshToken)}`;
    const http = createTokenHttp(settings, signal);

    const fetchToken = async (previous: CachedToken | undefined): Promise<void> => {
      let response: TokenResponse;
      let refreshToken: string | undefined;
      if (credentials.type === 'server_to_server') {
        response = await requestToken(
          http,
          settings,
          credentials,
          { grant_type: 'account_credentials', account_id: credentials.accountId },
          signal,
        );
      } else {
        const current = previous?.refreshToken ?? credentials.refreshToken;
        response = await requestToken(
          http,
          settings,
          credentials,
          { grant_type: 'refresh_token', refresh_token: current },
          signal,
        );
        refreshToken = response.refresh_token ?? current;
        if (refreshToken !== current) {
          const rotated: ZoomUserOAuthCredentials = { ...credentials, refreshToken };
          await settings.onCredentialsRefreshed?.(rotated);
        }
      }
      cache.set(accountKey, {
        accessToken: response.access_token,
        expiresAt: now() + response.expires_in * 1000,
        generation: (previous?.generation ?? 0) + 1,
        ...(refreshToken ? { refreshToken } : {}),
      });
    };

    const refresh = (previous: CachedToken | undefined): Promise<void> => {
      let refreshing = inflight.get(accountKey);
      if (!refreshing) {
        refreshing = fetchToken(previous).finally(() => inflight.delete(accountKey));
        inflight.set(accountKey, refreshing);
      }
      return refreshing;
    };

    return {
      accountKey,
      async token() {
        let cached = cache.get(accountKey);
        if (!cached || cached.expiresAt - EXPIRY_MARGIN_MS <= now()) {
          await refresh(cached);
          cached = cache.get(accountKey) as CachedToken;
        }
        return { accessToken: cached.accessToken, generation: cached.generation };
      },
      async refreshAfterRejection(generation) {
        const cached = cache.get(accountKey);
        const refreshing = inflight.get(accountKey);
        if (refreshing) return refreshing;
        if (cached && cached.generation > generation) return;
        await refresh(cached);
      },
    };
  };
}

/** A short, non-reversible tag of a refresh token (cache key only; never logged). */
function fingerprint(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}
