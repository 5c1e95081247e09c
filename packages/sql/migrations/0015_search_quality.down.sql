-- Back to 0014: the 0010 search (all words required, ts_rank_cd, English only), no term
-- statistics, no chunk language. The fts column is rebuilt with the English configuration.
-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

drop trigger if exists document_chunks_full_text_stats_insert on public.document_chunks;
drop trigger if exists document_chunks_full_text_stats_update on public.document_chunks;
drop trigger if exists document_chunks_full_text_stats_delete on public.document_chunks;
drop trigger if exists document_chunks_set_language on public.document_chunks;
drop function if exists tributary_private.maintain_full_text_stats();
drop function if exists tributary_private.apply_full_text_changes(uuid[], regconfig[], tsvector[], integer[]);
drop function if exists tributary_private.set_chunk_language();
drop table if exists tributary_private.full_text_terms;
drop table if exists tributary_private.full_text_stats;

alter table public.document_chunks drop column if exists fts;
alter table public.document_chunks add column fts tsvector generated always as (
  setweight(to_tsvector('english'::regconfig, coalesce(context, '')), 'A')
  || setweight(to_tsvector('english'::regconfig, content), 'B')
) stored;
create index if not exists document_chunks_fts_idx on public.document_chunks using gin (fts);
alter table public.document_chunks drop column if exists language;

-- The search function of 0010_vector_models, unchanged.
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

drop function if exists tributary_private.parse_search_query(regconfig, text);
drop function if exists tributary_private.lexeme_query(text, boolean);
drop function if exists tributary_private.text_search_config(text);
