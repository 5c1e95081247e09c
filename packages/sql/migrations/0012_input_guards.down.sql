-- Back to the RPCs of 0004_functions / 0008_resumable_listing (no connector-id, worker-id or 22023
-- guards). Repaired rows stay repaired and the constraints stay validated: undoing a repair would
-- make those rows unwritable again. The quarantine table is dropped only when it is empty, so the
-- originals of repaired values are never lost by a rollback.
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

create or replace function public.heartbeat_connector_sync(p_sync_log_id uuid, p_lease_seconds integer default 300, p_progress jsonb default null)
returns timestamptz
language plpgsql
set search_path = ''
as $$
declare
  new_expiry timestamptz;
begin
  if p_lease_seconds is null or p_lease_seconds < 5 or p_lease_seconds > 86400 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_lease_seconds must be between 5 and 86400, got %s', coalesce(p_lease_seconds::text, 'null'));
  end if;
  perform tributary_private.lock_running_sync(p_sync_log_id);
  new_expiry := now() + make_interval(secs => p_lease_seconds);
  update public.connector_sync_logs s
  set lease_expires_at = new_expiry, heartbeat_at = now(),
      documents_synced = coalesce((p_progress ->> 'documents_synced')::integer, s.documents_synced),
      documents_updated = coalesce((p_progress ->> 'documents_updated')::integer, s.documents_updated),
      documents_skipped = coalesce((p_progress ->> 'documents_skipped')::integer, s.documents_skipped),
      documents_failed = coalesce((p_progress ->> 'documents_failed')::integer, s.documents_failed),
      documents_deleted = coalesce((p_progress ->> 'documents_deleted')::integer, s.documents_deleted),
      api_calls_made = coalesce((p_progress ->> 'api_calls_made')::integer, s.api_calls_made),
      bytes_transferred = coalesce((p_progress ->> 'bytes_transferred')::bigint, s.bytes_transferred)
  where s.id = p_sync_log_id;
  return new_expiry;
end
$$;

create or replace function public.finish_connector_sync(
  p_sync_log_id uuid,
  p_status text,
  p_counts jsonb default '{}'::jsonb,
  p_error_message text default null,
  p_error_details jsonb default null
)
returns public.connector_sync_logs
language plpgsql
set search_path = ''
as $$
declare
  run public.connector_sync_logs;
  result public.connector_sync_logs;
begin
  if p_status is null or p_status not in ('success', 'partial', 'failed', 'cancelled') then
    raise exception using errcode = '22023',
      message = format('[tributary] p_status must be success, partial, failed or cancelled, got %s', coalesce(p_status, 'null'));
  end if;
  if p_counts is not null and jsonb_typeof(p_counts) <> 'object' then
    raise exception using errcode = '22023', message = '[tributary] p_counts must be a JSON object';
  end if;
  if p_counts ? 'metadata' and jsonb_typeof(p_counts -> 'metadata') <> 'object' then
    raise exception using errcode = '22023', message = '[tributary] p_counts.metadata must be a JSON object';
  end if;
  run := tributary_private.lock_running_sync(p_sync_log_id);

  update public.connector_sync_logs s
  set status = p_status,
      completed_at = now(),
      duration_ms = greatest(0, (extract(epoch from now() - s.started_at) * 1000)::integer),
      lease_expires_at = null,
      documents_synced = coalesce((p_counts ->> 'documents_synced')::integer, s.documents_synced),
      documents_updated = coalesce((p_counts ->> 'documents_updated')::integer, s.documents_updated),
      documents_skipped = coalesce((p_counts ->> 'documents_skipped')::integer, s.documents_skipped),
      documents_failed = coalesce((p_counts ->> 'documents_failed')::integer, s.documents_failed),
      documents_deleted = coalesce((p_counts ->> 'documents_deleted')::integer, s.documents_deleted),
      api_calls_made = coalesce((p_counts ->> 'api_calls_made')::integer, s.api_calls_made),
      bytes_transferred = coalesce((p_counts ->> 'bytes_transferred')::bigint, s.bytes_transferred),
      metadata = s.metadata || coalesce(p_counts -> 'metadata', '{}'::jsonb),
      error_message = left(p_error_message, 4000),
      error_details = p_error_details
  where s.id = p_sync_log_id
  returning * into result;

  update public.connector_configs c
  set last_sync_at = now(),
      last_sync_status = p_status,
      error_count = case when p_status = 'failed' then c.error_count + 1 when p_status = 'success' then 0 else c.error_count end,
      last_error = case when p_status in ('failed', 'partial') and p_error_message is not null then left(p_error_message, 4000) else c.last_error end,
      last_error_at = case when p_status in ('failed', 'partial') and p_error_message is not null then now() else c.last_error_at end,
      next_sync_at = case c.sync_frequency
        when 'hourly' then now() + interval '1 hour'
        when 'daily' then now() + interval '1 day'
        when 'weekly' then now() + interval '7 days'
        else null
      end
  where c.id = run.connector_id;
  return result;
