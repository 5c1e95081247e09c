import { readFile } from 'node:fs/promises';
import type { PGlite } from '@electric-sql/pglite';
import type { SupabaseClient } from '@supabase/supabase-js';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseTypesPath, exposedSchemas, renderBundledDatabaseTypes } from '../scripts/generate-types.js';
import type { Database, Tables } from '../src/database.types.js';
import { lintDatabase } from '../src/lint-database.js';
import { migrate } from '../src/migration-runner.js';
import { fromPglite, type SqlDatabase } from '../src/sql-database.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Checked by `tsc` (the package typecheck): the committed types work with supabase-js. */
async function typedQueries(client: SupabaseClient<Database>) {
  const { data } = await client.from('imported_documents').select();
  const rows: Equal<NonNullable<typeof data>[number], Tables<'imported_documents'>> = true;
  await client.from('connector_configs').insert({ connector_type: 'drive', name: 'Drive', org_id: 'org' });
  // @ts-expect-error org_id is required
  await client.from('connector_configs').insert({ connector_type: 'drive', name: 'Drive' });
  const { data: stats } = await client.rpc('get_connector_stats', { p_org_id: 'org' });
  return { rows, stats };
}

let pglite: PGlite;
let db: SqlDatabase;

beforeAll(async () => {
  pglite = await createPgliteDatabase();
  db = fromPglite(pglite);
  await migrate(db);
});

afterAll(async () => {
  await pglite?.close();
});

describe('the bundled migrations', () => {
  it('pass every lint (exposed schema public, private schema tributary_private, storage policies)', async () => {
    const findings = await lintDatabase(db, {
      schemas: exposedSchemas,
      privateSchemas: ['tributary_private'],
    });
    expect(findings.map((f) => `${f.level} ${f.rule} ${f.object}: ${f.message}`)).toEqual([]);
  });

  it('give supabase-js typed queries through the committed types', () => {
    expect(typeof typedQueries).toBe('function');
  });

  it('match the committed src/database.types.ts (regenerate with `pnpm --filter @tributary/sql generate:types`)', async () => {
    const committed = await readFile(databaseTypesPath, 'utf8');
    expect(committed).toBe(await renderBundledDatabaseTypes(db));
  });
});
