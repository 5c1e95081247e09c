// The Tributary demo, step by step: an embedded database, a folder imported twice (the second
// time nothing is loaded or embedded), and a hybrid search. `main.ts` is the command line around it.
import { mkdir, readdir } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import {
  createLexicalEmbedder,
  type Embedder,
  type KnowledgeRepository,
  runSync,
  type SearchHit,
  type SearchResult,
  type SyncMode,
  type SyncProgressEvent,
  type SyncSummary,
  search,
} from '@tributary/core';
import { createPgliteRepository } from '@tributary/core/pglite';
import { createFolderConnector, FOLDER_CONNECTOR_TYPE } from '@tributary/examples-folder-connector';
import { fromPglite, migrate } from '@tributary/sql';
import cliProgress from 'cli-progress';

/** The repository root (this file is examples/demo/src/demo.ts). */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEFAULT_DIR = join(REPOSITORY_ROOT, '.tributary', 'demo-db');
export const DEFAULT_CORPUS = join(REPOSITORY_ROOT, 'examples', 'corpus');
/** Answered by handbook/benefits-overview.pdf ("Up to 5 unused days carry over to the next year"). */
export const DEFAULT_QUERY = 'do unused annual leave days carry over to next year';

/** The file formats the demo imports (the corpus's generate-binaries.mjs is a tool, not content). */
export const DEMO_EXTENSIONS = ['md', 'txt', 'html', 'csv', 'json', 'vtt', 'srt', 'pdf', 'docx'] as const;

/** Fixed ids, so running the demo again finds the same organisation, member and connector. */
export const DEMO_ORG_ID = '00000000-0000-4000-8000-00000000f0e1';
export const DEMO_USER_ID = '00000000-0000-4000-8000-00000000a11c';

export interface DemoOutput {
  write(text: string): unknown;
  /** A progress bar when true, plain lines otherwise (CI, pipes). */
  isTTY?: boolean | undefined;
}

export interface RunDemoOptions {
  /** Folder of the PGlite database (created if missing). Default `.tributary/demo-db` at the repository root. */
  dir?: string | undefined;
  /** Folder to import. Default `examples/corpus`. */
  corpus?: string | undefined;
  query?: string | undefined;
  /** Where the demo writes. Default `process.stdout`. */
  out?: DemoOutput | undefined;
  /** Read for `OPENAI_API_KEY`. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

export interface DemoSync {
  summary: SyncSummary;
  /** Documents whose content the pipeline loaded (`document-started` events). */
  loads: number;
}

export interface DemoDuplicate {
  /** The copy and the document it is linked to (external ids: paths in the corpus). */
  copy: string;
  original: string;
  /** The copy is linked to the original in the database (`imported_documents.duplicate_of`, dedup layer 5). */
  linked: boolean;
  /** Both files are stored, with the same document content hash. */
  sameContentHash: boolean;
  /** Chunks stored for the copy and for the original. */
  copyChunks: number;
  originalChunks: number;
  /** Chunks of the copy whose text equals a chunk of the original. */
  copyChunksWithSameText: number;
  /** Chunks of the copy whose stored embedding equals the original's chunk at the same position. */
  copyChunksWithSameEmbedding: number;
  /** Chunks stored for the whole corpus. */
  chunksStored: number;
  /** A search for the copy's content with `collapseDuplicates`: results that are the copy or the original. */
  searchHitsOfPair: number;
  /** ...and the other one of the pair, listed as an alternative of that result. */
  alternativeListed: boolean;
}

export interface DemoResult {
  embedder: { id: string; kind: 'openai' | 'lexical' };
  connectorId: string;
  /** Files in the corpus with a demo format. */
  corpusFiles: string[];
  first: DemoSync;
  second: DemoSync;
  /** The first pair of files with the same content, when the corpus has one. */
  duplicate: DemoDuplicate | undefined;
  query: string;
  results: SearchHit[];
}

