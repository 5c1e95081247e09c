import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type ConnectorWebhooks,
  type HandleWebhookOptions,
  type HandleWebhookResult,
  handleWebhook,
  type WebhookEvent,
  type WebhookRequest,
  WebhookVerificationError,
} from '@tributary/core';
import { threadExternalId, transcriptExternalId } from './teams-ids.js';
import { TEAMS_CONNECTOR_TYPE } from './teams-settings.js';

/** One entry of a Graph notification delivery's `value` array (the fields read here). */
export interface GraphNotification {
  subscriptionId?: string;
  changeType?: string;
  resource?: string;
  clientState?: string;
  tenantId?: string;
  subscriptionExpirationDateTime?: string;
  /** Lifecycle notifications: `reauthorizationRequired`, `subscriptionRemoved`, `missed`. */
  lifecycleEvent?: string;
}

export type TeamsLifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

/** A lifecycle notification, for `TeamsSubscriptions.handleLifecycle`. */
export interface TeamsLifecycleNotification {
  subscriptionId: string;
  lifecycleEvent: TeamsLifecycleEvent;
  resource: string | undefined;
}

const LIFECYCLE_EVENTS = new Set(['reauthorizationRequired', 'subscriptionRemoved', 'missed']);
/** Graph redelivers a notification it could not deliver for up to 4 hours; the dedup window is shorter on purpose (see `eventId`). */
const EVENT_BUCKET_MS = 10 * 60_000;

function fail(reason: string): never {
  throw new WebhookVerificationError({ connector: TEAMS_CONNECTOR_TYPE, reason });
}

function safeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  // Hashing first keeps the comparison constant-time whatever the lengths.
  return timingSafeEqual(left, right) && a.length === b.length;
}

function readDelivery(request: WebhookRequest): GraphNotification[] {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(request.rawBody));
  } catch {
    fail('the body is not JSON');
  }
  const value = (body as { value?: unknown } | null)?.value;
  if (!Array.isArray(value) || value.length === 0) fail('the body has no notifications (value)');
  return value as GraphNotification[];
}

function validationToken(request: WebhookRequest): string | null {
  try {
    return new URL(request.url, 'https://placeholder.invalid').searchParams.get('validationToken');
  } catch {
    return null;
  }
}

/**
 * The id under which a notification is processed once. Graph notifications carry no id of their
 * own: a redelivery repeats the payload, so its hash identifies it. A later, genuine change to the
 * same message can produce the same payload, though (basic notifications name the resource, not
 * its version), so the hash is scoped to a 10-minute window of receipt: a redelivery within it is
 * dropped, and a later identical notification is processed again (a re-fetch is idempotent,
 * losing a change is not).
 */
function eventId(notification: GraphNotification, now: number): string {
  const { clientState: _secret, ...rest } = notification;
  const hash = createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 40);
  return `${hash}:${Math.floor(now / EVENT_BUCKET_MS)}`;
}

const CHANNEL_MESSAGE =
  /^\/?teams\('([^']+)'\)\/channels\('([^']+)'\)\/messages\('([^']+)'\)(?:\/replies\('([^']+)'\))?$/;
const USER_TRANSCRIPT = /^\/?users\('([^']+)'\)\/onlineMeetings\('([^']+)'\)\/transcripts\('([^']+)'\)$/;

/** What one notification means for the knowledge base. */
export function notificationAction(notification: GraphNotification): WebhookEvent['action'] {
  const resource = notification.resource ?? '';
  const message = CHANNEL_MESSAGE.exec(resource);
  if (message) {
    const [, teamId, channelId, rootId, replyId] = message as unknown as [
      string,
      string,
      string,
      string,
      string?,
    ];
    const externalId = threadExternalId(teamId, channelId, rootId);
    // A deleted root takes its thread; a deleted reply changes its thread.
    if (notification.changeType === 'deleted' && !replyId) return { kind: 'delete', externalId };
    return { kind: 'refetch', externalId };
  }
  const transcript = USER_TRANSCRIPT.exec(resource);
  if (transcript) {
    const [, organizerId, meetingId, transcriptId] = transcript as unknown as [
      string,
      string,
      string,
      string,
    ];
    return { kind: 'refetch', externalId: transcriptExternalId(organizerId, meetingId, transcriptId) };
  }
  // Tenant-wide transcript notifications do not name the organiser; their delta finds the transcript.
  return { kind: 'sync', mode: 'incremental' };
}

