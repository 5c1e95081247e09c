-- tributary:requires-extension vector
-- Permission-aware search, faster and fed by the sources' group memberships.
-- 1. Vector search in `source` mode (issue 17's bench: 3.19x the latency of `org` mode). The HNSW
--    scan visits ~25x more chunks when the caller can open ~4% of the documents, and 0018 checked
--    each one with a join to imported_documents plus an ACL probe. Each chunk now carries its
--    document's ACL keys plus `connector:<id>` (document_chunks.readers; null for a document
--    without a connector), so the scan itself drops unreadable chunks with
--    an array overlap on the row it already fetched; 0018's document-level check still decides for
--    the few that pass. Members already see a readable document's ACL in its metadata, so the
--    column tells a reader nothing new (chunks of unreadable documents stay invisible under RLS).
-- 2. Group membership synced from sources: tributary_private.group_memberships (group -> member
--    principal keys, per connector), written by replace_group_memberships / prune_group_memberships
--    (service role), expands caller_principals() through (nested) groups.

-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

-- ---------------------------------------------------------------------------------------------
-- 1. document_chunks.readers
-- ---------------------------------------------------------------------------------------------
alter table public.document_chunks add column if not exists readers text[];
comment on column public.document_chunks.readers is
  'Tributary: the document''s ACL principal keys plus connector:<id> (a search prefilter); null for a document without a connector.';

-- A document's ACL (its DocumentPermission list) as a sorted array of principal keys; null when
-- the list is missing or not an array.
create or replace function tributary_private.acl_readers(p_permissions jsonb)
returns text[]
language sql immutable
set search_path = ''
as $$
  select case when jsonb_typeof(p_permissions) = 'array' then coalesce((
    select array_agg(distinct k.principal order by k.principal)
    from jsonb_array_elements(p_permissions) e(entry)
    cross join lateral tributary_private.permission_principals(e.entry) k(principal)), '{}') end
$$;
revoke all on function tributary_private.acl_readers(jsonb) from public, anon, authenticated;

-- A chunk's readers: its document's ACL keys plus its connector as `connector:<id>`, so that a
-- search passes the keys of the organisation's `org`-mode connectors along with the caller's and
-- a connector changing mode rewrites no chunk. Null (always passes) without a connector.
create or replace function tributary_private.chunk_readers(p_connector_id uuid, p_permissions jsonb)
returns text[]
language sql immutable
set search_path = ''
as $$
  select case when p_connector_id is not null
    then coalesce(tributary_private.acl_readers(p_permissions), '{}') || ('connector:' || p_connector_id::text) end
$$;
revoke all on function tributary_private.chunk_readers(uuid, jsonb) from public, anon, authenticated;

-- 0015's per-chunk language lookup, now also taking the readers from the same document row.
create or replace function tributary_private.set_chunk_language()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  select tributary_private.text_search_config(d.source_metadata ->> 'language'),
         tributary_private.chunk_readers(d.connector_id, d.metadata -> 'permissions')
  into new.language, new.readers
  from public.imported_documents d
  where d.org_id = new.org_id and d.id = new.document_id;
  new.language := coalesce(new.language, 'pg_catalog.english'::regconfig);
  return new;
end
$$;
revoke all on function tributary_private.set_chunk_language() from public, anon, authenticated;

-- 0018's ACL maintenance, plus the chunks' readers when an ACL (or the connector) changes.
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
    -- 0021: the chunks carry their document's ACL keys (the search's prefilter); kept equal here,
    -- in the same statement as the ACL rows, so the two never disagree.
    update public.document_chunks c
    set readers = x.readers
    from (
      select n.org_id, n.id, tributary_private.chunk_readers(n.connector_id, n.metadata -> 'permissions') as readers
      from new_rows n join old_rows o on o.id = n.id
      where (n.metadata -> 'permissions') is distinct from (o.metadata -> 'permissions')
         or n.connector_id is distinct from o.connector_id
    ) x
    where c.org_id = x.org_id and c.document_id = x.id and c.readers is distinct from x.readers;
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


