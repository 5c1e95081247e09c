// The console in a real headless browser (Debian's Chromium driven by playwright-core) against a
// real PostgreSQL server: add a connector through the form, sync it, watch its progress reach
// 100% over server-sent events, read the run's stage timings and the chart, and find a document
// through the search playground with its explained score; page back through older runs.
import { createLexicalEmbedder, silentLogger } from '@tributary/core';
import { fromPg, migrate } from '@tributary/sql';
import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConsole, type OperationsConsole } from '../src/index.js';
import { chromiumPath } from './support/chromium.js';
import { createNotesConnector } from './support/notes-connector.js';

// The browser's state is read by polling (what a person waiting for the page would see).
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 30_000, interval: 100 });

let server: PostgresServer;
let operations: OperationsConsole;
let browser: Browser;
let page: Page;
let databaseName = '';

beforeAll(async () => {
  server = await startPostgresServer();
  const name = await server.createDatabase();
  databaseName = name;
  const pool = server.pool(name, { max: 2 });
  await migrate(fromPg(pool));
  await pool.end();
  operations = createConsole({
    connectionString: server.connectionString(name),
    connectors: [createNotesConnector()],
    embedder: createLexicalEmbedder(),
    port: 0,
    refreshMs: 200,
    logger: silentLogger,
    // Groups of two documents: the pipeline reports progress as each group is processed, so the
    // bar moves while the source is still listing.
    worker: { pollingIntervalSeconds: 0.5, schedule: false, runOptions: { groupSize: 2 } },
  });
  await operations.start();
  browser = await chromium.launch({ executablePath: chromiumPath(), headless: true });
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  await operations?.stop();
  await server?.stop();
});

it('adds a connector, syncs it to 100% and finds a document through the search playground', async () => {
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(operations.url);
  await poll(() => page.locator('[data-testid=add-type] option').count()).toBe(1);

  // Add a connector through the form.
  await page.fill('[data-testid=add-name]', 'Field notes');
  await page.fill('[data-testid=add-config]', JSON.stringify({ docs: 8, delayMs: 250 }));
  const orgId = await page.inputValue('[data-testid=add-org]');
  await page.click('[data-testid=add-submit]');
  await poll(() => page.textContent('[data-testid=add-result]')).toMatch(/^Added Field notes/);
  const row = page.locator('tr[data-name="Field notes"]');
  await row.waitFor();
  const connectorId = ((await row.getAttribute('data-testid')) ?? '').replace('connector-', '');
  expect(connectorId).toMatch(/^[0-9a-f-]{36}$/);
  expect(await page.textContent(`[data-testid=status-${connectorId}]`)).toBe('never synced');

  // Record every percent the progress bar shows, then sync.
  await page.evaluate((id) => {
    const seen: string[] = [];
    (window as unknown as { seenPercents: string[] }).seenPercents = seen;
    new MutationObserver(() => {
      const percent = document.querySelector(`[data-testid=progress-${id}]`)?.getAttribute('data-percent');
      if (percent && seen.at(-1) !== percent) seen.push(percent);
    }).observe(document.querySelector('#connectors tbody') as Node, {
      subtree: true,
      childList: true,
      attributes: true,
    });
  }, connectorId);
  await page.click(`[data-testid=sync-${connectorId}]`);
  await page.waitForFunction(
    (id) => document.querySelector(`[data-testid=progress-${id}]`)?.getAttribute('data-percent') === '100',
    connectorId,
    { timeout: 60_000 },
  );
  const seen = await page.evaluate(() => (window as unknown as { seenPercents: string[] }).seenPercents);
  const percents = seen.map(Number);
  expect(percents.at(-1)).toBe(100);
  // Live progress: the bar moved through values below 100 first, never backwards.
  expect(percents.some((value) => value > 0 && value < 100)).toBe(true);
  expect([...percents].sort((a, b) => a - b)).toEqual(percents);
  expect(await page.textContent(`[data-testid=progress-${connectorId}] .label`)).toBe('100%');
  await poll(() => page.textContent(`[data-testid=status-${connectorId}]`)).toBe('success');
  await poll(() => page.textContent(`[data-testid=documents-${connectorId}]`)).toBe('8');

  // The run with its per-stage timings, and a point on the chart.
  const stages = page.locator('[data-testid^=stages-]').first();
  await poll(() => stages.textContent()).toMatch(/write \d+/);
  await poll(() => page.getAttribute('[data-testid=chart]', 'data-points')).toBe('1');
  expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0);

  // The search playground finds the note about glaciers and explains its score.
  await page.selectOption('[data-testid=search-org]', orgId);
  await page.fill('[data-testid=search-query]', 'glacier');
  await page.click('[data-testid=search-submit]');
  const firstHit = page.locator('[data-testid=hit]').first();
  await firstHit.waitFor();
  expect(await firstHit.locator('.hit-title').textContent()).toContain('Note about glacier');
  expect(await firstHit.locator('[data-testid=hit-explanation]').textContent()).toMatch(
    /^full text #1 \(bm25 \d+\.\d{3}\)/,
  );
  expect(pageErrors).toEqual([]);
});

it('pages back through older runs with the Older runs button', async () => {
  const pool = server.pool(databaseName, { max: 1 });
  // 30 finished runs of an older connector, an hour apart, a day ago.
  await pool.query(
    `with c as (
       insert into connector_configs (org_id, connector_type, name)
       values (gen_random_uuid(), 'notes', 'Archive notes') returning id, org_id)
     insert into connector_sync_logs (org_id, connector_id, status, started_at, completed_at)
     select c.org_id, c.id, 'success', t, t + interval '1 second'
     from c cross join generate_series(1, 30) n
     cross join lateral (select now() - interval '1 day' - n * interval '1 hour' as t) s`,
  );
  const { rows } = await pool.query('select count(*)::int as n from connector_sync_logs');
  await pool.end();
  const total = rows[0].n as number;
  expect(total).toBeGreaterThan(25);

  await page.reload();
  const runRows = page.locator('#runs tbody tr');
  await poll(() => runRows.count()).toBe(25);
  expect(await page.isVisible('[data-testid=older-runs]')).toBe(true);
  await page.click('[data-testid=older-runs]');
  await poll(() => runRows.count()).toBe(total);
  expect(await page.isVisible('[data-testid=older-runs]')).toBe(false);
  // Newest first, every run once.
  const ids = await runRows.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-testid')));
  expect(new Set(ids).size).toBe(total);
});
