import {
  ConnectorApiError,
  type ConnectorChange,
  type ConnectorV1,
  defineConnector,
  type JsonObject,
  type LoadedContent,
  type Logger,
  type RetryPolicy,
  reportSyncTotal,
  type SourceDocument,
  type SyncContext,
  UnsafeUrlError,
  UnsupportedContentError,
} from '@tributary/core';
import { canonicalizeUrl, isSameOrigin, isSameSite } from './canonical-url.js';
import { createHostPoliteness } from './host-politeness.js';
import { decodeHtml, type HtmlPage, readHtmlPage } from './html-page.js';
import { createRobotsRules } from './robots-rules.js';
import {
  createSafeFetcher,
  type FetchedResponse,
  type LookupFunction,
  URL_CONNECTOR_TYPE,
} from './safe-fetcher.js';
import { readSitemap } from './sitemap-reader.js';
import { sourceKindOf, type UrlConfig, urlConfigSchema } from './url-config.js';
import { cursorOf, type PageState, parseCursor, versionOf } from './url-cursor.js';

/** Default number of URLs handled between two checkpoints. */
export const DEFAULT_CHECKPOINT_EVERY = 100;

/** Host-level settings: security and behaviour the host decides, not the stored config. */
export interface UrlConnectorSettings {
  /**
   * Hosts allowed even when they resolve to private, loopback or link-local addresses:
   * `intranet.example.com`, `127.0.0.1:8080`, `[::1]:3000` (host alone allows every port).
   * Everything else stays behind the SSRF guard.
   */
  allowedHosts?: readonly string[] | undefined;
  /** Turns every address check off (scheme checks stay). For trusted intranets only. Default false. */
  allowPrivateNetworks?: boolean | undefined;
  /** DNS resolver with the `dns.lookup` signature (called with `{ all: true }`). Default `dns.lookup`. */
  lookup?: LookupFunction | undefined;
  /** URLs handled between two checkpoints. Default 100. */
  checkpointEvery?: number | undefined;
  /** Retry policy for 408/425/429/5xx, timeouts and network errors (core's `withRetries`). */
  retry?: Partial<RetryPolicy> | undefined;
  /** Sitemaps read at most in one sitemap index tree. Default 1000. */
  maxSitemaps?: number | undefined;
}

/** Media types imported; anything else is refused with `UnsupportedContentError`. */
const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
const BINARY_TYPES = new Set(['application/pdf', 'text/plain', 'text/markdown']);

/** What happened to one URL of the listing. */
type Outcome =
  | { kind: 'page'; key: string; state: PageState; document: SourceDocument; finalUrl: string }
  | { kind: 'gone'; key: string; previous: PageState | undefined; status: number }
  | { kind: 'skipped'; key: string; reason: string; incomplete?: boolean }
  | { kind: 'failed'; key: string; error: unknown; previous: PageState | undefined };

interface QueueItem {
  url: string;
  depth: number;
}

/**
 * A connector for web pages and documents by URL: one URL, a list, a sitemap (index included) or
 * a crawl. HTML becomes Markdown of the main content; PDF and plain text go to the core extractors
 * as bytes. Fetching is SSRF-safe (see `createSafeFetcher`), polite per host, and cheap on re-sync:
 * the cursor keeps each URL's ETag/Last-Modified, so unchanged pages answer 304 with no body and
 * keep their version (the pipeline skips them). A URL that now answers 404/410 is deleted; 5xx and
 * timeouts are retried and, when they persist, fail the document without deleting it.
 *
 * @example
 * const connector = createUrlConnector();
 * await runSync({ connector, config: { startUrl: 'https://docs.example.com/' }, connectorId, repository, embedder });
 */
