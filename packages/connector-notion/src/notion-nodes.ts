import { createHash } from 'node:crypto';
import type { ConnectorState, JsonValue } from '@tributary/core';
import { pageTitle } from './map-notion-page.js';
import type { NotionApi } from './notion-api.js';
import { type NotionDataSource, type NotionPage, type NotionParent, plainText } from './notion-api-types.js';
import { isGone } from './notion-errors.js';
import type { NotionConfig } from './notion-settings.js';

export const NODES_NAMESPACE = 'nodes';

type ParentType = 'page_id' | 'data_source_id' | 'database_id' | 'block_id';

/** What the connector remembers of a page, data source or block: enough for paths and scope. */
export interface NotionNode {
  kind: 'page' | 'data_source' | 'block';
  title: string;
  parentId: string | null;
  parentType: ParentType | null;
  edited?: string | undefined;
  /** Data sources: a digest of the schema (property names and types), to notice schema changes. */
  signature?: string | undefined;
}

function parentOf(parent: NotionParent | undefined): Pick<NotionNode, 'parentId' | 'parentType'> {
  switch (parent?.type) {
    case 'page_id':
      return { parentId: parent.page_id, parentType: 'page_id' };
    case 'data_source_id':
      return { parentId: parent.data_source_id, parentType: 'data_source_id' };
    case 'database_id':
      return { parentId: parent.database_id, parentType: 'database_id' };
    case 'block_id':
      return { parentId: parent.block_id, parentType: 'block_id' };
    default:
      return { parentId: null, parentType: null };
  }
}

export function nodeOfPage(page: NotionPage): NotionNode {
  return { kind: 'page', title: pageTitle(page), ...parentOf(page.parent), edited: page.last_edited_time };
}

/** A data source hangs below its database's parent (the database itself has no content of its own). */
export function nodeOfDataSource(dataSource: NotionDataSource): NotionNode {
  return {
    kind: 'data_source',
    title: plainText(dataSource.title).trim() || 'Untitled data source',
    ...parentOf(dataSource.database_parent ?? dataSource.parent),
    edited: dataSource.last_edited_time,
    // Absent from partial objects: no signature then, rather than one that never matches.
    signature: dataSource.properties
      ? schemaSignature(
          Object.entries(dataSource.properties).map(([name, property]) => [name, property.type]),
        )
      : undefined,
  };
}

/** A short digest of a schema: property names and types, in name order. */
export function schemaSignature(properties: ReadonlyArray<readonly [string, string]>): string {
  const canonical = [...properties]
    .map(([name, type]) => `${name}\u0000${type}`)
    .sort()
    .join('\u0001');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

const MAX_ANCESTRY = 64;
const MAX_CACHE = 20_000;

/**
 * The nodes known to the connector: `ctx.state` during a sync (committed with each checkpoint), or
 * the API alone (`fetchDocument`, which has no state). A node the state lacks is looked up in the
 * API only where that is the one way to know it (a page nested in a block, and anything in
 * API-only mode); a parent the integration cannot see ends the chain.
 */
export class NotionNodes {
  private readonly cache = new Map<string, NotionNode | null>();

  constructor(
    private readonly api: NotionApi,
    private readonly state: ConnectorState | undefined,
  ) {}

  set(id: string, node: NotionNode): void {
    this.remember(id, node);
    this.state?.set(NODES_NAMESPACE, id, node as unknown as JsonValue);
  }

  delete(id: string): void {
    this.cache.delete(id);
    this.state?.delete(NODES_NAMESPACE, id);
  }

  private remember(id: string, node: NotionNode | null): void {
    if (this.cache.size >= MAX_CACHE) this.cache.clear();
    this.cache.set(id, node);
  }

  async get(id: string, type: ParentType | null): Promise<NotionNode | undefined> {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached ?? undefined;
    if (this.state) {
      const stored = (await this.state.get(NODES_NAMESPACE, [id])).get(id);
      if (stored !== undefined) {
        const node = stored as unknown as NotionNode;
        this.remember(id, node);
        return node;
      }
      if (type !== 'block_id') return undefined;
    }
    const fetched = await this.fetch(id, type);
    this.remember(id, fetched ?? null);
    return fetched;
  }

  private async fetch(id: string, type: ParentType | null): Promise<NotionNode | undefined> {
    try {
      if (type === 'page_id') return nodeOfPage(await this.api.retrievePage(id));
      if (type === 'data_source_id') return nodeOfDataSource(await this.api.retrieveDataSource(id));
      if (type === 'block_id') {
        const block = await this.api.retrieveBlock(id);
        return { kind: 'block', title: '', ...parentOf(block.parent) };
      }
      return undefined;
    } catch (error) {
      if (isGone(error)) return undefined;
      throw error;
    }
  }

  /** Ids and titles from the top of the workspace down to (and including) `node`. */
  async ancestry(id: string, node: NotionNode): Promise<{ ids: string[]; titles: string[] }> {
    const ids = [id];
    const titles = [node.title];
    let current = node;
    for (let step = 0; step < MAX_ANCESTRY && current.parentId; step++) {
      if (ids.includes(current.parentId)) break;
      const parent = await this.get(current.parentId, current.parentType);
      ids.unshift(current.parentId);
      if (!parent) break;
      if (parent.kind !== 'block') titles.unshift(parent.title);
      current = parent;
    }
    return { ids, titles };
  }
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

/** The config's scope: roots (pages, data sources) and include/exclude globs on path or title. */
export class NotionScope {
  private readonly roots: Set<string> | undefined;
  private readonly include: RegExp[] | undefined;
  private readonly exclude: RegExp[];

  constructor(config: NotionConfig) {
    const roots = [...(config.rootPageIds ?? []), ...(config.dataSourceIds ?? [])];
    this.roots = roots.length > 0 ? new Set(roots) : undefined;
    this.include = config.includePaths?.map(globToRegExp);
    this.exclude = (config.excludePaths ?? []).map(globToRegExp);
  }

  get everything(): boolean {
    return this.roots === undefined;
  }

  /** Whether anything with this ancestry can be in scope (a configured root is among the ids). */
  mayContain(ancestorIds: readonly string[]): boolean {
    return !this.roots || ancestorIds.some((id) => this.roots?.has(id));
  }

  /** Whether a page with this ancestry (ids top-down, itself last) and path is synced. */
  contains(ancestorIds: readonly string[], path: string, title: string): boolean {
    if (this.roots && !ancestorIds.some((id) => this.roots?.has(id))) return false;
    const matches = (pattern: RegExp) => pattern.test(path) || pattern.test(title);
    if (this.include && !this.include.some(matches)) return false;
    return !this.exclude.some(matches);
  }
}
