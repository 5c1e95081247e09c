// One retry owner (core's withRetries, not the Graph client's RetryHandler): 429 with Retry-After
// waits what Graph asked, 429 without it backs off exponentially, 5xx and stalled requests (the
// per-attempt timeout fires) are retried, persistent throttling stops the run. Credentials: MSAL
// client credentials and the delegated flow (authorization URL, code exchange, refresh token),
// refused credentials as AuthError, bad settings refused at creation.
import {
  AuthError,
  createConnectorInstance,
  InvalidConfigError,
  type LogFields,
  type Logger,
} from '@tributary/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTeamsConnector, createTeamsOAuth } from '../src/index.js';
import {
  collectChanges,
  pipeline,
  startTeamsHarness,
  stateStoreOf,
  type TeamsHarness,
  upserts,
} from './support/teams-harness.ts';

let harness: TeamsHarness;
beforeEach(async () => {
  harness = await startTeamsHarness();
});
afterEach(() => harness.close());

function recordingLogger() {
  const retries: LogFields[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    error() {},
    warn(message, fields) {
      if (message === 'retrying a failed call' && fields) retries.push(fields);
    },
  };
  return { logger, retries };
}

async function syncWith(logger: Logger, settings = {}) {
  const { tenant } = harness;
  const ada = tenant.addUser('Ada');
  const team = tenant.addTeam('Ops');
  const channel = tenant.addChannel(team, 'General', [ada]);
  tenant.post(channel, { from: ada, text: 'hello' });
  const connector = harness.connector(settings);
  const instance = createConnectorInstance(connector, {
    config: { teamIds: [team.id] },
    credentials: harness.credentials,
  });
  const changes = [];
  for await (const change of instance.sync({ mode: 'full', logger, stateStore: stateStoreOf(connector) }))
    changes.push(change);
  return changes;
}

describe('throttling and timeouts', () => {
  it('429 with Retry-After: waits what Graph asked, once per throttled request', async () => {
    const { logger, retries } = recordingLogger();
    harness.fake.failNext(2, 429, { retryAfter: '1' });
    const changes = await syncWith(logger);
    expect(upserts(changes)).toHaveLength(1);
    expect(retries.map((fields) => [fields.status, fields.delayMs])).toEqual([
      [429, 1000],
      [429, 1000],
    ]);
  });

  it('429 without Retry-After and 503: exponential backoff with jitter, then success', async () => {
    const { logger, retries } = recordingLogger();
    harness.fake.failNext(2, 429);
    harness.fake.failNext(1, 503);
    const changes = await syncWith(logger);
    expect(upserts(changes)).toHaveLength(1);
    expect(retries.map((fields) => fields.status)).toEqual([429, 429, 503]);
    // Backoff caps double per attempt: 500 ms, 1 s, 2 s (full jitter draws below each cap).
    retries.forEach((fields, index) => {
      expect(fields.delayMs as number).toBeLessThan(500 * 2 ** index);
    });
  });

  it('a stalled request times out and is retried', async () => {
    const { logger, retries } = recordingLogger();
    harness.fake.stallNext(1);
    const changes = await syncWith(logger, { timeoutMs: 300 });
    expect(upserts(changes)).toHaveLength(1);
    expect(retries).toHaveLength(1);
    expect(String(retries[0]?.error)).toMatch(/timed out|timeout/i);
  });

  it('throttling that does not stop ends the run partial with a resume time, nothing stored lost', async () => {
    const { tenant } = harness;
    const ada = tenant.addUser('Ada');
    const team = tenant.addTeam('Ops');
    tenant.post(tenant.addChannel(team, 'General', [ada]), { from: ada, text: 'hello' });
    const run = pipeline(harness, { teamIds: [team.id] });
    expect((await run.sync()).status).toBe('success');
    harness.fake.failNext(50, 429, { retryAfter: '0' });
    const summary = await run.sync({ mode: 'full' });
    // The pipeline stops at the last checkpoint and says when to run again, instead of failing.
    expect(summary.status).toBe('partial');
    expect(summary.error).toMatch(/^\[tributary\] \[teams\] .*429.*run it again after /);
    expect(summary.resumeAt).toBeInstanceOf(Date);
    expect(summary.errors).toEqual([]);
    expect(run.live()).toHaveLength(1);
  });
});

