import { Command, CommanderError } from 'commander';
import { formatFailure, TributaryCliError } from './cli-error.js';
import { type CliIo, processIo } from './cli-io.js';
import { connectorCommand, secretsCommand } from './connector-command.js';
import { demoCommand } from './demo-command.js';
import { duplicatesCommand } from './duplicates-command.js';
import { migrateCommand } from './migrate-command.js';
import { searchCommand } from './search-command.js';
import { serveCommand } from './serve-command.js';
import { statusCommand } from './status-command.js';
import { syncCommand } from './sync-command.js';
import { enqueueCommand, workerCommand } from './worker-command.js';

/** The `tributary` command with its subcommands; run it with {@link runCli}. */
export function createProgram(io: CliIo = processIo()): Command {
  const program = new Command('tributary')
    .description('Tributary: import content into a Postgres/Supabase knowledge base')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--verbose', 'print stack traces on failure')
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      // One line, like every other failure: `[tributary] <what went wrong> (see --help)`.
      outputError: (text, write) =>
        write(`[tributary] ${text.replace(/^error: /, '').trim()} (see --help)\n`),
    })
    .exitOverride();
  program.addCommand(migrateCommand(io));
  program.addCommand(syncCommand(io));
  program.addCommand(searchCommand(io));
  program.addCommand(statusCommand(io));
  program.addCommand(duplicatesCommand(io));
  program.addCommand(connectorCommand(io));
  program.addCommand(secretsCommand(io));
  program.addCommand(demoCommand(io));
  program.addCommand(workerCommand(io));
  program.addCommand(enqueueCommand(io));
  program.addCommand(serveCommand(io));
  // Subcommands inherit the output settings and exit override only when created through the parent,
  // so copy them onto the ones built separately.
  const inherit = (command: Command) => {
    command.copyInheritedSettings(program);
    command.commands.forEach(inherit);
  };
  program.commands.forEach(inherit);
  return program;
}

/**
 * Runs the CLI with `argv` (without the node and script paths) and resolves to the exit code.
 * Failures print one `[tributary] ...` line on stderr (with the stack under `--verbose`) and, under
 * `--json`, an `{ "error": ... }` object on stdout.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (or the help / version text).
      return error.exitCode;
    }
    const failure = formatFailure(error);
    io.stderr(`${failure.message}\n`);
    if (argv.includes('--verbose')) {
      let current: unknown = error;
      while (current instanceof Error) {
        io.stderr(`${current.stack ?? current.message}\n`);
        current = current.cause;
        if (current !== undefined) io.stderr('Caused by: ');
      }
    }
    const cliError = error instanceof TributaryCliError ? error : undefined;
    if (argv.includes('--json') && !cliError?.jsonPrinted)
      io.stdout(`${JSON.stringify({ error: failure })}\n`);
    return cliError?.exitCode ?? 1;
  }
}
