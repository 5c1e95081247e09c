-- Tenancy: who belongs to which organisation, with which role.
--
-- Tributary never references the host's tables. Policies ask two small security definer functions
-- in `tributary_private` (a schema the Data API does not expose) for the caller's organisations.
-- Both read the view `tributary_private.membership_source (user_id, org_id, role)`. By default that
-- view reads the membership table shipped here; a host that keeps membership elsewhere (e.g. a
-- `public.users` table with org_id and role columns) replaces the view: see the package README.

create schema if not exists tributary_private;
revoke all on schema tributary_private from public;
-- Policies call the membership functions with the caller's privileges, so the API roles need
-- USAGE on the schema and EXECUTE on those functions (and nothing else in it).
grant usage on schema tributary_private to authenticated, service_role;

create table if not exists tributary_private.memberships (
  user_id uuid not null,
  org_id uuid not null,
  role text not null default 'member',
  created_at timestamptz not null default now(),
  constraint memberships_pkey primary key (user_id, org_id),
  constraint memberships_role_check check (role in ('owner', 'admin', 'member'))
);
create index if not exists memberships_org_id_idx on tributary_private.memberships (org_id);
comment on table tributary_private.memberships is
  'Default membership store (user -> org, role owner/admin/member). Replace tributary_private.membership_source to use your own.';

create or replace view tributary_private.membership_source with (security_invoker = true) as
  select m.user_id, m.org_id, m.role from tributary_private.memberships m;
comment on view tributary_private.membership_source is
  'Where Tributary reads membership from: columns (user_id uuid, org_id uuid, role text in owner/admin/member). Redefine it to point at your own tables.';

-- Facts the migrations record about this install (e.g. an in-place upgrade of older tables).
create table if not exists tributary_private.install_facts (
  key text primary key,
  value jsonb not null,
  recorded_at timestamptz not null default now()
);

-- Organisations the current user belongs to. Wrapped as `(select ...)` in policies, it runs once per
-- statement, not once per row.
create or replace function tributary_private.user_org_ids()
returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select m.org_id
  from tributary_private.membership_source m
  where m.user_id = (select auth.uid())
$$;

-- Organisations where the current user holds one of `roles`. Takes no row value, so it is
-- evaluated once per statement.
create or replace function tributary_private.user_org_ids_with_role(roles text[])
returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select m.org_id
  from tributary_private.membership_source m
  where m.user_id = (select auth.uid()) and m.role = any (roles)
$$;

-- Raises unless the caller may act for p_org_id: a role that bypasses RLS (service_role, the
-- database owner) or a member of that organisation. Invoker rights on purpose: it must see the
-- caller's role, not the function owner's.
create or replace function tributary_private.assert_org_access(p_org_id uuid)
returns void
language plpgsql stable
set search_path = ''
as $$
begin
  if p_org_id is null then
    raise exception using errcode = '22004',
      message = '[tributary] org id is null',
      hint = 'Pass the id of the organisation to act for.';
  end if;
  if exists (
    select from pg_catalog.pg_roles r
    where r.rolname = current_user and (r.rolbypassrls or r.rolsuper)
  ) then
    return;
  end if;
  if not (p_org_id = any (array(select tributary_private.user_org_ids()))) then
    raise exception using errcode = '42501',
      message = format('[tributary] not a member of organisation %s', p_org_id),
      hint = 'Sign in as a member of that organisation, or call from the server with the service role.';
  end if;
end
$$;

create or replace function tributary_private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at = now();
  return new;
end
$$;

-- Adds a CHECK or FOREIGN KEY constraint if it is missing, then tries to validate it. On a table
-- upgraded in place, rows that break it are kept (the constraint still guards every new write) and
-- the violation is recorded in install_facts instead of failing the upgrade.
create or replace function tributary_private.ensure_constraint(p_table regclass, p_name text, p_definition text)
returns void
language plpgsql
set search_path = ''
as $$
begin
  if exists (select from pg_catalog.pg_constraint where conrelid = p_table and conname = p_name) then
    return;
  end if;
  execute format('alter table %s add constraint %I %s not valid', p_table, p_name, p_definition);
  begin
    execute format('alter table %s validate constraint %I', p_table, p_name);
  exception when check_violation or foreign_key_violation then
    insert into tributary_private.install_facts (key, value)
    values ('unvalidated_constraint:' || p_table::text || '.' || p_name,
            jsonb_build_object('table', p_table::text, 'constraint', p_name, 'reason', sqlerrm))
    on conflict (key) do update set value = excluded.value, recorded_at = now();
    raise warning '[tributary] existing rows of % break constraint %; they were kept and the constraint guards new writes. Fix them, then run: alter table % validate constraint %',
      p_table, p_name, p_table, p_name;
  end;
end
$$;

revoke all on all tables in schema tributary_private from public, anon, authenticated;
revoke all on function tributary_private.user_org_ids() from public, anon;
revoke all on function tributary_private.user_org_ids_with_role(text[]) from public, anon;
revoke all on function tributary_private.assert_org_access(uuid) from public, anon;
revoke all on function tributary_private.set_updated_at() from public, anon, authenticated;
revoke all on function tributary_private.ensure_constraint(regclass, text, text) from public, anon, authenticated;
grant execute on function tributary_private.user_org_ids() to authenticated, service_role;
grant execute on function tributary_private.user_org_ids_with_role(text[]) to authenticated, service_role;
grant execute on function tributary_private.assert_org_access(uuid) to authenticated, service_role;
grant select, insert, update, delete on tributary_private.memberships to service_role;
grant select on tributary_private.membership_source to service_role;
