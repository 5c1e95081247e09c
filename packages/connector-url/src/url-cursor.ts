import type { JsonValue, Logger } from '@tributary/core';

/** What the connector remembers about one fetched URL, keyed by its normalised request URL. */
export interface PageState {
  /** The document's external id (canonical URL). */
  id: string;
  title: string;
  /** Media type of the response (`text/html`, `application/pdf`...). */
  mediaType: string;
  etag?: string;
  lastModified?: string;
  /** Crawl: the page's links, so a 304 page still leads to its children. */
  links?: string[];
}

/**
 * The cursor: validators (ETag, Last-Modified) and links of every URL of the last listing. Next
 * time they become conditional requests: a 304 costs no body, and the document keeps its version
 * so the pipeline skips it without loading. A checkpoint mid-run holds the same map (pages done so
 * far updated, the rest as before), so a resumed run re-lists everything cheaply.
 */
export interface UrlCursor {
  version: 1;
  pages: Record<string, PageState>;
}

export function versionOf(state: Pick<PageState, 'etag' | 'lastModified'>): string | undefined {
  if (state.etag) return `etag:${state.etag}`;
  if (state.lastModified) return `last-modified:${state.lastModified}`;
  return undefined;
}

export function cursorOf(pages: ReadonlyMap<string, PageState>): JsonValue {
  return { version: 1, pages: Object.fromEntries(pages) } as unknown as JsonValue;
}

export function parseCursor(cursor: JsonValue | undefined, logger: Logger): Map<string, PageState> {
  const pages = new Map<string, PageState>();
  if (cursor === undefined || cursor === null) return pages;
  if (typeof cursor !== 'object' || Array.isArray(cursor) || cursor.version !== 1) {
    logger.warn('cursor not recognised; every URL is fetched in full this time', { connector: 'url' });
    return pages;
  }
  const raw = cursor.pages;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return pages;
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const { id, title, mediaType, etag, lastModified, links } = value as Record<string, JsonValue>;
    if (typeof id !== 'string' || typeof title !== 'string' || typeof mediaType !== 'string') continue;
    const state: PageState = { id, title, mediaType };
    if (typeof etag === 'string') state.etag = etag;
    if (typeof lastModified === 'string') state.lastModified = lastModified;
    if (Array.isArray(links)) state.links = links.filter((link): link is string => typeof link === 'string');
    pages.set(key, state);
  }
  return pages;
}
