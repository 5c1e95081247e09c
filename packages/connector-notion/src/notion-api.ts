import { createHash } from 'node:crypto';
import { Client } from '@notionhq/client';
import {
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
  accessTokenOf,
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
  search(
    object: SearchObject,
    startCursor: string | undefined,
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

  // The SDK's timeout only rejects its promise and leaves the request running; this fetch aborts
  // the socket at the limit (headers and body) and when the run is cancelled.
  const timedFetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    return baseFetch(input, { ...init, signal: combined });
  }) as typeof fetch;

  const client = new Client({
    auth: accessTokenOf(credentials),
    baseUrl: (settings.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, ''),
    notionVersion: NOTION_VERSION,
    // One retry owner: withRetries below (it honours Retry-After, counts attempts, stops on abort).
    retry: false,
    // A backstop only: timedFetch aborts first.
    timeoutMs: timeoutMs + 1000,
    fetch: timedFetch,
    logger: () => {},
  });

  const call = <T>(operation: string, fn: () => Promise<unknown>, schema?: ZodType): Promise<T> =>
    withRetries(
      async () => {
        await limiter.acquire(key, signal);
        metrics?.apiCalls.count();
        let response: unknown;
        try {
          response = await fn();
        } catch (error) {
          throw mapNotionError(error, { operation, timeoutMs });
        }
        return (schema ? checkShape(schema, response, operation) : response) as T;
      },
      { ...settings.retry, provider: NOTION_CONNECTOR_TYPE, operation, signal, logger },
    );

  return {
    pageSize,
    me: () => call('users.me', () => client.users.me({})),
    search: (object, startCursor) =>
      call(
        'search',
        () =>
          client.search({
            filter: { property: 'object', value: object },
            sort: { direction: 'descending', timestamp: 'last_edited_time' },
            page_size: pageSize,
            ...(startCursor ? { start_cursor: startCursor } : {}),
          }),
        searchList,
      ),
    retrievePage: (pageId) =>
      call('pages.retrieve', () => client.pages.retrieve({ page_id: pageId }), pageSchema),
    listChildren: (blockId, startCursor) =>
      call(
        'blocks.children.list',
        () =>
          client.blocks.children.list({
            block_id: blockId,
            page_size: pageSize,
            ...(startCursor ? { start_cursor: startCursor } : {}),
          }),
        blockList,
      ),
    retrieveBlock: (blockId) =>
      call('blocks.retrieve', () => client.blocks.retrieve({ block_id: blockId }), blockSchema),
    retrieveDataSource: (dataSourceId) =>
      call(
        'dataSources.retrieve',
        () => client.dataSources.retrieve({ data_source_id: dataSourceId }),
        dataSourceSchema,
      ),
    queryDataSource: (dataSourceId, startCursor) =>
      call(
        'dataSources.query',
        () =>
          client.dataSources.query({
            data_source_id: dataSourceId,
            page_size: pageSize,
            ...(startCursor ? { start_cursor: startCursor } : {}),
          }),
        rowList,
      ),
  };
}
