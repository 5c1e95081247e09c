// Test wiring: a fake Zoom with users, the Server-to-Server app's credentials, and the real
// connector pointed at the fake with a fast retry policy and limits out of the way.
import { randomUUID } from 'node:crypto';
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
import { createZoomConnector, type ZoomConnector, type ZoomConnectorSettings } from '../../src/index.js';
import { type FakeZoom, type FakeZoomOptions, S2S_APP, startFakeZoom } from './fake-zoom-server.js';

export interface ZoomHarness {
  fake: FakeZoom;
  s2s: { type: 'server_to_server'; accountId: string; clientId: string; clientSecret: string };
  settings: ZoomConnectorSettings;
  connector(settings?: ZoomConnectorSettings): ZoomConnector;
  close(): Promise<void>;
}

export async function startZoomHarness(options: FakeZoomOptions = {}): Promise<ZoomHarness> {
  const fake = await startFakeZoom(options);
  const settings: ZoomConnectorSettings = {
    apiUrl: fake.apiUrl,
    oauthUrl: fake.oauthUrl,
    // Fast backoff (429s without Retry-After are answered by it); limits out of the way.
    retry: { retries: 5, minDelayMs: 1, maxDelayMs: 5 },
    limits: { light: 10_000, medium: 10_000, heavy: 10_000, download: 10_000 },
    rateLimitFraction: 1,
    ...(options.now ? { now: options.now } : {}),
  };
  return {
    fake,
    s2s: { type: 'server_to_server', ...S2S_APP },
    settings,
    connector: (extra = {}) => createZoomConnector({ ...settings, ...extra }),
    close: () => fake.close(),
  };
}

/** A date `days` days before now (UTC), at `hour`:00. */
export function daysAgo(days: number, hour = 15, now = Date.now()): string {
  const date = new Date(now - days * 86_400_000);
  date.setUTCHours(hour, 0, 0, 0);
  return date.toISOString().replace('.000', '');
}

const stateStores = new WeakMap<ZoomConnector, ConnectorStateStore>();
function stateStoreOf(connector: ZoomConnector): ConnectorStateStore {
  let store = stateStores.get(connector);
  if (!store) {
    store = createMemoryConnectorStateStore();
    stateStores.set(connector, store);
  }
  return store;
}

/** Runs `sync()` of a connector instance and collects the changes (content not loaded). */
export async function collectChanges(
  connector: ZoomConnector,
  input: { config: unknown; credentials: unknown; cursor?: JsonValue; mode?: SyncMode },
): Promise<ConnectorChange[]> {
  const instance = createConnectorInstance(connector, {
    config: input.config,
    credentials: input.credentials,
  });
  const changes: ConnectorChange[] = [];
  for await (const change of instance.sync({
    cursor: input.cursor,
    mode: input.mode ?? 'full',
    stateStore: stateStoreOf(connector),
  }))
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
  throw new Error('unexpected stream content');
}

export interface PipelineHarness {
  repository: MemoryKnowledgeRepository;
  connectorId: string;
  connector: ZoomConnector;
  sync(options?: { mode?: SyncMode }): Promise<SyncSummary>;
  live(): string[];
}

/** runSync into an in-memory repository with the offline lexical embedder. */
export function pipeline(
  harness: ZoomHarness,
  config: unknown,
  credentials: unknown = harness.s2s,
  settings: ZoomConnectorSettings = {},
): PipelineHarness {
  const repository = createMemoryRepository();
  const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'zoom' }).id;
  const connector = harness.connector(settings);
  const embedder = createLexicalEmbedder({ dimensions: 64 });
  return {
    repository,
    connectorId,
    connector,
    sync: (options = {}) =>
      runSync({
        connector,
        config,
        credentials,
        connectorId,
        repository,
        embedder,
        mode: options.mode,
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
