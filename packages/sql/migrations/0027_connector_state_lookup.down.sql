-- Back to 0009's get_connector_state (keys tested with `key = any (p_keys)`).
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
