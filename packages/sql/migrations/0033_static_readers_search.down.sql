-- Back to 0028's permitted_semantic_candidates: the `readers` statement built as text by
-- semantic_candidates_sql and planned on every search through EXECUTE.

-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

create or replace function tributary_private.permitted_semantic_candidates(
  p_org_id uuid,
  p_model text,
  p_query extensions.vector,
  p_count integer,
  p_strategy text,
  p_connector_ids uuid[] default null,
  p_mime_types text[] default null,
  p_metadata jsonb default null,
  p_max_scan_tuples integer default 20000,
  p_principals text[] default null,
  p_source_connectors uuid[] default null
)
returns table (id uuid, distance double precision)
language plpgsql stable
set search_path = ''
set jit = off
as $$
declare
  vector_type text;
  statement text;
  previous text[];
  ef_search integer;
  iterative boolean;
  ids uuid[];
  distances double precision[];
begin
  if p_strategy is null or p_strategy = 'none' or p_query is null then
    return;
  end if;
  select s.vector_type into vector_type from public.vector_settings() s;
  if vector_type is null then
    raise exception using errcode = '55000', message = '[tributary] vector settings are missing',
      hint = 'Apply the migrations (0010_vector_models).';
  end if;
  statement := tributary_private.semantic_candidates_sql(vector_type, p_strategy, true);
  if p_strategy = 'readers' then
    -- 0028: the nearest 2 * p_count readable chunks are ranked first (a top-N sort), then their
    -- documents checked in distance order; only when fewer than p_count pass (filters on the
    -- documents, stale `readers`) is every readable chunk ranked ($10 null: no inner limit).
    execute format('select coalesce(array_agg(s.id order by s.distance, s.id), ''{}''), '
                   'coalesce(array_agg(s.distance order by s.distance, s.id), ''{}'') from (%s) s', statement)
      into ids, distances
      using p_org_id, p_model, p_query, p_count, p_connector_ids, p_mime_types, p_metadata, p_principals,
            p_source_connectors, p_count * 2;
    if cardinality(ids) < p_count then
      execute format('select coalesce(array_agg(s.id order by s.distance, s.id), ''{}''), '
                     'coalesce(array_agg(s.distance order by s.distance, s.id), ''{}'') from (%s) s', statement)
        into ids, distances
        using p_org_id, p_model, p_query, p_count, p_connector_ids, p_mime_types, p_metadata, p_principals,
              p_source_connectors, null::integer;
    end if;
    return query select u.id, u.distance from unnest(ids, distances) u(id, distance);
    return;
  end if;
  if p_strategy in ('exact', 'readable') then
    return query execute statement
      using p_org_id, p_model, p_query, p_count, p_connector_ids, p_mime_types, p_metadata, p_principals, p_source_connectors;
    return;
  end if;
  -- Candidate list size of the HNSW scan: more finds more true neighbours and costs more time.
  -- 0026: a scan the ACL filters (a member's principals, `source`-mode connectors in the org)
  -- takes `tributary.hnsw_filtered_ef_search` when set (default: the same as unfiltered scans).
  ef_search := coalesce(nullif(current_setting('tributary.hnsw_ef_search', true), '')::integer, 200);
  if p_principals is not null and cardinality(p_source_connectors) > 0 then
    ef_search := coalesce(nullif(current_setting('tributary.hnsw_filtered_ef_search', true), '')::integer, ef_search);
  end if;
  -- Transaction-local settings, put back afterwards so the caller's later queries are unaffected.
  -- Iterative scans arrived in pgvector 0.8; older versions reserve the hnsw.* names and would
  -- refuse the unknown ones, so there the scan stops at ef_search candidates.
  select coalesce((regexp_match(e.extversion, '^(\d+)\.(\d+)'))::integer[] >= array[0, 8], false) into iterative
  from pg_catalog.pg_extension e where e.extname = 'vector';
  previous := array[current_setting('hnsw.ef_search', true), current_setting('enable_sort'),
                    current_setting('hnsw.iterative_scan', true), current_setting('hnsw.max_scan_tuples', true)];
  perform set_config('hnsw.ef_search', least(1000, greatest(ef_search, p_count))::text, true),
          set_config('enable_sort', 'off', true);
  if iterative then
    perform set_config('hnsw.iterative_scan', 'relaxed_order', true),
            set_config('hnsw.max_scan_tuples', greatest(20000, p_max_scan_tuples)::text, true);
  end if;
  return query execute statement
    using p_org_id, p_model, p_query, p_count, p_connector_ids, p_mime_types, p_metadata, p_principals, p_source_connectors;
  perform set_config('hnsw.ef_search', coalesce(previous[1], '40'), true),
          set_config('enable_sort', previous[2], true);
  if iterative then
    perform set_config('hnsw.iterative_scan', coalesce(previous[3], 'off'), true),
            set_config('hnsw.max_scan_tuples', coalesce(previous[4], '20000'), true);
  end if;
end
$$;
