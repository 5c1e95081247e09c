-- Embedding reuse inside the database (issue 11). Before, a re-sync read every reusable vector
-- out (find_reusable_embeddings: 1,536 numbers as text per chunk), parsed it, held it until the
-- write and sent it back as text: at 1536 dimensions ~20 KB each way per unchanged chunk, and the
-- pipeline's memory bound had to count them (a 10%-changed re-sync of 10,000 documents held 7,000
-- vectors, more than one embedding request's worth).
-- 1. find_reusable_embedding_hashes(org, model, hashes): which hashes have a stored vector (no
--    vectors returned), through document_chunks_embedding_reuse_idx.
-- 2. replace_document_chunks takes chunks with `reuse_embedding: true` and an embedding_model
--    instead of an embedding: the vector is copied from a stored chunk of the organisation with
--    that hash and model, in the column's type, in the same statement. A document with a reused
--    hash that is no longer stored is not written; its row says which hashes in the new
--    `missing_embeddings` column (empty for documents written), so the caller embeds those and
--    writes it again. The return type changes, so the function is dropped and created again
--    (same name, argument, rights).
-- Like 0014 the functions are plpgsql and are created without pgvector.

-- Fail fast instead of queueing every writer behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

drop function public.replace_document_chunks(jsonb);

create function public.replace_document_chunks(p_documents jsonb)
returns table (document_id uuid, chunk_count integer, removed integer, embeddings_generated boolean,
               missing_embeddings text[])
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
      hint = 'Chunks are { chunk_index, context?, content, content_hash, token_count?, embedding?, embedding_model?, reuse_embedding? }.';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_documents) d, jsonb_array_elements(d -> 'chunks') c
    where jsonb_typeof(c -> 'reuse_embedding') is not null and jsonb_typeof(c -> 'reuse_embedding') not in ('boolean', 'null')
  ) then
    raise exception using errcode = '22023', message = '[tributary] reuse_embedding must be true, false or null';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_documents) d, jsonb_array_elements(d -> 'chunks') c
    where c -> 'reuse_embedding' = 'true'::jsonb
      and ((c ->> 'embedding') is not null or (c ->> 'embedding_model') is null)
  ) then
    raise exception using errcode = '22023',
      message = '[tributary] a chunk with reuse_embedding names its embedding_model and carries no embedding',
      hint = 'Send either the embedding, or reuse_embedding: true with the embedding_model whose stored vector to copy.';
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
    where (c -> 'embedding' is not null and jsonb_typeof(c -> 'embedding') <> 'null')
      or c -> 'reuse_embedding' = 'true'::jsonb
  ) then
    raise exception using errcode = '55000',
      message = '[tributary] this database cannot store embeddings (no pgvector: 0007_vector_search is not applied)',
      hint = 'Install pgvector (create extension vector with schema extensions) and run the migrations again.';
  end if;

  if has_vectors then
    return query
    with x as (
      select d.org_id, d.id as document_id, (c ->> 'chunk_index')::integer as chunk_index, c ->> 'context' as context,
        c ->> 'content' as content, c ->> 'content_hash' as content_hash, (c ->> 'token_count')::integer as token_count,
        c ->> 'embedding' as embedding, coalesce(c -> 'reuse_embedding' = 'true'::jsonb, false) as reuse,
        case when c ->> 'embedding' is null and c -> 'reuse_embedding' is distinct from 'true'::jsonb then null
             else c ->> 'embedding_model' end as embedding_model
      from jsonb_array_elements(p_documents) e
      join public.imported_documents d on d.id = (e ->> 'document_id')::uuid
      cross join lateral jsonb_array_elements(e -> 'chunks') c
    ),
    -- One stored vector per reused (organisation, model, hash), read in the column's own type
    -- (vector or halfvec, never through text). Every part of one statement sees the rows as they
    -- were before it, so a document's own unchanged chunks can be copied while they are replaced.
    stored as (
      select r.org_id, r.embedding_model, r.content_hash, found.embedding
      from (select distinct x.org_id, x.embedding_model, x.content_hash from x where x.reuse) r
      cross join lateral (
        select c.embedding from public.document_chunks c
        where c.org_id = r.org_id and c.embedding_model = r.embedding_model and c.content_hash = r.content_hash
          and c.embedding is not null
        limit 1
      ) found
    ),
    -- A document with a reused hash that is no longer stored (its last copy was deleted or
    -- rewritten since the caller looked) is left as it was and reported; the caller embeds them.
    blocked as (
      select x.document_id, array_agg(distinct x.content_hash order by x.content_hash) as missing
      from x
      where x.reuse and not exists (
        select 1 from stored s
        where s.org_id = x.org_id and s.embedding_model = x.embedding_model and s.content_hash = x.content_hash)
      group by x.document_id
    ),
    given as (
      select d.id, d.org_id, jsonb_array_length(e -> 'chunks') as n,
        not exists (
          select 1 from jsonb_array_elements(e -> 'chunks') c
          where c ->> 'embedding' is null and c -> 'reuse_embedding' is distinct from 'true'::jsonb
        ) as embedded
      from jsonb_array_elements(p_documents) e
      join public.imported_documents d on d.id = (e ->> 'document_id')::uuid
      where not exists (select 1 from blocked b where b.document_id = d.id)
    ),
    ready as (
      select x.*, s.embedding as reused
      from x
      join given g on g.id = x.document_id
      left join stored s
        on x.reuse and s.org_id = x.org_id and s.embedding_model = x.embedding_model and s.content_hash = x.content_hash
    ),
    -- Positions no longer given. (Disjoint from the rows the inserts below touch, so one statement
    -- can do all three.)
    gone as (
      delete from public.document_chunks c
      using given g
      where c.org_id = g.org_id and c.document_id = g.id
        and not exists (select 1 from x where x.document_id = c.document_id and x.chunk_index = c.chunk_index)
      returning c.document_id
    ),
    -- Chunks that carry their vector (or none), and chunks that copy a stored one: two inserts,
    -- because a vector given as text is cast through the vector type while a copied one keeps the
    -- column's type. They write disjoint positions.
    sent as (
      insert into public.document_chunks as c
        (org_id, document_id, chunk_index, context, content, content_hash, token_count, embedding, embedding_model)
      select r.org_id, r.document_id, r.chunk_index, r.context, r.content, r.content_hash, r.token_count,
        r.embedding::extensions.vector, r.embedding_model
      from ready r
      where not r.reuse
      order by r.document_id, r.chunk_index
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
    copied as (
      insert into public.document_chunks as c
        (org_id, document_id, chunk_index, context, content, content_hash, token_count, embedding, embedding_model)
      select r.org_id, r.document_id, r.chunk_index, r.context, r.content, r.content_hash, r.token_count,
        r.reused, r.embedding_model
      from ready r
      where r.reuse
      order by r.document_id, r.chunk_index
      on conflict (org_id, document_id, chunk_index) do update set
        context = excluded.context, content = excluded.content, content_hash = excluded.content_hash,
        token_count = excluded.token_count, embedding = excluded.embedding, embedding_model = excluded.embedding_model
      -- The same hash and model at the same position already holds that model's vector of that text.
      where c.content_hash is distinct from excluded.content_hash
        or c.context is distinct from excluded.context
        or c.token_count is distinct from excluded.token_count
        or c.embedding_model is distinct from excluded.embedding_model
        or c.embedding is null
      returning 1
    ),
    updated as (
      update public.imported_documents d
      set chunk_count = g.n, chunks_generated = true, embeddings_generated = g.embedded
      from given g where d.id = g.id
      returning d.id, g.n, g.embedded
    )
    select u.id, u.n, (select count(*)::integer from gone where gone.document_id = u.id), u.embedded,
      '{}'::text[]
    from updated u
    union all
    select b.document_id, d.chunk_count, 0, d.embeddings_generated, b.missing
    from blocked b join public.imported_documents d on d.id = b.document_id;
  else
    return query
    with given as (
      select d.id, d.org_id, e -> 'chunks' as chunks, jsonb_array_length(e -> 'chunks') as n
      from jsonb_array_elements(p_documents) e
      join public.imported_documents d on d.id = (e ->> 'document_id')::uuid
    ),
    x as (
      select g.org_id, g.id as document_id, (c ->> 'chunk_index')::integer as chunk_index, c ->> 'context' as context,
        c ->> 'content' as content, c ->> 'content_hash' as content_hash, (c ->> 'token_count')::integer as token_count
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
      set chunk_count = g.n, chunks_generated = true, embeddings_generated = g.n = 0
      from given g where d.id = g.id
      returning d.id, g.n, g.n = 0 as embedded
    )
    select u.id, u.n, (select count(*)::integer from gone where gone.document_id = u.id), u.embedded,
      '{}'::text[]
    from updated u;
  end if;
end
$$;

comment on function public.replace_document_chunks(jsonb) is
  'Replaces the chunks of up to 1,000 documents in one transaction (deletes positions not given, rewrites only changed chunks, copies stored vectors for chunks marked reuse_embedding) and updates each document''s chunk counters. Returns (document_id, chunk_count, removed, embeddings_generated, missing_embeddings); a document with missing_embeddings was not written.';

create or replace function public.find_reusable_embedding_hashes(
  p_org_id uuid,
  p_embedding_model text,
  p_content_hashes text[]
)
returns table (content_hash text)
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
  select h.hash
  from (select distinct unnest(p_content_hashes) as hash) h
  where exists (
    select 1 from public.document_chunks c
    where c.org_id = p_org_id and c.embedding_model = p_embedding_model and c.content_hash = h.hash
      and c.embedding is not null
  );
end
$$;
comment on function public.find_reusable_embedding_hashes(uuid, text, text[]) is
  'The distinct chunk hashes of the given model with a stored embedding in the organisation (the vectors stay in the database: replace_document_chunks copies them for chunks marked reuse_embedding); at most 5,000 hashes per call.';

revoke all on function public.replace_document_chunks(jsonb) from public, anon, authenticated;
revoke all on function public.find_reusable_embedding_hashes(uuid, text, text[]) from public, anon;
grant execute on function public.replace_document_chunks(jsonb) to service_role;
-- Reads with invoker rights: members see what row level security lets them read anyway.
grant execute on function public.find_reusable_embedding_hashes(uuid, text, text[]) to authenticated, service_role;
