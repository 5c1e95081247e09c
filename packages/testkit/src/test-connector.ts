import {
  type ConnectorChange,
  type ConnectorV1,
  createConnectorInstance,
  createLexicalEmbedder,
  InvalidConfigError,
  type KnowledgeRepository,
  type RunSyncOptions,
  runSync,
  type SyncMode,
  type SyncProgressEvent,
  type SyncSummary,
} from '@tributary/core';
import {
  createMemoryRepository,
  type MemoryDocumentSnapshot,
  type MemoryKnowledgeRepository,
} from '@tributary/core/testing';
import { describe, expect, it } from 'vitest';

/**
 * A source the suite can change between syncs. `testConnector` asks for a fresh one for every
 * test (a temporary folder, a fake API server seeded with documents) and closes it afterwards.
 */
export interface ConformanceSource {
  /** Raw config for the connector (validated by its `configSchema`). */
  readonly config: unknown;
  /** Raw credentials (validated by its `credentialsSchema`). */
  readonly credentials?: unknown;
  /** `fetch` for the connector's `ctx.http` (route it to a fake server). */
  readonly fetch?: typeof fetch | undefined;
  /**
   * Removes `count` documents from the source (deleted, trashed, 404...) and returns their
   * external ids. With `count` at least the number of documents, the source ends up empty.
   */
  remove(count: number): Promise<readonly string[]>;
  /** Changes the content of one document and returns its external id. */
  change(): Promise<string>;
  /**
   * The source answers its next `count` requests with `status` (429 with `Retry-After: 0`, or a
   * 5xx) before serving normally again. Leave it out when the source is not reached over HTTP: the
   * suite then has no rate-limit test for the connector.
   */
  failNextRequests?(count: number, status: 429 | 500 | 502 | 503): void;
  close?(): Promise<void>;
}

/** A config (and credentials) the connector must refuse, and the field the error must name. */
export interface InvalidConfigCase {
  readonly config: unknown;
  readonly credentials?: unknown;
  /** Path of the offending field as `InvalidConfigError.issues` names it: `path`, `folders[0].id`. */
  readonly field: string;
  /** Test title; default: the field. */
  readonly title?: string | undefined;
}

export interface TestConnectorOptions {
  /** Shown in test titles; default the connector's type. */
  readonly name?: string | undefined;
  /** The connector, or a factory (called once per sync, as a host process would). */
  readonly connector: AnyConnector | (() => AnyConnector);
  /** A fresh source for each test, seeded with at least 8 documents. */
  readonly source: () => Promise<ConformanceSource>;
  /** At least one: a connector without a config to refuse is rare, and the suite says so. */
  readonly invalidConfigs: readonly InvalidConfigCase[];
  /**
   * Extra `runSync` options for every sync the suite runs (extractors for your content types,
   * a smaller `groupSize`...). The suite owns `connector`, `config`, `credentials`, `connectorId`,
   * `repository`, `embedder`, `mode`, `onProgress` and `fetch`.
   */
  readonly sync?: Partial<
    Omit<
      RunSyncOptions,
      'connector' | 'config' | 'credentials' | 'connectorId' | 'repository' | 'mode' | 'onProgress' | 'fetch'
    >
  >;
  /**
   * `false` only for a source not reached over HTTP (a local folder): the suite then leaves out
   * "survives rate limits and server errors". Otherwise the source must implement
   * `failNextRequests`. Default `true`.
   */
  readonly httpFaults?: boolean | undefined;
  /** Crash points tried by the resume test (spread evenly over the checkpoints). Default 12. */
  readonly maxCrashPoints?: number | undefined;
  /** Per-test timeout in milliseconds. Default 120 000. */
  readonly timeoutMs?: number | undefined;
}

/** One stored document as the suite compares it between runs. */
export interface ConformanceDocument {
  readonly externalId: string;
  readonly title: string | null;
  readonly contentHash: string | null;
  readonly processingStatus: string;
  readonly chunkCount: number;
}

