import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assertSupportedConnector, type ConnectorV1 } from '@tributary/core';
import { TributaryCliError } from './cli-error.js';
import { nodeTooOldMessage, pluginNodeRange } from './node-version.js';

/** True when `specifier` names a file rather than a package. */
function isPathLike(specifier: string): boolean {
  return (
    specifier.startsWith('.') ||
    isAbsolute(specifier) ||
    specifier.startsWith('file:') ||
    /\.(?:[cm]?js|ts)$/.test(specifier)
  );
}

/** The URL to `import()`: files resolve against `cwd`; packages from `cwd`'s node_modules first. */
function resolvePlugin(specifier: string, cwd: string): string {
  if (specifier.startsWith('file:')) return specifier;
  if (isPathLike(specifier)) {
    const file = resolve(cwd, specifier);
    if (!existsSync(file)) {
      throw new TributaryCliError('plugin_not_found', `connector plugin file ${file} does not exist`);
    }
    return pathToFileURL(file).href;
  }
  try {
    return pathToFileURL(createRequire(join(cwd, 'package.json')).resolve(specifier)).href;
  } catch {
    // ESM-only packages (no "require" export) or packages installed next to the CLI: let import() try.
    return specifier;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value !== 'object') return `a ${typeof value} (${JSON.stringify(value)})`;
  const keys = Object.keys(value);
  return `an object with ${keys.length === 0 ? 'no keys' : `keys ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', ...' : ''}`}`;
}

function unsupported(specifier: string, exportName: string, detail: string): TributaryCliError {
  return new TributaryCliError(
    'invalid_plugin',
    `export "${exportName}" of ${specifier} is not a Tributary connector: ${detail}. ` +
      'Export a connector built with defineConnector from @tributary/core, or a function returning one (choose it with --export NAME)',
  );
}

function checkConnector(value: unknown, specifier: string, exportName: string): ConnectorV1 {
  try {
    assertSupportedConnector(value);
  } catch (error) {
    const reason =
      error instanceof Error ? error.message.replace(/^\[tributary\]\s*(\[[^\]]*\]\s*)?/, '') : String(error);
    throw unsupported(specifier, exportName, `found ${describe(value)}; ${reason.replace(/\.$/, '')}`);
  }
  return value;
}

export interface LoadedPlugin {
  connector: ConnectorV1;
  /** The specifier as given and the export used, for messages. */
  specifier: string;
  exportName: string;
}

/**
 * Loads a connector plugin: `import()`s the module (a package name, or a file path resolved
 * against `cwd`), takes `exportName` (default: the default export), calls it when it is a factory
 * (with `factoryArgument`, usually none), and checks the result with `assertSupportedConnector`.
 */
export async function loadConnectorPlugin(
  specifier: string,
  options: {
    cwd: string;
    exportName?: string | undefined;
    /** Passed to the export when it is a factory (its settings: `--settings FILE`). */
    factoryArgument?: unknown;
  },
): Promise<LoadedPlugin> {
  const url = resolvePlugin(specifier, options.cwd);
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // A plugin built for a newer Node.js fails deep in a dependency (undici, say): name the cause.
    const range = pluginNodeRange(specifier, url, options.cwd);
    const tooOld = range ? nodeTooOldMessage(specifier, range, process.versions.node) : undefined;
    throw new TributaryCliError(
      tooOld ? 'node_too_old' : 'plugin_import_failed',
      tooOld
        ? `cannot load the connector plugin ${specifier}: ${tooOld} (the import failed with: ${reason})`
        : `cannot load the connector plugin ${specifier}: ${reason}`,
      {
        cause: error,
      },
    );
  }
  const exportName = options.exportName ?? 'default';
  if (!(exportName in module) || module[exportName] === undefined) {
    const names = Object.keys(module).filter((name) => name !== '__esModule');
    throw new TributaryCliError(
      'invalid_plugin',
      `${specifier} has no export "${exportName}"; it exports ${names.length === 0 ? 'nothing' : names.join(', ')} (choose one with --export NAME)`,
    );
  }
  let value = module[exportName];
  if (typeof value === 'function') {
    let made: unknown;
    try {
      made = await (value as (settings?: unknown) => unknown)(options.factoryArgument);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new TributaryCliError(
        'plugin_factory_failed',
        `calling export "${exportName}" of ${specifier} (a factory) failed: ${reason.replace(/^\[tributary\]\s*/, '')}`,
        { cause: error },
      );
    }
    if (typeof made !== 'object' || made === null) {
      throw unsupported(
        specifier,
        exportName,
        `it is a function that returned ${describe(made)}, not a connector object`,
      );
    }
    value = made;
  }
  return { connector: checkConnector(value, specifier, exportName), specifier, exportName };
}
