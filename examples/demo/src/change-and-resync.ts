// Step 7 of the demo, for a corpus the demo may write to (the CLI's working copy): change one
// file, sync again, and show that only that file was loaded and embedded, then find the new text.
import { appendFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { type SearchHit, search } from '@tributary/core';
import { createPgliteRepository } from '@tributary/core/pglite';
import {
  chooseEmbedder,
  DEFAULT_DIR,
  DEMO_ORG_ID,
  type DemoOutput,
  type DemoSync,
  ensureDemoRows,
  listCorpusFiles,
  sync,
} from './demo.ts';

/** The sentence step 7 appends, and the query that finds it. */
export const CHANGE_SENTENCE = 'Update: the Lisbon office closes at 3 pm on Fridays in August.';
export const CHANGE_QUERY = 'when does the Lisbon office close on Fridays in August';

export interface ChangeStepOptions {
  /** The demo's database folder (as given to `runDemo`). */
  dir?: string | undefined;
  /** The corpus folder synced by `runDemo`: a copy the demo may change. */
  corpus: string;
  out?: DemoOutput | undefined;
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

export interface ChangeStepResult {
  /** The corpus file that was changed (relative path). */
  changed: string;
  /** The sync after the change (absent when the corpus had no file to change). */
  sync?: DemoSync | undefined;
  results: SearchHit[];
}

/**
 * Appends {@link CHANGE_SENTENCE} to one Markdown or text file of `corpus`, runs a full sync (every
 * file listed: unchanged versions are skipped without loading), and searches for the new text.
 */
export async function runChangeStep(options: ChangeStepOptions): Promise<ChangeStepResult> {
  const out = options.out ?? process.stdout;
  const say = (text = '') => out.write(`${text}\n`);
  const dir = resolve(options.dir ?? DEFAULT_DIR);
  const corpus = resolve(options.corpus);
  const files = await listCorpusFiles(corpus);
  const changed =
    files.find((file) => file === 'handbook/security-policy.md') ??
    files.find((file) => file.endsWith('.md') || file.endsWith('.txt'));
  if (!changed) {
    say('7. Change a file: the corpus has no Markdown or text file to change; skipped.');
    return { changed: '', results: [] };
  }
  await appendFile(join(corpus, changed), `\n\n${CHANGE_SENTENCE}\n`);
  say(`7. Change a file: appended "${CHANGE_SENTENCE}" to ${changed}; sync again (full listing)`);

  const pglite = await PGlite.create(dir, { extensions: { vector } });
  try {
    const { embedder } = await chooseEmbedder(options.env ?? process.env);
    const { connectorId, config } = await ensureDemoRows(pglite, corpus, embedder.id);
    const repository = createPgliteRepository(pglite);
    const result = await sync(out, {
      repository,
      embedder,
      connectorId,
      config,
      expected: files.length,
      mode: 'full',
    });
    const { counts, embeddings } = result.summary;
    say(
      `   => ${result.loads} document(s) loaded and ${counts.updated} updated (${embeddings.inputs} chunk(s) embedded, ` +
        `${embeddings.reused} reused); ${counts.skippedByVersion} of ${counts.seen} skipped: same version, never loaded`,
    );
    const { hits } = await search({
      repository,
      orgId: DEMO_ORG_ID,
      query: CHANGE_QUERY,
      embedder,
      filters: { connectorIds: [connectorId] },
      limit: 3,
      signal: AbortSignal.timeout(60_000),
    });
    const top = hits[0];
    say(`   search "${CHANGE_QUERY}":`);
    say(
      top
        ? `   1. ${top.score.toFixed(4)}  ${top.title ?? changed}\n      why: ${top.explanation.summary}`
        : '   no results',
    );
    say();
    return { changed, sync: result, results: hits };
  } finally {
    await pglite.close();
  }
}
