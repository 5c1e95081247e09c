import {
  AuthenticationHandler,
  Client,
  type GraphRequest,
  ResponseType,
} from '@microsoft/microsoft-graph-client';
import {
  ConnectorApiError,
  createHttpClient,
  type HttpClient,
  type Logger,
  RateLimitError,
  type SyncMetrics,
  TributaryError,
} from '@tributary/core';
import type { ZodType } from 'zod';
import { TimedFetchHandler, TransportOptions } from './graph-transport.js';
import { createTokenSource, type TokenSource } from './teams-auth.js';
import {
  DEFAULT_GRAPH_BASE_URL,
  type ResolvedTeamsSettings,
  TEAMS_CONNECTOR_TYPE,
  type TeamsCredentials,
} from './teams-settings.js';

/** One page of a Graph collection. */
export interface GraphPage<T> {
  items: T[];
  nextLink: string | undefined;
  deltaLink: string | undefined;
}

export interface GraphApi {
  get<T>(pathOrUrl: string, schema: ZodType<T>): Promise<T>;
  /** One page of a collection (`value`, `@odata.nextLink`, `@odata.deltaLink`). */
  page<T>(pathOrUrl: string, itemSchema: ZodType<T>): Promise<GraphPage<T>>;
  /** Every item of a collection, following `@odata.nextLink`. */
  all<T>(pathOrUrl: string, itemSchema: ZodType<T>): Promise<T[]>;
  /** A body as text (transcript content). */
  text(pathOrUrl: string): Promise<string>;
  /** A download as a `Response` whose body is still a stream (recordings). */
  download(pathOrUrl: string): Promise<Response>;
  post<T>(path: string, body: unknown, schema: ZodType<T>): Promise<T>;
  patch<T>(path: string, body: unknown, schema: ZodType<T>): Promise<T>;
  delete(path: string): Promise<void>;
}

export interface GraphApiOptions {
  http: HttpClient;
  metrics?: SyncMetrics | undefined;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
  credentials: TeamsCredentials;
  settings: ResolvedTeamsSettings;
}

/**
 * The Graph client (`@microsoft/microsoft-graph-client`) with a two-link middleware chain: its own
 * `AuthenticationHandler` (bearer token from MSAL, attached only to Graph hosts, or to the configured
 * `graphBaseUrl` host through `customHosts`) and `TimedFetchHandler`. Every call runs inside the HTTP
 * kit's `withRetries`: one retry owner for 429 (Retry-After honoured, exponential backoff with jitter
 * when absent), 5xx and network errors, with the request budget taken before each attempt.
 */
