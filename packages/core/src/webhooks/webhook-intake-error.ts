import { hasErrorMarker, TributaryError } from '../errors/tributary-error.js';

const marker = Symbol.for('tributary.error.webhook_intake');

/**
 * Why the host's webhook intake is misused: `no_webhooks` (the connector has no `webhooks`
 * member), `no_secret` (a delivery arrived and no webhook secret is configured),
 * `raw_body_required` (the body was not passed as the raw bytes received).
 */
export type WebhookIntakeErrorReason = 'no_webhooks' | 'no_secret' | 'raw_body_required';

export interface WebhookIntakeErrorOptions {
  connector?: string | undefined;
  reason: WebhookIntakeErrorReason;
  message: string;
  hint?: string | undefined;
}

/**
 * The host called `handleWebhook` in a way that cannot work (a programming or configuration
 * error, not a bad delivery: bad deliveries become a 401 response, never this error).
 */
export class WebhookIntakeError extends TributaryError {
  readonly [marker] = true;
  readonly reason: WebhookIntakeErrorReason;

  constructor(options: WebhookIntakeErrorOptions) {
    super({
      code: 'webhook_intake_misuse',
      connector: options.connector,
      area: 'webhooks',
      message: options.message,
      hint: options.hint,
    });
    this.reason = options.reason;
  }

  static override isInstance(error: unknown): error is WebhookIntakeError {
    return hasErrorMarker(error, marker);
  }
}
