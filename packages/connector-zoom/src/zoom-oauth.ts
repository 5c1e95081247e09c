import { InvalidConfigError } from '@tributary/core';
import { createTokenHttp, requestToken } from './zoom-auth.js';
import {
  DEFAULT_OAUTH_URL,
  ZOOM_CONNECTOR_TYPE,
  type ZoomConnectorSettings,
  type ZoomUserOAuthCredentials,
} from './zoom-settings.js';

export interface ZoomAuthorizationUrlInput {
  clientId: string;
  /** Must match a redirect URL registered on the app. */
  redirectUri: string;
  /** An unguessable value you check on the callback (CSRF protection). */
  state: string;
  /** Default `https://zoom.us`. */
  oauthUrl?: string | undefined;
}

/** Where to send a user to authorize a user-level OAuth app (authorization code flow). */
export function zoomAuthorizationUrl(input: ZoomAuthorizationUrlInput): string {
  for (const [field, value] of Object.entries({
    clientId: input.clientId,
    redirectUri: input.redirectUri,
    state: input.state,
  })) {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new InvalidConfigError({
        connector: ZOOM_CONNECTOR_TYPE,
        subject: 'authorization URL',
        issues: [{ fieldPath: field, message: 'is required' }],
      });
    }
  }
  const url = new URL('/oauth/authorize', input.oauthUrl ?? DEFAULT_OAUTH_URL);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', input.clientId);
  url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('state', input.state);
  return url.toString();
}

export interface ExchangeZoomCodeInput {
  clientId: string;
  clientSecret: string;
  /** The `code` query parameter of the callback. */
  code: string;
  /** The same redirect URI the authorization URL used. */
  redirectUri: string;
  settings?: Pick<ZoomConnectorSettings, 'oauthUrl' | 'fetch' | 'retry' | 'logger'> | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Exchanges the callback's authorization code for credentials to store with the connector
 * (`manager.setSecrets(connector, id, { credentials })`). A refused code throws `AuthError`.
 */
export async function exchangeZoomAuthorizationCode(
  input: ExchangeZoomCodeInput,
): Promise<ZoomUserOAuthCredentials> {
  const settings = input.settings ?? {};
  const response = await requestToken(
    createTokenHttp(settings, input.signal),
    settings,
    input,
    { grant_type: 'authorization_code', code: input.code, redirect_uri: input.redirectUri },
    input.signal,
  );
  if (!response.refresh_token) {
    throw new InvalidConfigError({
      connector: ZOOM_CONNECTOR_TYPE,
      subject: 'authorization code exchange',
      issues: [{ fieldPath: 'refresh_token', message: 'Zoom returned no refresh token' }],
      hint: 'Use a user-managed OAuth app (Server-to-Server apps use type "server_to_server" credentials instead)',
    });
  }
  return {
    type: 'oauth',
    clientId: input.clientId,
    clientSecret: input.clientSecret,
    refreshToken: response.refresh_token,
  };
}
