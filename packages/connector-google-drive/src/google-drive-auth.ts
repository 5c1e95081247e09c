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
