import {
  ConnectorApiError,
  createHttpClient,
  InvalidConfigError,
  type Logger,
  type RateLimiter,
  type RateLimitSettings,
  silentLogger,
} from '@tributary/core';
import { z } from 'zod';
import { createGraphApi, type GraphApi } from './graph-api.js';
import { type GraphSubscription, subscriptionSchema } from './graph-types.js';
import { segment } from './teams-ids.js';
import {
  DEFAULT_RATE_LIMIT,
  resolveSettings,
  TEAMS_CONNECTOR_TYPE,
  type TeamsConnectorSettings,
  teamsCredentialsSchema,
} from './teams-settings.js';
import type { TeamsLifecycleNotification } from './teams-webhooks.js';

/** Renew this long before a subscription expires. */
export const DEFAULT_RENEW_MARGIN_MS = 15 * 60_000;
/** Default lifetime asked for: under the hour, so resources that cap at 60 minutes accept it. */
export const DEFAULT_SUBSCRIPTION_MINUTES = 55;

/** Resources the connector's webhooks understand. */
export const teamsResources = {
  /** New, edited and deleted messages and replies of one channel. */
  channelMessages: (teamId: string, channelId: string) => `/teams/${teamId}/channels/${channelId}/messages`,
  /** Transcripts of one organiser's meetings (notifications name the organiser: targeted re-fetch). */
  organizerTranscripts: (userId: string) => `users/${userId}/onlineMeetings/getAllTranscripts`,
  /**
   * Transcripts of one meeting (a meeting of `config.meetings`). Its notifications do not name the
   * organiser, so they trigger an incremental sync, which lists the configured meetings again.
   */
  meetingTranscripts: (meetingId: string) => `communications/onlineMeetings/${meetingId}/transcripts`,
  /** Every transcript in the tenant (notifications then trigger an incremental sync). */
  allTranscripts: () => 'communications/onlineMeetings/getAllTranscripts',
};

const createInput = z.object({
  resource: z.string().min(1, 'is required'),
  changeType: z
    .string()
    .regex(
      /^(created|updated|deleted)(,(created|updated|deleted))*$/,
      'must be created, updated and/or deleted, comma-separated',
    )
    .optional(),
  notificationUrl: z.url({ protocol: /^https$/, message: 'must be an https URL Graph can reach' }),
  lifecycleNotificationUrl: z.url({ protocol: /^https$/, message: 'must be an https URL Graph can reach' }),
  /** The webhook secret: Graph echoes it in every notification, `verify` checks it. */
  clientState: z
    .string()
    .min(16, 'must be at least 16 characters (it is the webhook secret)')
    .max(128, 'must be at most 128 characters (Graph limit)'),
  expiresInMinutes: z.number().int().min(5).max(4230).optional(),
});

export type CreateSubscriptionInput = z.input<typeof createInput>;

export interface TeamsSubscriptionsOptions {
  /** Raw credentials (validated like the connector's). */
  credentials: unknown;
  settings?: TeamsConnectorSettings | undefined;
  /** A request budget shared with syncs (a `RateLimiter`), or settings for an own bucket. */
  rateLimit?: RateLimitSettings | RateLimiter | undefined;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
}

export interface LifecycleOutcome {
  action: 'reauthorized' | 'recreated' | 'none';
  subscription?: GraphSubscription | undefined;
}

export interface TeamsSubscriptions {
  create(input: CreateSubscriptionInput): Promise<GraphSubscription>;
  /** Moves the expiry `expiresInMinutes` (default 55) from now. */
  renew(subscriptionId: string, expiresInMinutes?: number): Promise<GraphSubscription>;
  /** True when the subscription expires within `marginMs` (default 15 minutes) of `now`. */
  needsRenewal(
    subscription: Pick<GraphSubscription, 'expirationDateTime'>,
    options?: { now?: number; marginMs?: number },
  ): boolean;
  reauthorize(subscriptionId: string): Promise<void>;
  /** Deletes a subscription; one Graph no longer knows is not an error. */
  remove(subscriptionId: string): Promise<void>;
  /**
   * Acts on a lifecycle notification: `reauthorizationRequired` reauthorizes the subscription (and
   * recreates it from `recreate` when Graph no longer has it), `subscriptionRemoved` recreates it,
   * `missed` needs nothing here (its event already queued an incremental sync).
   */
  handleLifecycle(
    notification: TeamsLifecycleNotification,
    recreate: CreateSubscriptionInput,
  ): Promise<LifecycleOutcome>;
}