-- Chunks written before 0021 keep null readers (they pass the prefilter; the document-level check
-- still decides), except those of `source`-mode connectors, filled here: only those are filtered.
-- fill_chunk_readers fills the rest in batches, should an `org`-mode connector move to `source`.
update public.document_chunks c
set readers = tributary_private.chunk_readers(d.connector_id, d.metadata -> 'permissions')
from public.imported_documents d
join public.connector_configs k on k.org_id = d.org_id and k.id = d.connector_id
where k.permission_mode = 'source' and c.org_id = d.org_id and c.document_id = d.id and c.readers is null;

create or replace function tributary_private.fill_chunk_readers(p_limit integer default 10000)
returns integer
language sql volatile
set search_path = ''
as $$
  with batch as (
    select c.id, tributary_private.chunk_readers(d.connector_id, d.metadata -> 'permissions') as readers
    from public.document_chunks c
    join public.imported_documents d on d.org_id = c.org_id and d.id = c.document_id
    where c.readers is null and d.connector_id is not null
    limit greatest(1, p_limit)
  ), updated as (
    update public.document_chunks c set readers = b.readers from batch b where c.id = b.id returning 1
  )
  select count(*)::integer from updated
$$;
revoke all on function tributary_private.fill_chunk_readers(integer) from public, anon, authenticated;
grant execute on function tributary_private.fill_chunk_readers(integer) to service_role;

-- 0018's statement, plus the readers prefilter on the chunk (evaluated inside the index scan).
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
      and ($8::text[] is null or c.readers is null or c.readers operator(pg_catalog.&&) ($8::text[] || array(
             select 'connector:' || k.id::text from public.connector_configs k
             where k.org_id = $1 and k.permission_mode <> 'source')))
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


-- ---------------------------------------------------------------------------------------------
-- 2. Group memberships reported by connectors
-- ---------------------------------------------------------------------------------------------
create table if not exists tributary_private.group_memberships (
  org_id uuid not null,
  connector_id uuid not null,
  group_principal text collate "C" not null,
  member_principal text collate "C" not null,
  synced_at timestamptz not null default now(),
  primary key (org_id, connector_id, group_principal, member_principal),
  foreign key (org_id, connector_id) references public.connector_configs (org_id, id) on delete cascade
);
-- caller_principals() walks member -> group.
create index if not exists group_memberships_member_idx
  on tributary_private.group_memberships (org_id, member_principal, group_principal);
comment on table tributary_private.group_memberships is
  'Tributary: group -> member principal keys as a connector''s source reports them; expands caller_principals().';
alter table tributary_private.group_memberships enable row level security;
revoke all on tributary_private.group_memberships from public, anon, authenticated;
grant select, insert, update, delete on tributary_private.group_memberships to service_role;

