import { WebhookVerificationError } from '../errors/webhook-verification-error.js';
import type { KnowledgeRepository } from '../repository/knowledge-repository.js';
import { type Logger, silentLogger } from '../spec/logger.js';
import type { ConnectorV1 } from '../spec/v1/connector-v1.js';
import type {
  WebhookAction,
  WebhookEvent,
  WebhookRequest,
  WebhookResponse,
} from '../spec/v1/connector-webhooks.js';
import type { JsonObject, JsonValue } from '../spec/v1/json-value.js';
import { WebhookIntakeError } from './webhook-intake-error.js';

/** Header values as frameworks hand them over: a `Headers` object or Node's `IncomingHttpHeaders`. */
export type IncomingWebhookHeaders =
  | Headers
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** A delivery as the host's HTTP framework received it. Header names may be in any case. */
export interface IncomingWebhookRequest {
  readonly method: string;
  /** Full request URL with its query string (`https://host/hooks/graph?validationToken=...`). */
  readonly url: string;
  readonly headers: IncomingWebhookHeaders;
  /** The body exactly as received (a Node `Buffer` is fine); never a parsed or re-serialised body. */
  readonly rawBody: Uint8Array | ArrayBuffer;
}

export interface HandleWebhookOptions<Config = unknown, Credentials = unknown> {
  connector: ConnectorV1<Config, Credentials>;
  /** The `connector_configs` row the delivery belongs to. */
  connectorId: string;
  repository: KnowledgeRepository;
  request: IncomingWebhookRequest;
  /**
   * The webhook secret (signing secret, Notion's verification token, Graph's client state). May be
   * `undefined` only until a handshake reveals it; a delivery that must be verified without one
   * throws `WebhookIntakeError` (`no_secret`).
   */
  secret: string | undefined;
  /** Default `silentLogger`. Secrets, signatures and bodies are never logged. */
  logger?: Logger | undefined;
  /** Largest body (bytes) copied into each event's stored payload; above it only its size is kept. Default 65,536. */
  maxStoredBodyBytes?: number | undefined;
}

/** An event of this delivery as recorded in `connector_webhook_events`. */
export interface RecordedWebhookEvent extends WebhookEvent {
  /** The `connector_webhook_events` row. */
  readonly webhookEventId: string;
  /** False when this (connector, source, event id) was delivered before: it is not processed again. */
  readonly isNew: boolean;
  /** Whether the stored event was already processed successfully when this delivery arrived. */
  readonly processed: boolean;
}

/** A provider challenge was answered; nothing was recorded. */
export interface WebhookHandshakeOutcome {
  readonly outcome: 'handshake';
  readonly response: WebhookResponse;
  /** A secret the provider revealed (Notion's `verification_token`): store it, never log it. */
  readonly revealedSecret?: string | undefined;
  readonly events: readonly RecordedWebhookEvent[];
  readonly duplicates: 0;
}

/** The delivery failed verification (401) or could not be parsed (400); nothing was recorded. */
export interface WebhookRejectedOutcome {
  readonly outcome: 'rejected';
  readonly response: WebhookResponse;
  /** Short reason, also the response body: `signature mismatch`, `unparseable delivery`. */
  readonly reason: string;
  readonly events: readonly RecordedWebhookEvent[];
  readonly duplicates: 0;
}

/** The delivery was verified and its events recorded; answer `response` (200) now, process later. */
export interface WebhookAcceptedOutcome {
  readonly outcome: 'accepted';
  readonly response: WebhookResponse;
  /** Every event of the delivery; pass them to `processWebhookEvents` (only `isNew` ones are processed). */
  readonly events: readonly RecordedWebhookEvent[];
  /** Events of this delivery that had been recorded before (redeliveries). */
  readonly duplicates: number;
}

export type HandleWebhookResult = WebhookHandshakeOutcome | WebhookRejectedOutcome | WebhookAcceptedOutcome;

const TEXT_HEADERS = Object.freeze({ 'content-type': 'text/plain; charset=utf-8' });
const DEFAULT_MAX_STORED_BODY_BYTES = 65_536;
const MAX_REASON_LENGTH = 200;

