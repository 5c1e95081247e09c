import { search } from '@tributary/core';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliIo } from './cli-io.js';
import {
  addDatabaseOptions,
  chooseEmbedder,
  collectUuid,
  type EmbedderChoice,
  embedderOption,
  type KnowledgeBaseFlags,
  oneLine,
  openKnowledgeBase,
  parseCount,
  parseUuid,
  printJson,
  storedDimensions,
} from './knowledge-base.js';

interface SearchOptions {
  org: string;
  limit: number;
  connectorId?: string[];
  mimeType?: string[];
  embedder: EmbedderChoice;
  mode: 'hybrid' | 'fullText' | 'vector';
  minSimilarity?: number;
  explain?: boolean;
}

function parseSimilarity(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < -1 || parsed > 1) {
    throw new InvalidArgumentError(`expected a number from -1 to 1, got "${value}".`);
  }
  return parsed;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** `tributary search "<query>"`: hybrid search (full text + the query's embedding) in one organisation. */
export function searchCommand(io: CliIo): Command {
  const command = new Command('search')
    .description("hybrid search (full text + embeddings) over one organisation's documents")
    .argument('<query>', 'what to look for')
    .requiredOption('--org <uuid>', 'the organisation to search', parseUuid)
    .addOption(
      new Option('--limit <n>', 'how many results (1 to 200)').argParser(parseCount(200)).default(10),
    )
    .option('--connector-id <uuid>', 'only these connectors (repeatable)', collectUuid)
    .option('--mime-type <type>', 'only documents of this MIME type (repeatable)', collect)
    .addOption(
      new Option('--mode <mode>', 'hybrid (text + vectors), fullText or vector')
        .choices(['hybrid', 'fullText', 'vector'])
        .default('hybrid'),
    )
    .option(
      '--min-similarity <n>',
      'drop vector hits below this cosine similarity (-1 to 1)',
      parseSimilarity,
    )
    .option('--explain', 'kept for scripts: every hit now says why it scored what it did')
    .addOption(embedderOption());
  addDatabaseOptions(command).action(async (query: string, options: SearchOptions, sub: Command) => {
    const flags = sub.optsWithGlobals<KnowledgeBaseFlags>();
    const chosen = await chooseEmbedder(options.embedder, io);
    const { database, repository } = await openKnowledgeBase(flags, io);
    try {
      // The same embedder as at sync time, at the database's size (so the stored model id matches).
      const dimensions = await storedDimensions(repository);
      const { embedder, description } =
        dimensions === chosen.embedder.dimensions
          ? chosen
          : await chooseEmbedder(options.embedder, io, dimensions);
      const response = await search({
        repository,
        orgId: options.org,
        query,
        embedder: options.mode === 'fullText' ? undefined : embedder,
        mode: options.mode,
        limit: options.limit,
        ...(options.minSimilarity === undefined
          ? {}
          : { minRelevance: { similarity: options.minSimilarity } }),
        filters: { connectorIds: options.connectorId, mimeTypes: options.mimeType },
        signal: AbortSignal.timeout(60_000),
      });
      const results = response.hits;
      if (flags.json) {
        printJson(io, {
          database: database.label,
          query,
          orgId: options.org,
          mode: response.mode,
          embedder: { id: embedder.id, kind: options.embedder, description },
          results: results.map((result, index) => ({ rank: index + 1, ...result })),
        });
        return;
      }
      const how =
        options.mode === 'fullText'
          ? 'full text'
          : options.mode === 'vector'
            ? description
            : `full text + ${description}`;
      io.stdout(`Search "${query}" in ${database.label} (${how})\n`);
      if (results.length === 0) {
        io.stdout('No results.\n');
        return;
      }
      results.forEach((result, index) => {
        io.stdout(
          `${String(index + 1).padStart(3)}. ${result.score.toFixed(4)}  ${result.title ?? '(untitled)'}\n`,
        );
        // Every score is explained: a bare "[text #-, vector #2]" left users guessing.
        io.stdout(`     why: ${result.explanation.summary}\n`);
        io.stdout(`     ${oneLine(result.snippet, 200)}\n`);
        if (result.externalUrl) io.stdout(`     ${result.externalUrl}\n`);
      });
    } finally {
      await database.close();
    }
  });
  return command;
}
