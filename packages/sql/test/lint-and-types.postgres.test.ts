import { PGlite } from '@electric-sql/pglite';
import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDatabaseTypes } from '../src/generate-database-types.js';
import { lintDatabase } from '../src/lint-database.js';
import { fromPg, fromPglite, type SqlDatabase } from '../src/sql-database.js';

// The same catalog queries through node-postgres (its own type parsing) on a real PostgreSQL.
const schema = `
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then create role anon nologin; end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then create role authenticated nologin; end if;
  if not exists (select from pg_roles where rolname = 'service_role') then create role service_role nologin bypassrls; end if;
end
$$;
create schema auth;
create function auth.uid() returns uuid language sql stable set search_path = ''
  as $$ select (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid $$;
create type public.kind as enum ('note', 'task');
create table public.items (
  id bigint generated always as identity primary key,
  owner uuid not null default auth.uid(),
  kind public.kind not null default 'note',
  body text,
  tags text[] not null default '{}',
  body_length int generated always as (length(body)) stored
);
create index items_owner_idx on public.items (owner);
alter table public.items enable row level security;
create policy items_select on public.items for select to authenticated using (owner = (select auth.uid()));
create policy items_insert on public.items for insert to authenticated with check (owner = (select auth.uid()));
create function public.my_items(max_rows int default 10) returns setof public.items
  language sql stable set search_path = '' as $$ select * from public.items limit max_rows $$;
grant select, insert on public.items to authenticated;
`;

let server: PostgresServer;
let db: SqlDatabase;

beforeAll(async () => {
  server = await startPostgresServer();
  db = fromPg(server.pool(await server.createDatabase()));
  await db.exec(schema);
});

afterAll(async () => {
  await server?.stop();
});

describe('on PostgreSQL through node-postgres', () => {
  it('lints a clean schema clean and finds a bad policy', async () => {
    expect(await lintDatabase(db)).toEqual([]);
    await db.exec(
      'create policy items_update on public.items for update to authenticated using (owner = auth.uid());',
    );
    try {
      expect((await lintDatabase(db)).map((f) => [f.rule, f.object])).toEqual([
        ['auth_rls_initplan', 'public.items.items_update'],
      ]);
    } finally {
      await db.exec('drop policy items_update on public.items;');
    }
  });

  it('generates the same types as from PGlite', async () => {
    const pglite = await PGlite.create();
    try {
      await fromPglite(pglite).exec(schema);
      const fromServer = await generateDatabaseTypes(db);
      expect(fromServer).toBe(await generateDatabaseTypes(fromPglite(pglite)));
      expect(fromServer).toContain(`      my_items: {
        Args: { max_rows?: number }
        Returns: {
          body: string | null
          body_length: number | null
          id: number
          kind: Database["public"]["Enums"]["kind"]
          owner: string
          tags: string[]
        }[]`);
    } finally {
      await pglite.close();
    }
  });
});
