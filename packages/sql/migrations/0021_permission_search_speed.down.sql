-- Back to 0018: no chunk readers, no group memberships; 0018's ACL maintenance, caller
-- principals and vector statement, 0015's chunk language trigger function.
-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

drop function if exists public.replace_group_memberships(uuid, jsonb);
drop function if exists public.prune_group_memberships(uuid, timestamptz);

create or replace function tributary_private.caller_principals()
returns setof text
language sql stable security definer
set search_path = ''
as $$
  with claims as (select coalesce(auth.jwt(), '{}'::jsonb) as c)
  select distinct k from (
    select 'anyone' as k
    union all select 'organisation'
    union all select tributary_private.normalise_principal('email:' || (c ->> 'email')) from claims
      where position('@' in coalesce(c ->> 'email', '')) > 1
    union all select tributary_private.normalise_principal('domain:' || split_part(c ->> 'email', '@', 2)) from claims
      where position('@' in coalesce(c ->> 'email', '')) > 1
    union all select tributary_private.normalise_principal(i) from claims
      cross join lateral jsonb_array_elements_text(case when jsonb_typeof(c -> 'tributary_identities') = 'array'
                                                        then c -> 'tributary_identities' else '[]'::jsonb end) i
    union all select tributary_private.normalise_principal('group:' || g) from claims
      cross join lateral jsonb_array_elements_text(case when jsonb_typeof(c -> 'tributary_groups') = 'array'
                                                        then c -> 'tributary_groups' else '[]'::jsonb end) g
    union all select u.principal from tributary_private.user_principals u where u.user_id = (select auth.uid())
  ) keys
  where k is not null
$$;
revoke all on function tributary_private.caller_principals() from public, anon;
grant execute on function tributary_private.caller_principals() to authenticated, service_role;

drop table if exists tributary_private.group_memberships;

create or replace function tributary_private.semantic_candidates_sql(p_vector_type text, p_strategy text, p_permitted boolean)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  query_value text := format('$3::extensions.%s', p_vector_type);
  filters text := $f$ c.org_id = $1 and c.embedding_model = $2 and c.embedding is not null
      and not d.is_deleted and d.processing_status = 'completed'
      and ($5::uuid[] is null or d.connector_id = any ($5::uuid[]))
      and ($6::text[] is null or d.mime_type = any ($6::text[]))
      and ($7::jsonb is null or d.source_metadata @> $7::jsonb) $f$
    || case when p_permitted then $p$
      and ($8::text[] is null or d.connector_id is null or not (d.connector_id = any ($9::uuid[]))
           or exists (select from tributary_private.document_principals p
                      where p.document_id = d.id and p.principal = any ($8::text[]))) $p$ else '' end;
begin
  if p_vector_type not in ('vector', 'halfvec') or p_strategy not in ('exact', 'index', 'readable')
     or (p_strategy = 'readable' and not p_permitted) then
    raise exception using errcode = '22023',
      message = format('[tributary] unknown vector type %s or strategy %s', p_vector_type, p_strategy);
  end if;
  if p_strategy = 'readable' then
    -- The chunks of the documents whose ACL names one of the caller's principals ($8), compared
    -- exactly; the filters (the ACL one included) still apply to each.
    return format($q$with readable as materialized (
      select distinct p.document_id from tributary_private.document_principals p
      where p.org_id = $1 and p.principal = any ($8::text[])),
    org_chunks as materialized (
      select c.id, c.embedding from readable r
      join public.document_chunks c on c.org_id = $1 and c.document_id = r.document_id
      join public.imported_documents d on d.org_id = c.org_id and d.id = c.document_id
      where %1$s)
    select o.id, (o.embedding operator(extensions.<=>) %2$s)::double precision as distance
    from org_chunks o order by 2, 1 limit $4$q$, filters, query_value);
  end if;
  if p_strategy = 'exact' then
    -- Materialised: the HNSW index cannot serve it, so every chunk of the org is compared.
    return format($q$with org_chunks as materialized (
      select c.id, c.embedding from public.document_chunks c
      join public.imported_documents d on d.org_id = c.org_id and d.id = c.document_id
      where %1$s)
    select o.id, (o.embedding operator(extensions.<=>) %2$s)::double precision as distance
    from org_chunks o order by 2, 1 limit $4$q$, filters, query_value);
  end if;
  return format($q$with nearest as materialized (
      select c.id, (c.embedding operator(extensions.<=>) %2$s)::double precision as distance
      from public.document_chunks c
      join public.imported_documents d on d.org_id = c.org_id and d.id = c.document_id
      where %1$s
      order by c.embedding operator(extensions.<=>) %2$s
      limit $4)
    select n.id, n.distance from nearest n order by n.distance, n.id$q$, filters, query_value);
end
$$;

create or replace function tributary_private.maintain_document_principals()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' then
    delete from tributary_private.document_principals p
    using new_rows n join old_rows o on o.id = n.id
    where p.document_id = n.id
      and ((n.metadata -> 'permissions') is distinct from (o.metadata -> 'permissions') or n.org_id <> o.org_id);
    insert into tributary_private.document_principals (document_id, principal, org_id)
    select distinct n.id, k.principal, n.org_id
    from new_rows n join old_rows o on o.id = n.id
    cross join lateral jsonb_array_elements(case when jsonb_typeof(n.metadata -> 'permissions') = 'array'
                                                 then n.metadata -> 'permissions' else '[]'::jsonb end) e(entry)
    cross join lateral tributary_private.permission_principals(e.entry) k(principal)
    where (n.metadata -> 'permissions') is distinct from (o.metadata -> 'permissions') or n.org_id <> o.org_id
    on conflict do nothing;
  else
    insert into tributary_private.document_principals (document_id, principal, org_id)
    select distinct n.id, k.principal, n.org_id
    from new_rows n
    cross join lateral jsonb_array_elements(case when jsonb_typeof(n.metadata -> 'permissions') = 'array'
                                                 then n.metadata -> 'permissions' else '[]'::jsonb end) e(entry)
    cross join lateral tributary_private.permission_principals(e.entry) k(principal)
    on conflict do nothing;
  end if;
  return null;
end
$$;

create or replace function tributary_private.set_chunk_language()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  select tributary_private.text_search_config(d.source_metadata ->> 'language') into new.language
  from public.imported_documents d where d.org_id = new.org_id and d.id = new.document_id;
  new.language := coalesce(new.language, 'pg_catalog.english'::regconfig);
  return new;
end
$$;

drop function if exists tributary_private.fill_chunk_readers(integer);
drop function if exists tributary_private.chunk_readers(uuid, jsonb);
drop function if exists tributary_private.acl_readers(jsonb);
alter table public.document_chunks drop column if exists readers;
