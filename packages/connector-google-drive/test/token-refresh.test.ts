// A 401 from Drive in the middle of a run (the access token rejected before its expiry: revoked
// server-side, clock skew) forces one new token and the request is retried once, through
// withRetries; a 401 again with the new token is a fatal AuthError. Both credential types, with
// the real google-auth-library against the fake Drive.
import { AuthError } from '@tributary/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  collectChanges,
  type DriveHarness,
  loadText,
  pipeline,
  startDriveHarness,
  upserts,
} from './support/drive-harness.js';
import type { FakeDrive } from './support/fake-drive-server.js';

let harness: DriveHarness;
let fake: FakeDrive;
beforeEach(async () => {
  harness = await startDriveHarness();
  fake = harness.fake;
});
afterEach(() => harness.close());

function addFolderOf(count: number): { folder: string; ids: string[] } {
  const folder = fake.addFolder('F', fake.rootFolderId);
  const ids: string[] = [];
  for (let index = 0; index < count; index++)
    ids.push(fake.addFile({ name: `f${index}.txt`, parent: folder, content: `content ${index}` }));
  return { folder, ids: ids.sort() };
}

const credentialTypes = [
  ['a service account (JWT)', () => harness.serviceAccount],
  ['an OAuth2 refresh token', () => harness.oauth],
] as const;

describe.each(credentialTypes)('a rejected access token, with %s', (_name, credentials) => {
  it('a 401 mid-listing forces one token request and retries that page: the run succeeds with every document', async () => {
    const { folder, ids } = addFolderOf(4);
    fake.rejectAccessTokens({ at: 'files.list', skip: 1 });
    const run = pipeline(harness, { folderIds: [folder] }, credentials(), { pageSize: 1 });
    const summary = await run.sync();

    expect(summary.error).toBeUndefined();
    expect(summary.status).toBe('success');
    expect(summary.counts.inserted).toBe(4);
    expect(run.live()).toEqual(ids);
    expect(fake.callCount('unauthorized')).toBe(1);
    // The first token of the run, and one more after the 401.
    expect(fake.callCount('token')).toBe(2);
    // The retried page is one more attempt, counted like any other.
    expect(summary.apiCalls).toBe(fake.callCount('api'));
  });

  it('a 401 again with the fresh token ends the run failed with an AuthError saying what to do', async () => {
    const { folder } = addFolderOf(3);
    fake.rejectAccessTokens({ at: 'files.list', skip: 1, freshTokensToo: true });
    const run = pipeline(harness, { folderIds: [folder] }, credentials(), { pageSize: 1 });
    const summary = await run.sync();

    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(
      /rejected the access token \(HTTP 401\) on drive\.files\.list, again with a newly issued token/,
    );
    expect(summary.error).toMatch(/run the sync again/);
    // One refresh, one retry: no loop.
    expect(fake.callCount('token')).toBe(2);
    expect(fake.callCount('unauthorized')).toBe(2);

    // The error itself is an AuthError (fatal), and no token is in it.
    fake.resetCalls();
    const error = await collectChanges(harness.connector(), {
      config: { folderIds: [folder] },
      credentials: credentials(),
    }).catch((caught: unknown) => caught);
    expect(AuthError.isInstance(error)).toBe(true);
    expect((error as AuthError).status).toBe(401);
    expect(JSON.stringify(error)).not.toMatch(/ya29\./);
    expect(fake.callCount('token')).toBe(2);
  });

  it('a 401 on a download forces one token request and retries the download: every document arrives', async () => {
    const { folder, ids } = addFolderOf(3);
    fake.rejectAccessTokens({ at: 'files.media' });
    const run = pipeline(harness, { folderIds: [folder] }, credentials());
    const summary = await run.sync();

    expect(summary.error).toBeUndefined();
    expect(summary.status).toBe('success');
    expect(summary.errors).toEqual([]);
    expect(summary.counts.inserted).toBe(3);
    expect(run.live()).toEqual(ids);
    // Downloads run concurrently: each one sent with the rejected token gets a 401, and they
    // share the one refresh.
    expect(fake.callCount('unauthorized')).toBeGreaterThanOrEqual(1);
    expect(fake.callCount('files.media')).toBe(3);
    expect(fake.callCount('token')).toBe(2);
    expect(summary.apiCalls).toBe(fake.callCount('api'));
  });

  it('a 401 on a download again with the fresh token ends the run failed with an AuthError', async () => {
    const { folder } = addFolderOf(1);
    fake.rejectAccessTokens({ at: 'files.media', freshTokensToo: true });
    const run = pipeline(harness, { folderIds: [folder] }, credentials());
    const summary = await run.sync();

    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(
      /rejected the access token \(HTTP 401\) on drive\.files\.get\(alt=media\), again/,
    );
    expect(fake.callCount('token')).toBe(2);
    expect(fake.callCount('unauthorized')).toBe(2);
  });

  it('a download rejected twice throws the AuthError from the document load itself', async () => {
    const { folder } = addFolderOf(1);
    const [document] = upserts(
      await collectChanges(harness.connector(), {
        config: { folderIds: [folder] },
        credentials: credentials(),
      }),
    );
    if (!document) throw new Error('no document listed');
    fake.rejectAccessTokens({ at: 'files.media', freshTokensToo: true });
    const error = await loadText(document).catch((caught: unknown) => caught);
    expect(AuthError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/again with a newly issued token/);
  });
});

describe('tokens rejected in later runs', () => {
  it('an incremental run refreshes once after a 401 too', async () => {
    const { folder, ids } = addFolderOf(3);
    const run = pipeline(harness, { folderIds: [folder] }, harness.serviceAccount, { pageSize: 1 });
    fake.rejectAccessTokens({ at: 'files.list', skip: 1 });
    const first = await run.sync();
    expect(first.status).toBe('success');
    fake.updateContent(ids[0] as string, 'changed');
    fake.rejectAccessTokens({ at: 'any' });
    fake.resetCalls();
    const second = await run.sync();
    expect(second.error).toBeUndefined();
    expect(second.status).toBe('success');
    expect(run.live()).toEqual(ids);
    expect(fake.callCount('unauthorized')).toBe(1);
    expect(fake.callCount('token')).toBe(2);
  });
});
