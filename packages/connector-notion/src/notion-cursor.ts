import type { JsonValue } from '@tributary/core';

/**
 * A full listing in progress. Phase `discover` pages through search (data sources first, then
 * pages) writing each object into the `nodes` state namespace; phase `emit` walks that namespace
 * in key order and yields the pages in scope. Both resume exactly where a crash stopped them.
 */
export interface NotionListingCursor {
  v: 1;
  phase: 'discover' | 'emit';
  /** Which search is being paged (discover); `rows`: the configured data sources are queried. */
  object: 'data_source' | 'page' | 'rows';
  /** Search or query `start_cursor` of the next page (discover). */
  searchCursor?: string | undefined;
  /** Index into `dataSourceIds` of the data source being queried (`rows`). */
  rowsIndex?: number | undefined;
  /** Last node key emitted (emit). */
  afterKey?: string | undefined;
  /** Newest `last_edited_time` seen: where the next incremental sync stops. */
  since: string | null;
  /** Pages discovered so far. */
  discovered: number;
  /** Why the listing is incomplete (at most 20 kept). */
  incomplete: string[];
  /** When the listing started (ISO 8601): a complete one is the last delete sweep. */
  startedAt?: string | undefined;
}

/** Between syncs: search results older than `since` are unchanged. */
export interface NotionChangesCursor {
  v: 1;
  phase: 'changes';
  since: string | null;
  /** When every page id was last listed (a full sync or an incremental delete sweep), ISO 8601. */
  sweptAt?: string | null | undefined;
}

export type NotionCursor = NotionListingCursor | NotionChangesCursor;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The cursor if it is one of ours; anything else (corrupt, another connector's) is ignored. */
export function parseNotionCursor(value: JsonValue | undefined): NotionCursor | undefined {
  if (!isObject(value) || value.v !== 1) return undefined;
  const since = value.since;
  if (since !== null && typeof since !== 'string') return undefined;
  if (value.phase === 'changes') return value as unknown as NotionChangesCursor;
  if (
    (value.phase === 'discover' || value.phase === 'emit') &&
    (value.object === 'page' || value.object === 'data_source' || value.object === 'rows') &&
    Array.isArray(value.incomplete) &&
    typeof value.discovered === 'number'
  ) {
    return value as unknown as NotionListingCursor;
  }
  return undefined;
}

/** A detached JSON copy: the pipeline may keep the object while the connector mutates its own. */
export function toCursorJson(cursor: NotionCursor): JsonValue {
  return JSON.parse(JSON.stringify(cursor)) as JsonValue;
}

export function addIncomplete(cursor: NotionListingCursor, reason: string): void {
  if (cursor.incomplete.length < 20 && !cursor.incomplete.includes(reason)) cursor.incomplete.push(reason);
}

/** The later of two Notion timestamps (ISO 8601 strings of one format compare as strings). */
export function laterOf(a: string | null, b: string): string {
  return a === null || b > a ? b : a;
}
