import {
  type ConnectorChange,
  type ConnectorStateEntry,
  reportSyncTotal,
  type SyncContext,
} from '@tributary/core';
import { mapNotionPage } from './map-notion-page.js';
import type { NotionApi } from './notion-api.js';
import { isTrashed, type NotionDataSource, type NotionPage } from './notion-api-types.js';
import {
  addIncomplete,
  laterOf,
  type NotionChangesCursor,
  type NotionListingCursor,
  toCursorJson,
} from './notion-cursor.js';
import { isGone } from './notion-errors.js';
import { NODES_NAMESPACE, NotionNodes, NotionScope, nodeOfDataSource, nodeOfPage } from './notion-nodes.js';
import {
  DEFAULT_MAX_DEPTH,
  type NotionConfig,
  type NotionConnectorSettings,
  type NotionCredentials,
} from './notion-settings.js';

type Ctx = SyncContext<NotionConfig, NotionCredentials>;

/** Pages stored with each page node during a full listing (namespace `pages`), for the emit phase. */
export const PAGES_NAMESPACE = 'pages';
/**
 * Below the state store's 64 KB value cap. A page with larger properties (long rich text in many
 * columns) is stored as its id only and read again when emitted.
 */
const MAX_STORED_PAGE_CHARS = 60_000;
/** Upserts between two checkpoints of the emit phase. */
export const EMIT_CHECKPOINT_EVERY = 50;

export interface SyncDeps {
  ctx: Ctx;
  api: NotionApi;
  settings: NotionConnectorSettings;
}

export function isPage(result: NotionPage | NotionDataSource): result is NotionPage {
  return result.object === 'page';
}

/** Path, scope and mapping of one page against the known nodes (`undefined`: out of scope). */
export async function toUpsert(
  deps: SyncDeps,
  nodes: NotionNodes,
  scope: NotionScope,
  page: NotionPage,
): Promise<ConnectorChange | undefined> {
  const node = nodeOfPage(page);
  const { ids, titles } = await nodes.ancestry(page.id, node);
  const path = titles.join(' / ');
  if (!scope.contains(ids, path, node.title)) return undefined;
  return {
    kind: 'upsert',
    document: mapNotionPage(page, {
      api: deps.api,
      maxDepth: deps.settings.maxDepth ?? DEFAULT_MAX_DEPTH,
      path,
      propertiesHeader: deps.ctx.config.propertiesHeader !== false,
      now: nowOf(deps.settings),
      permissions: { credentials: deps.ctx.credentials, readers: deps.ctx.config.readers },
    }),
  };
}

export function nowOf(settings: NotionConnectorSettings): number {
  return (settings.now ?? Date.now)();
}

/** A full sync from scratch: forget the nodes of earlier runs, then discover and emit. */
export async function* syncFull(deps: SyncDeps): AsyncGenerator<ConnectorChange> {
  deps.ctx.state.clear(NODES_NAMESPACE);
  deps.ctx.state.clear(PAGES_NAMESPACE);
  const cursor: NotionListingCursor = {
    v: 1,
    phase: 'discover',
    object: 'data_source',
    since: null,
    discovered: 0,
    incomplete: [],
    startedAt: new Date(nowOf(deps.settings)).toISOString(),
  };
  yield* syncListing(deps, cursor);
}

/**
 * Discover: every data source and page shared with the integration, through search (newest
 * first), each written to the state (so paths and scope can be resolved whatever the order).
 * Emit: the pages in scope, in key order. A checkpoint follows every search page and every
 * `EMIT_CHECKPOINT_EVERY` upserts, so a crash resumes where it stopped.
 */
