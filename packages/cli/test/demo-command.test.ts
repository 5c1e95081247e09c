// `tributary demo` runs the ingestion demo of examples/demo on a copy of a corpus: sync into
// PGlite, re-sync (nothing loaded), search with explained scores, change a file and re-sync
// (only that file loaded, the rest skipped by version). The user's folder is never written.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureCli } from './support/capture-cli.js';

const temporary: string[] = [];
afterAll(async () => {
  await Promise.all(temporary.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function run(cwd: string, ...argv: string[]) {
  return captureCli(argv, {
    env: {},
    cwd,
  });
}

const corpusFiles: Record<string, string> = {
  'handbook/leave.md': '# Annual leave\n\nUp to five unused leave days carry over to the next year.\n',
  'handbook/expenses.md': '# Expenses\n\nTaxi receipts must be submitted within thirty days.\n',
  'notes/standup.txt': 'Standup notes: the billing migration ships on Thursday.\n',
};

describe('tributary demo', () => {
  it('syncs, re-syncs without loading, searches with explanations, then re-syncs only a changed file', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'tributary-demo-'));
    temporary.push(cwd);
    for (const [path, text] of Object.entries(corpusFiles)) {
      await mkdir(join(cwd, 'docs', path, '..'), { recursive: true });
      await writeFile(join(cwd, 'docs', path), text);
    }
    const result = await run(
      cwd,
      'demo',
      '--corpus',
      'docs',
      '--dir',
      'db',
      '--query',
      'unused leave days carry over',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain('3. Sync: 3 files');
    expect(out).toMatch(/documents: 3 listed, 3 inserted/);
    expect(out).toMatch(
      /=> nothing re-embedded: 0 embedding input\(s\), 0 document\(s\) loaded, 3 of 3 skipped by version/,
    );
    // Search: the leave policy first, with its score explained.
    expect(out).toMatch(
      /6\. Search[^\n]*\n\s+1\. \d\.\d{4}\s+leave\.md[^\n]*\n\s+why: full text #1 \(bm25 [\d.]+\) \+ vector #1/,
    );
    // Step 7: the working copy's security policy is absent, so the first Markdown file changes.
    expect(out).toContain('7. Change a file: appended');
    expect(out).toMatch(
      /=> 1 document\(s\) loaded and 1 updated .*; 2 of 3 skipped: same version, never loaded/,
    );
    expect(out).toMatch(/search "when does the Lisbon office close[^\n]*\n\s+1\. \d\.\d{4}\s+expenses\.md/);
    // The user's folder is untouched; the copy next to the database was changed.
    expect(await readFile(join(cwd, 'docs', 'handbook/expenses.md'), 'utf8')).toBe(
      corpusFiles['handbook/expenses.md'],
    );
    expect(await readFile(join(cwd, 'db-corpus', 'handbook/expenses.md'), 'utf8')).toContain('Lisbon office');

    // Again on the same database: the copy is fresh, only the file changed last time is loaded.
    const again = await run(cwd, 'demo', '--corpus', 'docs', '--dir', 'db', '--json');
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout) as {
      change: { file: string; loads: number };
      second: { counts: { skippedByVersion: number } };
    };
    expect(summary.change).toMatchObject({ file: 'handbook/expenses.md', loads: 1 });
  }, 180_000);

  it('says what to do when the corpus folder does not exist', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'tributary-demo-'));
    temporary.push(cwd);
    const result = await run(cwd, 'demo', '--corpus', 'nowhere');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /\[tributary\] demo: --corpus .*nowhere is not a folder\. Pass a folder of documents/,
    );
  });
});