describe('credentials', () => {
  it('client credentials through MSAL: check() makes one token request and one Graph call', async () => {
    const team = harness.tenant.addTeam('Ops');
    const instance = createConnectorInstance(harness.connector(), {
      config: { teamIds: [team.id] },
      credentials: harness.credentials,
    });
    await instance.check();
    expect(harness.fake.callCount('token')).toBe(1);
    expect(harness.fake.callCount('graph')).toBe(1);
  });

  it('a wrong client secret is an AuthError that says what to do, without the secret', async () => {
    const credentials = { ...harness.credentials, clientSecret: 'wrong-secret-value' };
    const instance = createConnectorInstance(harness.connector(), { config: {}, credentials });
    const error = await instance.check().catch((caught: unknown) => caught);
    expect(AuthError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/^\[tributary\] \[teams\] .*invalid_client/);
    expect((error as Error).message).toMatch(/secret/);
    expect((error as Error).message).not.toContain('wrong-secret-value');
  });

  it('delegated: authorization URL, code exchange, then syncs on the refresh token; a revoked one is an AuthError', async () => {
    const user = harness.tenant.addUser('Dee Legated');
    const oauth = createTeamsOAuth({
      tenantId: harness.fake.tenantId,
      clientId: harness.fake.clientId,
      clientSecret: harness.fake.clientSecret,
      redirectUri: 'https://app.example.com/oauth/teams',
      settings: harness.settings,
    });
    const url = new URL(await oauth.authorizationUrl({ state: 'csrf-123' }));
    expect(url.origin + url.pathname).toBe(
      `${harness.fake.url}/${harness.fake.tenantId}/oauth2/v2.0/authorize`,
    );
    expect(url.searchParams.get('client_id')).toBe(harness.fake.clientId);
    expect(url.searchParams.get('state')).toBe('csrf-123');
    expect(url.searchParams.get('scope')).toContain('offline_access');
    const { code, refreshToken } = harness.fake.issueAuthCode(user);
    const tokens = await oauth.exchangeCode(code);
    expect(tokens.refreshToken).toBe(refreshToken);
    expect(tokens.userId).toBe(user.id);

    const team = harness.tenant.addTeam('Delegated team');
    const delegated = {
      type: 'delegated',
      tenantId: harness.fake.tenantId,
      clientId: harness.fake.clientId,
      clientSecret: harness.fake.clientSecret,
      refreshToken: tokens.refreshToken,
    };
    await createConnectorInstance(harness.connector(), {
      config: { teamIds: [team.id] },
      credentials: delegated,
    }).check();
    // Without teamIds, a delegated sync reads the user's teams (/me/joinedTeams; /teams is app-only).
    const changes = await collectChanges(harness.connector(), { config: {}, credentials: delegated });
    expect(upserts(changes)).toEqual([]);
    expect(changes.some((change) => change.kind === 'listing-complete' && change.complete)).toBe(true);
    const revoked = createConnectorInstance(harness.connector(), {
      config: { teamIds: [team.id] },
      credentials: { ...delegated, refreshToken: 'rt-revoked' },
    });
    const error = await revoked.check().catch((caught: unknown) => caught);
    expect(AuthError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/invalid_grant.*sign the user in again/s);
  });

  it('refuses bad credentials and settings at creation, naming the field', () => {
    const connector = harness.connector();
    const error = (() => {
      try {
        createConnectorInstance(connector, {
          config: {},
          credentials: { ...harness.credentials, clientId: 'nope' },
        });
      } catch (caught) {
        return caught;
      }
    })();
    expect(InvalidConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('clientId');
    expect(() => createTeamsConnector({ graphBaseUrl: 'http://localhost:1' })).toThrow(
      /graphBaseUrl must be an https URL/,
    );
    expect(() => createTeamsConnector({ pageSize: 51 })).toThrow(/pageSize/);
  });
});
