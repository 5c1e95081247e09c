import { createConnectorInstance } from '@tributary/core';
import { it } from 'vitest';
import { startTeamsHarness } from './support/teams-harness.ts';
it('debug', async () => {
  const h = await startTeamsHarness();
  const r = await h.cert.fetch(`${h.fake.url}/v1.0/teams`).catch((e) => e);
  console.log('fetch', r.status ?? r, r.cause);
  const instance = createConnectorInstance(h.connector(), { config: {}, credentials: h.credentials });
  try { await instance.check({}); console.log('ok'); } catch (e) { console.log(e, (e as any).cause); }
  await h.close();
}, 60000);
