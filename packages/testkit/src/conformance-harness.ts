import {
  type ConnectorChange,
  createLexicalEmbedder,
  type Embedder,
  type KnowledgeRepository,
  runSync,
  type SyncMode,
  type SyncProgressEvent,
  type SyncSummary,
} from '@tributary/core';
import { expect } from 'vitest';
import type { ConformanceDatabase, ConformanceStore, StoredDocument } from './conformance-database.js';
import type {
  AnyConnector,
  ConformanceDocument,
  ConformanceRun,
  ConformanceSource,
  TestConnectorOptions,
} from './conformance-types.js';

export const LEASE_SECONDS = 60;
export const MIN_DOCUMENTS = 8;

/** What every check gets: the suite's options and the database its syncs are stored in. */
export interface CheckContext {
  readonly options: TestConnectorOptions;
  readonly database: ConformanceDatabase;
}

/** The embedder every sync of the suite uses (the database's vector column is sized for it). */
export function suiteEmbedder(options: TestConnectorOptions): Embedder {
  return options.sync?.embedder ?? defaultEmbedder;
}

const defaultEmbedder = createLexicalEmbedder({ dimensions: 64 });

/**
 * A sandbox for one check: a connector of its own in the suite's database, and a helper that runs
 * the real pipeline with the suite's embedder against it.
 */
export class Harness {
  private constructor(
    private readonly options: TestConnectorOptions,
    readonly source: ConformanceSource,
    readonly store: ConformanceStore,
  ) {}

  static async create(context: CheckContext, source: ConformanceSource): Promise<Harness> {
    const store = await context.database.createStore(connectorOf(context.options).type);
    return new Harness(context.options, source, store);
  }

  get repository(): KnowledgeRepository {
    return this.store.repository;
  }

  get connectorId(): string {
    return this.store.connectorId;
  }

  /** Lets the next run take over any lease a crashed run left behind. */
  expireLeases(): Promise<void> {
    return this.store.expireLeases();
  }

  async sync(
    options: { mode?: SyncMode; repository?: KnowledgeRepository; connector?: AnyConnector } = {},
  ): Promise<ConformanceRun> {
    const explicitDeletes = new Set<string>();
    let checkpoints = 0;
    const connector = watchDeletes(options.connector ?? connectorOf(this.options), explicitDeletes);
    const summary = await runSync({
      leaseSeconds: LEASE_SECONDS,
      ...this.options.sync,
      connector,
      config: this.source.config,
      credentials: this.source.credentials,
      connectorId: this.connectorId,
      repository: options.repository ?? this.repository,
      embedder: suiteEmbedder(this.options),
      mode: options.mode,
      fetch: this.source.fetch,
      onProgress: (event: SyncProgressEvent) => {
        if (event.type === 'checkpoint') checkpoints += 1;
      },
    });
    return { summary, ...(await this.snapshot()), explicitDeletes, checkpoints };
  }

  async snapshot(): Promise<Pick<ConformanceRun, 'live' | 'deleted'>> {
    const documents = await this.store.listDocuments();
    return {
      live: documents.filter((document) => !document.isDeleted).map(comparable),
      deleted: documents.filter((document) => document.isDeleted).map((document) => document.externalId),
    };
  }
}

function comparable(document: StoredDocument): ConformanceDocument {
  return {
    externalId: document.externalId,
    title: document.title,
    contentHash: document.contentHash,
    processingStatus: document.processingStatus,
    chunkCount: document.chunkCount,
  };
}

export function connectorOf(options: TestConnectorOptions): AnyConnector {
  return typeof options.connector === 'function' ? options.connector() : options.connector;
}

/** The same connector, recording the external ids of the `delete` changes it yields. */
function watchDeletes(connector: AnyConnector, into: Set<string>): AnyConnector {
  return {
    ...connector,
    async *sync(ctx): AsyncIterable<ConnectorChange> {
      for await (const change of connector.sync(ctx)) {
        if (change.kind === 'delete') into.add(change.externalId);
        yield change;
      }
    },
  };
}

/** The process "dies" at a point: every repository call from then on fails. */
export class SimulatedCrash extends Error {
  constructor(point: string) {
    super(`simulated crash ${point}`);
    this.name = 'SimulatedCrash';
  }
}

export type CrashPoint =
  | { readonly after: 'checkpoint'; readonly n: number }
  | { readonly after: 'upsertDocuments' | 'replaceChunks'; readonly n: number };

/**
 * The repository as seen by a process that crashes: calls go through until the crash point has
 * passed (the n-th call of the named method resolved), then every call throws `SimulatedCrash`.
 */
export function crashingRepository(repository: KnowledgeRepository, point: CrashPoint): KnowledgeRepository {
  let calls = 0;
  let crashed = false;
  const method = point.after === 'checkpoint' ? 'commitCheckpoint' : point.after;
  return new Proxy(repository, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (crashed) throw new SimulatedCrash(`after ${point.after} #${point.n}`);
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (property === method) {
          calls += 1;
          if (calls === point.n) crashed = true;
        }
        return result;
      };
    },
  });
}

export function byId(documents: readonly ConformanceDocument[]): Record<string, ConformanceDocument> {
  return Object.fromEntries(documents.map((document) => [document.externalId, document]));
}

export function describeSummary(summary: SyncSummary): string {
  const errors = summary.errors
    .slice(0, 3)
    .map((error) => `${error.externalId}: ${error.message}`)
    .join('; ');
  return `status ${summary.status}${summary.error ? ` (${summary.error})` : ''}${errors ? `; errors: ${errors}` : ''}`;
}

export async function withSource<T>(
  context: CheckContext,
  body: (harness: Harness) => Promise<T>,
): Promise<T> {
  const source = await context.options.source();
  try {
    return await body(await Harness.create(context, source));
  } finally {
    await source.close?.();
  }
}

/** A first full sync that must store at least `MIN_DOCUMENTS` documents, all processed. */
export async function initialSync(harness: Harness): Promise<ConformanceRun> {
  const run = await harness.sync({ mode: 'full' });
  expect(run.summary.status, `the first full sync must succeed: ${describeSummary(run.summary)}`).toBe(
    'success',
  );
  expect(
    run.live.length,
    `the source must hold at least ${MIN_DOCUMENTS} documents for the suite to mean anything`,
  ).toBeGreaterThanOrEqual(MIN_DOCUMENTS);
  return run;
}
