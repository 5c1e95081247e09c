// injectFaults on a plain node:http server: the share, the kinds, the per-request cap and restore.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { injectFaults } from '../src/fault-injection.js';

let server: Server;
let base: string;
beforeEach(async () => {
  server = createServer((_request, response) => response.end('real answer'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function get(path: string): Promise<string> {
  try {
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2000) });
    return `${response.status} ${response.headers.get('retry-after') ?? '-'} ${await response.text()}`;
  } catch {
    return 'network error';
  }
}

describe('injectFaults', () => {
  it('answers the chosen status with Retry-After, at most maxConsecutive times per request', async () => {
    const faults = injectFaults(server, { rate: 1, faults: ['429'], maxConsecutivePerRequest: 2 });
    expect(await get('/a')).toBe('429 0 {"error":{"code":429,"message":"injected fault 429"}}');
    expect(await get('/a')).toMatch(/^429 /);
    expect(await get('/a')).toBe('200 - real answer');
    expect(faults.injected['429']).toBe(2);
    expect(faults.requests()).toBe(3);
  });

  it('answers 429-bare without Retry-After, as Graph and Zoom sometimes do', async () => {
    const faults = injectFaults(server, { rate: 1, faults: ['429-bare'], maxConsecutivePerRequest: 1 });
    expect(await get('/b')).toBe('429 - {"error":{"code":429,"message":"injected fault 429-bare"}}');
    expect(await get('/b')).toBe('200 - real answer');
    expect(faults.injected).toMatchObject({ '429': 0, '429-bare': 1 });
  });

  it('resets and stalls connections, and passes everything through at rate 0 or after restore', async () => {
    const resets = injectFaults(server, { rate: 1, faults: ['reset'], maxConsecutivePerRequest: 5 });
    expect(await get('/b')).toBe('network error');
    resets.restore();
    const stalls = injectFaults(server, {
      rate: 1,
      faults: ['timeout'],
      hangMs: 50,
      maxConsecutivePerRequest: 5,
    });
    expect(await get('/c')).toBe('network error');
    expect(stalls.injected.timeout).toBe(1);
    stalls.restore();
    const none = injectFaults(server, { rate: 0 });
    expect(await get('/d')).toBe('200 - real answer');
    expect(none.total()).toBe(0);
  });

  it('draws the same faults for the same seed', async () => {
    const draw = async () => {
      const faults = injectFaults(server, {
        rate: 0.5,
        seed: 9,
        faults: ['500'],
        maxConsecutivePerRequest: 100,
      });
      const outcomes: string[] = [];
      for (let index = 0; index < 20; index += 1) outcomes.push((await get(`/s${index}`)).slice(0, 3));
      faults.restore();
      return outcomes;
    };
    const first = await draw();
    expect(await draw()).toEqual(first);
    expect(first).toContain('500');
    expect(first).toContain('200');
  });

  it('refuses a rate outside 0..1', () => {
    expect(() => injectFaults(server, { rate: 1.5 })).toThrow(/\[tributary\] \[testkit\] fault rate/);
  });
});
