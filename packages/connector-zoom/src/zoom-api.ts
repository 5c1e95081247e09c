import {
  AuthError,
  ConnectorApiError,
  createHttpClient,
  type HttpClient,
  type Logger,
  paginate,
  type RateLimiter,
  type SyncMetrics,
} from '@tributary/core';
import { z } from 'zod';
import type { ZoomTokenProvider } from './zoom-auth.js';
import { rateLimitKey } from './zoom-rate-limiter.js';
import {
  DEFAULT_API_URL,
  MAX_PAGE_SIZE,
  ZOOM_CONNECTOR_TYPE,
  type ZoomConnectorSettings,
  type ZoomRateCategory,
} from './zoom-settings.js';

// ---- response schemas (the documented shapes; unknown fields are dropped) --------------------

const optionalString = z
  .string()
  .nullish()
  .transform((value) => value ?? undefined);

export const zoomRecordingFileSchema = z.object({
  id: optionalString,
  meeting_id: optionalString,
  recording_start: optionalString,
  recording_end: optionalString,
  /** MP4, M4A, TIMELINE, TRANSCRIPT, CHAT, CC, CSV, SUMMARY... */
  file_type: optionalString,
  file_extension: optionalString,
  file_size: z
    .number()
    .nullish()
    .transform((value) => value ?? undefined),
  play_url: optionalString,
  download_url: optionalString,
  /** `completed` or `processing` (CC and TIMELINE files have none). */
  status: optionalString,
  recording_type: optionalString,
});
export type ZoomRecordingFile = z.infer<typeof zoomRecordingFileSchema>;

export const zoomMeetingSchema = z.object({
  uuid: z.string().min(1),
  id: z.union([z.number(), z.string()]).transform(String),
  account_id: optionalString,
  host_id: optionalString,
  host_email: optionalString,
  topic: optionalString,
  type: z.number().nullish(),
  start_time: optionalString,
  timezone: optionalString,
  duration: z
    .number()
    .nullish()
    .transform((value) => value ?? undefined),
  total_size: z.number().nullish(),
  recording_count: z.number().nullish(),
  share_url: optionalString,
  recording_files: z
    .array(zoomRecordingFileSchema)
    .nullish()
    .transform((value) => value ?? []),
});
export type ZoomMeeting = z.infer<typeof zoomMeetingSchema>;

const recordingsPageSchema = z.object({
  from: optionalString,
  to: optionalString,
  total_records: z.number().nullish(),
  next_page_token: optionalString,
  meetings: z
    .array(zoomMeetingSchema)
    .nullish()
    .transform((value) => value ?? []),
});
export type ZoomRecordingsPage = z.infer<typeof recordingsPageSchema>;

export const zoomUserSchema = z.object({
  id: z.string().min(1),
  email: optionalString,
  first_name: optionalString,
  last_name: optionalString,
  display_name: optionalString,
  status: optionalString,
});
export type ZoomUser = z.infer<typeof zoomUserSchema>;

const usersPageSchema = z.object({
  next_page_token: optionalString,
  total_records: z.number().nullish(),
  users: z
    .array(zoomUserSchema)
    .nullish()
    .transform((value) => value ?? []),
});

export const zoomParticipantSchema = z.object({
  /** The participant's Zoom user id (empty for guests). */
  id: optionalString,
  /** Per-meeting participant number (report API); not a user id. */
  user_id: optionalString,
  name: optionalString,
  user_email: optionalString,
});
export type ZoomParticipant = z.infer<typeof zoomParticipantSchema>;

const participantsPageSchema = z.object({
  next_page_token: optionalString,
  participants: z
    .array(zoomParticipantSchema)
    .nullish()
    .transform((value) => value ?? []),
});

// ---- the API --------------------------------------------------------------------------------

/**
 * Meeting UUIDs go in paths encoded; one that starts with `/` or holds `//` must be encoded
 * twice, as Zoom's docs require (once would be read as a path separator).
 */
export function encodeMeetingUuid(uuid: string): string {
  const once = encodeURIComponent(uuid);
  return uuid.startsWith('/') || uuid.includes('//') ? encodeURIComponent(once) : once;
}

export interface ZoomApiOptions {
  settings: ZoomConnectorSettings;
  tokens: ZoomTokenProvider;
  limiter: RateLimiter;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
  metrics?: SyncMetrics | undefined;
}