end
$$;

create or replace function public.record_webhook_event(
  p_connector_id uuid,
  p_event_source text,
  p_event_id text,
  p_event_type text,
  p_payload jsonb,
  p_headers jsonb default null
)
returns table (webhook_event_id uuid, is_new boolean, processed boolean)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  connector_org uuid;
  inserted_id uuid;
begin
  if p_event_source is null or p_event_id is null or p_event_type is null or p_payload is null then
    raise exception using errcode = '22004',
      message = '[tributary] p_event_source, p_event_id, p_event_type and p_payload are required';
  end if;
  select c.org_id into connector_org from public.connector_configs c where c.id = p_connector_id;
  if not found then
    raise exception using errcode = 'P0002', message = format('[tributary] connector %s not found', p_connector_id);
  end if;
  -- Members can read webhook events, so headers that carry credentials (Authorization, cookies,
  -- channel tokens, API keys) are never stored; names are kept lower-cased.
  insert into public.connector_webhook_events (org_id, connector_id, event_source, event_id, event_type, payload, headers)
  values (connector_org, p_connector_id, p_event_source, p_event_id, p_event_type, p_payload,
    case when p_headers is null or jsonb_typeof(p_headers) <> 'object' then null else (
      select coalesce(jsonb_object_agg(lower(h.key), h.value), '{}'::jsonb)
      from jsonb_each(p_headers) h
      where lower(h.key) !~ '(authorization|cookie|token|secret|api[-_]?key|password|credential)'
    ) end)
  on conflict (connector_id, event_source, event_id) do nothing
  returning id into inserted_id;
  if inserted_id is not null then
    return query select inserted_id, true, false;
    return;
  end if;
  -- A concurrent first delivery has committed (ON CONFLICT waited for it): report that row.
  return query
  select e.id, false, e.processed from public.connector_webhook_events e
  where e.connector_id = p_connector_id and e.event_source = p_event_source and e.event_id = p_event_id;
end
$$;

create or replace function public.upsert_documents(p_connector_id uuid, p_documents jsonb)
returns table (document_id uuid, external_id text, action text, previous_content_hash text)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  connector_org uuid;
  item_count integer;
  problem text;
