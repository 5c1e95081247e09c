// The parts of Notion's documented objects (API version 2025-09-03) the connector reads. The SDK's
// own types are exhaustive unions; these name only what mapping and rendering need, so a field
// Notion adds later never breaks the build, and a missing optional one never breaks a sync.

export interface NotionAnnotations {
  bold?: boolean;
  italic?: boolean;
  strikethrough?: boolean;
  underline?: boolean;
  code?: boolean;
  color?: string;
}

export interface NotionRichText {
  type: 'text' | 'mention' | 'equation';
  plain_text: string;
  href?: string | null;
  annotations?: NotionAnnotations;
  text?: { content: string; link?: { url: string } | null };
  mention?: {
    type: string;
    user?: { id: string; name?: string | null };
    page?: { id: string };
    database?: { id: string };
    data_source?: { id: string };
    date?: { start: string; end?: string | null; time_zone?: string | null };
    link_preview?: { url: string };
    link_mention?: { href: string; title?: string };
  };
  equation?: { expression: string };
}

export type NotionParent =
  | { type: 'workspace'; workspace: true }
  | { type: 'page_id'; page_id: string }
  | { type: 'database_id'; database_id: string }
  | { type: 'data_source_id'; data_source_id: string; database_id?: string }
  | { type: 'block_id'; block_id: string };

export interface NotionUserRef {
  object: 'user';
  id: string;
  name?: string | null;
  type?: 'person' | 'bot';
  person?: { email?: string };
}

export interface NotionPropertyValue {
  id?: string;
  type: string;
  [key: string]: unknown;
}

export interface NotionPage {
  object: 'page';
  id: string;
  created_time: string;
  last_edited_time: string;
  created_by?: NotionUserRef;
  last_edited_by?: NotionUserRef;
  parent: NotionParent;
  archived?: boolean;
  in_trash?: boolean;
  is_archived?: boolean;
  url: string;
  public_url?: string | null;
  icon?: { type: string; emoji?: string } | null;
  properties: Record<string, NotionPropertyValue>;
}

export interface NotionDataSource {
  object: 'data_source';
  id: string;
  title: NotionRichText[];
  parent: NotionParent;
  database_parent?: NotionParent;
  last_edited_time: string;
  archived?: boolean;
  in_trash?: boolean;
  url?: string;
  properties?: Record<string, { id: string; name: string; type: string }>;
}

export interface NotionBlock {
  object: 'block';
  id: string;
  type: string;
  has_children: boolean;
  archived?: boolean;
  in_trash?: boolean;
  parent?: NotionParent;
  last_edited_time?: string;
  [key: string]: unknown;
}

export interface NotionList<T> {
  object: 'list';
  results: T[];
  next_cursor: string | null;
  has_more: boolean;
  /** Search only: `incomplete` when Notion stopped early (`query_result_limit_reached`). */
  request_status?: { type: 'complete' | 'incomplete'; incomplete_reason?: string };
}

export interface NotionBotUser {
  object: 'user';
  id: string;
  type: 'bot' | 'person';
  name?: string | null;
  bot?: {
    owner?: { type: string; workspace?: boolean };
    workspace_name?: string | null;
    workspace_id?: string;
  };
}

/** Trashed or archived, whichever field this API version fills. */
export function isTrashed(object: {
  archived?: boolean;
  in_trash?: boolean;
  is_archived?: boolean;
}): boolean {
  return object.in_trash === true || object.archived === true || object.is_archived === true;
}

export function plainText(richText: readonly NotionRichText[] | undefined): string {
  return (richText ?? []).map((part) => part.plain_text).join('');
}
