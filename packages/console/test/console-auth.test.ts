// Who may use the console: loopback binds without a token answer loopback host names only; a
// non-local bind needs a token; with one, requests without it get 401; changes need the console's
// header whatever the bind. None of these reach the database (the worker is never started).
import { createLexicalEmbedder, silentLogger } from '@tributary/core';
import { describe, expect, it } from 'vitest';
import { ConsoleError, createConsole } from '../src/index.js';
import { createNotesConnector } from './support/notes-connector.js';

const TOKEN = 'a-long-console-token-0123456789';

function consoleWith(options: { host?: string; token?: string }) {
  return createConsole({
    // Never connected: every request here is answered before the database.
    connectionString: 'postgres://nobody@127.0.0.1:1/none',
    connectors: [createNotesConnector()],
    embedder: createLexicalEmbedder(),
    logger: silentLogger,
    ...options,
  });
}

describe('binding', () => {
  it('refuses a non-local bind without a token, naming what to do', () => {
    expect(() => consoleWith({ host: '0.0.0.0' })).toThrowError(
      /^\[tributary\] \[console\] refusing to serve the console on 0\.0\.0\.0 without a token.*Pass a token/s,
    );
    try {
      consoleWith({ host: '10.1.2.3' });
    } catch (error) {
      expect(ConsoleError.isInstance(error) && error.reason).toBe('invalid_options');
    }
  });

  it('refuses a short token', () => {
    expect(() => consoleWith({ host: '0.0.0.0', token: 'short' })).toThrowError(/shorter than 16 characters/);
  });

  it('binds to loopback without a token by default', () => {
    expect(() => consoleWith({})).not.toThrow();
  });
});

describe('without a token (loopback)', () => {
  const { app } = consoleWith({});

  it('serves the page to a loopback host name', async () => {
    const response = await app.fetch(new Request('http://127.0.0.1:3000/'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await response.text()).toContain('<title>Tributary console</title>');
    const uplot = await app.fetch(new Request('http://localhost:3000/assets/uplot.js'));
    expect(uplot.status).toBe(200);
    expect(uplot.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('refuses another host name (DNS rebinding)', async () => {
    const response = await app.fetch(new Request('http://attacker.example:3000/api/connectors'));
    expect(response.status).toBe(403);
  });

  it('refuses changes without the console header (cross-site forms)', async () => {
    const response = await app.fetch(
      new Request('http://127.0.0.1:3000/api/connectors', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'notes' }),
      }),
    );
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('x-tributary-console');
  });

  it('serves no file outside its fixed set', async () => {
    for (const path of ['/assets/../package.json', '/assets/%2e%2e/package.json', '/src/index.ts']) {
      expect((await app.fetch(new Request(`http://127.0.0.1:3000${path}`))).status).toBe(404);
    }
  });
});

describe('with a token', () => {
  const { app } = consoleWith({ host: '0.0.0.0', token: TOKEN });

  it('answers 401 without the token or with a wrong one', async () => {
    expect((await app.fetch(new Request('http://console.internal/'))).status).toBe(401);
    const wrong = await app.fetch(
      new Request('http://console.internal/', { headers: { authorization: 'Bearer not-the-token-at-all' } }),
    );
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain(TOKEN);
  });

  it('accepts the bearer token', async () => {
    const response = await app.fetch(
      new Request('http://console.internal/', { headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    expect(response.status).toBe(200);
  });

  it('turns /?token= into an HttpOnly cookie, then accepts the cookie', async () => {
    const login = await app.fetch(new Request(`http://console.internal/?token=${TOKEN}`));
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/');
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const page = await app.fetch(
      new Request('http://console.internal/', { headers: { cookie: cookie.split(';')[0] as string } }),
    );
    expect(page.status).toBe(200);
    expect(
      (await app.fetch(new Request('http://console.internal/?token=wrong-token-0123456789'))).status,
    ).toBe(401);
  });

  it('leaves the webhook endpoints to their signatures', async () => {
    // Not 401: the endpoint itself answers (no such connector here would need the database, so a
    // method it refuses shows the route is reached without the token).
    const response = await app.fetch(
      new Request('http://console.internal/webhooks/not-a-uuid', { method: 'GET' }),
    );
    expect(response.status).not.toBe(401);
  });
});
