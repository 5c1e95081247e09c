import type { ConnectorV1, RateLimitSettings } from '@tributary/core';
import { z } from 'zod';
import type { TeamsTranscriber } from './teams-transcriber.js';

/** Connector type stored with every document. */
export const TEAMS_CONNECTOR_TYPE = 'teams';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.microsoft.com';
/** App-only access to everything the app's Graph application permissions grant. */
export const GRAPH_DEFAULT_SCOPE = 'https://graph.microsoft.com/.default';

/** chatMessage delta accepts `$top` up to 50. */
export const MAX_PAGE_SIZE = 50;

/**
 * Default request budget per connector. Graph throttles Teams APIs per app and tenant (of the order
 * of tens of requests per second for channel messages); one connector keeps well under that and
 * 429s are retried with their Retry-After anyway.
 */
export const DEFAULT_RATE_LIMIT: RateLimitSettings = Object.freeze({ requestsPerSecond: 20, burst: 40 });

/** Factory settings: where to call, how much, what to inject. None of it is a secret. */
export interface TeamsConnectorSettings {
  /** Microsoft identity platform host. Default `https://login.microsoftonline.com`. */
  authorityHost?: string | undefined;
  /** Graph root, without the version. Default `https://graph.microsoft.com`. Must be https. */
  graphBaseUrl?: string | undefined;
  /** Replaces the fetch used for Graph and for the token endpoint (proxies, tests with a test CA). */
  fetch?: typeof fetch | undefined;
  /** Limit for one attempt (headers for downloads, the whole response otherwise). Default 30 s. */
  timeoutMs?: number | undefined;
  /** Request budget of one connector. Default 20 requests/s, burst 40. Hosts can pass a shared `RateLimiter` to `runSync`. */
  rateLimit?: RateLimitSettings | undefined;
  /** Messages per delta page, 1-50. Default 50. */
  pageSize?: number | undefined;
  /** Threads whose replies are fetched at once. Default 8. */
  concurrency?: number | undefined;
  /** Turns meeting recordings without a transcript into text. Without it, recordings are not synced. */
  transcriber?: TeamsTranscriber | undefined;
}

// Graph ids: GUIDs for users and teams, `19:...@thread.tacv2` for channels.
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const guid = (what: string) => z.string().trim().regex(GUID, `must be a ${what} id (a GUID)`);

const teamsConfigObject = z
  .object({
    /** Teams whose channels are synced (their group ids). Default: every team the app can read. */
    teamIds: z
      .array(guid('team'))
      .min(1, 'must list at least one team id (leave it out for all teams)')
      .optional(),
    /** Sync channel messages. Default true. */
    channels: z.boolean().optional(),
    /** Only messages changed after this instant (ISO 8601 with offset). Graph's delta covers 8 months at most. */
    messagesSince: z.iso.datetime({ offset: true }).optional(),
    /**
     * Hours during which a thread's replies are re-read on incremental syncs after its last activity.
     * The messages delta reports root messages only; replies arrive through change notifications or
     * this window. Default 24; 0 turns it off.
     */
    replyRecheckHours: z
      .number()
      .min(0)
      .max(24 * 30)
      .optional(),
    /** Users whose meetings' transcripts (and recordings) are synced (their user ids). */
    meetingOrganizerIds: z.array(guid('user')).min(1, 'must list at least one organiser id').optional(),
    /**
     * Single meetings to sync, each by its organiser and its meeting id or join URL: their
     * transcripts, recordings' metadata and (with a transcriber) recordings, listed per meeting on
     * every sync (no delta query: three calls a meeting). For meetings whose organiser is not
     * synced whole through `meetingOrganizerIds`.
     */
    meetings: z
      .array(
        z
          .object({
            organizerId: guid('user'),
            meetingId: z.string().trim().min(1, 'must not be empty').optional(),
            joinWebUrl: z
              .url({ protocol: /^https$/, message: 'must be the https join URL of the meeting' })
              .optional(),
          })
          .refine((meeting) => (meeting.meetingId === undefined) !== (meeting.joinWebUrl === undefined), {
            message: 'give either meetingId or joinWebUrl (exactly one)',
          }),
      )
      .min(1, 'must list at least one meeting (leave it out for none)')
      .max(500, 'lists at most 500 meetings: sync their organisers through meetingOrganizerIds instead')
      .optional(),
    /** Only transcripts created after this instant (ISO 8601 with offset). */
    meetingsSince: z.iso.datetime({ offset: true }).optional(),
    /** Transcribe recordings of meetings without a transcript (needs a `transcriber`). Default true. */
    recordings: z.boolean().optional(),
    /** Capture channel membership and meeting participants into `permissions`. Default true. */
    includePermissions: z.boolean().optional(),
    /**
     * How a standard channel's threads record who may read them. `members` (default): the
     * channel's members, listed per channel. `team`: the team's Microsoft 365 group
     * (`{ type: 'group', id: <team id> }`), so group membership synced with
     * `listTeamsGroupMemberships` + core's `syncGroupMemberships` decides who reads them (one
     * membership list per team, kept current without re-storing threads). Private and shared
     * channels have their own membership and always list it.
     */
    channelPermissions: z.enum(['members', 'team'], { message: "must be 'members' or 'team'" }).optional(),
  })
  .superRefine((config, context) => {
    if (
      config.channels === false &&
      (config.meetingOrganizerIds?.length ?? 0) === 0 &&
      (config.meetings?.length ?? 0) === 0
    ) {
      context.addIssue({
        code: 'custom',
        path: ['meetingOrganizerIds'],
        message:
          'with channels: false, list the meeting organisers (meetingOrganizerIds) or the meetings (meetings) to sync',
      });
    }
  })
  .prefault({});

