import type { ConnectorV1 } from '@tributary/core';
import { z } from 'zod';

/** Default User-Agent: names the SDK and where to read about it. */
export const DEFAULT_USER_AGENT = 'TributaryBot/0.1 (+https://github.com/tributary-sdk/tributary)';

const httpUrl = z
  .string({ error: 'must be a URL string' })
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL');

const pattern = z.string().refine((value) => {
  try {
    new RegExp(value);
    return true;
  } catch {
    return false;
  }
}, 'must be a valid regular expression');

/** What a URL connector imports and how politely. Validated when the instance is created. */
const urlConfigObject = z
  .object({
    /** One page or document. */
    url: httpUrl.optional(),
    /** A list of pages or documents. */
    urls: z.array(httpUrl).min(1, 'must list at least one URL').max(100_000).optional(),
    /** A sitemap or sitemap index (gzipped or not); its pages are imported. */
    sitemapUrl: httpUrl.optional(),
    /** A crawl from this page, following links. */
    startUrl: httpUrl.optional(),
    /** Crawl and sitemap: only URLs of the start's origin (scheme, host, port). Default true. */
    sameOrigin: z.boolean().default(true),
    /** Crawl: links followed from the start page (0 = the start page only). Default 3. */
    maxDepth: z.number().int().min(0).max(100).default(3),
    /** Crawl and sitemap: URLs fetched at most. Default 1000. */
    maxPages: z.number().int().min(1).max(1_000_000).default(1000),
    /** Crawl and sitemap: regular expressions; a URL must match one of them (tested on the normalised URL). */
    include: z.array(pattern).optional(),
    /** Crawl and sitemap: regular expressions; a URL matching one of them is left out. */
    exclude: z.array(pattern).optional(),
    /**
     * Honour robots.txt. Always on for crawls (turning it off is refused); default on for sitemaps,
     * off for single URLs and lists (a person chose those URLs).
     */
    robots: z.boolean().optional(),
    /** Requests started per second to one host. Default 2. */
    requestsPerSecond: z.number().positive().max(1000).default(2),
    /** Requests in flight to one host. Default 2. */
    concurrency: z.number().int().min(1).max(32).default(2),
    /** User-Agent header; the first token (`TributaryBot`) is matched against robots.txt groups. */
    userAgent: z.string().trim().min(1).max(512).default(DEFAULT_USER_AGENT),
    /** Largest body read, in bytes. Default 10 MiB. */
    maxBytes: z
      .number()
      .int()
      .positive()
      .max(1024 * 1024 * 1024)
      .default(10 * 1024 * 1024),
    /** One attempt (connection, headers and body), in milliseconds. Default 30 s. */
    timeoutMs: z.number().int().positive().max(600_000).default(30_000),
    /** Redirects followed per URL; each hop is checked like the first URL. Default 5. */
    maxRedirects: z.number().int().min(0).max(20).default(5),
  })
  .superRefine((config, context) => {
    const sources = (['url', 'urls', 'sitemapUrl', 'startUrl'] as const).filter(
      (key) => config[key] !== undefined,
    );
    if (sources.length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'is required: give one of url, urls, sitemapUrl or startUrl',
      });
    } else if (sources.length > 1) {
      context.addIssue({
        code: 'custom',
        path: [sources[1] as string],
        message: `cannot be combined with ${sources[0]}: give exactly one of url, urls, sitemapUrl or startUrl`,
      });
    }
    if (config.startUrl !== undefined && config.robots === false) {
      context.addIssue({
        code: 'custom',
        path: ['robots'],
        message: 'cannot be false for a crawl: crawls always honour robots.txt',
      });
    }
  })
  // No config at all is reported as a missing `url`, not as "expected object".
  .prefault({});

/** The parsed config. */
export type UrlConfig = z.output<typeof urlConfigObject>;
/** The config as written by a host (defaults optional). */
export type UrlConfigInput = z.input<typeof urlConfigObject>;

export const urlConfigSchema: ConnectorV1<UrlConfig>['configSchema'] =
  urlConfigObject as unknown as ConnectorV1<UrlConfig>['configSchema'];

/** How the URLs to import are found. */
export type UrlSourceKind = 'url' | 'urls' | 'sitemap' | 'crawl';

export function sourceKindOf(config: UrlConfig): UrlSourceKind {
  if (config.startUrl !== undefined) return 'crawl';
  if (config.sitemapUrl !== undefined) return 'sitemap';
  if (config.urls !== undefined) return 'urls';
  return 'url';
}
