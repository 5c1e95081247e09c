-- tributary:requires-extension vector
-- Cross-source and near-duplicate detection (dedup layer 5).
--
-- Exact: a document whose normalised content (content_hash) is already stored in the organisation,
-- from any connector, is linked to the first copy (imported_documents.duplicate_of) and takes a copy
-- of that copy's chunks and embeddings instead of being embedded again. Each copy keeps its own row:
-- identity, metadata, ACL; its chunks follow its own permissions in search.
-- Near: the pipeline sends a MinHash signature of each document's word shingles; its LSH bands
-- (tributary_private.document_lsh_bands) find candidates, and the estimated Jaccard similarity of
-- the signatures decides (threshold: p_threshold, else the setting tributary.near_duplicate_threshold,
-- else 0.6).
-- A group has one canonical document (duplicate_of is null); every other member points at it. When
-- the canonical is deleted or its content changes, the earliest remaining member takes its role.
-- Search can collapse a group into one result listing the others (unified_content_search_deduplicated).

-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

-- ---------------------------------------------------------------------------------------------
-- The link, on the document. No foreign key: when a canonical row is hard-deleted its members must
-- still know their group to elect a new canonical (the delete trigger below does it).
-- duplicate_kind: exact (same content_hash as the canonical) or near; similarity: 1 for exact, the
-- estimated Jaccard similarity of the word shingles for near.
-- ---------------------------------------------------------------------------------------------
alter table public.imported_documents
  add column if not exists duplicate_of uuid,
  add column if not exists duplicate_kind text,
  add column if not exists duplicate_similarity real;
comment on column public.imported_documents.duplicate_of is
  'Tributary: the canonical document of this document''s duplicate group (null: canonical or unique).';
comment on column public.imported_documents.duplicate_kind is
  'Tributary: exact (same normalised content as the canonical) or near (MinHash similarity over the threshold).';
-- Members of a group, for the hand-over and the listing. Only linked rows are indexed.
create index if not exists imported_documents_duplicate_of_idx on public.imported_documents (duplicate_of)
  where duplicate_of is not null;

create table if not exists tributary_private.document_signatures (
  document_id uuid primary key references public.imported_documents (id) on delete cascade,
  org_id uuid not null,
  signature integer[] not null
);
comment on table tributary_private.document_signatures is
  'Tributary: the MinHash signature of each document''s word shingles (computed by @tributary/core).';

-- One row per band of a signature: documents sharing a row are near-duplicate candidates.
create table if not exists tributary_private.document_lsh_bands (
  org_id uuid not null,
  band_key bigint not null,
  document_id uuid not null references public.imported_documents (id) on delete cascade,
  primary key (org_id, band_key, document_id)
);
create index if not exists document_lsh_bands_document_idx on tributary_private.document_lsh_bands (document_id);
comment on table tributary_private.document_lsh_bands is
  'Tributary: LSH bands of document_signatures (4 signature values per band), keyed per organisation.';

alter table tributary_private.document_signatures enable row level security;
alter table tributary_private.document_lsh_bands enable row level security;
revoke all on tributary_private.document_signatures, tributary_private.document_lsh_bands from public, anon, authenticated;
grant select, insert, update, delete on tributary_private.document_signatures, tributary_private.document_lsh_bands
  to service_role;

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------
create or replace function tributary_private.near_duplicate_threshold()
returns real
language sql stable
set search_path = ''
as $$
  select coalesce(nullif(current_setting('tributary.near_duplicate_threshold', true), '')::real, 0.6::real)
$$;
revoke all on function tributary_private.near_duplicate_threshold() from public, anon, authenticated;
grant execute on function tributary_private.near_duplicate_threshold() to service_role;

-- Estimated Jaccard similarity: the share of positions where two MinHash signatures agree.
create or replace function tributary_private.signature_similarity(p_a integer[], p_b integer[])
returns real
language sql immutable parallel safe
set search_path = ''
as $$
  select case when coalesce(cardinality(p_a), 0) = 0 or cardinality(p_a) <> cardinality(p_b) then 0::real
    else (select count(*) filter (where u.x = u.y) from unnest(p_a, p_b) u(x, y))::real / cardinality(p_a) end
$$;
revoke all on function tributary_private.signature_similarity(integer[], integer[]) from public, anon, authenticated;
grant execute on function tributary_private.signature_similarity(integer[], integer[]) to service_role;

