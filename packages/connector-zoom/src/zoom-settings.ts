import type { ConnectorV1, Logger, RateLimiter } from '@tributary/core';
import { z } from 'zod';
import type { ZoomTranscriber } from './zoom-transcriber.js';

/** Connector type stored with every document. */
export const ZOOM_CONNECTOR_TYPE = 'zoom';

export const DEFAULT_API_URL = 'https://api.zoom.us/v2';
export const DEFAULT_OAUTH_URL = 'https://zoom.us';

/** List recordings accepts at most 300 meetings per page. */
export const MAX_PAGE_SIZE = 300;
/**
 * Zoom refuses a `from`/`to` range longer than one month; windows are 28 days, inclusive, which
 * is within one month from any start day (30 days is not, from late January).
 */
export const WINDOW_DAYS = 28;
/** `next_page_token` expires 15 minutes after it is issued; one older than this is not used. */
export const PAGE_TOKEN_LIFETIME_MS = 14 * 60 * 1000;
/** Incremental syncs list again from this many days before the last synced day. */
export const DEFAULT_OVERLAP_DAYS = 2;
/** How long a meeting without a transcript is re-checked for one. */
export const DEFAULT_AWAIT_TRANSCRIPT_DAYS = 30;
/** Transcript and chat files larger than this are refused (a normal hour-long VTT is ~100 KB). */
export const DEFAULT_MAX_TEXT_FILE_BYTES = 20 * 1024 * 1024;

/** Rate-limit categories of the Zoom API (each API is labelled with one). */
export type ZoomRateCategory = 'light' | 'medium' | 'heavy' | 'download';

/** Per-second limits of each category, per account. */
export type ZoomCategoryLimits = Readonly<Record<ZoomRateCategory, number>>;

/**
 * Zoom's documented per-second limits (Pro; Business and above). Recording file downloads have no
 * published label: they get a budget of their own (the Light rate) so a burst of downloads never
 * starves the listing.
 */
export const ZOOM_PLAN_LIMITS: Readonly<Record<'pro' | 'business', ZoomCategoryLimits>> = Object.freeze({
  pro: Object.freeze({ light: 30, medium: 20, heavy: 10, download: 30 }),
  business: Object.freeze({ light: 80, medium: 60, heavy: 40, download: 80 }),
});

/** Default share of the account's limits one connector takes: other apps use the same account. */
export const DEFAULT_RATE_LIMIT_FRACTION = 0.5;

/** Factory settings: where to call, how much, and what to inject. None of it is a secret. */
export interface ZoomConnectorSettings {
  /** REST API root. Default `https://api.zoom.us/v2`. Point it at a fake server in tests. */
  apiUrl?: string | undefined;
  /** OAuth root (`/oauth/token`, `/oauth/authorize`). Default `https://zoom.us`. */
  oauthUrl?: string | undefined;
  /** Meetings per List recordings page, 1-300. Default 300. */
  pageSize?: number | undefined;
  /** The account's plan, which sets the per-category limits. Default `pro` (the lowest). */
  plan?: 'pro' | 'business' | undefined;
  /** Exact per-second limits per category (overrides `plan`). */
  limits?: Partial<ZoomCategoryLimits> | undefined;
  /** Share of the account's limits this connector may use, in (0, 1]. Default 0.5. */
  rateLimitFraction?: number | undefined;
  /**
   * A limiter shared across processes (a budget in Postgres). Keys are
   * `zoom:<account>:<category>`; each `acquire` is one request. Default: an in-process token
   * bucket per key at `rateLimitFraction` of the category's limit.
   */
  rateLimiter?: RateLimiter | undefined;
  /**
   * Limit for one attempt of a request, in ms (the headers only, for recording downloads). A
   * timed-out attempt is retried like a 5xx. Default 30 s.
   */
  timeoutMs?: number | undefined;
  /** Retry policy for every request (429 without Retry-After backs off exponentially). */
  retry?: { retries?: number; minDelayMs?: number; maxDelayMs?: number } | undefined;
  /** Speech to text for meetings without a Zoom transcript. Without one they wait for Zoom's. */
  transcriber?: ZoomTranscriber | undefined;
  /**
   * Called after a user OAuth refresh rotated the refresh token: store the new credentials (e.g.
   * `manager.setSecrets(connector, id, { credentials })`), or the next process starts with a
   * refresh token Zoom no longer accepts.
   */
  onCredentialsRefreshed?: ((credentials: ZoomUserOAuthCredentials) => void | Promise<void>) | undefined;
  /** Replaces the fetch used for every call (proxies, tests). */
  fetch?: typeof fetch | undefined;
  /** Clock for token expiry, page-token age and webhook timestamps (tests). Default `Date.now`. */
  now?: (() => number) | undefined;
  logger?: Logger | undefined;
}