/** What a sync left behind, and what the connector yielded on the way. */
export interface ConformanceRun {
  readonly summary: SyncSummary;
  /** Live documents after the run, by external id. */
  readonly live: readonly ConformanceDocument[];
  /** Soft-deleted documents after the run. */
  readonly deleted: readonly string[];
  /** External ids the connector yielded `delete` changes for during the run. */
  readonly explicitDeletes: ReadonlySet<string>;
  /** Checkpoints the pipeline committed. */
  readonly checkpoints: number;
}

/** The checks `testConnector` registers, each runnable on its own. */
export type ConformanceCheckName =
  | 'refuses invalid config'
  | 'accepts the source config'
  | 'syncs every document'
  | 're-run is deterministic'
  | 'unchanged re-sync stores and embeds nothing'
  | 'changes flow through'
  | 'deletes flow through'
  | 'resumes from every checkpoint'
  | 'survives rate limits and server errors'
  | 'shrunken listing does not wipe data'
  | 'empty listing does not wipe data';

// biome-ignore lint/suspicious/noExplicitAny: any connector, whatever its config and credentials types.
type AnyConnector = ConnectorV1<any, any>;

const CONNECTOR_ID = '00000000-0000-4000-8000-00000000c0de';
const ORG_ID = '00000000-0000-4000-8000-0000000000a1';
const LEASE_SECONDS = 60;
const MIN_DOCUMENTS = 8;

/**
 * A sandbox for one check: an in-memory repository (with the Postgres adapter's semantics, held
 * to them by core's repository contract suite) whose clock the suite can move past a lease, and a
 * helper that runs the real pipeline with the lexical embedder.
 */
class Harness {
  private offsetMs = 0;
  readonly repository: MemoryKnowledgeRepository;

  constructor(
    private readonly options: TestConnectorOptions,
    readonly source: ConformanceSource,
  ) {
    this.repository = createMemoryRepository({ now: () => Date.now() + this.offsetMs });
    this.repository.addConnector({
      id: CONNECTOR_ID,
      orgId: ORG_ID,
      connectorType: connectorOf(options).type,
    });
  }

  /** Moves the repository's clock past any lease a crashed run left behind. */
  expireLeases(): void {
    this.offsetMs += (LEASE_SECONDS + 1) * 1000;
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
      connectorId: CONNECTOR_ID,
      repository: options.repository ?? this.repository,
      embedder: this.options.sync?.embedder ?? createLexicalEmbedder({ dimensions: 64 }),
      mode: options.mode,
      fetch: this.source.fetch,
      onProgress: (event: SyncProgressEvent) => {
        if (event.type === 'checkpoint') checkpoints += 1;
      },
    });
    return { summary, ...this.snapshot(), explicitDeletes, checkpoints };
  }

  snapshot(): Pick<ConformanceRun, 'live' | 'deleted'> {
    const documents = this.repository.listDocuments(CONNECTOR_ID);
    return {
      live: documents.filter((document) => !document.isDeleted).map(comparable),
      deleted: documents.filter((document) => document.isDeleted).map((document) => document.externalId),
    };
  }
}

function comparable(document: MemoryDocumentSnapshot): ConformanceDocument {
  return {
    externalId: document.externalId,
    title: document.title,
    contentHash: document.contentHash,
    processingStatus: document.processingStatus,
    chunkCount: document.chunkCount,
  };
}

