// The data behind the fake Notion server: pages, blocks, data sources, with Notion's documented
// object shapes. Time is a fake clock that moves one minute per edit, in Notion's minute-rounded
// ISO format, so versions are deterministic.
import { randomUUID } from 'node:crypto';
import { type BlockInput, type RichTextInput, text } from './notion-fixtures.ts';

export const BOT_ID = '0b0b0b0b-0000-4000-8000-00000000b07a';
export const USER = { object: 'user', id: '11111111-1111-4111-8111-111111111111' };

type Json = Record<string, unknown>;

export interface FakePage {
  id: string;
  parent: Json;
  properties: Record<string, Json>;
  created: string;
  edited: string;
  inTrash: boolean;
  shared: boolean;
  publicUrl: string | null;
}

export interface FakeBlock {
  id: string;
  parent: Json;
  type: string;
  data: Json;
  edited: string;
}

export interface FakeDataSource {
  id: string;
  databaseId: string;
  title: string;
  parentPageId: string | null;
  schema: Record<string, string>;
  edited: string;
  inTrash: boolean;
  shared: boolean;
}

export interface PageInput {
  title: string;
  /** A page id, or nothing for the workspace top level. */
  parentPageId?: string | undefined;
  /** Nest the page in a block (a column, a toggle) of `parentPageId`. */
  parentBlockId?: string | undefined;
  blocks?: BlockInput[] | undefined;
  publicUrl?: string | undefined;
}

export interface RowInput {
  title: string;
  /** Values by property name: strings for rich_text/select, numbers, booleans, string[] for multi_select. */
  values?: Record<string, unknown> | undefined;
  blocks?: BlockInput[] | undefined;
}

export class FakeNotionStore {
  private minute = Date.parse('2026-01-01T00:00:00.000Z');
  readonly pages = new Map<string, FakePage>();
  readonly blocks = new Map<string, FakeBlock>();
  /** Ordered child block ids of a page or block. */
  readonly children = new Map<string, string[]>();
  readonly dataSources = new Map<string, FakeDataSource>();
  /** Pages search has not indexed yet (Notion's search is eventually consistent). */
  readonly notIndexed = new Set<string>();

  /** Next edit time: one minute later than the last (Notion rounds edit times to the minute). */
  tick(): string {
    this.minute += 60_000;
    return new Date(this.minute).toISOString();
  }

  addPage(input: PageInput): string {
    const id = randomUUID();
    const now = this.tick();
    const parent = input.parentBlockId
      ? { type: 'block_id', block_id: input.parentBlockId }
      : input.parentPageId
        ? { type: 'page_id', page_id: input.parentPageId }
        : { type: 'workspace', workspace: true };
    this.pages.set(id, {
      id,
      parent,
      properties: { title: { id: 'title', type: 'title', title: [text(input.title)] } },
      created: now,
      edited: now,
      inTrash: false,
      shared: true,
      publicUrl: input.publicUrl ?? null,
    });
    const container = input.parentBlockId ?? input.parentPageId;
    // As in Notion, a subpage is also a child_page block of its parent, with the page's id.
    if (container) this.insertBlock(container, { type: 'child_page', data: { title: input.title }, id }, now);
    this.appendBlocks(id, input.blocks ?? [], now);
    return id;
  }

  addDataSource(input: { title: string; parentPageId?: string; schema: Record<string, string> }): string {
    const id = randomUUID();
    const databaseId = randomUUID();
    const now = this.tick();
    this.dataSources.set(id, {
      id,
      databaseId,
      title: input.title,
      parentPageId: input.parentPageId ?? null,
      schema: { Name: 'title', ...input.schema },
      edited: now,
      inTrash: false,
      shared: true,
    });
    if (input.parentPageId) {
      this.insertBlock(
        input.parentPageId,
        { type: 'child_database', data: { title: input.title }, id: databaseId },
        now,
      );
    }
    return id;
  }