/**
 * The connector's `webhooks` member for Graph change notifications:
 * - `handshake` answers the validation request (`?validationToken=...`) with the decoded token as
 *   `text/plain`, at once (Graph waits 10 seconds).
 * - `verify` checks `clientState` (the webhook secret given when the subscription was created) on
 *   every notification of the delivery, in constant time: one forged entry refuses the delivery.
 * - `parse` maps a message notification to a re-fetch of its thread (or a delete of a deleted
 *   root), a transcript notification to a re-fetch, and the lifecycle events `missed`,
 *   `reauthorizationRequired` and `subscriptionRemoved` to an incremental sync (delta queries catch
 *   up with whatever the notifications did not carry). Renewing or recreating the subscription is
 *   `TeamsSubscriptions.handleLifecycle`'s job (see `handleTeamsWebhook`).
 */
export const teamsWebhooks: ConnectorWebhooks = {
  handshake(request) {
    const token = validationToken(request);
    if (token === null) return null;
    return {
      response: { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: token },
    };
  },
  verify(request, secret) {
    for (const notification of readDelivery(request)) {
      if (typeof notification.clientState !== 'string') fail('a notification has no clientState');
      if (!safeEqual(notification.clientState, secret)) fail('clientState does not match the webhook secret');
    }
  },
  parse(request) {
    const now = Date.now();
    return readDelivery(request).map((notification): WebhookEvent => {
      const lifecycle = notification.lifecycleEvent;
      if (lifecycle && LIFECYCLE_EVENTS.has(lifecycle)) {
        return {
          eventId: eventId(notification, now),
          eventType: `lifecycle.${lifecycle}`,
          action: { kind: 'sync', mode: 'incremental' },
        };
      }
      return {
        eventId: eventId(notification, now),
        eventType: `${notification.changeType ?? 'changed'}:${(notification.resource ?? '').replace(/\('[^']*'\)/g, '')}`,
        action: notificationAction(notification),
      };
    });
  },
};

/** The lifecycle notifications of a delivery (verify it first). */
export function readLifecycleNotifications(request: WebhookRequest): TeamsLifecycleNotification[] {
  return readDelivery(request).flatMap((notification) =>
    notification.lifecycleEvent &&
    LIFECYCLE_EVENTS.has(notification.lifecycleEvent) &&
    notification.subscriptionId
      ? [
          {
            subscriptionId: notification.subscriptionId,
            lifecycleEvent: notification.lifecycleEvent as TeamsLifecycleEvent,
            resource: notification.resource,
          },
        ]
      : [],
  );
}

export type HandleTeamsWebhookResult = HandleWebhookResult & {
  /** Lifecycle notifications of an accepted delivery: hand them to `TeamsSubscriptions.handleLifecycle` (after replying). */
  readonly lifecycle: readonly TeamsLifecycleNotification[];
};

/**
 * Core's `handleWebhook` for Graph: records the events and answers `202 Accepted` (Graph's
 * documented reply for queued work) so the host replies at once and processes later
 * (`processWebhookEvents`), plus the lifecycle notifications the host's subscription job acts on.
 */
export async function handleTeamsWebhook<Config, Credentials>(
  options: HandleWebhookOptions<Config, Credentials>,
): Promise<HandleTeamsWebhookResult> {
  const result = await handleWebhook(options);
  if (result.outcome !== 'accepted') return { ...result, lifecycle: [] };
  const raw = options.request.rawBody;
  const request: WebhookRequest = {
    method: options.request.method,
    url: options.request.url,
    headers: {},
    rawBody: raw instanceof Uint8Array ? raw : new Uint8Array(raw),
  };
  return {
    ...result,
    response: { status: 202, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'accepted' },
    lifecycle: readLifecycleNotifications(request),
  };
}
