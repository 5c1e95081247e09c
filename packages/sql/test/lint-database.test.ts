import type { PGlite } from '@electric-sql/pglite';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LintDatabaseOptions, type LintFinding, lintDatabase, lintRules } from '../src/lint-database.js';
import { fromPglite, type SqlDatabase, type SqlQueryable } from '../src/sql-database.js';

/** Supabase's API roles and auth.uid(), as on a Supabase project (created only when missing). */
const supabaseShim = `
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then create role anon nologin; end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then create role authenticated nologin; end if;
  if not exists (select from pg_roles where rolname = 'service_role') then create role service_role nologin bypassrls; end if;
end
$$;
create schema if not exists auth;
create or replace function auth.uid() returns uuid language sql stable set search_path = '' as $$
  select (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid
$$;
create schema if not exists extensions;
create extension if not exists vector with schema extensions;
`;

/** A small schema that follows every rule: it must lint clean. */
const cleanSchema = `
create schema app_private;
create table app_private.members (
  user_id uuid not null,
  org_id uuid not null,
  primary key (user_id, org_id)
);
create index members_org_id_idx on app_private.members (org_id);

create function app_private.user_org_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$ select m.org_id from app_private.members m where m.user_id = (select auth.uid()) $$;
revoke all on function app_private.user_org_ids() from public;
grant usage on schema app_private to authenticated;
grant execute on function app_private.user_org_ids() to authenticated;

create table public.orgs (id uuid primary key, name text not null);
create table public.docs (
  id uuid primary key,
  org_id uuid not null references public.orgs (id),
  owner uuid,
  title text not null,
  token_count int,
  secret_id uuid,
  encrypted_credentials bytea,
  embedding extensions.vector(3)
);
create index docs_org_id_title_idx on public.docs (org_id, title);
alter table public.orgs enable row level security;
alter table public.docs enable row level security;

create policy orgs_select on public.orgs for select to authenticated
  using (id = any (array(select app_private.user_org_ids())));
create policy docs_select on public.docs for select to authenticated
  using (org_id = any (array(select app_private.user_org_ids())));
create policy docs_insert on public.docs for insert to authenticated
  with check (org_id = any (array(select app_private.user_org_ids())) and owner = (select auth.uid()));
create policy docs_service on public.docs for all to service_role using (true) with check (true);

create view public.doc_titles with (security_invoker = true) as select id, title from public.docs;

create function public.search_docs(query text) returns setof public.docs
language sql stable set search_path = ''
as $$ select * from public.docs d where d.title ilike query $$;

grant select on public.orgs, public.docs, public.doc_titles to authenticated;
grant insert on public.docs to authenticated;
grant select, insert, update, delete on public.orgs, public.docs to service_role;
`;

const options: LintDatabaseOptions = { schemas: ['public'], privateSchemas: ['app_private'] };

class Rollback extends Error {}

let pglite: PGlite;
let db: SqlDatabase;

