// Credentials: the Server-to-Server token cached across runs, one forced refresh when Zoom
// rejects a token mid-sync, refused credentials as AuthError, and user OAuth (authorization URL,
// code exchange, refresh-token rotation handed back to the host).
import { AuthError, createConnectorInstance, InvalidConfigError } from '@tributary/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createZoomConnector,
  exchangeZoomAuthorizationCode,
  type ZoomUserOAuthCredentials,
  zoomAuthorizationUrl,
} from '../src/index.js';
import { OAUTH_APP, zoomVtt } from './support/fake-zoom-server.js';
import { daysAgo, pipeline, startZoomHarness, type ZoomHarness } from './support/zoom-harness.js';

let harness: ZoomHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function seed(h: ZoomHarness, count: number) {
  const host = h.fake.addUser('ada@example.com', 'Ada');
  for (let index = 0; index < count; index++) {
    h.fake.addRecording({
      hostId: host,
      startTime: daysAgo(index % 20, 9),
      transcript: zoomVtt([['Ada', `n${index}`]]),
    });
  }
  return host;
}

describe('Server-to-Server OAuth', () => {
  it('check() makes one cheap call, and the token is reused until it expires', async () => {
    harness = await startZoomHarness();
    seed(harness, 1);
    const connector = harness.connector();
    const instance = createConnectorInstance(connector, {
      config: { users: 'me' },
      credentials: harness.s2s,
    });
    await instance.check();
    await instance.check();
    expect(harness.fake.callCount('users.me')).toBe(2);
    expect(harness.fake.callCount('token:account_credentials')).toBe(1);
  });

  it('a cached token is replaced shortly before it expires', async () => {
    let now = Date.now();
    harness = await startZoomHarness({ now: () => now, tokenLifetimeSeconds: 3600 });
    seed(harness, 1);
    const instance = createConnectorInstance(harness.connector({ now: () => now }), {
      config: { users: 'me' },
      credentials: harness.s2s,
    });
    await instance.check();
    now += 3500 * 1000; // 100 s left: still used
    await instance.check();
    expect(harness.fake.callCount('token:account_credentials')).toBe(1);
    now += 50 * 1000; // 50 s left: inside the one-minute margin, replaced before use
    await instance.check();
    expect(harness.fake.callCount('token:account_credentials')).toBe(2);
    expect(harness.fake.callCount('users.me')).toBe(3);
  });

  it('a token rejected mid-sync (401) is refreshed once, and the sync completes', async () => {
    harness = await startZoomHarness();
    const host = seed(harness, 30);
    const run = pipeline(harness, { users: [host], includeParticipants: false }, harness.s2s, {
      pageSize: 5,
    });
    let revoked = false;
    const fake = harness.fake;
    const summary = await (async () => {
      // Revoke every issued token as soon as the listing is under way.
      const timer = setInterval(() => {
        if (!revoked && fake.callCount('recordings.list') >= 2) {
          fake.revokeAccessTokens();
          revoked = true;
        }
      }, 0);
      try {
        return await run.sync();
      } finally {
        clearInterval(timer);
      }
    })();
    expect(revoked).toBe(true);
    expect(summary.status).toBe('success');
    expect(run.live().length).toBe(30);
    expect(fake.callCount('token:account_credentials')).toBe(2);
  });

  it('wrong client credentials end the run failed with an AuthError that keeps the secret out', async () => {
    harness = await startZoomHarness();
    const host = seed(harness, 2);
    const credentials = { ...harness.s2s, clientSecret: 'not-the-secret' };
    const instance = createConnectorInstance(harness.connector(), { config: { users: [host] }, credentials });
    const error = await instance.check().catch((caught: unknown) => caught);
    expect(AuthError.isInstance(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(
      /^\[tributary\] \[zoom\] Zoom refused the account_credentials grant/,
    );
    expect(String((error as Error).message)).not.toContain('not-the-secret');
    const run = pipeline(harness, { users: [host] }, credentials);
    const summary = await run.sync();
    expect(summary.status).toBe('failed');
    expect(run.live()).toEqual([]);
  });

  it('credentials without a field are refused at creation, naming it', () => {
    const error = (() => {
      try {
        createConnectorInstance(createZoomConnector(), {
          config: {},
          credentials: { type: 'server_to_server', accountId: 'x', clientSecret: 'y' },
        });
      } catch (caught) {
        return caught;
      }
    })();
    expect(InvalidConfigError.isInstance(error)).toBe(true);
    expect((error as InvalidConfigError).fieldPath).toBe('clientId');
  });
});

describe('user OAuth', () => {
  it('builds the authorization URL, exchanges the code, and stores each rotated refresh token', async () => {
    harness = await startZoomHarness();
    const user = seed(harness, 3);
    const authorize = new URL(
      zoomAuthorizationUrl({
        clientId: OAUTH_APP.clientId,
        redirectUri: OAUTH_APP.redirectUri,
        state: 'csrf-123',
        oauthUrl: harness.fake.oauthUrl,
      }),
    );
    expect(authorize.pathname).toBe('/oauth/authorize');
    expect(Object.fromEntries(authorize.searchParams)).toEqual({
      response_type: 'code',
      client_id: OAUTH_APP.clientId,
      redirect_uri: OAUTH_APP.redirectUri,
      state: 'csrf-123',
    });

    const credentials = await exchangeZoomAuthorizationCode({
      ...OAUTH_APP,
      code: harness.fake.issueAuthorizationCode(user),
      settings: { oauthUrl: harness.fake.oauthUrl },
    });
    expect(credentials).toMatchObject({ type: 'oauth', clientId: OAUTH_APP.clientId });

    const stored: ZoomUserOAuthCredentials[] = [];
    const run = pipeline(harness, { users: 'me' }, credentials, {
      onCredentialsRefreshed: (rotated) => {
        stored.push(rotated);
      },
    });
    const summary = await run.sync();
    expect(summary.status).toBe('success');
    expect(run.live().length).toBe(3);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.refreshToken).not.toBe(credentials.refreshToken);

    // The first refresh token is spent: a process that still holds it is refused with a clear error.
    const stale = createConnectorInstance(harness.connector(), { config: { users: 'me' }, credentials });
    const error = await stale.check().catch((caught: unknown) => caught);
    expect(AuthError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('authorize the app again');
    // The rotated one works.
    const fresh = createConnectorInstance(harness.connector(), {
      config: { users: 'me' },
      credentials: stored[0],
    });
    await expect(fresh.check()).resolves.toBeUndefined();
  });

  it('a refused authorization code is an AuthError', async () => {
    harness = await startZoomHarness();
    const error = await exchangeZoomAuthorizationCode({
      ...OAUTH_APP,
      code: 'forged-code',
      settings: { oauthUrl: harness.fake.oauthUrl },
    }).catch((caught: unknown) => caught);
    expect(AuthError.isInstance(error)).toBe(true);
  });

  it('the authorization URL refuses a missing state with an InvalidConfigError', () => {
    expect(() => zoomAuthorizationUrl({ clientId: 'c', redirectUri: 'https://x/cb', state: '' })).toThrow(
      /state/,
    );
  });
});
