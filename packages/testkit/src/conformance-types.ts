import type { ConnectorV1, RunSyncOptions, SyncSummary } from '@tributary/core';
import type { ConformanceDatabaseOption } from './conformance-database.js';

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
  /**
   * Where the syncs are stored. Default `pglite`: every bundled migration applied, so the
   * database's own limits (JSON sizes, types, constraints) hold the connector to what a host's
   * database will. `memory` needs no PGlite. Or a factory returning a `ConformanceDatabase`.
   */
  readonly database?: ConformanceDatabaseOption | undefined;
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
export type AnyConnector = ConnectorV1<any, any>;
