import type { ConnectorChange } from '@tributary/core';
import type { NotionDataSource, NotionPage } from './notion-api-types.js';
import { isTrashed } from './notion-api-types.js';
import { laterOf } from './notion-cursor.js';
import { isGone } from './notion-errors.js';
import {
  NODES_NAMESPACE,
  type NotionNode,
  type NotionNodes,
  type NotionScope,
  nodeOfDataSource,
  nodeOfPage,
} from './notion-nodes.js';
import { isPage, type SyncDeps, toUpsert } from './notion-sync.js';

/**
 * Known data sources missing from a complete listing are confirmed one by one before their rows
 * are deleted, and not at all when more than this share is missing at once (a lagging index).
 */
const MAX_MISSING_FRACTION = 0.5;

/** What an incremental run learns from the data source listing. */
export interface DataSourceChanges {
  /** Newest `last_edited_time` seen. */
  newest: string | null;
  /** Rows handled here (the page search need not yield them again). */
  handledRows: Set<string>;
}

/**
 * Incremental handling of data sources, every run: they are few, so all of them are listed (one
 * search call per 100). Compared with what the last run stored, this finds the changes that move
 * no row's edit time and that a search stopping at the cursor would miss:
 * - a new data source (created, newly shared, restored from the trash): its rows are queried;
 * - a schema change, a rename or a move: its rows are queried again (each row's version carries
 *   its path and property names, so the changed ones are stored again, the rest skipped);
 * - a data source trashed, deleted or no longer shared: its known rows are deleted.
 * This is what a `data_source.*` webhook event (other than row content) triggers: one data
 * source's rows, not the workspace.
 */
export async function* syncDataSources(
  deps: SyncDeps,
  nodes: NotionNodes,
  scope: NotionScope,
  since: string | null,
): AsyncGenerator<ConnectorChange, DataSourceChanges> {
  const { ctx, api } = deps;
  const listed = new Map<string, NotionDataSource>();
  let complete = true;
  let searchCursor: string | undefined;
  do {
    const page = await api.search('data_source', searchCursor);
    if (page.request_status?.type === 'incomplete') complete = false;
    for (const result of page.results) if (!isPage(result)) listed.set(result.id, result);
    searchCursor = page.has_more && page.next_cursor ? page.next_cursor : undefined;
  } while (searchCursor);

  const changes: DataSourceChanges = { newest: since, handledRows: new Set() };
  const gone: string[] = [];
  const rowPasses: string[] = [];
  for (const dataSource of listed.values()) {
    changes.newest = laterOf(changes.newest, dataSource.last_edited_time);
    if (isTrashed(dataSource)) {
      gone.push(dataSource.id);
      continue;
    }
    const before = await nodes.get(dataSource.id, null);
    const node = nodeOfDataSource(dataSource);
    // A partial object (no properties) says nothing about the schema: keep what is known.
    if (node.signature === undefined && before?.signature !== undefined) node.signature = before.signature;
    if (sameNode(before, node)) continue;
    nodes.set(dataSource.id, node);
    // A node stored before schema signatures existed is brought up to date, not re-queried.
    if (before && before.signature === undefined && node.signature !== undefined) continue;
    rowPasses.push(dataSource.id);
  }

  // Known data sources the listing no longer returns: gone only when Notion confirms it.
  const missing: string[] = [];
  let known = 0;
  for await (const entry of ctx.state.iterate(NODES_NAMESPACE)) {
    if ((entry.value as unknown as NotionNode).kind !== 'data_source') continue;
    known += 1;
    if (!listed.has(entry.key)) missing.push(entry.key);
  }
  if (!complete || missing.length > Math.max(2, known * MAX_MISSING_FRACTION)) {
    if (missing.length > 0) {
      ctx.logger.warn(
        'Notion data sources missing from search were not deleted (listing incomplete or too many)',
        {
          missing: missing.length,
          known,
        },
      );
    }
  } else {
    for (const id of missing) {
      try {
        if (isTrashed(await api.retrieveDataSource(id))) gone.push(id);
      } catch (error) {
        if (!isGone(error)) throw error;
        gone.push(id);
      }
    }
  }

  for (const id of gone) {
    yield* dropRows(deps, nodes, id, new Set());
    nodes.delete(id);
  }
  for (const id of rowPasses) yield* rowPass(deps, nodes, scope, id, changes);
  return changes;
}

function sameNode(a: NotionNode | undefined, b: NotionNode): boolean {
  return (
    a !== undefined &&
    a.title === b.title &&
    a.parentId === b.parentId &&
    a.parentType === b.parentType &&
    a.signature === b.signature
  );
}

/**
 * Every row of one data source (`POST /v1/data_sources/{id}/query`, 100 per call; the query is
 * authoritative, unlike search): each is upserted (or deleted when out of scope), and known rows
 * the query no longer returns (trashed, moved out) are deleted.
 */
async function* rowPass(
  deps: SyncDeps,
  nodes: NotionNodes,
  scope: NotionScope,
  dataSourceId: string,
  changes: DataSourceChanges,
): AsyncGenerator<ConnectorChange> {
  const seen = new Set<string>();
  const dataSource = await nodes.get(dataSourceId, null);
  if (dataSource && !scope.mayContain((await nodes.ancestry(dataSourceId, dataSource)).ids)) {
    // Outside every configured root (moved out, or never in): only rows synced before leave.
    yield* dropRows(deps, nodes, dataSourceId, seen);
    return;
  }
  let queryCursor: string | undefined;
  do {
    let page: Awaited<ReturnType<SyncDeps['api']['queryDataSource']>>;
    try {
      page = await deps.api.queryDataSource(dataSourceId, queryCursor);
    } catch (error) {
      if (!isGone(error)) throw error;
      // Unshared between the listing and now: its rows leave.
      yield* dropRows(deps, nodes, dataSourceId, seen);
      nodes.delete(dataSourceId);
      return;
    }
    const live: NotionPage[] = page.results.filter((row) => !isTrashed(row));
    const known = await deps.ctx.state.get(
      NODES_NAMESPACE,
      live.map((row) => row.id),
    );
    for (const row of live) nodes.set(row.id, nodeOfPage(row));
    for (const row of live) {
      seen.add(row.id);
      changes.handledRows.add(row.id);
      changes.newest = laterOf(changes.newest, row.last_edited_time);
      const change = await toUpsert(deps, nodes, scope, row);
      // Out of scope (an exclude pattern): a delete only for a row that may have been stored.
      if (change) yield change;
      else if (known.has(row.id)) yield { kind: 'delete', externalId: row.id };
    }
    queryCursor = page.has_more && page.next_cursor ? page.next_cursor : undefined;
  } while (queryCursor);
  yield* dropRows(deps, nodes, dataSourceId, seen);
}

/** Deletes the known rows of a data source, except `keep`. */
async function* dropRows(
  deps: SyncDeps,
  nodes: NotionNodes,
  dataSourceId: string,
  keep: ReadonlySet<string>,
): AsyncGenerator<ConnectorChange> {
  const rows: string[] = [];
  for await (const entry of deps.ctx.state.iterate(NODES_NAMESPACE)) {
    const node = entry.value as unknown as NotionNode;
    if (node.kind === 'page' && node.parentId === dataSourceId && !keep.has(entry.key)) rows.push(entry.key);
  }
  for (const id of rows) {
    nodes.delete(id);
    yield { kind: 'delete', externalId: id };
  }
}
