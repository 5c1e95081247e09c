import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { TributaryCliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';

/** Parses `text` as JSON; a typed error names `source` (the text may be a secret: never echoed). */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // JSON.parse quotes the text around the fault; a credentials file holds secrets, so only the
    // position (line and column when Node gives them) is repeated.
    const where = /(line \d+ column \d+|position \d+)/.exec(error instanceof Error ? error.message : '');
    throw new TributaryCliError(
      'invalid_json',
      `${source} is not valid JSON${where ? ` (at ${where[1]})` : ''}: check it with a JSON linter`,
    );
  }
}

/** Reads a JSON file given by a flag, resolved against the working directory. */
export async function readJsonFile(file: string, flag: string, io: Pick<CliIo, 'cwd'>): Promise<unknown> {
  const path = resolve(io.cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a folder'
          : code === 'EACCES'
            ? 'permission denied'
            : error instanceof Error
              ? error.message
              : String(error);
    throw new TributaryCliError('unreadable_file', `cannot read ${flag} file ${path}: ${reason}`);
  }
  return parseJson(text, `${flag} file ${path}`);
}

/** Like `readJsonFile`, for flags whose JSON must be an object (a config, settings). */
export async function readJsonObjectFile(
  file: string,
  flag: string,
  io: Pick<CliIo, 'cwd'>,
): Promise<Record<string, unknown>> {
  const value = await readJsonFile(file, flag, io);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TributaryCliError(
      'invalid_json',
      `${flag} file ${resolve(io.cwd, file)} must hold a JSON object`,
    );
  }
  return value as Record<string, unknown>;
}
