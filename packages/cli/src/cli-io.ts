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
  /**
   * Reads one secret: from a prompt with echo off on a terminal, else all of stdin. Secrets never
   * come from argv (they would land in shell history and `ps`).
   */
  readSecret?: ((prompt: string) => Promise<string>) | undefined;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    progressStream: process.stderr.isTTY ? process.stderr : undefined,
    readSecret: readProcessSecret,
  };
}

async function readProcessSecret(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  const { createInterface } = await import('node:readline');
  process.stderr.write(prompt);
  // Echo off: the terminal shows nothing while the secret is typed.
  const muted = new (await import('node:stream')).Writable({ write: (_chunk, _encoding, done) => done() });
  const reader = createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve) => reader.question('', resolve));
  } finally {
    reader.close();
    process.stderr.write('\n');
  }
}
