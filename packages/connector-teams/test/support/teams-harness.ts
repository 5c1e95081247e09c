// Test wiring: a fake tenant behind fake identity + Graph servers over https (a test CA generated
// for the run), and the real connector (MSAL + Graph client) pointed at them with a fetch that
// trusts that CA.
import { randomUUID } from 'node:crypto';
import {
  type ConnectorChange,
  type ConnectorStateStore,
  createConnectorInstance,
  createLexicalEmbedder,
  createMemoryConnectorStateStore,
  type JsonValue,
  runSync,
  type SourceDocument,
  type SyncMode,
  type SyncSummary,
} from '@tributary/core';
import { createMemoryRepository, type MemoryKnowledgeRepository } from '@tributary/core/testing';
import { createTeamsConnector, type TeamsConnector, type TeamsConnectorSettings } from '../../src/index.js';
import { type FakeGraph, startFakeGraph } from './fake-graph-server.ts';
import { FakeTenant } from './fake-tenant.ts';
import { type TestCertificate, testCertificate } from './test-certificate.ts';

export interface TeamsHarness {
  fake: FakeGraph;
  tenant: FakeTenant;
  cert: TestCertificate;
  settings: TeamsConnectorSettings;
  credentials: { type: 'client_credentials'; tenantId: string; clientId: string; clientSecret: string };
  connector(settings?: TeamsConnectorSettings): TeamsConnector;
  close(): Promise<void>;
}

export async function startTeamsHarness(options: { pageSize?: number } = {}): Promise<TeamsHarness> {
  const cert = await testCertificate();
  const tenant = new FakeTenant();
  const fake = await startFakeGraph({ tenant, cert, pageSize: options.pageSize });
  const settings: TeamsConnectorSettings = {
    authorityHost: fake.url,
    graphBaseUrl: fake.url,
    fetch: cert.fetch,
    // Tests are not about the request budget: keep it out of the way.
    rateLimit: { requestsPerSecond: 100_000, burst: 100_000 },
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
  };
  return {
    fake,
    tenant,
    cert,
    settings,
    credentials: {
      type: 'client_credentials',
      tenantId: fake.tenantId,
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
    },
    connector: (extra = {}) => createTeamsConnector({ ...settings, ...extra }),
    close: async () => {
      await fake.close();
      await cert.close();
    },
  };
}

const stateStores = new WeakMap<TeamsConnector, ConnectorStateStore>();

export function stateStoreOf(connector: TeamsConnector): ConnectorStateStore {
  let store = stateStores.get(connector);
  if (!store) {
    store = createMemoryConnectorStateStore();
    stateStores.set(connector, store);
  }
  return store;
}

/** Runs `sync()` of a connector instance and collects the changes (content not loaded). */
export async function collectChanges(
  connector: TeamsConnector,
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

export interface PipelineHarness {
  repository: MemoryKnowledgeRepository;
  connectorId: string;
  sync(options?: { mode?: SyncMode }): Promise<SyncSummary>;
  live(): string[];
}

/** runSync into an in-memory repository with the offline lexical embedder. */
export function pipeline(
  harness: TeamsHarness,
  config: unknown,
  settings: TeamsConnectorSettings = {},
): PipelineHarness {
  const repository = createMemoryRepository();
  const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'teams' }).id;
  const connector = harness.connector(settings);
  const embedder = createLexicalEmbedder({ dimensions: 32 });
  return {
    repository,
    connectorId,
    sync: (options = {}) =>
      runSync({
        connector,
        config,
        credentials: harness.credentials,
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
