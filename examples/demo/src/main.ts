// node --experimental-strip-types src/main.ts [--dir DIR] [--corpus DIR] [--query TEXT]
import { parseArgs } from 'node:util';
import { DEFAULT_CORPUS, DEFAULT_DIR, DEFAULT_QUERY, runDemo } from './demo.ts';

const usage = `usage: demo [--dir ${DEFAULT_DIR}] [--corpus ${DEFAULT_CORPUS}] [--query "${DEFAULT_QUERY}"]`;

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .replace(/\s+/g, ' ')
    .replace(/^\[tributary\]\s*/, '')
    .trim();
}

async function main(): Promise<void> {
  let values: {
    dir?: string | undefined;
    corpus?: string | undefined;
    query?: string | undefined;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      options: {
        dir: { type: 'string' },
        corpus: { type: 'string' },
        query: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`[tributary] ${oneLine(error)}\n${usage}\n`);
    process.exitCode = 2;
    return;
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  try {
    await runDemo({ dir: values.dir, corpus: values.corpus, query: values.query, out: process.stdout });
  } catch (error) {
    process.stderr.write(`[tributary] demo failed: ${oneLine(error)}\n`);
    process.exitCode = 1;
  }
}

await main();
