import { createHmac, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  assertSupportedConnector,
  type ConnectorChange,
  createConnectorInstance,
  createSyncMetrics,
  defineConnector,
  InvalidConfigError,
  type LoadedContent,
  UnsupportedConnectorError,
  type WebhookRequest,
  WebhookVerificationError,
} from '../src/index.js';
import { type ScriptedServer, startScriptedServer } from './scripted-server.js';

let server: ScriptedServer;

beforeAll(async () => {
  server = await startScriptedServer();
});

afterAll(async () => {
  await server.close();
});

/** A tiny connector over a JSON "notes" API, in the shape a plugin would have. */
const notesConnector = defineConnector({
  type: 'notes_api',
  capabilities: { incremental: true, deletions: true },
  configSchema: z.object({
    baseUrl: z.url(),
    folders: z.array(z.object({ id: z.string().min(1), recursive: z.boolean().default(false) })).min(1),
  }),
  credentialsSchema: z.object({ apiToken: z.string().min(10) }),
  rateLimit: { requestsPerSecond: 50, burst: 10 },
  async check(ctx) {
    await ctx.http.json(`${ctx.config.baseUrl}/me`, {
      headers: { authorization: `Bearer ${ctx.credentials.apiToken}` },
    });
  },
  async *sync(ctx) {
    const since = typeof ctx.cursor === 'string' ? ctx.cursor : '';
    const notes = await ctx.http.json<{ id: string; body: string; updated: string; deleted?: boolean }[]>(
      `${ctx.config.baseUrl}/notes?since=${since}`,
      { headers: { authorization: `Bearer ${ctx.credentials.apiToken}` } },
    );
    for (const note of notes) {
      if (note.deleted) {
        yield { kind: 'delete', externalId: note.id };
        continue;
      }
      yield {
        kind: 'upsert',
        document: {
          externalId: note.id,
          title: `Note ${note.id}`,
          version: note.updated,
          content: { kind: 'lazy', load: async () => ({ kind: 'text', text: note.body }) },
        },
      };
    }
    yield { kind: 'checkpoint', cursor: notes.at(-1)?.updated ?? since };
    if (ctx.mode === 'full') yield { kind: 'listing-complete', complete: true };
  },
  webhooks: {
    verify(request, secret) {
      const expected = createHmac('sha256', secret).update(request.rawBody).digest();
      const given = Buffer.from(request.headers['x-signature'] ?? '', 'hex');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new WebhookVerificationError({ connector: 'notes_api', reason: 'signature mismatch' });
      }
    },
    parse(request) {
      const body = JSON.parse(new TextDecoder().decode(request.rawBody)) as {
        id: string;
        type: string;
        noteId: string;
      };
      return [
        {
          eventId: body.id,
          eventType: body.type,
          action:
            body.type === 'note.deleted'
              ? { kind: 'delete', externalId: body.noteId }
              : { kind: 'refetch', externalId: body.noteId },
        },
      ];
    },
  },
});

async function collect(changes: AsyncIterable<ConnectorChange>): Promise<ConnectorChange[]> {
  const all: ConnectorChange[] = [];
  for await (const change of changes) all.push(change);
  return all;
}

describe('defineConnector', () => {
  it('fills defaults and freezes the connector', () => {
    expect(notesConnector.specificationVersion).toBe('v1');
    expect(notesConnector.displayName).toBe('Notes Api');
    expect(notesConnector.capabilities).toEqual({
      incremental: true,
      deletions: true,
      webhooks: true,
      permissions: false,
      binaryContent: false,
    });
    expect(Object.isFrozen(notesConnector)).toBe(true);
    expect(Object.isFrozen(notesConnector.capabilities)).toBe(true);
    expect(notesConnector.webhooks?.handshake).toBeTypeOf('function');

    const minimal = defineConnector({ type: 'google_drive', async check() {}, async *sync() {} });
    expect(minimal.displayName).toBe('Google Drive');
    expect(minimal.capabilities).toEqual({
      incremental: false,
      deletions: false,
      webhooks: false,
      permissions: false,
      binaryContent: false,
    });
    expect(minimal.webhooks).toBeUndefined();
    // Default schemas accept nothing at all and drop unknown keys.
    const instance = createConnectorInstance(minimal);
    expect(instance.config).toEqual({});
    expect(instance.credentials).toEqual({});
  });

  it('rejects malformed definitions when the plugin is defined', () => {
    const noCheck = { type: 'broken', async *sync() {} } as unknown as Parameters<typeof defineConnector>[0];
    expect(() => defineConnector(noCheck)).toThrow(
      /\[tributary\] \[broken\] the connector definition has no check function/,
    );
    expect(() => defineConnector({ type: 'Bad Type', async check() {}, async *sync() {} })).toThrow(
      UnsupportedConnectorError,
    );
    expect(() =>
      defineConnector({
        type: 'hooks',
        capabilities: { webhooks: true },
        async check() {},
        async *sync() {},
      }),
    ).toThrow(/capabilities.webhooks is true but the definition has no webhooks member/);
  });
});