export interface DownloadOptions {
  /** A webhook's `download_token`: sent as `access_token`, no OAuth token needed. */
  downloadToken?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface ZoomApi {
  /** The token's own user (`GET /users/me`): the cheap call of `check`. */
  me(): Promise<ZoomUser>;
  /** Every active user of the account, page by page. */
  users(): AsyncIterable<ZoomUser>;
  /** One page of a user's cloud recordings with start dates in [from, to] (at most one month). */
  listRecordings(userId: string, from: string, to: string, pageToken?: string): Promise<ZoomRecordingsPage>;
  /** One meeting's recordings; `null` when Zoom has none (deleted, trashed, never recorded). */
  getMeetingRecordings(uuid: string): Promise<ZoomMeeting | null>;
  /** A past meeting's participants; empty when Zoom keeps none (or the scope is missing). */
  participants(uuid: string): Promise<ZoomParticipant[]>;
  /** Starts a recording file download; the body is a stream, never read here. */
  download(url: string, options?: DownloadOptions): Promise<Response>;
}

/**
 * Zoom's REST API over core's HTTP kit: every call takes a token from its rate category's bucket
 * (`zoom:<account>:<category>`), is retried on 429/5xx with backoff (Zoom's 429s often carry no
 * Retry-After), and a 401 forces one token refresh and one more attempt.
 */
export function createZoomApi(options: ZoomApiOptions): ZoomApi {
  const { settings, tokens } = options;
  const base = (settings.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
  const pageSize = settings.pageSize ?? MAX_PAGE_SIZE;
  const clients = new Map<ZoomRateCategory, HttpClient>();
  const http = (category: ZoomRateCategory): HttpClient => {
    let client = clients.get(category);
    if (!client) {
      client = createHttpClient({
        provider: ZOOM_CONNECTOR_TYPE,
        fetch: settings.fetch,
        retry: settings.retry,
        timeoutMs: settings.timeoutMs,
        rateLimit: options.limiter,
        rateLimitKey: rateLimitKey(tokens.accountKey, category),
        signal: options.signal,
        logger: options.logger ?? settings.logger,
        metrics: options.metrics,
      });
      clients.set(category, client);
    }
    return client;
  };

  /** Runs `call` with a bearer token; on a 401, one forced refresh and one more try. */
  const authorized = async <T>(call: (authorization: string) => Promise<T>): Promise<T> => {
    const first = await tokens.token(options.signal);
    try {
      return await call(`Bearer ${first.accessToken}`);
    } catch (error) {
      if (!(AuthError.isInstance(error) && error.status === 401)) throw error;
      options.logger?.debug('zoom rejected the access token; refreshing it once', {});
      await tokens.refreshAfterRejection(first.generation, options.signal);
      const second = await tokens.token(options.signal);
      return call(`Bearer ${second.accessToken}`);
    }
  };

  const get = <T>(
    category: ZoomRateCategory,
    path: string,
    schema: z.ZodType<T>,
    acceptStatuses?: number[],
  ) =>
    authorized((authorization) =>
      http(category).json(`${base}${path}`, { headers: { authorization }, schema, acceptStatuses }),
    );

  const query = (params: Record<string, string | number | undefined>) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params))
      if (value !== undefined) search.set(key, String(value));
    return search.toString();
  };

  return {
    me: () => get('light', '/users/me', zoomUserSchema),

    users: () =>
      paginate({
        provider: ZOOM_CONNECTOR_TYPE,
        signal: options.signal,
        fetchPage: (pageToken: string | undefined) =>
          get(
            'medium',
            `/users?${query({ status: 'active', page_size: pageSize, next_page_token: pageToken })}`,
            usersPageSchema,
          ),
        getItems: (page) => page.users,
        getNextCursor: (page) => page.next_page_token,
      }),

    listRecordings: (userId, from, to, pageToken) =>
      get(
        'medium',
        `/users/${encodeURIComponent(userId)}/recordings?${query({ from, to, page_size: pageSize, next_page_token: pageToken })}`,
        recordingsPageSchema,
      ),

    async getMeetingRecordings(uuid) {
      try {
        return await get('light', `/meetings/${encodeMeetingUuid(uuid)}/recordings`, zoomMeetingSchema);
      } catch (error) {
        if (ConnectorApiError.isInstance(error) && error.status === 404) return null;
        throw error;
      }
    },

    async participants(uuid) {
      const all: ZoomParticipant[] = [];
      try {
        const pages = paginate({
          provider: ZOOM_CONNECTOR_TYPE,
          signal: options.signal,
          fetchPage: (pageToken: string | undefined) =>
            get(
              'medium',
              `/past_meetings/${encodeMeetingUuid(uuid)}/participants?${query({ page_size: MAX_PAGE_SIZE, next_page_token: pageToken })}`,
              participantsPageSchema,
            ),
          getItems: (page) => page.participants,
          getNextCursor: (page) => page.next_page_token,
        });
        for await (const participant of pages) all.push(participant);
      } catch (error) {
        // 404: Zoom keeps no participants for this instance; 400/403: the app lacks the scope.
        if (ConnectorApiError.isInstance(error) && [400, 403, 404].includes(error.status ?? 0)) {
          options.logger?.debug('meeting participants not available', { status: error.status });
          return [];
        }
        if (AuthError.isInstance(error) && error.status === 403) return [];
        throw error;
      }
      return all;
    },

    async download(url, downloadOptions = {}) {
      const client = http('download');
      if (downloadOptions.downloadToken) {
        const withToken = new URL(url);
        withToken.searchParams.set('access_token', downloadOptions.downloadToken);
        try {
          return await client.request(withToken, { signal: downloadOptions.signal });
        } catch (error) {
          // An expired download token (24 h): fall back to the OAuth token.
          if (!(AuthError.isInstance(error) || (ConnectorApiError.isInstance(error) && error.status === 403)))
            throw error;
        }
      }
      return authorized((authorization) =>
        client.request(url, { headers: { authorization }, signal: downloadOptions.signal }),
      );
    },
  };
}
