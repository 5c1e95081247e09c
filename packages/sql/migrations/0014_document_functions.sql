-- Document and chunk writes as RPCs, so every repository (node-postgres, PGlite, supabase-js) calls
-- the same SQL instead of carrying its own copy: chunk replacement (atomic and set-based, many
-- documents per call), reusable embeddings (one row per hash, bounded), processing status changes
-- and version lookups. The writes are the service role's; the two lookups run with the caller's
-- rights, so a member reads only what row level security shows them.
--
-- The embedding column exists only once pgvector is installed (0007); these functions are plpgsql,
-- whose statements are planned when they first run, so they are created (and the text-only paths
-- work) on a database without pgvector, and a statement naming the vector type only runs with it.

-- ---------------------------------------------------------------------------------------------
-- replace_document_chunks(p_documents): [{ document_id, chunks: [{ chunk_index, context, content,
-- content_hash, token_count, embedding ('[...]' text or null), embedding_model }] }]
-- Per document, afterwards its chunks are exactly the ones given: positions not given are deleted,
-- changed ones rewritten, unchanged ones (same hash of context + text, same model, embedding
-- present or absent as before) left alone, so no new row version or index entry is written for
-- them. The document's chunk_count / chunks_generated / embeddings_generated follow. The documents
-- are locked in id order, so two writers of the same documents run one after the other.
-- ---------------------------------------------------------------------------------------------
create or replace function public.replace_document_chunks(p_documents jsonb)
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

-- ---------------------------------------------------------------------------------------------
-- find_reusable_embeddings: for each distinct hash, one stored embedding of that model in the org
-- (one index probe per hash, however many chunks share it). At most 5,000 hashes per call.
-- ---------------------------------------------------------------------------------------------
create or replace function public.find_reusable_embeddings(p_org_id uuid, p_embedding_model text, p_content_hashes text[])
returns table (content_hash text, embedding text)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_org_id is null or p_embedding_model is null or p_content_hashes is null then
    raise exception using errcode = '22004',
      message = '[tributary] p_org_id, p_embedding_model and p_content_hashes must not be null',
      hint = 'Pass the organisation, the embedding model and the chunk hashes to look up.';
  end if;
  if cardinality(p_content_hashes) > 5000 then
    raise exception using errcode = '22023',
      message = format('[tributary] at most 5000 hashes per call, got %s', cardinality(p_content_hashes)),
      hint = 'Split the lookup into several calls.';
  end if;
  if not exists (
    select 1 from pg_catalog.pg_attribute a
    where a.attrelid = 'public.document_chunks'::regclass and a.attname = 'embedding' and not a.attisdropped
  ) then
    return; -- without pgvector nothing was stored, so nothing is reusable
  end if;
  return query
  select h.hash, found.embedding
  from (select distinct unnest(p_content_hashes) as hash) h
  cross join lateral (
    select c.embedding::text as embedding
    from public.document_chunks c
    where c.org_id = p_org_id and c.embedding_model = p_embedding_model and c.content_hash = h.hash
      and c.embedding is not null
    limit 1
  ) found;
end
$$;
comment on function public.find_reusable_embeddings(uuid, text, text[]) is
  'One stored embedding (pgvector text form) per distinct chunk hash of the given model in the organisation; at most 5,000 hashes per call.';

-- ---------------------------------------------------------------------------------------------
-- set_documents_processing_status / get_document_versions
-- ---------------------------------------------------------------------------------------------
create or replace function public.set_documents_processing_status(p_document_ids uuid[], p_status text, p_error text default null)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  changed integer;
begin
  if p_document_ids is null or p_status is null then
    raise exception using errcode = '22004', message = '[tributary] p_document_ids and p_status must not be null',
      hint = 'Pass the documents and one of pending, processing, completed, failed.';
  end if;
  if p_status not in ('pending', 'processing', 'completed', 'failed') then
    raise exception using errcode = '22023',
      message = format('[tributary] p_status must be pending, processing, completed or failed, got %s', p_status);
  end if;
  update public.imported_documents d
  set processing_status = p_status, processing_error = left(p_error, 4000)
  where d.id = any (p_document_ids);
  get diagnostics changed = row_count;
  return changed;
end
$$;
comment on function public.set_documents_processing_status(uuid[], text, text) is
  'Sets processing_status (and processing_error, cut to 4,000 characters) of the given documents; returns how many changed.';

create or replace function public.get_document_versions(p_connector_id uuid, p_external_ids text[])
returns table (
  external_id text, id uuid, source_version text, content_hash text, is_deleted boolean, processing_status text
)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_connector_id is null or p_external_ids is null then
    raise exception using errcode = '22004', message = '[tributary] p_connector_id and p_external_ids must not be null',
      hint = 'Pass the connector and the external ids to look up.';
  end if;
  if cardinality(p_external_ids) > 5000 then
    raise exception using errcode = '22023',
      message = format('[tributary] at most 5000 external ids per call, got %s', cardinality(p_external_ids)),
      hint = 'Split the lookup into several calls.';
  end if;
  -- As the other connector RPCs (0012): an unknown connector is an error, not an empty answer.
  if not exists (select 1 from public.connector_configs c where c.id = p_connector_id) then
    raise exception using errcode = 'P0002', message = format('[tributary] connector %s not found', p_connector_id),
      hint = 'Check the id; a deleted connector, or one of another organisation, is not found either.';
  end if;
  return query
  select d.external_id, d.id, d.source_version, d.content_hash, d.is_deleted, d.processing_status
  from public.imported_documents d
  join public.connector_configs c on c.id = p_connector_id and d.org_id = c.org_id
  where d.connector_id = p_connector_id and d.external_id = any (p_external_ids);
end
$$;
comment on function public.get_document_versions(uuid, text[]) is
  'What the pipeline needs to skip unchanged documents: id, source version, content hash, deleted flag and status per external id (at most 5,000 per call).';

revoke all on function public.replace_document_chunks(jsonb) from public, anon, authenticated;
revoke all on function public.find_reusable_embeddings(uuid, text, text[]) from public, anon;
revoke all on function public.set_documents_processing_status(uuid[], text, text) from public, anon, authenticated;
revoke all on function public.get_document_versions(uuid, text[]) from public, anon;
grant execute on function public.replace_document_chunks(jsonb) to service_role;
-- Reads with invoker rights: members see what row level security lets them read anyway.
grant execute on function public.find_reusable_embeddings(uuid, text, text[]) to authenticated, service_role;
grant execute on function public.set_documents_processing_status(uuid[], text, text) to service_role;
grant execute on function public.get_document_versions(uuid, text[]) to authenticated, service_role;
