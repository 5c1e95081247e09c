-- tributary:requires-extension vector
-- Full-text search checks documents after ranking (issue 17's bench: `topicN wordM` at 100,000
-- documents matched ~3,125 chunks, and `org`-mode full text took 42 ms p50 where `source` mode,
-- whose chunk `readers` prefilter leaves 3.6% of them, took 6 ms; figures in the bench README).
-- Each matched chunk's document was probed (deleted? completed? the connector, MIME type and
-- metadata filters, the document-level ACL check) before it was scored. content_search now scores
-- the matched chunks from the chunks alone (the `readers` prefilter stays there), ranks them, and
-- probes the documents of the best 2 * candidate_count in rank order; only when fewer than
-- candidate_count of those pass and more chunks matched does a second pass check every match.
-- Results are unchanged except that `tributary.full_text_max_matches` now bounds the chunks matched
-- before the document filters instead of after them (it only acts past 20,000 matches by default).

-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

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
  highlight tsquery;
  any_match tsquery;
  languages regconfig[] := '{}';
  language_matches tsquery[] := '{}';
  language_highlights tsquery[] := '{}';
  term_languages regconfig[] := '{}';
  term_queries tsquery[] := '{}';
  term_idfs double precision[] := '{}';
  org_chunks double precision;
  org_length double precision;
  average_length double precision;
  bm25_k1 double precision;
  bm25_b double precision;
  max_matches integer;
  language_row record;
  parsed record;
  terms record;
  match_query tsquery;
  full_text_ids uuid[] := '{}';
  full_text_scores double precision[] := '{}';
  candidate_count integer;
  settings record;
  strategy text;
  exact_limit integer;
  table_rows double precision;
  model_rows integer;
  caller text;
  bypass boolean;
  principals text[];
  source_connectors uuid[];
  readable_limit integer;
  full_text_limit integer;
  full_text_ranked integer;
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
  if min_full_text_score is null or min_full_text_score = 'NaN' or min_full_text_score < 0
     or min_full_text_score = 'Infinity' then
    raise exception using errcode = '22023', message = '[tributary] min_full_text_score must be a finite number >= 0 (a BM25 score)';
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
  bypass := exists (select from pg_catalog.pg_roles r where r.rolname = caller and (r.rolbypassrls or r.rolsuper));
  if not bypass and not (match_org_id = any (array(select tributary_private.user_org_ids()))) then
    raise exception using errcode = '42501',
      message = format('[tributary] not a member of organisation %s', match_org_id),
      hint = 'Sign in as a member of that organisation, or call from the server with the service role.';
  end if;
  -- 0018: a member reads a document of a `source`-mode connector only when one of their
  -- principals is on its ACL (tributary_private.document_principals). Both stay null for roles
  -- that bypass RLS, which then see everything, as before.
  -- 0032: the caller's principals only where they decide something, in an organisation with
  -- `source`-mode connectors; elsewhere every member reads every chunk (the filters below pass
  -- all of them when principals is null, as for roles that bypass RLS) and the caller's JWT and
  -- group memberships were read for nothing.
  if not bypass then
    source_connectors := array(select c.id from public.connector_configs c
                               where c.org_id = match_org_id and c.permission_mode = 'source');
    if cardinality(source_connectors) > 0 then
      principals := array(select tributary_private.caller_principals());
    end if;
  end if;

  candidate_count := least(greatest(match_count * 4, coalesce(
    nullif(current_setting('tributary.search_candidates', true), '')::integer, 40)), 400);

  -- Full text: BM25 over the organisation's chunks. Parameters (general defaults, overridable per
  -- transaction): k1 0.9 and b 0.4 (Anserini's), at most 20,000 chunks matched per query.
  bm25_k1 := coalesce(nullif(current_setting('tributary.bm25_k1', true), '')::double precision, 0.9);
  bm25_b := coalesce(nullif(current_setting('tributary.bm25_b', true), '')::double precision, 0.4);
  max_matches := coalesce(nullif(current_setting('tributary.full_text_max_matches', true), '')::integer, 20000);
  if coalesce(btrim(query_text), '') <> '' and full_text_weight > 0 then
    select sum(s.chunk_count), sum(s.total_length) into org_chunks, org_length
    from tributary_private.full_text_stats s where s.org_id = match_org_id;
    average_length := greatest(coalesce(org_length / nullif(org_chunks, 0), 1), 1);
    -- One query per language the organisation's chunks are in (stemming and stop words differ).
    for language_row in
      select s.language from tributary_private.full_text_stats s
      where s.org_id = match_org_id group by s.language having sum(s.chunk_count) > 0 order by 1
    loop
      select * into parsed from tributary_private.parse_search_query(language_row.language, query_text);
      -- Each term's document frequency (a prefix counts every lexeme it starts), rarest first.
      -- The terms that decide which chunks are candidates are the rarest ones, as long as the
      -- chunks they match stay within max_matches: a chunk matching only very common words would
      -- rank below them anyway, and scoring every chunk of a large organisation is not affordable.
      -- 0032: a term that alone matches more than max_matches chunks no longer joins them (only
      -- the rarest term always does). Before, any term after rarer ones under the bound joined:
      -- `topic5 shared` at 100,000 chunks, `shared` in all of them, scored 40,000 arbitrary matches
      -- (the scan's limit) instead of the 3,125 with `topic5`: 261-405 ms where 20-40 ms do.
      select array_agg(t.query order by t.df, t.lexeme) as queries,
             array_agg(ln(1 + (org_chunks - t.df + 0.5) / (t.df + 0.5)) order by t.df, t.lexeme) as idfs,
             string_agg(t.query::text, ' | ' order by t.df, t.lexeme)
               filter (where t.before is null or (t.before < max_matches and t.df <= max_matches)) as match_text,
             string_agg(t.query::text, ' | ') as all_text
      into terms
      from (
        select counted.*, sum(counted.df) over (order by counted.df, counted.lexeme
                                                rows between unbounded preceding and 1 preceding) as before
        from (
          select given.lexeme, given.query, least(org_chunks, coalesce((
            select sum(f.chunk_count) from tributary_private.full_text_terms f
            where f.org_id = match_org_id and f.lexeme >= given.lexeme collate "C"
              and f.lexeme <= (case when given.prefix then given.lexeme || chr(1114111) else given.lexeme end) collate "C"
              and (not given.prefix or starts_with(f.lexeme, given.lexeme))), 0))::double precision as df
          from (
            select w.lexeme, false as prefix, tributary_private.lexeme_query(w.lexeme, false) as query
            from unnest(parsed.words) w(lexeme)
            union
            select p.lexeme, true, tributary_private.lexeme_query(p.lexeme, true) from unnest(parsed.prefixes) p(lexeme)
          ) given
        ) counted
      ) t;
      continue when terms.queries is null;
      match_query := terms.match_text::tsquery;
      if parsed.required is not null then
        match_query := match_query && parsed.required;
      end if;
      if parsed.excluded is not null then
        match_query := match_query && !! parsed.excluded;
      end if;
      languages := languages || language_row.language;
      language_matches := language_matches || match_query;
      language_highlights := language_highlights || terms.all_text::tsquery;
      any_match := case when any_match is null then match_query else any_match || match_query end;
      term_languages := term_languages || array_fill(language_row.language, array[cardinality(terms.queries)]);
      term_queries := term_queries || terms.queries;
      term_idfs := term_idfs || terms.idfs;
    end loop;
  end if;

  if query_embedding is not null then
    -- Exact search while it reads no more chunks than the index would visit: the index visits
    -- about candidate_count * table_rows / model_rows chunks to find candidate_count of this org.
    exact_limit := coalesce(nullif(current_setting('tributary.exact_search_max_rows', true), '')::integer, 10000);
    select greatest(c.reltuples, 0) into table_rows from pg_catalog.pg_class c
    where c.oid = 'public.document_chunks'::regclass;
    exact_limit := greatest(exact_limit, ceil(sqrt(4 * candidate_count * table_rows))::integer);
    -- A member of an organisation with `source`-mode connectors who can read few of its chunks:
    -- the HNSW scan would visit many neighbours the ACL then rejects, so the readable chunks are
    -- found through the GIN index on document_chunks.readers and compared exactly (0028's
    -- `readers` strategy; 0029: `org`-mode connectors' chunks and uploads counted in, through
    -- tributary_private.readable_chunks_within).
    -- 0032: asked first. Both other outcomes of the count below lose to it: `exact` compares every
    -- chunk of the organisation where `readers` compares the caller's, and `index` is what it
    -- replaces. So the count (up to exact_limit + 1 index entries, ~2 ms at the default 10,000)
    -- is skipped for such a member; one index probe still tells `none` (no chunk of this model).
    if principals is not null and cardinality(source_connectors) > 0 then
      readable_limit := coalesce(nullif(current_setting('tributary.permission_exact_max_rows', true), '')::integer,
                                 greatest(1000, ceil(sqrt(4 * candidate_count * table_rows))::integer));
      if tributary_private.readable_chunks_within(match_org_id, principals, readable_limit) then
        strategy := case when exists (
            select from public.document_chunks c
            where c.org_id = match_org_id and c.embedding_model = query_embedding_model and c.embedding is not null)
          then 'readers' else 'none' end;
      end if;
    end if;
    if strategy is null then
      select count(*) into model_rows from (
        select from public.document_chunks c
        where c.org_id = match_org_id and c.embedding_model = query_embedding_model and c.embedding is not null
        limit exact_limit + 1) bounded;
      strategy := case when model_rows = 0 then 'none' when model_rows <= exact_limit then 'exact' else 'index' end;
    end if;
  end if;

  -- Planned per call (EXECUTE) with the real organisation and query: a cached generic plan could
  -- not know how selective the query's terms are in this organisation.
  -- 0034: the matched chunks are scored first and only the best 2 * candidate_count ($19) have
  -- their document checked (in rank order, one probe each); every matched chunk is checked only
  -- when fewer than candidate_count of those pass and more were matched ($19 null, the second
  -- pass). Until 0034 each matched chunk's document was probed before scoring: 3,125 probes for
  -- `topicN wordM` at 100,000 documents, most of an `org`-mode full-text search's time.
  if any_match is not null then
    full_text_limit := candidate_count * 2;
    loop
      execute $ft$
        select coalesce((array_agg(checked.id order by checked.rank_value desc, checked.id)
                           filter (where checked.passes))[1:$15], '{}'),
               coalesce((array_agg(checked.rank_value order by checked.rank_value desc, checked.id)
                           filter (where checked.passes))[1:$15], '{}'),
               count(*)::integer
        from (
          select ranked.id, ranked.rank_value,
                 -- The document half of the filters, the document-level ACL check included.
                 (d.id is not null and not d.is_deleted and d.processing_status = 'completed'
                  and ($5::uuid[] is null or d.connector_id = any ($5))
                  and ($6::text[] is null or d.mime_type = any ($6))
                  and ($7::jsonb is null or d.source_metadata @> $7)
                  and ($17::text[] is null or d.connector_id is null or not (d.connector_id = any ($18::uuid[]))
                       or exists (select from tributary_private.document_principals p
                                  where p.document_id = d.id and p.principal = any ($17::text[]))))
                   as passes
          from (
            -- BM25: idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average length)). A
            -- chunk's length is its number of distinct lexemes. tf is read from ts_rank with every
            -- weight 1 and a one-term query, which is sum(1/i^2, i = 1..tf) / (pi^2/6) (Postgres'
            -- calc_rank_or): strictly increasing in tf, and inverted here (1/x - 1/2 is within 0.05
            -- of tf for every tf up to the 256 positions a tsvector keeps per lexeme).
            -- A join with the query's terms and one aggregate, not a subquery per chunk: a
            -- correlated subquery cost ~40 us per matched chunk (80 ms for 2,000 matches in
            -- bench/search.ts).
            select scored.* from (
            select m.id, m.document_id,
                   sum(m.idf * m.tf * ($12 + 1)
                       / (m.tf + $12 * (1 - $13 + $13 * m.dl / $14))) as rank_value
            from (
              select matched.id, matched.document_id, matched.dl, q.idf,
                     least(256, greatest(0, round(1 / (1.64493406685 * greatest(1e-9,
                       1 - ts_rank('{1,1,1,1}'::real[], matched.fts, q.query, 0)::double precision)) - 0.5))) as tf
              from (
                select c.id, c.document_id, c.fts, c.language, length(c.fts)::double precision as dl
                from public.document_chunks c
                where c.org_id = $1
                  and c.fts @@ $2
                  and (cardinality($3) = 1 or c.fts @@ ($4)[array_position($3, c.language)])
                  -- 0032: the chunk's readers (0021's prefilter, as in the vector half): a chunk
                  -- none of whose keys is the caller's is dropped before it is scored.
                  and ($17::text[] is null or c.readers is null or c.readers operator(pg_catalog.&&) ($17::text[] || array(
                         select 'connector:' || k.id::text from public.connector_configs k
                         where k.org_id = $1 and k.permission_mode <> 'source')))
                limit $8 * 2
              ) matched
              join unnest($9, $10, $11) q(language, query, idf)
                on q.language = matched.language
            ) m
            group by m.id, m.document_id
            ) scored
            where scored.rank_value > 0 and scored.rank_value >= $16
            order by scored.rank_value desc, scored.id
            limit $19
          ) ranked
          -- One probe of the document per ranked chunk (the `offset 0` keeps it a probe).
          left join lateral (
            select d.* from public.imported_documents d
            where d.org_id = $1 and d.id = ranked.document_id
            offset 0) d on true
        ) checked$ft$
      into full_text_ids, full_text_scores, full_text_ranked
      using match_org_id, any_match, languages, language_matches, connector_ids, mime_types, metadata_filter,
            max_matches, term_languages, term_queries, term_idfs, bm25_k1, bm25_b, average_length,
            candidate_count, min_full_text_score, principals, source_connectors, full_text_limit;
      exit when full_text_limit is null or cardinality(full_text_ids) >= candidate_count
                or full_text_ranked < full_text_limit;
      full_text_limit := null;
    end loop;
  end if;

  return query
  with full_text as (
    select f.id, f.rank_value, f.rank_position
    from unnest(full_text_ids, full_text_scores) with ordinality f(id, rank_value, rank_position)
  ),
  semantic as (
    select ranked.id, 1 - ranked.distance as similarity,
           row_number() over (order by ranked.distance, ranked.id) as rank_position
    from tributary_private.permitted_semantic_candidates(
      match_org_id, query_embedding_model, query_embedding, candidate_count, strategy,
      connector_ids, mime_types, metadata_filter, exact_limit, principals, source_connectors) ranked
    where strategy in ('exact', 'index', 'readable', 'readers') and 1 - ranked.distance >= match_threshold
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
         case when cardinality(languages) > 0 and array_position(languages, c.language) is not null
           then ts_headline(c.language, c.content, language_highlights[array_position(languages, c.language)],
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
         case when strategy in ('readable', 'readers') then 'exact' else strategy end
  from fused
  join public.document_chunks c on c.id = fused.id
  join public.imported_documents d on d.org_id = c.org_id and d.id = c.document_id
  order by fused.ft_part + fused.sem_part desc, c.id;
end
$$;
