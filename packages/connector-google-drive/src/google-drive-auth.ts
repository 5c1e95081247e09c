import { JWT, OAuth2Client } from 'google-auth-library';
import {
  DRIVE_READONLY_SCOPE,
  GOOGLE_TOKEN_URL,
  type GoogleDriveConnectorSettings,
  type GoogleDriveCredentials,
} from './google-drive-settings.js';

/** An authorised Google client: it adds the bearer token and refreshes it before it expires. */
export type GoogleAuthClient = JWT | OAuth2Client;

/**
 * Builds the auth client for either credential type. google-auth-library refreshes access tokens
 * itself (a few minutes before expiry) and keeps them in memory only.
 *
 * Two adjustments to its transport, made with a request interceptor:
 * - **One retry owner.** The library retries token requests on its own (`retry: true` on every
 *   token call) and googleapis retries API calls by default. Both are switched off here, for
 *   every request this client sends, so that `withRetries` in the connector is the only layer
 *   that retries (it honours `Retry-After` and counts every attempt).
 * - **Token endpoint.** The JWT (service account) grant always posts to Google's token URL; with
 *   `settings.tokenUrl` the request is sent there instead (a proxy, a fake server in tests). The
 *   assertion's audience stays Google's token URL, as Google requires.
 */
export function createGoogleAuthClient(
  credentials: GoogleDriveCredentials,
  settings: GoogleDriveConnectorSettings,
): GoogleAuthClient {
  const tokenUrl = settings.tokenUrl ?? GOOGLE_TOKEN_URL;
  const transporterOptions = settings.fetch ? { fetchImplementation: settings.fetch } : undefined;
  const client: GoogleAuthClient =
    credentials.type === 'service_account'
      ? new JWT({
          email: credentials.clientEmail,
          key: credentials.privateKey,
          keyId: credentials.privateKeyId,
          subject: credentials.subject,
          scopes: [...(settings.scopes ?? [DRIVE_READONLY_SCOPE])],
          transporterOptions,
        })
      : new OAuth2Client({
          clientId: credentials.clientId,
          clientSecret: credentials.clientSecret,
          endpoints: { oauth2TokenUrl: tokenUrl },
          transporterOptions,
        });
  if (credentials.type === 'oauth2') client.setCredentials({ refresh_token: credentials.refreshToken });

  client.transporter.interceptors.request.add({
    resolved: async (options) => {
      options.retry = false;
      delete options.retryConfig;
      if (tokenUrl !== GOOGLE_TOKEN_URL && String(options.url) === GOOGLE_TOKEN_URL) {
        options.url = new URL(tokenUrl);
      }
      return options;
    },
  });
  return client;
}

/**
 * Forces a new access token after Google rejected one with a 401 (revoked server-side, clock
 * skew), once for any number of requests rejected together:
 * - a refresh already under way is shared, not repeated;
 * - a request sent before the last forced refresh completed (its `generation` is older) was
 *   rejected with a token that is already replaced, and nothing is fetched. (The token itself
 *   cannot be compared: gaxios redacts the authorization header in its errors.)
 *
 * Clearing `credentials` alone is not enough for a service account: `JWT` keeps the token in its
 * `gtoken` cache too and hands it back until it is about to expire, so that cache is dropped (the
 * next one is built from the same key, subject, scopes and transport). The OAuth2 client keeps
 * its refresh token. `getRequestHeaders()` then fetches the token (it is the call both clients
 * use before each request; `getAccessToken()` would refuse a JWT, which has no refresh token).
 * The token request goes through the same transport as always: no retry of its own.
 */
export interface TokenRefresher {
  /** Forced refreshes completed so far: read it before sending a request. */
  readonly generation: number;
  refreshAfterRejection(sentAtGeneration: number): Promise<void>;
}

export function createTokenRefresher(client: GoogleAuthClient): TokenRefresher {
  let refreshing: Promise<void> | undefined;
  let generation = 0;
  return {
    get generation() {
      return generation;
    },
    refreshAfterRejection(sentAtGeneration) {
      if (refreshing) return refreshing;
      if (sentAtGeneration < generation) return Promise.resolve();
      if (client instanceof JWT) client.gtoken = undefined;
      const refreshToken = client.credentials.refresh_token;
      client.setCredentials(refreshToken ? { refresh_token: refreshToken } : {});
      refreshing = client
        .getRequestHeaders()
        .then(() => {
          generation += 1;
        })
        .finally(() => {
          refreshing = undefined;
        });
      return refreshing;
    },
  };
}
