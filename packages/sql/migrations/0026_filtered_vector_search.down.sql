-- Back to 0018's permitted_semantic_candidates (one ef_search, tributary.hnsw_ef_search, for every
-- scan) and 0021's semantic_candidates_sql.
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
  -- Candidate list size of the HNSW scan: more finds more true neighbours and costs more time.
  ef_search := coalesce(nullif(current_setting('tributary.hnsw_ef_search', true), '')::integer, 200);
  if p_strategy in ('exact', 'readable') then
    return query execute statement
      using p_org_id, p_model, p_query, p_count, p_connector_ids, p_mime_types, p_metadata, p_principals, p_source_connectors;
    return;
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
