-- Seen marks that do not rewrite document rows. A full re-sync in which nothing changed used to
-- mark every listed document seen with mark_documents_seen: an UPDATE of last_seen_at (and
-- last_synced_at, sync_count) on every row, 20 statements of 5,000 rows for 100,000 documents,
-- which was the whole wall time of an unchanged re-sync (bench/pipeline.ts: 12.5 s on a quiet
-- 2-core machine, target 5 s). Each UPDATE writes a new row version of a wide row (content, text
-- search vector), plus its index entries and WAL.
--
-- Now the pipeline sends the ids of the documents it skipped by version (it has them from
-- get_document_versions) to mark_documents_seen_by_id, which appends them as one array row per
-- call to tributary_private.listing_seen_marks, keyed by the connector and the start of the
-- listing the run completes (connector_sync_logs.listing_started_at, 0008). The sweep counts a
-- document as seen when last_seen_at >= the listing start (documents upserted or recorded as failed
-- this listing) or when a mark of that listing holds its id. A resumed listing (a full run after an
-- interrupted one) has the same listing start, so the interrupted run's marks count. When a sweep
-- completes, the marks of older listings of the connector are deleted; the listing's own marks
-- stay until the next completed sweep (a run that sweeps and then loses its lease may be resumed).
--
-- What changes for readers: an unchanged document skipped by version no longer moves
-- last_seen_at, last_synced_at or sync_count on a full sync (mark_documents_seen still does, for
-- callers that use it).

-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

create table if not exists tributary_private.listing_seen_marks (
  id bigint generated always as identity primary key,
  connector_id uuid not null references public.connector_configs (id) on delete cascade,
  listing_started_at timestamptz not null,
  document_ids uuid[] not null,
  created_at timestamptz not null default now()
);
comment on table tributary_private.listing_seen_marks is
  'Tributary: ids of documents a full listing saw unchanged (skipped by version), one array per mark_documents_seen_by_id call; read by sweep_unseen_documents.';
create index if not exists listing_seen_marks_connector_listing_idx
  on tributary_private.listing_seen_marks (connector_id, listing_started_at);

alter table tributary_private.listing_seen_marks enable row level security;
revoke all on tributary_private.listing_seen_marks from public, anon, authenticated;
grant select, insert, delete on tributary_private.listing_seen_marks to service_role;

-- Documents of a running full run's listing that were listed again with an unchanged version.
-- Returns how many ids it stored. The ids are not checked against imported_documents: the sweep
-- only reads marks for the connector's own live documents, so an id of another connector, of a
-- deleted document or of no document matches nothing (checking 5,000 ids per call cost 0.6-0.9 s
-- per 100,000 on a 2-core machine, three to five times the insert). An incremental run stores
-- nothing (only full listings are swept) and returns 0.
create or replace function public.mark_documents_seen_by_id(p_sync_log_id uuid, p_document_ids uuid[])
returns integer
language plpgsql
set search_path = ''
as $$
declare
  run public.connector_sync_logs;
begin
  if p_document_ids is null then
    raise exception using errcode = '22004', message = '[tributary] p_document_ids is null',
      hint = 'Pass an array of imported_documents ids (an empty array marks nothing).';
  end if;
  if cardinality(p_document_ids) > 5000 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_document_ids holds %s ids; send at most 5000 per call', cardinality(p_document_ids));
  end if;
  -- The run must hold its lease (55000 otherwise): marks belong to the listing it is doing.
  run := tributary_private.lock_running_sync(p_sync_log_id);
  -- The run's connector must be visible to the caller (P0002 otherwise).
  perform tributary_private.require_connector(run.connector_id);
  if run.sync_mode <> 'full' or cardinality(p_document_ids) = 0 then
    return 0;
  end if;
  insert into tributary_private.listing_seen_marks (connector_id, listing_started_at, document_ids)
  values (run.connector_id, coalesce(run.listing_started_at, run.started_at), p_document_ids);
  return cardinality(p_document_ids);
end
$$;
comment on function public.mark_documents_seen_by_id(uuid, uuid[]) is
  'Tributary: marks documents a running full run listed again unchanged (by id, up to 5,000 per call) as seen by its listing, without updating their rows. Returns how many ids it stored.';

create or replace function public.sweep_unseen_documents(p_sync_log_id uuid, p_max_fraction numeric default 0.5)
returns table (swept integer, unseen integer, total integer, refused boolean)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  run public.connector_sync_logs;
  seen_since timestamptz;
  unseen_ids uuid[];
  total_count integer;
  swept_count integer := 0;
begin
  if p_max_fraction is null or p_max_fraction < 0 or p_max_fraction > 1 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_max_fraction must be between 0 and 1, got %s', coalesce(p_max_fraction::text, 'null'));
  end if;
  run := tributary_private.lock_running_sync(p_sync_log_id);
  seen_since := coalesce(run.listing_started_at, run.started_at);
  -- Seen: written since the listing began (last_seen_at), or marked by id during this listing.
  with marked as (
    select distinct u.id
    from tributary_private.listing_seen_marks m
    cross join lateral unnest(m.document_ids) u(id)
    where m.connector_id = run.connector_id and m.listing_started_at = seen_since
  )
  select coalesce(array_agg(d.id) filter (where d.last_seen_at < seen_since and k.id is null), '{}'), count(*)
  into unseen_ids, total_count
  from public.imported_documents d
  left join marked k on k.id = d.id
  where d.org_id = run.org_id and d.connector_id = run.connector_id and not d.is_deleted;

  if total_count > 0 and cardinality(unseen_ids) > p_max_fraction * total_count then
    return query select 0, cardinality(unseen_ids), total_count, true;
    return;
  end if;
  if cardinality(unseen_ids) > 0 then
    with deleted as (
      update public.imported_documents d
      set is_deleted = true, deleted_at = now()
      where d.id = any (unseen_ids)
        and d.org_id = run.org_id and d.connector_id = run.connector_id and not d.is_deleted
        and d.last_seen_at < seen_since
      returning 1
    )
    select count(*)::integer into swept_count from deleted;
  end if;
  -- Older listings are over; this listing's marks stay until the next completed sweep.
  delete from tributary_private.listing_seen_marks m
  where m.connector_id = run.connector_id and m.listing_started_at < seen_since;
  return query select swept_count, cardinality(unseen_ids), total_count, false;
end
$$;

revoke all on function public.mark_documents_seen_by_id(uuid, uuid[]) from public, anon, authenticated;
grant execute on function public.mark_documents_seen_by_id(uuid, uuid[]) to service_role;
