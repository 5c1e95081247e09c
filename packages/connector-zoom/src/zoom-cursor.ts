import type { JsonValue } from '@tributary/core';
import { WINDOW_DAYS } from './zoom-settings.js';

/**
 * Where a sync stands. Small by design (the user list and the meeting index live in
 * `ctx.state`): a listing in progress (`phase: 'listing'`, resumable page by page) or the
 * quiet time between syncs (`phase: 'idle'`).
 */
export interface ZoomCursor {
  version: 1;
  phase: 'listing' | 'idle';
  /** The oldest day ever synced: fixed at the first sync so the window never drifts. */
  startDate: string;
  /** Last day covered by the last completed listing (an incremental sync starts before it). */
  syncedThrough?: string | undefined;
  /** The listing in progress. */
  listing?: ZoomListing | undefined;
}

export interface ZoomListing {
  /** A full listing ends with `listing-complete` (the sweep); an incremental one finds deletes itself. */
  kind: 'full' | 'incremental';
  /** First and last day listed (YYYY-MM-DD, inclusive). */
  from: string;
  to: string;
  /** Users in `ctx.state` (`listing-users`), and the one being listed. */
  userCount: number;
  userIndex: number;
  windowIndex: number;
  /** The next page of the current window, and when Zoom issued it (tokens live 15 minutes). */
  pageToken?: string | undefined;
  pageTokenAt?: number | undefined;
  /** The current window was resumed mid-way: its earlier pages are not known, so no delete detection. */
  partialWindow?: boolean | undefined;
  /** Why the listing is not complete (a user could not be listed). */
  incomplete: string[];
}

export function parseZoomCursor(value: JsonValue | undefined): ZoomCursor | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const cursor = value as unknown as ZoomCursor;
  if (cursor.version !== 1 || typeof cursor.startDate !== 'string') return undefined;
  return cursor;
}

export function toCursorJson(cursor: ZoomCursor): JsonValue {
  return JSON.parse(JSON.stringify(cursor)) as JsonValue;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** `YYYY-MM-DD` of an epoch-milliseconds instant (UTC). */
export function dayOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return dayOf(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS);
}

/** The same day `months` months earlier (clamped to the month's end). */
export function monthsBefore(day: string, months: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(date.getUTCDate(), lastDay));
  return dayOf(target.getTime());
}

/** Number of windows (`WINDOW_DAYS` long) covering [from, to]. */
export function windowCount(from: string, to: string): number {
  const days = Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
  return Math.max(1, Math.ceil(days / WINDOW_DAYS));
}

/** Window `index` of [from, to]: `WINDOW_DAYS` days (Zoom refuses ranges over one month), the last one shorter. */
export function windowAt(from: string, to: string, index: number): { from: string; to: string } {
  const start = addDays(from, index * WINDOW_DAYS);
  const end = addDays(start, WINDOW_DAYS - 1);
  return { from: start, to: end < to ? end : to };
}
