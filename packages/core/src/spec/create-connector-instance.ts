import { InvalidConfigError } from '../errors/invalid-config-error.js';
import { createHttpClient, type HttpClient } from '../http/http-client.js';
import type { RateLimiter, RateLimitSettings } from '../http/rate-limiter.js';
import { assertSupportedConnector } from './assert-supported-connector.js';
import {
  type BufferedConnectorState,
  type ConnectorStateStore,
  createBufferedConnectorState,
  createMemoryConnectorStateStore,
} from './buffered-connector-state.js';
import { type Logger, silentLogger } from './logger.js';
import { createSyncMetrics, type SyncMetrics } from './sync-metrics.js';
import type { ConnectorChange } from './v1/connector-change.js';
import type { ConnectorContext, ConnectorV1, SyncContext, SyncMode } from './v1/connector-v1.js';
import type { JsonValue } from './v1/json-value.js';

export interface ConnectorInstanceInput {
  /** Raw config (from `connector_configs.config`, a form, code): validated by `configSchema`. */
  config?: unknown;
  /** Raw credentials: validated by `credentialsSchema`. */
  credentials?: unknown;
}

/** Run-time services for one `check` or `sync` call. Everything has a default. */
export interface ConnectorRunOptions {
  /** Default: a signal that never aborts. */
  signal?: AbortSignal | undefined;
  /** Default: `silentLogger`. */
  logger?: Logger | undefined;
  /** Default: fresh counters (read them back from the options object you passed). */
  metrics?: SyncMetrics | undefined;
  /** A ready HTTP kit. Default: `createHttpClient` for the connector's type, rate limit, signal, logger and metrics. */
  http?: HttpClient | undefined;
  /** `fetch` for the default HTTP kit (a proxy, a test server). */
  fetch?: typeof fetch | undefined;
  /** Overrides the connector's own `rateLimit` for the default HTTP kit. */
  rateLimit?: RateLimitSettings | RateLimiter | undefined;
}

export interface ConnectorSyncOptions extends ConnectorRunOptions {
  /** Last committed cursor; `undefined` for a first sync. */
  cursor?: JsonValue | undefined;
  /**
   * Default: `incremental` when there is a cursor and the connector is incremental, else `full`.
   * `incremental` on a connector without that capability runs `full` (with a warning).
   */
  mode?: SyncMode | undefined;
  /**
   * Where `ctx.state` is committed (with each checkpoint, before it is yielded to you). Default: a
   * fresh in-memory store. Pass the same `createMemoryConnectorStateStore()` to the next call to
   * resume from a cursor with its state.
   */
  stateStore?: ConnectorStateStore | undefined;
}

/**
 * A connector bound to validated config and credentials. `check` and `sync` build the context
 * (`ctx`) and call the connector. Credentials stay out of `JSON.stringify` and `util.inspect`.
 */
export interface ConnectorInstance<Config = unknown, Credentials = unknown> {
  readonly connector: ConnectorV1<Config, Credentials>;
  readonly type: string;
  readonly config: Config;
  readonly credentials: Credentials;
  /** Builds the context `check` receives (also the base of a sync context). */
  createContext(options?: ConnectorRunOptions): ConnectorContext<Config, Credentials>;
  check(options?: ConnectorRunOptions): Promise<void>;
  sync(options?: ConnectorSyncOptions): AsyncIterable<ConnectorChange>;
}

const neverAborted = new AbortController().signal;

/**
 * Validates `config` and `credentials` with the connector's zod schemas and binds them. Bad
 * input throws `InvalidConfigError` naming the field (`fieldPath: 'folders[2].id'`) now, at
 * creation, never halfway through a sync. Also checks the connector's `specificationVersion`.
 */
export function createConnectorInstance<Config, Credentials>(
  connector: ConnectorV1<Config, Credentials>,
  input: ConnectorInstanceInput = {},
): ConnectorInstance<Config, Credentials> {
  assertSupportedConnector(connector);
  const config = parseWith(connector, connector.configSchema, input.config, 'config');
  const credentials = parseWith(connector, connector.credentialsSchema, input.credentials, 'credentials');

  const createContext = (options: ConnectorRunOptions = {}): ConnectorContext<Config, Credentials> => {
    const signal = options.signal ?? neverAborted;
    const logger = options.logger ?? silentLogger;
    const metrics = options.metrics ?? createSyncMetrics();
    const http =
      options.http ??
      createHttpClient({
        provider: connector.type,
        fetch: options.fetch,
        rateLimit: options.rateLimit ?? connector.rateLimit,
        signal,
        logger,
        metrics,
      });
    return { config, credentials, signal, logger, metrics, http };
  };

  const instance: ConnectorInstance<Config, Credentials> = {
    connector,
    type: connector.type,
    config,
    credentials,
    createContext,
    check: (options) => connector.check(createContext(options)),
    sync(options = {}) {
      const base = createContext(options);
      let mode: SyncMode =
        options.mode ??
        (options.cursor !== undefined && connector.capabilities.incremental ? 'incremental' : 'full');
      if (mode === 'incremental' && !connector.capabilities.incremental) {
        base.logger.warn('connector is not incremental; running a full sync', { connector: connector.type });
        mode = 'full';
      }
      const store = options.stateStore ?? createMemoryConnectorStateStore();
      const state = createBufferedConnectorState(store);
      const context: SyncContext<Config, Credentials> = { ...base, cursor: options.cursor, mode, state };
      return commitStateAtCheckpoints(connector.sync(context), state, store);
    },
  };
  Object.defineProperty(instance, 'credentials', { enumerable: false });
  Object.defineProperty(instance, 'toJSON', {
    enumerable: false,
    value: () => ({ type: connector.type, config }),
  });
  Object.defineProperty(instance, Symbol.for('nodejs.util.inspect.custom'), {
    enumerable: false,
    value: () => `ConnectorInstance(${connector.type})`,
  });
  return Object.freeze(instance);
}

/** Commits the buffered state as each checkpoint passes, as the pipeline does with the cursor. */
async function* commitStateAtCheckpoints(
  changes: AsyncIterable<ConnectorChange>,
  state: BufferedConnectorState,
  store: ConnectorStateStore,
): AsyncIterable<ConnectorChange> {
  for await (const change of changes) {
    if (change.kind === 'checkpoint') {
      const pending = state.take();
      if (pending) await store.commit(pending);
    }
    yield change;
  }
}

function parseWith<T>(
  connector: ConnectorV1<unknown, unknown>,
  schema: ConnectorV1<T, unknown>['configSchema'],
  value: unknown,
  subject: 'config' | 'credentials',
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw InvalidConfigError.fromSchemaIssues(result.error, {
    connector: connector.type,
    subject,
    hint:
      subject === 'credentials'
        ? `Fix the ${connector.displayName} credentials (reconnect the account, or check the environment variables) and create the connector again`
        : `Fix the ${connector.displayName} connector config and create the connector again`,
  });
}
