// One retry owner: googleapis/gaxios retries are off, the connector retries through core's
// withRetries, honouring Retry-After, and every attempt reaches the server exactly once.
import {
  createConnectorInstance,
  createLexicalEmbedder,
  type LogFields,
  type Logger,
  QuotaExceededError,
  RateLimitError,
  runSync,
} from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMIT } from '../src/index.js';
import { collectChanges, type DriveHarness, startDriveHarness, upserts } from './support/drive-harness.js';
import type { FakeDrive } from './support/fake-drive-server.js';

let harness: DriveHarness;
let fake: FakeDrive;
let folder: string;
beforeEach(async () => {
  harness = await startDriveHarness();
  fake = harness.fake;
  folder = fake.addFolder('F', fake.rootFolderId);
  for (let index = 0; index < 3; index++)
    fake.addFile({ name: `f${index}.txt`, parent: folder, content: `${index}` });
});
afterEach(() => harness.close());

const sync = () =>
  collectChanges(harness.connector(), {
    config: { folderIds: [folder] },
    credentials: harness.serviceAccount,
  });

describe('rate limits and retries', () => {
  it('retries 429 with Retry-After, each attempt sent once', async () => {
    await sync();
    const clean = fake.callCount('api');
    fake.resetCalls();
    fake.failNext(2, 429, { retryAfter: '0' });
    expect(upserts(await sync())).toHaveLength(3);
    expect(fake.callCount('fault')).toBe(2);
    expect(fake.callCount('api')).toBe(clean + 2);
  });

  it('retries 403 rateLimitExceeded and userRateLimitExceeded (not an auth failure)', async () => {
    fake.failNext(1, 403, { reason: 'rateLimitExceeded', retryAfter: '0' });
    fake.failNext(1, 403, { reason: 'userRateLimitExceeded', retryAfter: '0' });
    expect(upserts(await sync())).toHaveLength(3);
    expect(fake.callCount('fault')).toBe(2);
  });

  it('retries a failing token endpoint once per attempt: google-auth-library adds no retries', async () => {
    fake.failNextTokenRequests(2, 503);
    expect(upserts(await sync())).toHaveLength(3);
    expect(fake.callCount('token.fault')).toBe(2);
    fake.failNextTokenRequests(20, 503);
    const error = await createConnectorInstance(harness.connector(), {
      config: { folderIds: [folder] },
      credentials: harness.serviceAccount,
    })
      .check()
      .catch((caught: unknown) => caught);
    expect((error as { status?: number }).status).toBe(503);
    // 1 attempt + 5 retries, one token request each. With the library's own retries (3 per
    // token request) there would be 24.
    expect(fake.callCount('token.fault')).toBe(2 + 6);
  });

  it('retries 5xx with backoff; gaxios adds no retries of its own', async () => {
    fake.failNext(2, 503);
    expect(upserts(await sync())).toHaveLength(3);
    expect(fake.callCount('fault')).toBe(2);
  });

  it('gives up after the retry budget with a typed error and an exact number of attempts', async () => {
    fake.failNext(50, 429, { retryAfter: '0' });
    const instance = createConnectorInstance(harness.connector(), {
      config: { folderIds: [folder] },
      credentials: harness.serviceAccount,
    });
    const error = await instance.check().catch((caught: unknown) => caught);
    expect(RateLimitError.isInstance(error)).toBe(true);
    // Core's default policy: 1 attempt + 5 retries. Stacked retry layers would multiply this.
    expect(fake.callCount('fault')).toBe(6);
  });

  it('a Retry-After longer than the policy allows surfaces at once as a RateLimitError', async () => {
    fake.failNext(1, 429, { retryAfter: '3600' });
    const error = await createConnectorInstance(harness.connector(), {
      config: { folderIds: [folder] },
      credentials: harness.serviceAccount,
    })
      .check()
      .catch((caught: unknown) => caught);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).retryAfterMs).toBe(3_600_000);
    expect(fake.callCount('fault')).toBe(1);
  });

  it('an exhausted daily quota is fatal and not retried', async () => {
    fake.failNext(3, 403, { reason: 'dailyLimitExceeded' });
    const error = await createConnectorInstance(harness.connector(), {
      config: { folderIds: [folder] },
      credentials: harness.serviceAccount,
    })
      .check()
      .catch((caught: unknown) => caught);
    expect(QuotaExceededError.isInstance(error)).toBe(true);
    expect(fake.callCount('fault')).toBe(1);
  });

  it('a 404 on a listed folder is not retried', async () => {
    const changes = await collectChanges(harness.connector(), {
      config: { folderIds: ['doesNotExist'] },
      credentials: harness.serviceAccount,
    });
    expect(changes.find((change) => change.kind === 'listing-complete')).toMatchObject({ complete: false });
    // changes.getStartPageToken and one files.get: the 404 was not retried.
    expect(fake.callCount('api')).toBe(2);
  });

  it('every API call waits for the request budget, and the counts agree with the server', async () => {
    const keys: string[] = [];
    const repository = createMemoryRepository();
    const connectorId = repository.addConnector({ orgId: '00000000-0000-4000-8000-000000000001' }).id;
    fake.failNext(1, 429, { retryAfter: '0' });
    const summary = await runSync({
      connector: harness.connector(),
      config: { folderIds: [folder] },
      credentials: harness.serviceAccount,
      connectorId,
      repository,
      embedder: createLexicalEmbedder({ dimensions: 32 }),
      rateLimit: {
        async acquire(key) {
          keys.push(key);
        },
      },
    });
    expect(summary.status).toBe('success');
    // One token per attempt (the 429 and its retry included), each one a request the server saw.
    expect(keys.length).toBe(fake.callCount('api'));
    expect(summary.apiCalls).toBe(fake.callCount('api'));
    expect(new Set(keys)).toEqual(new Set(['google_drive']));
    // Downloaded bytes are counted: three one-byte files.
    expect(summary.bytes).toBe(3);
  });

  it('keeps secrets out of every log line, also while retrying and failing', async () => {
    const lines: string[] = [];
    const record = (level: string) => (message: string, fields?: LogFields) => {
      lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    };
    const logger: Logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    const repository = createMemoryRepository();
    const connectorId = repository.addConnector({ orgId: '00000000-0000-4000-8000-000000000002' }).id;
    fake.failNext(2, 503);
    const run = (credentials: unknown) =>
      runSync({
        connector: harness.connector(),
        config: { folderIds: [folder] },
        credentials,
        connectorId,
        repository,
        embedder: createLexicalEmbedder({ dimensions: 32 }),
        logger,
      });
    expect((await run(harness.serviceAccount)).status).toBe('success');
    fake.revokeRefreshToken(harness.oauth.refreshToken);
    expect((await run(harness.oauth)).status).toBe('failed');
    const text = lines.join('\n');
    expect(lines.some((line) => line.startsWith('warn retrying'))).toBe(true);
    expect(text).toMatch(/invalid_grant/);
    for (const secret of [
      harness.oauth.refreshToken,
      harness.oauth.clientSecret,
      'PRIVATE KEY',
      harness.serviceAccount.privateKey.split('\n')[1] as string,
      'ya29.',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('has a per-connector request budget, overridable in the settings', () => {
    expect(harness.connector({ rateLimit: undefined }).rateLimit).toEqual(DEFAULT_RATE_LIMIT);
    expect(harness.connector({ rateLimit: { requestsPerSecond: 2, burst: 4 } }).rateLimit).toEqual({
      requestsPerSecond: 2,
      burst: 4,
    });
  });
});
