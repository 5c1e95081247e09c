import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  type ConnectorWebhooksDefinition,
  type WebhookEvent,
  type WebhookRequest,
  WebhookVerificationError,
} from '@tributary/core';
import { NOTION_CONNECTOR_TYPE } from './notion-settings.js';

/** The header Notion signs every event delivery with: `sha256=<hex HMAC-SHA256(raw body, verification token)>`. */
export const NOTION_SIGNATURE_HEADER = 'x-notion-signature';

/** What a Notion event delivery carries (ids, never content). */
interface NotionEventPayload {
  id?: unknown;
  type?: unknown;
  timestamp?: unknown;
  entity?: { id?: unknown; type?: unknown };
  data?: { updated_blocks?: unknown };
  verification_token?: unknown;
}

/** `data.updated_blocks` entries of type `page`: the rows a content update touched. */
function updatedPages(body: NotionEventPayload): string[] {
  const blocks = body.data?.updated_blocks;
  if (!Array.isArray(blocks)) return [];
  const ids = blocks.flatMap((block) =>
    typeof block === 'object' && block !== null && (block as { type?: unknown }).type === 'page'
      ? [(block as { id?: unknown }).id]
      : [],
  );
  return [...new Set(ids.filter((id): id is string => typeof id === 'string' && id !== ''))];
}

function fail(reason: string): never {
  throw new WebhookVerificationError({ connector: NOTION_CONNECTOR_TYPE, reason });
}

function parseBody(rawBody: Uint8Array): NotionEventPayload | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(rawBody));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as NotionEventPayload)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The `X-Notion-Signature` value Notion sends for `rawBody` (also what tests sign with). */
export function signNotionWebhook(rawBody: Uint8Array | string, verificationToken: string): string {
  return `sha256=${createHmac('sha256', verificationToken).update(rawBody).digest('hex')}`;
}

/**
 * The connector's `webhooks` member.
 * - `handshake`: when a subscription is created, Notion POSTs `{"verification_token": "..."}`
 *   once, unsigned. It is answered 200 and the token is returned as `revealedSecret`: the host
 *   stores it as the connector's webhook secret (and pastes it into Notion to verify the URL).
 * - `verify`: `X-Notion-Signature` must be `sha256=` + the hex HMAC-SHA256 of the raw body keyed by
 *   that token, compared in constant time. Anything else (missing, malformed, forged, a body
 *   altered by re-serialisation) is refused with `WebhookVerificationError`.
 * - `parse`: one event per delivery (per row for row content updates), keyed by Notion's event id, so a replayed or redelivered
 *   event is recorded once and processed once (core's webhook intake). `page.*` events become a
 *   re-fetch of that page, deletions included: `fetchDocument` reads the page's state now
 *   (trashed or unshared: `null`, so it is deleted), which makes late, aggregated or out-of-order
 *   events harmless; a re-fetch of an unchanged page stops at the version check.
 *   `data_source.content_updated` (and the older `database.content_updated`) become a re-fetch of
 *   each row in `data.updated_blocks` (one event per row, id `<event id>/<row id>`), decided the
 *   same way. The other `data_source.*` / `database.*` events (created, schema_updated, moved,
 *   deleted, undeleted) change rows that are not listed in the event (every row's header, path or
 *   existence): they become an incremental sync, which compares every data source with the stored
 *   one and queries or deletes the rows of the changed one only (see `syncDataSources`). Comments
 *   and other events are ignored.
 */
export const notionWebhooks: ConnectorWebhooksDefinition = {
  handshake(request: WebhookRequest) {
    if (request.headers[NOTION_SIGNATURE_HEADER]) return null;
    const body = parseBody(request.rawBody);
    if (!body || typeof body.verification_token !== 'string' || body.type !== undefined) return null;
    return {
      response: { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'ok' },
      revealedSecret: body.verification_token,
    };
  },

  verify(request: WebhookRequest, secret: string) {
    const header = request.headers[NOTION_SIGNATURE_HEADER];
    if (!header) fail('the X-Notion-Signature header is missing');
    const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
    if (!match) fail('the X-Notion-Signature header is not sha256=<64 hex digits>');
    const expected = createHmac('sha256', secret).update(request.rawBody).digest();
    const given = Buffer.from((match[1] as string).toLowerCase(), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      fail(
        'the X-Notion-Signature does not match the body (forged, altered, or signed with another verification token)',
      );
    }
  },

  parse(request: WebhookRequest): WebhookEvent[] {
    const body = parseBody(request.rawBody);
    if (!body || typeof body.id !== 'string' || typeof body.type !== 'string') return [];
    const entityId = typeof body.entity?.id === 'string' ? body.entity.id : undefined;
    const occurredAt = typeof body.timestamp === 'string' ? body.timestamp : undefined;
    const base = { eventId: body.id, eventType: body.type, ...(occurredAt ? { occurredAt } : {}) };
    if (body.type.startsWith('page.')) {
      if (!entityId) return [];
      return [{ ...base, action: { kind: 'refetch', externalId: entityId } }];
    }
    if (body.type.startsWith('data_source.') || body.type.startsWith('database.')) {
      const rows = body.type.endsWith('.content_updated') ? updatedPages(body) : [];
      if (rows.length > 0) {
        return rows.map((rowId) => ({
          ...base,
          eventId: `${body.id as string}/${rowId}`,
          action: { kind: 'refetch', externalId: rowId } as const,
        }));
      }
      return [{ ...base, action: { kind: 'sync', mode: 'incremental' } }];
    }
    return [];
  },
};
