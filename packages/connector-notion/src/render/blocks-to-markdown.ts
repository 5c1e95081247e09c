import type { NotionBlock, NotionList, NotionRichText } from '../notion-api-types.js';
import { isGone } from '../notion-errors.js';
import { notionUrl, renderRichText } from './rich-text.js';

export interface RenderOptions {
  /** One page of a block's children (the connector's rate-limited, retried call). */
  listChildren(blockId: string, startCursor: string | undefined): Promise<NotionList<NotionBlock>>;
  /** Nesting levels fetched below the page; deeper content is noted, not fetched. */
  maxDepth: number;
  /** The page being rendered: hosted files link to their block in it (their own URLs expire). */
  pageId: string;
}

/** What rendering counted, for logs and metadata. */
export interface RenderStats {
  blocks: number;
  unsupported: number;
  truncatedAtDepth: number;
}

interface RenderState extends RenderOptions {
  stats: RenderStats;
  /** Synced blocks being resolved (a synced block cannot contain itself, but guard anyway). */
  resolving: Set<string>;
}

const LIST_TYPES = new Set(['bulleted_list_item', 'numbered_list_item', 'to_do', 'toggle']);

/**
 * Renders a page's blocks as Markdown a reader would accept as the page. Children are fetched
 * page by page (100 at a time: long pages and deep nesting are complete), up to `maxDepth`.
 */
export async function renderBlocksToMarkdown(
  rootBlockId: string,
  options: RenderOptions,
): Promise<{ markdown: string; stats: RenderStats }> {
  const state: RenderState = {
    ...options,
    stats: { blocks: 0, unsupported: 0, truncatedAtDepth: 0 },
    resolving: new Set(),
  };
  const markdown = await renderChildren(rootBlockId, 0, state);
  return { markdown: `${markdown.trim()}\n`, stats: state.stats };
}

async function* childrenOf(blockId: string, state: RenderState): AsyncGenerator<NotionBlock> {
  let cursor: string | undefined;
  do {
    const page = await state.listChildren(blockId, cursor);
    for (const block of page.results) yield block;
    cursor = page.has_more && page.next_cursor ? page.next_cursor : undefined;
  } while (cursor);
}

/** The blocks under `blockId` (depth = their nesting level), joined: list items tight, others apart. */
async function renderChildren(blockId: string, depth: number, state: RenderState): Promise<string> {
  const parts: string[] = [];
  let previousWasList = false;
  let number = 0;
  for await (const block of childrenOf(blockId, state)) {
    state.stats.blocks += 1;
    number = block.type === 'numbered_list_item' ? number + 1 : 0;
    const text = await renderBlock(block, depth, number, state);
    if (text === undefined) continue;
    const isList = LIST_TYPES.has(block.type);
    if (parts.length > 0) parts.push(isList && previousWasList ? '\n' : '\n\n');
    parts.push(text);
    previousWasList = isList;
  }
  return parts.join('');
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `${prefix}${line}`))
    .join('\n');
}

function quote(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');
}

/** Children of a block at `depth + 1`, or a note when the depth limit stops there. */
async function nested(
  block: NotionBlock,
  depth: number,
  state: RenderState,
  from = block.id,
): Promise<string> {
  if (!block.has_children && from === block.id) return '';
  if (depth + 1 > state.maxDepth) {
    state.stats.truncatedAtDepth += 1;
    return `_[nested content below depth ${state.maxDepth} not included]_`;
  }
  return renderChildren(from, depth + 1, state);
}

function dataOf<T>(block: NotionBlock): T {
  return (block[block.type] ?? {}) as T;
}

interface TextData {
  rich_text?: NotionRichText[];
  checked?: boolean;
  language?: string;
  caption?: NotionRichText[];
  icon?: { type: string; emoji?: string } | null;
  is_toggleable?: boolean;
}

interface FileData {
  type?: 'file' | 'external' | 'file_upload';
  external?: { url: string };
  file?: { url: string };
  caption?: NotionRichText[];
  name?: string;
}

