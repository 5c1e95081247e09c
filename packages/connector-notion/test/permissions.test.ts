// Permissions: only principals known to read a page are listed (a page published to the web:
// anyone; the user who installed a public integration; readers the host asserts). Anything else
// is left unset, which the pipeline stores as "ACL not known" and `source` mode hides. Never the
// page's creator or last editor, never people properties.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exchangeNotionCode } from '../src/index.js';
import { collectChanges, type NotionHarness, startNotionHarness, upserts } from './support/notion-harness.js';

let harness: NotionHarness;
let published: string;
let internal: string;
let row: string;

beforeEach(async () => {
  harness = await startNotionHarness();
  const { store } = harness.fake;
  published = store.addPage({ title: 'Timetable', publicUrl: 'https://harbour.notion.site/Timetable' });
  internal = store.addPage({ title: 'Salaries' });
  const crew = store.addDataSource({ title: 'Crew', schema: { Owner: 'people' } });
  row = store.addRow(crew, {
    title: 'Ada',
    values: { Owner: [{ object: 'user', id: 'u-grace', name: 'Grace', type: 'person' }] },
  });
});
afterEach(() => harness.close());

function permissionsById(changes: Awaited<ReturnType<typeof collectChanges>>) {
  return new Map(upserts(changes).map((document) => [document.externalId, document.permissions]));
}

describe('Notion permissions', () => {
  it('internal integration: anyone for a published page, nothing claimed for the rest', async () => {
    const byId = permissionsById(await collectChanges(harness.connector(), {}));
    expect(byId.get(published)).toEqual([{ type: 'anyone', role: 'reader' }]);
    // Creator, last editor (in metadata) and the row's people property grant no read access.
    expect(byId.get(internal)).toBeUndefined();
    expect(byId.get(row)).toBeUndefined();
  });

  it('public integration: the installing user reads every page; host-asserted readers are added', async () => {
    harness.fake.codes.set('code-p', {
      clientId: 'c',
      clientSecret: 's',
      redirectUri: 'https://host.example/cb',
      accessToken: 'ntn_oauthPermissionsToken0123456789',
      workspaceId: 'ws-7',
    });
    const credentials = await exchangeNotionCode(
      { clientId: 'c', clientSecret: 's', redirectUri: 'https://host.example/cb', baseUrl: harness.fake.url },
      'code-p',
    );
    const readers = [{ type: 'domain', domain: 'harbour.example', role: 'reader' }];
    const byId = permissionsById(
      await collectChanges(harness.connector(), { credentials, config: { readers } }),
    );
    const owner = {
      type: 'user',
      id: '22222222-2222-4222-8222-222222222222',
      email: 'ada@example.com',
      displayName: 'Ada',
      role: 'reader',
    };
    expect(byId.get(internal)).toEqual([owner, readers[0]]);
    expect(byId.get(published)).toEqual([{ type: 'anyone', role: 'reader' }, owner, readers[0]]);
  });

  it('declares the permissions capability, so the pipeline stores a page without readers as "ACL not known"', () => {
    // Core writes `permissions: null` for such documents (and `source` mode hides them) only for
    // connectors with this capability; without it the key would be left out and an old ACL kept.
    expect(harness.connector().capabilities.permissions).toBe(true);
  });
});