-- The LSH band keys of a signature: band b hashes values b*4+1 .. b*4+4 with its number. Four rows
-- per band (32 bands for 128 values) make a pair of similarity s a candidate with probability
-- 1 - (1 - s^4)^32: 0.99 at s = 0.6, 0.23 at s = 0.3 (bench/dedup.ts measured the trade-off).
create or replace function tributary_private.signature_bands(p_signature integer[])
returns setof bigint
language sql immutable parallel safe
set search_path = ''
as $$
  select pg_catalog.hashtextextended(b::text || ':' || array_to_string(p_signature[b * 4 + 1:(b + 1) * 4], ','), 0)
  from generate_series(0, coalesce(cardinality(p_signature), 0) / 4 - 1) b
$$;
revoke all on function tributary_private.signature_bands(integer[]) from public, anon, authenticated;
grant execute on function tributary_private.signature_bands(integer[]) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Hand-over: the groups whose canonical (p_former) left (deleted, or its content changed) elect the
-- earliest remaining member, an exact copy first; the others point at it. A near member stays in
-- the group only while its similarity to the new canonical reaches the threshold.
-- ---------------------------------------------------------------------------------------------
create or replace function tributary_private.hand_over_canonical(p_former uuid[])
returns integer
language plpgsql security definer
set search_path = ''
as $$
declare
  threshold real := tributary_private.near_duplicate_threshold();
  moved integer;
begin
  with orphans as (
    select d.id, d.duplicate_of as former, d.duplicate_kind, d.content_hash, d.created_at, d.external_id
    from public.imported_documents d
    where d.duplicate_of = any (p_former) and not d.is_deleted
  ),
  heirs as (
    select distinct on (o.former) o.former, o.id as heir, o.content_hash
    from orphans o
    order by o.former, (o.duplicate_kind = 'exact') desc, o.created_at, o.external_id, o.id
  ),
  planned as (
    select o.id,
      case when o.id = h.heir then null else h.heir end as root,
      case when o.id = h.heir then null when o.content_hash = h.content_hash then 'exact' else 'near' end as kind,
      case when o.id = h.heir then null when o.content_hash = h.content_hash then 1::real
           else tributary_private.signature_similarity(os.signature, hs.signature) end as similarity
    from orphans o
    join heirs h on h.former = o.former
    left join tributary_private.document_signatures os on os.document_id = o.id
    left join tributary_private.document_signatures hs on hs.document_id = h.heir
  )
  update public.imported_documents d
  set duplicate_of = case when p.kind = 'near' and p.similarity < threshold then null else p.root end,
      duplicate_kind = case when p.kind = 'near' and p.similarity < threshold then null else p.kind end,
      duplicate_similarity = case when p.kind = 'near' and p.similarity < threshold then null else p.similarity end
  from planned p
  where d.id = p.id;
  get diagnostics moved = row_count;
  return moved;
end
$$;
revoke all on function tributary_private.hand_over_canonical(uuid[]) from public, anon, authenticated;

-- Statement-level, with transition tables: one pass per statement whatever the number of rows.
-- A canonical that is deleted (soft or hard) or whose content changes hands its role over; a member
-- that is deleted or changes leaves its group (the pipeline links changed content again).
create or replace function tributary_private.release_duplicate_links()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  former uuid[];
begin
  if tg_op = 'DELETE' then
    select array_agg(o.id) into former from old_rows o
    where o.duplicate_of is null
      and exists (select from public.imported_documents m where m.duplicate_of = o.id);
  else
    select array_agg(n.id) into former
    from new_rows n join old_rows o on o.id = n.id
    where n.duplicate_of is null
      and ((n.is_deleted and not o.is_deleted) or n.content_hash is distinct from o.content_hash)
      and exists (select from public.imported_documents m where m.duplicate_of = n.id);
    -- Guarded: a statement-level trigger fires even for an update of no rows, so an unguarded
    -- update here would fire this trigger again without end.
    if exists (select from new_rows n join old_rows o on o.id = n.id
               where n.duplicate_of is not null
                 and ((n.is_deleted and not o.is_deleted) or n.content_hash is distinct from o.content_hash)) then
      update public.imported_documents d
      set duplicate_of = null, duplicate_kind = null, duplicate_similarity = null
      from new_rows n join old_rows o on o.id = n.id
      where d.id = n.id and n.duplicate_of is not null
        and ((n.is_deleted and not o.is_deleted) or n.content_hash is distinct from o.content_hash);
    end if;
  end if;
  if former is not null then
    perform tributary_private.hand_over_canonical(former);
  end if;
  return null;