  addRow(dataSourceId: string, input: RowInput): string {
    const source = this.dataSources.get(dataSourceId);
    if (!source) throw new Error(`no data source ${dataSourceId}`);
    const id = randomUUID();
    const now = this.tick();
    const properties: Record<string, Json> = {};
    for (const [name, type] of Object.entries(source.schema)) {
      const value = type === 'title' ? input.title : input.values?.[name];
      properties[name] = propertyJson(name, type, value);
    }
    this.pages.set(id, {
      id,
      parent: { type: 'data_source_id', data_source_id: dataSourceId, database_id: source.databaseId },
      properties,
      created: now,
      edited: now,
      inTrash: false,
      shared: true,
      publicUrl: null,
    });
    this.appendBlocks(id, input.blocks ?? [], now);
    source.edited = now;
    return id;
  }

  /** Appends blocks (and their children) under a page or block; returns the new top-level ids. */
  appendBlocks(parentId: string, inputs: readonly BlockInput[], now = this.tick()): string[] {
    return inputs.map((input) => {
      const id = this.insertBlock(parentId, input, now);
      if (input.type !== 'child_page') this.appendBlocks(id, input.children ?? [], now);
      return id;
    });
  }

  private insertBlock(parentId: string, input: BlockInput, now: string): string {
    const id = input.id ?? randomUUID();
    const parent = this.pages.has(parentId)
      ? { type: 'page_id', page_id: parentId }
      : { type: 'block_id', block_id: parentId };
    this.blocks.set(id, { id, parent, type: input.type, data: input.data ?? {}, edited: now });
    const list = this.children.get(parentId) ?? [];
    list.push(id);
    this.children.set(parentId, list);
    return id;
  }

  /** Sets the fake clock (edits then happen one minute after it). */
  setClock(ms: number): void {
    this.minute = ms - (ms % 60_000);
  }

  /**
   * Replaces a page's content (and touches its edit time, as any block edit does). `sameMinute`:
   * the edit falls in the minute of the previous one, so Notion reports the same last_edited_time.
   */
  editPage(pageId: string, blocks: readonly BlockInput[], options: { sameMinute?: boolean } = {}): void {
    const page = this.requirePage(pageId);
    const now = options.sameMinute ? page.edited : this.tick();
    for (const childId of this.children.get(pageId) ?? []) {
      if (this.blocks.get(childId)?.type !== 'child_page') this.removeBlockTree(childId);
    }
    this.children.set(
      pageId,
      (this.children.get(pageId) ?? []).filter((id) => this.blocks.get(id)?.type === 'child_page'),
    );
    this.appendBlocks(pageId, blocks, now);
    page.edited = now;
  }

  /** Moves a page under another page (Notion's "Move to"). */
  movePage(pageId: string, newParentId: string): void {
    const page = this.requirePage(pageId);
    page.parent = { type: 'page_id', page_id: newParentId };
    page.edited = this.tick();
  }

  renamePage(pageId: string, title: string): void {
    const page = this.requirePage(pageId);
    const titleProperty = Object.values(page.properties).find((property) => property.type === 'title');
    if (titleProperty) titleProperty.title = [text(title)];
    page.edited = this.tick();
  }

  trashPage(pageId: string): void {
    const page = this.requirePage(pageId);
    page.inTrash = true;
    page.edited = this.tick();
  }

  /** Trashes a data source with its database: its rows go to the trash with it, as in Notion. */
  trashDataSource(dataSourceId: string, trashed = true): void {
    const source = this.requireDataSource(dataSourceId);
    source.inTrash = trashed;
    source.edited = this.tick();
    for (const page of this.pages.values()) {
      if (page.parent.data_source_id === dataSourceId) page.inTrash = trashed;
    }
  }

  /** Renames a property of a data source: every row's properties are keyed by the new name, no row's edit time moves. */
  renameProperty(dataSourceId: string, from: string, to: string): void {
    const source = this.requireDataSource(dataSourceId);
    const type = source.schema[from];
    if (type === undefined) throw new Error(`no property ${from}`);
    source.schema = Object.fromEntries(
      Object.entries(source.schema).map(([name, value]) => [name === from ? to : name, value]),
    );
    source.edited = this.tick();
    for (const page of this.pages.values()) {
      if (page.parent.data_source_id !== dataSourceId) continue;
      page.properties = Object.fromEntries(
        Object.entries(page.properties).map(([name, value]) => [name === from ? to : name, value]),
      );
    }
  }

