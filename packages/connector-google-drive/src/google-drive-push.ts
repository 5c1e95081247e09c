import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type ConnectorWebhooksDefinition,
  createHttpClient,
  InvalidConfigError,
  type Logger,
  silentLogger,
  type WebhookEvent,
  type WebhookRequest,
  WebhookVerificationError,
} from '@tributary/core';
import { createDriveApi, type DriveApi } from './google-drive-api.js';
import {
  DEFAULT_RATE_LIMIT,
  GOOGLE_DRIVE_CONNECTOR_TYPE,
  type GoogleDriveConnectorSettings,
  type GoogleDriveCredentials,
  googleDriveCredentialsSchema,
} from './google-drive-settings.js';

/** Drive accepts at most one week for a changes channel. */
export const MAX_CHANGES_CHANNEL_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Renew this long before the channel expires. */
export const DEFAULT_RENEW_MARGIN_MS = 60 * 60 * 1000;

const CHANNEL_PREFIX = 'trib';
const RESOURCE_STATES = new Set(['sync', 'add', 'remove', 'update', 'trash', 'untrash', 'change']);

/** A `changes.watch` channel, as stored by the host (none of it is secret except `token`). */
export interface DriveWatchChannel {
  id: string;
  resourceId: string;
  /** Expiration, epoch milliseconds. */
  expiration: number;
  address: string;
}

/**
 * Channel ids are minted from the webhook secret: `trib-<nonce>-<HMAC(secret, nonce)>`, so
 * `verify` can tell a channel this connector created from one it did not, without storing
 * anything. Hex only, 55 characters (Drive allows 64).
 */
export function createChannelId(secret: string): string {
  const nonce = randomBytes(8).toString('hex');
  return `${CHANNEL_PREFIX}-${nonce}-${channelSignature(secret, nonce)}`;
}

