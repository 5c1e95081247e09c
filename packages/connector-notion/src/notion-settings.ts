import type { ConnectorV1, RateLimiter, RetryPolicy } from '@tributary/core';
import { z } from 'zod';

/** Connector type stored with every document. */
export const NOTION_CONNECTOR_TYPE = 'notion';

/**
 * The one Notion API version this connector speaks (sent as `Notion-Version` on every call). It is
 * the version where databases hold data sources (`/v1/data_sources/{id}/query`), and the default
 * of @notionhq/client 5. Pinned so a new SDK default never changes the wire format under us.
 */
export const NOTION_VERSION = '2025-09-03';

export const DEFAULT_BASE_URL = 'https://api.notion.com';

/** Notion: "an average of three requests per second per integration; some bursts are allowed". */
export const DEFAULT_REQUESTS_PER_SECOND = 3;
/** A small burst: enough to overlap a few calls, far from what would trip Notion's limiter. */
export const DEFAULT_BURST = 3;

/** Per-attempt limit for one Notion call. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Block children and search pages: Notion's maximum `page_size`. */
export const MAX_PAGE_SIZE = 100;

/** Nesting below a page that is fetched and rendered (deeper blocks are noted, not fetched). */
export const DEFAULT_MAX_DEPTH = 12;

/** Hours between two delete sweeps of incremental syncs (a listing of every page id). */
export const DEFAULT_DELETE_SWEEP_HOURS = 24;

/** The public integration's OAuth client, needed to refresh access tokens. Secret: never log it. */
export interface NotionOAuthClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** Factory settings: where to call, how fast, what to inject. None of it is a secret. */
export interface NotionConnectorSettings {
  /** API origin. Default `https://api.notion.com`. Point it at a fake server in tests. */
  baseUrl?: string | undefined;
  /** The fetch the Notion client uses (proxies, tests). Default: the global fetch. */
  fetch?: typeof fetch | undefined;
  /**
   * The request budget gate, acquired before every attempt with key `notion:<workspace>`. Pass one
   * shared across processes (a budget in Postgres) to keep several workers under Notion's limit
   * together. Default: an in-process token bucket of `requestsPerSecond`/`burst` per workspace,
   * shared by every connector object of the process with the same budget.
   */
  rateLimiter?: RateLimiter | undefined;
  /** Budget of the default in-process limiter. Default 3. */
  requestsPerSecond?: number | undefined;
  /** Burst of the default in-process limiter. Default 3. */
  burst?: number | undefined;
  /** Per-attempt timeout of every Notion call, in milliseconds. Default 30 000. */
  timeoutMs?: number | undefined;
  /** Retry policy of the one retry owner (core's `withRetries`). Default core's policy. */
  retry?: Partial<RetryPolicy> | undefined;
  /** Search and block-children page size, 1-100. Default 100. */
  pageSize?: number | undefined;
  /** Levels of nesting fetched below a page's own blocks (deeper content is noted, not fetched). Default 12. */
  maxDepth?: number | undefined;
  /**
   * The public integration's OAuth client (id and secret). With it, OAuth credentials that carry a
   * `refreshToken` are refreshed when Notion answers 401 or `expiresAt` has passed
   * (`POST /v1/oauth/token`, `grant_type: refresh_token`). Without it a 401 ends the run (reconnect).
   */
  oauthClient?: NotionOAuthClientCredentials | undefined;
  /**
   * Called after a refresh with the new credentials (Notion rotates the refresh token: the old one
   * stops working). Store them with the connector's secrets, e.g. with
   * `storeRefreshedNotionCredentials({ manager, connector, connectorId })`, or the next process
   * starts with a refresh token Notion no longer accepts. Awaited before the run goes on.
   */
  onCredentialsRefreshed?: ((credentials: NotionOAuthCredentialsOf) => void | Promise<void>) | undefined;
  /** Clock for token expiry and the delete sweep interval (tests). Default `Date.now`. */
  now?: (() => number) | undefined;
}

/** The OAuth variant of the credentials (what a refresh produces). */
export type NotionOAuthCredentialsOf = Extract<NotionCredentials, { type: 'oauth' }>;

const notionId = z
  .string()
  .trim()
  .transform((value) => value.replace(/-/g, '').toLowerCase())
  .refine((value) => /^[0-9a-f]{32}$/.test(value), 'must be a Notion id (32 hex digits, dashes optional)')
  .transform(toDashedId);

/** `0123...` (32 hex) → `01234567-89ab-cdef-0123-456789abcdef`, the form the API returns. */
export function toDashedId(hex: string): string {
  const plain = hex.replace(/-/g, '').toLowerCase();
  return `${plain.slice(0, 8)}-${plain.slice(8, 12)}-${plain.slice(12, 16)}-${plain.slice(16, 20)}-${plain.slice(20)}`;
}

