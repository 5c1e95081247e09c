// The README's opening example, against the local site instead of example.com: the calls it shows
// exist and do what its comments say.
import { createLexicalEmbedder, runSync } from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createUrlConnector } from '../src/index.js';
import { articlePage, prose, type Site, startSite } from './site-server.js';

let site: Site;
beforeEach(async () => {
  site = await startSite();
  site.pages.set('/', {
    body: articlePage({ title: 'Example Domain', paragraphs: [prose('example domain')], links: ['/more'] }),
  });
  site.pages.set('/more', { body: articlePage({ title: 'More', paragraphs: [prose('more examples')] }) });
});
afterEach(() => site.close());

it('runs the README example', async () => {
  const repository = createMemoryRepository();
  const { id: connectorId, orgId } = repository.addConnector({
    orgId: crypto.randomUUID(),
    connectorType: 'url',
    name: 'Docs',
  });
  const connector = createUrlConnector({ allowedHosts: [site.host] });
  const sync = () =>
    runSync({
      connector,
      config: { startUrl: site.url('/'), maxPages: 20, requestsPerSecond: 100 },
      connectorId,
      repository,
      embedder: createLexicalEmbedder(),
    });
  expect((await sync()).counts).toMatchObject({ inserted: 2 });
  expect((await sync()).counts).toMatchObject({ inserted: 0, skippedByVersion: 2 });
  const results = await repository.search({ orgId, queryText: 'example domain' });
  expect(results[0]?.externalUrl).toBe(site.url('/'));
});
