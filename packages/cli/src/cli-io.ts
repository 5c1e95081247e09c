/** Where the CLI writes and what it reads from its environment; injectable for tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** Relative paths in flags resolve against this folder. */
  cwd: string;
  /**
   * A terminal to draw progress bars on (stderr when it is a TTY). Absent: progress is printed as
   * plain lines (CI, pipes, tests).
   */
  progressStream?: NodeJS.WritableStream | undefined;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    progressStream: process.stderr.isTTY ? process.stderr : undefined,
  };
}
