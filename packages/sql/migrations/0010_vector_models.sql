-- tributary:requires-extension vector
-- Vectors with a host-chosen type and size, search that compares like with like, and a vector
-- half that keeps recall for small organisations and uses the HNSW index for large ones.
--
-- The type and size come from the migration runner: `migrate(db, { vector: { dimensions, type } })`
-- (CLI: `tributary migrate --vector-dimensions 768 --vector-type halfvec`) sets the transaction-local
-- settings tributary.vector_dimensions / tributary.vector_type before this file runs; the file's
-- text (and so its checksum) does not change with them. Without them an existing column is kept as
-- it is (databases upgraded in place keep vector(1536) and their embeddings).

create table if not exists tributary_private.vector_settings (
  singleton boolean primary key default true,
  vector_type text not null,
  dimensions integer not null,
  updated_at timestamptz not null default now(),
  constraint vector_settings_singleton_check check (singleton),
  constraint vector_settings_type_check check (vector_type in ('vector', 'halfvec')),
  constraint vector_settings_dimensions_check check (
    dimensions >= 1 and dimensions <= case vector_type when 'vector' then 2000 else 4000 end)
);
comment on table tributary_private.vector_settings is
  'Tributary: the type and size of document_chunks.embedding, chosen when 0010_vector_models was applied.';
revoke all on tributary_private.vector_settings from public, anon, authenticated;
grant select on tributary_private.vector_settings to service_role;

do $settings$
declare
  requested_type text := nullif(current_setting('tributary.vector_type', true), '');
  requested_text text := nullif(current_setting('tributary.vector_dimensions', true), '');
  current_type text;
  current_dimensions integer;
  target_type text;
  target_dimensions integer;
  stored bigint;
begin
  select t.typname, nullif(a.atttypmod, -1) into current_type, current_dimensions
  from pg_catalog.pg_attribute a join pg_catalog.pg_type t on t.oid = a.atttypid
  where a.attrelid = 'public.document_chunks'::regclass and a.attname = 'embedding' and not a.attisdropped;
  if current_type is null then
    raise exception using errcode = '55000', message = '[tributary] document_chunks has no embedding column',
      hint = 'Apply 0007_vector_search first.';
  end if;
  if requested_text is not null and requested_text !~ '^[0-9]{1,5}$' then
    raise exception using errcode = '22023',
      message = format('[tributary] vector dimensions must be a whole number, got %s', requested_text);
  end if;
  target_type := coalesce(requested_type, current_type);
  target_dimensions := coalesce(requested_text::integer, current_dimensions, 1536);
  if target_type not in ('vector', 'halfvec') then
    raise exception using errcode = '22023',
      message = format('[tributary] vector type must be vector or halfvec, got %s', target_type);
  end if;
  -- HNSW indexes vector up to 2,000 dimensions and halfvec up to 4,000.
  if target_dimensions < 1 or target_dimensions > (case target_type when 'vector' then 2000 else 4000 end) then
    raise exception using errcode = '22023',
      message = format('[tributary] %s(%s) cannot be indexed with HNSW (vector: 1 to 2000 dimensions, halfvec: 1 to 4000)',
                       target_type, target_dimensions),
      hint = 'Pick fewer dimensions (OpenAI text-embedding-3 models take a dimensions option) or type halfvec.';
  end if;

  if target_type is distinct from current_type or target_dimensions is distinct from current_dimensions then
    select count(*) into stored from public.document_chunks where embedding is not null;
    if stored > 0 then
      raise exception using errcode = '55000',
        message = format('[tributary] document_chunks holds %s embeddings of %s(%s); refusing to change them to %s(%s)',
                         stored, current_type, current_dimensions, target_type, target_dimensions),
        hint = 'Migrate without a vector setting to keep them. To change, clear them first '
               '(update public.document_chunks set embedding = null, embedding_model = null), then migrate '
               'with the new setting and sync again with an embedder of that size.';
    end if;
    drop index if exists public.document_chunks_embedding_idx;
    execute format('alter table public.document_chunks alter column embedding type extensions.%s(%s) using null',
                   target_type, target_dimensions);
  end if;
  execute format('create index if not exists document_chunks_embedding_idx on public.document_chunks '
                 'using hnsw (embedding extensions.%s_cosine_ops)', target_type);
  insert into tributary_private.vector_settings (vector_type, dimensions)
  values (target_type, target_dimensions)
  on conflict (singleton) do update set vector_type = excluded.vector_type, dimensions = excluded.dimensions,
    updated_at = now();
