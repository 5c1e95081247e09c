import { randomUUID } from 'node:crypto';
import type { KnowledgeRepository } from '@tributary/core';

/** One stored document as the suite reads it back after a run. */
export interface StoredDocument {
  readonly externalId: string;
  readonly title: string | null;
  readonly contentHash: string | null;
  readonly processingStatus: string;
  readonly isDeleted: boolean;
  readonly chunkCount: number;
}

/**
 * One connector row for one sandboxed run of a check: the repository the pipeline writes through,
 * and what the suite needs to read back and to play a crashed process's aftermath.
 */
export interface ConformanceStore {
  readonly repository: KnowledgeRepository;
  readonly connectorId: string;
  /** Every document of the connector, live and soft-deleted. */
  listDocuments(): Promise<StoredDocument[]>;
  /** Makes any lease a crashed run left behind expire now, as time passing would. */
  expireLeases(): Promise<void>;
}

/** Where the suite stores what it syncs: one database per `testConnector` call. */
export interface ConformanceDatabase {
  /** A fresh connector of `connectorType` in an organisation of its own. */
  createStore(connectorType: string): Promise<ConformanceStore>;
  close(): Promise<void>;
}

/**
 * `pglite` (the default): the Postgres adapter on PGlite with every bundled migration applied, so
 * the database's own checks (sizes, types, JSON caps, RLS-safe functions) hold the connector to
 * what a host's database will. `postgres`: the machine's PostgreSQL server with pgvector (see
 * `startPostgresServer`), migrated the same way, through the node-postgres adapter. `memory`:
 * core's in-memory repository (no PGlite needed; it keeps the Postgres semantics the repository
 * contract suite checks, but not every database limit). Or a factory of your own.
 */
export type ConformanceDatabaseOption =
  | 'pglite'
  | 'postgres'
  | 'memory'
  | (() => Promise<ConformanceDatabase>);

export interface DatabaseSettings {
  /** Vector size the database must accept: the embedder's. */
  readonly dimensions: number;
  /** Lease length the suite's syncs use. */
  readonly leaseSeconds: number;
}

export async function openConformanceDatabase(
  option: ConformanceDatabaseOption | undefined,
  settings: DatabaseSettings,
): Promise<ConformanceDatabase> {
  if (typeof option === 'function') return option();
  if (option === 'memory') {
    const { createMemoryConformanceDatabase } = await import('./memory-conformance-database.js');
    return createMemoryConformanceDatabase(settings);
  }
  if (option === 'postgres') {
    const { createPostgresConformanceDatabase } = await import('./postgres-conformance-database.js');
    return createPostgresConformanceDatabase(settings);
  }
  const { createPgliteConformanceDatabase } = await import('./pglite-conformance-database.js');
  return createPgliteConformanceDatabase(settings);
}

export function newOrgId(): string {
  return randomUUID();
}
