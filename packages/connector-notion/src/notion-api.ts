import { createHash } from 'node:crypto';
import { Client } from '@notionhq/client';
import {
  AuthError,
  createRateLimiter,
  type Logger,
  type RateLimiter,
  type SyncMetrics,
  silentLogger,
  withRetries,
} from '@tributary/core';
import type { ZodType } from 'zod';
import {
  blockSchema,
  checkShape,
  dataSourceSchema,
  listSchema,
  pageSchema,
  searchResultSchema,
} from './notion-api-schemas.js';
import type {
  NotionBlock,
  NotionBotUser,
  NotionDataSource,
  NotionList,
  NotionPage,
} from './notion-api-types.js';
import { mapNotionError } from './notion-errors.js';
import {
  DEFAULT_BASE_URL,
  DEFAULT_BURST,
  DEFAULT_REQUESTS_PER_SECOND,
  DEFAULT_TIMEOUT_MS,
  MAX_PAGE_SIZE,
  NOTION_CONNECTOR_TYPE,
  NOTION_VERSION,
  type NotionConnectorSettings,
  type NotionCredentials,
} from './notion-settings.js';
import { createTokenSource } from './notion-token.js';

const searchList = listSchema(searchResultSchema);
const blockList = listSchema(blockSchema);
const rowList = listSchema(pageSchema);

export type SearchObject = 'page' | 'data_source';

/**
 * The Notion calls the connector makes. Each goes through core's `withRetries` (the one retry
 * owner: the SDK's own retries are off), waits for a token of the request budget before every
 * attempt, counts one API call per attempt, and runs under a per-attempt timeout that aborts the
 * socket (a hanging Notion call cannot hang the sync).
 */
export interface NotionApi {
  readonly pageSize: number;
  me(): Promise<NotionBotUser>;
  /**
   * Search sorted by `last_edited_time`, newest first. `inTrash`: only trashed objects (Notion's
   * `filter.in_trash`; without it, search returns live objects only).
   */
  search(
    object: SearchObject,
    startCursor: string | undefined,
    options?: { inTrash?: boolean },
  ): Promise<NotionList<NotionPage | NotionDataSource>>;
  retrievePage(pageId: string): Promise<NotionPage>;
  listChildren(blockId: string, startCursor: string | undefined): Promise<NotionList<NotionBlock>>;
  retrieveBlock(blockId: string): Promise<NotionBlock>;
  retrieveDataSource(dataSourceId: string): Promise<NotionDataSource>;
  queryDataSource(dataSourceId: string, startCursor: string | undefined): Promise<NotionList<NotionPage>>;
}

export interface CreateNotionApiOptions {
  credentials: NotionCredentials;
  settings: NotionConnectorSettings;
  /** The run's signal: cancels waits and in-flight requests. */
  signal?: AbortSignal | undefined;
  metrics?: SyncMetrics | undefined;
  logger?: Logger | undefined;
}

// One in-process limiter per budget (rate and burst), shared by every connector object of the
// process: Notion's limit is per integration and workspace, whichever connector object calls, and
// the limiter keeps one bucket per key (workspace).
const defaultLimiters = new Map<string, RateLimiter>();

export function rateLimiterOf(settings: NotionConnectorSettings): RateLimiter {
  if (settings.rateLimiter) return settings.rateLimiter;
  const requestsPerSecond = settings.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND;
  const burst = settings.burst ?? DEFAULT_BURST;
  const budget = `${requestsPerSecond}/${burst}`;
  let limiter = defaultLimiters.get(budget);
  if (!limiter) {
    limiter = createRateLimiter({ requestsPerSecond, burst });
    defaultLimiters.set(budget, limiter);
  }
  return limiter;
}

/**
 * The budget key: Notion limits per integration and workspace. The workspace id when the OAuth
 * flow gave one; else a hash of the token (never the token itself, which would reach logs and a
 * shared limiter's table).
 */
export function rateLimitKeyOf(credentials: NotionCredentials): string {
  if (credentials.type === 'oauth') return `${NOTION_CONNECTOR_TYPE}:${credentials.workspaceId}`;
  const digest = createHash('sha256').update(credentials.token).digest('hex').slice(0, 16);
  return `${NOTION_CONNECTOR_TYPE}:token-${digest}`;
}

