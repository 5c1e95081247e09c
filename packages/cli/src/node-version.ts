import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

/** The Node.js versions the CLI runs on (its package.json `engines.node`). */
export const CLI_NODE_RANGE = '>=22.13';

/**
 * The message for a Node.js outside `range` (an `engines.node` range such as `>=22.19`), or
 * undefined when `actual` satisfies it or the range cannot be read.
 */
export function nodeTooOldMessage(what: string, range: string, actual: string): string | undefined {
  const valid = semver.validRange(range);
  const version = semver.coerce(actual);
  if (!valid || !version || semver.satisfies(version, valid)) return undefined;
  return (
    `${what} needs Node.js ${range.trim()}; this is Node.js ${version.version}. ` +
    'Install Node.js 22 or newer (nodejs.org, or a version manager: nvm install 22) and run it again'
  );
}

/**
 * The `engines.node` range of the package a plugin module belongs to: found from the resolved
 * file (walking up to the nearest package.json with a name), or for a bare package name in
 * `cwd`'s node_modules. Undefined when there is none.
 */
export function pluginNodeRange(specifier: string, resolvedUrl: string, cwd: string): string | undefined {
  const candidates: string[] = [];
  const climb = (start: string, file: (directory: string) => string) => {
    let directory = start;
    for (let depth = 0; depth < 12; depth += 1) {
      candidates.push(file(directory));
      const parent = dirname(directory);
      if (parent === directory) return;
      directory = parent;
    }
  };
  if (resolvedUrl.startsWith('file:')) {
    climb(dirname(fileURLToPath(resolvedUrl)), (directory) => join(directory, 'package.json'));
  } else {
    const name = specifier.startsWith('@')
      ? specifier.split('/').slice(0, 2).join('/')
      : specifier.split('/')[0];
    if (name) climb(cwd, (directory) => join(directory, 'node_modules', name, 'package.json'));
  }
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    try {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as {
        name?: unknown;
        engines?: { node?: unknown };
      };
      if (typeof manifest.name !== 'string') continue;
      return typeof manifest.engines?.node === 'string' ? manifest.engines.node : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
