import { gunzipSync } from 'node:zlib';
import { ConnectorApiError } from '@tributary/core';
import { XMLParser } from 'fast-xml-parser';
import { canonicalizeUrl } from './canonical-url.js';
import { type SafeFetcher, URL_CONNECTOR_TYPE } from './safe-fetcher.js';

export interface SitemapEntry {
  url: string;
  lastModified: string | undefined;
}

export interface SitemapListing {
  entries: SitemapEntry[];
  /** Sitemaps that could not be read (the listing is then incomplete). */
  failures: { url: string; error: string }[];
}

/** Sitemaps may be 50 MB uncompressed (sitemaps.org). */
const MAX_SITEMAP_BYTES = 50 * 1024 * 1024;

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  isArray: (name) => name === 'url' || name === 'sitemap',
});

/**
 * Reads a sitemap or a sitemap index (followed up to `maxSitemaps` sitemaps, nested indexes
 * included, each read once), gzipped or not, and returns the page URLs `accept` keeps, in document
 * order without duplicates, stopping at `maxUrls`. A failing child sitemap is reported in
 * `failures`; a failing root sitemap throws (nothing can be listed).
 */
export async function readSitemap(
  startUrl: string,
  fetcher: SafeFetcher,
  limits: { maxUrls: number; maxSitemaps: number; accept: (url: string) => boolean },
): Promise<SitemapListing> {
  const entries: SitemapEntry[] = [];
  const failures: SitemapListing['failures'] = [];
  const seenUrls = new Set<string>();
  const visited = new Set<string>();
  const queue = [startUrl];
  while (queue.length > 0 && entries.length < limits.maxUrls) {
    const sitemapUrl = queue.shift() as string;
    if (visited.has(sitemapUrl)) continue;
    if (visited.size >= limits.maxSitemaps) {
      failures.push({ url: sitemapUrl, error: `more than ${limits.maxSitemaps} sitemaps` });
      continue;
    }
    visited.add(sitemapUrl);
    let document: Record<string, unknown>;
    try {
      const response = await fetcher.fetch(sitemapUrl, { maxBytes: MAX_SITEMAP_BYTES });
      if (response.status !== 200 || !response.body) {
        throw new ConnectorApiError({
          connector: URL_CONNECTOR_TYPE,
          status: response.status,
          method: 'GET',
          url: sitemapUrl,
          isRetryable: false,
          message: `sitemap ${sitemapUrl} answered HTTP ${response.status}`,
          hint: 'Check sitemapUrl in the connector config',
        });
      }
      let bytes = response.body;
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
        bytes = gunzipSync(bytes, { maxOutputLength: MAX_SITEMAP_BYTES });
      }
      document = parser.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    } catch (error) {
      if (sitemapUrl === startUrl) throw error;
      failures.push({ url: sitemapUrl, error: error instanceof Error ? error.message : String(error) });
      continue;
    }
    const index = document.sitemapindex as { sitemap?: { loc?: unknown }[] } | undefined;
    const urlset = document.urlset as { url?: { loc?: unknown; lastmod?: unknown }[] } | undefined;
    if (index) {
      for (const child of index.sitemap ?? []) {
        const loc = typeof child.loc === 'string' ? canonicalizeUrl(child.loc.trim(), sitemapUrl) : undefined;
        if (loc) queue.push(loc);
      }
    } else if (urlset) {
      for (const item of urlset.url ?? []) {
        if (entries.length >= limits.maxUrls) break;
        const loc = typeof item.loc === 'string' ? canonicalizeUrl(item.loc.trim(), sitemapUrl) : undefined;
        if (!loc || seenUrls.has(loc) || !limits.accept(loc)) continue;
        seenUrls.add(loc);
        entries.push({
          url: loc,
          lastModified: typeof item.lastmod === 'string' ? item.lastmod.trim() : undefined,
        });
      }
    } else {
      failures.push({ url: sitemapUrl, error: 'neither a <urlset> nor a <sitemapindex>' });
    }
  }
  return { entries, failures };
}
