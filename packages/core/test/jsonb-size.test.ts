// The in-memory adapter refuses cursors by the size PostgreSQL gives them (pg_column_size of the
// binary jsonb), so it must compute the same number: checked against PGlite value by value.
import type { PGlite } from '@electric-sql/pglite';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonbSize } from '../src/repository/jsonb-size.js';
import type { JsonValue } from '../src/spec/v1/json-value.js';

let pglite: PGlite;
beforeAll(async () => {
  pglite = await createPgliteDatabase();
});
afterAll(async () => {
  await pglite?.close();
});

const folderId = (index: number) => `1${index.toString(36).padStart(8, '0')}AbCdEfGhIjKlMnOpQrStUvWx`;

const values: JsonValue[] = [
  null,
  true,
  0,
  -1,
  7,
  12345,
  1.5,
  -0.000123,
  1e21,
  5e-324,
  123456789.123456,
  Number.MAX_SAFE_INTEGER,
  '',
  'é and 日本',
  [],
  {},
  [1, 'a', null, [true, 2.5], { b: 1 }],
  { version: 1, phase: 'listing', pageToken: 'x'.repeat(37), counts: [1, 22, 333], nested: { a: [{}] } },
  { zz: 1, a: 'b', ab: 2, é: 3, B: [4, 'five'] },
  Object.fromEntries(
    Array.from({ length: 300 }, (_, index) => [
      folderId(index),
      { parent: index === 0 ? null : folderId(index - 1), name: `Folder ${index}`, root: index === 0 },
    ]),
  ),
];

describe('jsonbSize', () => {
  it('matches pg_column_size(value::jsonb) for scalars, arrays, objects and a folder map', async () => {
    for (const value of values) {
      const { rows } = await pglite.query<{ size: number }>('select pg_column_size($1::jsonb) as size', [
        JSON.stringify(value),
      ]);
      expect(jsonbSize(value), JSON.stringify(value).slice(0, 80)).toBe(Number(rows[0]?.size));
    }
  });
});
