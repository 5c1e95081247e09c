-- tributary:requires-extension vector
-- (It changes the statistics 0015 created; 0015 waits for pgvector, so this waits with it.)
-- BM25 term statistics folded once per transaction, at commit, instead of once per statement.
--
-- 0015 upserted every changed lexeme's row in full_text_terms in each statement that wrote chunks:
-- ~2-4 ms per single-document statement, and a transaction that wrote many documents updated the
-- same rows again and again, each update adding a row version the next one had to step over, so
-- every round was slower than the last. Its cleanup of rows that reach zero also deleted nothing
-- (a DELETE cannot see the rows its own statement's CTE updated), so zero rows piled up.
--
-- Now a statement that writes chunks only appends its net changes to a queue (an append, no
-- index, no row another writer holds), and a deferred constraint trigger folds all of the
-- transaction's changes into the statistics once, at commit: one upsert per changed row and
-- transaction, in key order (two transactions folding at once wait for each other and never
-- deadlock), rows that reach zero deleted. The queue empties in the same transaction, so nothing
-- is ever left in it after a commit. The search reads the statistics through views that add the
-- queue, so a transaction sees its own chunks before it commits; other transactions cannot see
-- its queue rows (MVCC), so they see exactly the committed statistics.
--
-- The queue is an ordinary (logged) table: an UNLOGGED one would cost less WAL and lose nothing
-- in a crash (it holds no committed row), but Postgres refuses to plan any query that names an
-- unlogged table on a hot standby, so every search on a read replica would fail.

set local lock_timeout = '5s';
set local statement_timeout = '15min';

-- The committed statistics (0015's tables, renamed; same columns, shards and keys).
alter table tributary_private.full_text_stats rename to full_text_stats_committed;
alter table tributary_private.full_text_terms rename to full_text_terms_committed;
comment on table tributary_private.full_text_terms_committed is
  'Tributary: chunks per lexeme and organisation (BM25 document frequencies), folded in at commit from full_text_changes.';

-- 0015 never removed a row: the ones that count nothing go (a shard row can be negative when one
-- writer adds a lexeme and another removes it; the sum over shards is what counts).
delete from tributary_private.full_text_terms_committed where chunk_count = 0;
delete from tributary_private.full_text_stats_committed where chunk_count = 0 and total_length = 0;

-- Net changes of transactions that have not committed yet: one row per statement, organisation
-- and language, with the chunk and length change and the document frequency change of every
-- lexeme (two arrays in lexeme order). One short row per statement instead of a row per lexeme
-- keeps the queue small: the fold reads all of it that it can see.
create table if not exists tributary_private.full_text_changes (
  org_id uuid not null,
  language regconfig not null,
  chunk_count bigint not null,
  total_length bigint not null,
  lexemes text[] collate "C",
  lexeme_counts bigint[]
) with (toast_tuple_target = 8160);
-- Kept in the row (compressed) up to a page: a statement's arrays are written once and read once,
-- so moving them to the TOAST table would only add writes.
alter table tributary_private.full_text_changes
  alter column lexemes set storage main, alter column lexeme_counts set storage main;
revoke all on tributary_private.full_text_changes from public, anon, authenticated;
grant select on tributary_private.full_text_changes to service_role;

-- Whether this transaction has changes in the queue that are not folded yet: the statements that
-- queue set tributary.full_text_queued (transaction-local, so it ends with the transaction, and a
-- rollback to a savepoint restores it with the queue rows), the fold clears it.
create or replace function tributary_private.full_text_changes_pending()
returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce(pg_catalog.current_setting('tributary.full_text_queued', true), '') = 'on'
$$;
revoke all on function tributary_private.full_text_changes_pending() from public, anon, authenticated;
grant execute on function tributary_private.full_text_changes_pending() to service_role;

-- What the search reads: the committed statistics plus this transaction's own queued changes
-- (shard -1). Readers add up rows per key, as they did over shards.
create or replace view tributary_private.full_text_stats as
  select s.org_id, s.language, s.shard, s.chunk_count, s.total_length
  from tributary_private.full_text_stats_committed s
  union all
  select q.org_id, q.language, (-1)::smallint, q.chunk_count, q.total_length
  from tributary_private.full_text_changes q
  where tributary_private.full_text_changes_pending();
create or replace view tributary_private.full_text_terms as
  select t.org_id, t.lexeme, t.shard, t.chunk_count
  from tributary_private.full_text_terms_committed t
  union all
  select q.org_id, l.lexeme, (-1)::smallint, l.chunk_count
  from tributary_private.full_text_changes q
  cross join lateral unnest(q.lexemes, q.lexeme_counts) l(lexeme, chunk_count)
  where tributary_private.full_text_changes_pending();
revoke all on tributary_private.full_text_stats, tributary_private.full_text_terms from public, anon, authenticated;
grant select on tributary_private.full_text_stats, tributary_private.full_text_terms to service_role;

-- Chunk statements queue their net changes (one insert per statement, whatever the number of
-- chunks) and ask for a fold at commit once per transaction.
create or replace function tributary_private.maintain_full_text_stats()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  -- Every statement fires all three triggers; most have no row (an INSERT's UPDATE trigger, ...).
  if tg_op = 'DELETE' then
    perform from old_rows limit 1;
  else
    perform from new_rows limit 1;
  end if;
  if not found then
    return null;
  end if;
  -- Before the insert: under SET CONSTRAINTS ... IMMEDIATE the fold runs as soon as it ends.
  perform pg_catalog.set_config('tributary.full_text_queued', 'on', true);
  -- The same statement three times: a transition table can only be named in the trigger's own
  -- function, and new_rows / old_rows exist only for the operations that have them.
  if tg_op = 'INSERT' then
    with changed as (
      select n.org_id, n.language, n.fts, 1 as sign from new_rows n
    ),
    terms as (
      select c.org_id, c.language, l.lexeme, sum(c.sign) as chunks
      from changed c cross join lateral unnest(tsvector_to_array(c.fts)) l(lexeme)
      group by 1, 2, 3 having sum(c.sign) <> 0
    )
    insert into tributary_private.full_text_changes
      (org_id, language, chunk_count, total_length, lexemes, lexeme_counts)
    select s.org_id, s.language, s.chunks, s.lengths, t.lexemes, t.counts
    from (select c.org_id, c.language, sum(c.sign) as chunks, sum(c.sign * length(c.fts)) as lengths
          from changed c group by 1, 2) s
    left join (select m.org_id, m.language, array_agg(m.lexeme order by m.lexeme collate "C") as lexemes,
                      array_agg(m.chunks order by m.lexeme collate "C") as counts
               from terms m group by 1, 2) t on t.org_id = s.org_id and t.language = s.language
    where s.chunks <> 0 or s.lengths <> 0 or t.lexemes is not null;
  elsif tg_op = 'DELETE' then
    with changed as (
      select o.org_id, o.language, o.fts, -1 as sign from old_rows o
    ),
    terms as (
      select c.org_id, c.language, l.lexeme, sum(c.sign) as chunks
      from changed c cross join lateral unnest(tsvector_to_array(c.fts)) l(lexeme)
      group by 1, 2, 3 having sum(c.sign) <> 0
    )
    insert into tributary_private.full_text_changes
      (org_id, language, chunk_count, total_length, lexemes, lexeme_counts)
    select s.org_id, s.language, s.chunks, s.lengths, t.lexemes, t.counts
    from (select c.org_id, c.language, sum(c.sign) as chunks, sum(c.sign * length(c.fts)) as lengths
          from changed c group by 1, 2) s
    left join (select m.org_id, m.language, array_agg(m.lexeme order by m.lexeme collate "C") as lexemes,
                      array_agg(m.chunks order by m.lexeme collate "C") as counts
               from terms m group by 1, 2) t on t.org_id = s.org_id and t.language = s.language
    where s.chunks <> 0 or s.lengths <> 0 or t.lexemes is not null;
  else
    -- Only rows whose text changed: a new embedding alone changes no statistic.
    with changed as (
      select o.org_id, o.language, o.fts, -1 as sign from old_rows o join new_rows n on n.id = o.id
      where n.fts is distinct from o.fts or n.org_id <> o.org_id or n.language <> o.language
      union all
      select n.org_id, n.language, n.fts, 1 from new_rows n join old_rows o on o.id = n.id
      where n.fts is distinct from o.fts or n.org_id <> o.org_id or n.language <> o.language
    ),
    terms as (
      select c.org_id, c.language, l.lexeme, sum(c.sign) as chunks
      from changed c cross join lateral unnest(tsvector_to_array(c.fts)) l(lexeme)
      group by 1, 2, 3 having sum(c.sign) <> 0
    )
    insert into tributary_private.full_text_changes
      (org_id, language, chunk_count, total_length, lexemes, lexeme_counts)
    select s.org_id, s.language, s.chunks, s.lengths, t.lexemes, t.counts
    from (select c.org_id, c.language, sum(c.sign) as chunks, sum(c.sign * length(c.fts)) as lengths
          from changed c group by 1, 2) s
    left join (select m.org_id, m.language, array_agg(m.lexeme order by m.lexeme collate "C") as lexemes,
                      array_agg(m.chunks order by m.lexeme collate "C") as counts
               from terms m group by 1, 2) t on t.org_id = s.org_id and t.language = s.language
    where s.chunks <> 0 or s.lengths <> 0 or t.lexemes is not null;
  end if;
  return null;
end
$$;
revoke all on function tributary_private.maintain_full_text_stats() from public, anon, authenticated;

-- The fold, at commit (or at the end of the statement after SET CONSTRAINTS ... IMMEDIATE): takes
-- every queued change this transaction can see (its own; other transactions' are invisible, and
-- no committed one is left behind), adds them up per key and applies them to this backend's
-- shard in key order, stats before terms, so concurrent folds lock rows in one global order.
create or replace function tributary_private.fold_full_text_changes()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  writer_shard smallint := (pg_catalog.pg_backend_pid() % 8)::smallint;
  zero_orgs uuid[];
  zero_languages regconfig[];
  zero_lexemes text[];
begin
  -- Every queued row has its own deferred event; the first one folds them all, the rest return here.
  if not tributary_private.full_text_changes_pending() then
    return null;
  end if;
  perform pg_catalog.set_config('tributary.full_text_queued', '', true);

  -- Rows that reach zero are deleted by a later statement (a statement cannot delete rows it has
  -- just updated), and only when there are some.
  with upserted as (
    insert into tributary_private.full_text_stats_committed as s (org_id, language, shard, chunk_count, total_length)
    select q.org_id, q.language, writer_shard, sum(q.chunk_count), sum(q.total_length)
    from tributary_private.full_text_changes q
    group by q.org_id, q.language
    having sum(q.chunk_count) <> 0 or sum(q.total_length) <> 0
    order by q.org_id, q.language
    on conflict (org_id, language, shard) do update
      set chunk_count = s.chunk_count + excluded.chunk_count, total_length = s.total_length + excluded.total_length
    returning s.org_id, s.language, s.chunk_count, s.total_length
  )
  select array_agg(u.org_id), array_agg(u.language) into zero_orgs, zero_languages
  from upserted u where u.chunk_count = 0 and u.total_length = 0;
  if zero_orgs is not null then
    delete from tributary_private.full_text_stats_committed s
    using unnest(zero_orgs, zero_languages) k(org_id, language)
    where s.org_id = k.org_id and s.language = k.language and s.shard = writer_shard
      and s.chunk_count = 0 and s.total_length = 0;
  end if;

  with upserted as (
    insert into tributary_private.full_text_terms_committed as s (org_id, lexeme, shard, chunk_count)
    select q.org_id, l.lexeme, writer_shard, sum(l.chunks)
    from tributary_private.full_text_changes q
    cross join lateral unnest(q.lexemes, q.lexeme_counts) l(lexeme, chunks)
    group by q.org_id, l.lexeme
    having sum(l.chunks) <> 0
    order by q.org_id, l.lexeme
    on conflict (org_id, lexeme, shard) do update set chunk_count = s.chunk_count + excluded.chunk_count
    returning s.org_id, s.lexeme, s.chunk_count
  )
  select array_agg(u.org_id), array_agg(u.lexeme) into zero_orgs, zero_lexemes
  from upserted u where u.chunk_count = 0;
  if zero_orgs is not null then
    delete from tributary_private.full_text_terms_committed s
    using unnest(zero_orgs, zero_lexemes) k(org_id, lexeme)
    where s.org_id = k.org_id and s.lexeme = k.lexeme collate "C" and s.shard = writer_shard
      and s.chunk_count = 0;
  end if;

  -- Only this transaction's rows are visible here (and no committed one exists): the queue is
  -- empty again once this transaction commits.
  delete from tributary_private.full_text_changes;
  return null;
end
$$;
revoke all on function tributary_private.fold_full_text_changes() from public, anon, authenticated;

drop trigger if exists full_text_changes_fold on tributary_private.full_text_changes;
create constraint trigger full_text_changes_fold after insert on tributary_private.full_text_changes
  deferrable initially deferred
  for each row execute function tributary_private.fold_full_text_changes();

-- TRUNCATE document_chunks empties the statistics too (0015 left them counting the lost chunks).
-- This transaction's queued changes go with them; a fold still due finds nothing to fold.
create or replace function tributary_private.clear_full_text_stats()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  truncate tributary_private.full_text_stats_committed, tributary_private.full_text_terms_committed;
  delete from tributary_private.full_text_changes;
  perform pg_catalog.set_config('tributary.full_text_queued', '', true);
  return null;
end
$$;
revoke all on function tributary_private.clear_full_text_stats() from public, anon, authenticated;
drop trigger if exists document_chunks_full_text_stats_truncate on public.document_chunks;
create trigger document_chunks_full_text_stats_truncate after truncate on public.document_chunks
  for each statement execute function tributary_private.clear_full_text_stats();

-- Writes now go through the queue; 0015's per-statement upsert is gone (the down script restores it).
drop function if exists tributary_private.apply_full_text_changes(uuid[], regconfig[], tsvector[], integer[]);