function expiry(minutes: number): string {
  return new Date(Date.now() + minutes * 60_000).toISOString();
}

/**
 * Graph subscription management for hosts: create one per channel (or per organiser) when a
 * connector is activated, renew from a schedule (`needsRenewal`), act on lifecycle notifications,
 * remove when the connector goes. Calls go through the same Graph client, retry owner and errors
 * as syncs.
 */
export function createTeamsSubscriptions(options: TeamsSubscriptionsOptions): TeamsSubscriptions {
  const parsed = teamsCredentialsSchema.safeParse(options.credentials);
  if (!parsed.success) {
    throw InvalidConfigError.fromSchemaIssues(parsed.error, {
      connector: TEAMS_CONNECTOR_TYPE,
      subject: 'credentials',
    });
  }
  const settings = resolveSettings(options.settings ?? {});
  const http = createHttpClient({
    provider: TEAMS_CONNECTOR_TYPE,
    fetch: settings.fetch,
    timeoutMs: settings.timeoutMs,
    rateLimit: options.rateLimit ?? options.settings?.rateLimit ?? DEFAULT_RATE_LIMIT,
    logger: options.logger ?? silentLogger,
    signal: options.signal,
  });
  let api: GraphApi | undefined;
  const graph = () => {
    api ??= createGraphApi({
      http,
      credentials: parsed.data,
      settings,
      signal: options.signal,
      logger: options.logger,
    });
    return api;
  };

  const create: TeamsSubscriptions['create'] = async (raw) => {
    const checked = createInput.safeParse(raw);
    if (!checked.success) {
      throw InvalidConfigError.fromSchemaIssues(checked.error, {
        connector: TEAMS_CONNECTOR_TYPE,
        subject: 'config',
      });
    }
    const input = checked.data;
    return graph().post(
      '/subscriptions',
      {
        changeType: input.changeType ?? 'created,updated,deleted',
        notificationUrl: input.notificationUrl,
        lifecycleNotificationUrl: input.lifecycleNotificationUrl,
        resource: input.resource,
        expirationDateTime: expiry(input.expiresInMinutes ?? DEFAULT_SUBSCRIPTION_MINUTES),
        clientState: input.clientState,
      },
      subscriptionSchema,
    );
  };

  const reauthorize: TeamsSubscriptions['reauthorize'] = async (subscriptionId) => {
    await graph().post(`/subscriptions/${segment(subscriptionId)}/reauthorize`, {}, z.unknown());
  };

  return {
    create,
    reauthorize,
    renew: (subscriptionId, minutes = DEFAULT_SUBSCRIPTION_MINUTES) =>
      graph().patch(
        `/subscriptions/${segment(subscriptionId)}`,
        { expirationDateTime: expiry(minutes) },
        subscriptionSchema,
      ),
    needsRenewal(subscription, renewal = {}) {
      const now = renewal.now ?? Date.now();
      return (
        Date.parse(subscription.expirationDateTime) - now <= (renewal.marginMs ?? DEFAULT_RENEW_MARGIN_MS)
      );
    },
    async remove(subscriptionId) {
      try {
        await graph().delete(`/subscriptions/${segment(subscriptionId)}`);
      } catch (error) {
        if (ConnectorApiError.isInstance(error) && error.status === 404) return;
        throw error;
      }
    },
    async handleLifecycle(notification, recreate) {
      if (notification.lifecycleEvent === 'missed') return { action: 'none' };
      if (notification.lifecycleEvent === 'reauthorizationRequired') {
        try {
          await reauthorize(notification.subscriptionId);
          return { action: 'reauthorized' };
        } catch (error) {
          if (!ConnectorApiError.isInstance(error) || error.status !== 404) throw error;
        }
      }
      return { action: 'recreated', subscription: await create(recreate) };
    },
  };
}
