-- Connector state that scales. A cursor is capped at 64 KB (commit_sync_checkpoint), so anything
-- that grows with the source (a Drive folder map, a queue of folders still to list, per-file
-- versions) lives here instead: one row per (connector, namespace, key), written in the same
-- transaction as the cursor by commit_sync_checkpoint_with_state, so a crash never leaves state
-- ahead of or behind its cursor.
--
-- State may hold source ids and names (what members already see in imported_documents), never
-- secrets: members of the organisation may read it, only the service role writes it.

-- ---------------------------------------------------------------------------------------------
-- connector_state
-- ---------------------------------------------------------------------------------------------
-- namespace and key use the "C" collation: byte order, the same in every database and in the
-- SDK's in-memory adapter, so keyset pagination (key > last key) never skips or repeats a key.
create table if not exists public.connector_state (
  org_id uuid not null,
  connector_id uuid not null,
  namespace text collate "C" not null,
  key text collate "C" not null,
  value jsonb not null,
  updated_at timestamptz not null default now(),
  -- Unique per (connector_id, namespace, key); org_id leads so the RLS filter and the foreign key
  -- use the same index as the namespace scans (org_id, connector_id, namespace, key > $after).
  constraint connector_state_pkey primary key (org_id, connector_id, namespace, key),
  -- Deleting a connector deletes its state.
  constraint connector_state_connector_fkey foreign key (org_id, connector_id)
    references public.connector_configs (org_id, id) on delete cascade,
  constraint connector_state_namespace_check check (char_length(namespace) between 1 and 200),
  constraint connector_state_key_check check (char_length(key) between 1 and 1024),
  constraint connector_state_value_size_check check (pg_column_size(value) <= 65536)
);
comment on table public.connector_state is
  'Per-connector key/value state (folder maps, listing queues, per-file versions), committed atomically with the sync cursor.';

alter table public.connector_state enable row level security;
revoke all on public.connector_state from public, anon, authenticated;
grant select on public.connector_state to authenticated;
grant select, insert, update, delete on public.connector_state to service_role;

drop policy if exists connector_state_select_members on public.connector_state;
create policy connector_state_select_members on public.connector_state
  for select to authenticated
  using (org_id = any (array(select tributary_private.user_org_ids())));

-- ---------------------------------------------------------------------------------------------
-- Commit a checkpoint with state changes: clears, then deletes, then upserts, then the cursor, in
-- one transaction and only while the run holds its lease (a zombie worker writes nothing).
--   p_state_upserts: [{"namespace": "folders", "key": "1AbC", "value": {...}}, ...]
--   p_state_deletes: [{"namespace": "queue", "key": "000000000042"}, ...]
--   p_state_clear:   namespaces to empty first (a full re-sync starting from scratch)
-- At most 50,000 upserts + deletes per call; each value at most 64 KB.
-- ---------------------------------------------------------------------------------------------
create or replace function public.commit_sync_checkpoint_with_state(
  p_sync_log_id uuid,
  p_cursor jsonb,
  p_state_upserts jsonb default '[]'::jsonb,
  p_state_deletes jsonb default '[]'::jsonb,
  p_state_clear text[] default '{}'::text[]
)
returns void
language plpgsql
set search_path = ''
as $$
declare
  run public.connector_sync_logs;
  upserts jsonb := coalesce(p_state_upserts, '[]'::jsonb);
  deletes jsonb := coalesce(p_state_deletes, '[]'::jsonb);
  clears text[] := coalesce(p_state_clear, '{}'::text[]);
  upsert_count integer;
  problem text;
