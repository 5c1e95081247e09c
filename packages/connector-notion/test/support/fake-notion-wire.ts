// Wire helpers of the fake Notion server: Notion's list envelope, opaque offset cursors, error
// codes by status, JSON request bodies.
import type { IncomingMessage } from 'node:http';

type Json = Record<string, unknown>;

export const ERROR_CODES: Record<number, string> = {
  400: 'validation_error',
  401: 'unauthorized',
  404: 'object_not_found',
  429: 'rate_limited',
  500: 'internal_server_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  529: 'service_overload',
};

export function list(results: unknown[], nextCursor: string | null, type: string): Json {
  return {
    object: 'list',
    results,
    next_cursor: nextCursor,
    has_more: nextCursor !== null,
    type,
    [type]: {},
    request_id: 'req-fake',
  };
}

/** Offset cursors: opaque to the client, stable while the data does not change. */
export function paginate(objects: Json[], body: Json, type: string): Json {
  const pageSize = Math.min(100, Number(body.page_size ?? 100));
  const start = body.start_cursor
    ? Number(Buffer.from(String(body.start_cursor), 'base64url').toString())
    : 0;
  const end = start + pageSize;
  const next = end < objects.length ? Buffer.from(String(end)).toString('base64url') : null;
  return list(objects.slice(start, end), next, type);
}

export async function readJson(request: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
  } catch {
    return {};
  }
}