end
$$;
revoke all on function tributary_private.release_duplicate_links() from public, anon, authenticated;
drop trigger if exists imported_documents_release_duplicates_update on public.imported_documents;
create trigger imported_documents_release_duplicates_update after update on public.imported_documents
  referencing old table as old_rows new table as new_rows
  for each statement execute function tributary_private.release_duplicate_links();
drop trigger if exists imported_documents_release_duplicates_delete on public.imported_documents;
create trigger imported_documents_release_duplicates_delete after delete on public.imported_documents
  referencing old table as old_rows
  for each statement execute function tributary_private.release_duplicate_links();

-- ---------------------------------------------------------------------------------------------
-- link_document_duplicates(p_documents, p_embedding_model, p_threshold)
-- p_documents: [{ document_id, minhash: [int, ...] | null }] (at most 1,000; a signature has at
-- most 1,024 values, a multiple of 4). For each document, in the order they were stored: stores its
-- signature and bands, links it to its group (an exact copy first, else the most similar near
-- duplicate over the threshold), and, for an exact copy, copies the chunks of a completed document
-- with the same content (and, when p_embedding_model is given, embeddings of that model only) and
-- marks it completed. Documents of the same call link to earlier ones of the call, never to later.
-- One linker per content hash at a time (transaction advisory locks), so two workers storing the
-- same new content cannot both stay canonical.
-- ---------------------------------------------------------------------------------------------
create or replace function public.link_document_duplicates(
  p_documents jsonb,
  p_embedding_model text default null,
  p_threshold real default null
)
returns table (document_id uuid, duplicate_of uuid, duplicate_kind text, similarity real, chunks_reused boolean)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  threshold real := coalesce(p_threshold, tributary_private.near_duplicate_threshold());
  ordered uuid[];
  lock_key bigint;
  doc record;
  found_match record;
  own_signature integer[];
  own_bands bigint[];
  bad_signature boolean := false;
  root uuid;
  kind text;
  sim real;
  source_id uuid;
  reused boolean;
  i integer;
