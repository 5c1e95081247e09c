import { Command, Option } from 'commander';
import type { CliIo } from './cli-io.js';
import {
  addDatabaseOptions,
  type KnowledgeBaseFlags,
  openKnowledgeBase,
  parseCount,
  parseUuid,
  printJson,
} from './knowledge-base.js';

interface DuplicatesOptions {
  org: string;
  document?: string;
  limit: number;
}

/** `tributary duplicates --org <uuid>`: the duplicate groups (cross-source and near copies) of an organisation. */
export function duplicatesCommand(io: CliIo): Command {
  const command = new Command('duplicates')
    .description(
      'list the duplicate groups of an organisation: exact copies across sources and near duplicates',
    )
    .requiredOption('--org <uuid>', 'the organisation', parseUuid)
    .option('--document <uuid>', "only this document's group", parseUuid)
    .addOption(
      new Option('--limit <n>', 'how many groups (1 to 1000)').argParser(parseCount(1000)).default(100),
    );
  addDatabaseOptions(command).action(async (options: DuplicatesOptions, sub: Command) => {
    const flags = sub.optsWithGlobals<KnowledgeBaseFlags>();
    const { database, repository } = await openKnowledgeBase(flags, io);
    try {
      const members = await repository.listDuplicates({
        orgId: options.org,
        documentId: options.document,
        limit: options.limit,
      });
      if (flags.json) {
        printJson(io, { database: database.label, orgId: options.org, members });
        return;
      }
      const groups = new Map<string, typeof members>();
      for (const member of members)
        groups.set(member.canonicalId, [...(groups.get(member.canonicalId) ?? []), member]);
      io.stdout(`Duplicate groups in ${database.label}: ${groups.size}\n`);
      for (const group of groups.values()) {
        io.stdout('\n');
        for (const member of group) {
          const how = member.isCanonical
            ? 'canonical'
            : `${member.kind ?? 'linked'}${member.kind === 'near' && member.similarity !== null ? ` ${member.similarity.toFixed(2)}` : ''}`;
          io.stdout(
            `  ${how.padEnd(10)} ${member.title ?? '(untitled)'}  [${member.externalId}] ${member.documentId}\n`,
          );
        }
      }
    } finally {
      await database.close();
    }
  });
  return command;
}
