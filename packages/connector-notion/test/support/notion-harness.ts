// Test wiring: the fake Notion server, the real connector pointed at it (fast request budget and
// short backoff unless a test asks otherwise), and the real pipeline into core's memory repository.
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
import {
  createNotionConnector,
  type NotionConnector,
  type NotionConnectorSettings,
} from '../../src/index.js';
import {
  type FakeNotion,
  type FakeNotionOptions,
  INTERNAL_TOKEN,
  startFakeNotion,
} from './fake-notion-server.js';

export const CREDENTIALS = { type: 'internal', token: INTERNAL_TOKEN } as const;

export interface NotionHarness {
  fake: FakeNotion;
  settings: NotionConnectorSettings;
  connector(settings?: NotionConnectorSettings): NotionConnector;
  close(): Promise<void>;
}

export async function startNotionHarness(options: FakeNotionOptions = {}): Promise<NotionHarness> {
  const fake = await startFakeNotion(options);
  const settings: NotionConnectorSettings = {
    baseUrl: fake.url,
    // Most tests are not about the request budget (those that are set their own).
    requestsPerSecond: 10_000,
    burst: 10_000,
    retry: { minDelayMs: 1, maxDelayMs: 5 },
  };
  return {
    fake,
    settings,
    connector: (extra = {}) => createNotionConnector({ ...settings, ...extra }),
    close: () => fake.close(),
  };
}

const stateStores = new WeakMap<NotionConnector, ConnectorStateStore>();

export function stateStoreOf(connector: NotionConnector): ConnectorStateStore {
  let store = stateStores.get(connector);
  if (!store) {
    store = createMemoryConnectorStateStore();
    stateStores.set(connector, store);
  }
  return store;
}

/** Runs `sync()` of a connector instance and collects the changes (content not loaded). */
export async function collectChanges(
  connector: NotionConnector,
  input: { config?: unknown; credentials?: unknown; cursor?: JsonValue; mode?: SyncMode },
): Promise<ConnectorChange[]> {
  const instance = createConnectorInstance(connector, {
    config: input.config ?? {},
    credentials: input.credentials ?? CREDENTIALS,
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

export async function loadText(document: SourceDocument): Promise<string> {
  let content: LoadedContent;
  if (document.content.kind === 'lazy')
    content = await document.content.load({ signal: new AbortController().signal });
  else content = document.content;
  if (content.kind !== 'text') throw new Error('expected text content');
  return content.text;
}

export interface PipelineHarness {
  repository: MemoryKnowledgeRepository;
  connectorId: string;
  sync(options?: { mode?: SyncMode; signal?: AbortSignal }): Promise<SyncSummary>;
  live(): string[];
}

/** runSync into an in-memory repository with the offline lexical embedder. */
export function pipeline(
  harness: NotionHarness,
  config: unknown,
  settings: NotionConnectorSettings = {},
  credentials: unknown = CREDENTIALS,
): PipelineHarness {
  const repository = createMemoryRepository();
  const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'notion' }).id;
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
