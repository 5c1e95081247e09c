// A CLI or a plugin on a Node.js older than its engines range says so, instead of failing deep
// inside a dependency.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConnectorPlugin } from '../src/connector-plugin.js';
import { nodeTooOldMessage, pluginNodeRange } from '../src/node-version.js';

describe('nodeTooOldMessage', () => {
  it('names the range, the running version and what to do', () => {
    const message = nodeTooOldMessage('@tributary/connector-url', '>=22.19', 'v20.20.2');
    expect(message).toContain('@tributary/connector-url needs Node.js >=22.19');
    expect(message).toContain('this is Node.js 20.20.2');
    expect(message).toContain('nvm install 22');
  });

  it('is silent for a version in range and for a range it cannot read', () => {
    expect(nodeTooOldMessage('x', '>=22.19', '22.23.5')).toBeUndefined();
    expect(nodeTooOldMessage('x', '>=22.13.0 || >=24', '24.1.0')).toBeUndefined();
    expect(nodeTooOldMessage('x', 'not a range', '12.0.0')).toBeUndefined();
  });
});

describe('loading a plugin built for a newer Node.js', () => {
  let cwd: string;
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'tributary-cli-node-version-'));
    await writeFile(join(cwd, 'package.json'), JSON.stringify({ name: 'host-app', type: 'module' }));
    const write = async (name: string, range: string) => {
      const folder = join(cwd, 'node_modules', name);
      await mkdir(folder, { recursive: true });
      await writeFile(
        join(folder, 'package.json'),
        JSON.stringify({ name, type: 'module', exports: './index.js', engines: { node: range } }),
      );
      // What an old Node.js does to a dependency that needs a newer one.
      await writeFile(
        join(folder, 'index.js'),
        'throw new TypeError("Cannot read properties of undefined (reading \'bind\')");\n',
      );
    };
    await write('future-plugin', '>=99');
    await write('current-plugin', '>=18');
  });
  afterAll(async () => {
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it('finds the range from the package the plugin resolves to', () => {
    expect(pluginNodeRange('future-plugin', 'future-plugin', cwd)).toBe('>=99');
  });

  it('names the Node.js it needs, with the original failure kept', async () => {
    const failure = loadConnectorPlugin('future-plugin', { cwd });
    await expect(failure).rejects.toMatchObject({ code: 'node_too_old' });
    await expect(failure).rejects.toThrow(
      /future-plugin needs Node\.js >=99; this is Node\.js \d+\.\d+\.\d+/,
    );
    await expect(failure).rejects.toThrow(/reading 'bind'/);
  });

  it('reports any other import failure as it is', async () => {
    const failure = loadConnectorPlugin('current-plugin', { cwd });
    await expect(failure).rejects.toMatchObject({ code: 'plugin_import_failed' });
    await expect(failure).rejects.toThrow(
      /cannot load the connector plugin current-plugin: Cannot read properties/,
    );
  });
});
