import { Command, Option } from 'commander';
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
} from './knowledge-base.js';

interface SearchOptions {
  org: string;
  limit: number;
  connectorId?: string[];
  embedder: EmbedderChoice;
}

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
    .addOption(embedderOption());
  addDatabaseOptions(command).action(async (query: string, options: SearchOptions, sub: Command) => {
    const flags = sub.optsWithGlobals<KnowledgeBaseFlags>();
    const { embedder, description } = await chooseEmbedder(options.embedder, io);
    const { database, repository } = await openKnowledgeBase(flags, io);
    try {
      const { vectors } = await embedder.embed([query], { signal: AbortSignal.timeout(60_000) });
      const results = await repository.search({
        orgId: options.org,
        queryText: query,
        queryEmbedding: vectors[0],
        limit: options.limit,
        ...(options.connectorId === undefined ? {} : { connectorIds: options.connectorId }),
      });
      if (flags.json) {
        printJson(io, {
          database: database.label,
          query,
          orgId: options.org,
          embedder: { id: embedder.id, kind: options.embedder, description },
          results: results.map((result, index) => ({ rank: index + 1, ...result })),
        });
        return;
      }
      io.stdout(`Search "${query}" in ${database.label} (full text + ${description})\n`);
      if (results.length === 0) {
        io.stdout('No results.\n');
        return;
      }
      results.forEach((result, index) => {
        io.stdout(
          `${String(index + 1).padStart(3)}. ${result.score.toFixed(4)}  ${result.title ?? '(untitled)'}` +
            `  [text #${result.fullTextRank ?? '-'}, vector #${result.semanticRank ?? '-'}]\n`,
        );
        io.stdout(`     ${oneLine(result.snippet, 200)}\n`);
        if (result.externalUrl) io.stdout(`     ${result.externalUrl}\n`);
      });
    } finally {
      await database.close();
    }
  });
  return command;
}