/**
 * The intake of one webhook delivery, fast enough to answer inside a provider's deadline:
 * answers a handshake (returning any `revealedSecret` for the host to store), else verifies the
 * signature over the raw body (a `WebhookVerificationError` becomes a 401 with a short reason and
 * records nothing), parses the delivery into events and records each one with
 * `recordWebhookEvent` (event source = connector type), which is what makes a redelivered event
 * a duplicate (dedup layer 6). Processing is separate: `processWebhookEvents`.
 *
 * Throws `WebhookIntakeError` for misuse (a connector without webhooks, no secret configured, a
 * body that is not raw bytes) and lets repository errors through (answer 5xx: the provider
 * redelivers, and recording is idempotent).
 *
 * @example
 * const result = await handleWebhook({ connector, connectorId, repository, request, secret });
 * reply(result.response);
 * if (result.outcome === 'accepted') queue(result.events);
 */
export async function handleWebhook<Config, Credentials>(
  options: HandleWebhookOptions<Config, Credentials>,
): Promise<HandleWebhookResult> {
  const { connector, connectorId, repository } = options;
  const logger = options.logger ?? silentLogger;
  const webhooks = connector.webhooks;
  if (!webhooks) {
    throw new WebhookIntakeError({
      connector: connector.type,
      reason: 'no_webhooks',
      message: `the ${connector.displayName ?? connector.type} connector does not support webhooks`,
      hint: 'Route deliveries only to connectors with capabilities.webhooks, or sync this one on a schedule',
    });
  }
  const request = toWebhookRequest(options.request, connector.type);
  const secret = options.secret === '' ? undefined : options.secret;
  const fields = { connector: connector.type, connectorId };

  // 1. A provider challenge (Graph's validationToken, Zoom's url_validation, Notion's first POST).
  let handshake: Awaited<ReturnType<NonNullable<typeof webhooks.handshake>>>;
  try {
    handshake = webhooks.handshake ? await webhooks.handshake(request, secret) : null;
  } catch (error) {
    if (WebhookVerificationError.isInstance(error)) return reject(401, error.reason, logger, fields);
    throw error;
  }
  if (handshake) {
    logger.info('webhook handshake answered', {
      ...fields,
      revealedSecret: handshake.revealedSecret !== undefined,
    });
    return {
      outcome: 'handshake',
      response: handshake.response,
      revealedSecret: handshake.revealedSecret,
      events: [],
      duplicates: 0,
    };
  }

  // 2. Verification over the raw bytes.
  if (secret === undefined) {
    throw new WebhookIntakeError({
      connector: connector.type,
      reason: 'no_secret',
      message: `a ${connector.type} webhook delivery arrived but no webhook secret is configured for connector ${connectorId}`,
      hint: 'Pass the secret the provider gave (or the revealedSecret a handshake returned) as `secret`',
    });
  }
  try {
    await webhooks.verify(request, secret);
  } catch (error) {
    if (WebhookVerificationError.isInstance(error)) return reject(401, error.reason, logger, fields);
    throw error;
  }

  // 3. Parse.
  let parsed: readonly WebhookEvent[];
  try {
    parsed = await webhooks.parse(request);
  } catch (error) {
    logger.warn('verified webhook delivery could not be parsed', { ...fields, error: messageOf(error) });
    return reject(400, 'unparseable delivery', logger, fields);
  }

  // 4. Record every event (dedup layer 6: connector + source + provider event id).
  const body = storedBody(request.rawBody, options.maxStoredBodyBytes ?? DEFAULT_MAX_STORED_BODY_BYTES);
  const events: RecordedWebhookEvent[] = [];
  let duplicates = 0;
  for (const event of parsed) {
    const problem = invalidEvent(event);
    if (problem) {
      logger.error('connector parsed an invalid webhook event; ignored', { ...fields, problem });
      continue;
    }
    const payload: JsonObject = {
      eventType: event.eventType,
      occurredAt: event.occurredAt ?? null,
      action: actionJson(event.action),
      ...body,
    };
    const recorded = await repository.recordWebhookEvent({
      connectorId,
      eventSource: webhookEventSource(connector.type),
      eventId: event.eventId,
      eventType: event.eventType,
      payload,
      headers: { ...request.headers },
    });
    if (!recorded.isNew) duplicates += 1;
    events.push({
      eventId: event.eventId,
      eventType: event.eventType,
      occurredAt: event.occurredAt,
      action: event.action,
      webhookEventId: recorded.id,
      isNew: recorded.isNew,
      processed: recorded.processed,
    });
  }
  logger.info('webhook delivery accepted', {
    ...fields,
    events: events.length,
    new: events.length - duplicates,
    duplicates,
  });
  return {
    outcome: 'accepted',
    response: { status: 200, headers: TEXT_HEADERS, body: 'ok' },
    events,
    duplicates,
  };
}