-- 0018's caller principals, expanded through the reported groups.
create or replace function tributary_private.caller_principals()
returns setof text
language sql stable security definer
set search_path = ''
as $$
  with recursive claims as (select coalesce(auth.jwt(), '{}'::jsonb) as c),
  direct as (select distinct k from (
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
  where k is not null),
  -- 0021: the groups a source reported (group_memberships) that hold one of these principals,
  -- nested groups included (up to 5 levels), in the caller's organisations only.
  expanded (principal, depth) as (
    select d.k, 0 from direct d
    union
    select g.group_principal, e.depth + 1
    from expanded e
    join tributary_private.group_memberships g on g.member_principal = e.principal
    where e.depth < 5 and g.org_id = any (array(select tributary_private.user_org_ids()))
  )
  select distinct e.principal from expanded e
$$;
revoke all on function tributary_private.caller_principals() from public, anon;
grant execute on function tributary_private.caller_principals() to authenticated, service_role;

-- Stores the members of the given groups for a connector, replacing what it reported for those
-- groups before. p_groups: [{"id"?, "email"?, "members": [{"type": "user"|"group", "id"?, "email"?}]}]
-- (the shape of a DocumentPermission). A group with both id and email is stored under both keys,
-- as ACLs name groups either way. Returns the rows stored and the time to prune against.
create or replace function public.replace_group_memberships(p_connector_id uuid, p_groups jsonb)
returns table (stored integer, synced_at timestamptz)
language plpgsql security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  connector_org uuid;
  group_count integer;
  member_count integer;
  written integer;
begin
  if p_connector_id is null or p_groups is null then
    raise exception using errcode = '22004', message = '[tributary] p_connector_id and p_groups must not be null';
  end if;
  if jsonb_typeof(p_groups) <> 'array' then
    raise exception using errcode = '22023', message = '[tributary] p_groups must be a JSON array of groups',
      hint = 'Pass [{"id": ..., "email": ..., "members": [{"type": "user", "email": ...}]}].';
  end if;
  select c.org_id into connector_org from public.connector_configs c where c.id = p_connector_id;
  if connector_org is null then
    raise exception using errcode = 'P0002', message = format('[tributary] connector %s not found', p_connector_id),
      hint = 'Check the id; a deleted connector is not found either.';
  end if;
  select count(*), coalesce(sum(case when jsonb_typeof(g -> 'members') = 'array' then jsonb_array_length(g -> 'members') end), 0)
  into group_count, member_count
  from jsonb_array_elements(p_groups) g;
  if group_count > 1000 or member_count > 100000 then
    raise exception using errcode = '22023',
      message = format('[tributary] at most 1000 groups and 100000 members per call, got %s and %s', group_count, member_count),
      hint = 'Split the groups into several calls.';
  end if;
  if exists (select from jsonb_array_elements(p_groups) g
             where jsonb_typeof(g) <> 'object' or jsonb_typeof(g -> 'members') is distinct from 'array'
                or not exists (select from tributary_private.permission_principals(g || '{"type": "group"}'))) then
    raise exception using errcode = '22023',
      message = '[tributary] each group needs an id or an email and a members array',
      hint = 'Pass [{"id": ..., "email": ..., "members": [...]}].';
  end if;

  -- One statement: the rows reported, the members no longer in a reported group deleted (a group
  -- reported empty keeps none), the rest stored with a fresh synced_at.
  with reported as (
    select distinct gk.k as group_principal, mk.k as member_principal
    from jsonb_array_elements(p_groups) g
    cross join lateral tributary_private.permission_principals(g || '{"type": "group"}') gk(k)
    left join lateral jsonb_array_elements(g -> 'members') m on true
    left join lateral tributary_private.permission_principals(m.value) mk(k) on true
  ),
  removed as (
    delete from tributary_private.group_memberships s
    where s.org_id = connector_org and s.connector_id = p_connector_id
      and s.group_principal in (select r.group_principal from reported r)
      and not exists (select from reported r
                      where r.group_principal = s.group_principal and r.member_principal = s.member_principal)
  ),
  written_rows as (
    insert into tributary_private.group_memberships as s (org_id, connector_id, group_principal, member_principal, synced_at)
    select connector_org, p_connector_id, r.group_principal, r.member_principal, now()
    from reported r
    where r.member_principal is not null
    order by 3, 4
    on conflict (org_id, connector_id, group_principal, member_principal) do update set synced_at = excluded.synced_at
    returning 1
  )
  select count(*) into written from written_rows;
  return query select written, now();
end
$$;
comment on function public.replace_group_memberships(uuid, jsonb) is
  'Stores a connector''s group memberships (at most 1,000 groups and 100,000 members per call); they expand caller_principals().';

-- After a complete listing: forgets the groups of this connector not reported since p_synced_since
-- (the synced_at the listing's first replace_group_memberships call returned). Returns rows deleted.
create or replace function public.prune_group_memberships(p_connector_id uuid, p_synced_since timestamptz)
returns integer
language plpgsql security definer
set search_path = ''
as $$
declare
  removed integer;
begin
  if p_connector_id is null or p_synced_since is null then
    raise exception using errcode = '22004', message = '[tributary] p_connector_id and p_synced_since must not be null';
  end if;
  if not exists (select from public.connector_configs c where c.id = p_connector_id) then
    raise exception using errcode = 'P0002', message = format('[tributary] connector %s not found', p_connector_id);
  end if;
  delete from tributary_private.group_memberships s
  where s.connector_id = p_connector_id
    and s.org_id = (select c.org_id from public.connector_configs c where c.id = p_connector_id)
    and s.synced_at < p_synced_since;
  get diagnostics removed = row_count;
  return removed;
end
$$;
revoke all on function public.replace_group_memberships(uuid, jsonb) from public, anon, authenticated;
revoke all on function public.prune_group_memberships(uuid, timestamptz) from public, anon, authenticated;
grant execute on function public.replace_group_memberships(uuid, jsonb) to service_role;
grant execute on function public.prune_group_memberships(uuid, timestamptz) to service_role;

