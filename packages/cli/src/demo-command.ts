import { cp, mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// The demo itself lives in examples/demo (also run by scripts/demo.sh); it is bundled into this
// package at build time, so `tributary demo` and the script can never drift apart.
import { DEFAULT_QUERY, DemoError, runChangeStep, runDemo } from '@tributary/examples-demo';
import { Command } from 'commander';
import { TributaryCliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';

/**
 * `tributary demo`: the ingestion demo on an embedded database. A working copy of the corpus is
 * synced into PGlite (pgvector), synced again (nothing loaded or embedded), searched with
 * explained scores; then one file of the copy is changed and a re-sync loads only that file.
 */
export function demoCommand(io: CliIo): Command {
  return new Command('demo')
    .description(
      'import a folder of documents into a local PGlite database, re-sync it, search it with explained scores, change a file and re-sync',
    )
    .option('--dir <dir>', 'folder of the demo database', '.tributary/demo-db')
    .option('--corpus <dir>', "folder to import (default: the clone's examples/corpus)")
    .option('--query <text>', 'what to search for', DEFAULT_QUERY)
    .action(async (options: { dir: string; corpus?: string; query: string }, command: Command) => {
      const { json } = command.optsWithGlobals<{ json?: boolean }>();
      const dir = resolve(io.cwd, options.dir);
      const source =
        options.corpus === undefined ? await findBundledCorpus(io.cwd) : resolve(io.cwd, options.corpus);
      await assertFolder(source, options.corpus === undefined ? 'the example corpus' : '--corpus');
      // The demo changes a file in step 7: it works on a copy, never on your folder.
      const corpus = join(dirname(dir), `${basenameOf(dir)}-corpus`);
      await rm(corpus, { recursive: true, force: true });
      await mkdir(corpus, { recursive: true });
      await cp(source, corpus, { recursive: true, preserveTimestamps: true });
      const out = { write: (text: string) => (json ? undefined : io.stdout(text)), isTTY: false };
      out.write(`Tributary demo: ${source} (copied to ${corpus})\n\n`);
      try {
        const demo = await runDemo({ dir, corpus, query: options.query, out, env: io.env });
        const change = await runChangeStep({ dir, corpus, out, env: io.env });
        if (json) {
          io.stdout(
            `${JSON.stringify(
              {
                database: dir,
                corpus,
                embedder: demo.embedder,
                connectorId: demo.connectorId,
                first: demo.first.summary,
                second: demo.second.summary,
                results: demo.results,
                change: { file: change.changed, summary: change.sync?.summary, loads: change.sync?.loads },
              },
              null,
              2,
            )}\n`,
          );
          return;
        }
        io.stdout(
          `Explore it: tributary search --pglite ${options.dir} "your question", tributary status --pglite ${options.dir}\n`,
        );
      } catch (error) {
        if (error instanceof DemoError)
          throw new TributaryCliError('demo_failed', `demo failed: ${error.message}`);
        throw error;
      }
    });
}

function basenameOf(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? 'demo';
}

/** `examples/corpus` of the clone: above the working directory, or above this package. */
async function findBundledCorpus(cwd: string): Promise<string> {
  const starts = [cwd, dirname(fileURLToPath(import.meta.url))];
  for (const start of starts) {
    let folder = start;
    for (;;) {
      const candidate = join(folder, 'examples', 'corpus');
      if (await isFolder(candidate)) return candidate;
      const parent = dirname(folder);
      if (parent === folder) break;
      folder = parent;
    }
  }
  throw new TributaryCliError(
    'demo_no_corpus',
    'demo: no example corpus found (it ships in the Tributary repository, examples/corpus). Pass a folder of your own documents: tributary demo --corpus ./my-docs',
  );
}

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

async function assertFolder(path: string, what: string): Promise<void> {
  if (!(await isFolder(path))) {
    throw new TributaryCliError(
      'demo_no_corpus',
      `demo: ${what} ${path} is not a folder. Pass a folder of documents (md, txt, html, csv, json, vtt, srt, pdf, docx): tributary demo --corpus ./my-docs`,
    );
  }
}
