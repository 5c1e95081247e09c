// `openai` is an optional peer: the published type declarations must not import it, or a host
// without it installed fails to typecheck (`Cannot find module 'openai'`) just by importing us.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

describe('type declarations', () => {
  it('never import the optional openai package', () => {
    const declarations = readdirSync(dist).filter((name) => /\.d\.c?ts$/.test(name));
    expect(declarations.length, 'build the package first (turbo runs build before test)').toBeGreaterThan(0);
    for (const name of declarations) {
      const text = readFileSync(join(dist, name), 'utf8');
      expect(text, name).not.toMatch(/from ['"]openai['"]|import\(['"]openai['"]\)/);
    }
  });
});