/** A failure the command line reports as one `[tributary] ...` line. */
export class DemoError extends Error {
  override name = 'DemoError';
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Relative POSIX paths of the corpus files the demo imports (what the folder connector lists). */
export async function listCorpusFiles(corpus: string): Promise<string[]> {
  const entries = await readdir(corpus, { recursive: true, withFileTypes: true });
  const extensions = new Set<string>(DEMO_EXTENSIONS);
  return entries
    .filter((entry) => entry.isFile() && extensions.has(extname(entry.name).slice(1).toLowerCase()))
    .map((entry) =>
      join(entry.parentPath, entry.name)
        .slice(corpus.length + 1)
        .split('\\')
        .join('/'),
    )
    .filter((path) => !path.split('/').some((part) => part.startsWith('.')))
    .sort();
}

/** OpenAI when a key is set, else the offline lexical embedder. Explicit: vectors are stored under its id. */
export async function chooseEmbedder(
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ embedder: Embedder; kind: 'openai' | 'lexical' }> {
  const apiKey = env.OPENAI_API_KEY;
  if (apiKey !== undefined && apiKey !== '') {
    const { createOpenAIEmbedder } = await import('@tributary/core/openai');
    return {
      embedder: createOpenAIEmbedder({ apiKey, model: 'text-embedding-3-small', dimensions: 1536 }),
      kind: 'openai',
    };
  }
  return { embedder: createLexicalEmbedder({ dimensions: 1536 }), kind: 'lexical' };
}

/**
 * The demo organisation, its member and a `local_folder` connector for this corpus and embedder,
 * written as the database owner (as a host's server would). Idempotent: fixed ids, and the
 * connector is found again by its settings. One connector per embedder, so vectors of different
 * embedders are never compared.
 */
export async function ensureDemoRows(
  pglite: PGlite,
  corpus: string,
  embedderId: string,
): Promise<{ connectorId: string; config: { path: string; include: string[] } }> {
  const config = { path: corpus, include: [...DEMO_EXTENSIONS] };
  await pglite.query(
    `insert into tributary_private.memberships (user_id, org_id, role) values ($1, $2, 'owner')
     on conflict (user_id, org_id) do nothing`,
    [DEMO_USER_ID, DEMO_ORG_ID],
  );
  const existing = await pglite.query<{ id: string }>(
    `select id from public.connector_configs
     where org_id = $1 and connector_type = $2 and settings ->> 'path' = $3 and metadata ->> 'embedder' = $4
     order by created_at limit 1`,
    [DEMO_ORG_ID, FOLDER_CONNECTOR_TYPE, corpus, embedderId],
  );
  const found = existing.rows[0];
  if (found) return { connectorId: found.id, config };
  const inserted = await pglite.query<{ id: string }>(
    `insert into public.connector_configs
       (org_id, connector_type, name, description, settings, metadata, sync_frequency, created_by)
     values ($1, $2, 'Demo corpus', 'The Fernhill Analytics handbook (examples/corpus)', $3, $4, 'manual', $5)
     returning id`,
    [
      DEMO_ORG_ID,
      FOLDER_CONNECTOR_TYPE,
      JSON.stringify(config),
      JSON.stringify({ embedder: embedderId }),
      DEMO_USER_ID,
    ],
  );
  const row = inserted.rows[0];
  if (!row) throw new DemoError('could not create the demo connector row');
  return { connectorId: row.id, config };
}

/** Renders progress: a cli-progress bar over documents on a terminal, plain lines otherwise. */
function createProgressRenderer(out: DemoOutput, expected: number) {
  let loads = 0;
  let done = 0;
  let skipped = 0;
  let bar: cliProgress.SingleBar | undefined;
  const pad = String(expected).length;

  const onProgress = (event: SyncProgressEvent) => {
    if (event.type === 'document-started') loads += 1;
    if (out.isTTY) {
      if (event.type === 'run-started') {
        bar = new cliProgress.SingleBar(
          {
            format: '  {bar} {value}/{total} documents | {file}',
            stream: out as unknown as NodeJS.WritableStream,
            hideCursor: true,
            clearOnComplete: false,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(event.total ?? expected, 0, { file: '' });
      } else if (
        event.type === 'document-finished' ||
        event.type === 'document-skipped' ||
        event.type === 'document-failed'
      ) {
        done += 1;
        if (event.total !== undefined) bar?.setTotal(event.total);
        else if (done > expected) bar?.setTotal(done);
        bar?.update(done, { file: event.externalId });
      } else if (event.type === 'run-finished') {
        bar?.setTotal(done);
        bar?.update(done, { file: event.status });
        bar?.stop();
      }
      return;
    }
    const position = () => `[${String(done).padStart(pad)}/${expected}]`;
    if (event.type === 'run-started') out.write(`  ${event.mode} sync started\n`);
    else if (event.type === 'document-finished') {
      done += 1;
      out.write(`  ${position()} ${event.action.padEnd(9)} ${event.externalId}\n`);
    } else if (event.type === 'document-failed') {
      done += 1;
      out.write(`  ${position()} failed    ${event.externalId}: ${oneLine(event.message, 100)}\n`);
    } else if (event.type === 'document-skipped') {
      done += 1;
      skipped += 1;
    } else if (event.type === 'run-finished') {
      if (skipped > 0) out.write(`  ${skipped} document(s) skipped: same version as stored, not loaded\n`);
      out.write(`  sync ${event.status}\n`);
    }
  };
  return { onProgress, loads: () => loads };
}

function printSummary(out: DemoOutput, summary: SyncSummary, loads: number): void {
  const { counts, embeddings } = summary;
  out.write(
    [
      `  status ${summary.status} (${summary.mode} sync) in ${(summary.durationMs / 1000).toFixed(1)} s`,
      `  documents: ${counts.seen} listed, ${counts.inserted} inserted, ${counts.updated} updated, ` +
        `${counts.unchanged} unchanged, ${counts.skippedByVersion} skipped (same version), ` +
        `${counts.failed} failed, ${counts.deleted} deleted`,
      `  loaded: ${loads} document(s), ${summary.contentBytes} bytes`,
      `  embeddings: ${embeddings.requests} request(s), ${embeddings.inputs} input(s), ` +
        `${embeddings.reused} reused, ${embeddings.tokens} token(s)`,
      '',
    ].join('\n'),
  );
  // The same cause usually fails many documents (a network error, a bad key): one line per cause.
  const causes = new Map<string, string[]>();
  for (const error of summary.errors)
    causes.set(error.message, [...(causes.get(error.message) ?? []), error.externalId]);
  for (const [cause, ids] of causes) {
    const which = ids.length === 1 ? ids[0] : `${ids.length} documents (${ids[0]}, ...)`;
    out.write(`  ! ${which}: ${oneLine(cause, 240)}\n`);
  }
}

export async function sync(
  out: DemoOutput,
  options: {
    repository: KnowledgeRepository;
    embedder: Embedder;
    connectorId: string;
    config: unknown;
    expected: number;
    mode?: SyncMode;
  },
): Promise<DemoSync> {
  const progress = createProgressRenderer(out, options.expected);
  const summary = await runSync({
    connector: createFolderConnector(),
    config: options.config,
    connectorId: options.connectorId,
    repository: options.repository,
    embedder: options.embedder,
    mode: options.mode,
    onProgress: progress.onProgress,
  });
  if (summary.status === 'failed' || summary.status === 'cancelled' || summary.status === 'skipped') {
    throw new DemoError(
      `the sync ended ${summary.status}${summary.error ? `: ${summary.error}` : ''} (run ${summary.runId})`,
    );
  }
  printSummary(out, summary, progress.loads());
  if (summary.counts.failed > 0 && summary.counts.failed === summary.counts.seen) {
    throw new DemoError(
      `every document failed (${summary.counts.failed}); first error: ${(summary.errors[0]?.message ?? 'unknown').replace(/^\[tributary\]\s*/, '')}`,
    );
  }
  return { summary, loads: progress.loads() };
}

/**
 * The corpus's exact duplicate, from the database: the first copy linked to an original
 * (`duplicate_of`, exact), else the first two documents (by path) with the same content hash.
 */
async function describeDuplicate(
  pglite: PGlite,
  connectorId: string,
  searchPair: (copyId: string, originalId: string) => Promise<{ hits: number; alternative: boolean }>,
): Promise<DemoDuplicate | undefined> {
  const linked = await pglite.query<{ copy_id: string; original_id: string }>(
    `select c.id as copy_id, o.id as original_id
     from public.imported_documents c join public.imported_documents o on o.id = c.duplicate_of
     where c.connector_id = $1 and not c.is_deleted and c.duplicate_kind = 'exact'
     order by c.external_id limit 1`,
    [connectorId],
  );
  let pair = linked.rows[0];
  if (pair === undefined) {
    const same = await pglite.query<{ copy_id: string; original_id: string }>(
      `select b.id as copy_id, a.id as original_id
       from public.imported_documents a
       join public.imported_documents b on b.connector_id = a.connector_id and b.content_hash = a.content_hash
         and b.external_id > a.external_id and not b.is_deleted
       where a.connector_id = $1 and not a.is_deleted and a.content_hash is not null
       order by a.external_id, b.external_id limit 1`,
      [connectorId],
    );
    pair = same.rows[0];
  }
  if (pair === undefined) return undefined;
  const { rows } = await pglite.query<{
    copy: string;
    original: string;
    linked: boolean;
    same_hash: boolean;
    copy_chunks: number;
    original_chunks: number;
    same_text: number;
    same_embedding: number;
    stored: number;
  }>(
    `with copy as (select * from public.document_chunks where document_id = $2),
     original as (select * from public.document_chunks where document_id = $3)
     select c.external_id as copy, o.external_id as original, c.duplicate_of is not distinct from o.id as linked,
       c.content_hash = o.content_hash as same_hash,
       (select count(*)::int from copy) as copy_chunks,
       (select count(*)::int from original) as original_chunks,
       (select count(*)::int from copy where content in (select content from original)) as same_text,
       (select count(*)::int from copy x join original y on y.chunk_index = x.chunk_index
        where x.embedding::text = y.embedding::text) as same_embedding,
       (select count(*)::int from public.document_chunks k join public.imported_documents d on d.id = k.document_id
        where d.connector_id = $1 and not d.is_deleted) as stored
     from public.imported_documents c, public.imported_documents o where c.id = $2 and o.id = $3`,
    [connectorId, pair.copy_id, pair.original_id],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  const found = await searchPair(pair.copy_id, pair.original_id);
  return {
    copy: row.copy,
    original: row.original,
    linked: row.linked,
    sameContentHash: row.same_hash,
    copyChunks: row.copy_chunks,
    originalChunks: row.original_chunks,
    copyChunksWithSameText: row.same_text,
    copyChunksWithSameEmbedding: row.same_embedding,
    chunksStored: row.stored,
    searchHitsOfPair: found.hits,
    alternativeListed: found.alternative,
  };
}

/** A query for a document: the words of its first chunk's opening, without punctuation. */
async function queryFor(pglite: PGlite, documentId: string): Promise<string> {
  const { rows } = await pglite.query<{ content: string }>(
    'select content from public.document_chunks where document_id = $1 order by chunk_index limit 1',
    [documentId],
  );
  return (rows[0]?.content ?? '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .slice(0, 12)
    .join(' ');
}

/** ` (folder/file.ext)` when the result is a file of the corpus and its title is not that path. */
function pathOf(result: SearchResult, corpus: string): string {
  if (!result.externalUrl?.startsWith('file:')) return '';
  const path = relative(corpus, fileURLToPath(result.externalUrl)).split('\\').join('/');
  return path === result.title || path.startsWith('..') ? '' : ` (${path})`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Runs the demo: migrate an embedded PGlite, create the demo organisation and connector, sync the
 * corpus, sync it again (nothing loaded, nothing embedded), and answer `query` with hybrid search.
 * Throws `DemoError` (or the underlying error) on failure.
 */
export async function runDemo(options: RunDemoOptions = {}): Promise<DemoResult> {
  const out = options.out ?? process.stdout;
  const dir = resolve(options.dir ?? DEFAULT_DIR);
  const corpus = resolve(options.corpus ?? DEFAULT_CORPUS);
  const query = options.query ?? DEFAULT_QUERY;
  const say = (text = '') => out.write(`${text}\n`);

  let corpusFiles: string[];
  try {
    corpusFiles = await listCorpusFiles(corpus);
  } catch (error) {
    throw new DemoError(`cannot read the corpus folder ${corpus}: ${message(error)}`);
  }
  if (corpusFiles.length === 0) throw new DemoError(`no ${DEMO_EXTENSIONS.join('/')} files in ${corpus}`);

  say(`1. Database: PGlite with pgvector in ${dir}`);
  await mkdir(dir, { recursive: true });
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dir, { extensions: { vector } });
  } catch (error) {
    throw new DemoError(
      `cannot open the PGlite database in ${dir}: ${message(error)} (is another process using it, or was it created by another PGlite version? delete the folder to start over)`,
    );
  }
  try {
    const migrated = await migrate(fromPglite(pglite));
    say(
      `   migrations: ${migrated.applied.length} applied now` +
        (migrated.applied.length === 0 ? ' (already up to date)' : ''),
    );

    const { embedder, kind } = await chooseEmbedder(options.env ?? process.env);
    const { connectorId, config } = await ensureDemoRows(pglite, corpus, embedder.id);
    say(`   organisation ${DEMO_ORG_ID}, owner ${DEMO_USER_ID}`);
    say(`   connector ${connectorId}: local_folder at ${corpus}`);
    say();

    say(`2. Embedder: ${embedder.id}`);
    if (kind === 'openai') say('   OPENAI_API_KEY is set: OpenAI text-embedding-3-small, 1536 dimensions.');
    else {
      say('   No OPENAI_API_KEY: the offline lexical embedder. It is lexical, not semantic: texts that');
      say(
        '   share words land close, synonyms and paraphrases do not. Set OPENAI_API_KEY for semantic search.',
      );
    }
    say();

    const repository = createPgliteRepository(pglite);
    const syncOptions = { repository, embedder, connectorId, config, expected: corpusFiles.length };
    say(`3. Sync: ${corpusFiles.length} files in ${corpus}`);
    const first = await sync(out, syncOptions);
    if (first.summary.mode === 'incremental') {
      say('   (incremental: this database already holds the corpus from an earlier run; delete');
      say(`   ${dir} to watch the first import again)`);
    }
    say();

    say('4. Sync again, listing every file (full mode): a file whose version is stored is not loaded');
    const second = await sync(out, { ...syncOptions, mode: 'full' });
    const again = second.summary;
    const verdict =
      again.embeddings.inputs === 0 && second.loads === 0
        ? 'nothing re-embedded'
        : 'some documents were processed again';
    say(
      `   => ${verdict}: ${again.embeddings.inputs} embedding input(s), ${second.loads} document(s) loaded, ` +
        `${again.counts.skippedByVersion} of ${again.counts.seen} skipped by version`,
    );
    if (second.loads > 0)
      say('      (documents that failed or changed since the first sync are loaded again)');
    say();

    const duplicate = await describeDuplicate(pglite, connectorId, async (copyId, originalId) => {
      const pairQuery = await queryFor(pglite, copyId);
      if (pairQuery === '') return { hits: 0, alternative: false };
      const { hits } = await search({
        repository,
        orgId: DEMO_ORG_ID,
        query: pairQuery,
        embedder,
        filters: { connectorIds: [connectorId] },
        limit: 10,
        collapseDuplicates: true,
        signal: AbortSignal.timeout(60_000),
      });
      const ofPair = hits.filter((hit) => hit.documentId === copyId || hit.documentId === originalId);
      const other = ofPair[0]?.documentId === copyId ? originalId : copyId;
      return {
        hits: new Set(ofPair.map((hit) => hit.documentId)).size,
        alternative: ofPair[0]?.alternatives?.some((a) => a.documentId === other) === true,
      };
    });
    if (duplicate === undefined) {
      say(`5. Dedup: no two files in ${corpus} have the same content.`);
    } else {
      say(`5. Dedup across sources: "${duplicate.copy}" has the same content as ${duplicate.original}.`);
      say(
        duplicate.linked
          ? `   Linked to it as an exact copy (imported_documents.duplicate_of): its ${duplicate.copyChunks} chunk(s) and ` +
              `${duplicate.copyChunksWithSameEmbedding} embedding(s) were copied from the original's ${duplicate.originalChunks}, whatever the title.`
          : `   Stored as its own document (${duplicate.copyChunks} chunk(s)); not linked (duplicate detection is off or failed).`,
      );
      const { inputs, reused } = first.summary.embeddings;
      if (first.summary.counts.inserted > 0) {
        const copies = first.summary.dedup.exactCopies;
        say(
          `   The first sync sent ${inputs} text(s) to the embedder, reused ${reused} stored embedding(s) and gave ` +
            `${copies} exact cop${copies === 1 ? 'y' : 'ies'} the chunks of its original: nothing was embedded twice.`,
        );
        if (first.summary.dedup.nearDuplicates > 0)
          say(
            `   ${first.summary.dedup.nearDuplicates} near duplicate(s) were linked too (MinHash over word shingles).`,
          );
      } else {
        say(`   ${duplicate.chunksStored} chunk(s) are stored (embedded by an earlier run of the demo).`);
      }
      say(
        `   A search for the copy's opening words with collapseDuplicates returns ${duplicate.searchHitsOfPair} of the two` +
          (duplicate.alternativeListed ? ', with the other listed as its alternative.' : '.'),
      );
    }
    say('   What is never repeated: an unchanged file (step 4: skipped by version, never loaded).');
    say();

    say(`6. Search (hybrid: full text + ${embedder.id}): "${query}"`);
    // search() embeds the query with the same embedder as the chunks and explains each score.
    const { hits: results } = await search({
      repository,
      orgId: DEMO_ORG_ID,
      query,
      embedder,
      filters: { connectorIds: [connectorId] },
      limit: 5,
      // One result per duplicate group: the corpus's exact copy is returned once.
      collapseDuplicates: true,
      signal: AbortSignal.timeout(60_000),
    });
    if (results.length === 0) say('   no results');
    results.forEach((result, index) => {
      say(
        `   ${index + 1}. ${result.score.toFixed(4)}  ${result.title ?? '(untitled)'}${pathOf(result, corpus)}`,
      );
      say(`      why: ${result.explanation.summary}`);
      say(`      ${oneLine(result.snippet, 160)}`);
    });

    return {
      embedder: { id: embedder.id, kind },
      connectorId,
      corpusFiles,
      first,
      second,
      duplicate,
      query,
      results,
    };
  } finally {
    await pglite.close();
  }
}
