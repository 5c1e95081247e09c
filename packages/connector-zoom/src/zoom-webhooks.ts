import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  type ConnectorWebhooksDefinition,
  type WebhookEvent,
  type WebhookRequest,
  WebhookVerificationError,
} from '@tributary/core';
import { z } from 'zod';
import { ZOOM_CONNECTOR_TYPE } from './zoom-settings.js';

/** Deliveries whose `x-zm-request-timestamp` is further than this from now are refused (replays). */
export const DEFAULT_WEBHOOK_TOLERANCE_MS = 5 * 60 * 1000;
/** Zoom's `download_token` lives 24 hours. */
const DOWNLOAD_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Download tokens remembered at most (oldest dropped first). */
const MAX_DOWNLOAD_TOKENS = 10_000;

const REFETCH_EVENTS = new Set([
  'recording.completed',
  'recording.transcript_completed',
  'recording.recovered',
]);
const DELETE_EVENTS = new Set(['recording.deleted', 'recording.trashed']);

const deliverySchema = z.object({
  event: z.string().min(1),
  event_ts: z.number().optional(),
  payload: z
    .object({
      plainToken: z.string().optional(),
      account_id: z.string().optional(),
      download_token: z.string().optional(),
      object: z
        .object({ uuid: z.string().min(1).optional() })
        .loose()
        .optional(),
    })
    .loose()
    .optional(),
  download_token: z.string().optional(),
});

function fail(reason: string): never {
  throw new WebhookVerificationError({ connector: ZOOM_CONNECTOR_TYPE, reason });
}

function hmacHex(secret: string, message: string | Uint8Array): string {
  return createHmac('sha256', secret).update(message).digest('hex');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{raw body}`): what Zoom sends as `x-zm-signature`. */
export function zoomSignature(secret: string, timestamp: string, rawBody: Uint8Array | string): string {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody) : Buffer.from(rawBody);
  return `v0=${hmacHex(secret, Buffer.concat([Buffer.from(`v0:${timestamp}:`), body]))}`;
}

/** Webhook download tokens by meeting uuid, kept in memory for their 24-hour life. */
export class DownloadTokens {
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  constructor(private readonly now: () => number) {}

  remember(uuid: string, token: string): void {
    this.tokens.delete(uuid);
    this.tokens.set(uuid, { token, expiresAt: this.now() + DOWNLOAD_TOKEN_LIFETIME_MS });
    if (this.tokens.size > MAX_DOWNLOAD_TOKENS) {
      const oldest = this.tokens.keys().next().value;
      if (oldest !== undefined) this.tokens.delete(oldest);
    }
  }

  get(uuid: string): string | undefined {
    const entry = this.tokens.get(uuid);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.tokens.delete(uuid);
      return undefined;
    }
    return entry.token;
  }
}

export interface ZoomWebhooksOptions {
  now?: (() => number) | undefined;
  /** Default 5 minutes. */
  toleranceMs?: number | undefined;
  downloadTokens?: DownloadTokens | undefined;
}

function parseBody(request: WebhookRequest) {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(request.rawBody));
  } catch {
    return undefined;
  }
  const parsed = deliverySchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The connector's `webhooks` member (Zoom's "secret token" verification):
 * - `verify`: `x-zm-signature` must equal `v0=` + HMAC-SHA256(secret, `v0:{x-zm-request-timestamp}:{raw body}`)
 *   (constant-time), and the timestamp must be within `toleranceMs` of now, so a captured delivery
 *   cannot be replayed later; a replay within the window has the same event id and is recorded
 *   once (dedup layer 6).
 * - `handshake`: `endpoint.url_validation` is answered with `{ plainToken, encryptedToken }`
 *   (hex HMAC-SHA256(secret, plainToken)), but only for a correctly signed, fresh request: an
 *   unsigned challenge would turn the endpoint into a signing oracle (plainToken =
 *   `v0:{ts}:{forged body}` would return a valid signature for a forged delivery).
 * - `parse`: `recording.completed`, `recording.transcript_completed` and `recording.recovered`
 *   refetch the meeting (its `download_token` is remembered for `fetchDocument`);
 *   `recording.deleted` and `recording.trashed` delete it. Event id: `{event}:{uuid}:{event_ts}`,
 *   identical across Zoom's retries of one event.
 */
export function createZoomWebhooks(options: ZoomWebhooksOptions = {}): ConnectorWebhooksDefinition {
  const now = options.now ?? Date.now;
  const toleranceMs = options.toleranceMs ?? DEFAULT_WEBHOOK_TOLERANCE_MS;

  const verify = (request: WebhookRequest, secret: string) => {
    const signature = request.headers['x-zm-signature'];
    const timestamp = request.headers['x-zm-request-timestamp'];
    if (!signature) fail('x-zm-signature is missing');
    if (!timestamp || !/^\d{1,13}$/.test(timestamp))
      fail('x-zm-request-timestamp is missing or not a number');
    // Zoom sends seconds; accept milliseconds too rather than refusing every delivery.
    const sentAt = timestamp.length >= 13 ? Number(timestamp) : Number(timestamp) * 1000;
    if (Math.abs(now() - sentAt) > toleranceMs) fail('stale timestamp (outside the replay window)');
    if (!safeEqual(signature, zoomSignature(secret, timestamp, request.rawBody))) fail('signature mismatch');
  };

  return {
    handshake(request, secret) {
      const body = parseBody(request);
      if (body?.event !== 'endpoint.url_validation') return null;
      if (secret === undefined) fail('no webhook secret to answer endpoint.url_validation with');
      verify(request, secret);
      const plainToken = body.payload?.plainToken;
      if (!plainToken || !/^[A-Za-z0-9_-]{1,256}$/.test(plainToken))
        fail('plainToken is missing or malformed');
      return {
        response: {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ plainToken, encryptedToken: hmacHex(secret, plainToken) }),
        },
      };
    },

    verify,

    parse(request) {
      const body = parseBody(request);
      if (!body) throw new Error('[tributary] [zoom] webhook body is not a Zoom event');
      const uuid = body.payload?.object?.uuid;
      if (!uuid) return [];
      const base = {
        eventId: `${body.event}:${uuid}:${body.event_ts ?? 0}`,
        eventType: body.event,
        ...(body.event_ts ? { occurredAt: new Date(body.event_ts).toISOString() } : {}),
      };
      if (REFETCH_EVENTS.has(body.event)) {
        const token = body.download_token ?? body.payload?.download_token;
        if (token) options.downloadTokens?.remember(uuid, token);
        return [{ ...base, action: { kind: 'refetch', externalId: uuid } } satisfies WebhookEvent];
      }
      if (DELETE_EVENTS.has(body.event)) {
        return [{ ...base, action: { kind: 'delete', externalId: uuid } } satisfies WebhookEvent];
      }
      return [];
    },
  };
}