export function createUrlConnector(settings: UrlConnectorSettings = {}): ConnectorV1<UrlConfig> {
  const checkpointEvery = settings.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 1) {
    throw new RangeError(
      `[tributary] [url] checkpointEvery must be a positive integer, got ${checkpointEvery}`,
    );
  }
  for (const host of settings.allowedHosts ?? []) {
    if (typeof host !== 'string' || host.trim() === '' || /[/\s]/.test(host)) {
      throw new RangeError(
        `[tributary] [url] allowedHosts entries are host or host:port (no scheme or path), got ${JSON.stringify(host)}`,
      );
    }
  }
  const maxSitemaps = settings.maxSitemaps ?? 1000;

  const fetcherFor = (
    config: UrlConfig,
    ctx: { signal: AbortSignal; logger: Logger; metrics?: SyncContext['metrics'] },
  ) => {
    const politeness = createHostPoliteness({
      requestsPerSecond: config.requestsPerSecond,
      concurrency: config.concurrency,
    });
    const fetcher = createSafeFetcher({
      userAgent: config.userAgent,
      timeoutMs: config.timeoutMs,
      maxBytes: config.maxBytes,
      maxRedirects: config.maxRedirects,
      allowPrivateNetworks: settings.allowPrivateNetworks ?? false,
      allowedHosts: settings.allowedHosts ?? [],
      lookup: settings.lookup,
      politeness,
      retry: settings.retry ?? {},
      logger: ctx.logger,
      metrics: ctx.metrics,
      signal: ctx.signal,
    });
    return { fetcher, politeness };
  };

  return defineConnector<UrlConfig>({
    type: URL_CONNECTOR_TYPE,
    displayName: 'Web pages (URL)',
    capabilities: { incremental: false, deletions: true, binaryContent: true },
    configSchema: urlConfigSchema,

    // Proves the first URL is allowed and answers (robots.txt is not consulted here).
    async check(ctx) {
      const { fetcher } = fetcherFor(ctx.config, ctx);
      try {
        const first = ctx.config.url ?? ctx.config.urls?.[0] ?? ctx.config.sitemapUrl ?? ctx.config.startUrl;
        if (first === undefined) return;
        const response = await fetcher.fetch(first, { wantsBody: () => false });
        if (response.status === 404 || response.status === 410) {
          throw new ConnectorApiError({
            connector: URL_CONNECTOR_TYPE,
            status: response.status,
            method: 'GET',
            url: first,
            isRetryable: false,
            hint: 'Check the URL in the connector config',
          });
        }
      } finally {
        await fetcher.close();
      }
    },

    async *sync(ctx): AsyncGenerator<ConnectorChange> {
      const config = ctx.config;
      const kind = sourceKindOf(config);
      const { fetcher, politeness } = fetcherFor(config, ctx);
      const robotsOn = config.robots ?? (kind === 'crawl' || kind === 'sitemap');
      const robots = robotsOn
        ? createRobotsRules({ fetcher, userAgent: config.userAgent, politeness, logger: ctx.logger })
        : undefined;
      const previous = parseCursor(ctx.cursor, ctx.logger);
      // Pages as of this run: starts from the previous map so a checkpoint keeps URLs not reached yet.
      const current = new Map(previous);
      const visited = new Set<string>();
      const emitted = new Set<string>();
      const incomplete: string[] = [];
      const include = config.include?.map((source) => new RegExp(source));
      const exclude = config.exclude?.map((source) => new RegExp(source));
      const matchesFilters = (url: string) =>
        (!include || include.some((regex) => regex.test(url))) && !exclude?.some((regex) => regex.test(url));

      // ---- the URLs to visit ----------------------------------------------------------------
      const queue: QueueItem[] = [];
      const queued = new Set<string>();
      const enqueue = (url: string, depth: number) => {
        if (queued.has(url)) return;
        queued.add(url);
        queue.push({ url, depth });
      };
      const start = config.startUrl ?? config.sitemapUrl ?? config.url ?? '';
      const origin = start ? canonicalizeUrl(start) : undefined;
      // The crawl's scope: the start URL, or where it redirects (http://site → https://www.site).
      let scope = origin;
      // A crawl or sitemap whose own URL is refused cannot list anything: the run fails (no sweep).
      if (origin && (kind === 'crawl' || kind === 'sitemap')) await fetcher.assertAllowed(origin);
      if (kind === 'url' && config.url) {
        enqueue(canonicalizeUrl(config.url) ?? config.url, 0);
      } else if (kind === 'urls') {
        for (const url of config.urls ?? []) enqueue(canonicalizeUrl(url) ?? url, 0);
      } else if (kind === 'crawl' && origin) {
        enqueue(origin, 0);
      } else if (kind === 'sitemap' && origin) {
        const listing = await readSitemap(origin, fetcher, {
          maxUrls: config.maxPages,
          maxSitemaps,
          accept: (url) => (!config.sameOrigin || isSameOrigin(url, origin)) && matchesFilters(url),
        });
        for (const failure of listing.failures) {
          ctx.logger.warn('sitemap could not be read', { url: failure.url, error: failure.error });
          incomplete.push(`sitemap ${failure.url} could not be read (${failure.error})`);
        }
        for (const entry of listing.entries) enqueue(entry.url, 0);
      }
      const followLinks = kind === 'crawl';
      const admitLink = (link: string, depth: number) => {
        if (!followLinks || depth > config.maxDepth || queued.has(link)) return;
        if (queue.length >= config.maxPages) return;
        if (config.sameOrigin && scope && !isSameOrigin(link, scope)) return;
        if (!matchesFilters(link)) return;
        enqueue(link, depth);
      };

      // ---- one URL ---------------------------------------------------------------------------
      // `metadata` is the document's own object: the pipeline reads it after `load()`, so a page
      // loaded after a 304 (its stored copy had failed) gets its description and links back.
      const loadFresh =
        (url: string, mediaType: string, metadata?: JsonObject) => async (): Promise<LoadedContent> => {
          const response = await fetcher.fetch(url);
          if (response.status === 404 || response.status === 410) {
            throw new ConnectorApiError({
              connector: URL_CONNECTOR_TYPE,
              status: response.status,
              method: 'GET',
              url,
              isRetryable: false,
              message: `${url} is gone (HTTP ${response.status})`,
            });
          }
          return contentOf(response, mediaType || response.mediaType, metadata);
        };

      const visit = async (item: QueueItem): Promise<Outcome> => {
        const key = item.url;
        const prior = previous.get(key);
        try {
          if (robots) {
            const verdict = await robots.verdict(key);
            if (verdict === 'disallowed') return { kind: 'skipped', key, reason: 'disallowed by robots.txt' };
            if (verdict === 'unreachable') {
              return { kind: 'skipped', key, reason: 'robots.txt unreachable', incomplete: true };
            }
          }
          const headers: Record<string, string> = {};
          if (prior?.etag) headers['if-none-match'] = prior.etag;
          if (prior?.lastModified) headers['if-modified-since'] = prior.lastModified;
          const response = await fetcher.fetch(key, {
            headers,
            // Only HTML is read while listing (its links and canonical are needed now); a PDF or
            // text file is downloaded by `load()`, which the pipeline calls only when needed.
            wantsBody: (head) => head.status === 200 && HTML_TYPES.has(head.mediaType),
          });
          if (response.status === 404 || response.status === 410)
            return { kind: 'gone', key, previous: prior, status: response.status };
          if (response.status === 304) {
            if (!prior) throw new Error('the server answered 304 to an unconditional request');
            const metadata: JsonObject = { url: key, canonicalUrl: prior.id, contentType: prior.mediaType };
            return {
              kind: 'page',
              key,
              state: prior,
              finalUrl: response.url,
              document: {
                ...documentOf(key, prior, versionOf(prior), {
                  kind: 'lazy',
                  load: loadFresh(key, prior.mediaType, metadata),
                }),
                metadata,
              },
            };
          }
          if (response.status < 200 || response.status > 299) {
            throw new Error(`unexpected HTTP ${response.status}`);
          }
          if (
            kind === 'crawl' &&
            item.depth > 0 &&
            config.sameOrigin &&
            scope &&
            !isSameOrigin(response.url, scope)
          ) {
            return { kind: 'skipped', key, reason: `redirected to another origin (${response.url})` };
          }
          const validators = validatorsOf(response);
          const mediaType = response.mediaType;
          const headerNoIndex = /\bnoindex\b|\bnone\b/i.test(response.headers.get('x-robots-tag') ?? '');
          if (HTML_TYPES.has(mediaType)) {
            const page = readHtmlPage(
              decodeHtml(response.body ?? new Uint8Array(), response.headers.get('content-type')),
              response.url,
            );
            const finalId = canonicalizeUrl(response.url) ?? response.url;
            const id =
              page.canonicalUrl && isSameSite(page.canonicalUrl, finalId) ? page.canonicalUrl : finalId;
            const state: PageState = { id, title: page.title || titleFromUrl(id), mediaType, ...validators };
            if (followLinks && !page.noFollow) state.links = page.links;
            // `noindex` is a robots directive: honoured whenever robots.txt is.
            if (robots && (page.noIndex || headerNoIndex)) state.noIndex = true;
            const metadata = pageMetadata(key, response, page, id);
            return {
              kind: 'page',
              key,
              state,
              finalUrl: response.url,
              document: {
                ...documentOf(key, state, versionOf(state), { kind: 'text', text: page.markdown }),
                metadata,
              },
            };
          }
          if (BINARY_TYPES.has(mediaType)) {
            const id = canonicalizeUrl(response.url) ?? response.url;
            const state: PageState = { id, title: titleFromUrl(id), mediaType, ...validators };
            if (robots && headerNoIndex) state.noIndex = true;
            return {
              kind: 'page',
              key,
              state,
              finalUrl: response.url,
              document: documentOf(key, state, versionOf(state), {
                kind: 'lazy',
                load: loadFresh(response.url, mediaType),
              }),
            };
          }
          throw new UnsupportedContentError({
            connector: URL_CONNECTOR_TYPE,
            mimeType: mediaType || 'no content type',
            fileName: key,
            message: `${key} is ${mediaType || 'of no declared type'}, which the URL connector does not import`,
            hint: 'HTML pages, PDF and plain text are imported; leave other links out with exclude patterns',
          });
        } catch (error) {
          if (ctx.signal.aborted) throw error;
          return { kind: 'failed', key, error, previous: prior };
        }
      };

      // ---- the listing: bounded concurrency, outcomes taken in queue order (deterministic) ---
      // Read-ahead: fetches keep going (within the politeness limits) while the pipeline works on
      // what was already yielded; outcomes wait here, in order, at most `window` of them.
      const window = Math.max(config.concurrency * 4, 32);
      const pending = new Map<number, Promise<Outcome>>();
      let started = 0;
      let sinceCheckpoint = 0;
      try {
        for (let next = 0; next < queue.length; next += 1) {
          while (started < queue.length && started - next < window) {
            const promise = visit(queue[started] as QueueItem);
            promise.catch(() => {}); // observed below; never an unhandled rejection when the run stops
            pending.set(started, promise);
            started += 1;
          }
          const item = queue[next] as QueueItem;
          // Pages known so far (links found while crawling add more): progress shows n/total.
          reportSyncTotal(ctx, queue.length);
          const outcome = await (pending.get(next) as Promise<Outcome>);
          pending.delete(next);
          ctx.signal.throwIfAborted();
          visited.add(outcome.key);

          switch (outcome.kind) {
            case 'page': {
              if (kind === 'crawl' && item.depth === 0) scope = outcome.finalUrl;
              current.set(outcome.key, outcome.state);
              for (const link of outcome.state.links ?? []) admitLink(link, item.depth + 1);
              if (outcome.state.noIndex) {
                ctx.logger.info('page asks not to be indexed (noindex); links followed, page not imported', {
                  url: outcome.key,
                });
              } else if (!emitted.has(outcome.state.id)) {
                emitted.add(outcome.state.id);
                yield { kind: 'upsert', document: outcome.document };
              }
              break;
            }
            case 'gone': {
              current.delete(outcome.key);
              const id = outcome.previous?.id;
              // Another URL of this listing may still serve the same document (same canonical id).
              const servedElsewhere =
                id !== undefined &&
                (emitted.has(id) || [...current.values()].some((state) => state.id === id));
              if (outcome.previous && !servedElsewhere) {
                ctx.logger.info('page gone; deleting it', { url: outcome.key });
                yield { kind: 'delete', externalId: outcome.previous.id };
              } else if (!outcome.previous && !(kind === 'crawl' && item.depth > 0)) {
                // A URL the config names (or a sitemap lists) that was never there: say so in
                // the run (it ends partial) instead of letting it vanish. A broken link found
                // while crawling is the site's problem, not the config's: a warning.
                yield {
                  kind: 'scope-failed',
                  scope: outcome.key,
                  message: `[tributary] [url] ${outcome.key} answered HTTP ${outcome.status}, so it was not imported. Check the URL in the connector config (or the sitemap)`,
                };
              } else {
                ctx.logger.warn('URL not found', { url: outcome.key });
              }
              break;
            }
            case 'skipped': {
              ctx.logger.info('URL skipped', { url: outcome.key, reason: outcome.reason });
              if (outcome.incomplete) incomplete.push(`${outcome.key}: ${outcome.reason}`);
              // A disallowed or off-site URL is no longer part of the source.
              if (!outcome.incomplete) current.delete(outcome.key);
              break;
            }
            case 'failed': {
              const { error, previous: prior } = outcome;
              const crawlDiscovered = kind === 'crawl' && item.depth > 0;
              const message = error instanceof Error ? error.message : String(error);
              if (crawlDiscovered && !prior && isRefusal(error)) {
                // A link to a private host or to an image: not part of the site's documents.
                ctx.logger.info('link not imported', { url: outcome.key, error: message });
                break;
              }
              ctx.logger.warn('URL failed; the document is recorded as failed, never deleted', {
                url: outcome.key,
                error: message,
              });
              // Its children are still reached through the links remembered from last time.
              for (const link of prior?.links ?? []) admitLink(link, item.depth + 1);
              if (followLinks && !prior) incomplete.push(`${outcome.key} failed (${message})`);
              const id = prior?.id ?? outcome.key;
              if (!emitted.has(id)) {
                emitted.add(id);
                yield {
                  kind: 'upsert',
                  document: documentOf(
                    outcome.key,
                    prior ?? { id, title: titleFromUrl(id), mediaType: '' },
                    undefined,
                    {
                      kind: 'lazy',
                      load: async () => {
                        throw error;
                      },
                    },
                  ),
                };
              }
              break;
            }
          }

          sinceCheckpoint += 1;
          if (sinceCheckpoint >= checkpointEvery && next < queue.length - 1) {
            sinceCheckpoint = 0;
            yield { kind: 'checkpoint', cursor: cursorOf(current) };
          }
        }
      } finally {
        pending.clear();
      }

      // URLs of the last listing not visited this time left the source (the sweep removes their
      // documents); when the listing was incomplete they are kept for next time.
      if (incomplete.length === 0) {
        for (const key of [...current.keys()]) if (!visited.has(key)) current.delete(key);
      }
      yield { kind: 'checkpoint', cursor: cursorOf(current) };
      yield incomplete.length === 0
        ? { kind: 'listing-complete', complete: true }
        : {
            kind: 'listing-complete',
            complete: false,
            reason: `${incomplete.length} part(s) could not be listed: ${incomplete.slice(0, 3).join('; ')}${incomplete.length > 3 ? '; ...' : ''}`,
          };
    },
  });
}