begin
  if p_documents is null or jsonb_typeof(p_documents) <> 'array' then
    raise exception using errcode = '22023', message = '[tributary] p_documents must be a JSON array',
      hint = 'Pass [{ "document_id": ..., "minhash": [...] }, ...].';
  end if;
  if jsonb_array_length(p_documents) > 1000 then
    raise exception using errcode = '22023',
      message = format('[tributary] at most 1000 documents per call, got %s', jsonb_array_length(p_documents)),
      hint = 'Split the documents into several calls.';
  end if;
  if threshold is null or threshold <= 0 or threshold > 1 then
    raise exception using errcode = '22023',
      message = format('[tributary] the near-duplicate threshold must be in (0, 1], got %s', threshold);
  end if;
  if exists (
    select from jsonb_array_elements(p_documents) e
    where jsonb_typeof(e) <> 'object' or (e ->> 'document_id') is null
      or (e -> 'minhash' is not null and jsonb_typeof(e -> 'minhash') not in ('array', 'null'))
  ) then
    raise exception using errcode = '22023',
      message = '[tributary] each entry needs a document_id, and minhash must be null or an array',
      hint = 'Pass [{ "document_id": ..., "minhash": [...] }, ...].';
  end if;
  -- Signatures parsed once, in C: the JSON array's text as an integer[] literal (an element that is
  -- not a 32-bit integer fails the cast).
  begin
    select exists (
      select from (
        select case when jsonb_typeof(e -> 'minhash') = 'array' and jsonb_array_length(e -> 'minhash') > 0
          then translate((e -> 'minhash')::text, '[]', '{}')::integer[] end as signature
        from jsonb_array_elements(p_documents) e
      ) g
      where g.signature is not null
        and (cardinality(g.signature) > 1024 or cardinality(g.signature) % 4 <> 0 or array_ndims(g.signature) <> 1
             or array_position(g.signature, null) is not null)
    ) into bad_signature;
  exception when invalid_text_representation or numeric_value_out_of_range then
    bad_signature := true;
  end;
  if bad_signature then
    raise exception using errcode = '22023',
      message = '[tributary] minhash must be null or up to 1024 32-bit integers (a multiple of 4)',
      hint = 'Compute signatures with minHashSignature() from @tributary/core.';
  end if;

  select array_agg(d.id order by d.created_at, d.external_id, d.id) into ordered
  from public.imported_documents d
  where d.id in (select (e ->> 'document_id')::uuid from jsonb_array_elements(p_documents) e);
  if coalesce(cardinality(ordered), 0) < (select count(distinct e ->> 'document_id') from jsonb_array_elements(p_documents) e) then
    raise exception using errcode = 'P0002', message = '[tributary] a document of p_documents was not found',
      hint = 'Store the documents (upsert_documents) before linking them.';
  end if;
  if ordered is null then
    return;
  end if;

  -- One linker per content at a time (keys in a fixed order: no deadlock): two workers storing the
  -- same new content wait for each other instead of both staying canonical. Linkers of different
  -- content run in parallel (two near duplicates stored at the same instant may stay apart).
  for lock_key in
    select distinct pg_catalog.hashtextextended('tributary.duplicates:' || d.org_id::text || ':' || d.content_hash, 0)
    from public.imported_documents d where d.id = any (ordered) and d.content_hash is not null order by 1
  loop
    perform pg_catalog.pg_advisory_xact_lock(lock_key);
  end loop;

  -- Signatures and their bands, set-based.
  delete from tributary_private.document_lsh_bands b where b.document_id = any (ordered);
  delete from tributary_private.document_signatures s where s.document_id = any (ordered);
  insert into tributary_private.document_signatures (document_id, org_id, signature)
  select d.id, d.org_id, translate((e -> 'minhash')::text, '[]', '{}')::integer[]
  from jsonb_array_elements(p_documents) e
  join public.imported_documents d on d.id = (e ->> 'document_id')::uuid
  where case when jsonb_typeof(e -> 'minhash') = 'array' then jsonb_array_length(e -> 'minhash') > 0 else false end
  on conflict do nothing;
  insert into tributary_private.document_lsh_bands (org_id, band_key, document_id)
  select distinct s.org_id, k.band_key, s.document_id
  from tributary_private.document_signatures s
  cross join lateral tributary_private.signature_bands(s.signature) k(band_key)
  where s.document_id = any (ordered)
  on conflict do nothing;

  -- Link one document at a time, in storage order: a call's later copies find its earlier ones.
  for i in 1 .. cardinality(ordered) loop
    select d.id, d.org_id, d.content_hash, d.is_deleted, d.duplicate_of, d.duplicate_kind, d.duplicate_similarity into doc
    from public.imported_documents d where d.id = ordered[i];
    root := null; kind := null; sim := null; reused := false; source_id := null; found_match := null;

    if not doc.is_deleted and doc.content_hash is not null then
      -- Exact: the earliest live document with the same content (a canonical first). Never one of
      -- this document's own members, never a document of this call still to come.
      select m.id, coalesce(m.duplicate_of, m.id) as root, m.duplicate_similarity into found_match
      from public.imported_documents m
      where m.org_id = doc.org_id and m.content_hash = doc.content_hash and not m.is_deleted
        and m.id <> doc.id and m.duplicate_of is distinct from doc.id
        and not (m.id = any (ordered[i + 1:]))
      order by (m.duplicate_of is null) desc, m.created_at, m.external_id, m.id
      limit 1;
      if found_match.id is not null then
        root := found_match.root;
        if exists (select from public.imported_documents r where r.id = root and r.content_hash = doc.content_hash) then
          kind := 'exact'; sim := 1;
        else
          kind := 'near'; sim := found_match.duplicate_similarity;
        end if;
        -- Stored chunks of the same content, when complete (and of the pipeline's model).
        select s.id into source_id
        from public.imported_documents s
        where s.org_id = doc.org_id and s.content_hash = doc.content_hash and s.id <> doc.id and not s.is_deleted
          and s.processing_status = 'completed' and s.chunks_generated and s.embeddings_generated
          and (p_embedding_model is null or not exists (
            select from public.document_chunks c
            where c.org_id = s.org_id and c.document_id = s.id and c.embedding_model is distinct from p_embedding_model))
        order by (s.duplicate_of is null) desc, s.created_at, s.id
        limit 1;
      else
        -- Near: candidates share a band; the most similar one over the threshold wins.
        select s.signature into own_signature from tributary_private.document_signatures s where s.document_id = doc.id;
        if own_signature is not null then
          -- `= any (array)`: one probe of the (org_id, band_key) index per band, whatever the size
          -- of the organisation (a join let the planner hash every band of the organisation).
          own_bands := array(select tributary_private.signature_bands(own_signature));
          select m.id, coalesce(m.duplicate_of, m.id) as root, x.similarity into found_match
          from (
            select distinct b.document_id
            from tributary_private.document_lsh_bands b
            where b.org_id = doc.org_id and b.band_key = any (own_bands) and b.document_id <> doc.id
          ) c
          join public.imported_documents m on m.id = c.document_id
          join tributary_private.document_signatures s on s.document_id = m.id
          cross join lateral (select tributary_private.signature_similarity(own_signature, s.signature) as similarity) x
          where not m.is_deleted and m.duplicate_of is distinct from doc.id
            and not (m.id = any (ordered[i + 1:])) and x.similarity >= threshold
          order by x.similarity desc, (m.duplicate_of is null) desc, m.created_at, m.id
          limit 1;
          if found_match.id is not null then
            root := found_match.root; kind := 'near'; sim := found_match.similarity;
          end if;
        end if;
      end if;
    end if;

    -- Only statements that change something: statement triggers on imported_documents fire even
    -- for an update of no rows, and most documents are unique and stay unlinked.
    if (doc.duplicate_of, doc.duplicate_kind, doc.duplicate_similarity) is distinct from (root, kind, sim) then
      update public.imported_documents d
      set duplicate_of = root, duplicate_kind = kind, duplicate_similarity = sim
      where d.id = doc.id;
    end if;
    if root is not null and exists (select from public.imported_documents d where d.duplicate_of = doc.id) then
      -- It was a canonical itself: its members follow it into the group it joins.
      update public.imported_documents d set duplicate_of = root
      where d.duplicate_of = doc.id and d.id <> root;
    end if;

    if source_id is not null then
      delete from public.document_chunks c where c.org_id = doc.org_id and c.document_id = doc.id;
      insert into public.document_chunks
        (org_id, document_id, chunk_index, context, content, content_hash, token_count, metadata, embedding, embedding_model)
      select doc.org_id, doc.id, c.chunk_index, c.context, c.content, c.content_hash, c.token_count, c.metadata,
        c.embedding, c.embedding_model
      from public.document_chunks c
      where c.org_id = doc.org_id and c.document_id = source_id
      order by c.chunk_index;
      update public.imported_documents d
      set chunk_count = s.chunk_count, chunks_generated = true, embeddings_generated = true,
          processing_status = 'completed', processing_error = null
      from public.imported_documents s
      where d.id = doc.id and s.id = source_id;
      reused := true;
    end if;

    return query select doc.id, root, kind, sim, reused;
  end loop;
end
$$;
comment on function public.link_document_duplicates(jsonb, text, real) is
  'Stores MinHash signatures and links up to 1,000 documents to their duplicate group (exact content first, else the most similar near duplicate over the threshold); exact copies take the chunks and embeddings of a completed copy. Returns (document_id, duplicate_of, duplicate_kind, similarity, chunks_reused).';
revoke all on function public.link_document_duplicates(jsonb, text, real) from public, anon, authenticated;
grant execute on function public.link_document_duplicates(jsonb, text, real) to service_role;

-- ---------------------------------------------------------------------------------------------
-- list_document_duplicates(p_org_id, p_document_id, p_limit): duplicate groups of an organisation
-- (or the one group of p_document_id), canonical first. Invoker rights: a member lists only the
-- documents row level security lets them read (a group whose canonical they cannot read shows the
-- readable members only).
-- ---------------------------------------------------------------------------------------------
create or replace function public.list_document_duplicates(
  p_org_id uuid,
  p_document_id uuid default null,
  p_limit integer default 100
)
returns table (
  canonical_id uuid, document_id uuid, connector_id uuid, external_id text, title text,
  duplicate_kind text, similarity real, is_canonical boolean
)
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_org_id is null then
    raise exception using errcode = '22004', message = '[tributary] p_org_id must not be null';
  end if;
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception using errcode = '22023', message = format('[tributary] p_limit must be 1 to 1000, got %s', p_limit);
  end if;
  return query
  with target as (
    select coalesce(t.duplicate_of, t.id) as root from public.imported_documents t
    where t.org_id = p_org_id and t.id = p_document_id
  ),
  groups as (
    select m.duplicate_of as root
    from public.imported_documents m
    where m.org_id = p_org_id and m.duplicate_of is not null and not m.is_deleted
      and (p_document_id is null or m.duplicate_of = (select target.root from target))
    group by m.duplicate_of
    order by min(m.created_at), m.duplicate_of
    limit p_limit
  )
  select g.root, d.id, d.connector_id, d.external_id, d.title, d.duplicate_kind, d.duplicate_similarity,
         d.id = g.root
  from groups g
  join public.imported_documents d on d.org_id = p_org_id and (d.id = g.root or d.duplicate_of = g.root)
  where not d.is_deleted
  order by g.root, (d.id = g.root) desc, d.created_at, d.id;
end
$$;
comment on function public.list_document_duplicates(uuid, uuid, integer) is
  'Duplicate groups of an organisation (or of one document), canonical first, as far as the caller may read them.';
revoke all on function public.list_document_duplicates(uuid, uuid, integer) from public, anon;
grant execute on function public.list_document_duplicates(uuid, uuid, integer) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Search with duplicate groups collapsed: unified_content_search (its access and ACL checks
-- unchanged) asked for three times the results, then, per group, only the best-scoring document's
-- chunks are kept, with the group's other readable, searchable documents as `alternatives`. Invoker
-- rights: the group lookups go through row level security, so a member never learns of a copy they
-- cannot read, and a copy they can read stands for a canonical they cannot.
-- ---------------------------------------------------------------------------------------------
create or replace function public.unified_content_search_deduplicated(
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
  semantic_strategy text,
  alternatives jsonb
)
language sql stable
set search_path = ''
as $$
  with hits as (
    select h.*, coalesce(d.duplicate_of, d.id) as group_id
    from public.unified_content_search(
      query_embedding, match_org_id,
      case when match_count between 1 and 200 then least(200, match_count * 3) else match_count end,
      match_threshold, include_imported, query_text, connector_ids, full_text_weight, semantic_weight, rrf_k,
      query_embedding_model, mime_types, metadata_filter, min_full_text_score) h
    join public.imported_documents d on d.org_id = match_org_id and d.id = h.document_id
  ),
  best as (
    select distinct on (hits.group_id) hits.group_id, hits.document_id
    from hits
    order by hits.group_id, hits.score desc, hits.chunk_id
  )
  select h.chunk_id, h.document_id, h.connector_id, h.title, h.external_url, h.mime_type, h.chunk_index, h.context,
         h.content, h.snippet, h.score, h.full_text_rank, h.semantic_rank, h.similarity, h.source_metadata,
         h.full_text_score, h.full_text_contribution, h.semantic_contribution, h.semantic_strategy,
         (select coalesce(jsonb_agg(jsonb_build_object(
                   'document_id', a.id, 'connector_id', a.connector_id, 'title', a.title,
                   'external_url', a.external_url, 'mime_type', a.mime_type,
                   'duplicate_kind', coalesce(a.duplicate_kind, o.duplicate_kind),
                   'similarity', coalesce(a.duplicate_similarity, o.duplicate_similarity),
                   'is_canonical', a.id = b.group_id)
                 order by a.id = b.group_id desc, a.created_at, a.id), '[]'::jsonb)
          from public.imported_documents a
          cross join (select x.duplicate_kind, x.duplicate_similarity from public.imported_documents x
                      where x.org_id = match_org_id and x.id = h.document_id) o
          where a.org_id = match_org_id and (a.id = b.group_id or a.duplicate_of = b.group_id)
            and a.id <> h.document_id and not a.is_deleted and a.processing_status = 'completed')
  from hits h
  join best b on b.document_id = h.document_id
  order by h.score desc, h.chunk_id
  limit greatest(match_count, 0)
$$;
revoke all on function public.unified_content_search_deduplicated(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer, text, text[], jsonb, double precision)
  from public, anon;
grant execute on function public.unified_content_search_deduplicated(extensions.vector, uuid, integer, double precision, boolean, text, uuid[], double precision, double precision, integer, text, text[], jsonb, double precision)
  to authenticated, service_role;