const isoDate = z.iso.date('must be a date as YYYY-MM-DD');
const userRef = z.string().trim().min(1, 'is required').max(128);

const zoomConfigObject = z
  .object({
    /**
     * Whose recordings: `'all'` (every active user of the account, Server-to-Server OAuth),
     * `'me'` (the token's own user), or a list of user ids or e-mails.
     */
    users: z
      .union([z.literal('all'), z.literal('me'), z.array(userRef).min(1, 'must list at least one user')])
      .default('all'),
    /** Oldest meeting day synced (YYYY-MM-DD). Default: 6 months before the first sync. */
    startDate: isoDate.optional(),
    /** Days listed again before the last synced day in incremental syncs. Default 2. */
    overlapDays: z.number().int().min(0).max(30).default(DEFAULT_OVERLAP_DAYS),
    /** Meeting participants into metadata and `permissions` (one call per new meeting). Default true. */
    includeParticipants: z.boolean().default(true),
    /** The in-meeting chat file as a section of the document. Default true. */
    includeChat: z.boolean().default(true),
    /** Days a meeting without a transcript is re-checked for one. Default 30. */
    awaitTranscriptDays: z.number().int().min(0).max(365).default(DEFAULT_AWAIT_TRANSCRIPT_DAYS),
    /** Transcript/chat files larger than this fail the document. Default 20 MB. */
    maxTextFileBytes: z.number().int().positive().default(DEFAULT_MAX_TEXT_FILE_BYTES),
  })
  // No config at all syncs every user.
  .prefault({});

/** What to sync. Validated when an instance is created. */
export type ZoomConfig = z.infer<typeof zoomConfigObject>;
export const zoomConfigSchema: ConnectorV1<ZoomConfig>['configSchema'] = zoomConfigObject;

const secret = (what: string) => z.string().trim().min(1, `is required (${what})`);

const serverToServerCredentials = z.object({
  type: z.literal('server_to_server'),
  /** The app's Account ID. */
  accountId: secret('the Account ID of the Server-to-Server OAuth app'),
  clientId: secret('the Client ID of the app'),
  clientSecret: secret('the Client Secret of the app'),
});

const userOAuthCredentials = z.object({
  type: z.literal('oauth'),
  clientId: secret('the Client ID of the OAuth app'),
  clientSecret: secret('the Client Secret of the OAuth app'),
  /** From `exchangeZoomAuthorizationCode`; rotated on every refresh (see `onCredentialsRefreshed`). */
  refreshToken: secret('from the authorization code exchange'),
});

const zoomCredentialsObject = z.discriminatedUnion('type', [serverToServerCredentials, userOAuthCredentials]);

export type ZoomServerToServerCredentials = z.infer<typeof serverToServerCredentials>;
export type ZoomUserOAuthCredentials = z.infer<typeof userOAuthCredentials>;
/** Server-to-Server OAuth (account credentials) or a user's OAuth refresh token. */
export type ZoomCredentials = z.infer<typeof zoomCredentialsObject>;

export const zoomCredentialsSchema: ConnectorV1<ZoomConfig, ZoomCredentials>['credentialsSchema'] =
  zoomCredentialsObject;
