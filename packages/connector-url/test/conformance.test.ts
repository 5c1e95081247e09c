// The URL connector under the conformance suite every connector runs. The source is a local
// website with a sitemap index of ten articles: `remove` takes pages off the site and out of the
// sitemap, `change` rewrites one (new ETag), `failNextRequests` makes the server answer errors.
import { type ConformanceSource, testConnector } from '@tributary/testkit';
import { createUrlConnector } from '../src/index.js';
import { articlePage, prose, startSite } from './site-server.js';

async function createWebsiteSource(): Promise<ConformanceSource> {
  const site = await startSite();
  const paths = Array.from(
    { length: 10 },
    (_, index) => `/articles/river-${String(index + 1).padStart(2, '0')}`,
  );
  let edits = 0;
  const publish = () => {
    const half = Math.ceil(paths.length / 2);
    const urlset = (list: string[]) =>
      `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${list
        .map((path) => `<url><loc>${site.url(path)}</loc></url>`)
        .join('')}</urlset>`;
    site.pages.set('/sitemap-1.xml', { contentType: 'application/xml', body: urlset(paths.slice(0, half)) });
    site.pages.set('/sitemap-2.xml', { contentType: 'application/xml', body: urlset(paths.slice(half)) });
  };
  site.pages.set('/sitemap.xml', {
    contentType: 'application/xml',
    body: `<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>${site.url('/sitemap-1.xml')}</loc></sitemap><sitemap><loc>${site.url('/sitemap-2.xml')}</loc></sitemap></sitemapindex>`,
  });
  site.pages.set('/robots.txt', { contentType: 'text/plain', body: 'User-agent: *\nAllow: /\n' });
  for (const [index, path] of paths.entries()) {
    site.pages.set(path, {
      body: articlePage({
        title: `River ${index + 1}`,
        description: `Field notes on river ${index + 1}`,
        paragraphs: [prose(`river ${index + 1}`), prose(`delta ${index + 1}`)],
      }),
    });
  }
  publish();

  return {
    config: { sitemapUrl: site.url('/sitemap.xml'), requestsPerSecond: 500 },
    async remove(count) {
      const removed = paths.splice(0, count);
      for (const path of removed) site.pages.delete(path);
      publish();
      return removed.map((path) => site.url(path));
    },
    async change() {
      const path = paths[paths.length - 1];
      if (!path) throw new Error('the site is empty');
      edits += 1;
      site.pages.set(path, {
        body: articlePage({
          title: `Revised river ${edits}`,
          paragraphs: [prose(`revised course ${edits}`)],
        }),
      });
      return site.url(path);
    },
    failNextRequests(count, status) {
      site.failNext(count, status);
    },
    close: () => site.close(),
  };
}

testConnector({
  name: 'url',
  connector: () =>
    createUrlConnector({
      // Every local port: each test's site listens on a new one.
      allowedHosts: ['127.0.0.1'],
      checkpointEvery: 3,
      retry: { retries: 3, minDelayMs: 1, maxDelayMs: 10 },
    }),
  source: createWebsiteSource,
  invalidConfigs: [
    { config: { startUrl: 'ftp://example.com/' }, field: 'startUrl', title: 'a non-http start URL' },
    { config: {}, field: 'url', title: 'no URL at all' },
    { config: { sitemapUrl: 'https://example.com/sitemap.xml', maxPages: 0 }, field: 'maxPages' },
    {
      config: { startUrl: 'https://example.com/', robots: false },
      field: 'robots',
      title: 'a crawl ignoring robots.txt',
    },
  ],
});
