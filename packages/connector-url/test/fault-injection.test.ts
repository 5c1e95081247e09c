// Fault injection: one request in ten to the site answers 429/5xx, stalls and drops its
// connection, or has its connection reset. A list of URLs still arrives whole, each fault costs one
// retry, and the sync log tells the truth.
import { injectFaults } from '@tributary/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pipeline, siteConnector } from './helpers.js';
import { articlePage, prose, type Site, startSite } from './site-server.js';

let site: Site;
beforeEach(async () => {
  site = await startSite();
});
afterEach(() => site.close());

describe('a flaky site (10% of requests fail)', () => {
  it('imports every URL, retries each fault once, and logs an honest run', async () => {
    const paths = Array.from({ length: 40 }, (_, index) => `/station/${index}`);
    for (const path of paths) {
      site.pages.set(path, {
        body: articlePage({ title: `Station ${path}`, paragraphs: [prose(path), prose(`${path} pumps`)] }),
      });
    }
    const config = { urls: paths.map((path) => site.url(path)), concurrency: 4 };
    // A clean run first, to count the requests a first sync makes.
    await pipeline(siteConnector(site), config).sync();
    const cleanRequests = site.requests.length;
    site.requests.length = 0;

    // `timeout` here is a stall, then a dropped connection (the client timeout itself has its own test).
    const faults = injectFaults(site.server, {
      rate: 0.1,
      seed: 3,
      hangMs: 100,
      maxConsecutivePerRequest: 1,
    });
    const run = pipeline(siteConnector(site), config);
    const summary = await run.sync();
    faults.restore();

    expect(faults.total()).toBeGreaterThan(0);
    expect(summary.status).toBe('success');
    expect(run.documents().filter((document) => !document.isDeleted)).toHaveLength(paths.length);
    expect(summary.counts).toMatchObject({ inserted: paths.length, failed: 0 });
    // The clean run's requests (one per URL), plus one retry per injected fault: no retry storm.
    expect(cleanRequests).toBe(paths.length);
    expect(site.requests.length).toBe(cleanRequests);
    expect(faults.requests()).toBe(cleanRequests + faults.total());
    const log = await run.repository.getSyncRun(summary.runId);
    expect(log).toMatchObject({ status: 'success', documentsSynced: paths.length, documentsFailed: 0 });
    expect(log?.apiCallsMade).toBe(cleanRequests + faults.total());
  });
});