function connectorOf(options: TestConnectorOptions): AnyConnector {
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
class SimulatedCrash extends Error {
  constructor(point: string) {
    super(`simulated crash ${point}`);
    this.name = 'SimulatedCrash';
  }
}

type CrashPoint =
  | { readonly after: 'checkpoint'; readonly n: number }
  | { readonly after: 'upsertDocuments' | 'replaceChunks'; readonly n: number };

/**
 * The repository as seen by a process that crashes: calls go through until the crash point has
 * passed (the n-th call of the named method resolved), then every call throws `SimulatedCrash`.
 */
function crashingRepository(repository: KnowledgeRepository, point: CrashPoint): KnowledgeRepository {
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

function byId(documents: readonly ConformanceDocument[]): Record<string, ConformanceDocument> {
  return Object.fromEntries(documents.map((document) => [document.externalId, document]));
}

function describeSummary(summary: SyncSummary): string {
  const errors = summary.errors
    .slice(0, 3)
    .map((error) => `${error.externalId}: ${error.message}`)
    .join('; ');
  return `status ${summary.status}${summary.error ? ` (${summary.error})` : ''}${errors ? `; errors: ${errors}` : ''}`;
}

async function withSource<T>(
  options: TestConnectorOptions,
  body: (harness: Harness) => Promise<T>,
): Promise<T> {
  const source = await options.source();
  try {
    return await body(new Harness(options, source));
  } finally {
    await source.close?.();
  }
}

/** A first full sync that must store at least `MIN_DOCUMENTS` documents, all processed. */
async function initialSync(harness: Harness): Promise<ConformanceRun> {
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

type Check = (options: TestConnectorOptions) => Promise<void>;

const checks: Record<ConformanceCheckName, Check> = {
  async 'refuses invalid config'(options) {
    expect(options.invalidConfigs.length, 'give at least one invalid config').toBeGreaterThan(0);
    for (const invalid of options.invalidConfigs) {
      let thrown: unknown;
      try {
        createConnectorInstance(connectorOf(options), {
          config: invalid.config,
          credentials: invalid.credentials,
        });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, `config ${JSON.stringify(invalid.config)} must be refused`).toBeInstanceOf(
        InvalidConfigError,
      );
      const error = thrown as InvalidConfigError;
      const fields = error.issues.map((issue) => issue.fieldPath);
      expect(fields, `the error must name "${invalid.field}" (got: ${error.message})`).toContain(
        invalid.field,
      );
      expect(error.message).toContain(invalid.field);
    }
    // And a run with a bad config fails cleanly, storing nothing.
    await withSource(options, async (harness) => {
      const invalid = options.invalidConfigs[0] as InvalidConfigCase;
      const summary = await runSync({
        ...options.sync,
        connector: connectorOf(options),
        config: invalid.config,
        credentials: invalid.credentials ?? harness.source.credentials,
        connectorId: CONNECTOR_ID,
        repository: harness.repository,
        embedder: createLexicalEmbedder({ dimensions: 64 }),
        fetch: harness.source.fetch,
      });
      expect(summary.status).toBe('failed');
      expect(summary.error).toContain(invalid.field);
      expect(harness.repository.listDocuments(CONNECTOR_ID)).toEqual([]);
    });
  },

  async 'accepts the source config'(options) {
    await withSource(options, async (harness) => {
      const instance = createConnectorInstance(connectorOf(options), {
        config: harness.source.config,
        credentials: harness.source.credentials,
      });
      await expect(instance.check({ fetch: harness.source.fetch })).resolves.toBeUndefined();
    });
  },

  async 'syncs every document'(options) {
    await withSource(options, async (harness) => {
      const run = await initialSync(harness);
      for (const document of run.live) {
        expect(document.processingStatus, `${document.externalId} must be processed`).toBe('completed');
        expect(document.contentHash, `${document.externalId} must have a content hash`).toMatch(
          /^[0-9a-f]{64}$/,
        );
      }
      expect(run.summary.counts.inserted).toBe(run.live.length);
      expect(run.summary.counts.failed).toBe(0);
      expect(run.deleted).toEqual([]);
    });
  },

  async 're-run is deterministic'(options) {
    await withSource(options, async (harness) => {
      const first = await initialSync(harness);
      const other = new Harness(options, harness.source);
      const second = await other.sync({ mode: 'full' });
      expect(second.summary.status).toBe('success');
      expect(byId(second.live), 'two syncs of the same source must store the same documents').toEqual(
        byId(first.live),
      );
    });
  },

  async 'unchanged re-sync stores and embeds nothing'(options) {
    await withSource(options, async (harness) => {
      const first = await initialSync(harness);
      for (const mode of ['full', undefined] as const) {
        const again = await harness.sync({ mode });
        expect(again.summary.status, describeSummary(again.summary)).toBe('success');
        expect(again.summary.counts.inserted, `${mode ?? 'default'} re-sync inserted documents`).toBe(0);
        expect(again.summary.counts.updated, `${mode ?? 'default'} re-sync changed documents`).toBe(0);
        expect(again.summary.counts.deleted).toBe(0);
        expect(again.summary.embeddings.requests, 'nothing may be embedded again').toBe(0);
        expect(byId(again.live)).toEqual(byId(first.live));
      }
    });
  },

  async 'changes flow through'(options) {
    await withSource(options, async (harness) => {
      const first = await initialSync(harness);
      const changedId = await harness.source.change();
      const run = await harness.sync();
      expect(run.summary.status, describeSummary(run.summary)).toBe('success');
      const before = byId(first.live);
      const after = byId(run.live);
      expect(after[changedId], `changed document ${changedId} must still be live`).toBeDefined();
      expect(after[changedId]?.contentHash, `${changedId} must have its new content`).not.toBe(
        before[changedId]?.contentHash,
      );
      for (const [externalId, document] of Object.entries(before)) {
        if (externalId !== changedId)
          expect(after[externalId], `${externalId} must not change`).toEqual(document);
      }
      expect(run.summary.counts.updated).toBe(1);
      expect(run.summary.counts.inserted).toBe(0);
    });
  },

  async 'deletes flow through'(options) {
    await withSource(options, async (harness) => {
      const first = await initialSync(harness);
      const [removedId] = await harness.source.remove(1);
      expect(removedId, 'remove(1) must return the removed external id').toBeTypeOf('string');
      // The host's next sync: incremental where the connector can, full (with the sweep) otherwise.
      const run = await harness.sync();
      expect(run.summary.status, describeSummary(run.summary)).toBe('success');
      expect(run.deleted, `${removedId} must be soft-deleted`).toContain(removedId);
      expect(run.live.map((document) => document.externalId)).not.toContain(removedId);
      expect(byId(run.live)).toEqual(
        Object.fromEntries(
          Object.entries(byId(first.live)).filter(([externalId]) => externalId !== removedId),
        ),
      );
      expect(run.summary.counts.deleted).toBe(1);
    });
  },

  async 'resumes from every checkpoint'(options) {
    await withSource(options, async (harness) => {
      const reference = await initialSync(harness);
      expect(
        reference.checkpoints,
        'the connector must yield at least 2 checkpoints over the source (configure a small page or checkpoint size)',
      ).toBeGreaterThanOrEqual(2);
      const points: CrashPoint[] = [
        { after: 'upsertDocuments', n: 1 },
        { after: 'replaceChunks', n: 1 },
        ...spread(reference.checkpoints, options.maxCrashPoints ?? 12).map((n) => ({
          after: 'checkpoint' as const,
          n,
        })),
      ];
      for (const point of points) {
        const crashed = new Harness(options, harness.source);
        // The crashing run: whatever it reports (or throws) is what a dead process leaves behind.
        await crashed
          .sync({ mode: 'full', repository: crashingRepository(crashed.repository, point) })
          .catch((error: unknown) => {
            if (!(error instanceof SimulatedCrash)) throw error;
          });
        crashed.expireLeases();
        const resumed = await crashed.sync();
        const label = `crash after ${point.after} #${point.n}`;
        expect(
          resumed.summary.status,
          `${label}: the resumed sync: ${describeSummary(resumed.summary)}`,
        ).toBe('success');
        expect(byId(resumed.live), `${label}: the resumed sync must reach the same documents`).toEqual(
          byId(reference.live),
        );
        expect(resumed.deleted, `${label}: nothing may be deleted`).toEqual([]);
      }
    });
  },

  async 'survives rate limits and server errors'(options) {
    await withSource(options, async (harness) => {
      const reference = await initialSync(harness);
      const fail = harness.source.failNextRequests?.bind(harness.source);
      expect(
        fail,
        'the source has no failNextRequests: implement it, or pass httpFaults: false for a source not reached over HTTP',
      ).toBeTypeOf('function');
      const other = new Harness(options, harness.source);
      fail?.(2, 429);
      const afterRateLimit = await other.sync({ mode: 'full' });
      expect(afterRateLimit.summary.status, `after 429s: ${describeSummary(afterRateLimit.summary)}`).toBe(
        'success',
      );
      fail?.(1, 503);
      fail?.(1, 500);
      const afterServerErrors = await other.sync({ mode: 'full' });
      expect(
        afterServerErrors.summary.status,
        `after 5xx: ${describeSummary(afterServerErrors.summary)}`,
      ).toBe('success');
      expect(byId(afterServerErrors.live)).toEqual(byId(reference.live));
      expect(afterServerErrors.deleted).toEqual([]);
    });
  },

  async 'shrunken listing does not wipe data'(options) {
    await withSource(options, async (harness) => {
      const first = await initialSync(harness);
      const removed = await harness.source.remove(Math.ceil(first.live.length * 0.6));
      const run = await harness.sync({ mode: 'full' });
      expectGuardHeld(run, removed);
    });
  },

  async 'empty listing does not wipe data'(options) {
    await withSource(options, async (harness) => {
      const first = await initialSync(harness);
      const removed = await harness.source.remove(first.live.length);
      expect(removed.length).toBe(first.live.length);
      const run = await harness.sync({ mode: 'full' });
      expectGuardHeld(run, removed);
    });
  },
};

/**
 * After most of the source vanished from a full listing, the sweep must refuse; only documents
 * the connector itself reported deleted (a definitive 404, a trash event) may be gone.
 */
function expectGuardHeld(run: ConformanceRun, removed: readonly string[]): void {
  expect(
    run.summary.sweep?.swept ?? 0,
    'the sweep must not delete documents missing from a shrunken listing',
  ).toBe(0);
  const live = new Set(run.live.map((document) => document.externalId));
  for (const externalId of removed) {
    if (run.explicitDeletes.has(externalId)) continue;
    expect(live.has(externalId), `${externalId} was wiped without a delete from the connector`).toBe(true);
  }
  if (run.summary.sweep && run.summary.sweep.unseen !== null && run.summary.sweep.unseen > 0) {
    expect(run.summary.sweep.refused, 'the sweep must say it refused').toBe(true);
  }
}

/** Up to `max` numbers from 1..count, spread evenly, always including 1 and count. */
function spread(count: number, max: number): number[] {
  if (count <= max) return Array.from({ length: count }, (_, index) => index + 1);
  const picked = new Set<number>();
  for (let index = 0; index < max; index += 1) picked.add(1 + Math.round((index * (count - 1)) / (max - 1)));
  return [...picked];
}

/** The checks `testConnector` registers for these options (all, or all but the HTTP faults one). */
export function applicableChecks(options: Pick<TestConnectorOptions, 'httpFaults'>): ConformanceCheckName[] {
  return (Object.keys(checks) as ConformanceCheckName[]).filter(
    (name) => name !== 'survives rate limits and server errors' || options.httpFaults !== false,
  );
}

/** Runs one check outside `testConnector` (a rejected promise is a failed check). */
export async function runConformanceCheck(
  name: ConformanceCheckName,
  options: TestConnectorOptions,
): Promise<void> {
  const check = checks[name];
  if (!check) throw new TypeError(`[tributary] [testkit] unknown conformance check ${JSON.stringify(name)}`);
  await check(options);
}

/**
 * Registers the connector conformance suite with vitest: call it at the top level of a test file.
 * Every check runs the real pipeline (`runSync`) with the lexical embedder against core's
 * in-memory repository, on a fresh source from `options.source()`.
 *
 * @example
 * testConnector({
 *   connector: () => createFolderConnector({ checkpointEvery: 2 }),
 *   source: async () => createFolderSource(),   // your fixture
 *   invalidConfigs: [{ config: { path: 'relative/path' }, field: 'path' }],
 * });
 */
export function testConnector(options: TestConnectorOptions): void {
  const name = options.name ?? connectorOf(options).type;
  const timeout = options.timeoutMs ?? 120_000;
  describe(`${name}: connector conformance`, () => {
    for (const check of applicableChecks(options)) {
      it(check, () => runConformanceCheck(check, options), timeout);
    }
  });
}
