-- tributary:requires-extension vector
-- The `readers` vector search (0028: a member of an organisation with `source`-mode connectors who
-- reads few of its chunks, compared exactly over them) with a plan kept for the session (issue 17:
-- 100,000 documents, 1,000 principals, 1536 dimensions; figures in the bench README). 0028 built
-- the statement as text and ran it through EXECUTE, planned again on every search; the statement
-- is now written out in permitted_semantic_candidates, once per column type (vector, halfvec).
-- Results are unchanged.

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
  readers_limit integer;
  query_vector extensions.vector;
begin
  if p_strategy is null or p_strategy = 'none' or p_query is null then
    return;
  end if;
  select s.vector_type into vector_type from public.vector_settings() s;
  if vector_type is null then
    raise exception using errcode = '55000', message = '[tributary] vector settings are missing',
      hint = 'Apply the migrations (0010_vector_models).';
  end if;
  if p_strategy = 'readers' then
    -- 0033: static statements, one per column type, so PL/pgSQL keeps their plan for the session
    -- (0028 built the statement as text and planned it on every search through EXECUTE). Nothing in
    -- it is for the planner to choose: the readers bitmap scan, the top-N sort and the document
    -- probes are fixed by the `offset 0` fences, and the path only runs for a caller whose readable
    -- chunks are few (readable_chunks_within), so the cached plan is the one a fresh plan would be.
    -- The query vector is copied once first (into a local value; for halfvec, cast once in an
    -- InitPlan, where a cast on the parameter would run per row): a value read from a table may
    -- be a TOAST pointer, which a cached plan passes on as a parameter that every distance would
    -- fetch again (EXECUTE ... USING copied it once). The halfvec type is only named in statements
    -- planned when run, so databases on pgvector before 0.7 still apply this.
    -- The nearest 2 * p_count readable chunks are ranked first, then their documents checked in
    -- distance order; only when fewer than p_count pass (filters on the documents, stale `readers`)
    -- is every readable chunk ranked (a null limit: no limit).
    if vector_type <> 'halfvec' then
      query_vector := (p_query::real[])::extensions.vector;
    end if;
    readers_limit := p_count * 2;
    loop
      if vector_type = 'halfvec' then
        select coalesce(array_agg(s.id order by s.distance, s.id), '{}'),
               coalesce(array_agg(s.distance order by s.distance, s.id), '{}')
        into ids, distances
        from (
          select c.id, c.distance from (
            select r.id, r.document_id, r.distance from (
              select c.id, c.document_id,
                     (c.embedding operator(extensions.<=>) (select p_query::extensions.halfvec))::double precision as distance
              from public.document_chunks c
              where c.org_id = p_org_id and c.embedding_model = p_model and c.embedding is not null
                and (c.readers is null or c.readers operator(pg_catalog.&&) (p_principals || array(
                       select 'connector:' || k.id::text from public.connector_configs k
                       where k.org_id = p_org_id and k.permission_mode <> 'source')))
              offset 0) r
            order by r.distance, r.id
            limit readers_limit) c
          cross join lateral (
            select d.* from public.imported_documents d
            where d.org_id = p_org_id and d.id = c.document_id
            offset 0) d
          where not d.is_deleted and d.processing_status = 'completed'
            and (p_connector_ids is null or d.connector_id = any (p_connector_ids))
            and (p_mime_types is null or d.mime_type = any (p_mime_types))
            and (p_metadata is null or d.source_metadata @> p_metadata)
            and (d.connector_id is null or not (d.connector_id = any (p_source_connectors))
                 or exists (select from tributary_private.document_principals p
                            where p.document_id = d.id and p.principal = any (p_principals)))
          order by c.distance, c.id
          limit p_count) s;
      else
        select coalesce(array_agg(s.id order by s.distance, s.id), '{}'),
               coalesce(array_agg(s.distance order by s.distance, s.id), '{}')
        into ids, distances
        from (
          select c.id, c.distance from (
            select r.id, r.document_id, r.distance from (
              select c.id, c.document_id,
                     (c.embedding operator(extensions.<=>) query_vector)::double precision as distance
              from public.document_chunks c
              where c.org_id = p_org_id and c.embedding_model = p_model and c.embedding is not null
                and (c.readers is null or c.readers operator(pg_catalog.&&) (p_principals || array(
                       select 'connector:' || k.id::text from public.connector_configs k
                       where k.org_id = p_org_id and k.permission_mode <> 'source')))
              offset 0) r
            order by r.distance, r.id
            limit readers_limit) c
          cross join lateral (
            select d.* from public.imported_documents d
            where d.org_id = p_org_id and d.id = c.document_id
            offset 0) d
          where not d.is_deleted and d.processing_status = 'completed'
            and (p_connector_ids is null or d.connector_id = any (p_connector_ids))
            and (p_mime_types is null or d.mime_type = any (p_mime_types))
            and (p_metadata is null or d.source_metadata @> p_metadata)
            and (d.connector_id is null or not (d.connector_id = any (p_source_connectors))
                 or exists (select from tributary_private.document_principals p
                            where p.document_id = d.id and p.principal = any (p_principals)))
          order by c.distance, c.id
          limit p_count) s;
      end if;
      exit when readers_limit is null or cardinality(ids) >= p_count;
      readers_limit := null;
    end loop;
    return query select u.id, u.distance from unnest(ids, distances) u(id, distance);
    return;
  end if;
  -- The other strategies' statements are still built as text (and planned per call: the HNSW
  -- scan's plan depends on the filters' selectivity in this organisation).
  statement := tributary_private.semantic_candidates_sql(vector_type, p_strategy, true);
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
