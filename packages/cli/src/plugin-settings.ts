import type { ConnectorV1 } from '@tributary/core';
import { loadConnectorFor } from './builtin-connectors.js';
import { TributaryCliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { readJsonFile } from './json-file.js';

/** `--settings` of `worker` and `serve`: `<plugin>=<file>`, the plugin as given to `--plugin`. */
export const pluginSettingsHelp =
  "<plugin>=<file>: JSON file passed to that --plugin's factory (a built-in connector's settings, e.g. a URL allowlist); repeat per plugin";

/**
 * Loads each `--plugin`, passing the JSON of its `--settings <plugin>=<file>` to its factory.
 * Every settings entry must name a plugin given with `--plugin`, once.
 */
export async function loadPlugins(
  plugins: readonly string[],
  settings: readonly string[] | undefined,
  io: Pick<CliIo, 'cwd'>,
): Promise<ConnectorV1[]> {
  const files = new Map<string, string>();
  for (const entry of settings ?? []) {
    const at = entry.indexOf('=');
    const plugin = at > 0 ? entry.slice(0, at) : '';
    const file = at > 0 ? entry.slice(at + 1) : '';
    if (plugin === '' || file === '') {
      throw new TributaryCliError(
        'invalid_settings',
        `--settings takes <plugin>=<file>, got "${entry}" (e.g. --settings @tributary/connector-url=url-settings.json)`,
      );
    }
    if (!plugins.includes(plugin)) {
      throw new TributaryCliError(
        'invalid_settings',
        `--settings names ${plugin}, which is not a --plugin of this command (given: ${plugins.length === 0 ? 'none' : plugins.join(', ')}); write the plugin exactly as given to --plugin`,
      );
    }
    if (files.has(plugin)) {
      throw new TributaryCliError(
        'invalid_settings',
        `--settings names ${plugin} twice; give one file per plugin`,
      );
    }
    files.set(plugin, file);
  }
  const connectors: ConnectorV1[] = [];
  for (const plugin of plugins) {
    const file = files.get(plugin);
    const value = file === undefined ? undefined : await readJsonFile(file, `--settings ${plugin}`, io);
    connectors.push((await loadConnectorFor('', { cwd: io.cwd, plugin, settings: value })).connector);
  }
  return connectors;
}
