// Auth, config, full sync, exports and metadata, against the fake Drive with the real
// @googleapis/drive client and google-auth-library.
import { AuthError, createConnectorInstance, InvalidConfigError, type SourceDocument } from '@tributary/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { googleDriveConfigSchema, listingQuery } from '../src/index.js';
import {
  collectChanges,
  DELEGATED_USER,
  type DriveHarness,
  lastCursor,
  loadText,
  pipeline,
  REFRESH_TOKEN,
  startDriveHarness,
  upserts,
} from './support/drive-harness.js';
import { DOC, type FakeDrive, SHEET, SLIDES } from './support/fake-drive-server.js';

let harness: DriveHarness;
let fake: FakeDrive;
beforeEach(async () => {
  harness = await startDriveHarness();
  fake = harness.fake;
});
afterEach(() => harness.close());

function byTitle(documents: SourceDocument[], title: string): SourceDocument {
  const found = documents.find((document) => document.title === title);
  if (!found) throw new Error(`no document titled ${title}`);
  return found;
}

describe('config and credentials', () => {
  it('rejects a config that selects nothing, naming folderIds', () => {
    const connector = harness.connector();
    const error = (() => {
      try {
        createConnectorInstance(connector, { config: {}, credentials: harness.serviceAccount });
      } catch (caught) {
        return caught;
      }
    })();
    expect(InvalidConfigError.isInstance(error)).toBe(true);
    expect((error as InvalidConfigError).fieldPath).toBe('folderIds');
  });

  it('names the bad field: an empty folder list, a bad MIME pattern, a bad date', () => {
    const connector = harness.connector();
    const fieldOf = (config: unknown) => {
      try {
        createConnectorInstance(connector, { config, credentials: harness.serviceAccount });
        return undefined;
      } catch (error) {
        return (error as InvalidConfigError).fieldPath;
      }
    };
    expect(fieldOf({ folderIds: [] })).toBe('folderIds');
    expect(fieldOf({ myDrive: true, includeMimeTypes: ['pdf'] })).toBe('includeMimeTypes[0]');
    expect(fieldOf({ myDrive: true, modifiedAfter: 'yesterday' })).toBe('modifiedAfter');
    expect(fieldOf({ sharedDrives: [] })).toBe('sharedDrives');
    expect(fieldOf({ myDrive: true, sharedDrives: 'all', sharedWithMe: true })).toBeUndefined();
  });

  it('rejects credentials without echoing secrets', () => {
    const connector = harness.connector();
    try {
      createConnectorInstance(connector, {
        config: { myDrive: true },
        credentials: { type: 'service_account', clientEmail: 'not-an-email', privateKey: 'secret-value-123' },
      });
      expect.unreachable();
    } catch (error) {
      expect(InvalidConfigError.isInstance(error)).toBe(true);
      expect(String((error as Error).message)).not.toContain('secret-value-123');
    }
  });

  it('rejects a page size outside 1-1000', () => {
    expect(() => harness.connector({ pageSize: 0 })).toThrow(/pageSize/);
    expect(() => harness.connector({ pageSize: 1001 })).toThrow(/pageSize/);
  });

  it('builds the q clauses it sends (folders pass the modifiedAfter clause)', () => {
    const config = googleDriveConfigSchema.parse({
      folderIds: ['abc'],
      modifiedAfter: '2025-01-01T00:00:00Z',
    });
    expect(listingQuery({ kind: 'folder', id: 'abc' }, config)).toBe(
      "'abc' in parents and trashed = false and (mimeType = 'application/vnd.google-apps.folder' or modifiedTime > '2025-01-01T00:00:00Z')",
    );
    expect(
      listingQuery({ kind: 'sharedWithMe' }, googleDriveConfigSchema.parse({ sharedWithMe: true })),
    ).toBe('sharedWithMe = true and trashed = false');
  });
});

