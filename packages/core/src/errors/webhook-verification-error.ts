import { hasErrorMarker, TributaryError } from './tributary-error.js';

const marker = Symbol.for('tributary.error.webhook_verification');

export interface WebhookVerificationErrorOptions {
  connector?: string | undefined;
  /** Why verification failed: `missing signature header`, `signature mismatch`, `stale timestamp`. */
  reason: string;
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * A webhook delivery failed verification (missing or wrong signature, stale timestamp). The host
 * answers 401 and processes nothing. The message never includes the secret or the signature.
 */
export class WebhookVerificationError extends TributaryError {
  readonly [marker] = true;
  readonly reason: string;

  constructor(options: WebhookVerificationErrorOptions) {
    super({
      code: 'webhook_verification_failed',
      connector: options.connector,
      area: 'webhooks',
      message: `webhook verification failed: ${options.reason}`,
      hint:
        options.hint ??
        'Reject the delivery (HTTP 401); if genuine deliveries fail, check the webhook secret and that the raw, unparsed request body is passed in',
      cause: options.cause,
    });
    this.reason = options.reason;
  }

  static override isInstance(error: unknown): error is WebhookVerificationError {
    return hasErrorMarker(error, marker);
  }
}
