// Builders for block and rich text payloads shaped like Notion's documented objects (2025-09-03).

export interface RichTextInput {
  type: 'text' | 'mention' | 'equation';
  plain_text: string;
  href: string | null;
  annotations: Record<string, unknown>;
  [key: string]: unknown;
}

const plainAnnotations = {
  bold: false,
  italic: false,
  strikethrough: false,
  underline: false,
  code: false,
  color: 'default',
};

export function text(
  content: string,
  annotations: Partial<Record<'bold' | 'italic' | 'strikethrough' | 'code' | 'underline', boolean>> = {},
  link?: string,
): RichTextInput {
  return {
    type: 'text',
    text: { content, link: link ? { url: link } : null },
    annotations: { ...plainAnnotations, ...annotations },
    plain_text: content,
    href: link ?? null,
  };
}

export function mentionUser(id: string, name: string): RichTextInput {
  return {
    type: 'mention',
    mention: { type: 'user', user: { object: 'user', id, name } },
    annotations: plainAnnotations,
    plain_text: `@${name}`,
    href: null,
  };
}

export function mentionPage(id: string, title: string): RichTextInput {
  return {
    type: 'mention',
    mention: { type: 'page', page: { id } },
    annotations: plainAnnotations,
    plain_text: title,
    href: `https://www.notion.so/${id.replace(/-/g, '')}`,
  };
}

export function mentionDate(start: string, end?: string): RichTextInput {
  return {
    type: 'mention',
    mention: { type: 'date', date: { start, end: end ?? null, time_zone: null } },
    annotations: plainAnnotations,
    plain_text: end ? `${start} → ${end}` : start,
    href: null,
  };
}

export function inlineEquation(expression: string): RichTextInput {
  return {
    type: 'equation',
    equation: { expression },
    annotations: plainAnnotations,
    plain_text: expression,
    href: null,
  };
}

/** What tests hand to the fake: a block type, its data, and children. */
export interface BlockInput {
  type: string;
  data?: Record<string, unknown>;
  children?: BlockInput[];
  /** Use this id (synced block originals are referenced by id). */
  id?: string;
}

type Rich = string | RichTextInput[];
const rich = (value: Rich) => (typeof value === 'string' ? [text(value)] : value);

export const block = {
  paragraph: (value: Rich, children?: BlockInput[]): BlockInput => ({
    type: 'paragraph',
    data: { rich_text: rich(value), color: 'default' },
    children,
  }),
  heading: (level: 1 | 2 | 3, value: Rich, children?: BlockInput[]): BlockInput => ({
    type: `heading_${level}`,
    data: { rich_text: rich(value), is_toggleable: children !== undefined, color: 'default' },
    children,
  }),
  bullet: (value: Rich, children?: BlockInput[]): BlockInput => ({
    type: 'bulleted_list_item',
    data: { rich_text: rich(value), color: 'default' },
    children,
  }),
  numbered: (value: Rich, children?: BlockInput[]): BlockInput => ({
    type: 'numbered_list_item',
    data: { rich_text: rich(value), color: 'default' },
    children,
  }),
  todo: (value: Rich, checked: boolean): BlockInput => ({
    type: 'to_do',
    data: { rich_text: rich(value), checked, color: 'default' },
  }),
  toggle: (value: Rich, children: BlockInput[]): BlockInput => ({
    type: 'toggle',
    data: { rich_text: rich(value), color: 'default' },
    children,
  }),
  quote: (value: Rich): BlockInput => ({ type: 'quote', data: { rich_text: rich(value), color: 'default' } }),
  callout: (value: Rich, emoji: string): BlockInput => ({
    type: 'callout',
    data: { rich_text: rich(value), icon: { type: 'emoji', emoji }, color: 'gray_background' },
  }),
  code: (source: string, language: string, caption?: string): BlockInput => ({
    type: 'code',
    data: { rich_text: [text(source)], language, caption: caption ? [text(caption)] : [] },
  }),
  equation: (expression: string): BlockInput => ({ type: 'equation', data: { expression } }),
  divider: (): BlockInput => ({ type: 'divider', data: {} }),
  bookmark: (url: string, caption?: string): BlockInput => ({
    type: 'bookmark',
    data: { url, caption: caption ? [text(caption)] : [] },
  }),
  embed: (url: string): BlockInput => ({ type: 'embed', data: { url, caption: [] } }),
  image: (url: string, caption: string, hosted = false): BlockInput => ({
    type: 'image',
    data: hosted
      ? { type: 'file', file: { url, expiry_time: '2026-01-01T01:00:00.000Z' }, caption: [text(caption)] }
      : { type: 'external', external: { url }, caption: [text(caption)] },
  }),
  file: (url: string, name: string): BlockInput => ({
    type: 'file',
    data: { type: 'file', file: { url, expiry_time: '2026-01-01T01:00:00.000Z' }, caption: [], name },
  }),
  table: (rows: string[][], hasColumnHeader = true): BlockInput => ({
    type: 'table',
    data: { table_width: rows[0]?.length ?? 0, has_column_header: hasColumnHeader, has_row_header: false },
    children: rows.map((cells) => ({
      type: 'table_row',
      data: { cells: cells.map((cell) => [text(cell)]) },
    })),
  }),
  columns: (...columns: BlockInput[][]): BlockInput => ({
    type: 'column_list',
    data: {},
    children: columns.map((children) => ({ type: 'column', data: {}, children })),
  }),
  syncedOriginal: (id: string, children: BlockInput[]): BlockInput => ({
    type: 'synced_block',
    id,
    data: { synced_from: null },
    children,
  }),
  syncedCopy: (originalId: string): BlockInput => ({
    type: 'synced_block',
    data: { synced_from: { type: 'block_id', block_id: originalId } },
  }),
  unsupported: (type: string): BlockInput => ({ type, data: {} }),
};