begin
  if p_documents is null or jsonb_typeof(p_documents) <> 'array' then
    raise exception using errcode = '22023', message = '[tributary] p_documents must be a JSON array of documents';
  end if;
  item_count := jsonb_array_length(p_documents);
  if item_count > 1000 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_documents holds %s documents; send at most 1000 per call', item_count);
  end if;
  select c.org_id into connector_org from public.connector_configs c where c.id = p_connector_id;
  if not found then
    raise exception using errcode = 'P0002', message = format('[tributary] connector %s not found', p_connector_id);
  end if;
  select case
      when exists (select from jsonb_array_elements(p_documents) e where jsonb_typeof(e) <> 'object')
        then 'every element must be a JSON object'
      when exists (select from jsonb_array_elements(p_documents) e where coalesce(e ->> 'external_id', '') = '')
        then 'every document needs a non-empty external_id'
      when (select count(distinct e ->> 'external_id') from jsonb_array_elements(p_documents) e) <> item_count
        then 'external_id values must be unique within one call'
    end into problem;
  if problem is not null then
    raise exception using errcode = '22023', message = '[tributary] upsert_documents: ' || problem;
  end if;

  return query
  with input as (
    select * from jsonb_to_recordset(p_documents) as x(
      external_id text, parent_external_id text, title text, mime_type text, external_url text,
      source_version text, source_modified_at timestamptz, content text, content_hash text,
      file_size_bytes bigint, storage_path text, source_metadata jsonb, metadata jsonb,
      uploaded_by uuid, processing_status text)
  ),
  previous as (
    select d.external_id, d.content_hash, d.is_deleted
    from public.imported_documents d
    join input i on i.external_id = d.external_id
    where d.org_id = connector_org and d.connector_id = p_connector_id
  ),
  written as (
    insert into public.imported_documents as d (
      org_id, connector_id, external_id, parent_external_id, title, mime_type, external_url, source_version,
      source_modified_at, content, content_hash, file_size_bytes, storage_path, source_metadata, metadata,
      uploaded_by, processing_status, last_synced_at, last_seen_at)
    select connector_org, p_connector_id, i.external_id, i.parent_external_id, i.title, i.mime_type, i.external_url,
      i.source_version, i.source_modified_at, i.content, i.content_hash, i.file_size_bytes, i.storage_path,
      coalesce(i.source_metadata, '{}'::jsonb), coalesce(i.metadata, '{}'::jsonb), i.uploaded_by,
      coalesce(i.processing_status, 'pending'), now(), now()
    from input i
    -- Every call locks rows in the same order, so overlapping batches never deadlock.
    order by i.external_id
    on conflict (org_id, connector_id, external_id) do update set
      parent_external_id = excluded.parent_external_id,
      title = excluded.title,
      mime_type = excluded.mime_type,
      external_url = excluded.external_url,
      source_version = excluded.source_version,
      source_modified_at = excluded.source_modified_at,
      file_size_bytes = excluded.file_size_bytes,
      storage_path = coalesce(excluded.storage_path, d.storage_path),
      source_metadata = excluded.source_metadata,
      metadata = d.metadata || excluded.metadata,
      uploaded_by = coalesce(d.uploaded_by, excluded.uploaded_by),
      content = excluded.content,
      content_hash = excluded.content_hash,
      -- Same content hash on a live row: keep the processed state (no re-chunk, no re-embed).
      processing_status = case when d.content_hash = excluded.content_hash and not d.is_deleted
        then d.processing_status else excluded.processing_status end,
      processing_error = case when d.content_hash = excluded.content_hash and not d.is_deleted
        then d.processing_error else null end,
      chunks_generated = d.chunks_generated and d.content_hash = excluded.content_hash and not d.is_deleted,
      embeddings_generated = d.embeddings_generated and d.content_hash = excluded.content_hash and not d.is_deleted,
      sync_count = d.sync_count + 1,
      last_synced_at = now(),
      last_seen_at = now(),
      is_deleted = false,
      deleted_at = null
    returning d.id, d.external_id, (d.xmax = 0) as inserted, d.content_hash
  )
  select w.id, w.external_id,
    case
      when w.inserted then 'inserted'
      when p.content_hash = w.content_hash and not p.is_deleted then 'unchanged'
      else 'updated'
    end,
    p.content_hash
  from written w
  left join previous p on p.external_id = w.external_id;
end
$$;

create or replace function public.mark_documents_seen(p_connector_id uuid, p_external_ids text[])
returns integer
language sql
set search_path = ''
as $$
  with touched as (
    update public.imported_documents d
    set last_seen_at = now(), last_synced_at = now(), sync_count = d.sync_count + 1
    where d.org_id = (select c.org_id from public.connector_configs c where c.id = p_connector_id)
      and d.connector_id = p_connector_id and d.external_id = any (p_external_ids) and not d.is_deleted
    returning 1
  )
  select count(*)::integer from touched
$$;

create or replace function public.soft_delete_documents(p_connector_id uuid, p_external_ids text[])
returns integer
language sql
set search_path = ''
as $$
  with deleted as (
    update public.imported_documents d
    set is_deleted = true, deleted_at = now()
    where d.org_id = (select c.org_id from public.connector_configs c where c.id = p_connector_id)
      and d.connector_id = p_connector_id and d.external_id = any (p_external_ids) and not d.is_deleted
    returning 1
  )
  select count(*)::integer from deleted
$$;

drop function if exists tributary_private.raise_invalid_value(text, text, text, text);
drop function if exists tributary_private.require_connector(uuid);
do $down$
begin
  if not exists (select from tributary_private.quarantined_values) then
    drop table tributary_private.quarantined_values;
  else
    raise warning '[tributary] kept tributary_private.quarantined_values: it holds the originals of values 0012_input_guards repaired'
      using hint = 'Drop it yourself once you no longer need them.';
  end if;
end
$down$;
