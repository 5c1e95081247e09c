-- A full sync that resumes an interrupted full listing must not sweep what the interrupted run
-- listed. `connector_sync_logs.listing_started_at` is when the listing a full run completes began:
-- the run's own start, or, after a full run that failed or was cancelled, that run's listing start.
-- `sweep_unseen_documents` compares `last_seen_at` with it.

alter table public.connector_sync_logs add column if not exists listing_started_at timestamptz;
comment on column public.connector_sync_logs.listing_started_at is
  'Full runs: when the listing this run completes began (an interrupted full run''s start when this run resumes it). The sweep treats documents seen since then as listed.';

create or replace function public.start_connector_sync(
  p_connector_id uuid,
  p_sync_type text default 'manual',
  p_sync_mode text default 'full',
  p_lease_seconds integer default 300,
  p_worker_id text default null
)
returns table (started boolean, sync_log_id uuid, lease_expires_at timestamptz, sync_cursor jsonb)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  connector record;
  running record;
  new_id uuid;
  new_expiry timestamptz;
  previous record;
  listing_start timestamptz;
begin
  if p_connector_id is null then
    raise exception using errcode = '22004', message = '[tributary] p_connector_id is null';
  end if;
  if p_sync_type is null or p_sync_type not in ('manual', 'scheduled', 'webhook', 'initial') then
    raise exception using errcode = '22023',
      message = format('[tributary] p_sync_type must be manual, scheduled, webhook or initial, got %s', coalesce(p_sync_type, 'null'));
  end if;
  if p_sync_mode is null or p_sync_mode not in ('full', 'incremental') then
    raise exception using errcode = '22023',
      message = format('[tributary] p_sync_mode must be full or incremental, got %s', coalesce(p_sync_mode, 'null'));
  end if;
  if p_lease_seconds is null or p_lease_seconds < 5 or p_lease_seconds > 86400 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_lease_seconds must be between 5 and 86400, got %s', coalesce(p_lease_seconds::text, 'null'));
  end if;

  -- Locking the connector row serialises starts for one connector; the partial unique index
  -- connector_sync_logs_one_running_key is the backstop.
  select c.id, c.org_id, c.is_active, c.sync_cursor into connector
  from public.connector_configs c where c.id = p_connector_id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('[tributary] connector %s not found', p_connector_id);
  end if;
  if not connector.is_active then
    raise exception using errcode = '55000',
      message = format('[tributary] connector %s is inactive', p_connector_id),
      hint = 'Set is_active = true on the connector to sync it again.';
  end if;

  -- A run whose worker stopped heartbeating loses its lease.
  update public.connector_sync_logs s
  set status = 'failed', completed_at = now(),
      duration_ms = greatest(0, (extract(epoch from now() - s.started_at) * 1000)::integer),
      error_message = '[tributary] lease expired: the worker stopped heartbeating (crashed or lost its connection); the next run resumes from the last checkpoint'
  where s.connector_id = p_connector_id and s.status = 'running' and s.lease_expires_at < now();

  select s.id, s.lease_expires_at into running
  from public.connector_sync_logs s where s.connector_id = p_connector_id and s.status = 'running';
  if found then
    return query select false, running.id, running.lease_expires_at, connector.sync_cursor;
    return;
  end if;

  -- A full run after a full run that did not finish continues that listing (from the cursor it
  -- committed): what the earlier run listed counts as seen, so the sweep compares with the start
  -- of the listing, not of this run. A chain of interrupted runs keeps the first one's start.
  if p_sync_mode = 'full' then
    select s.sync_mode, s.status, coalesce(s.listing_started_at, s.started_at) as listing_start
    into previous
    from public.connector_sync_logs s
    where s.connector_id = p_connector_id
    order by s.started_at desc, s.id desc
    limit 1;
    if found and previous.sync_mode = 'full' and previous.status in ('failed', 'cancelled') then
      listing_start := previous.listing_start;
    else
      listing_start := now();
    end if;
  end if;

  new_expiry := now() + make_interval(secs => p_lease_seconds);
  insert into public.connector_sync_logs (org_id, connector_id, sync_type, sync_mode, status, worker_id, lease_expires_at, heartbeat_at, listing_started_at)
  values (connector.org_id, p_connector_id, p_sync_type, p_sync_mode, 'running', left(p_worker_id, 200), new_expiry, now(), listing_start)
  returning id into new_id;
  update public.connector_configs set last_sync_status = 'running' where id = p_connector_id;
  return query select true, new_id, new_expiry, connector.sync_cursor;
end
$$;

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
