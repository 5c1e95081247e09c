import { ConnectorApiError, formatFieldPath } from '@tributary/core';
import { type ZodType, z } from 'zod';
import { NOTION_CONNECTOR_TYPE } from './notion-settings.js';

// What the connector relies on in Notion's responses, checked at the boundary: a response of
// another shape (an API change, a proxy's error page) fails with a clear error naming the field,
// not with a TypeError deep in mapping. Loose objects: fields Notion adds later pass through.

const parent = z.looseObject({ type: z.string() });

export const pageSchema = z.looseObject({
  object: z.literal('page'),
  id: z.string().min(1),
  last_edited_time: z.string().min(1),
  parent,
  properties: z.record(z.string(), z.looseObject({ type: z.string() })),
});

export const dataSourceSchema = z.looseObject({
  object: z.literal('data_source'),
  id: z.string().min(1),
  last_edited_time: z.string().min(1),
  title: z.array(z.looseObject({ plain_text: z.string() })),
});

export const blockSchema = z.looseObject({
  object: z.literal('block'),
  id: z.string().min(1),
  type: z.string().min(1),
  has_children: z.boolean(),
});

export function listSchema<T extends ZodType>(item: T) {
  return z.looseObject({
    object: z.literal('list'),
    results: z.array(item),
    next_cursor: z.string().nullable(),
    has_more: z.boolean(),
  });
}

export const searchResultSchema = z.union([pageSchema, dataSourceSchema]);

/** `value` checked against `schema`, or a non-retryable `ConnectorApiError` naming the field. */
export function checkShape<T>(schema: ZodType<T>, value: unknown, operation: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ConnectorApiError({
    connector: NOTION_CONNECTOR_TYPE,
    isRetryable: false,
    message: `${operation} returned an unexpected shape${issue ? ` at "${formatFieldPath(issue.path)}": ${issue.message}` : ''}`,
    hint: 'The Notion API may have changed, or baseUrl points at something else; report it with the connector version',
    cause: result.error,
  });
}
