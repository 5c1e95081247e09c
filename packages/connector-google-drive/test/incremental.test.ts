// Incremental sync through the changes feed, and resume after a crash, with runSync into the
// in-memory repository: 1,000 files across nested folders and a shared drive.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DriveChangesCursor } from '../src/index.js';
import {
  collectChanges,
  type DriveHarness,
  deletes,
  lastCursor,
  pipeline,
  startDriveHarness,
  upserts,
} from './support/drive-harness.js';
import type { FakeDrive } from './support/fake-drive-server.js';

let harness: DriveHarness;
let fake: FakeDrive;
beforeEach(async () => {
  harness = await startDriveHarness();
  fake = harness.fake;
});
afterEach(() => harness.close());

interface Tree {
  projects: string;
  drive: string;
  folders: string[];
  files: string[];
  driveFiles: string[];
}

/** 800 files in Projects (5 folders x 4 subfolders x 40 files) and 200 in a shared drive. */
function buildTree(): Tree {
  const projects = fake.addFolder('Projects', fake.rootFolderId);
  const folders: string[] = [];
  const files: string[] = [];
  for (let a = 0; a < 5; a++) {
    const top = fake.addFolder(`Area ${a}`, projects);
    folders.push(top);
    for (let b = 0; b < 4; b++) {
      const sub = fake.addFolder(`Team ${b}`, top);
      folders.push(sub);
      for (let c = 0; c < 40; c++) {
        files.push(
          fake.addFile({
            name: `note-${a}-${b}-${c}.txt`,
            parent: sub,
            content: `Note ${a}.${b}.${c} about topic ${c % 7}`,
          }),
        );
      }
    }
  }
  const drive = fake.addSharedDrive('Shared Engineering');
  const driveFiles: string[] = [];
  for (let d = 0; d < 2; d++) {
    const folder = fake.addFolder(`Drive folder ${d}`, drive);
    for (let e = 0; e < 100; e++) {
      driveFiles.push(
        fake.addFile({
          name: `spec-${d}-${e}.md`,
          mimeType: 'text/markdown',
          parent: folder,
          content: `# Spec ${d}.${e}`,
        }),
      );
    }
  }
  fake.addFile({ name: 'outside.txt', parent: fake.rootFolderId, content: 'not in scope' });
  return { projects, drive, folders, files, driveFiles };
}

