// Test wiring: a fake Drive, a service account whose RSA key is generated for this run (never
// committed), an OAuth client with a refresh token, and the real connector pointed at the fake.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import {
  type ConnectorChange,
  type ConnectorStateStore,
  createConnectorInstance,
  createLexicalEmbedder,
  createMemoryConnectorStateStore,
  type JsonValue,
  type LoadedContent,
  runSync,
  type SourceDocument,
  type SyncMode,
  type SyncSummary,
} from '@tributary/core';
import { createMemoryRepository, type MemoryKnowledgeRepository } from '@tributary/core/testing';
import {
  createGoogleDriveConnector,
  type GoogleDriveConnector,
  type GoogleDriveConnectorSettings,
} from '../../src/index.js';
import { type FakeDrive, type FakeDriveOptions, startFakeDrive } from './fake-drive-server.js';

export const SERVICE_ACCOUNT_EMAIL = 'sync@tributary-test.iam.gserviceaccount.com';
export const DELEGATED_USER = 'ada@example.com';
export const OAUTH_CLIENT = {
  clientId: 'client-123.apps.googleusercontent.com',
  clientSecret: 'client-secret-xyz',
};
export const REFRESH_TOKEN = '1//refresh-token-abcdefghijklmnop';

let cachedKeys: { privateKey: string; publicKey: string } | undefined;
function testKeys() {
  cachedKeys ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return cachedKeys;
}

export interface DriveHarness {
  fake: FakeDrive;
  serviceAccount: { type: 'service_account'; clientEmail: string; privateKey: string; subject?: string };
  oauth: { type: 'oauth2'; clientId: string; clientSecret: string; refreshToken: string };
  settings: GoogleDriveConnectorSettings;
  connector(settings?: GoogleDriveConnectorSettings): GoogleDriveConnector;
  close(): Promise<void>;
}

export async function startDriveHarness(options: FakeDriveOptions = {}): Promise<DriveHarness> {
  const fake = await startFakeDrive(options);
  const keys = testKeys();
  fake.addServiceAccount(SERVICE_ACCOUNT_EMAIL, keys.publicKey, { delegatedSubjects: [DELEGATED_USER] });
  fake.addOAuthClient(OAUTH_CLIENT.clientId, OAUTH_CLIENT.clientSecret, REFRESH_TOKEN);
  const settings: GoogleDriveConnectorSettings = {
    rootUrl: fake.url,
    sheetsRootUrl: fake.url,
    tokenUrl: fake.tokenUrl,
    // Tests are not about the request budget (one test is): keep it out of the way.
    rateLimit: { requestsPerSecond: 10_000, burst: 10_000 },
  };
  return {
    fake,
    serviceAccount: {
      type: 'service_account',
      clientEmail: SERVICE_ACCOUNT_EMAIL,
      privateKey: keys.privateKey,
    },
    oauth: { type: 'oauth2', ...OAUTH_CLIENT, refreshToken: REFRESH_TOKEN },
    settings,
    connector: (extra = {}) => createGoogleDriveConnector({ ...settings, ...extra }),
    close: () => fake.close(),
  };
}

/** The committed `ctx.state` of each connector object: its syncs resume with it, as in a repository. */
const stateStores = new WeakMap<GoogleDriveConnector, ConnectorStateStore>();

export function stateStoreOf(connector: GoogleDriveConnector): ConnectorStateStore {
  let store = stateStores.get(connector);
  if (!store) {
    store = createMemoryConnectorStateStore();
    stateStores.set(connector, store);
  }
  return store;
}

/** Runs `sync()` of a connector instance and collects the changes (content not loaded). */
export async function collectChanges(
  connector: GoogleDriveConnector,
  input: { config: unknown; credentials: unknown; cursor?: JsonValue; mode?: SyncMode },
): Promise<ConnectorChange[]> {
  const instance = createConnectorInstance(connector, {
    config: input.config,
    credentials: input.credentials,
  });
  const changes: ConnectorChange[] = [];
  const stateStore = stateStoreOf(connector);
  for await (const change of instance.sync({ cursor: input.cursor, mode: input.mode ?? 'full', stateStore }))
    changes.push(change);
  return changes;
}

export function upserts(changes: readonly ConnectorChange[]): SourceDocument[] {
  return changes.flatMap((change) => (change.kind === 'upsert' ? [change.document] : []));
}

export function deletes(changes: readonly ConnectorChange[]): string[] {
  return changes.flatMap((change) => (change.kind === 'delete' ? [change.externalId] : []));
}

export function lastCursor(changes: readonly ConnectorChange[]): JsonValue | undefined {
  const checkpoints = changes.filter((change) => change.kind === 'checkpoint');
  const last = checkpoints[checkpoints.length - 1];
  return last?.kind === 'checkpoint' ? last.cursor : undefined;
}

/** Loads a document's lazy content as text. */
export async function loadText(document: SourceDocument): Promise<string> {
  let content: LoadedContent;
  if (document.content.kind === 'lazy')
    content = await document.content.load({ signal: new AbortController().signal });
  else content = document.content;
  if (content.kind === 'text') return content.text;
  if (content.kind === 'bytes') return new TextDecoder().decode(content.bytes);
  const parts: Uint8Array[] = [];
  for await (const part of content.stream as AsyncIterable<Uint8Array>) parts.push(part);
  return Buffer.concat(parts).toString('utf8');
}

export interface PipelineHarness {
  repository: MemoryKnowledgeRepository;
  connectorId: string;
  sync(options?: { mode?: SyncMode; signal?: AbortSignal }): Promise<SyncSummary>;
  live(): string[];
}

/** runSync into an in-memory repository with the offline lexical embedder. */
export function pipeline(
  harness: DriveHarness,
  config: unknown,
  credentials: unknown,
  settings: GoogleDriveConnectorSettings = {},
): PipelineHarness {
  const repository = createMemoryRepository();
  const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'google_drive' }).id;
  const connector = harness.connector(settings);
  const embedder = createLexicalEmbedder({ dimensions: 64 });
  return {
    repository,
    connectorId,
    sync: (options = {}) =>
      runSync({
        connector,
        config,
        credentials,
        connectorId,
        repository,
        embedder,
        mode: options.mode,
        signal: options.signal,
        groupSize: 200,
        concurrency: { load: 8 },
      }),
    live: () =>
      repository
        .listDocuments(connectorId)
        .filter((document) => !document.isDeleted)
        .map((document) => document.externalId)
        .sort(),
  };
}