function channelSignature(secret: string, nonce: string): string {
  return createHmac('sha256', secret).update(`drive-channel:${nonce}`).digest('hex').slice(0, 32);
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Whether `channelId` was minted by `createChannelId(secret)`. Constant time in the signature. */
export function isOwnChannelId(channelId: string, secret: string): boolean {
  const match = /^trib-([0-9a-f]{16})-([0-9a-f]{32})$/.exec(channelId);
  if (!match) return false;
  return safeEqual(match[2] as string, channelSignature(secret, match[1] as string));
}

function fail(reason: string): never {
  throw new WebhookVerificationError({ connector: GOOGLE_DRIVE_CONNECTOR_TYPE, reason });
}

/**
 * The connector's `webhooks` member. Drive push notifications carry no body and no signature:
 * they are authenticated by the channel token (`X-Goog-Channel-Token`, which the connector sets
 * to the webhook secret when it creates the channel) and by the channel id (minted from the same
 * secret). The first delivery of a channel has state `sync` and announces nothing: it maps to no
 * event. Every other state maps to one incremental sync; events carry
 * `<channel id>:<message number>` as their id, so a redelivery is processed once.
 */
export const googleDriveWebhooks: ConnectorWebhooksDefinition = {
  verify(request: WebhookRequest, secret: string) {
    const token = request.headers['x-goog-channel-token'];
    const channelId = request.headers['x-goog-channel-id'];
    if (!token) fail('X-Goog-Channel-Token is missing');
    if (!safeEqual(token, secret)) fail('X-Goog-Channel-Token does not match the webhook secret');
    if (!channelId) fail('X-Goog-Channel-ID is missing');
    if (!isOwnChannelId(channelId, secret)) fail('X-Goog-Channel-ID is not a channel this connector created');
    const state = request.headers['x-goog-resource-state'];
    if (!state || !RESOURCE_STATES.has(state)) fail('X-Goog-Resource-State is missing or unknown');
  },
  parse(request: WebhookRequest): WebhookEvent[] {
    const state = request.headers['x-goog-resource-state'] ?? '';
    if (state === 'sync' || !RESOURCE_STATES.has(state)) return [];
    const channelId = request.headers['x-goog-channel-id'] ?? 'unknown';
    const messageNumber = request.headers['x-goog-message-number'] ?? '0';
    return [
      {
        eventId: `${channelId}:${messageNumber}`,
        eventType: `changes.${state}`,
        action: { kind: 'sync', mode: 'incremental' },
      },
    ];
  },
};

export interface GoogleDriveChannelsOptions {
  /** Raw credentials (validated like the connector's). */
  credentials: unknown;
  settings?: GoogleDriveConnectorSettings | undefined;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
}

export interface WatchInput {
  /** HTTPS URL of the host's webhook route. */
  address: string;
  /** The webhook secret: sent back by Drive as `X-Goog-Channel-Token`, checked by `verify`. */
  secret: string;
  /** Changes page token to watch from (the connector's cursor); default a fresh start token. */
  pageToken?: string | undefined;
  /** Requested lifetime; Drive caps it (one week for changes). Default one week. */
  ttlMs?: number | undefined;
}

export interface GoogleDriveChannels {
  /** Creates a `changes.watch` channel. */
  watch(input: WatchInput): Promise<DriveWatchChannel>;
  /** True when the channel expires within `marginMs` (default one hour) of `now`. */
  needsRenewal(channel: DriveWatchChannel, options?: { now?: number; marginMs?: number }): boolean;
  /**
   * Creates the replacement channel first, then stops the old one, so no notification is lost
   * in between (both may fire for a moment; the debouncer and event ids absorb that).
   */
  renew(
    channel: DriveWatchChannel,
    input: Omit<WatchInput, 'address'> & { address?: string },
  ): Promise<DriveWatchChannel>;
  /** Stops a channel (connector deleted or deactivated). A channel Drive no longer knows is not an error. */
  stop(channel: Pick<DriveWatchChannel, 'id' | 'resourceId'>): Promise<void>;
}

/**
 * Push channel management for hosts: create a channel when a connector is activated, renew it
 * before it expires (call `needsRenewal` from a schedule), stop it when the connector is deleted
 * or deactivated. Calls go through the same retry owner and error mapping as syncs.
 */
export function createGoogleDriveChannels(options: GoogleDriveChannelsOptions): GoogleDriveChannels {
  const settings = options.settings ?? {};
  const parsed = googleDriveCredentialsSchema.safeParse(options.credentials);
  if (!parsed.success) {
    throw InvalidConfigError.fromSchemaIssues(parsed.error, {
      connector: GOOGLE_DRIVE_CONNECTOR_TYPE,
      subject: 'credentials',
    });
  }
  const credentials: GoogleDriveCredentials = parsed.data;
  const http = createHttpClient({
    provider: GOOGLE_DRIVE_CONNECTOR_TYPE,
    rateLimit: settings.rateLimit ?? DEFAULT_RATE_LIMIT,
    logger: options.logger ?? silentLogger,
    signal: options.signal,
  });
  let api: DriveApi | undefined;
  const drive = () => {
    api ??= createDriveApi({ http, credentials, settings });
    return api;
  };

  const watch: GoogleDriveChannels['watch'] = async (input) => {
    const pageToken = input.pageToken ?? (await drive().getStartPageToken());
    const ttlMs = Math.min(input.ttlMs ?? MAX_CHANGES_CHANNEL_TTL_MS, MAX_CHANGES_CHANNEL_TTL_MS);
    const created = await drive().watchChanges(pageToken, {
      id: createChannelId(input.secret),
      type: 'web_hook',
      address: input.address,
      token: input.secret,
      expiration: String(Date.now() + ttlMs),
    });
    if (!created.id || !created.resourceId) {
      throw new Error('[tributary] [google_drive] changes.watch returned a channel without id or resourceId');
    }
    return {
      id: created.id,
      resourceId: created.resourceId,
      expiration: Number(created.expiration ?? Date.now() + ttlMs),
      address: input.address,
    };
  };

  const stop: GoogleDriveChannels['stop'] = async (channel) => {
    try {
      await drive().stopChannel(channel);
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      if (status === 404) return;
      throw error;
    }
  };

  return {
    watch,
    stop,
    needsRenewal(channel, renewal = {}) {
      const now = renewal.now ?? Date.now();
      return channel.expiration - now <= (renewal.marginMs ?? DEFAULT_RENEW_MARGIN_MS);
    },
    async renew(channel, input) {
      const next = await watch({ ...input, address: input.address ?? channel.address });
      await stop(channel);
      return next;
    },
  };
}

export interface SyncDebouncerOptions {
  /** Quiet time after the last notification before the sync starts. Default 2 s. */
  waitMs?: number | undefined;
  /** Longest a sync is put off by a continuous stream of notifications. Default 30 s. */
  maxWaitMs?: number | undefined;
  /** Starts the incremental sync (e.g. `runSync({ ..., mode: 'incremental' })`). */
  run: () => Promise<unknown>;
  /** Called when `run` rejects (the debouncer keeps working). */
  onError?: ((error: unknown) => void) | undefined;
}

export interface SyncDebouncer {
  /** A notification arrived. */
  trigger(): void;
  /** Runs now if something is pending; resolves when the run (and any run it queued) ended. */
  flush(): Promise<void>;
  /** Forgets pending notifications and timers. */
  cancel(): void;
  /** Syncs started so far. */
  readonly runs: number;
}

/**
 * Turns a burst of push notifications into one sync: each `trigger` restarts a `waitMs` timer
 * (bounded by `maxWaitMs` from the first), and a trigger during a running sync queues exactly one
 * more run after it, so nothing that changed during the run is missed.
 */
export function createSyncDebouncer(options: SyncDebouncerOptions): SyncDebouncer {
  const waitMs = options.waitMs ?? 2000;
  const maxWaitMs = options.maxWaitMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let firstTriggerAt: number | undefined;
  let pending = false;
  let running: Promise<void> | undefined;
  let runs = 0;

  const clear = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  const start = (): Promise<void> => {
    clear();
    firstTriggerAt = undefined;
    if (running) return running;
    if (!pending) return Promise.resolve();
    pending = false;
    runs += 1;
    running = (async () => {
      try {
        await options.run();
      } catch (error) {
        options.onError?.(error);
      } finally {
        running = undefined;
      }
      if (pending) await start();
    })();
    return running;
  };

  return {
    trigger() {
      pending = true;
      if (running) return; // queued: runs once more after the current run
      const now = Date.now();
      firstTriggerAt ??= now;
      clear();
      const delay = Math.max(0, Math.min(waitMs, firstTriggerAt + maxWaitMs - now));
      timer = setTimeout(() => {
        void start();
      }, delay);
    },
    flush() {
      return start();
    },
    cancel() {
      clear();
      pending = false;
      firstTriggerAt = undefined;
    },
    get runs() {
      return runs;
    },
  };
}
