import { randomUUID } from 'node:crypto';
import {
  type ConnectorManager,
  type ConnectorV1,
  type Embedder,
  InvalidConfigError,
  type Logger,
  RepositoryError,
  search,
  TributaryError,
} from '@tributary/core';
import type { Worker } from '@tributary/worker';
import { type Context, Hono } from 'hono';
import { ConsoleError } from './console-error.js';
import { listConnectors, listRuns, parseRunCursor, runHistory } from './console-queries.js';
import type { ProgressTracker } from './progress-tracker.js';

export interface ConsoleApiDeps {
  worker: Worker;
  manager: ConnectorManager;
  // biome-ignore lint/suspicious/noExplicitAny: plugins of any config/credentials type
  connectors: ReadonlyMap<string, ConnectorV1<any, any>>;
  embedder: Embedder;
  tracker: ProgressTracker;
  logger: Logger;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FREQUENCIES = new Set(['manual', 'hourly', 'daily', 'weekly']);

function invalid(message: string, hint?: string): ConsoleError {
  return new ConsoleError({ reason: 'invalid_options', message, hint });
}

function uuidParam(c: Context, name: string): string {
  const value = c.req.param(name) ?? '';
  if (!UUID.test(value)) throw invalid(`${name} must be a UUID, got "${value.slice(0, 60)}"`);
  return value;
}

function boundedInteger(value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw invalid(`expected an integer from ${min} to ${max}, got "${value.slice(0, 20)}"`);
  }
  return parsed;
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const body = (await c.req.json().catch(() => undefined)) as unknown;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('the request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** What an error answers: the user's mistakes 4xx with their message, anything else 500 (logged). */
export function errorResponse(error: unknown, c: Context, logger: Logger): Response {
  if (ConsoleError.isInstance(error)) {
    return c.json({ error: error.message }, error.reason === 'not_found' ? 404 : 400);
  }
  if (InvalidConfigError.isInstance(error)) return c.json({ error: error.message }, 400);
  if (
    RepositoryError.isInstance(error) &&
    (error.reason === 'not_found' || error.reason === 'invalid_input')
  ) {
    return c.json({ error: error.message }, error.reason === 'not_found' ? 404 : 400);
  }
  if (TributaryError.isInstance(error) && /unknown_connector|invalid_options/.test(error.code)) {
    return c.json({ error: error.message }, 400);
  }
  const message = error instanceof Error ? error.message : String(error);
  logger.error('console request failed', { path: new URL(c.req.url).pathname, error: message });
  return c.json({ error: `[tributary] [console] ${message}` }, 500);
}

/** The console's JSON API under /api. */
export function consoleApi(deps: ConsoleApiDeps): Hono {
  const { worker, manager, connectors, tracker } = deps;
  const api = new Hono();

  api.get('/meta', async (c) => {
    const rows = await listConnectors(worker.pool, 1);
    return c.json({
      workerId: worker.id,
      embedder: deps.embedder.id,
      connectorTypes: [...connectors.values()].map((plugin) => ({
        type: plugin.type,
        displayName: plugin.displayName,
      })),
      // The organisation the add form suggests: the newest connector's, else a fresh one.
      suggestedOrgId: rows[0]?.orgId ?? randomUUID(),
    });
  });

  api.get('/connectors', async (c) => {
    const rows = await listConnectors(worker.pool);
    return c.json(rows.map((row) => ({ ...row, live: tracker.get(row.id) ?? null })));
  });

  api.post('/connectors', async (c) => {
    const body = await jsonBody(c);
    const type = body.type;
    if (typeof type !== 'string' || type === '') throw invalid('type is missing');
    const plugin = connectors.get(type);
    if (!plugin) {
      throw new ConsoleError({
        reason: 'unknown_connector_type',
        message: `no connector plugin of type "${type.slice(0, 60)}" runs in this console`,
        hint: `Choose one of: ${[...connectors.keys()].join(', ') || '(none: pass --plugin to tributary serve)'}`,
      });
    }
    const orgId = body.orgId;
    if (typeof orgId !== 'string' || !UUID.test(orgId)) throw invalid('orgId must be a UUID');
    const syncFrequency = body.syncFrequency ?? 'manual';
    if (typeof syncFrequency !== 'string' || !FREQUENCIES.has(syncFrequency)) {
      throw invalid(`syncFrequency must be one of ${[...FREQUENCIES].join(', ')}`);
    }
    const name = body.name;
    if (name !== undefined && (typeof name !== 'string' || name.length > 200)) {
      throw invalid('name must be a string of at most 200 characters');
    }
    const row = await manager.create(plugin, {
      orgId,
      name: name === '' ? undefined : name,
      config: (body.config ?? {}) as never,
      syncFrequency: syncFrequency as 'manual',
    });
    deps.logger.info('connector added from the console', { connectorId: row.id, type });
    return c.json({ id: row.id, orgId: row.orgId, type: row.connectorType, name: row.name }, 201);
  });

  api.post('/connectors/:id/sync', async (c) => {
    const connectorId = uuidParam(c, 'id');
    const body = await jsonBody(c).catch(() => ({}) as Record<string, unknown>);
    const mode = body.mode === 'full' || body.mode === 'incremental' ? body.mode : undefined;
    const { jobId, created } = await worker.requestSync(connectorId, { mode });
    tracker.queued(connectorId, jobId);
    return c.json({ jobId, created }, 202);
  });

  api.get('/jobs/:id', async (c) => {
    const status = await worker.getJob(uuidParam(c, 'id'));
    if (!status) throw new ConsoleError({ reason: 'not_found', message: 'no such sync job' });
    return c.json(status);
  });

  api.post('/jobs/:id/cancel', async (c) => {
    const jobId = uuidParam(c, 'id');
    const status = await worker.getJob(jobId);
    if (!status) throw new ConsoleError({ reason: 'not_found', message: 'no such sync job' });
    const cancelled = await worker.cancelJob(jobId);
    if (cancelled) tracker.cancelled(status.connectorId, jobId);
    return c.json({ cancelled });
  });

  api.get('/runs', async (c) => {
    const connectorId = c.req.query('connectorId');
    if (connectorId !== undefined && !UUID.test(connectorId)) throw invalid('connectorId must be a UUID');
    const beforeParam = c.req.query('before');
    const before = beforeParam === undefined || beforeParam === '' ? undefined : parseRunCursor(beforeParam);
    if (beforeParam && !before) {
      throw invalid(
        `before must be a cursor from the X-Next-Cursor header of /api/runs, got "${beforeParam.slice(0, 60)}"`,
        'Request /api/runs without before for the newest page and follow its X-Next-Cursor.',
      );
    }
    const page = await listRuns(worker.pool, {
      connectorId,
      limit: boundedInteger(c.req.query('limit'), 50, 1, 500),
      before,
    });
    // The body stays the array of runs; the way to the next (older) page is a header.
    if (page.nextCursor) c.header('X-Next-Cursor', page.nextCursor);
    return c.json(page.runs);
  });

  api.get('/history', async (c) =>
    c.json(
      await runHistory(worker.pool, {
        days: boundedInteger(c.req.query('days'), 30, 1, 366),
        limit: boundedInteger(c.req.query('limit'), 1000, 1, 10_000),
      }),
    ),
  );

  api.get('/search', async (c) => {
    const orgId = c.req.query('orgId') ?? '';
    if (!UUID.test(orgId)) throw invalid('orgId must be a UUID');
    const mode = c.req.query('mode') ?? 'hybrid';
    if (mode !== 'hybrid' && mode !== 'fullText' && mode !== 'vector') {
      throw invalid('mode must be hybrid, fullText or vector');
    }
    const response = await search({
      repository: worker.repository,
      orgId,
      query: c.req.query('q') ?? '',
      embedder: deps.embedder,
      mode,
      limit: boundedInteger(c.req.query('limit'), 10, 1, 50),
    });
    return c.json({
      mode: response.mode,
      hits: response.hits.map((hit) => ({
        documentId: hit.documentId,
        title: hit.title,
        externalUrl: hit.externalUrl,
        connectorId: hit.connectorId,
        chunkIndex: hit.chunkIndex,
        snippet: hit.snippet,
        score: hit.score,
        explanation: hit.explanation,
      })),
    });
  });

  api.onError((error, c) => errorResponse(error, c, deps.logger));
  return api;
}
