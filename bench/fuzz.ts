// A longer fuzz run than the tests' bounded ones: fast-check drives core's extractor registry
// with random bytes and with mutations of every file in the fidelity corpus (all formats), and
// the URL normaliser and Markdown image stripper with random strings. Every input must end in a
// result or a typed TributaryError; anything else (or an input slower than HANG_MS) is printed
// with the seed to replay it. FUZZ_RUNS (default 2000 per property) and FUZZ_SEED tune it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalizeUrl } from '@tributary/connector-url';
import { createExtractorRegistry, normalizeText, stripInlineImages, TributaryError } from '@tributary/core';
import fc from 'fast-check';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const HANG_MS = 10_000;
const registry = createExtractorRegistry();
const corpus = join(new URL('.', import.meta.url).pathname, 'fidelity-corpus', 'files');
const seeds = readdirSync(corpus).map((name) => ({
  name,
  bytes: new Uint8Array(readFileSync(join(corpus, name))),
}));

const outcomes = { results: 0, typedErrors: 0 };
let slowest = { ms: 0, what: '' };

async function extractOnce(bytes: Uint8Array, fileName: string | undefined): Promise<void> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      registry.extract({ bytes, fileName }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`hang: over ${HANG_MS} ms`)), HANG_MS);
      }),
    ]);
    outcomes.results += 1;
  } catch (error) {
    if (!TributaryError.isInstance(error)) throw error;
    outcomes.typedErrors += 1;
  } finally {
    clearTimeout(timer);
    const ms = performance.now() - started;
    if (ms > slowest.ms) slowest = { ms, what: `${fileName ?? 'unnamed'} (${bytes.byteLength} bytes)` };
  }
}

const mutated = fc
  .tuple(
    fc.constantFrom(...seeds),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 16 }),
    fc.option(fc.nat(), { nil: undefined }),
    fc.boolean(),
  )
  .map(([seed, writes, cut, keepName]) => {
    const bytes = Uint8Array.from(seed.bytes);
    for (const [position, value] of writes) bytes[position % bytes.length] = value;
    return {
      bytes: cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1)),
      fileName: keepName ? seed.name : undefined,
    };
  });

const properties: Array<[string, () => Promise<void> | void]> = [
  [
    'extract(random bytes)',
    () =>
      fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 8192 }),
          fc.constantFrom(undefined, 'a.pdf', 'a.docx', 'a.xlsx', 'a.pptx', 'a.html', 'a.vtt', 'a.csv'),
          (bytes, name) => extractOnce(bytes, name),
        ),
        { numRuns: RUNS, seed: SEED },
      ),
  ],
  [
    'extract(mutated corpus file)',
    () =>
      fc.assert(
        fc.asyncProperty(mutated, ({ bytes, fileName }) => extractOnce(bytes, fileName)),
        { numRuns: RUNS, seed: SEED },
      ),
  ],
  [
    'canonicalizeUrl(random string)',
    () =>
      fc.assert(
        fc.property(
          fc.oneof(
            fc.webUrl({ withQueryParameters: true, withFragments: true }),
            fc.string({ unit: 'binary', maxLength: 200 }),
          ),
          (input) => {
            const canonical = canonicalizeUrl(input);
            if (canonical !== undefined && canonicalizeUrl(canonical) !== canonical)
              throw new Error(`not a fixed point: ${input}`);
          },
        ),
        { numRuns: RUNS * 10, seed: SEED },
      ),
  ],
  [
    'stripInlineImages/normalizeText(random string)',
    () =>
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
          const once = normalizeText(stripInlineImages(text));
          if (normalizeText(once) !== once) throw new Error('normalizeText is not idempotent');
        }),
        { numRuns: RUNS * 10, seed: SEED },
      ),
  ],
];

console.log(`fuzz: seed ${SEED}, ${RUNS} runs per extractor property, ${seeds.length} corpus files as seeds`);
let failed = false;
for (const [name, run] of properties) {
  const started = performance.now();
  try {
    await run();
    console.log(`  ok    ${name.padEnd(48)} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    failed = true;
    console.log(`  FAIL  ${name}\n${String(error).slice(0, 2000)}`);
  }
}
console.log(
  `extractions: ${outcomes.results} results, ${outcomes.typedErrors} typed errors; slowest ${slowest.ms.toFixed(0)} ms (${slowest.what})`,
);
process.exit(failed ? 1 : 0);
