// The URL connector against a local website: content extraction, sources (one URL, a list, a
// sitemap, a crawl), robots.txt, redirects, limits, and cheap re-sync through the real pipeline.
import { gzipSync } from 'node:zlib';
import {
  ConnectorApiError,
  createConnectorInstance,
  InvalidConfigError,
  TimeoutError,
  TributaryError,
  UnsupportedContentError,
} from '@tributary/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalizeUrl, createUrlConnector } from '../src/index.js';
import {
  collect,
  lastCursor,
  load,
  minimalPdf,
  pipeline,
  siteConnector,
  textOf,
  upserts,
} from './helpers.js';
import { articlePage, prose, type Site, startSite } from './site-server.js';

let site: Site;
beforeEach(async () => {
  site = await startSite();
});
afterEach(async () => {
  await site.close();
});

function addArticle(path: string, title: string, links: string[] = [], extra: { canonical?: string } = {}) {
  site.pages.set(path, {
    body: articlePage({
      title,
      description: `All about ${title}`,
      paragraphs: [prose(title), prose(`${title} basin`)],
      links,
      ...extra,
    }),
  });
}

describe('one page', () => {
  it('turns the main content into Markdown and keeps title, description, language and links', async () => {
    addArticle('/rivers/nile', 'Nile', ['/rivers/amazon', 'https://example.org/elsewhere#top']);
    const changes = await collect(siteConnector(site), { url: site.url('/rivers/nile') });
    const [document] = upserts(changes);
    expect(document?.externalId).toBe(site.url('/rivers/nile'));
    expect(document?.title).toBe('Nile | River Atlas');
    expect(document?.mimeType).toBe('text/markdown');
    expect(document?.version).toMatch(/^etag:"[0-9a-f]{16}"$/);
    const text = await textOf(document as NonNullable<typeof document>);
    expect(text).toContain('The Nile carries water');
    // Navigation, footer, scripts and styles are not content.
    expect(text).not.toContain('Copyright River Atlas');
    expect(text).not.toContain('window.analytics');
    expect(text).not.toContain('font-family');
    expect(document?.metadata).toMatchObject({
      description: 'All about Nile',
      language: 'en',
      links: [site.url('/'), site.url('/rivers/amazon'), 'https://example.org/elsewhere'],
    });
    expect(changes.at(-1)).toEqual({ kind: 'listing-complete', complete: true });
    expect(site.requests[0]?.headers['user-agent']).toMatch(/^TributaryBot\//);
  });

  it('uses a same-site rel=canonical as the external id and ignores one on another site', async () => {
    addArticle('/a?utm_source=mail&b=2&a=1', 'Alpha', [], { canonical: '/alpha' });
    site.pages.set('/a?a=1&b=2', site.pages.get('/a?utm_source=mail&b=2&a=1') as never);
    addArticle('/beta', 'Beta', [], { canonical: 'https://other.example/beta' });
    const changes = await collect(siteConnector(site), {
      urls: [site.url('/a?utm_source=mail&b=2&a=1#section'), site.url('/beta')],
    });
    expect(upserts(changes).map((d) => d.externalId)).toEqual([site.url('/alpha'), site.url('/beta')]);
    // Tracking parameters dropped, others sorted, fragment gone before the request.
    expect(site.requests.map((r) => r.path)).toEqual(['/a?a=1&b=2', '/beta']);
  });

  it('passes PDF and plain text to the extractors as bytes, loading only when asked', async () => {
    const pdf = minimalPdf('Delta sediment report');
    site.pages.set('/report.pdf', { body: pdf, contentType: 'application/pdf' });
    site.pages.set('/notes.txt', {
      body: 'Plain notes about estuaries.',
      contentType: 'text/plain; charset=utf-8',
    });
    const changes = await collect(siteConnector(site), {
      urls: [site.url('/report.pdf'), site.url('/notes.txt')],
    });
    const [report, notes] = upserts(changes);
    expect(report?.mimeType).toBe('application/pdf');
    expect(notes?.mimeType).toBe('text/plain');
    expect(report?.content.kind).toBe('lazy');
    // Listing read headers only (one request each); the download happens in load().
    expect(site.requests.filter((r) => r.path === '/report.pdf')).toHaveLength(1);
    const loaded = await load(report as NonNullable<typeof report>);
    expect(loaded.kind === 'bytes' && loaded.bytes).toEqual(pdf);
    expect(site.requests.filter((r) => r.path === '/report.pdf')).toHaveLength(2);
    expect(await textOf(notes as NonNullable<typeof notes>)).toBe('Plain notes about estuaries.');
  });

  it('stores PDF text through the pipeline', async () => {
    site.pages.set('/report.pdf', {
      body: minimalPdf('Delta sediment report'),
      contentType: 'application/pdf',
    });
    const run = pipeline(siteConnector(site), { url: site.url('/report.pdf') });
    const summary = await run.sync();
    expect(summary.status).toBe('success');
    expect(run.documents()[0]).toMatchObject({
      externalId: site.url('/report.pdf'),
      processingStatus: 'completed',
    });
    const [hit] = await run.repository.search({
      orgId: (await run.repository.getConnector(run.connectorId))?.orgId as string,
      queryText: 'sediment',
      limit: 3,
    });
    expect(hit).toBeDefined();
  });

  it('decodes the charset the page declares', async () => {
    const latin1 = Buffer.from(
      articlePage({ title: 'Café', paragraphs: [`${prose('Rhône')} Ça coule à Genève.`] }).replace(
        'utf-8',
        'iso-8859-1',
      ),
      'latin1',
    );
    site.pages.set('/latin1', { body: latin1, contentType: 'text/html' });
    const [document] = upserts(await collect(siteConnector(site), { url: site.url('/latin1') }));
    expect(await textOf(document as NonNullable<typeof document>)).toContain('Ça coule à Genève.');
    expect(document?.title).toBe('Café | River Atlas');
  });

  it('refuses other content types with UnsupportedContentError', async () => {
    site.pages.set('/photo.png', {
      body: new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
      contentType: 'image/png',
    });
    const [document] = upserts(await collect(siteConnector(site), { url: site.url('/photo.png') }));
    const error = await load(document as NonNullable<typeof document>).catch((e: unknown) => e);
    expect(UnsupportedContentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('image/png');
  });

  it('refuses a body over maxBytes, declared or streamed', async () => {
    site.pages.set('/big', { body: `<p>${'x'.repeat(50_000)}</p>` });
    site.handlers.set('/chunked', (_request, response) => {
      response.setHeader('content-type', 'text/html');
      for (let index = 0; index < 20; index += 1) response.write(`<p>${'y'.repeat(5_000)}</p>`);
      response.end();
    });
    const changes = await collect(siteConnector(site), {
      urls: [site.url('/big'), site.url('/chunked')],
      maxBytes: 10_000,
    });
    const documents = upserts(changes);
    expect(documents).toHaveLength(2);
    for (const document of documents) {
      const error = await load(document).catch((e: unknown) => e);
      expect(TributaryError.isInstance(error) && (error as TributaryError).code).toBe('content_too_large');
    }
  });

  it('gives up on a slow response with a TimeoutError after retrying it', async () => {
    site.pages.set('/slow', { body: articlePage({ title: 'Slow', paragraphs: ['late'] }), delayMs: 5_000 });
    const [document] = upserts(
      await collect(siteConnector(site, { retry: { retries: 1, minDelayMs: 1, maxDelayMs: 1 } }), {
        url: site.url('/slow'),
        timeoutMs: 150,
      }),
    );
    const error = await load(document as NonNullable<typeof document>).catch((e: unknown) => e);
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect(site.requests.filter((r) => r.path === '/slow')).toHaveLength(2);
    expect(document?.version).toBeUndefined();
  });

  it('follows redirects up to maxRedirects, the final URL naming the document', async () => {
    site.pages.set('/old', { body: '', status: 301, headers: { location: '/new' }, noValidators: true });
    addArticle('/new', 'New');
    for (let index = 0; index < 4; index += 1) {
      site.pages.set(`/loop${index}`, { body: '', status: 302, headers: { location: `/loop${index + 1}` } });
    }
    const changes = await collect(siteConnector(site), {
      urls: [site.url('/old'), site.url('/loop0')],
      maxRedirects: 2,
    });
    const [moved, looping] = upserts(changes);
    expect(moved?.externalId).toBe(site.url('/new'));
    const error = await load(looping as NonNullable<typeof looping>).catch((e: unknown) => e);
    expect(ConnectorApiError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('redirected more than 2 times');
    expect(site.requests.filter((r) => r.path.startsWith('/loop')).map((r) => r.path)).toEqual([
      '/loop0',
      '/loop1',
      '/loop2',
    ]);
  });
});

describe('sitemaps', () => {
  it('reads a sitemap index with plain and gzipped sitemaps, applying include/exclude', async () => {
    for (const path of ['/docs/a', '/docs/b', '/docs/c', '/blog/x', '/docs/private/secret'])
      addArticle(path, path);
    site.pages.set('/sitemap.xml', {
      contentType: 'application/xml',
      body: `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>${site.url('/sitemap-docs.xml')}</loc></sitemap>
  <sitemap><loc>${site.url('/sitemap-blog.xml.gz')}</loc></sitemap>
</sitemapindex>`,
    });
    site.pages.set('/sitemap-docs.xml', {
      contentType: 'application/xml',
      body: `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>${site.url('/docs/a')}</loc><lastmod>2026-11-01</lastmod></url>
<url><loc>${site.url('/docs/b')}</loc></url>
<url><loc>${site.url('/docs/private/secret')}</loc></url>
<url><loc>https://other.example/docs/c</loc></url>
</urlset>`,
    });
    site.pages.set('/sitemap-blog.xml.gz', {
      contentType: 'application/gzip',
      body: gzipSync(
        `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>${site.url('/blog/x')}</loc></url><url><loc>${site.url('/docs/c')}</loc></url></urlset>`,
      ),
    });
    const changes = await collect(siteConnector(site), {
      sitemapUrl: site.url('/sitemap.xml'),
      include: ['/docs/'],
      exclude: ['/private/'],
    });
    expect(upserts(changes).map((d) => new URL(d.externalId).pathname)).toEqual([
      '/docs/a',
      '/docs/b',
      '/docs/c',
    ]);
    expect(changes.at(-1)).toEqual({ kind: 'listing-complete', complete: true });
    expect(site.requests.some((r) => r.path === '/blog/x')).toBe(false);
  });

  it('fails the sync when the sitemap itself cannot be read, and stops at maxPages', async () => {
    const instance = createConnectorInstance(siteConnector(site), {
      config: { sitemapUrl: site.url('/sitemap.xml'), requestsPerSecond: 500 },
    });
    const drain = async () => {
      for await (const _ of instance.sync()) {
        // the sitemap 404s: nothing to list
      }
    };
    await expect(drain()).rejects.toThrow(/sitemap .* answered HTTP 404/);
    site.pages.set('/sitemap.xml', {
      contentType: 'application/xml',
      body: `<urlset>${['/1', '/2', '/3', '/4'].map((p) => `<url><loc>${site.url(p)}</loc></url>`).join('')}</urlset>`,
    });
    for (const path of ['/1', '/2', '/3', '/4']) addArticle(path, path);
    const changes = await collect(siteConnector(site), { sitemapUrl: site.url('/sitemap.xml'), maxPages: 2 });
    expect(upserts(changes).map((d) => new URL(d.externalId).pathname)).toEqual(['/1', '/2']);
  });

  it('reports an incomplete listing when a child sitemap fails', async () => {
    addArticle('/docs/a', 'A');
    site.pages.set('/sitemap.xml', {
      contentType: 'application/xml',
      body: `<sitemapindex><sitemap><loc>${site.url('/one.xml')}</loc></sitemap><sitemap><loc>${site.url('/missing.xml')}</loc></sitemap></sitemapindex>`,
    });
    site.pages.set('/one.xml', {
      contentType: 'application/xml',
      body: `<urlset><url><loc>${site.url('/docs/a')}</loc></url></urlset>`,
    });
    const changes = await collect(siteConnector(site), { sitemapUrl: site.url('/sitemap.xml') });
    expect(upserts(changes)).toHaveLength(1);
    const listing = changes.at(-1);
    expect(listing?.kind === 'listing-complete' && listing.complete).toBe(false);
    expect(listing?.kind === 'listing-complete' && listing.reason).toContain('missing.xml');
  });
});

describe('crawls', () => {
  function buildSite() {
    addArticle('/', 'Home', ['/a', '/b', 'https://elsewhere.example/x', '/private/p']);
    addArticle('/a', 'A', ['/a/1', '/a/2', '/b']);
    addArticle('/b', 'B', ['/b/1', '/#top', '/a']);
    addArticle('/a/1', 'A1', ['/a/1/deep']);
    addArticle('/a/2', 'A2', []);
    addArticle('/b/1', 'B1', []);
    addArticle('/a/1/deep', 'Deep', []);
    addArticle('/private/p', 'Private', []);
    site.pages.set('/robots.txt', {
      contentType: 'text/plain',
      body: 'User-agent: *\nDisallow: /private/\n\nUser-agent: OtherBot\nDisallow: /\n',
    });
  }

  it('follows same-origin links breadth first within maxDepth, honouring robots.txt', async () => {
    buildSite();
    const changes = await collect(siteConnector(site), { startUrl: site.url('/'), maxDepth: 2 });
    expect(upserts(changes).map((d) => new URL(d.externalId).pathname)).toEqual([
      '/',
      '/a',
      '/b',
      '/a/1',
      '/a/2',
      '/b/1',
    ]);
    const paths = site.requests.map((r) => r.path);
    expect(paths[0]).toBe('/robots.txt');
    expect(paths).not.toContain('/private/p');
    expect(paths).not.toContain('/a/1/deep');
    // Every page fetched once, however often it is linked.
    expect(paths.filter((p) => p === '/a')).toHaveLength(1);
    expect(changes.at(-1)).toEqual({ kind: 'listing-complete', complete: true });
  });

  it('crawls the origin the start URL redirects to', async () => {
    const moved = await startSite();
    try {
      site.pages.set('/', { body: '', status: 301, headers: { location: moved.url('/') } });
      moved.pages.set('/', {
        body: articlePage({
          title: 'Moved',
          paragraphs: [prose('moved')],
          links: ['/page', site.url('/old')],
        }),
      });
      moved.pages.set('/page', { body: articlePage({ title: 'Page', paragraphs: [prose('page')] }) });
      const changes = await collect(siteConnector(site, { allowedHosts: [site.host, moved.host] }), {
        startUrl: site.url('/'),
      });
      expect(upserts(changes).map((d) => d.externalId)).toEqual([moved.url('/'), moved.url('/page')]);
      expect(site.requests.some((r) => r.path === '/old')).toBe(false);
    } finally {
      await moved.close();
    }
  });

  it('stops at maxPages and applies include/exclude to links', async () => {
    buildSite();
    const limited = await collect(siteConnector(site), { startUrl: site.url('/'), maxPages: 3 });
    expect(upserts(limited).map((d) => new URL(d.externalId).pathname)).toEqual(['/', '/a', '/b']);
    site.requests.length = 0;
    const filtered = await collect(siteConnector(site), {
      startUrl: site.url('/'),
      include: ['/a(/|$)'],
      exclude: ['/deep$'],
    });
    expect(upserts(filtered).map((d) => new URL(d.externalId).pathname)).toEqual(['/', '/a', '/a/1', '/a/2']);
  });

  it('fetches nothing from an origin whose robots.txt fails with 5xx, and says the listing is incomplete', async () => {
    buildSite();
    site.pages.set('/robots.txt', { body: 'down', status: 503, contentType: 'text/plain' });
    const changes = await collect(siteConnector(site), { startUrl: site.url('/') });
    expect(upserts(changes)).toEqual([]);
    expect(site.requests.every((r) => r.path === '/robots.txt')).toBe(true);
    const listing = changes.at(-1);
    expect(listing?.kind === 'listing-complete' && listing.complete).toBe(false);
  });

  it('honours a robots.txt group for its own product token', async () => {
    buildSite();
    const changes = await collect(siteConnector(site), {
      startUrl: site.url('/'),
      userAgent: 'OtherBot/2.0',
    });
    expect(upserts(changes)).toEqual([]);
    expect(site.requests.map((r) => r.path)).toEqual(['/robots.txt']);
  });

  it('follows the links of a noindex page without importing it (robots directives), also on a 304', async () => {
    addArticle('/', 'Home', ['/hidden', '/report.pdf']);
    site.pages.set('/hidden', {
      body: articlePage({ title: 'Hidden', paragraphs: [prose('hidden')], links: ['/child'] }).replace(
        '<meta charset="utf-8">',
        '<meta charset="utf-8"><meta name="robots" content="noindex, follow">',
      ),
    });
    addArticle('/child', 'Child');
    site.pages.set('/report.pdf', {
      body: minimalPdf('internal'),
      contentType: 'application/pdf',
      headers: { 'x-robots-tag': 'noindex' },
    });
    const connector = siteConnector(site);
    const first = await collect(connector, { startUrl: site.url('/') });
    expect(upserts(first).map((d) => new URL(d.externalId).pathname)).toEqual(['/', '/child']);
    const second = await collect(connector, { startUrl: site.url('/') }, lastCursor(first));
    expect(upserts(second).map((d) => new URL(d.externalId).pathname)).toEqual(['/', '/child']);
    expect(site.requests.filter((r) => r.path === '/hidden').map((r) => r.status)).toEqual([200, 304]);
    // A URL a person listed is imported whatever it says: robots rules are off for lists by default.
    expect(upserts(await collect(connector, { url: site.url('/hidden') }))).toHaveLength(1);
  });

  it('keeps per-host concurrency within the limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const links = Array.from({ length: 12 }, (_, index) => `/p${index}`);
    addArticle('/', 'Home', links);
    for (const path of links) {
      site.handlers.set(path, (_request, response) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        setTimeout(() => {
          inFlight -= 1;
          response.setHeader('content-type', 'text/html');
          response.end(articlePage({ title: path, paragraphs: [prose(path)] }));
        }, 20);
      });
    }
    const changes = await collect(siteConnector(site), {
      startUrl: site.url('/'),
      concurrency: 2,
      requestsPerSecond: 1000,
    });
    expect(upserts(changes)).toHaveLength(13);
    expect(peak).toBe(2);
  });

  it('checkpoints every N URLs, and a cursor makes the next crawl conditional', async () => {
    buildSite();
    const connector = siteConnector(site, { checkpointEvery: 2 });
    const first = await collect(connector, { startUrl: site.url('/') });
    expect(first.filter((c) => c.kind === 'checkpoint').length).toBeGreaterThanOrEqual(3);
    site.requests.length = 0;
    const second = await collect(connector, { startUrl: site.url('/') }, lastCursor(first));
    const pageRequests = site.requests.filter((r) => r.path !== '/robots.txt');
    expect(pageRequests.every((r) => r.headers['if-none-match'] !== undefined)).toBe(true);
    expect(pageRequests.every((r) => r.status === 304)).toBe(true);
    // The cursor names each URL once, however many pages link to it.
    const cursorJson = JSON.stringify(lastCursor(first));
    expect(cursorJson.split(`"${site.url('/a')}"`)).toHaveLength(2);
    // Same documents, same versions: the pipeline will skip every one without loading it.
    expect(upserts(second).map((d) => [d.externalId, d.version])).toEqual(
      upserts(first).map((d) => [d.externalId, d.version]),
    );
  });
});

describe('re-sync through the pipeline', () => {
  function buildSmallSite() {
    addArticle('/', 'Home', ['/one', '/two', '/three']);
    addArticle('/one', 'One');
    addArticle('/two', 'Two');
    addArticle('/three', 'Three');
  }

  it('an unchanged site costs 304s: no bodies, no loads, no embeddings', async () => {
    buildSmallSite();
    const run = pipeline(siteConnector(site), { startUrl: site.url('/') });
    const first = await run.sync();
    expect(first.status).toBe('success');
    expect(first.counts.inserted).toBe(4);
    const sentBefore = site.bytesSent();
    const second = await run.sync();
    expect(second.status).toBe('success');
    expect(second.counts.skippedByVersion).toBe(4);
    expect(second.embeddings.requests).toBe(0);
    expect(second.contentBytes).toBe(0);
    // Only robots.txt (404 "not found" text) carried a body the second time.
    expect(site.bytesSent() - sentBefore).toBe('not found'.length);
  });

  it('a changed page is re-imported; a page now 404 is deleted; a 5xx page fails but stays', async () => {
    buildSmallSite();
    const run = pipeline(siteConnector(site), {
      urls: ['/', '/one', '/two', '/three'].map((p) => site.url(p)),
    });
    expect((await run.sync()).counts.inserted).toBe(4);
    site.pages.set('/one', { body: articlePage({ title: 'One', paragraphs: [prose('renamed stream')] }) });
    site.pages.delete('/two');
    site.pages.set('/three', { body: 'broken', status: 500 });
    const second = await run.sync();
    expect(second.counts.updated).toBe(1);
    expect(second.counts.deleted).toBe(1);
    expect(second.counts.failed).toBe(1);
    expect(second.status).toBe('partial');
    const byPath = Object.fromEntries(run.documents().map((d) => [new URL(d.externalId).pathname, d]));
    expect(byPath['/two']?.isDeleted).toBe(true);
    // Pipeline v2: the failed load keeps the page's earlier version indexed (still searchable),
    // with the failure counted and recorded beside it.
    expect(second.counts.failedKeptPrevious).toBe(1);
    expect(byPath['/three']).toMatchObject({ isDeleted: false, processingStatus: 'completed' });
    expect(byPath['/three']?.chunkCount).toBeGreaterThan(0);
    // The 500 was retried (FAST_RETRY: 2 retries) before the document was counted failed.
    expect(site.requests.filter((r) => r.path === '/three' && r.status === 500)).toHaveLength(3);

    // Once the page is back, it is completed again; the deleted one stays deleted, and while the
    // config still lists it the run says that URL answers 404 (partial, nothing else failed).
    buildSmallSite();
    site.pages.delete('/two');
    const third = await run.sync();
    expect(third.status).toBe('partial');
    expect(third.errors.map((error) => error.externalId)).toEqual([site.url('/two')]);
    expect(third.errors[0]?.message).toMatch(/answered HTTP 404, so it was not imported/);
    expect(run.documents().find((d) => d.externalId === site.url('/three'))?.processingStatus).toBe(
      'completed',
    );
  });

  it('an unrecognised cursor means a full fetch, not a failure', async () => {
    addArticle('/', 'Home');
    const changes = await collect(siteConnector(site), { url: site.url('/') }, { version: 99, pages: {} });
    expect(upserts(changes)).toHaveLength(1);
    expect(site.requests[0]?.headers['if-none-match']).toBeUndefined();
  });

  it('a 304 document loaded anyway gets its page metadata back', async () => {
    addArticle('/page', 'Page', ['/other']);
    const connector = siteConnector(site);
    const first = await collect(connector, { url: site.url('/page') });
    const [again] = upserts(await collect(connector, { url: site.url('/page') }, lastCursor(first)));
    expect(again?.metadata).toEqual({
      url: site.url('/page'),
      canonicalUrl: site.url('/page'),
      contentType: 'text/html',
    });
    expect(await textOf(again as NonNullable<typeof again>)).toContain('The Page carries water');
    expect(again?.metadata).toMatchObject({
      description: 'All about Page',
      language: 'en',
      links: [site.url('/'), site.url('/other')],
    });
  });

  it('a URL now 404 is not deleted while another URL still serves the same canonical document', async () => {
    addArticle('/a', 'Doc', [], { canonical: '/doc' });
    addArticle('/b', 'Doc', [], { canonical: '/doc' });
    const connector = siteConnector(site);
    const config = { urls: [site.url('/a'), site.url('/b')] };
    const first = await collect(connector, config);
    expect(upserts(first).map((d) => d.externalId)).toEqual([site.url('/doc')]);
    site.pages.delete('/a');
    const second = await collect(connector, config, lastCursor(first));
    expect(second.filter((c) => c.kind === 'delete')).toEqual([]);
    expect(upserts(second).map((d) => d.externalId)).toEqual([site.url('/doc')]);
    site.pages.delete('/b');
    const third = await collect(connector, config, lastCursor(second));
    expect(third.filter((c) => c.kind === 'delete')).toEqual([
      { kind: 'delete', externalId: site.url('/doc') },
    ]);
  });

  it('uses Last-Modified when there is no ETag (If-Modified-Since, 304)', async () => {
    const html = articlePage({ title: 'Dated', paragraphs: [prose('dated')] });
    site.handlers.set('/dated', (request, response) => {
      response.setHeader('last-modified', 'Tue, 03 Nov 2026 08:00:00 GMT');
      if (request.headers['if-modified-since'] === 'Tue, 03 Nov 2026 08:00:00 GMT') {
        response.statusCode = 304;
        response.end();
        return;
      }
      response.setHeader('content-type', 'text/html');
      response.end(html);
    });
    const run = pipeline(siteConnector(site), { url: site.url('/dated') });
    expect((await run.sync()).counts.inserted).toBe(1);
    expect(run.documents()[0]?.sourceVersion).toBe('last-modified:Tue, 03 Nov 2026 08:00:00 GMT');
    const again = await run.sync();
    expect(again.counts.skippedByVersion).toBe(1);
    expect(site.requests.map((r) => r.status)).toEqual([200, 304]);
  });

  it('a page without validators is downloaded again but not re-embedded (content hash)', async () => {
    site.pages.set('/plain', {
      body: articlePage({ title: 'Plain', paragraphs: [prose('plain')] }),
      noValidators: true,
    });
    const run = pipeline(siteConnector(site), { url: site.url('/plain') });
    expect((await run.sync()).counts.inserted).toBe(1);
    const again = await run.sync();
    expect(again.counts).toMatchObject({ unchanged: 1, updated: 0, skippedByVersion: 0 });
    expect(again.embeddings.requests).toBe(0);
  });

  it('a 404 on a URL never seen before is not a document, and the run says so', async () => {
    const changes = await collect(siteConnector(site), { url: site.url('/nowhere') });
    expect(changes.filter((c) => c.kind === 'upsert' || c.kind === 'delete')).toEqual([]);
    expect(changes.filter((c) => c.kind === 'scope-failed')).toEqual([
      {
        kind: 'scope-failed',
        scope: site.url('/nowhere'),
        message: `[tributary] [url] ${site.url('/nowhere')} answered HTTP 404, so it was not imported. Check the URL in the connector config (or the sitemap)`,
      },
    ]);
  });
});

describe('check', () => {
  it('passes for a reachable URL and names a missing one', async () => {
    addArticle('/', 'Home');
    const connector = siteConnector(site);
    await expect(
      createConnectorInstance(connector, { config: { startUrl: site.url('/') } }).check(),
    ).resolves.toBeUndefined();
    const missing = createConnectorInstance(connector, { config: { url: site.url('/missing') } }).check();
    await expect(missing).rejects.toSatisfy(
      (error: unknown) => ConnectorApiError.isInstance(error) && (error as ConnectorApiError).status === 404,
    );
  });
});

describe('config', () => {
  const connector = createUrlConnector();
  const refuse = (config: unknown) => {
    try {
      createConnectorInstance(connector, { config });
    } catch (error) {
      expect(InvalidConfigError.isInstance(error)).toBe(true);
      return (error as InvalidConfigError).issues.map((issue) => issue.fieldPath);
    }
    throw new Error('config accepted');
  };

  it('names the offending field', () => {
    expect(refuse({})).toEqual(['url']);
    expect(refuse({ startUrl: 'ftp://example.com/' })).toEqual(['startUrl']);
    expect(refuse({ url: 'https://a.example/', startUrl: 'https://b.example/' })).toEqual(['startUrl']);
    expect(refuse({ startUrl: 'https://a.example/', robots: false })).toEqual(['robots']);
    expect(refuse({ urls: ['https://a.example/', 'not a url'] })).toEqual(['urls[1]']);
    expect(refuse({ startUrl: 'https://a.example/', include: ['('] })).toEqual(['include[0]']);
    expect(refuse({ url: 'https://a.example/', maxBytes: 0 })).toEqual(['maxBytes']);
  });

  it('fills defaults', () => {
    const instance = createConnectorInstance(connector, { config: { startUrl: 'https://a.example/' } });
    expect(instance.config).toMatchObject({ sameOrigin: true, maxDepth: 3, maxPages: 1000, maxRedirects: 5 });
  });

  it('normalises URLs into canonical ids', () => {
    expect(canonicalizeUrl('HTTPS://Example.COM:443/a/../b/?z=1&utm_medium=x&a=2#frag')).toBe(
      'https://example.com/b/?a=2&z=1',
    );
    expect(canonicalizeUrl('http://example.com')).toBe('http://example.com/');
    expect(canonicalizeUrl('mailto:someone@example.com')).toBeUndefined();
  });
});
