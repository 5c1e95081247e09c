// The conformance suite must pass a well-behaved connector and catch broken ones. The connector
// under test reads a small JSON API served by node:http (pages of notes, a changes feed), through
// `ctx.http`, so 429s and 5xx are real responses.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ConnectorChange, defineConnector } from '@tributary/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  applicableChecks,
  type ConformanceCheckName,
  type ConformanceSource,
  runConformanceCheck,
  type TestConnectorOptions,
  testConnector,
} from '../src/index.js';

interface Note {
  id: string;
  title: string;
  body: string;
  revision: number;
}

interface NotesApi extends ConformanceSource {
  readonly url: string;
  readonly requests: { count: number };
}

/** A notes API: `GET /notes?after=<id>` pages of 3; `GET /events?since=<seq>` the change log. */
async function startNotesApi(): Promise<NotesApi> {
  const notes = new Map<string, Note>();
  const events: { seq: number; id: string; kind: 'upsert' | 'delete' }[] = [];
  let seq = 0;
  const log = (id: string, kind: 'upsert' | 'delete') => events.push({ seq: ++seq, id, kind });
  for (let index = 1; index <= 9; index += 1) {
    const id = `note-${index}`;
    notes.set(id, {
      id,
      title: `Note ${index}`,
      body: `Minutes of meeting ${index}: ${index * 3} items.`,
      revision: 1,
    });
    log(id, 'upsert');
  }
  const failures: number[] = [];
  const requests = { count: 0 };
  const server: Server = createServer((request, response) => {
    requests.count += 1;
    const status = failures.shift();
    if (status !== undefined) {
      response.writeHead(status, status === 429 ? { 'retry-after': '0' } : {});
      response.end('{"error":"try later"}');
      return;
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    response.setHeader('content-type', 'application/json');
    if (url.pathname === '/notes') {
      const after = url.searchParams.get('after') ?? '';
      const sorted = [...notes.values()].sort((a, b) => a.id.localeCompare(b.id));
      const page = sorted.filter((note) => note.id > after).slice(0, 3);
      response.end(JSON.stringify({ notes: page, head: seq, more: page.length === 3 }));
    } else if (url.pathname === '/events') {
      const since = Number(url.searchParams.get('since') ?? '0');
      response.end(JSON.stringify({ events: events.filter((event) => event.seq > since), head: seq }));
    } else if (url.pathname.startsWith('/notes/')) {
      const note = notes.get(decodeURIComponent(url.pathname.slice('/notes/'.length)));
      response.statusCode = note ? 200 : 404;
      response.end(JSON.stringify(note ?? { error: 'not found' }));
    } else {
      response.statusCode = 404;
      response.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    config: { baseUrl: url },
    async remove(count) {
      const ids = [...notes.keys()].sort().slice(0, count);
      for (const id of ids) {
        notes.delete(id);
        log(id, 'delete');
      }
      return ids;
    },
    async change() {
      const note = [...notes.values()].sort((a, b) => a.id.localeCompare(b.id)).at(-1);
      if (!note) throw new Error('no notes left');
      note.revision += 1;
      note.body = `Revised minutes (revision ${note.revision}).`;
      log(note.id, 'upsert');
      return note.id;
    },
    failNextRequests(count, status) {
      for (let index = 0; index < count; index += 1) failures.push(status);
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Flaws {
  /** Not a flaw: a connector without a changes feed (full syncs only, resumable from its cursor). */
  fullOnly?: boolean;
  /** Accepts any config. */
  noValidation?: boolean;
  /** Checkpoints one page ahead of what it yielded. */
  checkpointAhead?: boolean;
  /** Has no version and stamps the load time into the content. */
  volatileContent?: boolean;
  /** Incremental syncs never report deletes. */
  dropsDeletes?: boolean;
  /** Uses the global fetch without retries instead of `ctx.http`. */
  bypassesHttpKit?: boolean;
  /** Versions longer than the database stores (512 characters): only a real database refuses them. */
  oversizedVersions?: boolean;
}

const noteSchema = z.object({ id: z.string(), title: z.string(), body: z.string(), revision: z.number() });
const pageSchema = z.object({ notes: z.array(noteSchema), head: z.number(), more: z.boolean() });
const eventsSchema = z.object({
  events: z.array(z.object({ seq: z.number(), id: z.string(), kind: z.enum(['upsert', 'delete']) })),
  head: z.number(),
});

function notesConnector(flaws: Flaws = {}) {
  const configSchema = flaws.noValidation
    ? z.object({ baseUrl: z.any() }).passthrough()
    : z.object({ baseUrl: z.url({ protocol: /^https?$/ }) });
  return defineConnector({
    type: 'notes_api',
    capabilities: { incremental: !flaws.fullOnly, deletions: true },
    configSchema,
    async check(ctx) {
      await ctx.http.json(`${ctx.config.baseUrl}/notes`, { schema: pageSchema });
    },
    async *sync(ctx): AsyncIterable<ConnectorChange> {
      const base = String(ctx.config.baseUrl);
      const get = async <T>(path: string, schema: z.ZodType<T>): Promise<T> => {
        if (flaws.bypassesHttpKit) {
          const response = await fetch(`${base}${path}`);
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return schema.parse(await response.json());
        }
        return ctx.http.json(`${base}${path}`, { schema });
      };
      const toDocument = (note: Note) => ({
        externalId: note.id,
        title: note.title,
        version: flaws.volatileContent
          ? undefined
          : `${flaws.oversizedVersions ? 'r'.repeat(600) : ''}${note.revision}`,
        mimeType: 'text/plain',
        content: {
          kind: 'lazy' as const,
          load: async () => {
            const fresh = await get(`/notes/${encodeURIComponent(note.id)}`, noteSchema);
            const stamp = flaws.volatileContent ? `\nLoaded at ${process.hrtime.bigint()}` : '';
            return { kind: 'text' as const, text: `${fresh.body}${stamp}` };
          },
        },
      });
      const cursor = ctx.cursor as { seq: number; after?: string } | undefined;
      if (ctx.mode === 'incremental' && cursor && cursor.after === undefined) {
        const { events, head } = await get(`/events?since=${cursor.seq}`, eventsSchema);
        for (const event of events) {
          if (event.kind === 'delete') {
            if (!flaws.dropsDeletes) yield { kind: 'delete', externalId: event.id };
          } else {
            const note = await get(`/notes/${encodeURIComponent(event.id)}`, noteSchema).catch(
              () => undefined,
            );
            if (note) yield { kind: 'upsert', document: toDocument(note) };
          }
        }
        yield { kind: 'checkpoint', cursor: { seq: head } };
        return;
      }
      // Full listing, resumable: the cursor remembers the last id listed and the change-log head.
      let after = cursor?.after ?? '';
      let head = cursor?.seq;
      for (;;) {
        const page = await get(`/notes?after=${encodeURIComponent(after)}`, pageSchema);
        head ??= page.head;
        const last = page.notes.at(-1)?.id;
        // The flaw: the page is checkpointed before its notes are yielded.
        if (flaws.checkpointAhead && last !== undefined && page.more) {
          yield { kind: 'checkpoint', cursor: { seq: head, after: last } };
        }
        for (const note of page.notes) yield { kind: 'upsert', document: toDocument(note) };
        if (last === undefined || !page.more) break;
        after = last;
        if (!flaws.checkpointAhead) yield { kind: 'checkpoint', cursor: { seq: head, after } };
      }
      yield { kind: 'checkpoint', cursor: { seq: head } };
      yield { kind: 'listing-complete', complete: true };
    },
  });
}

function options(flaws: Flaws = {}): TestConnectorOptions {
  return {
    connector: () => notesConnector(flaws),
    source: startNotesApi,
    invalidConfigs: [
      { config: { baseUrl: 'ftp://example.com' }, field: 'baseUrl' },
      { config: {}, field: 'baseUrl' },
    ],
  };
}

// The well-behaved connector passes the whole suite, as a connector's own test file would run it.
testConnector(options());
// So does one without a changes feed: it resumes an interrupted full listing from its cursor, and
// the sweep of the resumed run must count what the interrupted run already listed as seen.
testConnector({ ...options({ fullOnly: true }), name: 'notes_api (full syncs only)' });

describe('testConnector catches broken connectors', () => {
  const expectFailure = async (check: ConformanceCheckName, flaws: Flaws, message: RegExp) => {
    await expect(runConformanceCheck(check, options(flaws))).rejects.toThrow(message);
  };

  it('a connector that accepts any config', async () => {
    await expectFailure('refuses invalid config', { noValidation: true }, /must be refused/);
  });

  it('a connector whose checkpoints run ahead of what it yielded', async () => {
    await expectFailure('resumes from every checkpoint', { checkpointAhead: true }, /same documents/);
  });

  it('a connector whose content changes on every load', async () => {
    await expectFailure(
      'unchanged re-sync stores and embeds nothing',
      { volatileContent: true },
      /changed documents/,
    );
    await expectFailure('re-run is deterministic', { volatileContent: true }, /same documents/);
  });

  it('a connector that drops deletes from its changes feed', async () => {
    await expectFailure('deletes flow through', { dropsDeletes: true }, /soft-deleted/);
  });

  it('a connector that bypasses the HTTP kit and its retries', async () => {
    await expectFailure('survives rate limits and server errors', { bypassesHttpKit: true }, /after 429s/);
  });

  it('a source too small to exercise checkpoints', async () => {
    const small: TestConnectorOptions = {
      ...options(),
      source: async () => {
        const api = await startNotesApi();
        await api.remove(5);
        return api;
      },
    };
    await expect(runConformanceCheck('syncs every document', small)).rejects.toThrow(/at least 8 documents/);
  });

  it('a connector whose data only a real database refuses (the default store is PGlite)', async () => {
    const oversized = options({ oversizedVersions: true });
    await expect(runConformanceCheck('syncs every document', oversized)).rejects.toThrow(
      /first full sync must succeed|must be processed/,
    );
    // The in-memory repository does not hold every database limit, so the same flaw passes there.
    await runConformanceCheck('syncs every document', { ...oversized, database: 'memory' });
  });

  it('stores into the database factory it is given, one connector per check run', async () => {
    const types: string[] = [];
    const listed: number[] = [];
    const memory = await import('../src/memory-conformance-database.js');
    const inner = memory.createMemoryConformanceDatabase({ dimensions: 64, leaseSeconds: 60 });
    let closed = false;
    await runConformanceCheck('re-run is deterministic', {
      ...options(),
      database: async () => ({
        async createStore(connectorType) {
          types.push(connectorType);
          const store = await inner.createStore(connectorType);
          return {
            ...store,
            repository: store.repository,
            connectorId: store.connectorId,
            async listDocuments() {
              const documents = await store.listDocuments();
              listed.push(documents.length);
              return documents;
            },
          };
        },
        async close() {
          closed = true;
        },
      }),
    });
    expect(types).toEqual(['notes_api', 'notes_api']);
    expect(listed).toEqual([9, 9]);
    expect(closed).toBe(true);
  });

  it('leaves out the HTTP faults check only when told the source is not HTTP', () => {
    expect(applicableChecks({})).toContain('survives rate limits and server errors');
    expect(applicableChecks({ httpFaults: false })).not.toContain('survives rate limits and server errors');
    expect(applicableChecks({ httpFaults: false })).toHaveLength(10);
  });

  it('the fake API really answered with the injected errors', async () => {
    const api = await startNotesApi();
    try {
      api.failNextRequests?.(1, 429);
      const limited = await fetch(`${api.url}/notes`);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('0');
      expect((await fetch(`${api.url}/notes`)).status).toBe(200);
      expect(api.requests.count).toBe(2);
    } finally {
      await api.close?.();
    }
  });
});