/** Runs `sql` in a transaction, lints inside it, and rolls everything back. */
async function lintWith(sql: string, lintOptions: LintDatabaseOptions = options): Promise<LintFinding[]> {
  let findings: LintFinding[] = [];
  await db
    .transaction(async (tx: SqlQueryable) => {
      await tx.exec(sql);
      findings = await lintDatabase(tx, lintOptions);
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
  return findings;
}

const summary = (findings: LintFinding[]) =>
  findings.map(({ rule, level, object }) => ({ rule, level, object }));

beforeAll(async () => {
  pglite = await createPgliteDatabase();
  db = fromPglite(pglite);
  await db.exec(supabaseShim);
  await db.exec(cleanSchema);
});

afterAll(async () => {
  await pglite?.close();
});

describe('lintDatabase', () => {
  it('finds nothing in a schema that follows the rules', async () => {
    expect(await lintDatabase(db, options)).toEqual([]);
  });

  it('reports the private schema only when asked to look at it', async () => {
    const findings = await lintWith(
      'create function app_private.helper() returns int language sql as $$ select 1 $$;',
      {
        schemas: ['public'],
      },
    );
    expect(findings).toEqual([]);
  });

  const cases: { rule: string; sql: string; expected: Omit<LintFinding, 'message'>[] }[] = [
    {
      rule: 'unindexed_foreign_keys',
      sql: `create table app_private.notes (id int primary key, doc_id uuid references public.docs (id));
            create index notes_id_doc_id_idx on app_private.notes (id, doc_id);`,
      expected: [
        { rule: 'unindexed_foreign_keys', level: 'warn', object: 'app_private.notes.notes_doc_id_fkey' },
      ],
    },
    {
      rule: 'auth_rls_initplan',
      sql: `create policy docs_update on public.docs for update to authenticated
              using (owner = auth.uid() and org_id = any (array(select app_private.user_org_ids())));`,
      expected: [{ rule: 'auth_rls_initplan', level: 'warn', object: 'public.docs.docs_update' }],
    },
    {
      rule: 'auth_rls_initplan (inside a correlated sub-select, and current_setting)',
      sql: `create policy docs_update on public.docs for update to authenticated
              using (exists (select 1 from app_private.members m where m.org_id = docs.org_id and m.user_id = auth.uid()));
            create policy docs_delete on public.docs for delete to authenticated
              using (current_setting('app.mode', true) = 'admin');`,
      expected: [
        { rule: 'auth_rls_initplan', level: 'warn', object: 'public.docs.docs_delete' },
        { rule: 'auth_rls_initplan', level: 'warn', object: 'public.docs.docs_update' },
      ],
    },
    {
      rule: 'multiple_permissive_policies',
      sql: `create policy docs_select_own on public.docs for select to authenticated using (owner = (select auth.uid()));`,
      expected: [{ rule: 'multiple_permissive_policies', level: 'warn', object: 'public.docs' }],
    },
    {
      rule: 'multiple_permissive_policies (FOR ALL overlaps SELECT and INSERT)',
      sql: `create policy docs_all on public.docs for all to authenticated using (owner = (select auth.uid()));`,
      expected: [
        { rule: 'multiple_permissive_policies', level: 'warn', object: 'public.docs' },
        { rule: 'multiple_permissive_policies', level: 'warn', object: 'public.docs' },
      ],
    },
    {
      rule: 'multiple_permissive_policies (a PUBLIC policy applies to authenticated)',
      sql: `create policy orgs_named on public.orgs for select using (name <> '');`,
      expected: [
        { rule: 'multiple_permissive_policies', level: 'warn', object: 'public.orgs' },
        { rule: 'policy_role_public', level: 'warn', object: 'public.orgs.orgs_named' },
      ],
    },
    {
      rule: 'policy_exists_rls_disabled',
      sql: `create table app_private.audit (id int primary key);
            create policy audit_read on app_private.audit for select to authenticated using (id > 0);`,
      expected: [{ rule: 'policy_exists_rls_disabled', level: 'error', object: 'app_private.audit' }],
    },
    {
      rule: 'rls_enabled_no_policy',
      sql: `create table public.jobs (id int primary key); alter table public.jobs enable row level security;`,
      expected: [{ rule: 'rls_enabled_no_policy', level: 'warn', object: 'public.jobs' }],
    },
    {
      rule: 'rls_disabled_in_public',
      sql: 'create table public.logs (id int primary key);',
      expected: [{ rule: 'rls_disabled_in_public', level: 'error', object: 'public.logs' }],
    },
    {
      rule: 'duplicate_index',
      sql: 'create index docs_org_id_title_idx2 on public.docs (org_id, title);',
      expected: [{ rule: 'duplicate_index', level: 'warn', object: 'public.docs' }],
    },
    {
      rule: 'security_definer_view',
      sql: 'create view public.doc_ids as select id from public.docs;',
      expected: [{ rule: 'security_definer_view', level: 'error', object: 'public.doc_ids' }],
    },
    {
      rule: 'function_search_path_mutable',
      sql: 'create function app_private.helper(n int) returns int language sql as $$ select n $$;',
      expected: [
        { rule: 'function_search_path_mutable', level: 'warn', object: 'app_private.helper(n integer)' },
      ],
    },
    {
      rule: 'extension_in_public',
      sql: 'alter extension vector set schema public;',
      expected: [{ rule: 'extension_in_public', level: 'warn', object: 'vector' }],
    },
    {
      rule: 'policy_role_public',
      sql: `create policy docs_delete on public.docs for delete
              using (org_id = any (array(select app_private.user_org_ids())));`,
      expected: [{ rule: 'policy_role_public', level: 'warn', object: 'public.docs.docs_delete' }],
    },
    {
      rule: 'rls_policy_always_true',
      sql: 'create policy docs_update on public.docs for update to authenticated using (true);',
      expected: [{ rule: 'rls_policy_always_true', level: 'warn', object: 'public.docs.docs_update' }],
    },
    {
      rule: 'anon_security_definer_function_executable (default EXECUTE to PUBLIC reaches both roles)',
      sql: `create function public.doc_count() returns bigint language sql security definer set search_path = ''
              as $$ select count(*) from public.docs $$;`,
      expected: [
        { rule: 'anon_security_definer_function_executable', level: 'error', object: 'public.doc_count()' },
        {
          rule: 'authenticated_security_definer_function_executable',
          level: 'warn',
          object: 'public.doc_count()',
        },
      ],
    },
    {
      rule: 'authenticated_security_definer_function_executable',
      sql: `create function public.doc_count() returns bigint language sql security definer set search_path = ''
              as $$ select count(*) from public.docs $$;
            revoke all on function public.doc_count() from public;
            grant execute on function public.doc_count() to authenticated;`,
      expected: [
        {
          rule: 'authenticated_security_definer_function_executable',
          level: 'warn',
          object: 'public.doc_count()',
        },
      ],
    },
    {
      rule: 'sensitive_columns_exposed',
      sql: `alter table public.orgs add column api_key text, add column max_tokens int, add column webhook_secret_id uuid;`,
      expected: [{ rule: 'sensitive_columns_exposed', level: 'error', object: 'public.orgs.api_key' }],
    },
    {
      rule: 'public_bucket_allows_listing',
      sql: `create schema storage;
            create table storage.buckets (id text primary key, name text not null, public boolean not null default false);
            create table storage.objects (id uuid primary key, bucket_id text references storage.buckets (id), name text);
            create index objects_bucket_id_idx on storage.objects (bucket_id);
            alter table storage.buckets enable row level security;
            alter table storage.objects enable row level security;
            insert into storage.buckets values ('avatars', 'avatars', true), ('files', 'files', false);
            create policy avatars_list on storage.objects for select to anon using (bucket_id = 'avatars');
            create policy files_read on storage.objects for select to authenticated using (bucket_id = 'files');`,
      expected: [{ rule: 'public_bucket_allows_listing', level: 'warn', object: 'storage.buckets.avatars' }],
    },
  ];

  it.each(cases)('$rule fires on a bad object', async ({ sql, expected }) => {
    expect(summary(await lintWith(sql))).toEqual(expected);
  });

  it('has a failing case for every rule', () => {
    const covered = new Set(cases.flatMap((c) => c.expected.map((e) => e.rule)));
    expect([...covered].sort()).toEqual([...lintRules].sort());
  });

  it('accepts column-level grants that leave credential columns out', async () => {
    const findings = await lintWith(`
      alter table public.orgs add column client_secret text;
      revoke select on public.orgs from authenticated;
      grant select (id, name) on public.orgs to authenticated;`);
    expect(findings).toEqual([]);
    const exposed = await lintWith('alter table public.orgs add column client_secret text;');
    expect(summary(exposed)).toEqual([
      { rule: 'sensitive_columns_exposed', level: 'error', object: 'public.orgs.client_secret' },
    ]);
  });

  it('explains what is wrong and how to fix it', async () => {
    const [finding] = await lintWith('create table public.logs (id int primary key);');
    expect(finding?.message).toMatch(/row level security is disabled/);
    expect(finding?.message).toContain('alter table public.logs enable row level security');
  });

  it('ignores objects that belong to extensions', async () => {
    // vector installs its functions (no search_path setting) in its schema; moving it into an
    // owned schema must not report them, only the extension's placement.
    const findings = await lintWith('alter extension vector set schema app_private;', {
      schemas: ['public'],
      privateSchemas: ['app_private'],
    });
    expect(findings).toEqual([]);
  });
});
