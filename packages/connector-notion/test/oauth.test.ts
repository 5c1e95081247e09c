// OAuth for public integrations against the fake's token endpoint (HTTP Basic auth, single-use
// codes): the authorization URL, the code exchange returning workspace, bot and owner, refusals as
// AuthError, and the credentials stored encrypted through the connector manager.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  AuthError,
  createConnectorManager,
  createLexicalEmbedder,
  createSecretKeyRing,
  runSync,
} from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  connectNotionWorkspace,
  exchangeNotionCode,
  type NotionConnector,
  type NotionOAuthCredentials,
  notionAuthorizationUrl,
  storeRefreshedNotionCredentials,
} from '../src/index.js';
import { BOT_ID } from './support/fake-notion-store.js';
import { type NotionHarness, pipeline, startNotionHarness } from './support/notion-harness.js';

let harness: NotionHarness;
const client = () => ({
  clientId: 'client-abc',
  clientSecret: 'client-secret-xyz',
  redirectUri: 'https://host.example/oauth/notion',
  baseUrl: harness.fake.url,
});

beforeEach(async () => {
  harness = await startNotionHarness();
  harness.fake.codes.set('code-1', {
    ...client(),
    accessToken: 'ntn_oauthAccessToken0123456789abcd',
    workspaceId: 'ws-42',
  });
});
afterEach(() => harness.close());

describe('Notion OAuth', () => {
  it('builds the authorization URL', () => {
    const url = new URL(notionAuthorizationUrl({ ...client(), baseUrl: undefined }, 'state-123'));
    expect(`${url.origin}${url.pathname}`).toBe('https://api.notion.com/v1/oauth/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'client-abc',
      response_type: 'code',
      owner: 'user',
      redirect_uri: 'https://host.example/oauth/notion',
      state: 'state-123',
    });
  });

  it('exchanges the code (Basic auth) for credentials with workspace, bot and owner', async () => {
    const credentials = await exchangeNotionCode(client(), 'code-1');
    expect(credentials).toEqual({
      type: 'oauth',
      accessToken: 'ntn_oauthAccessToken0123456789abcd',
      refreshToken: 'refresh-ntn_oauthAccessToken0123456789abcd',
      workspaceId: 'ws-42',
      workspaceName: 'Fake workspace',
      botId: BOT_ID,
      owner: {
        type: 'user',
        userId: '22222222-2222-4222-8222-222222222222',
        name: 'Ada',
        email: 'ada@example.com',
      },
    });
    // The credentials work for a sync.
    harness.fake.store.addPage({ title: 'Shared page' });
    const summary = await pipeline(harness, {}, {}, credentials).sync({ mode: 'full' });
    expect(summary.status, summary.error).toBe('success');
    expect(summary.counts.inserted).toBe(1);
  });

  it('refuses a reused code and a wrong client secret with an AuthError saying to start again', async () => {
    await exchangeNotionCode(client(), 'code-1');
    const reused = await exchangeNotionCode(client(), 'code-1').catch((error: unknown) => error);
    expect(AuthError.isInstance(reused)).toBe(true);
    expect(String((reused as Error).message)).toMatch(
      /^\[tributary\] \[notion\] Notion refused the OAuth code exchange.*Start the OAuth flow again/,
    );
    harness.fake.codes.set('code-2', { ...client(), accessToken: 'ntn_x', workspaceId: 'ws' });
    const wrongSecret = await exchangeNotionCode({ ...client(), clientSecret: 'nope' }, 'code-2').catch(
      (error: unknown) => error,
    );
    expect(AuthError.isInstance(wrongSecret)).toBe(true);
    expect(String((wrongSecret as Error).message)).not.toContain('nope');
  });

  it('stores the result as the connector secrets, encrypted, and returns no token', async () => {
    const repository = createMemoryRepository();
    const manager = createConnectorManager({
      repository,
      keyRing: createSecretKeyRing([['k1', new Uint8Array(randomBytes(32))]]),
    });
    const connector = harness.connector();
    const record = await manager.create(connector, { orgId: randomUUID(), config: {} });
    const shown = await connectNotionWorkspace({
      manager,
      connector,
      connectorId: record.id,
      client: client(),
      code: 'code-1',
    });
    expect(shown).toEqual({
      type: 'oauth',
      workspaceId: 'ws-42',
      workspaceName: 'Fake workspace',
      botId: BOT_ID,
      owner: {
        type: 'user',
        userId: '22222222-2222-4222-8222-222222222222',
        name: 'Ada',
        email: 'ada@example.com',
      },
    });
    const loaded = await manager.load(connector, record.id);
    expect((loaded.credentials as { accessToken: string }).accessToken).toBe(
      'ntn_oauthAccessToken0123456789abcd',
    );
  });
});