async function renderBlock(
  block: NotionBlock,
  depth: number,
  number: number,
  state: RenderState,
): Promise<string | undefined> {
  const data = dataOf<TextData>(block);
  const text = () => renderRichText(data.rich_text);
  const withChildren = async (head: string, prefix: string) => {
    const children = await nested(block, depth, state);
    return children ? `${head}\n${indent(children, prefix)}` : head;
  };
  switch (block.type) {
    case 'paragraph': {
      const children = await nested(block, depth, state);
      return [text(), children && indent(children, '  ')].filter(Boolean).join('\n') || undefined;
    }
    case 'heading_1':
    case 'heading_2':
    case 'heading_3': {
      const level = Number(block.type.slice(-1));
      const children = await nested(block, depth, state);
      return children ? `${'#'.repeat(level)} ${text()}\n\n${children}` : `${'#'.repeat(level)} ${text()}`;
    }
    case 'bulleted_list_item':
      return withChildren(`- ${text()}`, '  ');
    case 'numbered_list_item':
      return withChildren(`${number}. ${text()}`, '   ');
    case 'to_do':
      return withChildren(`- [${data.checked ? 'x' : ' '}] ${text()}`, '  ');
    case 'toggle':
      return withChildren(`- ${text()}`, '  ');
    case 'quote': {
      const children = await nested(block, depth, state);
      return quote(children ? `${text()}\n\n${children}` : text());
    }
    case 'callout': {
      const icon = data.icon?.type === 'emoji' && data.icon.emoji ? `${data.icon.emoji} ` : '';
      const children = await nested(block, depth, state);
      return quote(children ? `${icon}${text()}\n\n${children}` : `${icon}${text()}`);
    }
    case 'code': {
      const body = renderPlain(data.rich_text);
      const fence = body.includes('```') ? '````' : '```';
      const language =
        data.language && data.language !== 'plain text' ? data.language.replace(/\s+/g, '-') : '';
      const caption = renderRichText(data.caption);
      return `${fence}${language}\n${body}\n${fence}${caption ? `\n\n${caption}` : ''}`;
    }
    case 'equation':
      return `$$\n${dataOf<{ expression?: string }>(block).expression ?? ''}\n$$`;
    case 'divider':
      return '---';
    case 'bookmark':
    case 'embed':
    case 'link_preview': {
      const url = dataOf<{ url?: string }>(block).url ?? '';
      const caption = renderRichText(data.caption);
      return `[${caption || url}](${url})`;
    }
    case 'image':
    case 'file':
    case 'pdf':
    case 'video':
    case 'audio':
      return renderFile(block, state);
    case 'table':
      return renderTable(block, state);
    case 'column_list':
    case 'column': {
      // Markdown has no columns: the columns are read one after the other.
      return (await nested(block, depth, state)) || undefined;
    }
    case 'synced_block':
      return renderSynced(block, depth, state);
    case 'child_page':
      return `[${dataOf<{ title?: string }>(block).title || 'Untitled'}](${notionUrl(block.id)})`;
    case 'child_database':
      return `[${dataOf<{ title?: string }>(block).title || 'Untitled database'} (database)](${notionUrl(block.id)})`;
    case 'link_to_page': {
      const target = dataOf<{ type?: string; page_id?: string; database_id?: string }>(block);
      const id = target.page_id ?? target.database_id ?? '';
      return `[Linked page](${notionUrl(id)})`;
    }
    case 'template':
      return (await nested(block, depth, state)) || undefined;
    case 'table_of_contents':
    case 'breadcrumb':
      // Navigation widgets: generated from the page itself, no content of their own.
      return undefined;
    default: {
      state.stats.unsupported += 1;
      return `_[unsupported Notion block: ${block.type}]_`;
    }
  }
}

/** Code and equations: the text as typed, annotations ignored. */
function renderPlain(richText: readonly NotionRichText[] | undefined): string {
  return (richText ?? []).map((item) => item.plain_text).join('');
}

function renderFile(block: NotionBlock, state: RenderState): string {
  const data = dataOf<FileData>(block);
  const caption = renderRichText(data.caption);
  // Hosted files have signed URLs that expire within hours: a link to the block stays valid, and
  // the content hash does not change at every sync.
  const url =
    data.type === 'external' && data.external ? data.external.url : notionUrl(state.pageId, block.id);
  const label = caption || data.name || (data.type === 'external' ? url : `${block.type} attachment`);
  return block.type === 'image' ? `![${label}](${url})` : `[${label}](${url})`;
}

async function renderTable(block: NotionBlock, state: RenderState): Promise<string> {
  const table = dataOf<{ table_width?: number; has_column_header?: boolean; has_row_header?: boolean }>(
    block,
  );
  const rows: string[][] = [];
  for await (const row of childrenOf(block.id, state)) {
    state.stats.blocks += 1;
    const cells = dataOf<{ cells?: NotionRichText[][] }>(row).cells ?? [];
    rows.push(cells.map((cell) => renderRichText(cell).replace(/\|/g, '\\|').replace(/\n/g, ' ')));
  }
  if (rows.length === 0) return '';
  const width = Math.max(table.table_width ?? 0, ...rows.map((row) => row.length));
  const line = (cells: string[]) =>
    `| ${Array.from({ length: width }, (_, index) => cells[index] ?? '').join(' | ')} |`;
  // GFM needs a header row: without a column header in Notion, an empty one keeps every row as data.
  const header = table.has_column_header ? (rows.shift() ?? []) : [];
  const separator = `| ${Array.from({ length: width }, () => '---').join(' | ')} |`;
  return [line(header), separator, ...rows.map(line)].join('\n');
}

async function renderSynced(
  block: NotionBlock,
  depth: number,
  state: RenderState,
): Promise<string | undefined> {
  const from = dataOf<{ synced_from?: { block_id?: string } | null }>(block).synced_from;
  // The original holds the content; a duplicate points at it and is rendered with its content.
  const source = from?.block_id ?? block.id;
  if (state.resolving.has(source)) return undefined;
  state.resolving.add(source);
  try {
    return (await nested({ ...block, has_children: true }, depth, state, source)) || undefined;
  } catch (error) {
    if (!isGone(error)) throw error;
    return '_[synced block: its original is not shared with the integration]_';
  } finally {
    state.resolving.delete(source);
  }
}
