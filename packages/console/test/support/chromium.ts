import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Debian's Chromium, installed by scripts/install-chromium.sh (which records its path in
 * .tools/chromium-path); TRIBUTARY_CHROMIUM overrides. Missing: the test fails and says how to
 * install it (it never skips).
 */
export function chromiumPath(): string {
  const fromEnv = process.env.TRIBUTARY_CHROMIUM;
  if (fromEnv) return fromEnv;
  const recorded = fileURLToPath(new URL('../../../../.tools/chromium-path', import.meta.url));
  if (existsSync(recorded)) {
    const path = readFileSync(recorded, 'utf8').trim();
    if (existsSync(path)) return path;
  }
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  throw new Error(
    '[tributary] [console] no Chromium for the browser test: run scripts/install-chromium.sh (or set TRIBUTARY_CHROMIUM to a Chromium executable)',
  );
}
