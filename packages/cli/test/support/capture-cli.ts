// Runs the CLI in process with its output captured, the way every CLI test drives it.
import { type CliIo, runCli } from '../../src/index.js';

export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `runCli(argv)` with stdout and stderr collected; `io` gives the folder, environment and the rest. */
export async function captureCli(
  argv: readonly string[],
  io: Omit<CliIo, 'stdout' | 'stderr' | 'env'> & { env?: CliIo['env'] | undefined },
): Promise<CapturedRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    ...io,
    env: io.env ?? {},
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}