describe('incremental sync', () => {
  it('applies edits, renames, moves out of scope, trash, untrash and access loss; O(changes) calls', async () => {
    const tree = buildTree();
    const run = pipeline(
      harness,
      { folderIds: [tree.projects], sharedDrives: [tree.drive] },
      harness.serviceAccount,
    );
    const first = await run.sync();
    expect(first.status).toBe('success');
    expect(first.mode).toBe('full');
    expect(first.counts.inserted).toBe(1000);
    expect(run.live()).toHaveLength(1000);
    const stored = await run.repository.getConnector(run.connectorId);
    expect((stored?.syncCursor as unknown as DriveChangesCursor | undefined)?.phase).toBe('changes');

    const [edited1, edited2, renamed, movedOut, trashed, revoked, removed] = tree.files as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    fake.updateContent(edited1, 'Completely new text about rockets');
    fake.updateContent(edited2, 'Another rewrite about oceans');
    fake.rename(renamed, 'renamed-note.txt');
    fake.move(movedOut, fake.rootFolderId);
    fake.trash(trashed);
    fake.revokeAccess(revoked);
    fake.remove(removed);
    fake.updateContent(tree.driveFiles[0] as string, '# Spec changed');
    fake.addFile({ name: 'brand-new.txt', parent: tree.folders[3] as string, content: 'fresh' });
    fake.addFile({ name: 'ignored.txt', parent: fake.rootFolderId, content: 'outside again' });
    fake.resetCalls();

    const second = await run.sync();
    expect(second.status).toBe('success');
    expect(second.mode).toBe('incremental');
    expect(second.counts).toMatchObject({ inserted: 1, updated: 3, deleted: 4 });
    expect(run.live()).toHaveLength(1000 - 4 + 1);
    for (const gone of [movedOut, trashed, revoked, removed]) expect(run.live()).not.toContain(gone);
    const titles = run.repository
      .listDocuments(run.connectorId)
      .find((document) => document.externalId === renamed);
    expect(titles?.title).toBe('renamed-note.txt');
    // O(changes): one changes.list page, the changed files' downloads; no listing of 1,000 files.
    expect(fake.callCount('files.list')).toBe(0);
    expect(fake.callCount('changes.list')).toBe(1);
    expect(fake.callCount('api')).toBeLessThanOrEqual(1 + 6);

    fake.untrash(trashed);
    fake.move(movedOut, tree.folders[1] as string);
    fake.resetCalls();
    const third = await run.sync();
    expect(third.counts.inserted + third.counts.updated + third.counts.unchanged).toBe(2);
    expect(run.live()).toContain(trashed);
    expect(run.live()).toContain(movedOut);
    expect(run.live()).toHaveLength(999);

    // Nothing changed: one call.
    fake.resetCalls();
    const quiet = await run.sync();
    expect(quiet.counts.seen).toBe(0);
    expect(fake.callCount('api')).toBe(1);
  });

  it('a folder moved out of scope deletes everything below it; moved back, it all returns', async () => {
    const tree = buildTree();
    const run = pipeline(harness, { folderIds: [tree.projects] }, harness.serviceAccount);
    expect((await run.sync()).counts.inserted).toBe(800);
    const area = tree.folders[0] as string; // Area 0: 4 subfolders x 40 files
    fake.move(area, fake.rootFolderId);
    const out = await run.sync();
    expect(out.counts.deleted).toBe(160);
    expect(run.live()).toHaveLength(640);
    fake.move(area, tree.projects);
    fake.rename(tree.folders[1] as string, 'Renamed team');
    const back = await run.sync();
    expect(back.counts.deleted).toBe(0);
    expect(run.live()).toHaveLength(800);

    // The trashed folder's children are trashed with it.
    fake.trash(tree.folders[5] as string);
    const trashed = await run.sync();
    expect(trashed.counts.deleted).toBe(160);
    expect(run.live()).toHaveLength(640);
  });

  it('keeps paths current through folder renames and moves within scope', async () => {
    const root = fake.addFolder('Root', fake.rootFolderId);
    const sub = fake.addFolder('Sub', root);
    const other = fake.addFolder('Other', root);
    const file = fake.addFile({ name: 'file.txt', parent: sub, content: 'one' });
    const connector = harness.connector();
    const config = { folderIds: [root] };
    const full = await collectChanges(connector, { config, credentials: harness.serviceAccount });
    expect(upserts(full)[0]?.metadata?.path).toBe('Root/Sub/file.txt');
    fake.rename(sub, 'Renamed');
    fake.rename(root, 'Top');
    fake.updateContent(file, 'two');
    const first = await collectChanges(connector, {
      config,
      credentials: harness.serviceAccount,
      cursor: lastCursor(full),
      mode: 'incremental',
    });
    expect(upserts(first).map((document) => document.metadata?.path)).toEqual(['Top/Renamed/file.txt']);
    fake.move(sub, other);
    fake.updateContent(file, 'three');
    const second = await collectChanges(connector, {
      config,
      credentials: harness.serviceAccount,
      cursor: lastCursor(first),
      mode: 'incremental',
    });
    expect(upserts(second).map((document) => document.metadata?.path)).toEqual([
      'Top/Other/Renamed/file.txt',
    ]);
    expect(deletes(second)).toEqual([]);
  });

  it('persists newStartPageToken only at the end of a change list; intermediate checkpoints resume', async () => {
    const folder = fake.addFolder('F', fake.rootFolderId);
    const ids = Array.from({ length: 5 }, (_, index) =>
      fake.addFile({ name: `f${index}.txt`, parent: folder, content: `v1 ${index}` }),
    );
    const connector = harness.connector({ pageSize: 2 });
    const full = await collectChanges(connector, {
      config: { folderIds: [folder] },
      credentials: harness.serviceAccount,
    });
    const cursor = lastCursor(full) as unknown as DriveChangesCursor;
    for (const id of ids) fake.updateContent(id, `v2 ${id}`);
    const startToken = Number(cursor.pageToken);

    const changes = await collectChanges(connector, {
      config: { folderIds: [folder] },
      credentials: harness.serviceAccount,
      cursor: cursor as never,
      mode: 'incremental',
    });
    const checkpoints = changes.flatMap((change) =>
      change.kind === 'checkpoint' ? [(change.cursor as unknown as DriveChangesCursor).pageToken] : [],
    );
    // Pages of 2 changes: two nextPageTokens, then the new start token after the last page.
    expect(checkpoints).toEqual([String(startToken + 2), String(startToken + 4), String(startToken + 5)]);
    expect(upserts(changes)).toHaveLength(5);

    // Resuming from the middle checkpoint replays only the rest.
    const resumed = await collectChanges(connector, {
      config: { folderIds: [folder] },
      credentials: harness.serviceAccount,
      cursor: { ...cursor, pageToken: checkpoints[1] } as never,
      mode: 'incremental',
    });
    expect(upserts(resumed).map((document) => document.externalId)).toEqual([ids[4]]);
    expect(deletes(resumed)).toEqual([]);
  });

  it('resumes a full listing after a crash mid-listing without loss or duplicates', async () => {
    const tree = buildTree();
    const config = { folderIds: [tree.projects] };
    // A checkpoint after every page, so the crash comes mid-listing.
    const run = pipeline(harness, config, harness.serviceAccount, { pageSize: 25 });
    const connector = harness.connector({ pageSize: 25, checkpointEveryFolders: 1 });
    const controller = new AbortController();
    let checkpoints = 0;
    const { runSync, createLexicalEmbedder } = await import('@tributary/core');
    const crashed = await runSync({
      connector,
      config,
      credentials: harness.serviceAccount,
      connectorId: run.connectorId,
      repository: run.repository,
      embedder: createLexicalEmbedder({ dimensions: 64 }),
      signal: controller.signal,
      onProgress: (event) => {
        if (event.type === 'checkpoint' && ++checkpoints === 12) controller.abort();
      },
    });
    expect(crashed.status).toBe('cancelled');
    const before = run.live().length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(800);
    // A change while the worker was down: caught by the changes token taken before the listing.
    fake.updateContent(tree.files[0] as string, 'edited while the worker was down');

    fake.resetCalls();
    const resumed = await run.sync();
    expect(resumed.status).toBe('success');
    expect(resumed.mode).toBe('incremental');
    expect(run.live()).toHaveLength(800);
    // Only the rest was listed: the pages before the crash were not fetched again.
    expect(resumed.counts.seen).toBeLessThanOrEqual(800 - before + 25);
    const after = await run.sync();
    expect(after.counts.updated).toBe(1);
    const documents = run.repository.listDocuments(run.connectorId);
    expect(new Set(documents.map((document) => document.externalId)).size).toBe(documents.length);
  });
});
