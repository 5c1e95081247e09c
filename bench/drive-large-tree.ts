// How fast does the Google Drive connector list a large folder tree into a real database? The real
// connector against the fake Drive server of the connector's tests, through `runSync` into the
// Postgres repository on PGlite and on the real PostgreSQL server (and core's in-memory repository:
// the floor, what the fake server and the Google client cost alone).
//
// - Tree: one configured folder > BENCH_TREE_AREAS (default 20) areas > 100 teams each (2,021
//   folders by default), one small text file in every 40th team. Real-length (33-character) ids.
// - Variants, each a full sync of a fresh connector row: `before` = a checkpoint after every
//   listed folder (`checkpointEveryFolders: 1`, the cadence before 0.x: every checkpoint is a
//   transaction committing the cursor and the folder's state rows); `after` = the defaults (a
//   checkpoint every 100 folders or 5 s, state writes bounded at 20,000 rows per checkpoint).
// - Printed: wall time, folders listed per second, checkpoints committed, files.list calls.
//
// Run: pnpm --filter @tributary/bench drive-tree   (after building the workspace packages)
//      BENCH_TREE_AREAS=200 BENCH_TREE_BACKENDS=pglite,postgres pnpm --filter @tributary/bench drive-tree
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import {
  createGoogleDriveConnector,
  type GoogleDriveConnectorSettings,
} from '@tributary/connector-google-drive';
import { createLexicalEmbedder, type KnowledgeRepository, runSync } from '@tributary/core';
import { createPgliteRepository } from '@tributary/core/pglite';
import { createNodePostgresRepository } from '@tributary/core/postgres';
import { createMemoryRepository } from '@tributary/core/testing';
import { fromPg, fromPglite, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import type { startFakeDrive as StartFakeDrive } from '../packages/connector-google-drive/test/support/fake-drive-server.ts';

const AREAS = Number(process.env.BENCH_TREE_AREAS ?? 20);
const TEAMS = 100;
const BACKENDS = (process.env.BENCH_TREE_BACKENDS ?? 'memory,pglite,postgres').split(',');
const DIMENSIONS = 16;

const fakeModule = new URL(
  '../packages/connector-google-drive/test/support/fake-drive-server.ts',
  import.meta.url,
);
const { startFakeDrive } = (await import(fakeModule.href)) as { startFakeDrive: typeof StartFakeDrive };

const fake = await startFakeDrive();
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const clientEmail = 'bench@tributary-bench.iam.gserviceaccount.com';
fake.addServiceAccount(clientEmail, keys.publicKey);
const credentials = { type: 'service_account', clientEmail, privateKey: keys.privateKey };

let nextId = 0;
const driveId = () => `1${(nextId++).toString(36).padStart(7, '0')}Qx-Zy_AbCdEfGhIjKlMnOpQrS`;

/** A fresh tree per run (so every run lists the same amount, none reuses stored documents). */
function buildTree(): { root: string; folders: number } {
  const first = nextId;
  const root = fake.addFolder('Company', fake.rootFolderId, { id: driveId() });
  for (let area = 0; area < AREAS; area++) {
    const areaId = fake.addFolder(`Area ${area}`, root, { id: driveId() });
    for (let team = 0; team < TEAMS; team++) {
      const teamId = fake.addFolder(`Team ${team}`, areaId, { id: driveId() });
      if (team % 40 === 0)
        fake.addFile({ name: `plan-${area}-${team}.txt`, parent: teamId, content: `Plan ${area} ${team}` });
    }
  }
  return { root, folders: nextId - first };
}

interface Backend {
  name: string;
  repository: KnowledgeRepository;
  newConnector(): Promise<string>;
  close(): Promise<void>;
}

const ORG_ID = '00000000-0000-4000-8000-0000000d71ee';
const insertConnector = `insert into public.connector_configs (org_id, connector_type, name)
  values ($1, 'google_drive', 'Bench ' || gen_random_uuid()) returning id`;

async function openMemory(): Promise<Backend> {
  const repository = createMemoryRepository();
  return {
    name: 'memory',
    repository,
    newConnector: async () =>
      repository.addConnector({ orgId: randomUUID(), connectorType: 'google_drive' }).id,
    close: async () => undefined,
  };
}

async function openPglite(): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-pglite-'));
  const pglite = await PGlite.create({ dataDir: dir, extensions: { vector } });
  await migrate(fromPglite(pglite), { vector: { dimensions: DIMENSIONS } });
  return {
    name: 'pglite',
    repository: createPgliteRepository(pglite),
    async newConnector() {
      const { rows } = await pglite.query<{ id: string }>(insertConnector, [ORG_ID]);
      return rows[0]?.id as string;
    },
    async close() {
      await pglite.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function openPostgres(): Promise<Backend> {
  const server = await startPostgresServer();
  try {
    const database = await server.createDatabase({ name: 'tributary_bench_drive_tree' });
    const pool = server.pool(database, { max: 6 });
    await migrate(fromPg(pool), { vector: { dimensions: DIMENSIONS } });
    return {
      name: 'postgres',
      repository: createNodePostgresRepository(pool),
      async newConnector() {
        const { rows } = await pool.query<{ id: string }>(insertConnector, [ORG_ID]);
        return rows[0]?.id as string;
      },
      close: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

const variants: { name: string; settings: GoogleDriveConnectorSettings }[] = [
  { name: 'before (checkpoint per folder)', settings: { checkpointEveryFolders: 1 } },
  { name: 'after (defaults: 100 folders / 5 s)', settings: {} },
];

console.log(
  `Drive large tree: ${AREAS * TEAMS + AREAS + 1} folders per run (${AREAS} areas x ${TEAMS} teams), ` +
    `load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}\n`,
);
for (const backendName of BACKENDS) {
  const open = { memory: openMemory, pglite: openPglite, postgres: openPostgres }[backendName];
  if (!open) throw new Error(`unknown backend ${backendName} (memory, pglite or postgres)`);
  const backend = await open();
  try {
    for (const variant of variants) {
      const tree = buildTree();
      const connectorId = await backend.newConnector();
      let checkpoints = 0;
      fake.resetCalls();
      const connector = createGoogleDriveConnector({
        rootUrl: fake.url,
        sheetsRootUrl: fake.url,
        tokenUrl: fake.tokenUrl,
        pageSize: 1000,
        rateLimit: { requestsPerSecond: 100_000, burst: 100_000 },
        ...variant.settings,
      });
      const started = performance.now();
      const summary = await runSync({
        connector,
        config: { folderIds: [tree.root], includePermissions: false },
        credentials,
        connectorId,
        repository: backend.repository,
        embedder: createLexicalEmbedder({ dimensions: DIMENSIONS }),
        groupSize: 500,
        onProgress: (event) => {
          if (event.type === 'checkpoint') checkpoints += 1;
        },
      });
      const seconds = (performance.now() - started) / 1000;
      if (summary.status !== 'success') throw new Error(`${backend.name} ${variant.name}: ${summary.error}`);
      console.log(
        `${backend.name.padEnd(9)} ${variant.name.padEnd(36)} ${seconds.toFixed(1).padStart(6)} s ` +
          `${(tree.folders / seconds).toFixed(0).padStart(5)} folders/s  checkpoints ${String(checkpoints).padStart(5)}  ` +
          `files.list ${fake.callCount('files.list')}  inserted ${summary.counts.inserted}`,
      );
    }
  } finally {
    await backend.close();
  }
}
console.log(
  `\nload average at the end ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
);
await fake.close();