describe('auth', () => {
  it('check() makes one cheap call with a service account (JWT grant verified by the fake)', async () => {
    const instance = createConnectorInstance(harness.connector(), {
      config: { myDrive: true },
      credentials: harness.serviceAccount,
    });
    await instance.check();
    expect(fake.callCount('token')).toBe(1);
    expect(fake.callCount('about.get')).toBe(1);
    expect(fake.callCount('api')).toBe(1);
  });

  it('impersonates a user with domain-wide delegation, and explains a refused delegation', async () => {
    const delegated = { ...harness.serviceAccount, subject: DELEGATED_USER };
    await createConnectorInstance(harness.connector(), {
      config: { myDrive: true },
      credentials: delegated,
    }).check();
    const refused = { ...harness.serviceAccount, subject: 'mallory@example.com' };
    const error = await createConnectorInstance(harness.connector(), {
      config: { myDrive: true },
      credentials: refused,
    })
      .check()
      .catch((caught: unknown) => caught);
    expect(AuthError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/unauthorized_client/);
    expect((error as Error).message).toMatch(/domain-wide delegation/);
  });

  it('refuses a service account whose key does not match (bad signature) with an AuthError', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const credentials = { ...harness.serviceAccount, privateKey: other.privateKey };
    const error = await createConnectorInstance(harness.connector(), {
      config: { myDrive: true },
      credentials,
    })
      .check()
      .catch((caught: unknown) => caught);
    expect(AuthError.isInstance(error)).toBe(true);
    expect((error as Error).message).not.toContain('PRIVATE KEY');
  });

  it('works with an OAuth2 refresh token, refreshing an access token before it expires', async () => {
    const folder = fake.addFolder('F', fake.rootFolderId);
    fake.addFile({ name: 'a.txt', parent: folder, content: 'alpha' });
    const instance = createConnectorInstance(harness.connector(), {
      config: { folderIds: [folder] },
      credentials: harness.oauth,
    });
    await instance.check();
    expect(fake.callCount('token')).toBe(1);
    // Tokens living 2 minutes are inside google-auth-library's 5-minute refresh margin: each
    // call refreshes first, and no call is ever sent with an expiring token.
    fake.options.tokenLifetimeSeconds = 120;
    fake.resetCalls();
    const changes = [];
    for await (const change of instance.sync()) changes.push(change);
    expect(upserts(changes).map((document) => document.title)).toEqual(['a.txt']);
    expect(fake.callCount('token')).toBe(fake.callCount('api'));
    expect(fake.callCount('api')).toBeGreaterThanOrEqual(3);
  });

  it('sends every request, token requests included, through an injected fetch', async () => {
    const seen: string[] = [];
    const countingFetch: typeof fetch = (input, init) => {
      seen.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
      return fetch(input, init);
    };
    await createConnectorInstance(harness.connector({ fetch: countingFetch }), {
      config: { myDrive: true },
      credentials: harness.serviceAccount,
    }).check();
    expect(seen).toEqual(['/token', '/drive/v3/about']);
  });

  it('a revoked refresh token ends the run failed with an AuthError saying what to do, without secrets', async () => {
    const folder = fake.addFolder('F', fake.rootFolderId);
    fake.addFile({ name: 'a.txt', parent: folder, content: 'alpha' });
    fake.revokeRefreshToken(REFRESH_TOKEN);
    const run = pipeline(harness, { folderIds: [folder] }, harness.oauth);
    const summary = await run.sync();
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/revoked or has expired \(invalid_grant\)/);
    expect(summary.error).toMatch(/Reconnect the Google account/);
    expect(summary.error).not.toContain(REFRESH_TOKEN);
    expect(summary.error).not.toContain(harness.oauth.clientSecret);

    const error = await createConnectorInstance(harness.connector(), {
      config: { folderIds: [folder] },
      credentials: harness.oauth,
    })
      .check()
      .catch((caught: unknown) => caught);
    expect(AuthError.isInstance(error)).toBe(true);
    expect(JSON.stringify(error)).not.toContain(REFRESH_TOKEN);
  });
});