const pattern = z.string().trim().min(1, 'must not be empty');

const notionConfigObject = z
  .object({
    /**
     * Pages synced with everything below them. With neither this nor `dataSourceIds`, everything
     * shared with the integration is synced.
     */
    rootPageIds: z
      .array(notionId)
      .min(1, 'must list at least one page id (leave it out to sync all)')
      .optional(),
    /** Data sources whose rows are synced (and any root page's data sources, found below it). */
    dataSourceIds: z
      .array(notionId)
      .min(1, 'must list at least one data source id (leave it out to sync all)')
      .optional(),
    /** Only pages whose path (`Parent / Child / Page`) matches one of these globs (`*` any text). */
    includePaths: z
      .array(pattern)
      .min(1, 'must list at least one pattern (leave it out to include all)')
      .optional(),
    /** Never pages whose path matches one of these globs. */
    excludePaths: z.array(pattern).optional(),
    /** Render a data source row's properties as a header above its body (default true). */
    propertiesHeader: z.boolean().optional(),
    /**
     * Incremental syncs also list every page id (a search page per 100 pages) to find pages that
     * were trashed or unshared, confirming each with one call before deleting it. Default true;
     * `false` stops the listing at the cursor (fewest calls; deletions then come from webhooks
     * and full syncs).
     */
    detectDeletes: z.boolean().optional(),
    /**
     * With `detectDeletes`, an incremental sync lists every page id (one search call per 100
     * pages) at most once per this many hours, to find pages whose access was removed (nothing
     * else reveals that) and pages newly shared with an old edit time. 0: on every incremental
     * run. Default 24. Trashed pages are found on every run without it (a search of the trash).
     */
    deleteSweepHours: z
      .number()
      .min(0, 'must be 0 or more')
      .max(24 * 365, 'must be at most a year')
      .optional(),
    /**
     * Principals you assert can read every synced page (Notion's API cannot tell who can), added to
     * each document's `permissions`: e.g. `[{ type: 'domain', domain: 'example.com', role: 'reader' }]`
     * when the whole workspace is open to your organisation. Leave it out unless you know it.
     */
    readers: z
      .array(
        z.object({
          type: z.enum(['user', 'group', 'domain', 'anyone']),
          id: z.string().min(1).optional(),
          email: z.string().min(3).optional(),
          domain: z.string().min(1).optional(),
          displayName: z.string().optional(),
          role: z.enum(['owner', 'editor', 'commenter', 'reader']).default('reader'),
        }),
      )
      .optional(),
  })
  .prefault({});

/** What to sync. Validated when an instance is created. */
export type NotionConfig = z.infer<typeof notionConfigObject>;

export const notionConfigSchema: ConnectorV1<NotionConfig>['configSchema'] = notionConfigObject;

const tokenPattern = /^(secret_|ntn_)[A-Za-z0-9]{20,}$/;

const internalCredentials = z.object({
  type: z.literal('internal'),
  /** The internal integration secret (`ntn_...` or the older `secret_...`). */
  token: z.string().trim().regex(tokenPattern, 'must be a Notion integration secret (ntn_... or secret_...)'),
});

const oauthCredentials = z.object({
  type: z.literal('oauth'),
  /** The access token from the OAuth code exchange. */
  accessToken: z.string().trim().min(1, 'is required'),
  /** Returned with public integrations' tokens; used (with `oauthClient`) to refresh the access token. */
  refreshToken: z.string().min(1).optional(),
  /** When the access token expires (ISO 8601), if Notion said (`expires_in`); refreshed before then. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  workspaceId: z.string().min(1, 'is required'),
  workspaceName: z.string().optional(),
  botId: z.string().min(1, 'is required'),
  /** Who installed it: a user (id, name, e-mail) or the workspace. */
  owner: z
    .object({
      type: z.enum(['user', 'workspace']),
      userId: z.string().optional(),
      name: z.string().optional(),
      email: z.string().optional(),
    })
    .optional(),
});

const notionCredentialsObject = z.discriminatedUnion('type', [internalCredentials, oauthCredentials]);

/** An internal integration token, or the result of the OAuth flow of a public integration. */
export type NotionCredentials = z.infer<typeof notionCredentialsObject>;

export const notionCredentialsSchema: ConnectorV1<NotionConfig, NotionCredentials>['credentialsSchema'] =
  notionCredentialsObject;

export function accessTokenOf(credentials: NotionCredentials): string {
  return credentials.type === 'internal' ? credentials.token : credentials.accessToken;
}