  /** Moves a data source (its database) under another page. */
  moveDataSource(dataSourceId: string, parentPageId: string): void {
    const source = this.requireDataSource(dataSourceId);
    source.parentPageId = parentPageId;
    source.edited = this.tick();
  }

  requireDataSource(dataSourceId: string): FakeDataSource {
    const source = this.dataSources.get(dataSourceId);
    if (!source) throw new Error(`no data source ${dataSourceId}`);
    return source;
  }

  /** Edits a row's property value (its edit time moves). */
  setRowValue(pageId: string, property: string, value: string): void {
    const page = this.requirePage(pageId);
    const current = page.properties[property];
    if (!current) throw new Error(`no property ${property}`);
    page.properties[property] = propertyJson(property, String(current.type), value);
    page.edited = this.tick();
  }

  /** The integration loses access (the page's connection removed): 404 from then on. */
  unsharePage(pageId: string): void {
    this.requirePage(pageId).shared = false;
  }

  private removeBlockTree(blockId: string): void {
    for (const child of this.children.get(blockId) ?? []) this.removeBlockTree(child);
    this.children.delete(blockId);
    this.blocks.delete(blockId);
  }

  requirePage(pageId: string): FakePage {
    const page = this.pages.get(pageId);
    if (!page) throw new Error(`no page ${pageId}`);
    return page;
  }

  visible(pageId: string): FakePage | undefined {
    const page = this.pages.get(pageId);
    return page?.shared ? page : undefined;
  }

  pageJson(page: FakePage): Json {
    const title = Object.values(page.properties).find((property) => property.type === 'title');
    const slug = ((title?.title as RichTextInput[] | undefined)?.[0]?.plain_text ?? 'Untitled').replace(
      /\W+/g,
      '-',
    );
    return {
      object: 'page',
      id: page.id,
      created_time: page.created,
      last_edited_time: page.edited,
      created_by: USER,
      last_edited_by: USER,
      cover: null,
      icon: null,
      parent: page.parent,
      archived: page.inTrash,
      in_trash: page.inTrash,
      is_locked: false,
      properties: page.properties,
      url: `https://www.notion.so/${slug}-${page.id.replace(/-/g, '')}`,
      public_url: page.publicUrl,
    };
  }

  blockJson(block: FakeBlock): Json {
    return {
      object: 'block',
      id: block.id,
      parent: block.parent,
      created_time: block.edited,
      last_edited_time: block.edited,
      created_by: USER,
      last_edited_by: USER,
      has_children: block.type !== 'child_page' && (this.children.get(block.id)?.length ?? 0) > 0,
      archived: false,
      in_trash: false,
      type: block.type,
      [block.type]: block.data,
    };
  }

  dataSourceJson(source: FakeDataSource): Json {
    const properties: Record<string, Json> = {};
    for (const [name, type] of Object.entries(source.schema))
      properties[name] = { id: name, name, type, [type]: {} };
    return {
      object: 'data_source',
      id: source.id,
      created_time: source.edited,
      last_edited_time: source.edited,
      title: [text(source.title)],
      description: [],
      parent: { type: 'database_id', database_id: source.databaseId },
      database_parent: source.parentPageId
        ? { type: 'page_id', page_id: source.parentPageId }
        : { type: 'workspace', workspace: true },
      archived: source.inTrash,
      in_trash: source.inTrash,
      properties,
      url: `https://www.notion.so/${source.databaseId.replace(/-/g, '')}`,
    };
  }
}

function propertyJson(name: string, type: string, value: unknown): Json {
  const base = { id: name, type };
  switch (type) {
    case 'title':
    case 'rich_text':
      return { ...base, [type]: value === undefined ? [] : [text(String(value))] };
    case 'select':
    case 'status':
      return {
        ...base,
        [type]: value === undefined ? null : { id: String(value), name: String(value), color: 'default' },
      };
    case 'multi_select':
      return {
        ...base,
        multi_select: ((value as string[] | undefined) ?? []).map((item) => ({
          id: item,
          name: item,
          color: 'default',
        })),
      };
    case 'date':
      return {
        ...base,
        date: value === undefined ? null : { start: String(value), end: null, time_zone: null },
      };
    default:
      return { ...base, [type]: value ?? null };
  }
}