describe('createConnectorInstance', () => {
  const validConfig = { baseUrl: 'http://127.0.0.1:1', folders: [{ id: 'inbox' }] };

  it('parses config with schema defaults', () => {
    const instance = createConnectorInstance(notesConnector, {
      config: validConfig,
      credentials: { apiToken: 'token-1234567890' },
    });
    expect(instance.config.folders).toEqual([{ id: 'inbox', recursive: false }]);
    expect(instance.type).toBe('notes_api');
  });

  it('rejects bad config at creation, naming the field', () => {
    const create = () =>
      createConnectorInstance(notesConnector, {
        config: { baseUrl: 'http://127.0.0.1:1', folders: [{ id: 'a' }, { id: 'b' }, { id: '' }] },
        credentials: { apiToken: 'token-1234567890' },
      });
    expect(create).toThrow(InvalidConfigError);
    try {
      create();
    } catch (error) {
      expect(InvalidConfigError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ fieldPath: 'folders[2].id', subject: 'config', connector: 'notes_api' });
      expect((error as Error).message).toMatch(
        /^\[tributary\] \[notes_api\] invalid config field "folders\[2\]\.id": /,
      );
      expect((error as Error).message).toContain('Fix the Notes Api connector config');
    }
  });

  it('rejects bad credentials without echoing them', () => {
    try {
      createConnectorInstance(notesConnector, {
        config: validConfig,
        credentials: { apiToken: 'short-tok' },
      });
      throw new Error('expected InvalidConfigError');
    } catch (error) {
      expect(error).toMatchObject({ fieldPath: 'apiToken', subject: 'credentials' });
      expect((error as Error).message).not.toContain('short-tok');
    }
  });

  it('keeps credentials out of JSON and inspect output', () => {
    const instance = createConnectorInstance(notesConnector, {
      config: validConfig,
      credentials: { apiToken: 'token-1234567890' },
    });
    expect(JSON.stringify(instance)).not.toContain('token-1234567890');
    expect(inspect(instance)).not.toContain('token-1234567890');
    expect(instance.credentials.apiToken).toBe('token-1234567890');
  });

  it('runs check and sync against a real server, with ctx.http, metrics and lazy content', async () => {
    server.script((request) => {
      if (request.headers.authorization !== 'Bearer token-1234567890') return { status: 401 };
      if (request.url === '/me') return { status: 200, body: '{"id":"me"}' };
      return {
        status: 200,
        body: JSON.stringify([
          { id: 'n1', body: 'hello', updated: '2025-01-01T00:00:00Z' },
          { id: 'n2', body: '', updated: '2025-01-02T00:00:00Z', deleted: true },
        ]),
      };
    });
    const instance = createConnectorInstance(notesConnector, {
      config: { ...validConfig, baseUrl: server.origin },
      credentials: { apiToken: 'token-1234567890' },
    });
    await instance.check();

    const metrics = createSyncMetrics();
    const changes = await collect(instance.sync({ metrics }));
    expect(changes.map((change) => change.kind)).toEqual([
      'upsert',
      'delete',
      'checkpoint',
      'listing-complete',
    ]);
    const upsert = changes[0];
    if (upsert?.kind !== 'upsert' || upsert.document.content.kind !== 'lazy')
      throw new Error('expected a lazy upsert');
    const loaded: LoadedContent = await upsert.document.content.load({
      signal: new AbortController().signal,
    });
    expect(loaded).toEqual({ kind: 'text', text: 'hello' });
    expect(changes[2]).toEqual({ kind: 'checkpoint', cursor: '2025-01-02T00:00:00Z' });
    expect(metrics.apiCalls.value).toBe(1);
    expect(metrics.bytes.value).toBeGreaterThan(0);

    const incremental = await collect(instance.sync({ cursor: '2025-01-02T00:00:00Z' }));
    expect(incremental.map((change) => change.kind)).toEqual(['upsert', 'delete', 'checkpoint']);
    expect(server.requests.at(-1)?.url).toBe('/notes?since=2025-01-02T00:00:00Z');

    const wrongToken = createConnectorInstance(notesConnector, {
      config: { ...validConfig, baseUrl: server.origin },
      credentials: { apiToken: 'wrong-token-000' },
    });
    await expect(wrongToken.check()).rejects.toMatchObject({ name: 'AuthError', status: 401 });
  });

  it('runs webhooks: handshake default, verify over the raw body, parse to actions', async () => {
    const webhooks = notesConnector.webhooks;
    if (webhooks === undefined) throw new Error('expected webhooks');
    const rawBody = new TextEncoder().encode('{"id":"evt_1","type":"note.deleted","noteId":"n9"}');
    const request = (signature: string): WebhookRequest => ({
      method: 'POST',
      url: 'https://host.test/hooks/notes',
      headers: { 'x-signature': signature },
      rawBody,
    });
    const good = createHmac('sha256', 'whsec').update(rawBody).digest('hex');
    expect(await webhooks.handshake(request(good), 'whsec')).toBeNull();
    await webhooks.verify(request(good), 'whsec');
    expect(() => webhooks.verify(request('00'.repeat(32)), 'whsec')).toThrow(WebhookVerificationError);
    expect(await webhooks.parse(request(good))).toEqual([
      { eventId: 'evt_1', eventType: 'note.deleted', action: { kind: 'delete', externalId: 'n9' } },
    ]);
  });
});

describe('assertSupportedConnector', () => {
  it('accepts a v1 connector', () => {
    expect(() => assertSupportedConnector(notesConnector)).not.toThrow();
  });

  it('explains an unknown specification version', () => {
    const future = { ...notesConnector, specificationVersion: 'v2' };
    expect(() => assertSupportedConnector(future)).toThrow(
      '[tributary] [notes_api] the connector implements specification "v2", but this @tributary/core supports v1. ' +
        'Upgrade @tributary/core, or install a version of the connector plugin built for this core.',
    );
    expect(() => createConnectorInstance(future as unknown as typeof notesConnector)).toThrow(
      UnsupportedConnectorError,
    );
  });

  it('explains non-connectors', () => {
    expect(() => assertSupportedConnector(undefined)).toThrow(
      /expected a connector object but got undefined/,
    );
    expect(() => assertSupportedConnector({ type: 'x' })).toThrow(/no specificationVersion/);
    expect(() => assertSupportedConnector({ specificationVersion: 'v1', type: 'x' })).toThrow(
      /missing check, sync/,
    );
  });
});
