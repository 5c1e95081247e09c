-- Back to 0014's replace_document_chunks (every chunk carries its embedding; no
-- missing_embeddings column); find_reusable_embedding_hashes is dropped. Chunks written with
-- copied vectors stay as they are.
-- Fail fast instead of queueing every writer behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

drop function if exists public.find_reusable_embedding_hashes(uuid, text, text[]);
drop function public.replace_document_chunks(jsonb);

create function public.replace_document_chunks(p_documents jsonb)
returns table (document_id uuid, chunk_count integer, removed integer, embeddings_generated boolean)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  has_vectors boolean;
  wanted integer;
  locked integer;
  missing uuid;
begin
  if p_documents is null or jsonb_typeof(p_documents) <> 'array' then
    raise exception using errcode = '22023', message = '[tributary] p_documents must be a JSON array',
      hint = 'Pass [{ "document_id": ..., "chunks": [...] }, ...].';
  end if;
  if jsonb_array_length(p_documents) > 1000 then
    raise exception using errcode = '22023',
      message = format('[tributary] at most 1000 documents per call, got %s', jsonb_array_length(p_documents)),
      hint = 'Split the documents into several calls.';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_documents) d
    where jsonb_typeof(d) <> 'object' or jsonb_typeof(d -> 'chunks') is distinct from 'array'
      or (d ->> 'document_id') is null
  ) then
    raise exception using errcode = '22023',
      message = '[tributary] each entry of p_documents needs a document_id and a chunks array',
      hint = 'Pass [{ "document_id": ..., "chunks": [...] }, ...].';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_documents) d, jsonb_array_elements(d -> 'chunks') c
    where (c ->> 'chunk_index') is null or (c ->> 'content') is null or (c ->> 'content_hash') is null
  ) then
    raise exception using errcode = '22004',
      message = '[tributary] every chunk needs chunk_index, content and content_hash',
      hint = 'Chunks are { chunk_index, context?, content, content_hash, token_count?, embedding?, embedding_model? }.';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_documents) d
    group by d ->> 'document_id' having count(*) > 1
  ) or exists (
    select 1 from jsonb_array_elements(p_documents) d, jsonb_array_elements(d -> 'chunks') c
    group by d ->> 'document_id', c ->> 'chunk_index' having count(*) > 1
  ) then
    raise exception using errcode = '22023',
      message = '[tributary] a document or a chunk position appears twice in p_documents',
      hint = 'Pass each document once, with distinct chunk_index values.';
  end if;

  select count(*)::int into wanted from jsonb_array_elements(p_documents);
  -- Lock in a fixed order: two calls over overlapping documents never deadlock.
  select count(*)::int into locked from (
    select d.id from public.imported_documents d
    where d.id in (select (e ->> 'document_id')::uuid from jsonb_array_elements(p_documents) e)
    order by d.id
    for update
  ) l;
  if locked < wanted then
    select (e ->> 'document_id')::uuid into missing from jsonb_array_elements(p_documents) e
    where not exists (select 1 from public.imported_documents d where d.id = (e ->> 'document_id')::uuid)
    limit 1;
    raise exception using errcode = 'P0002', message = format('[tributary] document %s not found', missing),
      hint = 'Store the document (upsert_documents) before its chunks.';
  end if;

  has_vectors := exists (
    select 1 from pg_catalog.pg_attribute a
    where a.attrelid = 'public.document_chunks'::regclass and a.attname = 'embedding' and not a.attisdropped
  );
  if not has_vectors and exists (
    select 1 from jsonb_array_elements(p_documents) d, jsonb_array_elements(d -> 'chunks') c
    where c -> 'embedding' is not null and jsonb_typeof(c -> 'embedding') <> 'null'
  ) then
    raise exception using errcode = '55000',
      message = '[tributary] this database cannot store embeddings (no pgvector: 0007_vector_search is not applied)',
      hint = 'Install pgvector (create extension vector with schema extensions) and run the migrations again.';
  end if;

  if has_vectors then
    return query
    with given as (
      select d.id, d.org_id, e -> 'chunks' as chunks, jsonb_array_length(e -> 'chunks') as n,
        not exists (select 1 from jsonb_array_elements(e -> 'chunks') c where c ->> 'embedding' is null) as embedded
      from jsonb_array_elements(p_documents) e
      join public.imported_documents d on d.id = (e ->> 'document_id')::uuid
    ),
    x as (
      select g.org_id, g.id as document_id, (c ->> 'chunk_index')::integer as chunk_index, c ->> 'context' as context,
        c ->> 'content' as content, c ->> 'content_hash' as content_hash, (c ->> 'token_count')::integer as token_count,
        c ->> 'embedding' as embedding,
        case when c ->> 'embedding' is null then null else c ->> 'embedding_model' end as embedding_model
      from given g cross join lateral jsonb_array_elements(g.chunks) c
    ),
    -- Positions no longer given. (Disjoint from the rows the insert below touches, so one
    -- statement can do both.)
    gone as (
      delete from public.document_chunks c
      using given g
      where c.org_id = g.org_id and c.document_id = g.id
        and not exists (select 1 from x where x.document_id = c.document_id and x.chunk_index = c.chunk_index)
      returning c.document_id
    ),
    written as (
      insert into public.document_chunks as c
        (org_id, document_id, chunk_index, context, content, content_hash, token_count, embedding, embedding_model)
      select x.org_id, x.document_id, x.chunk_index, x.context, x.content, x.content_hash, x.token_count, x.embedding::extensions.vector, x.embedding_model
      from x
      order by x.document_id, x.chunk_index
      on conflict (org_id, document_id, chunk_index) do update set
        context = excluded.context, content = excluded.content, content_hash = excluded.content_hash,
        token_count = excluded.token_count, embedding = excluded.embedding, embedding_model = excluded.embedding_model
      -- An unchanged chunk is not rewritten: that would cost a new row version and new HNSW and GIN
      -- index entries for nothing.
      where c.content_hash is distinct from excluded.content_hash
        or c.context is distinct from excluded.context
        or c.token_count is distinct from excluded.token_count
        or c.embedding_model is distinct from excluded.embedding_model
        or (c.embedding is null) <> (excluded.embedding is null)
      returning 1
    ),
    updated as (
      update public.imported_documents d
      set chunk_count = g.n, chunks_generated = true, embeddings_generated = g.embedded
      from given g where d.id = g.id
      returning d.id, g.n, g.embedded
    )
    select u.id, u.n, (select count(*)::integer from gone where gone.document_id = u.id), u.embedded
    from updated u;
  else
    return query
    with given as (
      select d.id, d.org_id, e -> 'chunks' as chunks, jsonb_array_length(e -> 'chunks') as n,
        not exists (select 1 from jsonb_array_elements(e -> 'chunks') c where c ->> 'embedding' is null) as embedded
      from jsonb_array_elements(p_documents) e
      join public.imported_documents d on d.id = (e ->> 'document_id')::uuid
    ),
    x as (
      select g.org_id, g.id as document_id, (c ->> 'chunk_index')::integer as chunk_index, c ->> 'context' as context,
        c ->> 'content' as content, c ->> 'content_hash' as content_hash, (c ->> 'token_count')::integer as token_count,
        c ->> 'embedding' as embedding,
        case when c ->> 'embedding' is null then null else c ->> 'embedding_model' end as embedding_model
      from given g cross join lateral jsonb_array_elements(g.chunks) c
    ),
    -- Positions no longer given. (Disjoint from the rows the insert below touches, so one
    -- statement can do both.)
    gone as (
      delete from public.document_chunks c
      using given g
      where c.org_id = g.org_id and c.document_id = g.id
        and not exists (select 1 from x where x.document_id = c.document_id and x.chunk_index = c.chunk_index)
      returning c.document_id
    ),
    written as (
      insert into public.document_chunks as c
        (org_id, document_id, chunk_index, context, content, content_hash, token_count)
      select x.org_id, x.document_id, x.chunk_index, x.context, x.content, x.content_hash, x.token_count
      from x
      order by x.document_id, x.chunk_index
      on conflict (org_id, document_id, chunk_index) do update set
        context = excluded.context, content = excluded.content, content_hash = excluded.content_hash,
        token_count = excluded.token_count
      -- An unchanged chunk is not rewritten: that would cost a new row version and new HNSW and GIN
      -- index entries for nothing.
      where c.content_hash is distinct from excluded.content_hash
        or c.context is distinct from excluded.context
        or c.token_count is distinct from excluded.token_count
      returning 1
    ),
    updated as (
      update public.imported_documents d
      set chunk_count = g.n, chunks_generated = true, embeddings_generated = g.embedded
      from given g where d.id = g.id
      returning d.id, g.n, g.embedded
    )
    select u.id, u.n, (select count(*)::integer from gone where gone.document_id = u.id), u.embedded
    from updated u;
  end if;
end
$$;
comment on function public.replace_document_chunks(jsonb) is
  'Replaces the chunks of up to 1,000 documents in one transaction (deletes positions not given, rewrites only changed chunks) and updates each document''s chunk counters. Returns (document_id, chunk_count, removed, embeddings_generated).';
revoke all on function public.replace_document_chunks(jsonb) from public, anon, authenticated;
grant execute on function public.replace_document_chunks(jsonb) to service_role;