describe('full sync', () => {
  it('lists folders recursively with explicit fields, excludes trashed files, and maps metadata', async () => {
    const team = fake.addFolder('Team', fake.rootFolderId);
    const specs = fake.addFolder('Specs', team);
    const readme = fake.addFile({
      name: 'readme.md',
      mimeType: 'text/markdown',
      parent: team,
      content: '# Read me',
      permissions: [
        { id: 'p1', type: 'user', role: 'owner', emailAddress: 'Ada@Example.com', displayName: 'Ada' },
        { id: 'p2', type: 'group', role: 'writer', emailAddress: 'eng@example.com' },
        { id: 'p3', type: 'domain', role: 'reader', domain: 'example.com' },
        { id: 'p4', type: 'anyone', role: 'commenter', allowFileDiscovery: false },
      ],
    });
    fake.addFile({ name: 'deep.txt', parent: specs, content: 'deep' });
    const trashed = fake.addFile({ name: 'old.txt', parent: specs, content: 'old' });
    fake.trash(trashed);
    fake.addFile({ name: 'elsewhere.txt', parent: fake.rootFolderId, content: 'not in scope' });

    const changes = await collectChanges(harness.connector(), {
      config: { folderIds: [team] },
      credentials: harness.serviceAccount,
    });
    const documents = upserts(changes);
    expect(documents.map((document) => document.title).sort()).toEqual(['deep.txt', 'readme.md']);
    const document = byTitle(documents, 'readme.md');
    expect(document.externalId).toBe(readme);
    expect(document.parentExternalId).toBe(team);
    expect(document.externalUrl).toBe(`https://drive.google.com/file/d/${readme}/view`);
    expect(document.version).toMatch(/^v\d+$/);
    expect(document.metadata).toMatchObject({
      title: 'readme.md',
      path: 'Team/readme.md',
      mimeType: 'text/markdown',
      size: 9,
      owners: [{ displayName: 'Ada Owner', email: 'ada@example.com' }],
    });
    expect(byTitle(documents, 'deep.txt').metadata?.path).toBe('Team/Specs/deep.txt');
    expect(document.permissions).toEqual([
      { type: 'user', id: 'p1', email: 'ada@example.com', displayName: 'Ada', role: 'owner' },
      { type: 'group', id: 'p2', email: 'eng@example.com', role: 'editor' },
      { type: 'domain', domain: 'example.com', role: 'reader' },
      { type: 'anyone', role: 'commenter' },
    ]);
    expect(document.metadata?.permissions).toEqual(document.permissions);
    expect(changes.find((change) => change.kind === 'listing-complete')).toEqual({
      kind: 'listing-complete',
      complete: true,
    });
    // Nothing was downloaded by listing.
    expect(fake.callCount('files.media')).toBe(0);
    expect(await loadText(document)).toBe('# Read me');
  });

  it('follows partial and empty pages and checkpoints after every page', async () => {
    await harness.close();
    harness = await startDriveHarness({ partialPages: true });
    fake = harness.fake;
    const folder = fake.addFolder('F', fake.rootFolderId);
    for (let index = 0; index < 9; index++)
      fake.addFile({ name: `f${index}.txt`, parent: folder, content: `${index}` });
    const changes = await collectChanges(harness.connector({ pageSize: 4, checkpointEveryFolders: 1 }), {
      config: { folderIds: [folder] },
      credentials: harness.serviceAccount,
    });
    expect(upserts(changes)).toHaveLength(9);
    // An empty first page, then pages of 2.
    expect(fake.callCount('files.list')).toBe(6);
    expect(changes.filter((change) => change.kind === 'checkpoint').length).toBeGreaterThanOrEqual(5);
    expect(lastCursor(changes)).toMatchObject({ version: 2, phase: 'changes' });
  });

  it('reports incompleteSearch as an incomplete listing (no delete sweep)', async () => {
    await harness.close();
    harness = await startDriveHarness({ incompleteSearch: true });
    fake = harness.fake;
    const folder = fake.addFolder('F', fake.rootFolderId);
    fake.addFile({ name: 'a.txt', parent: folder, content: 'a' });
    const changes = await collectChanges(harness.connector(), {
      config: { folderIds: [folder] },
      credentials: harness.serviceAccount,
    });
    const listing = changes.find((change) => change.kind === 'listing-complete');
    expect(listing).toMatchObject({ complete: false, reason: expect.stringMatching(/incompleteSearch/) });
  });

  it('reports an unreadable configured folder as an incomplete listing', async () => {
    const folder = fake.addFolder('F', fake.rootFolderId);
    fake.addFile({ name: 'a.txt', parent: folder, content: 'a' });
    const changes = await collectChanges(harness.connector(), {
      config: { folderIds: [folder, 'missingFolder123'] },
      credentials: harness.serviceAccount,
    });
    expect(upserts(changes)).toHaveLength(1);
    expect(changes.find((change) => change.kind === 'listing-complete')).toMatchObject({
      complete: false,
      reason: expect.stringMatching(/missingFolder123 cannot be read \(HTTP 404\)/),
    });
  });

  it('syncs My Drive, shared drives (with permissions.list) and files shared with me', async () => {
    fake.addFile({ name: 'mine.txt', parent: fake.rootFolderId, content: 'mine' });
    const drive = fake.addSharedDrive('Engineering');
    const other = fake.addSharedDrive('Finance');
    const designs = fake.addFolder('Designs', drive);
    fake.addFile({
      name: 'spec.txt',
      parent: designs,
      content: 'spec',
      permissions: [{ id: 'g1', type: 'group', role: 'organizer', emailAddress: 'eng@example.com' }],
    });
    fake.addFile({ name: 'budget.txt', parent: other, content: 'money' });
    const outside = fake.addFolder('Outside', 'someoneElsesRoot');
    fake.addFile({ name: 'shared.txt', parent: outside, content: 'shared', sharedWithMe: true });

    const all = upserts(
      await collectChanges(harness.connector(), {
        config: { myDrive: true, sharedDrives: 'all', sharedWithMe: true },
        credentials: harness.serviceAccount,
      }),
    );
    expect(all.map((document) => document.metadata?.path).sort()).toEqual([
      'Engineering/Designs/spec.txt',
      'Finance/budget.txt',
      'My Drive/mine.txt',
      'shared.txt',
    ]);
    const spec = byTitle(all, 'spec.txt');
    expect(spec.permissions).toEqual([{ type: 'group', id: 'g1', email: 'eng@example.com', role: 'owner' }]);
    expect(spec.metadata?.driveId).toBe(drive);
    expect(fake.callCount('permissions.list')).toBe(2);

    const listed = upserts(
      await collectChanges(harness.connector(), {
        config: { sharedDrives: [drive] },
        credentials: harness.serviceAccount,
      }),
    );
    expect(listed.map((document) => document.title)).toEqual(['spec.txt']);
  });

  it('applies MIME include/exclude, max size and modified-after filters', async () => {
    const folder = fake.addFolder('F', fake.rootFolderId);
    fake.addFile({
      name: 'small.pdf',
      mimeType: 'application/pdf',
      parent: folder,
      content: '%PDF-1.4 small',
    });
    fake.addFile({ name: 'big.pdf', mimeType: 'application/pdf', parent: folder, content: 'x'.repeat(5000) });
    fake.addFile({ name: 'photo.png', mimeType: 'image/png', parent: folder, content: 'png' });
    fake.addFile({ name: 'Notes', mimeType: DOC, parent: folder, content: 'notes' });
    fake.addFile({ name: 'Form', mimeType: 'application/vnd.google-apps.form', parent: folder });
    const titles = async (config: Record<string, unknown>) =>
      upserts(
        await collectChanges(harness.connector(), {
          config: { folderIds: [folder], ...config },
          credentials: harness.serviceAccount,
        }),
      )
        .map((document) => document.title)
        .sort();
    expect(await titles({})).toEqual(['Notes', 'big.pdf', 'photo.png', 'small.pdf']);
    expect(await titles({ includeMimeTypes: ['application/pdf'] })).toEqual(['big.pdf', 'small.pdf']);
    expect(await titles({ excludeMimeTypes: ['image/*'] })).toEqual(['Notes', 'big.pdf', 'small.pdf']);
    expect(await titles({ maxFileSizeBytes: 1000 })).toEqual(['Notes', 'photo.png', 'small.pdf']);
    const cutoff = fake.files.get(
      [...fake.files.values()].find((file) => file.name === 'photo.png')?.id ?? '',
    )?.modifiedTime as string;
    expect(await titles({ modifiedAfter: cutoff })).toEqual(['Notes']);
  });
});

