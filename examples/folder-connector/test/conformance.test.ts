// The folder connector under the conformance suite every connector runs: a temporary folder of
// Markdown files is the source; `remove` deletes files, `change` rewrites one.
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConformanceSource, testConnector } from '@tributary/testkit';
import { createFolderConnector } from '../src/index.js';

async function createFolderSource(): Promise<ConformanceSource> {
  const root = await mkdtemp(join(tmpdir(), 'tributary-folder-conformance-'));
  for (let index = 1; index <= 10; index += 1) {
    const name = `note-${String(index).padStart(2, '0')}.md`;
    await writeFile(
      join(root, name),
      `# Note ${index}\n\nThe harbour log for week ${index} lists ${index * 7} ships.\n`,
    );
  }
  let edits = 0;
  const files = async () => (await readdir(root)).filter((name) => name.endsWith('.md')).sort();
  return {
    config: { path: root },
    async remove(count) {
      const removed = (await files()).slice(0, count);
      for (const name of removed) await rm(join(root, name));
      return removed;
    },
    async change() {
      const [name] = (await files()).slice(-1);
      if (!name) throw new Error('the folder is empty');
      edits += 1;
      await writeFile(
        join(root, name),
        `# Revised ${edits}\n\nThe log was corrected: ${edits * 13} ships.\n`,
      );
      // A distinct mtime, so the version (mtime:size) changes even within one clock tick.
      const later = new Date(Date.now() + edits * 60_000);
      await utimes(join(root, name), later, later);
      return name;
    },
    async close() {
      await rm(root, { recursive: true, force: true });
    },
  };
}

testConnector({
  connector: () => createFolderConnector({ checkpointEvery: 3 }),
  source: createFolderSource,
  // A local folder is not reached over HTTP: no 429/5xx to survive.
  httpFaults: false,
  invalidConfigs: [
    { config: { path: 'relative/notes' }, field: 'path', title: 'a relative path' },
    { config: {}, field: 'path', title: 'no path' },
    { config: { path: '/srv/notes', include: ['not an extension!'] }, field: 'include[0]' },
    { config: { path: '/srv/notes', maxFileBytes: -1 }, field: 'maxFileBytes' },
  ],
});
