import type { ZodType } from 'zod';
import type { HttpClient } from '../../http/http-client.js';
import type { RateLimitSettings } from '../../http/rate-limiter.js';
import type { Logger } from '../logger.js';
import type { SyncMetrics } from '../sync-metrics.js';
import type { ConnectorChange } from './connector-change.js';
import type { ConnectorState } from './connector-state.js';
import type { ConnectorWebhooks } from './connector-webhooks.js';
import type { JsonValue } from './json-value.js';
import type { SourceDocument } from './source-document.js';

/** What a connector can do. The pipeline and the conformance suite read these flags. */
export interface ConnectorCapabilities {
  /** `sync` honours `mode: 'incremental'` from `ctx.cursor` (a changes feed or a modified-since query). */
  readonly incremental: boolean;
  /** Incremental syncs emit `delete` changes. */
  readonly deletions: boolean;
  /** The connector has a `webhooks` member. */
  readonly webhooks: boolean;
  /** Documents carry `permissions`. */
  readonly permissions: boolean;
  /** Content may be binary (`bytes`/`stream`, or lazy content resolving to them). */
  readonly binaryContent: boolean;
}

export type SyncMode = 'full' | 'incremental';

/** What `check` and `sync` receive. Built by `createConnectorInstance` (or the pipeline). */
export interface ConnectorContext<Config = unknown, Credentials = unknown> {
  /** Parsed, validated config. */
  readonly config: Config;
  /** Parsed, validated credentials. Never log them. */
  readonly credentials: Credentials;
  /** Aborted when the run is cancelled: pass it on to every call that can take it. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly metrics: SyncMetrics;
  /** HTTP kit with timeouts, retries, rate limit, typed errors and metrics for this provider. */
  readonly http: HttpClient;
}

export interface SyncContext<Config = unknown, Credentials = unknown>
  extends ConnectorContext<Config, Credentials> {
  /** Cursor of the last committed checkpoint; `undefined` on a first sync. */
  readonly cursor: JsonValue | undefined;
  /**
   * `full`: list everything (and end with a `listing-complete` change so the delete sweep can
   * run). `incremental`: changes since `cursor`. Only `incremental: true` connectors get it.
   */
  readonly mode: SyncMode;
  /**
   * The connector's own state store, committed with each checkpoint (see `ConnectorState`): for
   * whatever grows with the source. Keep the cursor small (page tokens, counters): it is capped at
   * 64 KB.
   */
  readonly state: ConnectorState;
}

/**
 * Version 1 of the connector spec. Types only: build one with `defineConnector`, which fills the
 * defaults, so members added to the spec later never break a plugin.
 */
export interface ConnectorV1<Config = unknown, Credentials = unknown> {
  readonly specificationVersion: 'v1';
  /** Stable identifier stored with every document, snake_case: `google_drive`, `notion`. */
  readonly type: string;
  /** Human name: `Google Drive`. */
  readonly displayName: string;
  readonly capabilities: ConnectorCapabilities;
  /** Validates config (what to sync) when an instance is created. */
  readonly configSchema: ZodType<Config>;
  /** Validates credentials when an instance is created. */
  readonly credentialsSchema: ZodType<Credentials>;
  /** The provider's default request budget for `ctx.http`; hosts may override it. */
  readonly rateLimit?: RateLimitSettings | undefined;
  /** Proves the credentials work with one cheap API call; throws (`AuthError`...) when they do not. */
  check(ctx: ConnectorContext<Config, Credentials>): Promise<void>;
  /** The source's changes since `ctx.cursor` (or everything, in a full sync). */
  sync(ctx: SyncContext<Config, Credentials>): AsyncIterable<ConnectorChange>;
  /**
   * Optional: fetches one document by its external id, for a webhook `refetch` event
   * (`processWebhookEvents` runs just those documents through the pipeline). `null` means it is
   * gone (deleted, trashed, access lost) and is soft-deleted. Without it, a `refetch` event falls
   * back to one incremental sync.
   */
  fetchDocument?(
    ctx: ConnectorContext<Config, Credentials>,
    externalId: string,
  ): Promise<SourceDocument | null>;
  readonly webhooks?: ConnectorWebhooks | undefined;
}