export function createNotionApi(options: CreateNotionApiOptions): NotionApi {
  const { credentials, settings, signal, metrics } = options;
  const logger = options.logger ?? silentLogger;
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(settings.pageSize ?? MAX_PAGE_SIZE)));
  const limiter = rateLimiterOf(settings);
  const key = rateLimitKeyOf(credentials);
  const baseFetch = settings.fetch ?? globalThis.fetch;
  const tokens = createTokenSource(credentials, settings, { signal, logger });

  // The SDK's timeout only rejects its promise and leaves the request running; this fetch aborts
  // the socket at the limit (headers and body) and when the run is cancelled.
  const timedFetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    return baseFetch(input, { ...init, signal: combined });
  }) as typeof fetch;

  // No client-wide auth: each call sends the token of the moment (OAuth tokens are refreshed).
  const client = new Client({
    baseUrl: (settings.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, ''),
    notionVersion: NOTION_VERSION,
    // One retry owner: withRetries below (it honours Retry-After, counts attempts, stops on abort).
    retry: false,
    // A backstop only: timedFetch aborts first.
    timeoutMs: timeoutMs + 1000,
    fetch: timedFetch,
    logger: () => {},
  });

  const call = <T>(operation: string, fn: (auth: string) => Promise<unknown>, schema?: ZodType): Promise<T> =>
    withRetries(
      async () => {
        const send = async (auth: string) => {
          await limiter.acquire(key, signal);
          metrics?.apiCalls.count();
          try {
            return await fn(auth);
          } catch (error) {
            throw mapNotionError(error, { operation, timeoutMs });
          }
        };
        const auth = await tokens.current();
        let response: unknown;
        try {
          response = await send(auth);
        } catch (error) {
          // An expired or revoked OAuth access token: refresh it once, then send the call again.
          if (!(AuthError.isInstance(error) && error.status === 401)) throw error;
          if (!(await tokens.refreshAfterRejection(auth))) throw error;
          response = await send(await tokens.current());
        }
        return (schema ? checkShape(schema, response, operation) : response) as T;
      },
      { ...settings.retry, provider: NOTION_CONNECTOR_TYPE, operation, signal, logger },
    );

  return {
    pageSize,
    // The SDK types this parameter Record<string, never> & { auth? }, which admits no auth at all.
    me: () => call('users.me', (auth) => client.users.me({ auth } as never)),
    search: (object, startCursor, options = {}) =>
      call(
        'search',
        (auth) =>
          client.search({
            auth,
            filter: { property: 'object', value: object, ...(options.inTrash ? { in_trash: true } : {}) },
            sort: { direction: 'descending', timestamp: 'last_edited_time' },
            page_size: pageSize,
            ...(startCursor ? { start_cursor: startCursor } : {}),
          }),
        searchList,
      ),
    retrievePage: (pageId) =>
      call('pages.retrieve', (auth) => client.pages.retrieve({ auth, page_id: pageId }), pageSchema),
    listChildren: (blockId, startCursor) =>
      call(
        'blocks.children.list',
        (auth) =>
          client.blocks.children.list({
            auth,
            block_id: blockId,
            page_size: pageSize,
            ...(startCursor ? { start_cursor: startCursor } : {}),
          }),
        blockList,
      ),
    retrieveBlock: (blockId) =>
      call('blocks.retrieve', (auth) => client.blocks.retrieve({ auth, block_id: blockId }), blockSchema),
    retrieveDataSource: (dataSourceId) =>
      call(
        'dataSources.retrieve',
        (auth) => client.dataSources.retrieve({ auth, data_source_id: dataSourceId }),
        dataSourceSchema,
      ),
    queryDataSource: (dataSourceId, startCursor) =>
      call(
        'dataSources.query',
        (auth) =>
          client.dataSources.query({
            auth,
            data_source_id: dataSourceId,
            page_size: pageSize,
            ...(startCursor ? { start_cursor: startCursor } : {}),
          }),
        rowList,
      ),
  };
}