export async function* syncListing(
  deps: SyncDeps,
  cursor: NotionListingCursor,
): AsyncGenerator<ConnectorChange> {
  const { ctx, api } = deps;
  const nodes = new NotionNodes(api, ctx.state);
  const scope = new NotionScope(ctx.config);
  const keepPage = (result: NotionPage, isNew: boolean) => {
    nodes.set(result.id, nodeOfPage(result));
    const oversized = JSON.stringify(result).length > MAX_STORED_PAGE_CHARS;
    ctx.state.set(PAGES_NAMESPACE, result.id, oversized ? { oversized: true } : (result as never));
    if (isNew) cursor.discovered += 1;
  };
  while (cursor.phase === 'discover') {
    if (cursor.object === 'rows') {
      yield* queryRows(deps, cursor, keepPage);
      continue;
    }
    const page = await api.search(cursor.object, cursor.searchCursor);
    if (page.request_status?.type === 'incomplete') {
      addIncomplete(
        cursor,
        `Notion's search stopped early (${page.request_status.incomplete_reason ?? 'no reason given'})`,
      );
    }
    for (const result of page.results) {
      if (isTrashed(result)) continue;
      cursor.since = laterOf(cursor.since, result.last_edited_time);
      if (isPage(result)) keepPage(result, true);
      else nodes.set(result.id, nodeOfDataSource(result));
    }
    cursor.searchCursor = page.has_more && page.next_cursor ? page.next_cursor : undefined;
    if (!cursor.searchCursor) {
      if (cursor.object === 'data_source') cursor.object = 'page';
      else if ((ctx.config.dataSourceIds?.length ?? 0) > 0) {
        cursor.object = 'rows';
        cursor.rowsIndex = 0;
      } else cursor.phase = 'emit';
    }
    yield { kind: 'checkpoint', cursor: toCursorJson(cursor) };
  }
  for (const root of [...(ctx.config.rootPageIds ?? []), ...(ctx.config.dataSourceIds ?? [])]) {
    if (!(await nodes.get(root, null))) {
      addIncomplete(cursor, `${root} is not shared with the integration (or was trashed)`);
    }
  }
  if (scope.everything && !ctx.config.includePaths && !ctx.config.excludePaths) {
    reportSyncTotal(ctx as SyncContext<unknown, unknown>, cursor.discovered);
  }
  let sinceCheckpoint = 0;
  for await (const entry of ctx.state.iterate(PAGES_NAMESPACE, { after: cursor.afterKey })) {
    const page = await entryPage(api, entry);
    const change = page ? await toUpsert(deps, nodes, scope, page) : undefined;
    cursor.afterKey = entry.key;
    if (change) {
      yield change;
      sinceCheckpoint += 1;
    }
    if (sinceCheckpoint >= EMIT_CHECKPOINT_EVERY) {
      sinceCheckpoint = 0;
      yield { kind: 'checkpoint', cursor: toCursorJson(cursor) };
    }
  }
  const complete = cursor.incomplete.length === 0;
  yield { kind: 'listing-complete', complete, ...(complete ? {} : { reason: cursor.incomplete.join('; ') }) };
  // The full pages are only needed during the listing.
  ctx.state.clear(PAGES_NAMESPACE);
  // A complete listing is a delete sweep (core sweeps after it): the next one is due from its start.
  const next: NotionChangesCursor = {
    v: 1,
    phase: 'changes',
    since: cursor.since,
    sweptAt: complete ? (cursor.startedAt ?? null) : null,
  };
  yield { kind: 'checkpoint', cursor: toCursorJson(next) };
}

/**
 * One page of rows of a configured data source (`POST /v1/data_sources/{id}/query`, the
 * documented way to list a data source): search can lag behind recent changes, so a row search
 * has not indexed yet is still synced. Rows search already found are rewritten, not counted twice.
 */
async function* queryRows(
  deps: SyncDeps,
  cursor: NotionListingCursor,
  keepPage: (page: NotionPage, isNew: boolean) => void,
): AsyncGenerator<ConnectorChange> {
  const { ctx, api } = deps;
  const dataSourceIds = ctx.config.dataSourceIds ?? [];
  const dataSourceId = dataSourceIds[cursor.rowsIndex ?? 0];
  if (dataSourceId === undefined) {
    cursor.phase = 'emit';
    return;
  }
  let next: string | undefined;
  try {
    const page = await api.queryDataSource(dataSourceId, cursor.searchCursor);
    const known = await ctx.state.get(
      PAGES_NAMESPACE,
      page.results.map((row) => row.id),
    );
    for (const row of page.results) {
      if (isTrashed(row)) continue;
      cursor.since = laterOf(cursor.since, row.last_edited_time);
      keepPage(row, !known.has(row.id));
    }
    next = page.has_more && page.next_cursor ? page.next_cursor : undefined;
  } catch (error) {
    if (!isGone(error)) throw error;
    addIncomplete(
      cursor,
      `data source ${dataSourceId} cannot be queried (not shared with the integration, or deleted)`,
    );
  }
  cursor.searchCursor = next;
  if (!next) cursor.rowsIndex = (cursor.rowsIndex ?? 0) + 1;
  yield { kind: 'checkpoint', cursor: toCursorJson(cursor) };
}

/** The page stored at discovery, or read again when it was too large to store (`undefined`: gone since). */
async function entryPage(api: NotionApi, entry: ConnectorStateEntry): Promise<NotionPage | undefined> {
  const value = entry.value as unknown as NotionPage | { oversized: true };
  if (!('oversized' in value)) return value;
  try {
    const page = await api.retrievePage(entry.key);
    return isTrashed(page) ? undefined : page;
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}
