-- tributary:supabase-shim
-- Emulates the few Supabase objects the Tributary schema relies on, so the same migrations run on
-- plain PostgreSQL and PGlite: the API roles, auth.uid()/auth.jwt()/auth.role() reading the
-- PostgREST request settings, an `extensions` schema, a minimal `storage` schema, and Supabase's
-- default privileges on `public`. Every part is guarded: on a real Supabase project, where these
-- objects already exist, this file changes nothing (and it is never exported to supabase/migrations).

do $shim$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$shim$;

create schema if not exists extensions;
grant usage on schema extensions to anon, authenticated, service_role;

do $shim$
begin
  if to_regnamespace('auth') is not null then
    return; -- Supabase (or a host) already provides auth.*
  end if;

  create schema auth;
  comment on schema auth is 'tributary supabase shim';
  grant usage on schema auth to anon, authenticated, service_role;

  -- Same definitions as Supabase: the claims PostgREST puts into request.jwt.claims for each request.
  -- Like Supabase's, they carry no SET clause, so the planner can inline them into policies (a
  -- function with SET is never inlined); they only call pg_catalog functions.
  create function auth.uid() returns uuid
    language sql stable
    as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
    $fn$;

  create function auth.role() returns text
    language sql stable
    as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
    $fn$;

  create function auth.jwt() returns jsonb
    language sql stable
    as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $fn$;

  grant execute on function auth.uid(), auth.role(), auth.jwt() to anon, authenticated, service_role;
end
$shim$;

do $shim$
begin
  if to_regnamespace('storage') is not null then
    return; -- Supabase Storage is installed
  end if;

  create schema storage;
  comment on schema storage is 'tributary supabase shim';
  grant usage on schema storage to anon, authenticated, service_role;

  create table storage.buckets (
    id text primary key,
    name text not null unique,
    owner uuid,
    public boolean not null default false,
    file_size_limit bigint,
    allowed_mime_types text[],
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );

  create table storage.objects (
    id uuid primary key default gen_random_uuid(),
    bucket_id text not null references storage.buckets (id),
    name text not null,
    owner uuid,
    owner_id text,
    metadata jsonb,
    user_metadata jsonb,
    version text,
    path_tokens text[] generated always as (string_to_array(name, '/')) stored,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    last_accessed_at timestamptz not null default now(),
    constraint objects_bucket_id_name_key unique (bucket_id, name)
  );
  alter table storage.buckets enable row level security;
  alter table storage.objects enable row level security;

  -- storage.foldername('org/a/b/file.pdf') = {org,a,b}, as on Supabase.
  create function storage.foldername(name text) returns text[]
    language sql immutable set search_path = ''
    as $fn$
      select (pg_catalog.string_to_array(name, '/'))[1:pg_catalog.array_length(pg_catalog.string_to_array(name, '/'), 1) - 1]
    $fn$;
  create function storage.filename(name text) returns text
    language sql immutable set search_path = ''
    as $fn$
      select (pg_catalog.string_to_array(name, '/'))[pg_catalog.array_length(pg_catalog.string_to_array(name, '/'), 1)]
    $fn$;
  create function storage.extension(name text) returns text
    language sql immutable set search_path = ''
    as $fn$
      select pg_catalog.lower(pg_catalog.split_part(storage.filename(name), '.', -1))
    $fn$;
  grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text)
    to anon, authenticated, service_role;

  grant select on storage.buckets to anon, authenticated;
  grant all on storage.buckets, storage.objects to service_role;
  grant select, insert, update, delete on storage.objects to anon, authenticated;
  -- The storage API acts for service_role with RLS bypassed; bucket rows are public metadata.
  create policy "buckets are readable" on storage.buckets for select to anon, authenticated using (true);
end
$shim$;

-- Supabase grants the API roles everything on new objects in `public` by default; the shim does
-- the same so that our explicit revokes and grants are tested against Supabase's real behaviour.
do $shim$
begin
  if exists (
    select from pg_catalog.pg_default_acl a
    join pg_catalog.pg_namespace n on n.oid = a.defaclnamespace
    where n.nspname = 'public' and a.defaclobjtype = 'r'
  ) then
    return;
  end if;
  alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
  alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
  alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
  grant usage on schema public to anon, authenticated, service_role;
end
$shim$;