describe('exports', () => {
  it('exports Docs as Markdown, falls back to plain text, and Slides as text', async () => {
    const folder = fake.addFolder('F', fake.rootFolderId);
    fake.addFile({ name: 'Guide', mimeType: DOC, parent: folder, content: '# Guide\n\nSteps' });
    fake.addFile({
      name: 'Legacy',
      mimeType: DOC,
      parent: folder,
      content: '# Legacy\n\nOld',
      noMarkdown: true,
    });
    fake.addFile({ name: 'Deck', mimeType: SLIDES, parent: folder, content: 'Slide 1\nSlide 2' });
    const documents = upserts(
      await collectChanges(harness.connector(), {
        config: { folderIds: [folder] },
        credentials: harness.serviceAccount,
      }),
    );
    const guide = byTitle(documents, 'Guide');
    expect(guide.mimeType).toBe('text/markdown');
    expect(guide.metadata).toMatchObject({ mimeType: DOC, exportedAs: 'text/markdown' });
    expect(await loadText(guide)).toBe('# Guide\n\nSteps');
    expect(await loadText(byTitle(documents, 'Legacy'))).toBe('Legacy\n\nOld');
    expect(byTitle(documents, 'Deck').mimeType).toBe('text/plain');
    expect(await loadText(byTitle(documents, 'Deck'))).toBe('Slide 1\nSlide 2');
  });

  it('exports every sheet of a spreadsheet, each under its own heading', async () => {
    const folder = fake.addFolder('F', fake.rootFolderId);
    fake.addFile({
      name: 'Budget',
      mimeType: SHEET,
      parent: folder,
      sheets: [
        { sheetId: 0, title: 'Summary', csv: 'item,total\nrent,1200\n' },
        { sheetId: 1843, title: 'Q1', csv: 'month,spend\njan,100\nfeb,200\n' },
        { sheetId: 99, title: 'Q2', csv: 'month,spend\napr,300\n' },
      ],
    });
    const [sheet] = upserts(
      await collectChanges(harness.connector(), {
        config: { folderIds: [folder] },
        credentials: harness.serviceAccount,
      }),
    );
    if (!sheet) throw new Error('no sheet');
    const text = await loadText(sheet);
    expect(text).toContain('## Summary');
    expect(text).toContain('## Q1');
    expect(text).toContain('## Q2');
    expect(text).toContain('| rent | 1200 |');
    expect(text).toContain('| feb | 200 |');
    expect(text).toContain('| apr | 300 |');
    expect(text.indexOf('## Summary')).toBeLessThan(text.indexOf('## Q1'));
    expect(fake.callCount('sheets.exportLink')).toBe(3);
  });

  it('without the Sheets API, exports the first sheet and says so', async () => {
    fake.options.sheetsApiDisabled = true;
    const folder = fake.addFolder('F', fake.rootFolderId);
    fake.addFile({
      name: 'Budget',
      mimeType: SHEET,
      parent: folder,
      sheets: [
        { sheetId: 0, title: 'Summary', csv: 'item,total\nrent,1200\n' },
        { sheetId: 5, title: 'Q1', csv: 'month,spend\njan,100\n' },
      ],
    });
    const warnings: string[] = [];
    const instance = createConnectorInstance(harness.connector(), {
      config: { folderIds: [folder] },
      credentials: harness.serviceAccount,
    });
    const documents: SourceDocument[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (message: string) => warnings.push(message) };
    for await (const change of instance.sync({ logger }))
      if (change.kind === 'upsert') documents.push(change.document);
    const text = await loadText(documents[0] as SourceDocument);
    expect(text).toContain('| rent | 1200 |');
    expect(text).not.toContain('jan');
    expect(warnings).toEqual(['Sheets API unavailable; exporting the first sheet only']);
  });

  it('reports a Doc over the 10 MB export limit as a failed document with a clear message; the run goes on', async () => {
    const folder = fake.addFolder('F', fake.rootFolderId);
    const big = fake.addFile({
      name: 'Huge report',
      mimeType: DOC,
      parent: folder,
      content: 'word '.repeat(12 * 1024 * 205),
    });
    fake.addFile({ name: 'ok.txt', parent: folder, content: 'fine' });
    const run = pipeline(harness, { folderIds: [folder] }, harness.serviceAccount);
    const summary = await run.sync();
    expect(summary.status).toBe('partial');
    expect(summary.counts.failed).toBe(1);
    expect(summary.errors).toEqual([
      {
        externalId: big,
        message: expect.stringMatching(/larger than Drive's 10 MB export limit \(exportSizeLimitExceeded\)/),
      },
    ]);
    const stored = run.repository
      .listDocuments(run.connectorId)
      .find((document) => document.externalId === big);
    expect(stored).toMatchObject({ processingStatus: 'failed', isDeleted: false, title: 'Huge report' });
    expect(stored?.processingError).toMatch(/Split the document/);
  });

  it('downloads binaries only when their version changed', async () => {
    const folder = fake.addFolder('F', fake.rootFolderId);
    const a = fake.addFile({ name: 'a.txt', parent: folder, content: 'alpha one' });
    fake.addFile({ name: 'b.txt', parent: folder, content: 'beta one' });
    const run = pipeline(harness, { folderIds: [folder] }, harness.serviceAccount);
    expect((await run.sync({ mode: 'full' })).counts.inserted).toBe(2);
    expect(fake.callCount('files.media')).toBe(2);
    const again = await run.sync({ mode: 'full' });
    expect(again.counts.skippedByVersion).toBe(2);
    expect(fake.callCount('files.media')).toBe(2);
    fake.updateContent(a, 'alpha two');
    const third = await run.sync({ mode: 'full' });
    expect(third.counts.updated).toBe(1);
    expect(fake.callCount('files.media')).toBe(3);
  });
});