/** What to sync. Validated when an instance is created. */
export type TeamsConfig = z.infer<typeof teamsConfigObject>;

export const teamsConfigSchema: ConnectorV1<TeamsConfig>['configSchema'] = teamsConfigObject;

const tenant = z
  .string()
  .trim()
  .regex(/^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9.-]+\.[a-z]{2,})$/i, {
    message: 'must be the directory (tenant) id GUID or a verified domain such as contoso.onmicrosoft.com',
  });

const clientCredentials = z.object({
  type: z.literal('client_credentials'),
  tenantId: tenant,
  /** Application (client) id of the app registration. */
  clientId: guid('application (client)'),
  clientSecret: z.string().min(1, 'is required'),
});

const delegatedCredentials = z.object({
  type: z.literal('delegated'),
  tenantId: tenant,
  clientId: guid('application (client)'),
  clientSecret: z.string().min(1, 'is required'),
  /** From `createTeamsOAuth().exchangeCode()` after the user consented. */
  refreshToken: z.string().min(1, 'is required'),
});

const teamsCredentialsObject = z.discriminatedUnion('type', [clientCredentials, delegatedCredentials]);

/** App-only client credentials, or a signed-in user's refresh token (delegated). */
export type TeamsCredentials = z.infer<typeof teamsCredentialsObject>;

export const teamsCredentialsSchema: ConnectorV1<TeamsConfig, TeamsCredentials>['credentialsSchema'] =
  teamsCredentialsObject;

/** Settings checked once, at creation. */
export function resolveSettings(settings: TeamsConnectorSettings) {
  const pageSize = settings.pageSize ?? MAX_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new RangeError(
      `[tributary] [teams] pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${pageSize}`,
    );
  }
  const graphBaseUrl = new URL(settings.graphBaseUrl ?? DEFAULT_GRAPH_BASE_URL);
  const authorityHost = new URL(settings.authorityHost ?? DEFAULT_AUTHORITY_HOST);
  for (const [name, url] of [
    ['graphBaseUrl', graphBaseUrl],
    ['authorityHost', authorityHost],
  ] as const) {
    if (url.protocol !== 'https:') {
      // The Graph client attaches tokens to https URLs only, and MSAL refuses http authorities.
      throw new RangeError(`[tributary] [teams] ${name} must be an https URL, got ${url.protocol}`);
    }
  }
  return {
    pageSize,
    graphBaseUrl: graphBaseUrl.origin,
    authorityHost: authorityHost.origin,
    timeoutMs: settings.timeoutMs ?? 30_000,
    concurrency: Math.max(1, settings.concurrency ?? 8),
    fetch: settings.fetch,
    transcriber: settings.transcriber,
  };
}

export type ResolvedTeamsSettings = ReturnType<typeof resolveSettings>;