/** Lower-cases header names (joining repeated values with `, `) and checks the body is raw bytes. */
export function toWebhookRequest(request: IncomingWebhookRequest, connectorType?: string): WebhookRequest {
  const raw = request.rawBody as unknown;
  let rawBody: Uint8Array;
  if (raw instanceof Uint8Array) rawBody = raw;
  else if (raw instanceof ArrayBuffer) rawBody = new Uint8Array(raw);
  else {
    throw new WebhookIntakeError({
      connector: connectorType,
      reason: 'raw_body_required',
      message: `the webhook request body is ${raw === null ? 'null' : typeof raw}, not the raw bytes received`,
      hint: 'Read the body as bytes before any JSON parser runs (express.raw(), await request.arrayBuffer(), or collect the Node stream into a Buffer): signatures are computed over the exact bytes',
    });
  }
  const headers: Record<string, string> = {};
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  };
  if (typeof Headers !== 'undefined' && request.headers instanceof Headers) {
    for (const [name, value] of request.headers.entries()) add(name, value);
  } else {
    for (const [name, value] of Object.entries(request.headers as Record<string, unknown>)) {
      if (typeof value === 'string') add(name, value);
      else if (Array.isArray(value)) add(name, value.map(String).join(', '));
    }
  }
  return Object.freeze({
    method: request.method.toUpperCase(),
    url: request.url,
    headers: Object.freeze(headers),
    rawBody,
  });
}

/**
 * The `event_source` webhook events are recorded under: the connector type, with `-` as `_`
 * (`connector_webhook_events.event_source` is a snake_case identifier).
 */
export function webhookEventSource(connectorType: string): string {
  return connectorType.replace(/-/g, '_');
}

function reject(
  status: 400 | 401,
  reason: string,
  logger: Logger,
  fields: Record<string, string>,
): WebhookRejectedOutcome {
  const short = oneLine(reason).slice(0, MAX_REASON_LENGTH) || 'rejected';
  logger.warn('webhook delivery rejected', { ...fields, status, reason: short });
  return {
    outcome: 'rejected',
    response: { status, headers: TEXT_HEADERS, body: short },
    reason: short,
    events: [],
    duplicates: 0,
  };
}

function storedBody(rawBody: Uint8Array, maxBytes: number): JsonObject {
  if (rawBody.byteLength > maxBytes) return { body: null, bodyBytes: rawBody.byteLength };
  const text = new TextDecoder('utf-8', { fatal: false }).decode(rawBody);
  try {
    return { body: JSON.parse(text) as JsonValue };
  } catch {
    return { body: text };
  }
}

function actionJson(action: WebhookAction): JsonObject {
  return action.kind === 'sync'
    ? { kind: 'sync', mode: action.mode }
    : { kind: action.kind, externalId: action.externalId };
}

function invalidEvent(event: WebhookEvent): string | undefined {
  if (typeof event !== 'object' || event === null) return 'not an object';
  if (typeof event.eventId !== 'string' || event.eventId === '') return 'eventId is not a non-empty string';
  if (typeof event.eventType !== 'string' || event.eventType === '')
    return 'eventType is not a non-empty string';
  const action = event.action as Partial<{ kind: string; externalId: unknown }> | undefined;
  if (!action || (action.kind !== 'refetch' && action.kind !== 'delete' && action.kind !== 'sync')) {
    return 'action.kind is not refetch, delete or sync';
  }
  if (action.kind !== 'sync' && (typeof action.externalId !== 'string' || action.externalId === '')) {
    return `a ${action.kind} action has no externalId`;
  }
  return undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