end
$settings$;

-- What clients need to know before embedding: type, size and distance of stored vectors, read from
-- the column itself (the catalog is readable by every role, so no security definer is needed).
create or replace function public.vector_settings()
returns table (vector_type text, dimensions integer, distance text)
language sql stable
set search_path = ''
as $$
  select t.typname::text, a.atttypmod, 'cosine'::text
  from pg_catalog.pg_attribute a join pg_catalog.pg_type t on t.oid = a.atttypid
  where a.attrelid = 'public.document_chunks'::regclass and a.attname = 'embedding' and not a.attisdropped
$$;
revoke all on function public.vector_settings() from public, anon;
grant execute on function public.vector_settings() to authenticated, service_role;

-- The nearest chunks of one organisation and one embedding model. Invoker rights: called by
-- content_search it runs as that function's owner, after its access check; called directly
-- by the service role, row level security does not apply (it bypasses it). Two strategies, chosen by the caller:
--   exact  every chunk of the org and model (read through the (org_id, embedding_model) index) is
--          compared: perfect recall, and cheap for the small organisations a shared HNSW graph
--          serves badly (their chunks are a tiny share of each neighbourhood it visits).
--   index  the HNSW index with pgvector 0.8 iterative scans (relaxed order, re-sorted here), which
--          keep scanning until enough chunks pass the org/model/document filters. enable_sort is
--          off for this one statement so the planner cannot fall back to reading the whole org
--          through the org_id btree and sorting it (1.1-1.6 s for 100,000 chunks).
-- The statement is planned per call (EXECUTE), with the real organisation id and filters. JIT is
-- off: an HNSW scan's estimated cost passes jit_above_cost, and compiling took 1.2 s of a 1.8 s
-- query in bench/search.ts, for a scan that reads a few hundred rows.
create or replace function tributary_private.semantic_candidates(
  p_org_id uuid,
  p_model text,
  p_query extensions.vector,
  p_count integer,
  p_strategy text,
  p_connector_ids uuid[] default null,
  p_mime_types text[] default null,
  p_metadata jsonb default null,
  p_max_scan_tuples integer default 20000
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
  statement := tributary_private.semantic_candidates_sql(vector_type, p_strategy);
  -- Candidate list size of the HNSW scan: more finds more true neighbours and costs more time.
  ef_search := coalesce(nullif(current_setting('tributary.hnsw_ef_search', true), '')::integer, 200);
  if p_strategy = 'exact' then
    return query execute statement
      using p_org_id, p_model, p_query, p_count, p_connector_ids, p_mime_types, p_metadata;
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
    using p_org_id, p_model, p_query, p_count, p_connector_ids, p_mime_types, p_metadata;
  perform set_config('hnsw.ef_search', coalesce(previous[1], '40'), true),
          set_config('enable_sort', previous[2], true);
  if iterative then
    perform set_config('hnsw.iterative_scan', coalesce(previous[3], 'off'), true),
            set_config('hnsw.max_scan_tuples', coalesce(previous[4], '20000'), true);
  end if;
end
$$;

-- The statement semantic_candidates runs, separate so tests and benchmarks can EXPLAIN exactly it
-- ($1 org, $2 model, $3 query vector, $4 count, $5 connector ids, $6 mime types, $7 metadata).
create or replace function tributary_private.semantic_candidates_sql(p_vector_type text, p_strategy text)
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
      and ($7::jsonb is null or d.source_metadata @> $7::jsonb) $f$;
begin
  if p_vector_type not in ('vector', 'halfvec') or p_strategy not in ('exact', 'index') then
    raise exception using errcode = '22023',
      message = format('[tributary] unknown vector type %s or strategy %s', p_vector_type, p_strategy);
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

-- Only content_search (as its owner) and the server need these.
revoke all on function tributary_private.semantic_candidates(uuid, text, extensions.vector, integer, text, uuid[], text[], jsonb, integer)
  from public, anon, authenticated;
grant execute on function tributary_private.semantic_candidates(uuid, text, extensions.vector, integer, text, uuid[], text[], jsonb, integer)
  to service_role;
revoke all on function tributary_private.semantic_candidates_sql(text, text) from public, anon, authenticated;
grant execute on function tributary_private.semantic_candidates_sql(text, text) to service_role;

-- The hybrid search RPC, now model-aware. Seed parameters keep their names and meaning; new ones:
-- query_embedding_model (required with query_embedding: chunks of other models never come back),
-- mime_types, metadata_filter (containment on the document's source_metadata) and
-- min_full_text_score (minimum ts_rank_cd of a full-text hit; match_threshold is the minimum cosine
-- similarity of a vector hit). A chunk is returned when it passes in at least one half. Each row
-- explains its score: ranks, raw values (ts_rank_cd, cosine similarity) and each half's share.
drop function if exists public.unified_content_search(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer);

create or replace function tributary_private.content_search(
  query_embedding extensions.vector default null,
  match_org_id uuid default null,
  match_count integer default 20,
  match_threshold double precision default 0,
  include_imported boolean default true,
  query_text text default null,
  connector_ids uuid[] default null,
  full_text_weight double precision default 1,
  semantic_weight double precision default 1,
  rrf_k integer default 60,
  query_embedding_model text default null,
  mime_types text[] default null,
  metadata_filter jsonb default null,
  min_full_text_score double precision default 0
)
returns table (
  chunk_id uuid,
  document_id uuid,
  connector_id uuid,
  title text,
  external_url text,
  mime_type text,
  chunk_index integer,
  context text,
  content text,
  snippet text,
  score double precision,
  full_text_rank integer,
  semantic_rank integer,
  similarity double precision,
  source_metadata jsonb,
  full_text_score double precision,
  full_text_contribution double precision,
  semantic_contribution double precision,
  semantic_strategy text
)
language plpgsql stable security definer
set search_path = ''
set jit = off
as $$
#variable_conflict use_column
declare
  tsquery_value tsquery;
  candidate_count integer;
  settings record;
  strategy text;
  exact_limit integer;
  table_rows double precision;
  model_rows integer;
  caller text;
begin
  if match_org_id is null then
    raise exception using errcode = '22004', message = '[tributary] match_org_id is required';
  end if;
  if match_count is null or match_count < 1 or match_count > 200 then
    raise exception using errcode = '22023',
      message = format('[tributary] match_count must be between 1 and 200, got %s', coalesce(match_count::text, 'null'));
  end if;
  -- 'NaN' compares greater than every number in Postgres, so it is refused by name.
  if match_threshold is null or match_threshold = 'NaN' or match_threshold < -1 or match_threshold > 1 then
    raise exception using errcode = '22023', message = '[tributary] match_threshold must be between -1 and 1';
  end if;
  if min_full_text_score is null or min_full_text_score = 'NaN' or min_full_text_score < 0 or min_full_text_score > 1 then
    raise exception using errcode = '22023', message = '[tributary] min_full_text_score must be between 0 and 1';
  end if;
  if rrf_k is null or rrf_k < 1 or rrf_k > 1000 then
    raise exception using errcode = '22023', message = '[tributary] rrf_k must be between 1 and 1000';
  end if;
  if full_text_weight is null or semantic_weight is null or full_text_weight = 'NaN' or semantic_weight = 'NaN'
     or full_text_weight < 0 or semantic_weight < 0
     or full_text_weight = 'Infinity' or semantic_weight = 'Infinity' then
    raise exception using errcode = '22023',
      message = format('[tributary] full_text_weight and semantic_weight must be >= 0 and finite, got %s and %s',
                       coalesce(full_text_weight::text, 'null'), coalesce(semantic_weight::text, 'null'));
  end if;
  if full_text_weight = 0 and semantic_weight = 0 then
    raise exception using errcode = '22023', message = '[tributary] full_text_weight and semantic_weight are both 0';
  end if;
  if char_length(query_text) > 2000 then
    raise exception using errcode = '22023', message = '[tributary] query_text is longer than 2000 characters';
  end if;
  if metadata_filter is not null and jsonb_typeof(metadata_filter) <> 'object' then
    raise exception using errcode = '22023', message = '[tributary] metadata_filter must be a JSON object';
  end if;
  if not include_imported then
    return; -- Tributary only holds imported documents
  end if;
  if coalesce(btrim(query_text), '') = '' and query_embedding is null then
    raise exception using errcode = '22004', message = '[tributary] give query_text, query_embedding, or both';
  end if;
  if query_embedding is not null then
    if coalesce(btrim(query_embedding_model), '') = '' then
      raise exception using errcode = '22023',
        message = '[tributary] query_embedding needs query_embedding_model',
        hint = 'Pass the id of the embedder that made the query vector (the embedding_model stored with the chunks); vectors of different models are not comparable.';
    end if;
    select s.vector_type, s.dimensions into settings from public.vector_settings() s;
    if extensions.vector_dims(query_embedding) <> settings.dimensions then
      raise exception using errcode = '22000',
        message = format('[tributary] query_embedding has %s dimensions; this database stores %s(%s)',
                         extensions.vector_dims(query_embedding), settings.vector_type, settings.dimensions),
        hint = 'Embed the query with the same embedder (and dimensions) as the stored chunks.';
    end if;
    -- A zero vector has no direction: every cosine distance would be NaN.
    if extensions.vector_norm(query_embedding) = 0 then
      raise exception using errcode = '22023', message = '[tributary] query_embedding is all zeros';
    end if;
  end if;
  -- Security definer, so the planner sees plain statistics instead of the RLS policy's membership
  -- array, whose unknown selectivity made it read a large org's 100,000 chunks through the org_id
  -- btree (for vectors and for full text) instead of using the HNSW or GIN index. Access is checked
  -- here instead, for the caller: the `role` setting (SET ROLE, as PostgREST and the repositories
  -- do) or the login role; security definer changes neither. Every query below filters by org.
  caller := coalesce(nullif(current_setting('role', true), 'none'), session_user);
  if not exists (select from pg_catalog.pg_roles r where r.rolname = caller and (r.rolbypassrls or r.rolsuper))
     and not (match_org_id = any (array(select tributary_private.user_org_ids()))) then
    raise exception using errcode = '42501',
      message = format('[tributary] not a member of organisation %s', match_org_id),
      hint = 'Sign in as a member of that organisation, or call from the server with the service role.';
  end if;

  tsquery_value := case when coalesce(btrim(query_text), '') = '' then null
                        else websearch_to_tsquery('english'::regconfig, query_text) end;
  candidate_count := least(match_count * 4, 400);

  if query_embedding is not null then
    -- Exact search while it reads no more chunks than the index would visit: the index visits
    -- about candidate_count * table_rows / model_rows chunks to find candidate_count of this org.
    exact_limit := coalesce(nullif(current_setting('tributary.exact_search_max_rows', true), '')::integer, 10000);
    select greatest(c.reltuples, 0) into table_rows from pg_catalog.pg_class c
    where c.oid = 'public.document_chunks'::regclass;
    exact_limit := greatest(exact_limit, ceil(sqrt(4 * candidate_count * table_rows))::integer);
    select count(*) into model_rows from (
      select from public.document_chunks c
      where c.org_id = match_org_id and c.embedding_model = query_embedding_model and c.embedding is not null
      limit exact_limit + 1) bounded;
    strategy := case when model_rows = 0 then 'none' when model_rows <= exact_limit then 'exact' else 'index' end;
  end if;

  return query
  with full_text as (
    select ranked.id, ranked.rank_value,
           row_number() over (order by ranked.rank_value desc, ranked.id) as rank_position
    from (
      select c.id, ts_rank_cd(c.fts, tsquery_value)::double precision as rank_value
      from public.document_chunks c
      join public.imported_documents d on d.org_id = c.org_id and d.id = c.document_id
      where tsquery_value is not null
        and c.org_id = match_org_id
        and c.fts @@ tsquery_value
        and not d.is_deleted and d.processing_status = 'completed'
        and (connector_ids is null or d.connector_id = any (connector_ids))
        and (mime_types is null or d.mime_type = any (mime_types))
        and (metadata_filter is null or d.source_metadata @> metadata_filter)
      order by 2 desc, c.id
      limit candidate_count
    ) ranked
    where ranked.rank_value >= min_full_text_score
  ),
  semantic as (
    select ranked.id, 1 - ranked.distance as similarity,
           row_number() over (order by ranked.distance, ranked.id) as rank_position
    from tributary_private.semantic_candidates(
      match_org_id, query_embedding_model, query_embedding, candidate_count, strategy,
      connector_ids, mime_types, metadata_filter, exact_limit) ranked
    where strategy in ('exact', 'index') and 1 - ranked.distance >= match_threshold
  ),
  fused as (
    select parts.* from (
      select coalesce(f.id, s.id) as id,
             coalesce(full_text_weight / (rrf_k + f.rank_position), 0.0) as ft_part,
             coalesce(semantic_weight / (rrf_k + s.rank_position), 0.0) as sem_part,
             f.rank_position as ft_rank,
             f.rank_value as ft_value,
             s.rank_position as sem_rank,
             s.similarity as sem_similarity
      from full_text f
      full outer join semantic s on s.id = f.id
    ) parts
    order by parts.ft_part + parts.sem_part desc, parts.id
    limit match_count
  )
  select c.id, d.id, d.connector_id, d.title, d.external_url, d.mime_type, c.chunk_index, c.context, c.content,
         case when tsquery_value is not null
           then ts_headline('english'::regconfig, c.content, tsquery_value,
                            'MaxFragments=2, MaxWords=30, MinWords=8, StartSel=**, StopSel=**, FragmentDelimiter=" … "')
           else left(c.content, 240) end,
         (fused.ft_part + fused.sem_part)::double precision,
         fused.ft_rank::integer,
         fused.sem_rank::integer,
         fused.sem_similarity::double precision,
         d.source_metadata,
         fused.ft_value::double precision,
         fused.ft_part::double precision,
         fused.sem_part::double precision,
         strategy
  from fused
  join public.document_chunks c on c.id = fused.id
  join public.imported_documents d on d.org_id = c.org_id and d.id = c.document_id
  order by fused.ft_part + fused.sem_part desc, c.id;
end
$$;

revoke all on function tributary_private.content_search(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer, text, text[], jsonb, double precision)
  from public, anon;
grant execute on function tributary_private.content_search(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer, text, text[], jsonb, double precision)
  to authenticated, service_role;

-- The RPC clients call: security invoker in the exposed schema, so no API role can reach owner
-- privileges except through content_search and its access check (in a schema the API does not expose).
create or replace function public.unified_content_search(
  query_embedding extensions.vector default null,
  match_org_id uuid default null,
  match_count integer default 20,
  match_threshold double precision default 0,
  include_imported boolean default true,
  query_text text default null,
  connector_ids uuid[] default null,
  full_text_weight double precision default 1,
  semantic_weight double precision default 1,
  rrf_k integer default 60,
  query_embedding_model text default null,
  mime_types text[] default null,
  metadata_filter jsonb default null,
  min_full_text_score double precision default 0
)
returns table (
  chunk_id uuid,
  document_id uuid,
  connector_id uuid,
  title text,
  external_url text,
  mime_type text,
  chunk_index integer,
  context text,
  content text,
  snippet text,
  score double precision,
  full_text_rank integer,
  semantic_rank integer,
  similarity double precision,
  source_metadata jsonb,
  full_text_score double precision,
  full_text_contribution double precision,
  semantic_contribution double precision,
  semantic_strategy text
)
language sql stable
set search_path = ''
as $$
  select * from tributary_private.content_search(
    query_embedding, match_org_id, match_count, match_threshold, include_imported, query_text, connector_ids,
    full_text_weight, semantic_weight, rrf_k, query_embedding_model, mime_types, metadata_filter, min_full_text_score)
$$;
revoke all on function public.unified_content_search(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer, text, text[], jsonb, double precision)
  from public, anon;
grant execute on function public.unified_content_search(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer, text, text[], jsonb, double precision)
  to authenticated, service_role;
