import {
  type AuthenticationResult,
  ConfidentialClientApplication,
  type INetworkModule,
  LogLevel,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { AuthError, type HttpClient, TributaryError } from '@tributary/core';
import { GRAPH_DEFAULT_SCOPE, TEAMS_CONNECTOR_TYPE, type TeamsCredentials } from './teams-settings.js';

/** Renew the access token this long before it expires. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/** Token endpoint answers MSAL must read itself (error bodies): everything 4xx but throttling. */
const MSAL_READS = Array.from({ length: 100 }, (_, index) => 400 + index).filter(
  (status) => status !== 408 && status !== 425 && status !== 429,
);

/**
 * MSAL's HTTP transport, routed through the connector's HTTP kit: the token endpoint gets the same
 * timeout, request budget, retry owner (429/5xx with Retry-After) and injected fetch as Graph.
 * Kit errors (a timeout, retries exhausted) are kept aside, because MSAL wraps what its transport
 * throws into its own error types; `acquire` rethrows the typed original.
 */
export function createMsalNetworkClient(http: HttpClient): INetworkModule & {
  takeError(): unknown;
  lastBody: unknown;
} {
  let failure: unknown;
  const send = async <T>(url: string, method: 'GET' | 'POST', options: NetworkRequestOptions = {}) => {
    try {
      const response = await http.request(url, {
        method,
        headers: options.headers,
        body: options.body,
        // A token POST is safe to repeat: it mints a token and changes nothing.
        retryNonIdempotent: true,
        acceptStatuses: MSAL_READS,
      });
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        headers[key] = value;
      });
      const text = await response.text();
      const body = (text === '' ? {} : JSON.parse(text)) as T;
      network.lastBody = body;
      return { headers, body, status: response.status } satisfies NetworkResponse<T>;
    } catch (error) {
      failure = error;
      throw error;
    }
  };
  const network = {
    lastBody: undefined as unknown,
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>(url, 'GET', options),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>(url, 'POST', options),
    takeError() {
      const error = failure;
      failure = undefined;
      return error;
    },
  };
  return network;
}

export interface MsalAppOptions {
  clientId: string;
  clientSecret: string;
  tenantId: string;
  authorityHost: string;
  network: INetworkModule;
}

/**
 * A confidential client whose authority metadata is given, not discovered: MSAL makes no instance
 * discovery or OpenID configuration call (one fewer round trip per process, and none to a host
 * other than the configured one). The endpoints are the documented v2.0 ones of the authority host.
 */
export function createMsalApp(options: MsalAppOptions): ConfidentialClientApplication {
  const host = new URL(options.authorityHost);
  const authority = `${host.origin}/${options.tenantId}`;
  const authorityMetadata = JSON.stringify({
    token_endpoint: `${authority}/oauth2/v2.0/token`,
    authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
    issuer: `${authority}/v2.0`,
    jwks_uri: `${authority}/discovery/v2.0/keys`,
  });
  return new ConfidentialClientApplication({
    auth: {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      authority,
      knownAuthorities: [host.host],
      authorityMetadata,
    },
    system: {
      networkClient: options.network,
      // MSAL logs PII only when asked; errors surface as typed errors instead.
      loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => {} },
    },
  });
}

/** A bearer token for Graph, cached until shortly before it expires; concurrent callers share one fetch. */
export interface TokenSource {
  token(): Promise<string>;
}

export function createTokenSource(
  credentials: TeamsCredentials,
  http: HttpClient,
  authorityHost: string,
): TokenSource {
  const network = createMsalNetworkClient(http);
  const app = createMsalApp({ ...credentials, authorityHost, network });
  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;

  const acquire = async (): Promise<string> => {
    let result: AuthenticationResult | null;
    try {
      result =
        credentials.type === 'client_credentials'
          ? await app.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT_SCOPE], skipCache: false })
          : await app.acquireTokenByRefreshToken({
              scopes: [GRAPH_DEFAULT_SCOPE],
              refreshToken: credentials.refreshToken,
            });
    } catch (error) {
      throw toAuthFailure(error, network.takeError(), credentials.type);
    }
    if (!result?.accessToken) {
      throw new AuthError({
        connector: TEAMS_CONNECTOR_TYPE,
        message: 'the token endpoint returned no access token',
        hint: 'Check the tenant id and the app registration',
      });
    }
    cached = { token: result.accessToken, expiresAt: result.expiresOn?.getTime() ?? Date.now() + 3_000_000 };
    return result.accessToken;
  };

  return {
    token() {
      if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return Promise.resolve(cached.token);
      pending ??= acquire().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}

/** MSAL's errors (ServerError `invalid_client`, `invalid_grant`...) as the AuthError the pipeline stops on. */
export function toAuthFailure(
  error: unknown,
  transportError: unknown,
  type: TeamsCredentials['type'],
): unknown {
  if (TributaryError.isInstance(transportError)) return transportError;
  if (TributaryError.isInstance(error)) return error;
  const code = (error as { errorCode?: unknown }).errorCode;
  const errorCode = typeof code === 'string' ? code : 'unknown_error';
  const hints: Record<string, string> = {
    invalid_client:
      'Check the client id and secret of the app registration (a secret expires: create a new one under Certificates & secrets)',
    unauthorized_client: 'Check that the app registration exists in this tenant and is enabled',
    invalid_grant:
      type === 'delegated'
        ? 'The refresh token was revoked or expired: sign the user in again (createTeamsOAuth) and store the new refresh token'
        : 'Check the tenant id and that the app has admin consent',
    invalid_request: 'Check the tenant id',
  };
  return new AuthError({
    connector: TEAMS_CONNECTOR_TYPE,
    message: `the Microsoft identity platform refused the ${type === 'delegated' ? 'refresh token' : 'client credentials'} (${errorCode})`,
    hint: hints[errorCode] ?? 'Check the tenant id, client id and secret of the app registration',
    cause: error,
  });
}
