import { Client, isNotionClientError } from '@notionhq/client';
import { AuthError, type ConnectorManager, InvalidConfigError } from '@tributary/core';
import type { NotionConnector } from './notion-connector.js';
import { mapNotionError } from './notion-errors.js';
import {
  DEFAULT_BASE_URL,
  DEFAULT_TIMEOUT_MS,
  NOTION_CONNECTOR_TYPE,
  NOTION_VERSION,
  type NotionCredentials,
} from './notion-settings.js';

export interface NotionOAuthClient {
  /** The public integration's OAuth client id. */
  clientId: string;
  /** Its OAuth client secret. Never log it. */
  clientSecret: string;
  /** The redirect URI registered with the integration. */
  redirectUri: string;
  /** API origin (tests point it at a fake). Default `https://api.notion.com`. */
  baseUrl?: string | undefined;
  fetch?: typeof fetch | undefined;
}

/** The OAuth result stored as credentials, and what the host may show (no token). */
export type NotionOAuthCredentials = Extract<NotionCredentials, { type: 'oauth' }>;

function requireField(value: string | undefined, field: string): string {
  if (!value || value.trim() === '') {
    throw new InvalidConfigError({
      connector: NOTION_CONNECTOR_TYPE,
      issues: [{ fieldPath: field, message: 'is required' }],
      subject: 'OAuth settings',
      hint: `Pass ${field} to the Notion OAuth helper`,
    });
  }
  return value;
}

/**
 * The URL to send the user to: Notion asks them to pick the pages to share, then redirects to
 * `redirectUri` with `code` and your `state` (check it: it is the CSRF guard).
 */
export function notionAuthorizationUrl(
  client: Pick<NotionOAuthClient, 'clientId' | 'redirectUri' | 'baseUrl'>,
  state: string,
): string {
  const url = new URL('/v1/oauth/authorize', client.baseUrl ?? DEFAULT_BASE_URL);
  url.searchParams.set('client_id', requireField(client.clientId, 'clientId'));
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('owner', 'user');
  url.searchParams.set('redirect_uri', requireField(client.redirectUri, 'redirectUri'));
  url.searchParams.set('state', requireField(state, 'state'));
  return url.toString();
}

/**
 * Exchanges the `code` of the redirect for an access token (`POST /v1/oauth/token`, HTTP Basic
 * auth with the client id and secret) and returns the connector credentials: token, workspace id
 * and name, bot id and owner. Not retried: a code is single-use. A refused code is an `AuthError`
 * saying to start the flow again.
 */
export async function exchangeNotionCode(
  client: NotionOAuthClient,
  code: string,
): Promise<NotionOAuthCredentials> {
  requireField(code, 'code');
  const notion = new Client({
    baseUrl: (client.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, ''),
    notionVersion: NOTION_VERSION,
    retry: false,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    ...(client.fetch ? { fetch: client.fetch } : {}),
    logger: () => {},
  });
  let response: Awaited<ReturnType<Client['oauth']['token']>>;
  try {
    response = await notion.oauth.token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      client_id: requireField(client.clientId, 'clientId'),
      client_secret: requireField(client.clientSecret, 'clientSecret'),
    });
  } catch (error) {
    if (isNotionClientError(error) && 'status' in error && (error.status === 400 || error.status === 401)) {
      throw new AuthError({
        connector: NOTION_CONNECTOR_TYPE,
        status: error.status as number,
        message: `Notion refused the OAuth code exchange (${error.code})`,
        hint: 'Start the OAuth flow again (a code is single-use and short-lived), and check the client id, secret and redirect URI',
      });
    }
    throw mapNotionError(error, { operation: 'oauth.token', timeoutMs: DEFAULT_TIMEOUT_MS });
  }
  const owner = response.owner;
  const user =
    owner.type === 'user'
      ? (owner.user as { id: string; name?: string | null; person?: { email?: string } })
      : undefined;
  return {
    type: 'oauth',
    accessToken: response.access_token,
    ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
    workspaceId: response.workspace_id,
    ...(response.workspace_name ? { workspaceName: response.workspace_name } : {}),
    botId: response.bot_id,
    owner:
      owner.type === 'user'
        ? {
            type: 'user',
            ...(user?.id ? { userId: user.id } : {}),
            ...(user?.name ? { name: user.name } : {}),
            ...(user?.person?.email ? { email: user.person.email } : {}),
          }
        : { type: 'workspace' },
  };
}

/**
 * The end of the OAuth flow in one call: exchanges the code and stores the credentials as the
 * connector's secrets (encrypted at rest by the connector manager). Returns what the host may show:
 * workspace, bot and owner, never the token.
 */
export async function connectNotionWorkspace(input: {
  manager: ConnectorManager;
  connector: NotionConnector;
  connectorId: string;
  client: NotionOAuthClient;
  code: string;
}): Promise<Omit<NotionOAuthCredentials, 'accessToken' | 'refreshToken'>> {
  const credentials = await exchangeNotionCode(input.client, input.code);
  await input.manager.setSecrets(input.connector, input.connectorId, { credentials });
  const { accessToken: _token, refreshToken: _refresh, ...visible } = credentials;
  return visible;
}

/**
 * An `onCredentialsRefreshed` that stores refreshed credentials as the connector's secrets
 * (encrypted by the connector manager), so the rotated refresh token survives the process. The
 * connector may be given as a function, since it is created with this callback in its settings.
 *
 * @example
 * const notion: NotionConnector = createNotionConnector({
 *   oauthClient: { clientId, clientSecret },
 *   onCredentialsRefreshed: storeRefreshedNotionCredentials({ manager, connector: () => notion, connectorId }),
 * });
 */
export function storeRefreshedNotionCredentials(input: {
  manager: ConnectorManager;
  connector: NotionConnector | (() => NotionConnector);
  connectorId: string;
}): (credentials: NotionOAuthCredentials) => Promise<void> {
  return (credentials) =>
    input.manager.setSecrets(
      typeof input.connector === 'function' ? input.connector() : input.connector,
      input.connectorId,
      { credentials },
    );
}
