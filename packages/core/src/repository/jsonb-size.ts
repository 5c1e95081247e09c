// The size PostgreSQL's pg_column_size() reports for a value passed as jsonb: the binary jsonb
// datum (PostgreSQL 12+ format), not the JSON text. The database caps cursors on that size, so the
// in-memory adapter computes the same figure to refuse exactly what the database refuses.
import type { JsonValue } from '../spec/v1/json-value.js';

const encoder = new TextEncoder();
const VARLENA_HEADER = 4;
const CONTAINER_HEADER = 4;
const JENTRY = 4;

const pad4 = (offset: number) => (offset + 3) & ~3;
const utf8Length = (text: string) => encoder.encode(text).byteLength;

/** Bytes of `value` as a jsonb datum (what `pg_column_size($1::jsonb)` returns for it). */
export function jsonbSize(value: JsonValue): number {
  return container(value, VARLENA_HEADER);
}

function isContainer(value: JsonValue): value is JsonValue[] | { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null;
}

/** Writes `value` as a container at `offset` (a top-level scalar becomes a one-element raw array). */
function container(value: JsonValue, offset: number): number {
  if (!isContainer(value)) return scalar(value, offset + CONTAINER_HEADER + JENTRY);
  if (Array.isArray(value)) {
    let end = offset + CONTAINER_HEADER + JENTRY * value.length;
    for (const element of value) end = child(element, end);
    return end;
  }
  // Keys are stored sorted by (length, bytes), all keys first, then the values in that order; the
  // order matters because numbers and nested containers are padded to 4-byte boundaries.
  const keys = Object.keys(value)
    .filter((key) => value[key] !== undefined)
    .map((key) => ({ key, bytes: encoder.encode(key) }))
    .sort((a, b) => a.bytes.byteLength - b.bytes.byteLength || Buffer.compare(a.bytes, b.bytes));
  let end = offset + CONTAINER_HEADER + 2 * JENTRY * keys.length;
  for (const { bytes } of keys) end += bytes.byteLength;
  for (const { key } of keys) end = child(value[key] as JsonValue, end);
  return end;
}

function child(value: JsonValue, offset: number): number {
  return isContainer(value) ? container(value, pad4(offset)) : scalar(value, offset);
}

function scalar(value: JsonValue, offset: number): number {
  if (value === null || typeof value === 'boolean') return offset;
  if (typeof value === 'string') return offset + utf8Length(value);
  return pad4(offset) + numericSize(value as number);
}

/**
 * A numeric datum: varlena header, a 2-byte header (4 bytes when the scale or weight is too large
 * for the short form), and 2 bytes per base-10000 digit, leading and trailing zero digits dropped.
 */
export function numericSize(value: number): number {
  const text = JSON.stringify(value);
  const match = /^-?(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!match) return VARLENA_HEADER + 2;
  let digits = `${match[1] ?? ''}${match[2] ?? ''}`;
  let point = (match[1] ?? '').length + Number(match[3] ?? 0);
  // Place the decimal point inside the digit string.
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  } else if (point > digits.length) {
    digits += '0'.repeat(point - digits.length);
  }
  const integer = digits.slice(0, point).replace(/^0+/, '');
  const fraction = digits.slice(point).replace(/0+$/, '');
  const dscale = fraction.length;
  const intGroups = Math.ceil(integer.length / 4);
  const groups: string[] = [];
  const paddedInteger = integer.padStart(intGroups * 4, '0');
  for (let i = 0; i < paddedInteger.length; i += 4) groups.push(paddedInteger.slice(i, i + 4));
  const paddedFraction = fraction.padEnd(Math.ceil(fraction.length / 4) * 4, '0');
  for (let i = 0; i < paddedFraction.length; i += 4) groups.push(paddedFraction.slice(i, i + 4));
  let first = 0;
  while (first < groups.length && /^0+$/.test(groups[first] as string)) first++;
  let last = groups.length;
  while (last > first && /^0+$/.test(groups[last - 1] as string)) last--;
  const ndigits = last - first;
  if (ndigits === 0) return VARLENA_HEADER + 2;
  const weight = intGroups - 1 - first;
  const short = dscale <= 0x3f && weight >= -64 && weight <= 63;
  return VARLENA_HEADER + (short ? 2 : 4) + 2 * ndigits;
}