describe('Notion OAuth token refresh', () => {
  const oauthClient = () => ({ clientId: 'client-abc', clientSecret: 'client-secret-xyz' });

  function managed() {
    const repository = createMemoryRepository();
    const manager = createConnectorManager({
      repository,
      keyRing: createSecretKeyRing([['k1', new Uint8Array(randomBytes(32))]]),
    });
    return { repository, manager };
  }

  it('refreshes on 401, stores the rotated tokens, and a later run reuses them without refreshing again', async () => {
    const { repository, manager } = managed();
    const stored: NotionOAuthCredentials[] = [];
    let connectorId = '';
    const notion: NotionConnector = harness.connector({
      oauthClient: oauthClient(),
      onCredentialsRefreshed: async (credentials) => {
        stored.push(credentials);
        await storeRefreshedNotionCredentials({ manager, connector: () => notion, connectorId })(credentials);
      },
    });
    connectorId = (await manager.create(notion, { orgId: randomUUID(), config: {} })).id;
    await connectNotionWorkspace({
      manager,
      connector: notion,
      connectorId,
      client: client(),
      code: 'code-1',
    });
    const original = (await manager.load(notion, connectorId)).credentials as NotionOAuthCredentials;
    harness.fake.store.addPage({ title: 'Shared page' });
    // The access token expires (Notion answers 401 unauthorized from now on).
    harness.fake.revoke(original.accessToken);

    const runOnce = () =>
      runSync({
        connector: notion,
        connectorId,
        repository,
        embedder: createLexicalEmbedder({ dimensions: 64 }),
        config: {},
        credentials: original,
        mode: 'full',
      });
    const summary = await runOnce();
    expect(summary.status, summary.error).toBe('success');
    expect(summary.counts.inserted).toBe(1);
    expect(harness.fake.refreshCalls).toBe(1);
    expect(stored).toHaveLength(1);
    const refreshed = stored[0] as NotionOAuthCredentials;
    expect(refreshed.accessToken).not.toBe(original.accessToken);
    expect(refreshed.refreshToken).not.toBe(original.refreshToken);
    expect(refreshed).toMatchObject({ workspaceId: 'ws-42', botId: BOT_ID, owner: original.owner });
    // Stored with the connector's secrets (encrypted), replacing the spent refresh token.
    expect((await manager.load(notion, connectorId)).credentials).toEqual(refreshed);
    // The old refresh token was spent: Notion refuses it.
    expect(harness.fake.refreshTokens.has(original.refreshToken as string)).toBe(false);

    // A run handed the stale credentials again (the host had not reloaded them) takes the newest
    // tokens of this connector object: no 401, no second refresh.
    const again = await runOnce();
    expect(again.status, again.error).toBe('success');
    expect(harness.fake.refreshCalls).toBe(1);
  });

  it('refreshes before the first call when expiresAt has passed', async () => {
    const credentials = await exchangeNotionCode(client(), 'code-1');
    harness.fake.store.addPage({ title: 'Shared page' });
    const expired = { ...credentials, expiresAt: new Date(Date.now() - 1000).toISOString() };
    harness.fake.resetCounts();
    const summary = await pipeline(harness, {}, { oauthClient: oauthClient() }, expired).sync({
      mode: 'full',
    });
    expect(summary.status, summary.error).toBe('success');
    expect(harness.fake.refreshCalls).toBe(1);
    // No call was sent with the expired token first.
    expect(harness.fake.rejected).toBe(0);
  });

  it('fails the run with an AuthError saying to reconnect when the refresh token is refused, or cannot be used', async () => {
    const credentials = await exchangeNotionCode(client(), 'code-1');
    harness.fake.revoke(credentials.accessToken);
    harness.fake.refreshTokens.clear();
    const refused = await pipeline(harness, {}, { oauthClient: oauthClient() }, credentials).sync({
      mode: 'full',
    });
    expect(refused.status).toBe('failed');
    expect(refused.error).toMatch(
      /^\[tributary\] \[notion\] Notion refused to refresh the access token.*Reconnect the Notion workspace/,
    );
    expect(refused.error).not.toContain(credentials.refreshToken as string);
    // Without the OAuth client there is nothing to refresh with: the 401 stands.
    const noClient = await pipeline(harness, {}, {}, credentials).sync({ mode: 'full' });
    expect(noClient.status).toBe('failed');
    expect(noClient.error).toMatch(/HTTP 401 unauthorized.*Reconnect the Notion workspace/);
  });
});