function documentOf(
  key: string,
  state: PageState,
  version: string | undefined,
  content: SourceDocument['content'],
): SourceDocument {
  return {
    externalId: state.id,
    title: state.title,
    mimeType: HTML_TYPES.has(state.mediaType) ? 'text/markdown' : state.mediaType || undefined,
    externalUrl: state.id,
    version,
    modifiedAt: state.lastModified ? safeDate(state.lastModified) : undefined,
    metadata: { url: key, contentType: state.mediaType },
    content,
  };
}

function contentOf(response: FetchedResponse, mediaType: string, metadata?: JsonObject): LoadedContent {
  const body = response.body ?? new Uint8Array();
  if (HTML_TYPES.has(response.mediaType)) {
    const page = readHtmlPage(decodeHtml(body, response.headers.get('content-type')), response.url);
    if (metadata) {
      const key = typeof metadata.url === 'string' ? metadata.url : response.url;
      const id = typeof metadata.canonicalUrl === 'string' ? metadata.canonicalUrl : response.url;
      Object.assign(metadata, pageMetadata(key, response, page, id));
    }
    return { kind: 'text', text: page.markdown };
  }
  if (BINARY_TYPES.has(response.mediaType)) return { kind: 'bytes', bytes: body };
  throw new UnsupportedContentError({
    connector: URL_CONNECTOR_TYPE,
    mimeType: response.mediaType || mediaType,
    fileName: response.url,
  });
}

