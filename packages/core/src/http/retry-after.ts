/** Reads one header from a `Headers`, a plain record (any case) or a Node-style headers object. */
export function getHeader(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') {
    const value = (headers as Headers).get(name);
    return value ?? undefined;
  }
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== wanted) continue;
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(value);
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}

/**
 * Parses a `Retry-After` value, delta seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`), into milliseconds from `now`. A date in the past gives 0;
 * anything unreadable gives `undefined`.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The wait a response asks for: `retry-after-ms` (OpenAI, Azure) first, then `Retry-After`.
 * `undefined` when neither is present or readable.
 */
export function retryAfterFromHeaders(headers: unknown, now: number = Date.now()): number | undefined {
  const milliseconds = getHeader(headers, 'retry-after-ms');
  if (milliseconds !== undefined && /^\d+(?:\.\d+)?$/.test(milliseconds.trim())) {
    return Math.round(Number(milliseconds.trim()));
  }
  return parseRetryAfter(getHeader(headers, 'retry-after'), now);
}
