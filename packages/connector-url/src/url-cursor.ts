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
  /** The page asked not to be indexed (`noindex`): its links are followed, it is not imported. */
  noIndex?: boolean;
}

/**
 * The cursor: validators (ETag, Last-Modified) and links of every URL of the last listing. Next
 * time they become conditional requests: a 304 costs no body, and the document keeps its version
 * so the pipeline skips it without loading. A checkpoint mid-run holds the same map (pages done so
 * far updated, the rest as before), so a resumed run re-lists everything cheaply.
 *
 * Compact: every URL is written once in `urls`; pages refer to URLs (their own, their id, their
 * links) by index, so a site whose pages all link to the same navigation stays small.
 */
export interface UrlCursor {
  version: 1;
  urls: string[];
  pages: UrlCursorPage[];
}

export interface UrlCursorPage {
  /** Index in `urls` of the request URL. */
  url: number;
  /** Index in `urls` of the external id. */
  id: number;
  title: string;
  mediaType: string;
  etag?: string;
  lastModified?: string;
  /** Indexes in `urls`. */
  links?: number[];
  noIndex?: boolean;
}

export function versionOf(state: Pick<PageState, 'etag' | 'lastModified'>): string | undefined {
  if (state.etag) return `etag:${state.etag}`;
  if (state.lastModified) return `last-modified:${state.lastModified}`;
  return undefined;
}

export function cursorOf(pages: ReadonlyMap<string, PageState>): JsonValue {
  const urls: string[] = [];
  const indexes = new Map<string, number>();
  const ref = (url: string) => {
    let index = indexes.get(url);
    if (index === undefined) {
      index = urls.length;
      urls.push(url);
      indexes.set(url, index);
    }
    return index;
  };
  const entries: UrlCursorPage[] = [];
  for (const [key, state] of pages) {
    const entry: UrlCursorPage = {
      url: ref(key),
      id: ref(state.id),
      title: state.title,
      mediaType: state.mediaType,
    };
    if (state.etag !== undefined) entry.etag = state.etag;
    if (state.lastModified !== undefined) entry.lastModified = state.lastModified;
    if (state.links !== undefined) entry.links = state.links.map(ref);
    if (state.noIndex) entry.noIndex = true;
    entries.push(entry);
  }
  const cursor: UrlCursor = { version: 1, urls, pages: entries };
  return cursor as unknown as JsonValue;
}

export function parseCursor(cursor: JsonValue | undefined, logger: Logger): Map<string, PageState> {
  const pages = new Map<string, PageState>();
  if (cursor === undefined || cursor === null) return pages;
  const raw = cursor as Partial<Record<keyof UrlCursor, unknown>>;
  if (
    typeof cursor !== 'object' ||
    Array.isArray(cursor) ||
    raw.version !== 1 ||
    !Array.isArray(raw.urls) ||
    !Array.isArray(raw.pages)
  ) {
    logger.warn('cursor not recognised; every URL is fetched in full this time', { connector: 'url' });
    return pages;
  }
  const urls = raw.urls as unknown[];
  const url = (index: unknown) => (typeof index === 'number' ? urls[index] : undefined);
  for (const item of raw.pages as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const entry = item as Record<string, unknown>;
    const key = url(entry.url);
    const id = url(entry.id);
    if (typeof key !== 'string' || typeof id !== 'string') continue;
    if (typeof entry.title !== 'string' || typeof entry.mediaType !== 'string') continue;
    const state: PageState = { id, title: entry.title, mediaType: entry.mediaType };
    if (typeof entry.etag === 'string') state.etag = entry.etag;
    if (typeof entry.lastModified === 'string') state.lastModified = entry.lastModified;
    if (entry.noIndex === true) state.noIndex = true;
    if (Array.isArray(entry.links)) {
      state.links = entry.links.map(url).filter((link): link is string => typeof link === 'string');
    }
    pages.set(key, state);
  }
  return pages;
}