export function createGraphApi(options: GraphApiOptions): GraphApi {
  const { http, settings } = options;
  // The token endpoint gets its own kit over the same fetch as Graph (`settings.fetch`), with the
  // run's signal and metrics, and no request budget: a token request is rare and must not queue.
  const tokenHttp = createHttpClient({
    provider: TEAMS_CONNECTOR_TYPE,
    fetch: settings.fetch,
    timeoutMs: settings.timeoutMs,
    metrics: options.metrics,
    logger: options.logger,
    signal: options.signal,
  });
  const tokens: TokenSource = createTokenSource(options.credentials, tokenHttp, settings.authorityHost);
  const base = new URL(settings.graphBaseUrl);
  const customHosts =
    settings.graphBaseUrl === DEFAULT_GRAPH_BASE_URL ? undefined : new Set([base.hostname.toLowerCase()]);
  const auth = new AuthenticationHandler({ getAccessToken: () => tokens.token() });
  auth.setNext(
    new TimedFetchHandler(settings.fetch ?? globalThis.fetch, settings.timeoutMs, options.metrics),
  );
  const client = Client.initWithMiddleware({
    middleware: auth,
    baseUrl: settings.graphBaseUrl,
    defaultVersion: 'v1.0',
    customHosts,
  });

  const call = <T>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    pathOrUrl: string,
    send: (request: GraphRequest) => Promise<T>,
    stream = false,
  ): Promise<T> =>
    http.withRetries(
      async ({ signal }) => {
        // Token errors surface here, typed, rather than wrapped by the Graph client's error handler.
        await tokens.token();
        const transport = new TransportOptions(settings.timeoutMs, signal, stream);
        const request = client.api(pathOrUrl).middlewareOptions([transport]);
        try {
          return await send(request);
        } catch (error) {
          throw transport.failure ?? unexpected(error, method);
        }
      },
      {
        operation: `${method} ${describe(pathOrUrl)}`,
        // A POST/PATCH is retried only when Graph refused it unprocessed (throttled).
        ...(method === 'POST' || method === 'PATCH'
          ? { shouldRetry: (error: unknown) => RateLimitError.isInstance(error) }
          : {}),
      },
    );

  const page = async <T>(pathOrUrl: string, itemSchema: ZodType<T>): Promise<GraphPage<T>> => {
    const body = (await call('GET', pathOrUrl, (request) => request.get())) as Record<string, unknown>;
    const values = Array.isArray(body?.value) ? body.value : [];
    const items: T[] = [];
    for (const value of values) {
      const parsed = itemSchema.safeParse(value);
      if (!parsed.success) throw shapeError(pathOrUrl, parsed.error.issues[0]?.message);
      items.push(parsed.data);
    }
    const link = (key: string) => (typeof body?.[key] === 'string' ? (body[key] as string) : undefined);
    return { items, nextLink: link('@odata.nextLink'), deltaLink: link('@odata.deltaLink') };
  };

  const parse = <T>(pathOrUrl: string, schema: ZodType<T>, value: unknown): T => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw shapeError(pathOrUrl, parsed.error.issues[0]?.message);
    return parsed.data;
  };

  return {
    page,
    async get(pathOrUrl, schema) {
      return parse(pathOrUrl, schema, await call('GET', pathOrUrl, (request) => request.get()));
    },
    async all<T>(pathOrUrl: string, itemSchema: ZodType<T>) {
      const items: T[] = [];
      let next: string | undefined = pathOrUrl;
      while (next) {
        const current: GraphPage<T> = await page(next, itemSchema);
        items.push(...current.items);
        next = current.nextLink;
      }
      return items;
    },
    text: (pathOrUrl) =>
      call('GET', pathOrUrl, (request) => request.responseType(ResponseType.TEXT).get()).then(String),
    download: (pathOrUrl) =>
      call(
        'GET',
        pathOrUrl,
        (request) => request.responseType(ResponseType.RAW).get() as Promise<Response>,
        true,
      ),
    async post(path, body, schema) {
      return parse(path, schema, await call('POST', path, (request) => request.post(body)));
    },
    async patch(path, body, schema) {
      return parse(path, schema, await call('PATCH', path, (request) => request.patch(body)));
    },
    async delete(path) {
      await call('DELETE', path, (request) => request.delete());
    },
  };
}

function describe(pathOrUrl: string): string {
  // Delta and skip tokens are opaque state, not secrets, but long: keep logs short.
  return pathOrUrl.replace(/([?&]\$(?:deltatoken|skiptoken)=)[^&]+/gi, '$1…');
}

function unexpected(error: unknown, method: string): unknown {
  if (TributaryError.isInstance(error)) return error;
  return new ConnectorApiError({
    connector: TEAMS_CONNECTOR_TYPE,
    method,
    isRetryable: false,
    message: `the Graph client failed: ${error instanceof Error ? error.message : String(error)}`,
    cause: error,
  });
}

function shapeError(pathOrUrl: string, issue: string | undefined): ConnectorApiError {
  return new ConnectorApiError({
    connector: TEAMS_CONNECTOR_TYPE,
    isRetryable: false,
    message: `Graph returned an unexpected shape for ${describe(pathOrUrl).split('?')[0]}${issue ? `: ${issue}` : ''}`,
    hint: 'The Graph API may have changed; report it with the connector version',
  });
}
