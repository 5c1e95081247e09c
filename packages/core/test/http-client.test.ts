import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortError,
  AuthError,
  ConnectorApiError,
  createHttpClient,
  createRateLimiter,
  createSyncMetrics,
  QuotaExceededError,
  RateLimitError,
  TimeoutError,
  TributaryError,
} from '../src/index.js';
import { createFakeClock, type ScriptedServer, startScriptedServer } from './scripted-server.js';

let server: ScriptedServer;

beforeAll(async () => {
  server = await startScriptedServer();
});

afterAll(async () => {
  await server.close();
});

function client(overrides: Partial<Parameters<typeof createHttpClient>[0]> = {}) {
  const clock = createFakeClock();
  const metrics = createSyncMetrics();
  const http = createHttpClient({
    provider: 'test_provider',
    clock,
    metrics,
    retry: { retries: 3, minDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 'none' },
    ...overrides,
  });
  return { http, clock, metrics };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('createHttpClient: retries', () => {
  it('waits exactly the Retry-After delta seconds after a 429, then succeeds', async () => {
    server.sequence(
      { status: 429, headers: { 'retry-after': '1' }, body: '{"error":"slow down"}' },
      { status: 200, body: '{"ok":true}' },
    );
    const { http, clock } = client();
    await expect(http.json(`${server.origin}/items`)).resolves.toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([1000]);
  });

  it('reads Retry-After given as an HTTP date against the injected clock', async () => {
    const { http, clock } = client();
    const retryAt = new Date(clock.now() + 3000).toUTCString();
    server.sequence({ status: 503, headers: { 'retry-after': retryAt } }, { status: 200, body: '[1,2]' });
    await expect(http.json(`${server.origin}/date`)).resolves.toEqual([1, 2]);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('retries 503 twice with exponential backoff, then returns the 200', async () => {
    server.sequence({ status: 503 }, { status: 503 }, { status: 200, body: '{"page":1}' });
    const { http, clock, metrics } = client();
    await expect(http.json(`${server.origin}/flaky`)).resolves.toEqual({ page: 1 });
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([100, 200]);
    expect(metrics.apiCalls.value).toBe(3);
  });

  it('applies full jitter: each wait is random in [0, cap]', async () => {
    server.sequence({ status: 500 }, { status: 500 }, { status: 200, body: '{}' });
    const { http, clock } = client({
      random: () => 0.5,
      retry: { retries: 3, minDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 'full' },
    });
    await http.json(`${server.origin}/jitter`);
    expect(clock.sleeps).toEqual([50, 100]);
  });

  it('gives up on 500 forever after retries + 1 attempts, all seen by the server', async () => {
    server.sequence({ status: 500, body: '{"message":"boom"}' });
    const { http, metrics } = client();
    const error = await rejection(http.json(`${server.origin}/broken`));
    expect(ConnectorApiError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ status: 500, isRetryable: true, code: 'connector_api_error' });
    expect((error as Error).message).toMatch(
      /^\[tributary\] \[test_provider\] GET http:\/\/127\.0\.0\.1:\d+\/broken failed with HTTP 500/,
    );
    expect((error as Error).message).toContain('boom');
    expect(server.requests).toHaveLength(4);
    expect(metrics.apiCalls.value).toBe(4);
  });

  it('throws AuthError on 401 at once, after exactly one request', async () => {
    server.sequence({ status: 401, body: '{"error":"invalid_token"}' });
    const { http, clock } = client();
    const error = await rejection(http.request(`${server.origin}/me`));
    expect(AuthError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ status: 401, connector: 'test_provider' });
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('treats a 403 naming a rate limit as RateLimitError (retried), a plain 403 as AuthError', async () => {
    server.sequence(
      { status: 403, body: '{"error":{"errors":[{"reason":"userRateLimitExceeded"}]}}' },
      { status: 200, body: '{}' },
    );
    const { http } = client();
    await expect(http.json(`${server.origin}/drive`)).resolves.toEqual({});
    expect(server.requests).toHaveLength(2);

    server.sequence({ status: 403, body: '{"error":"insufficient permissions"}' });
    expect(AuthError.isInstance(await rejection(http.json(`${server.origin}/drive`)))).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('throws QuotaExceededError at once for an exhausted quota', async () => {
    server.sequence({ status: 429, body: '{"error":{"code":"insufficient_quota"}}' });
    const { http } = client();
    expect(QuotaExceededError.isInstance(await rejection(http.json(`${server.origin}/embed`)))).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('throws RateLimitError after the retries when 429 persists', async () => {
    server.sequence({ status: 429, headers: { 'retry-after': '2' } });
    const { http, clock } = client();
    const error = await rejection(http.json(`${server.origin}/busy`));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(ConnectorApiError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 2000, isRetryable: true });
    expect(server.requests).toHaveLength(4);
    expect(clock.sleeps).toEqual([2000, 2000, 2000]);
  });

  it('throws RateLimitError without sleeping when Retry-After exceeds maxRetryAfterMs', async () => {
    server.sequence({ status: 429, headers: { 'retry-after': '3600' } }, { status: 200 });
    const { http, clock } = client();
    const error = await rejection(http.json(`${server.origin}/hour`));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ retryAfterMs: 3_600_000 });
    expect((error as Error).message).toContain('longer than maxRetryAfterMs (300s)');
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('does not retry a POST by default, but does with retryNonIdempotent', async () => {
    server.sequence({ status: 503 }, { status: 200, body: '{"created":true}' });
    const { http } = client();
    const error = await rejection(http.json(`${server.origin}/create`, { json: { name: 'x' } }));
    expect(ConnectorApiError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ status: 503, method: 'POST' });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.body).toBe('{"name":"x"}');
    expect(server.requests[0]?.headers['content-type']).toBe('application/json');

    server.sequence({ status: 503 }, { status: 200, body: '{"created":true}' });
    await expect(
      http.json(`${server.origin}/create`, { json: { name: 'x' }, retryNonIdempotent: true }),
    ).resolves.toEqual({ created: true });
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry a 404 and hints at the cause', async () => {
    server.sequence({ status: 404, body: '{"message":"not found"}' });
    const { http } = client();
    const error = await rejection(http.request(`${server.origin}/missing`));
    expect(error).toMatchObject({ status: 404, isRetryable: false });
    expect((error as Error).message).toContain('deleted or the credentials cannot see it');
    expect(server.requests).toHaveLength(1);
  });

  it('returns accepted error statuses instead of throwing', async () => {
    server.sequence({ status: 404, body: 'nope' });
    const { http } = client();
    const response = await http.request(`${server.origin}/maybe`, { acceptStatuses: [404] });
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('nope');
  });

  it('retries network errors (connection refused) and reports them as ConnectorApiError without status', async () => {
    const closed = await startScriptedServer();
    const origin = closed.origin;
    await closed.close();
    const { http, clock } = client({
      retry: { retries: 2, minDelayMs: 10, maxDelayMs: 10, factor: 1, jitter: 'none' },
    });
    const error = await rejection(http.request(`${origin}/gone`));
    expect(ConnectorApiError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ status: undefined, isRetryable: true });
    expect((error as Error).message).toContain('network error');
    expect(clock.sleeps).toEqual([10, 10]);
  });

  it('validates a JSON response with a zod schema', async () => {
    const { z } = await import('zod');
    server.sequence({ status: 200, body: '{"files":[{"id":1}]}' });
    const { http } = client();
    const schema = z.object({ files: z.array(z.object({ id: z.string() })) });
    const error = await rejection(http.json(`${server.origin}/files`, { schema }));
    expect(ConnectorApiError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('unexpected shape at "files[0].id"');
    expect(server.requests).toHaveLength(1);
  });
});

describe('createHttpClient: timeouts and cancellation', () => {
  it('throws TimeoutError when the response is slower than timeoutMs (per attempt)', async () => {
    server.sequence({ delayMs: 5_000, status: 200 });
    const { http } = client({
      timeoutMs: 50,
      retry: { retries: 1, minDelayMs: 1, maxDelayMs: 1, factor: 1, jitter: 'none' },
    });
    const error = await rejection(http.request(`${server.origin}/slow`));
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ timeoutMs: 50, isRetryable: true });
    expect(server.requests).toHaveLength(2);
  });

  it('stops at once when the caller aborts during a request, without retrying', async () => {
    server.sequence({ hang: true });
    const { http } = client();
    const controller = new AbortController();
    const pending = rejection(http.request(`${server.origin}/hang`, { signal: controller.signal }));
    await waitFor(() => server.requests.length === 1);
    controller.abort();
    const error = await pending;
    expect(AbortError.isInstance(error)).toBe(true);
    expect((error as Error).name).toBe('AbortError');
    expect(server.requests).toHaveLength(1);
  });

  it('stops at once when the client signal aborts during a backoff wait', async () => {
    server.sequence({ status: 503 });
    const controller = new AbortController();
    const http = createHttpClient({
      provider: 'test_provider',
      signal: controller.signal,
      retry: { retries: 5, minDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' },
    });
    const pending = rejection(http.request(`${server.origin}/wait`));
    await waitFor(() => server.requests.length === 1);
    controller.abort();
    expect(AbortError.isInstance(await pending)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('keeps a caller reason that is already a Tributary error', async () => {
    const controller = new AbortController();
    const reason = new TimeoutError({ timeoutMs: 1, operation: 'the sync run' });
    controller.abort(reason);
    const { http } = client();
    await expect(http.request(`${server.origin}/x`, { signal: controller.signal })).rejects.toBe(reason);
  });
});

describe('createHttpClient: rate limit, metrics, redaction', () => {
  it('takes a token per attempt from a bucket shared by clients with the same settings', async () => {
    server.sequence({ status: 200, body: '{}' });
    const clock = createFakeClock();
    const limiter = createRateLimiter({ requestsPerSecond: 2, burst: 2, clock });
    const first = createHttpClient({ provider: 'limited', rateLimit: limiter, clock });
    const second = createHttpClient({ provider: 'limited', rateLimit: limiter, clock });
    await first.json(`${server.origin}/a`);
    await second.json(`${server.origin}/b`);
    expect(clock.sleeps).toEqual([]);
    await first.json(`${server.origin}/c`);
    expect(clock.sleeps).toEqual([500]);
    expect(server.requests).toHaveLength(3);
  });

  it('shares one bucket between clients created with the same settings object', async () => {
    server.sequence({ status: 200, body: '{}' });
    const clock = createFakeClock();
    const settings = { requestsPerSecond: 1, burst: 1 };
    const one = createHttpClient({ provider: 'shared', rateLimit: settings, clock });
    const two = createHttpClient({ provider: 'shared', rateLimit: settings, clock });
    await one.json(`${server.origin}/1`);
    await two.json(`${server.origin}/2`);
    expect(clock.sleeps).toEqual([1000]);
  });

  it('counts api calls per attempt and response bytes, streamed or parsed', async () => {
    const body = JSON.stringify({ text: 'é'.repeat(100) });
    server.sequence({ status: 500, body: 'oops' }, { status: 200, body });
    const { http, metrics } = client();
    await http.json(`${server.origin}/count`);
    expect(metrics.apiCalls.value).toBe(2);
    expect(metrics.bytes.value).toBe(4 + Buffer.byteLength(body));

    server.sequence({ status: 200, body: 'x'.repeat(1000) });
    const response = await http.request(`${server.origin}/stream`);
    expect(metrics.bytes.value).toBe(4 + Buffer.byteLength(body));
    expect(await response.text()).toHaveLength(1000);
    expect(metrics.bytes.value).toBe(4 + Buffer.byteLength(body) + 1000);
    expect(metrics.apiCalls.value).toBe(3);
  });

  it('never puts a token from the URL or the response body in the error message', async () => {
    const token = 'ya29.a0AfB_byC-secret-access-token-value';
    const jwt =
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    server.sequence({ status: 400, body: `{"error":"bad","access_token":"${token}","echo":"${jwt}"}` });
    const { http } = client();
    const error = await rejection(
      http.request(`${server.origin}/files?key=AIzaSySecretApiKey123&access_token=${token}&pageSize=10`),
    );
    expect(ConnectorApiError.isInstance(error)).toBe(true);
    const text = `${(error as Error).message} ${(error as ConnectorApiError).url} ${(error as ConnectorApiError).responseExcerpt}`;
    expect(text).not.toContain('AIzaSySecretApiKey123');
    expect(text).not.toContain(token);
    expect(text).not.toContain(jwt);
    expect(text).toContain('key=[REDACTED]');
    expect(text).toContain('pageSize=10');
    expect(server.requests[0]?.url).toContain('AIzaSySecretApiKey123');
  });

  it('wraps errors of a vendor SDK call through withRetries with the same policy', async () => {
    const { http, clock, metrics } = client();
    let calls = 0;
    const result = await http.withRetries(async () => {
      calls += 1;
      if (calls < 3)
        throw Object.assign(new Error('Service Unavailable'), {
          status: 503,
          headers: { 'retry-after': '4' },
        });
      return 'done';
    });
    expect(result).toBe('done');
    expect(clock.sleeps).toEqual([4000, 4000]);
    expect(metrics.apiCalls.value).toBe(3);
    const error = await rejection(
      http.withRetries(async () => {
        throw Object.assign(new Error('Unauthorized'), { response: { status: 401, headers: new Headers() } });
      }),
    );
    expect(AuthError.isInstance(error)).toBe(true);
    expect(TributaryError.isInstance(error)).toBe(true);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
