import { TributaryCliError } from './cli-error.js';
import { type LoadedPlugin, loadConnectorPlugin } from './connector-plugin.js';

/** A first-party connector: the npm package that holds it and its factory export. */
export interface BuiltinConnector {
  readonly packageName: string;
  readonly factory: string;
}

/**
 * The first-party connectors the CLI can run by the row's type, without a plugin file. Each lives
 * in its own npm package (so a host installs only the SDKs it uses); the CLI imports it from the
 * project it runs in.
 */
export const builtinConnectors: Readonly<Record<string, BuiltinConnector>> = {
  google_drive: { packageName: '@tributary/connector-google-drive', factory: 'createGoogleDriveConnector' },
  url: { packageName: '@tributary/connector-url', factory: 'createUrlConnector' },
  notion: { packageName: '@tributary/connector-notion', factory: 'createNotionConnector' },
  zoom: { packageName: '@tributary/connector-zoom', factory: 'createZoomConnector' },
  teams: { packageName: '@tributary/connector-teams', factory: 'createTeamsConnector' },
};

/** Types whose documents a host app pushes in: nothing for the CLI to list and sync. */
const pushedTypes: Readonly<Record<string, string>> = {
  upload: '@tributary/connector-upload',
};

function isMissingPackage(error: unknown, packageName: string): boolean {
  const text =
    error instanceof Error ? `${error.message} ${String((error.cause as Error | undefined)?.message)}` : '';
  return text.includes(packageName) && /Cannot find (package|module)|ERR_MODULE_NOT_FOUND/.test(text);
}

/**
 * The connector for a row of `connectorType`: `--plugin` when given, else the built-in package for
 * the type, made by its factory with `settings` (e.g. a URL allowlist, a page size).
 */
export async function loadConnectorFor(
  connectorType: string,
  options: {
    cwd: string;
    plugin?: string | undefined;
    exportName?: string | undefined;
    settings?: unknown;
  },
): Promise<LoadedPlugin> {
  if (options.plugin !== undefined) {
    // A first-party package named as a plugin: its factory is the connector (there is no default export).
    const firstParty = Object.values(builtinConnectors).find((entry) => entry.packageName === options.plugin);
    return loadConnectorPlugin(options.plugin, {
      cwd: options.cwd,
      exportName: options.exportName ?? firstParty?.factory,
      factoryArgument: options.settings,
    });
  }
  const pushed = pushedTypes[connectorType];
  if (pushed !== undefined) {
    throw new TributaryCliError(
      'connector_not_syncable',
      `"${connectorType}" connectors are fed by your app (see ${pushed}); there is nothing for tributary sync to list`,
    );
  }
  const builtin = builtinConnectors[connectorType];
  if (builtin === undefined) {
    throw new TributaryCliError(
      'plugin_required',
      `"${connectorType}" is not a built-in connector type (${Object.keys(builtinConnectors).join(', ')}): pass --plugin <package or file> with its connector plugin`,
    );
  }
  try {
    return await loadConnectorPlugin(builtin.packageName, {
      cwd: options.cwd,
      exportName: builtin.factory,
      factoryArgument: options.settings,
    });
  } catch (error) {
    if (isMissingPackage(error, builtin.packageName)) {
      throw new TributaryCliError(
        'connector_package_missing',
        `"${connectorType}" connectors need ${builtin.packageName}, which is not installed in ${options.cwd}: run npm install ${builtin.packageName} there`,
        { cause: error },
      );
    }
    throw error;
  }
}
