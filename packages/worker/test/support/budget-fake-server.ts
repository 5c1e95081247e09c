import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake provider that enforces "3 requests per second, bursts of 3" the way a token bucket
 * does, and counts every request that arrives when the bucket is empty (a violation: the real
 * provider would answer 429). It always answers 200, so the count is the whole story.
 */
export async function startBudgetFakeServer(options: { requestsPerSecond: number; burst: number }) {
  let tokens = options.burst;
  let last = performance.now();
  const state = { requests: 0, violations: 0, byConnector: new Map<string, number[]>() };
  const server = createServer((request, response) => {
    const now = performance.now();
    tokens = Math.min(options.burst, tokens + ((now - last) / 1000) * options.requestsPerSecond);
    last = now;
    tokens -= 1;
    state.requests += 1;
    if (tokens < 0) {
      state.violations += 1;
      tokens = 0;
    }
    const connector =
      request.headers['x-connector'] ?? new URL(request.url ?? '/', 'http://x').searchParams.get('c') ?? '';
    const times = state.byConnector.get(String(connector)) ?? [];
    times.push(now);
    state.byConnector.set(String(connector), times);
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
