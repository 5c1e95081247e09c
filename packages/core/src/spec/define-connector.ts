import { type ZodType, z } from 'zod';
import { UnsupportedConnectorError } from '../errors/unsupported-connector-error.js';
import type { RateLimitSettings } from '../http/rate-limiter.js';
import type { ConnectorChange } from './v1/connector-change.js';
import type { ConnectorCapabilities, ConnectorContext, ConnectorV1, SyncContext } from './v1/connector-v1.js';
import type { ConnectorWebhooks } from './v1/connector-webhooks.js';
import type { SourceDocument } from './v1/source-document.js';

/** An empty object schema: the default for connectors without config or credentials. */
export type EmptySettings = Record<string, never>;

/** Webhooks as written in a definition: `handshake` may be left out (no provider challenge). */
export type ConnectorWebhooksDefinition = Omit<ConnectorWebhooks, 'handshake'> &
  Partial<Pick<ConnectorWebhooks, 'handshake'>>;

/** What `defineConnector` accepts: a `ConnectorV1` with its optional parts left out. */
export interface ConnectorDefinition<Config = EmptySettings, Credentials = EmptySettings> {
  readonly specificationVersion?: 'v1' | undefined;
  readonly type: string;
  /** Default: from `type`, `google_drive` → `Google Drive`. */
  readonly displayName?: string | undefined;
  /** Unset flags are `false`; `webhooks` defaults to whether a `webhooks` member is given. */
  readonly capabilities?: Partial<ConnectorCapabilities> | undefined;
  /** Default: an empty object (extra keys are dropped). */
  readonly configSchema?: ZodType<Config> | undefined;
  /** Default: an empty object (extra keys are dropped). */
  readonly credentialsSchema?: ZodType<Credentials> | undefined;
  readonly rateLimit?: RateLimitSettings | undefined;
  check(ctx: ConnectorContext<Config, Credentials>): Promise<void>;
  sync(ctx: SyncContext<Config, Credentials>): AsyncIterable<ConnectorChange>;
  /** Optional: one document by external id (`null`: gone), for webhook `refetch` events. */
  fetchDocument?(
    ctx: ConnectorContext<Config, Credentials>,
    externalId: string,
  ): Promise<SourceDocument | null>;
  readonly webhooks?: ConnectorWebhooksDefinition | undefined;
}

/**
 * The one naming rule for connector types, the same as the `connector_configs_connector_type_check`
 * constraint of @tributary/sql: 1 to 63 characters of a-z, 0-9 and _, starting with a letter.
 * No dashes: the database refuses them, so a plugin using one could never store a document.
 */
export const CONNECTOR_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Turns a definition into a frozen `ConnectorV1`, filling defaults: `specificationVersion`,
 * `displayName` from `type`, every capability `false` unless set (`webhooks` follows the presence
 * of a `webhooks` member), empty config/credentials schemas, a `handshake` answering `null`.
 * `check` and `sync` are required; `fetchDocument`, when given, must be a function. Throws `UnsupportedConnectorError` for a malformed definition
 * (at import time of the plugin, not at sync time).
 *
 * @example
 * const echo = defineConnector({
 *   type: 'echo',
 *   configSchema: z.object({ texts: z.array(z.string()) }),
 *   async check() {},
 *   async *sync(ctx) {
 *     for (const [index, text] of ctx.config.texts.entries()) {
 *       yield { kind: 'upsert', document: { externalId: String(index), title: `Echo ${index}`, content: { kind: 'text', text } } };
 *     }
 *     yield { kind: 'listing-complete', complete: true };
 *   },
 * });
 */
export function defineConnector<Config = EmptySettings, Credentials = EmptySettings>(
  definition: ConnectorDefinition<Config, Credentials>,
): ConnectorV1<Config, Credentials> {
  const type = (definition as { type?: unknown }).type;
  if (typeof type !== 'string' || !CONNECTOR_TYPE_PATTERN.test(type)) {
    throw new UnsupportedConnectorError({
      message: `a connector definition has type ${JSON.stringify(type)}, which breaks the type rule: 1 to 63 characters of a-z, 0-9 and _, starting with a letter`,
      hint: `Give it a stable snake_case type such as "google_drive"${typeof type === 'string' && type.includes('-') ? ` (e.g. "${type.replaceAll('-', '_')}")` : ''}; it is stored with every document and the database refuses anything else`,
    });
  }
  const requireFunction = (member: string, value: unknown) => {
    if (typeof value !== 'function') {
      throw new UnsupportedConnectorError({
        connector: type,
        message: `the connector definition has no ${member} function`,
        hint: `Add ${member}(ctx) to the definition passed to defineConnector`,
      });
    }
  };
  requireFunction('check', definition.check);
  requireFunction('sync', definition.sync);
  if (definition.specificationVersion !== undefined && definition.specificationVersion !== 'v1') {
    throw new UnsupportedConnectorError({
      connector: type,
      message: `defineConnector builds specification v1 connectors, not ${JSON.stringify(definition.specificationVersion)}`,
      hint: 'Upgrade @tributary/core to a version that supports it',
    });
  }

  if (definition.fetchDocument !== undefined) requireFunction('fetchDocument', definition.fetchDocument);
  const webhooks = definition.webhooks;
  if (webhooks !== undefined) {
    requireFunction('webhooks.verify', webhooks.verify);
    requireFunction('webhooks.parse', webhooks.parse);
  }
  if (definition.capabilities?.webhooks === true && webhooks === undefined) {
    throw new UnsupportedConnectorError({
      connector: type,
      message: 'capabilities.webhooks is true but the definition has no webhooks member',
      hint: 'Add webhooks { handshake?, verify, parse } or drop the flag',
    });
  }

  const capabilities: ConnectorCapabilities = Object.freeze({
    incremental: definition.capabilities?.incremental ?? false,
    deletions: definition.capabilities?.deletions ?? false,
    webhooks: definition.capabilities?.webhooks ?? webhooks !== undefined,
    permissions: definition.capabilities?.permissions ?? false,
    binaryContent: definition.capabilities?.binaryContent ?? false,
  });

  const connector: ConnectorV1<Config, Credentials> = {
    specificationVersion: 'v1',
    type,
    displayName: definition.displayName ?? displayNameFromType(type),
    capabilities,
    configSchema: definition.configSchema ?? (emptySchema() as unknown as ZodType<Config>),
    credentialsSchema: definition.credentialsSchema ?? (emptySchema() as unknown as ZodType<Credentials>),
    rateLimit: definition.rateLimit === undefined ? undefined : Object.freeze({ ...definition.rateLimit }),
    check: definition.check,
    sync: definition.sync,
    ...(definition.fetchDocument === undefined ? {} : { fetchDocument: definition.fetchDocument }),
    webhooks:
      webhooks === undefined
        ? undefined
        : Object.freeze({
            handshake: webhooks.handshake ?? (() => null),
            verify: webhooks.verify,
            parse: webhooks.parse,
          }),
  };
  return Object.freeze(connector);
}

function emptySchema() {
  return z.object({}).default({});
}

/** `google_drive` → `Google Drive`, `ms-teams` → `Ms Teams`. */
export function displayNameFromType(type: string): string {
  return type
    .split(/[_-]+/)
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join(' ');
}
