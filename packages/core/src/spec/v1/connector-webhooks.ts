/** An incoming webhook delivery, as the host's HTTP framework received it. */
export interface WebhookRequest {
  readonly method: string;
  /** Full request URL, query string included (Graph sends `validationToken` in it). */
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body exactly as received: signatures are computed over these bytes, never over re-serialised JSON. */
  readonly rawBody: Uint8Array;
}

/** What the host sends back to the provider. */
export interface WebhookResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly body?: string | undefined;
}

/** A provider challenge was recognised and answered. */
export interface WebhookHandshakeResult {
  readonly response: WebhookResponse;
  /**
   * A secret the provider revealed during the handshake that the host must store to verify later
   * deliveries (Notion sends its `verification_token` this way). Never log it.
   */
  readonly revealedSecret?: string | undefined;
}

/** The targeted work an event maps to. */
export type WebhookAction =
  | { readonly kind: 'refetch'; readonly externalId: string }
  | { readonly kind: 'delete'; readonly externalId: string }
  | { readonly kind: 'sync'; readonly mode: 'incremental' };

/** One event from a delivery (a delivery can batch several). */
export interface WebhookEvent {
  /** The provider's event id: with the connector type, the key that makes processing idempotent. */
  readonly eventId: string;
  /** The provider's event type, e.g. `recording.completed`, `page.content_updated`. */
  readonly eventType: string;
  /** When the provider says it happened (ISO 8601), if it does. */
  readonly occurredAt?: string | undefined;
  readonly action: WebhookAction;
}

type Awaitable<T> = T | Promise<T>;

/**
 * Webhook support. The host calls, in this order: `handshake` (answer a provider challenge such
 * as Graph's `validationToken` or Zoom's `endpoint.url_validation`; `null` when the delivery is
 * not one), then `verify` over the raw body (throws `WebhookVerificationError`), then `parse`.
 */
export interface ConnectorWebhooks {
  /** Answers a challenge, or returns `null`. `secret` is the webhook secret (Zoom signs its answer with it). */
  handshake(request: WebhookRequest, secret: string | undefined): Awaitable<WebhookHandshakeResult | null>;
  /** Checks the signature over `request.rawBody` in constant time; throws `WebhookVerificationError`. */
  verify(request: WebhookRequest, secret: string): Awaitable<void>;
  /** Maps a verified delivery to events. Unknown event types map to nothing (an empty array). */
  parse(request: WebhookRequest): Awaitable<readonly WebhookEvent[]>;
}