/** Source metadata of an HTML page. */
function pageMetadata(
  key: string,
  response: FetchedResponse,
  page: HtmlPage,
  canonicalUrl: string,
): JsonObject {
  const validators = validatorsOf(response);
  const metadata: JsonObject = {
    url: key,
    finalUrl: response.url,
    canonicalUrl,
    contentType: response.mediaType,
    links: page.links.slice(0, 200),
  };
  if (page.description) metadata.description = page.description;
  if (page.language) metadata.language = page.language;
  if (validators.etag) metadata.etag = validators.etag;
  if (validators.lastModified) metadata.lastModified = validators.lastModified;
  return metadata;
}

function validatorsOf(response: FetchedResponse): { etag?: string; lastModified?: string } {
  const validators: { etag?: string; lastModified?: string } = {};
  const etag = response.headers.get('etag');
  const lastModified = response.headers.get('last-modified');
  if (etag) validators.etag = etag;
  if (lastModified) validators.lastModified = lastModified;
  return validators;
}

/** Refusals that mean "not a document of this site" for a discovered link, not an outage. */
function isRefusal(error: unknown): boolean {
  return UnsafeUrlError.isInstance(error) || UnsupportedContentError.isInstance(error);
}

function titleFromUrl(url: string): string {
  const parsed = new URL(url);
  const last = parsed.pathname.split('/').filter(Boolean).pop();
  return last ? decodeURIComponentSafe(last) : parsed.hostname;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function safeDate(value: string): string | undefined {
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}
