-- Back to 0015: statistics upserted by each statement that writes chunks. The queue is empty
-- (every transaction folds its changes before it commits), so the committed tables are the
-- whole statistics; they get their 0015 names back. TRUNCATE document_chunks no longer clears them.
set local lock_timeout = '5s';
set local statement_timeout = '15min';

drop trigger if exists document_chunks_full_text_stats_truncate on public.document_chunks;
drop function if exists tributary_private.clear_full_text_stats();
drop view if exists tributary_private.full_text_stats;
drop view if exists tributary_private.full_text_terms;
drop function if exists tributary_private.full_text_changes_pending();
drop trigger if exists full_text_changes_fold on tributary_private.full_text_changes;
drop function if exists tributary_private.fold_full_text_changes();
drop table if exists tributary_private.full_text_changes;
alter table tributary_private.full_text_stats_committed rename to full_text_stats;
alter table tributary_private.full_text_terms_committed rename to full_text_terms;
comment on table tributary_private.full_text_terms is
  'Tributary: chunks per lexeme and organisation (BM25 document frequencies), maintained by triggers on document_chunks.';

-- 0015's functions, unchanged.
-- Adds (p_signs 1) or removes (-1) the given chunks' lexemes to their organisations' statistics.
create or replace function tributary_private.apply_full_text_changes(
  p_org_ids uuid[], p_languages regconfig[], p_vectors tsvector[], p_signs integer[])
returns void
language plpgsql
set search_path = ''
as $$
declare
  writer_shard smallint := (pg_catalog.pg_backend_pid() % 8)::smallint;
begin
  if coalesce(cardinality(p_org_ids), 0) = 0 then
    return;
  end if;
  insert into tributary_private.full_text_stats as s (org_id, language, shard, chunk_count, total_length)
  select t.org_id, t.language, writer_shard, sum(t.sign), sum(t.sign * length(t.fts))
  from unnest(p_org_ids, p_languages, p_vectors, p_signs) t(org_id, language, fts, sign)
  group by t.org_id, t.language
  order by 1, 2
  on conflict (org_id, language, shard) do update
    set chunk_count = s.chunk_count + excluded.chunk_count, total_length = s.total_length + excluded.total_length;

  -- In key order, so two writers that meet on a shard wait for each other instead of deadlocking.
  with changed as (
    insert into tributary_private.full_text_terms as s (org_id, lexeme, shard, chunk_count)
    select t.org_id, l.lexeme, writer_shard, sum(t.sign)
    from unnest(p_org_ids, p_vectors, p_signs) t(org_id, fts, sign)
    cross join lateral unnest(tsvector_to_array(t.fts)) l(lexeme)
    group by t.org_id, l.lexeme
    having sum(t.sign) <> 0
    order by 1, 2
    on conflict (org_id, lexeme, shard) do update set chunk_count = s.chunk_count + excluded.chunk_count
    returning s.org_id, s.lexeme, s.shard, s.chunk_count
  )
  -- Other shards may still count the lexeme; this one's row goes once it holds nothing.
  delete from tributary_private.full_text_terms s
  using changed c
  where c.chunk_count <= 0 and s.org_id = c.org_id and s.lexeme = c.lexeme and s.shard = c.shard;
end
$$;
revoke all on function tributary_private.apply_full_text_changes(uuid[], regconfig[], tsvector[], integer[])
  from public, anon, authenticated;

create or replace function tributary_private.maintain_full_text_stats()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  org_ids uuid[];
  languages regconfig[];
  vectors tsvector[];
  signs integer[];
begin
  if tg_op = 'INSERT' then
    select array_agg(n.org_id), array_agg(n.language), array_agg(n.fts), array_agg(1)
    into org_ids, languages, vectors, signs from new_rows n;
  elsif tg_op = 'DELETE' then
    select array_agg(o.org_id), array_agg(o.language), array_agg(o.fts), array_agg(-1)
    into org_ids, languages, vectors, signs from old_rows o;
  else
    -- Only rows whose text changed: a new embedding alone changes no statistic.
    select array_agg(x.org_id), array_agg(x.language), array_agg(x.fts), array_agg(x.sign)
    into org_ids, languages, vectors, signs
    from (
      select o.org_id, o.language, o.fts, -1 as sign from old_rows o join new_rows n on n.id = o.id
      where n.fts is distinct from o.fts or n.org_id <> o.org_id or n.language <> o.language
      union all
      select n.org_id, n.language, n.fts, 1 from new_rows n join old_rows o on o.id = n.id
      where n.fts is distinct from o.fts or n.org_id <> o.org_id or n.language <> o.language
    ) x;
  end if;
  perform tributary_private.apply_full_text_changes(org_ids, languages, vectors, signs);
  return null;
end
$$;
revoke all on function tributary_private.maintain_full_text_stats() from public, anon, authenticated;
