// Lints every migration with squawk (https://squawkhq.com) and fails on any finding that is not
// in squawk-baseline.json. Applied migrations are immutable (their checksums are recorded), so
// the baseline lists the findings of the files that shipped, each justified in the README
// ("Operational safety"); a new migration must come with no new finding, or a justified entry.
// `node scripts/lint-migrations.mjs --update` rewrites the baseline (review the diff!).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const baselinePath = join(root, 'squawk-baseline.json');
const files = readdirSync(join(root, 'migrations'))
  .filter((name) => name.endsWith('.sql'))
  .sort()
  .map((name) => `migrations/${name}`);

const squawk = join(
  dirname(createRequire(import.meta.url).resolve('squawk-cli/package.json')),
  'js',
  'bin',
  'squawk',
);
let output;
try {
  output = execFileSync(
    process.execPath,
    [squawk, '--config', '.squawk.toml', '--reporter', 'json', ...files],
    {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
} catch (error) {
  // squawk exits non-zero when it finds anything; its JSON is still on stdout.
  output = error.stdout;
  if (!output) throw error;
}
const findings = JSON.parse(output)
  .map((finding) => `${finding.file}:${finding.line}:${finding.rule_name}`)
  .sort();

if (process.argv.includes('--update')) {
  writeFileSync(baselinePath, `${JSON.stringify(findings, null, 2)}\n`);
  console.log(`squawk: baseline rewritten with ${findings.length} findings`);
  process.exit(0);
}

const baseline = new Set(JSON.parse(readFileSync(baselinePath, 'utf8')));
const fresh = findings.filter((finding) => !baseline.has(finding));
if (fresh.length > 0) {
  console.error(`squawk: ${fresh.length} new finding(s) in the migrations:\n  ${fresh.join('\n  ')}`);
  console.error(
    'Make the migration safe for large production tables (see "Operational safety" in packages/sql/README.md),\n' +
      'or, if the finding cannot apply, justify it there and add it with: node scripts/lint-migrations.mjs --update',
  );
  process.exit(1);
}
console.log(
  `squawk: ${files.length} migration files, ${findings.length} known findings (justified in README), none new`,
);
