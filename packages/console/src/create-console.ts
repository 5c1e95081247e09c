import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import {
  type ConnectorV1,
  createConnectorManager,
  createWebhookEndpoint,
  type Embedder,
  type Logger,
  type SecretKeyRing,
} from '@tributary/core';
import { type CreateWorkerOptions, createWorker, type Worker } from '@tributary/worker';
import { Hono } from 'hono';
import { consoleApi, errorResponse } from './console-api.js';
import { consoleAuth, isLoopback } from './console-auth.js';
import { ConsoleError } from './console-error.js';
import { connectorEvents } from './console-events.js';
import { ProgressTracker } from './progress-tracker.js';
import { loadAssets } from './static-assets.js';

export interface CreateConsoleOptions {
  /** A direct or session-mode Postgres connection string (the worker runs on pg-boss). */
  connectionString: string;
  /** Connector plugins: the types the console can add and the worker can run. */
  // biome-ignore lint/suspicious/noExplicitAny: plugins of any config/credentials type
  connectors: readonly ConnectorV1<any, any>[];
  /** The embedder documents are stored with (also embeds the search playground's queries). */
  embedder: Embedder;
  /** Interface to listen on (default `127.0.0.1`). Anything but a loopback address needs `token`. */
  host?: string | undefined;
  /** Port (default 3000; `0` picks a free one, see `url` after `start()`). */
  port?: number | undefined;
  /**
   * A shared secret (at least 16 characters) the console asks for: `Authorization: Bearer <token>`
   * or opening `/?token=<token>` once (sets an HttpOnly cookie). Required when `host` is not a
   * loopback address; optional on loopback.
   */
  token?: string | undefined;
  /** Milliseconds between looks at the database for the live view (default 1,000). */
  refreshMs?: number | undefined;
  /** Decrypts and encrypts connector secrets (default: from TRIBUTARY_SECRET_KEYS). */
  keyRing?: SecretKeyRing | undefined;
  logger?: Logger | undefined;
  /** Everything else the worker takes (concurrency, schedule, rate budgets, ...). */
  worker?:
    | Omit<CreateWorkerOptions, 'connectionString' | 'connectors' | 'embedder' | 'keyRing' | 'logger'>
    | undefined;
}

export interface OperationsConsole {
  /** The URL it listens on, once started. */
  readonly url: string;
  readonly worker: Worker;
  /** The Hono app: `app.fetch(request)` answers without a socket (tests, other servers). */
  readonly app: Hono;
  /** Starts the worker, then listens. */
  start(): Promise<void>;
  /** Stops listening, then stops the worker gracefully (running syncs finish or are released). */
  stop(): Promise<void>;
}

/**
 * Checks where the console may listen before anything connects: a non-loopback host needs a token
 * of at least 16 characters. Throws `ConsoleError` (`invalid_options`) otherwise.
 */
export function resolveConsoleListen(options: Pick<CreateConsoleOptions, 'host' | 'port' | 'token'>): {
  host: string;
  port: number;
  token: string | undefined;
} {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConsoleError({ reason: 'invalid_options', message: `port must be 0 to 65535, got ${port}` });
  }
  const token = options.token === '' ? undefined : options.token;
  if (token !== undefined && token.length < 16) {
    throw new ConsoleError({
      reason: 'invalid_options',
      message: 'the console token is shorter than 16 characters',
      hint: 'Use a long random secret, e.g. `openssl rand -hex 24`',
    });
  }
  if (token === undefined && !isLoopback(host)) {
    throw new ConsoleError({
      reason: 'invalid_options',
      message: `refusing to serve the console on ${host} without a token: anyone who can reach it could add connectors and start syncs`,
      hint: 'Pass a token (tributary serve --token, or TRIBUTARY_CONSOLE_TOKEN), or bind to 127.0.0.1',
    });
  }
  return { host, port, token };
}

/**
 * The operations console: a worker, the webhook endpoints (`/webhooks/<connector id>`), a health
 * endpoint (`/healthz`) and a small web console (`/`) on one port.
 *
 * @example
 * const console = createConsole({
 *   connectionString: process.env.DATABASE_URL!,
 *   connectors: [createUrlConnector()],
 *   embedder: createLexicalEmbedder(),
 * });
 * await console.start(); // http://127.0.0.1:3000
 */
