// What does a Google Drive sync cost in API calls and time? The real connector (@googleapis/drive
// and google-auth-library) against the fake Drive server of the connector's tests, through
// `runSync` into the in-memory repository with the offline lexical embedder.
//
// - Source: BENCH_DRIVE_FILES (default 5,000) files in 50 folders under one configured folder:
//   90% small text files, 10% Google Docs (exported as Markdown). Listing pages of 1,000.
// - Phases: (1) initial full sync, (2) full re-sync with nothing changed (lists, downloads nothing),
//   (3) incremental sync after 50 changes (30 edits, 10 renames, 5 trashed, 5 moved out of scope),
//   (4) incremental sync with nothing changed. Each prints wall time, the API calls the fake server
//   received by operation, and the pipeline's counts. The incremental syncs must be O(changes).
// - Request budget: BENCH_DRIVE_RPS (default 10,000 requests/s, i.e. out of the way; the
//   connector's default budget is 50/s, under which the initial sync takes at least calls/50 s).
//
// Run: pnpm --filter @tributary/bench drive   (after building the workspace packages)
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createGoogleDriveConnector } from '@tributary/connector-google-drive';
import { createConnectorInstance, createLexicalEmbedder, runSync } from '@tributary/core';
import { createMemoryRepository } from '@tributary/core/testing';
import type {
  FakeDrive,
  startFakeDrive as StartFakeDrive,
} from '../packages/connector-google-drive/test/support/fake-drive-server.ts';

const FILES = Number(process.env.BENCH_DRIVE_FILES ?? 5000);
const RPS = Number(process.env.BENCH_DRIVE_RPS ?? 10_000);
const FOLDERS = 50;
const DOC = 'application/vnd.google-apps.document';

// A .ts module loaded by URL: the bench runs with --experimental-strip-types, and the fake server
// lives with the connector's tests.
const fakeModule = new URL(
  '../packages/connector-google-drive/test/support/fake-drive-server.ts',
  import.meta.url,
);
const { startFakeDrive } = (await import(fakeModule.href)) as { startFakeDrive: typeof StartFakeDrive };

function words(seed: number, count: number): string {
  const vocabulary = [
    'tide',
    'harbour',
    'ledger',
    'sprint',
    'rocket',
    'invoice',
    'meeting',
    'design',
    'query',
    'river',
  ];
  const out: string[] = [];
  for (let index = 0; index < count; index++)
    out.push(vocabulary[(seed * 7 + index * 13) % vocabulary.length] as string);
  return out.join(' ');
}

function callsTable(fake: FakeDrive): string {
  const entries = [...fake.calls.entries()]
    .filter(([name]) => name !== 'api')
    .sort(([a], [b]) => a.localeCompare(b));
  return entries.map(([name, count]) => `${name}=${count}`).join(' ');
}

const fake: FakeDrive = await startFakeDrive();
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const clientEmail = 'bench@tributary-bench.iam.gserviceaccount.com';
fake.addServiceAccount(clientEmail, keys.publicKey);
const credentials = { type: 'service_account', clientEmail, privateKey: keys.privateKey };

const root = fake.addFolder('Bench', fake.rootFolderId);
const folders: string[] = [];
for (let index = 0; index < FOLDERS; index++) folders.push(fake.addFolder(`Folder ${index}`, root));
const files: string[] = [];
for (let index = 0; index < FILES; index++) {
  const parent = folders[index % FOLDERS] as string;
  if (index % 10 === 9) {
    files.push(
      fake.addFile({
        name: `Doc ${index}`,
        mimeType: DOC,
        parent,
        content: `# Doc ${index}\n\n${words(index, 120)}`,
      }),
    );
  } else {
    files.push(
      fake.addFile({ name: `note-${index}.txt`, parent, content: `Note ${index}. ${words(index, 80)}` }),
    );
  }
}

const connector = createGoogleDriveConnector({
  rootUrl: fake.url,
  sheetsRootUrl: fake.url,
  tokenUrl: fake.tokenUrl,
  rateLimit: { requestsPerSecond: RPS, burst: RPS },
});
const config = { folderIds: [root] };
await createConnectorInstance(connector, { config, credentials }).check();

const repository = createMemoryRepository();
const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'google_drive' }).id;
const embedder = createLexicalEmbedder({ dimensions: 256 });

async function phase(name: string, mode: 'full' | 'incremental' | undefined) {
  fake.resetCalls();
  const started = performance.now();
  const summary = await runSync({ connector, config, credentials, connectorId, repository, embedder, mode });
  const wallMs = performance.now() - started;
  const c = summary.counts;
  console.log(
    `${name.padEnd(34)} ${summary.mode.padEnd(11)} ${summary.status.padEnd(8)} ` +
      `${(wallMs / 1000).toFixed(2).padStart(7)} s  api calls ${String(fake.callCount('api')).padStart(5)} ` +
      `(connector counted ${summary.apiCalls})  seen ${c.seen} inserted ${c.inserted} updated ${c.updated} ` +
      `unchanged ${c.unchanged} skipped ${c.skippedByVersion} deleted ${c.deleted} failed ${c.failed}`,
  );
  console.log(`${''.padEnd(34)} ${callsTable(fake)}`);
  return summary;
}

console.log(`Google Drive connector bench: ${FILES} files in ${FOLDERS} folders, budget ${RPS} requests/s\n`);
await phase('1. initial full sync', 'full');
await phase('2. full re-sync, nothing changed', 'full');

// 50 changes.
for (let index = 0; index < 30; index++)
  fake.updateContent(files[index * 97] as string, `Edited ${index}. ${words(index + 1, 60)}`);
for (let index = 0; index < 10; index++)
  fake.rename(files[index * 131 + 5] as string, `renamed-${index}.txt`);
for (let index = 0; index < 5; index++) fake.trash(files[index * 173 + 11] as string);
for (let index = 0; index < 5; index++) fake.move(files[index * 211 + 13] as string, fake.rootFolderId);
await phase('3. incremental after 50 changes', 'incremental');
await phase('4. incremental, nothing changed', 'incremental');

await fake.close();