begin
  if p_cursor is null or pg_column_size(p_cursor) > 65536 then
    raise exception using errcode = '22023', message = '[tributary] p_cursor must be a JSON value of at most 64 KB',
      hint = 'Keep large connector state (folder maps, per-file versions) in the state store, not the cursor.';
  end if;
  if jsonb_typeof(upserts) <> 'array' or jsonb_typeof(deletes) <> 'array' then
    raise exception using errcode = '22023', message = '[tributary] p_state_upserts and p_state_deletes must be JSON arrays';
  end if;
  upsert_count := jsonb_array_length(upserts);
  if upsert_count + jsonb_array_length(deletes) > 50000 or cardinality(clears) > 1000 then
    raise exception using errcode = '22023',
      message = format('[tributary] a checkpoint carries at most 50000 state changes and 1000 cleared namespaces, got %s and %s',
        upsert_count + jsonb_array_length(deletes), cardinality(clears)),
      hint = 'Checkpoint more often.';
  end if;
  select case
      when exists (select from jsonb_array_elements(upserts || deletes) e where jsonb_typeof(e) <> 'object'
                     or jsonb_typeof(e -> 'namespace') is distinct from 'string' or jsonb_typeof(e -> 'key') is distinct from 'string')
        then 'every state change must be an object with string namespace and key'
      when exists (select from jsonb_array_elements(upserts || deletes) e
                   where char_length(e ->> 'namespace') not between 1 and 200 or char_length(e ->> 'key') not between 1 and 1024)
        then 'namespaces must have 1 to 200 characters and keys 1 to 1024'
      when exists (select from unnest(clears) n where n is null or char_length(n) not between 1 and 200)
        then 'cleared namespaces must have 1 to 200 characters'
      when exists (select from jsonb_array_elements(upserts) e where not (e ? 'value'))
        then 'every upsert needs a value'
      when exists (select from jsonb_array_elements(upserts) e where pg_column_size(e -> 'value') > 65536)
        then 'a state value must be at most 64 KB'
      when (select count(distinct (e ->> 'namespace', e ->> 'key')) from jsonb_array_elements(upserts) e) <> upsert_count
        then 'a (namespace, key) may be upserted once per call'
    end into problem;
  if problem is not null then
    raise exception using errcode = '22023', message = '[tributary] commit_sync_checkpoint_with_state: ' || problem;
  end if;

  run := tributary_private.lock_running_sync(p_sync_log_id);
  if run.connector_id is null then
    raise exception using errcode = 'P0002', message = format('[tributary] the connector of sync run %s was deleted', p_sync_log_id);
  end if;

  if cardinality(clears) > 0 then
    delete from public.connector_state s
    where s.org_id = run.org_id and s.connector_id = run.connector_id and s.namespace = any (clears::text[]);
  end if;
  if jsonb_array_length(deletes) > 0 then
    delete from public.connector_state s
    using (select e ->> 'namespace' as namespace, e ->> 'key' as key from jsonb_array_elements(deletes) e) d
    where s.org_id = run.org_id and s.connector_id = run.connector_id
      and s.namespace = d.namespace collate "C" and s.key = d.key collate "C";
  end if;
  if upsert_count > 0 then
    insert into public.connector_state as s (org_id, connector_id, namespace, key, value)
    select run.org_id, run.connector_id, e ->> 'namespace', e ->> 'key', e -> 'value'
    from jsonb_array_elements(upserts) e
    -- One lock order for every writer.
    order by e ->> 'namespace' collate "C", e ->> 'key' collate "C"
    on conflict (org_id, connector_id, namespace, key) do update
      set value = excluded.value, updated_at = now()
      where s.value is distinct from excluded.value;
  end if;
  update public.connector_configs set sync_cursor = p_cursor where id = run.connector_id;
end
$$;
comment on function public.commit_sync_checkpoint_with_state(uuid, jsonb, jsonb, jsonb, text[]) is
  'Commits a connector cursor and its state changes (clears, deletes, upserts) in one transaction, only while the run holds its lease.';

-- ---------------------------------------------------------------------------------------------
-- Reads: values by keys (at most 1000 per call), and a namespace in key order, page by page.
-- Invoker rights: row level security decides what a member sees.
-- ---------------------------------------------------------------------------------------------
create or replace function public.get_connector_state(p_connector_id uuid, p_namespace text, p_keys text[])
returns table (key text, value jsonb)
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_connector_id is null or p_namespace is null or p_keys is null then
    raise exception using errcode = '22004', message = '[tributary] p_connector_id, p_namespace and p_keys are required';
  end if;
  if cardinality(p_keys) > 1000 then
    raise exception using errcode = '22023',
      message = format('[tributary] get_connector_state reads at most 1000 keys per call, got %s', cardinality(p_keys));
  end if;
  return query
  select s.key::text, s.value
  from public.connector_state s
  where s.org_id = (select c.org_id from public.connector_configs c where c.id = p_connector_id)
    and s.connector_id = p_connector_id and s.namespace = p_namespace collate "C"
    and s.key = any (p_keys::text[] collate "C");
end
$$;
comment on function public.get_connector_state(uuid, text, text[]) is
  'Values of up to 1000 keys of one namespace of a connector''s state; missing keys return no row.';

create or replace function public.list_connector_state(
  p_connector_id uuid,
  p_namespace text,
  p_after text default null,
  p_limit integer default 500,
  p_prefix text default null
)
returns table (key text, value jsonb)
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_connector_id is null or p_namespace is null then
    raise exception using errcode = '22004', message = '[tributary] p_connector_id and p_namespace are required';
  end if;
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_limit must be between 1 and 1000, got %s', coalesce(p_limit::text, 'null'));
  end if;
  -- Keyset pagination: the next page starts after the last key of this one (p_after), so each
  -- page is one index range scan however deep the iteration goes.
  return query
  select s.key::text, s.value
  from public.connector_state s
  where s.org_id = (select c.org_id from public.connector_configs c where c.id = p_connector_id)
    and s.connector_id = p_connector_id and s.namespace = p_namespace collate "C"
    and (p_after is null or s.key > p_after collate "C")
    and (p_prefix is null or (s.key >= p_prefix collate "C" and starts_with(s.key, p_prefix)))
  order by s.key
  limit p_limit;
end
$$;
comment on function public.list_connector_state(uuid, text, text, integer, text) is
  'One page (at most 1000 entries, in byte order of key) of a namespace of a connector''s state, after p_after, optionally only keys starting with p_prefix.';

revoke all on function public.commit_sync_checkpoint_with_state(uuid, jsonb, jsonb, jsonb, text[]) from public, anon, authenticated;
revoke all on function public.get_connector_state(uuid, text, text[]) from public, anon;
revoke all on function public.list_connector_state(uuid, text, text, integer, text) from public, anon;
grant execute on function public.commit_sync_checkpoint_with_state(uuid, jsonb, jsonb, jsonb, text[]) to service_role;
grant execute on function public.get_connector_state(uuid, text, text[]) to authenticated, service_role;
grant execute on function public.list_connector_state(uuid, text, text, integer, text) to authenticated, service_role;
