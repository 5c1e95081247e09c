// What does writing vectors as pgvector text cost? Two ways to format 1536-dimension embeddings:
// `join(',')` (JavaScript's shortest double form, what the RPC repositories used before) and 9
// significant digits of each value's float32 rounding, zeros as `0` (the body of core's
// `vectorText`, packages/core/src/store/rpc-chunks.ts, copied here because it is internal; its
// exactness is tested in packages/core/test/vector-text.test.ts). pgvector stores float32, and 9
// digits always read back as the same float32.
//
// Run: pnpm --filter @tributary/bench vector-text   (BENCH_VECTORS, default 2000; BENCH_ROUNDS, default 5)
const VECTORS = Number(process.env.BENCH_VECTORS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DIMENSIONS = 1536;

function joined(vector: readonly number[]): string {
  return `[${vector.join(',')}]`;
}

function float32Digits(vector: readonly number[]): string {
  let text = '[';
  for (let index = 0; index < vector.length; index++) {
    if (index > 0) text += ',';
    const value = Math.fround(vector[index] as number);
    text += value === 0 ? '0' : value.toPrecision(9);
  }
  return `${text}]`;
}

// The same digits written into one reused buffer (what vectorText does now): no rope of 2n string
// pieces kept alive while a vector is written, so nothing of it is promoted to the old generation.
let scratch = Buffer.alloc(16 * 1024);
function float32DigitsBuffer(vector: readonly number[]): string {
  const most = vector.length * 16 + 2;
  if (scratch.length < most) scratch = Buffer.alloc(Math.max(most, scratch.length * 2));
  let offset = 0;
  scratch[offset++] = 0x5b;
  for (let index = 0; index < vector.length; index++) {
    if (index > 0) scratch[offset++] = 0x2c;
    const value = Math.fround(vector[index] as number);
    if (value === 0) scratch[offset++] = 0x30;
    else offset += scratch.write(value.toPrecision(9), offset, 'latin1');
  }
  scratch[offset++] = 0x5d;
  return scratch.toString('latin1', 0, offset);
}

// Unit-length vectors with values like a real embedder's (about +-1/sqrt(1536)), deterministic.
let seed = 7;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const vectors = Array.from({ length: VECTORS }, () => {
  const values = Array.from({ length: DIMENSIONS }, () => random() * 2 - 1);
  const norm = Math.hypot(...values);
  return values.map((value) => value / norm);
});

const formats: [string, (vector: readonly number[]) => string][] = [
  ['join (before)', joined],
  ['float32, 9 digits (string)', float32Digits],
  ['float32, 9 digits (buffer)', float32DigitsBuffer],
];
const best = new Map<string, { ms: number; chars: number }>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, format] of formats) {
    const started = performance.now();
    let chars = 0;
    for (const vector of vectors) chars += format(vector).length;
    const ms = performance.now() - started;
    const previous = best.get(name);
    if (!previous || ms < previous.ms) best.set(name, { ms, chars });
  }
}
console.log(`${VECTORS} vectors of ${DIMENSIONS} dimensions, best of ${ROUNDS} rounds`);
for (const [name, { ms, chars }] of best) {
  console.log(
    `  ${name.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms (${((ms * 1000) / VECTORS).toFixed(0)} us a vector), ` +
      `${(chars / VECTORS / DIMENSIONS).toFixed(1)} characters a value, ${(chars / VECTORS / 1024).toFixed(1)} KB a vector`,
  );
}
