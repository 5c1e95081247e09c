import { randomUUID } from 'node:crypto';
import type { KnowledgeRepository, WebhookEventInput } from '../knowledge-repository.js';
import { invalidInput } from '../validate-input.js';
import type { MemoryAccess } from './access.js';
import { notFound } from './state.js';

// Webhook events: recorded once per connector, source and event id; completed or failed.

export function memoryWebhookEvents(
  access: MemoryAccess,
): Pick<KnowledgeRepository, 'recordWebhookEvent' | 'completeWebhookEvent'> {
  const { state, assertWriter, connectorOrThrow } = access;
  return {
    async recordWebhookEvent(input: WebhookEventInput) {
      assertWriter('recordWebhookEvent');
      if (!input.eventSource || !input.eventId || !input.eventType || input.payload === undefined) {
        throw invalidInput('eventSource, eventId, eventType and payload are required');
      }
      connectorOrThrow(input.connectorId);
      const key = `${input.connectorId}\u0000${input.eventSource}\u0000${input.eventId}`;
      const existingId = state.webhookEventIds.get(key);
      const existing = existingId ? state.webhookEvents.get(existingId) : undefined;
      if (existing) return { id: existing.id, isNew: false, processed: existing.processed };
      const id = randomUUID();
      state.webhookEventIds.set(key, id);
      state.webhookEvents.set(id, {
        id,
        connectorId: input.connectorId,
        processed: false,
        processingError: null,
        retryCount: 0,
      });
      return { id, isNew: true, processed: false };
    },

    async completeWebhookEvent(webhookEventId: string, error?: string | null) {
      assertWriter('completeWebhookEvent');
      const event = state.webhookEvents.get(webhookEventId);
      if (!event) throw notFound(`webhook event ${webhookEventId} not found`);
      event.processed = error == null;
      event.processingError = error?.slice(0, 4000) ?? null;
      if (error != null) event.retryCount = Math.min(event.retryCount + 1, 1000);
    },
  };
}
