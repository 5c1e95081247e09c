-- get_connector_state reads each key with its own primary key probe. 0009's
-- `key = any (p_keys)` let the planner use the index for (org, connector, namespace) only and
-- test the keys as a filter over the whole namespace: until the table is analyzed (it grows fast
-- during a connector's first sync, before autovacuum looks at it) a call for 1,000 keys of a
-- 100,000-row namespace read all 100,000 rows (measured on PostgreSQL 15: 55-600 ms per call, ~8 ms
-- on PGlite), and the folder connector makes one such call per 1,000 listed files. Now: distinct keys,
-- each looked up with `limit 1` in a lateral subquery (one index probe each, whatever the
-- statistics). Same signature, same rows, same invoker rights (row level security applies).

-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

create or replace function public.get_connector_state(p_connector_id uuid, p_namespace text, p_keys text[])
returns table (key text, value jsonb)
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_org_id uuid;
begin
  if p_connector_id is null or p_namespace is null or p_keys is null then
    raise exception using errcode = '22004', message = '[tributary] p_connector_id, p_namespace and p_keys are required';
  end if;
  if cardinality(p_keys) > 1000 then
    raise exception using errcode = '22023',
      message = format('[tributary] get_connector_state reads at most 1000 keys per call, got %s', cardinality(p_keys));
  end if;
  -- Row level security on connector_configs applies: a connector the caller cannot see has no org.
  select c.org_id into v_org_id from public.connector_configs c where c.id = p_connector_id;
  if v_org_id is null then
    return;
  end if;
  return query
  select found.key::text, found.value
  from (select distinct wanted.k from unnest(p_keys::text[]) as wanted(k) where wanted.k is not null) as keys
  cross join lateral (
    select s.key, s.value
    from public.connector_state s
    where s.org_id = v_org_id and s.connector_id = p_connector_id
      and s.namespace = p_namespace collate "C" and s.key = keys.k collate "C"
    limit 1
  ) as found;
end
$$;
comment on function public.get_connector_state(uuid, text, text[]) is
  'Values of up to 1000 keys of one namespace of a connector''s state (one primary key probe per key); missing keys return no row.';
