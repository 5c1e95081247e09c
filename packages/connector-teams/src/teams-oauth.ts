import { createHttpClient, InvalidConfigError, type Logger, silentLogger } from '@tributary/core';
import { z } from 'zod';
import { createMsalApp, createMsalNetworkClient, toAuthFailure } from './teams-auth.js';
import {
  DEFAULT_AUTHORITY_HOST,
  DEFAULT_RATE_LIMIT,
  TEAMS_CONNECTOR_TYPE,
  type TeamsConnectorSettings,
} from './teams-settings.js';

/** Delegated scopes that read channel messages and meeting transcripts, plus a refresh token. */
export const DEFAULT_DELEGATED_SCOPES: readonly string[] = Object.freeze([
  'offline_access',
  'https://graph.microsoft.com/ChannelMessage.Read.All',
  'https://graph.microsoft.com/Team.ReadBasic.All',
  'https://graph.microsoft.com/Channel.ReadBasic.All',
  'https://graph.microsoft.com/OnlineMeetingTranscript.Read.All',
]);

const oauthOptionsSchema = z.object({
  tenantId: z.string().trim().min(1, 'is required'),
  clientId: z.string().trim().min(1, 'is required'),
  clientSecret: z.string().min(1, 'is required'),
  /** Registered redirect URI of the app (where the user lands with `?code=`). */
  redirectUri: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL registered on the app' }),
  scopes: z.array(z.string().min(1)).min(1).optional(),
});

export interface TeamsOAuthOptions extends z.input<typeof oauthOptionsSchema> {
  settings?: Pick<TeamsConnectorSettings, 'authorityHost' | 'fetch' | 'timeoutMs' | 'rateLimit'> | undefined;
  logger?: Logger | undefined;
}

/** What the code exchange returns: store `refreshToken` as the connector's delegated credentials. */
export interface TeamsOAuthTokens {
  refreshToken: string;
  accessToken: string;
  expiresOn: Date | null;
  /** The signed-in user (`oid`), when an id token came back. */
  userId: string | undefined;
}

export interface TeamsOAuth {
  /** The URL to send the user to; `state` comes back with the code (check it: CSRF). */
  authorizationUrl(input: { state: string; loginHint?: string | undefined }): Promise<string>;
  /** Exchanges the `code` of the redirect for tokens. */
  exchangeCode(code: string): Promise<TeamsOAuthTokens>;
}

/**
 * The delegated (signed-in user) flow through MSAL: authorization URL, code exchange, and the
 * refresh token to store as `{ type: 'delegated', refreshToken }` credentials. Syncs then redeem the
 * refresh token for access tokens (MSAL's refresh-token grant).
 */
export function createTeamsOAuth(options: TeamsOAuthOptions): TeamsOAuth {
  const parsed = oauthOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw InvalidConfigError.fromSchemaIssues(parsed.error, {
      connector: TEAMS_CONNECTOR_TYPE,
      subject: 'config',
    });
  }
  const input = parsed.data;
  const scopes = input.scopes ?? [...DEFAULT_DELEGATED_SCOPES];
  const http = createHttpClient({
    provider: TEAMS_CONNECTOR_TYPE,
    fetch: options.settings?.fetch,
    timeoutMs: options.settings?.timeoutMs,
    rateLimit: options.settings?.rateLimit ?? DEFAULT_RATE_LIMIT,
    logger: options.logger ?? silentLogger,
  });
  const network = createMsalNetworkClient(http);
  const app = createMsalApp({
    clientId: input.clientId,
    clientSecret: input.clientSecret,
    tenantId: input.tenantId,
    authorityHost: options.settings?.authorityHost ?? DEFAULT_AUTHORITY_HOST,
    network,
  });
  return {
    authorizationUrl: ({ state, loginHint }) =>
      app.getAuthCodeUrl({
        scopes,
        redirectUri: input.redirectUri,
        state,
        loginHint,
        prompt: 'select_account',
      }),
    async exchangeCode(code) {
      network.lastBody = undefined;
      let result: Awaited<ReturnType<typeof app.acquireTokenByCode>>;
      try {
        result = await app.acquireTokenByCode({ code, scopes, redirectUri: input.redirectUri });
      } catch (error) {
        throw toAuthFailure(error, network.takeError(), 'delegated');
      }
      // MSAL keeps refresh tokens in its cache and does not return them; the token response has it.
      const body = network.lastBody as { refresh_token?: unknown } | undefined;
      const refreshToken = typeof body?.refresh_token === 'string' ? body.refresh_token : undefined;
      if (!refreshToken) {
        throw toAuthFailure(
          Object.assign(new Error('no refresh token'), { errorCode: 'no_refresh_token' }),
          undefined,
          'delegated',
        );
      }
      return {
        refreshToken,
        accessToken: result.accessToken,
        expiresOn: result.expiresOn,
        userId: result.account?.localAccountId ?? result.uniqueId ?? undefined,
      };
    },
  };
}
