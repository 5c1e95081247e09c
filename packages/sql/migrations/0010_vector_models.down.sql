-- Back to 0007_vector_search: the model-blind search RPC and a vector(1536) column. A column of
-- another type or size goes back to vector(1536) only while it holds no embeddings (they could not
-- be converted); otherwise the rollback is refused and nothing changes.
drop function if exists public.unified_content_search(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer, text, text[], jsonb, double precision);
drop function if exists tributary_private.content_search(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer, text, text[], jsonb, double precision);
drop function if exists tributary_private.semantic_candidates(uuid, text, extensions.vector, integer, text, uuid[], text[], jsonb, integer);
drop function if exists tributary_private.semantic_candidates_sql(text, text);
drop function if exists public.vector_settings();

do $restore$
declare
  column_type text;
  stored bigint;
begin
  select format_type(a.atttypid, a.atttypmod) into column_type
  from pg_catalog.pg_attribute a
  where a.attrelid = 'public.document_chunks'::regclass and a.attname = 'embedding' and not a.attisdropped;
  if column_type is distinct from 'extensions.vector(1536)' then
    select count(*) into stored from public.document_chunks where embedding is not null;
    if stored > 0 then
      raise exception using errcode = '55000',
        message = format('[tributary] cannot roll back 0010_vector_models: document_chunks holds %s embeddings of %s, and 0007 stores vector(1536)',
                         stored, column_type),
        hint = 'Clear the embeddings first (update public.document_chunks set embedding = null, embedding_model = null), or keep 0010 applied.';
    end if;
    drop index if exists public.document_chunks_embedding_idx;
    alter table public.document_chunks alter column embedding type extensions.vector(1536) using null;
    create index if not exists document_chunks_embedding_idx on public.document_chunks
      using hnsw (embedding extensions.vector_cosine_ops);
  end if;
end
$restore$;

drop table if exists tributary_private.vector_settings;

-- Hybrid search over one organisation's completed, live documents: full-text (websearch syntax,
-- ts_rank_cd) and vector similarity, fused with reciprocal rank fusion:
--   score = full_text_weight / (rrf_k + full_text_rank) + semantic_weight / (rrf_k + semantic_rank)
-- Either half may be omitted (query_text or query_embedding null). Invoker rights: a signed-in
-- user only ever sees their own organisations' chunks (RLS); the service role sees match_org_id's.
-- Parameter names follow the seed's unified_content_search; the recordings half of the seed's
-- version belongs to the host and is not part of Tributary.
create or replace function public.unified_content_search(
  query_embedding extensions.vector(1536) default null,
  match_org_id uuid default null,
  match_count integer default 20,
  match_threshold double precision default 0,
  include_imported boolean default true,
  query_text text default null,
  connector_ids uuid[] default null,
  full_text_weight double precision default 1,
  semantic_weight double precision default 1,
  rrf_k integer default 60
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
  source_metadata jsonb
)
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
declare
  tsquery_value tsquery;
  candidate_count integer;
begin
  if match_org_id is null then
    raise exception using errcode = '22004', message = '[tributary] match_org_id is required';
  end if;
  if match_count is null or match_count < 1 or match_count > 200 then
    raise exception using errcode = '22023',
      message = format('[tributary] match_count must be between 1 and 200, got %s', coalesce(match_count::text, 'null'));
  end if;
  if match_threshold is null or match_threshold < -1 or match_threshold > 1 then
    raise exception using errcode = '22023', message = '[tributary] match_threshold must be between -1 and 1';
  end if;
  if rrf_k is null or rrf_k < 1 or rrf_k > 1000 then
    raise exception using errcode = '22023', message = '[tributary] rrf_k must be between 1 and 1000';
  end if;
  if coalesce(full_text_weight, -1) < 0 or coalesce(semantic_weight, -1) < 0 then
    raise exception using errcode = '22023', message = '[tributary] full_text_weight and semantic_weight must be >= 0';
  end if;
  if char_length(query_text) > 2000 then
    raise exception using errcode = '22023', message = '[tributary] query_text is longer than 2000 characters';
  end if;
  if not include_imported then
    return; -- Tributary only holds imported documents
  end if;
  if coalesce(btrim(query_text), '') = '' and query_embedding is null then
    raise exception using errcode = '22004', message = '[tributary] give query_text, query_embedding, or both';
  end if;
  perform tributary_private.assert_org_access(match_org_id);

  tsquery_value := case when coalesce(btrim(query_text), '') = '' then null
                        else websearch_to_tsquery('english'::regconfig, query_text) end;
  candidate_count := least(match_count * 4, 400);

  return query
  with full_text as (
    select c.id, row_number() over (order by ts_rank_cd(c.fts, tsquery_value) desc, c.id) as rank_position
    from public.document_chunks c
    join public.imported_documents d on d.org_id = c.org_id and d.id = c.document_id
    where tsquery_value is not null
      and c.org_id = match_org_id
      and c.fts @@ tsquery_value
      and not d.is_deleted and d.processing_status = 'completed'
      and (connector_ids is null or d.connector_id = any (connector_ids))
    order by ts_rank_cd(c.fts, tsquery_value) desc, c.id
    limit candidate_count
  ),
  semantic as (
    select ranked.id, ranked.similarity,
           row_number() over (order by ranked.distance, ranked.id) as rank_position
    from (
      select c.id,
             c.embedding operator(extensions.<=>) query_embedding as distance,
             1 - (c.embedding operator(extensions.<=>) query_embedding) as similarity
      from public.document_chunks c
      join public.imported_documents d on d.org_id = c.org_id and d.id = c.document_id
      where query_embedding is not null
        and c.org_id = match_org_id
        and c.embedding is not null
        and not d.is_deleted and d.processing_status = 'completed'
        and (connector_ids is null or d.connector_id = any (connector_ids))
      order by c.embedding operator(extensions.<=>) query_embedding
      limit candidate_count
    ) ranked
    where ranked.similarity >= match_threshold
  ),
  fused as (
    select coalesce(f.id, s.id) as id,
           coalesce(full_text_weight / (rrf_k + f.rank_position), 0.0)
             + coalesce(semantic_weight / (rrf_k + s.rank_position), 0.0) as fused_score,
           f.rank_position as ft_rank,
           s.rank_position as sem_rank,
           s.similarity as sem_similarity
    from full_text f
    full outer join semantic s on s.id = f.id
    order by fused_score desc, coalesce(f.id, s.id)
    limit match_count
  )
  select c.id, d.id, d.connector_id, d.title, d.external_url, d.mime_type, c.chunk_index, c.context, c.content,
         case when tsquery_value is not null
           then ts_headline('english'::regconfig, c.content, tsquery_value,
                            'MaxFragments=2, MaxWords=30, MinWords=8, StartSel=**, StopSel=**, FragmentDelimiter=" … "')
           else left(c.content, 240) end,
         fused.fused_score::double precision,
         fused.ft_rank::integer,
         fused.sem_rank::integer,
         fused.sem_similarity::double precision,
         d.source_metadata
  from fused
  join public.document_chunks c on c.id = fused.id
  join public.imported_documents d on d.org_id = c.org_id and d.id = c.document_id
  order by fused.fused_score desc, c.id;
end
$$;

revoke all on function public.unified_content_search(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer)
  from public, anon;
grant execute on function public.unified_content_search(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer)
  to authenticated, service_role;