export function createConsole(options: CreateConsoleOptions): OperationsConsole {
  const listen = resolveConsoleListen(options);
  const refreshMs = options.refreshMs ?? 1000;
  if (!Number.isInteger(refreshMs) || refreshMs < 50) {
    throw new ConsoleError({
      reason: 'invalid_options',
      message: `refreshMs must be an integer >= 50, got ${refreshMs}`,
    });
  }
  const tracker = new ProgressTracker();
  const worker = createWorker({
    ...options.worker,
    connectionString: options.connectionString,
    connectors: options.connectors,
    embedder: options.embedder,
    keyRing: options.keyRing,
    logger: options.logger,
    onProgress: (event, job) => {
      tracker.record(event, job);
      options.worker?.onProgress?.(event, job);
    },
  });
  const logger = worker.logger;
  const connectors = new Map(options.connectors.map((plugin) => [plugin.type, plugin]));
  const manager = createConnectorManager({ repository: worker.repository, keyRing: options.keyRing });
  const webhooks = createWebhookEndpoint({
    repository: worker.repository,
    logger,
    async resolve(connectorId) {
      const row = await worker.repository.getConnector(connectorId);
      const plugin = row ? connectors.get(row.connectorType) : undefined;
      if (!plugin) return undefined;
      const stored = await manager.load(plugin, connectorId);
      return { connector: plugin, secret: stored.webhookSecret };
    },
    enqueue: ({ connectorId }) => worker.enqueueWebhookEvents(connectorId),
    async onRevealedSecret(connectorId, secret) {
      const row = await worker.repository.getConnector(connectorId);
      const plugin = row ? connectors.get(row.connectorType) : undefined;
      if (plugin) await manager.setSecrets(plugin, connectorId, { webhookSecret: secret });
    },
  });

  const app = new Hono();
  let assets: ReturnType<typeof loadAssets> | undefined;
  app.all('/webhooks/:connectorId', (c) => webhooks(c.req.raw, { connectorId: c.req.param('connectorId') }));
  app.get('/healthz', async (c) => {
    const report = await worker.health();
    return c.json(report, report.status === 'down' ? 503 : 200);
  });
  app.use('*', consoleAuth({ token: listen.token, loopbackOnly: isLoopback(listen.host) }));
  app.get('/api/events', (c) => connectorEvents(c, { worker, tracker, refreshMs }));
  app.route('/api', consoleApi({ worker, manager, connectors, embedder: options.embedder, tracker, logger }));
  app.get('*', async (c) => {
    assets ??= loadAssets();
    const asset = (await assets).get(new URL(c.req.url).pathname);
    if (!asset) return c.text('not found', 404);
    return c.body(new Uint8Array(asset.body), 200, {
      'content-type': asset.contentType,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      // The page loads nothing from anywhere else.
      'content-security-policy':
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    });
  });
  app.onError((error, c) => errorResponse(error, c, logger));

  let server: ReturnType<typeof serve> | undefined;
  let url = '';
  return {
    get url() {
      return url;
    },
    worker,
    app,
    async start() {
      // A package installed without its assets fails here, not on the first page view.
      assets ??= loadAssets();
      await assets;
      await worker.start();
      await new Promise<void>((resolve, reject) => {
        server = serve(
          { fetch: app.fetch, hostname: listen.host, port: listen.port },
          (info: AddressInfo) => {
            const shown = info.family === 'IPv6' ? `[${info.address}]` : info.address;
            url = `http://${shown}:${info.port}`;
            resolve();
          },
        );
        server.once('error', reject);
      });
      logger.info('console listening', { url, auth: listen.token ? 'token' : 'loopback only' });
    },
    async stop() {
      const listening = server;
      server = undefined;
      if (listening) {
        // Open event streams would hold close() forever.
        (listening as { closeAllConnections?: () => void }).closeAllConnections?.();
        await new Promise<void>((resolve) => listening.close(() => resolve()));
      }
      await worker.stop();
    },
  };
}
