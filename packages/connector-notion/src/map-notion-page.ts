import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue, SourceDocument } from '@tributary/core';
import type { NotionApi } from './notion-api.js';
import {
  type NotionPage,
  type NotionPropertyValue,
  type NotionRichText,
  plainText,
} from './notion-api-types.js';
import { schemaSignature } from './notion-nodes.js';
import { type NotionPermissionContext, permissionsOf } from './notion-permissions.js';
import { renderBlocksToMarkdown } from './render/blocks-to-markdown.js';
import { renderRichText } from './render/rich-text.js';

/** The page's title: its `title` property (every page and row has exactly one). */
export function pageTitle(page: NotionPage): string {
  for (const property of Object.values(page.properties ?? {})) {
    if (property.type === 'title') return plainText(property.title as NotionRichText[]).trim() || 'Untitled';
  }
  return 'Untitled';
}

/** The id of the page, data source or database a page sits in (`undefined` at the workspace top). */
export function parentIdOf(page: { parent: NotionPage['parent'] }): string | undefined {
  const parent = page.parent;
  switch (parent.type) {
    case 'page_id':
      return parent.page_id;
    case 'data_source_id':
      return parent.data_source_id;
    case 'database_id':
      return parent.database_id;
    case 'block_id':
      return parent.block_id;
    default:
      return undefined;
  }
}

export function isRow(page: NotionPage): boolean {
  return page.parent.type === 'data_source_id' || page.parent.type === 'database_id';
}

/** A property value as JSON metadata (and, joined, as text for the header). */
export function propertyValue(property: NotionPropertyValue): JsonValue {
  const value = property[property.type] as unknown;
  const names = (items: unknown) =>
    Array.isArray(items) ? items.map((item) => (item as { name?: string }).name ?? '').filter(Boolean) : [];
  switch (property.type) {
    case 'title':
    case 'rich_text':
      return plainText(value as NotionRichText[]);
    case 'number':
    case 'checkbox':
    case 'url':
    case 'email':
    case 'phone_number':
    case 'created_time':
    case 'last_edited_time':
      return (value as JsonValue) ?? null;
    case 'select':
    case 'status':
      return (value as { name?: string } | null)?.name ?? null;
    case 'multi_select':
      return names(value);
    case 'people':
      return names(value);
    case 'created_by':
    case 'last_edited_by':
      return (value as { name?: string } | null)?.name ?? null;
    case 'date': {
      const date = value as { start?: string; end?: string | null } | null;
      if (!date?.start) return null;
      return date.end ? `${date.start} → ${date.end}` : date.start;
    }
    case 'relation':
      return Array.isArray(value) ? value.map((item) => (item as { id: string }).id) : [];
    case 'files':
      return names(value);
    case 'unique_id': {
      const id = value as { prefix?: string | null; number?: number | null } | null;
      if (id?.number == null) return null;
      return id.prefix ? `${id.prefix}-${id.number}` : String(id.number);
    }
    case 'formula': {
      const formula = value as Record<string, unknown> | null;
      if (!formula) return null;
      const inner = formula[formula.type as string];
      return inner === undefined
        ? null
        : typeof inner === 'object'
          ? JSON.stringify(inner)
          : (inner as JsonValue);
    }
    case 'rollup': {
      const rollup = value as Record<string, unknown> | null;
      if (!rollup) return null;
      const inner = rollup[rollup.type as string];
      return typeof inner === 'number' || typeof inner === 'string' ? inner : null;
    }
    default:
      return null;
  }
}

function asText(value: JsonValue): string {
  if (value === null || value === '') return '';
  if (Array.isArray(value)) return value.map(asText).filter(Boolean).join(', ');
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  return String(value);
}

/** Every property except the title, as metadata values. */
export function propertiesOf(page: NotionPage): JsonObject {
  const result: Record<string, JsonValue> = {};
  for (const [name, property] of Object.entries(page.properties ?? {})) {
    if (property.type === 'title') continue;
    result[name] = propertyValue(property);
  }
  return result;
}

/** The readable header of a row: `Property: value` lines (empty values left out). */
export function propertiesHeader(page: NotionPage): string {
  const lines: string[] = [];
  for (const [name, property] of Object.entries(page.properties ?? {})) {
    if (property.type === 'title') continue;
    const text =
      property.type === 'rich_text'
        ? renderRichText(property.rich_text as NotionRichText[])
        : asText(propertyValue(property));
    if (text) lines.push(`- **${name}:** ${text}`);
  }
  return lines.join('\n');
}

/**
 * The version the pipeline compares. Notion's `last_edited_time` covers block edits but is
 * rounded down to the minute, so an edit in the same minute as the previous sync would keep the
 * same value and be skipped. While the minute of the edit may still be open, the version carries
 * the sync's own time too: the page is loaded again, and the content hash decides whether anything
 * changed (nothing is re-embedded when it did not). A digest of the page's path and property
 * schema follows: a moved or renamed ancestor, a renamed data source property (neither moves
 * the page's edit time) still reach the stored document.
 */
export function pageVersion(page: NotionPage, now: number, path: string): string {
  const edited = Date.parse(page.last_edited_time);
  const openMinute = Number.isFinite(edited) && now - edited < 2 * 60_000;
  const schema = schemaSignature(
    Object.entries(page.properties ?? {}).map(([name, property]) => [name, property.type]),
  );
  const context = createHash('sha256').update(path).update('\u0000').update(schema).digest('hex').slice(0, 8);
  return `${openMinute ? `${page.last_edited_time}~${now}` : page.last_edited_time}#${context}`;
}

export interface MapPageOptions {
  api: NotionApi;
  maxDepth: number;
  path: string;
  propertiesHeader: boolean;
  now: number;
  permissions: NotionPermissionContext;
}

/** A page (or data source row) as a source document; its blocks are fetched only when loaded. */
export function mapNotionPage(page: NotionPage, options: MapPageOptions): SourceDocument {
  const title = pageTitle(page);
  const row = isRow(page);
  const properties = row ? propertiesOf(page) : {};
  const metadata: JsonObject = {
    path: options.path,
    kind: row ? 'data_source_row' : 'page',
    createdTime: page.created_time,
    lastEditedTime: page.last_edited_time,
    ...(page.created_by?.id ? { createdBy: page.created_by.id } : {}),
    ...(page.last_edited_by?.id ? { lastEditedBy: page.last_edited_by.id } : {}),
    ...(page.public_url ? { publicUrl: page.public_url } : {}),
    ...(row ? { properties } : {}),
  };
  const permissions = permissionsOf(page, options.permissions);
  return {
    externalId: page.id,
    parentExternalId: parentIdOf(page),
    title,
    mimeType: 'text/markdown',
    externalUrl: page.url,
    version: pageVersion(page, options.now, options.path),
    modifiedAt: page.last_edited_time,
    metadata,
    ...(permissions ? { permissions } : {}),
    content: {
      kind: 'lazy',
      async load() {
        const { markdown } = await renderBlocksToMarkdown(page.id, {
          listChildren: options.api.listChildren,
          maxDepth: options.maxDepth,
          pageId: page.id,
        });
        const header = row && options.propertiesHeader ? propertiesHeader(page) : '';
        const text = [`# ${title}`, header, markdown.trim()].filter(Boolean).join('\n\n');
        return { kind: 'text', text: `${text}\n` };
      },
    },
  };
}
