const marker = Symbol.for('tributary.webhook.body_too_large');

/** The body went past the endpoint's limit; it was not read further. */
export class BodyTooLargeError extends Error {
  readonly [marker] = true;
  constructor(readonly limit: number) {
    super(
      `[tributary] [webhooks] the request body is larger than ${limit} bytes. Raise maxBodyBytes if the provider really sends that much.`,
    );
    this.name = 'BodyTooLargeError';
  }

  static isBodyTooLarge(error: unknown): error is BodyTooLargeError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

/**
 * The raw body of a request, refused as soon as it passes `limit` bytes (a `content-length` over
 * the limit is refused before reading anything), so a huge or endless body never fills memory.
 */
export async function readLimitedBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(limit);
    }
    parts.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.byteLength;
  }
  return body;
}
