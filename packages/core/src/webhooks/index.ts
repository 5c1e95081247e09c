// Webhook intake (dedup layer 6): handleWebhook answers a delivery and records its events,
// processWebhookEvents does the work once per event, createWebhookDebouncer batches bursts.
export {
  type HandleWebhookOptions,
  type HandleWebhookResult,
  handleWebhook,
  type IncomingWebhookHeaders,
  type IncomingWebhookRequest,
  type RecordedWebhookEvent,
  toWebhookRequest,
  type WebhookAcceptedOutcome,
  type WebhookHandshakeOutcome,
  type WebhookRejectedOutcome,
  webhookEventSource,
} from './handle-webhook.js';
export { type NextRouteContext, toNextRouteHandlers } from './next-webhook-route.js';
export {
  type NodeRequest,
  toNodeListener,
  toNodeMiddleware,
  toWebRequest,
  writeWebResponse,
} from './node-webhook-adapter.js';
export {
  type FailedWebhookEvent,
  type ProcessWebhookEventsOptions,
  type ProcessWebhookEventsResult,
  processWebhookEvents,
} from './process-webhook-events.js';
export { BodyTooLargeError, readLimitedBody } from './read-limited-body.js';
export {
  createWebhookDebouncer,
  type DebouncerTimers,
  type WebhookDebouncer,
  type WebhookDebouncerOptions,
} from './webhook-debouncer.js';
export {
  type AcceptedDelivery,
  createWebhookEndpoint,
  type WebhookEndpoint,
  type WebhookEndpointOptions,
  type WebhookEndpointTarget,
} from './webhook-endpoint.js';
export {
  WebhookIntakeError,
  type WebhookIntakeErrorOptions,
  type WebhookIntakeErrorReason,
} from './webhook-intake-error.js';
