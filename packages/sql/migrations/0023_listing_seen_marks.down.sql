-- Back to 0022: the sweep reads last_seen_at only (0008's function), and the id marks go.
-- Documents that a listing in progress marked by id only are then unseen to its sweep: finish or
-- re-run the full sync after rolling back (mark_documents_seen marks them again).
-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

create or replace function public.sweep_unseen_documents(p_sync_log_id uuid, p_max_fraction numeric default 0.5)
returns table (swept integer, unseen integer, total integer, refused boolean)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  run public.connector_sync_logs;
  seen_since timestamptz;
  unseen_count integer;
  total_count integer;
  swept_count integer := 0;
begin
  if p_max_fraction is null or p_max_fraction < 0 or p_max_fraction > 1 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_max_fraction must be between 0 and 1, got %s', coalesce(p_max_fraction::text, 'null'));
  end if;
  run := tributary_private.lock_running_sync(p_sync_log_id);
  seen_since := coalesce(run.listing_started_at, run.started_at);
  select count(*) filter (where d.last_seen_at < seen_since), count(*)
  into unseen_count, total_count
  from public.imported_documents d
  where d.org_id = run.org_id and d.connector_id = run.connector_id and not d.is_deleted;

  if total_count > 0 and unseen_count > p_max_fraction * total_count then
    return query select 0, unseen_count, total_count, true;
    return;
  end if;
  with deleted as (
    update public.imported_documents d
    set is_deleted = true, deleted_at = now()
    where d.org_id = run.org_id and d.connector_id = run.connector_id and not d.is_deleted
      and d.last_seen_at < seen_since
    returning 1
  )
  select count(*)::integer into swept_count from deleted;
  return query select swept_count, unseen_count, total_count, false;
end
$$;

drop function if exists public.mark_documents_seen_by_id(uuid, uuid[]);
drop table if exists tributary_private.listing_seen_marks;
