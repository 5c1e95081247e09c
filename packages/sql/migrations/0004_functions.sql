-- RPCs. Each is atomic (one statement or one locked transaction), names what is wrong when given bad
-- input, and changes nothing in that case. Errors use standard SQLSTATEs so clients can branch:
--   22004 null value not allowed, 22023 invalid parameter value, P0002 not found (or not visible),
--   42501 not allowed, 55000 wrong state (e.g. lease lost, batch already finished).
-- Invoker rights unless noted, so row level security applies to the caller.

-- ---------------------------------------------------------------------------------------------
-- Upload batches
-- ---------------------------------------------------------------------------------------------
create or replace function tributary_private.account_batch_file(p_batch_id uuid, p_failed boolean)
returns public.file_upload_batches
language plpgsql
set search_path = ''
as $$
declare
  result public.file_upload_batches;
  current_status text;
begin
  if p_batch_id is null then
    raise exception using errcode = '22004', message = '[tributary] batch_id_param is null',
      hint = 'Pass the id of a file_upload_batches row.';
  end if;
  -- One UPDATE: the row lock serialises concurrent calls, and the WHERE clause is re-checked after
  -- waiting, so N calls add exactly N and the last one sets the final status.
  update public.file_upload_batches b
  set processed_files = b.processed_files + 1,
      failed_files = b.failed_files + case when p_failed then 1 else 0 end,
      progress_percent = round((b.processed_files + 1) * 100.0 / b.total_files, 2),
      status = case
        when b.processed_files + 1 < b.total_files then 'processing'
        when b.failed_files + (case when p_failed then 1 else 0 end) = 0 then 'completed'
        when b.failed_files + (case when p_failed then 1 else 0 end) >= b.total_files then 'failed'
        else 'completed_with_errors'
      end,
      completed_at = case when b.processed_files + 1 >= b.total_files then now() else null end
  where b.id = p_batch_id
    and b.status in ('uploading', 'processing')
    and b.processed_files < b.total_files
  returning b.* into result;
  if found then
    return result;
  end if;

  select b.status into current_status from public.file_upload_batches b where b.id = p_batch_id;
  if not found then
    raise exception using errcode = 'P0002',
      message = format('[tributary] upload batch %s not found', p_batch_id),
      hint = 'Check the id; a batch of another organisation is not visible to you.';
  elsif current_status in ('uploading', 'processing') then
    raise exception using errcode = '42501',
      message = format('[tributary] not allowed to update upload batch %s', p_batch_id),
      hint = 'Batch progress is recorded by the server with the service role.';
  else
    raise exception using errcode = '55000',
      message = format('[tributary] upload batch %s is already %s; every file is accounted for', p_batch_id, current_status),
      hint = 'Do not count a file twice; create a new batch for more files.';
  end if;
end
$$;

create or replace function public.increment_batch_processed(batch_id_param uuid)
returns public.file_upload_batches
language sql
set search_path = ''
as $$ select * from tributary_private.account_batch_file(batch_id_param, false) $$;
comment on function public.increment_batch_processed(uuid) is
  'Counts one file of an upload batch as processed; returns the batch. The status becomes completed / completed_with_errors / failed with the last file.';

create or replace function public.increment_batch_failed(batch_id_param uuid)
returns public.file_upload_batches
language sql
set search_path = ''
as $$ select * from tributary_private.account_batch_file(batch_id_param, true) $$;
comment on function public.increment_batch_failed(uuid) is
  'Counts one file of an upload batch as failed (it counts as processed too); returns the batch.';

-- ---------------------------------------------------------------------------------------------
-- Statistics for an organisation, in one query.
-- ---------------------------------------------------------------------------------------------
create or replace function public.get_connector_stats(p_org_id uuid)
returns table (
  total_connectors integer,
  active_connectors integer,
  failing_connectors integer,
  total_documents integer,
  pending_documents integer,
  processing_documents integer,
  completed_documents integer,
  failed_documents integer,
  deleted_documents integer,
  total_chunks bigint,
  total_bytes bigint,
  last_sync_at timestamptz,
  syncs_last_24h integer,
  failed_syncs_last_24h integer,
  connectors jsonb
)
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  perform tributary_private.assert_org_access(p_org_id);
  return query
  with connector_rows as (
    select c.id, c.name, c.connector_type, c.is_active, c.last_sync_at, c.last_sync_status, c.error_count
    from public.connector_configs c where c.org_id = p_org_id
  ),
  document_counts as (
    select d.connector_id,
           count(*) filter (where not d.is_deleted) as live,
           count(*) filter (where not d.is_deleted and d.processing_status = 'pending') as pending,
           count(*) filter (where not d.is_deleted and d.processing_status = 'processing') as processing,
           count(*) filter (where not d.is_deleted and d.processing_status = 'completed') as completed,
           count(*) filter (where not d.is_deleted and d.processing_status = 'failed') as failed,
           count(*) filter (where d.is_deleted) as deleted,
           coalesce(sum(d.file_size_bytes) filter (where not d.is_deleted), 0) as bytes,
           coalesce(sum(d.chunk_count) filter (where not d.is_deleted), 0) as chunks
    from public.imported_documents d where d.org_id = p_org_id
    group by d.connector_id
  ),
  recent_syncs as (
    select count(*) as total, count(*) filter (where s.status = 'failed') as failed
    from public.connector_sync_logs s
    where s.org_id = p_org_id and s.started_at > now() - interval '24 hours'
  )
  select
    (select count(*) from connector_rows)::integer,
    (select count(*) from connector_rows where is_active)::integer,
    (select count(*) from connector_rows where error_count > 0 or last_sync_status = 'failed')::integer,
    coalesce((select sum(live) from document_counts), 0)::integer,
    coalesce((select sum(pending) from document_counts), 0)::integer,
    coalesce((select sum(processing) from document_counts), 0)::integer,
    coalesce((select sum(completed) from document_counts), 0)::integer,
    coalesce((select sum(failed) from document_counts), 0)::integer,
    coalesce((select sum(deleted) from document_counts), 0)::integer,
    coalesce((select sum(chunks) from document_counts), 0)::bigint,
    coalesce((select sum(bytes) from document_counts), 0)::bigint,
    (select max(cr.last_sync_at) from connector_rows cr),
    (select total from recent_syncs)::integer,
    (select failed from recent_syncs)::integer,
    coalesce((
      select jsonb_agg(jsonb_build_object(
        'id', cr.id, 'name', cr.name, 'connector_type', cr.connector_type, 'is_active', cr.is_active,
        'last_sync_at', cr.last_sync_at, 'last_sync_status', cr.last_sync_status, 'error_count', cr.error_count,
        'documents', coalesce(dc.live, 0), 'failed_documents', coalesce(dc.failed, 0)
      ) order by cr.name)
      from connector_rows cr left join document_counts dc on dc.connector_id = cr.id
    ), '[]'::jsonb);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Retention: purge documents soft-deleted more than days_old days ago (chunks go with them).
-- Works in slices of batch_limit rows so a large purge never holds one long transaction; call it
-- until deleted_files is 0. storage_paths lists blobs the caller should now remove from storage.
-- ---------------------------------------------------------------------------------------------
create or replace function public.cleanup_old_connector_imports(days_old integer default 90, batch_limit integer default 5000)
returns table (deleted_files integer, storage_freed_bytes bigint, storage_paths text[])
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
begin
  if days_old is null or days_old < 1 or days_old > 36500 then
    raise exception using errcode = '22023',
      message = format('[tributary] days_old must be between 1 and 36500, got %s', coalesce(days_old::text, 'null'));
  end if;
  if batch_limit is null or batch_limit < 1 or batch_limit > 100000 then
    raise exception using errcode = '22023',
      message = format('[tributary] batch_limit must be between 1 and 100000, got %s', coalesce(batch_limit::text, 'null'));
  end if;
  return query
  with doomed as (
    select d.id from public.imported_documents d
    where d.is_deleted and d.deleted_at < now() - make_interval(days => days_old)
    order by d.deleted_at
    limit batch_limit
    for update skip locked
  ),
  purged as (
    delete from public.imported_documents d using doomed where d.id = doomed.id
    returning d.file_size_bytes, d.storage_path
  )
  select count(*)::integer,
         coalesce(sum(p.file_size_bytes), 0)::bigint,
         coalesce(array_agg(p.storage_path) filter (where p.storage_path is not null), '{}'::text[])
  from purged p;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Sync runs: start with a lease (at most one running per connector), heartbeat, checkpoint, finish.
-- ---------------------------------------------------------------------------------------------
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

  new_expiry := now() + make_interval(secs => p_lease_seconds);
  insert into public.connector_sync_logs (org_id, connector_id, sync_type, sync_mode, status, worker_id, lease_expires_at, heartbeat_at)
  values (connector.org_id, p_connector_id, p_sync_type, p_sync_mode, 'running', left(p_worker_id, 200), new_expiry, now())
  returning id into new_id;
  update public.connector_configs set last_sync_status = 'running' where id = p_connector_id;
  return query select true, new_id, new_expiry, connector.sync_cursor;
end
$$;
comment on function public.start_connector_sync(uuid, text, text, integer, text) is
  'Starts a sync run unless one is running (started = false then, with the running run''s id). Returns the last committed cursor.';

-- Internal: the running row of a sync run, locked, or an error saying why it cannot proceed.
create or replace function tributary_private.lock_running_sync(p_sync_log_id uuid)
returns public.connector_sync_logs
language plpgsql
set search_path = ''
as $$
declare
  run public.connector_sync_logs;
begin
  if p_sync_log_id is null then
    raise exception using errcode = '22004', message = '[tributary] p_sync_log_id is null';
  end if;
  select * into run from public.connector_sync_logs s where s.id = p_sync_log_id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('[tributary] sync run %s not found', p_sync_log_id);
  end if;
  if run.status <> 'running' or run.lease_expires_at < now() then
    raise exception using errcode = '55000',
      message = format('[tributary] sync run %s lost its lease (status %s)', p_sync_log_id, run.status),
      hint = 'Another worker may have taken over; stop this run without committing anything more.';
  end if;
  return run;
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

-- Commits a connector cursor, only while the run still holds its lease (a zombie worker can never
-- overwrite the cursor of the run that replaced it).
create or replace function public.commit_sync_checkpoint(p_sync_log_id uuid, p_cursor jsonb)
returns void
language plpgsql
set search_path = ''
as $$
declare
  run public.connector_sync_logs;
begin
  if p_cursor is null or pg_column_size(p_cursor) > 65536 then
    raise exception using errcode = '22023', message = '[tributary] p_cursor must be a JSON value of at most 64 KB';
  end if;
  run := tributary_private.lock_running_sync(p_sync_log_id);
  update public.connector_configs set sync_cursor = p_cursor where id = run.connector_id;
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

-- ---------------------------------------------------------------------------------------------
-- Webhook events: recorded once per (connector, event_source, event_id); is_new says whether this
-- delivery is the first.
-- ---------------------------------------------------------------------------------------------
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

create or replace function public.complete_webhook_event(p_webhook_event_id uuid, p_error text default null)
returns public.connector_webhook_events
language plpgsql
set search_path = ''
as $$
declare
  result public.connector_webhook_events;
begin
  update public.connector_webhook_events e
  set processed = p_error is null,
      processed_at = case when p_error is null then now() else e.processed_at end,
      processing_error = left(p_error, 4000),
      retry_count = case when p_error is null then e.retry_count else least(e.retry_count + 1, 1000) end
  where e.id = p_webhook_event_id
  returning * into result;
  if not found then
    raise exception using errcode = 'P0002', message = format('[tributary] webhook event %s not found', p_webhook_event_id);
  end if;
  return result;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Documents, set-based. One call upserts up to 1000 documents of one connector and reports, per
-- document, whether it was inserted, updated (content changed: chunks and embeddings must be
-- redone) or unchanged (same content hash: only last_synced_at / sync_count move).
-- ---------------------------------------------------------------------------------------------
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

-- Documents listed again by the source with an unchanged version (skipped without download).
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

-- Soft delete: the documents leave search at once; the retention job purges them later.
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

-- Full-sync sweep: soft-deletes the connector's live documents not seen since the run started,
-- unless that would remove more than p_max_fraction of them (coverage guard: a listing that ended
-- early or shrank suspiciously must not wipe data). refused = true says the guard held.
create or replace function public.sweep_unseen_documents(p_sync_log_id uuid, p_max_fraction numeric default 0.5)
returns table (swept integer, unseen integer, total integer, refused boolean)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  run public.connector_sync_logs;
  unseen_count integer;
  total_count integer;
  swept_count integer := 0;
begin
  if p_max_fraction is null or p_max_fraction < 0 or p_max_fraction > 1 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_max_fraction must be between 0 and 1, got %s', coalesce(p_max_fraction::text, 'null'));
  end if;
  run := tributary_private.lock_running_sync(p_sync_log_id);
  select count(*) filter (where d.last_seen_at < run.started_at), count(*)
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
      and d.last_seen_at < run.started_at
    returning 1
  )
  select count(*)::integer into swept_count from deleted;
  return query select swept_count, unseen_count, total_count, false;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Secrets: service role only.
-- ---------------------------------------------------------------------------------------------
create or replace function public.set_connector_secrets(p_connector_id uuid, p_credentials jsonb default null, p_webhook_secret text default null)
returns void
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select from public.connector_configs c where c.id = p_connector_id) then
    raise exception using errcode = 'P0002', message = format('[tributary] connector %s not found', p_connector_id);
  end if;
  insert into tributary_private.connector_secrets as s (connector_id, credentials, webhook_secret)
  values (p_connector_id, p_credentials, p_webhook_secret)
  on conflict (connector_id) do update set
    credentials = coalesce(excluded.credentials, s.credentials),
    webhook_secret = coalesce(excluded.webhook_secret, s.webhook_secret),
    updated_at = now();
  update public.connector_configs set credentials_updated_at = now()
  where id = p_connector_id and p_credentials is not null;
end
$$;

create or replace function public.get_connector_secrets(p_connector_id uuid)
returns table (credentials jsonb, webhook_secret text, updated_at timestamptz)
language sql stable
set search_path = ''
as $$
  select s.credentials, s.webhook_secret, s.updated_at
  from tributary_private.connector_secrets s where s.connector_id = p_connector_id
$$;

-- ---------------------------------------------------------------------------------------------
-- Grants: nothing is executable by anon; workers' RPCs by service_role only.
-- ---------------------------------------------------------------------------------------------
revoke all on function tributary_private.account_batch_file(uuid, boolean) from public, anon;
revoke all on function tributary_private.lock_running_sync(uuid) from public, anon, authenticated;
grant execute on function tributary_private.account_batch_file(uuid, boolean) to authenticated, service_role;
grant execute on function tributary_private.lock_running_sync(uuid) to service_role;

revoke all on function public.increment_batch_processed(uuid) from public, anon;
revoke all on function public.increment_batch_failed(uuid) from public, anon;
revoke all on function public.get_connector_stats(uuid) from public, anon;
revoke all on function public.cleanup_old_connector_imports(integer, integer) from public, anon, authenticated;
revoke all on function public.start_connector_sync(uuid, text, text, integer, text) from public, anon, authenticated;
revoke all on function public.heartbeat_connector_sync(uuid, integer, jsonb) from public, anon, authenticated;
revoke all on function public.commit_sync_checkpoint(uuid, jsonb) from public, anon, authenticated;
revoke all on function public.finish_connector_sync(uuid, text, jsonb, text, jsonb) from public, anon, authenticated;
revoke all on function public.record_webhook_event(uuid, text, text, text, jsonb, jsonb) from public, anon, authenticated;
revoke all on function public.complete_webhook_event(uuid, text) from public, anon, authenticated;
revoke all on function public.upsert_documents(uuid, jsonb) from public, anon, authenticated;
revoke all on function public.mark_documents_seen(uuid, text[]) from public, anon, authenticated;
revoke all on function public.soft_delete_documents(uuid, text[]) from public, anon, authenticated;
revoke all on function public.sweep_unseen_documents(uuid, numeric) from public, anon, authenticated;
revoke all on function public.set_connector_secrets(uuid, jsonb, text) from public, anon, authenticated;
revoke all on function public.get_connector_secrets(uuid) from public, anon, authenticated;

-- Members may call these; row level security decides what they see or change.
grant execute on function public.increment_batch_processed(uuid) to authenticated, service_role;
grant execute on function public.increment_batch_failed(uuid) to authenticated, service_role;
grant execute on function public.get_connector_stats(uuid) to authenticated, service_role;
-- Workers only.
grant execute on function public.cleanup_old_connector_imports(integer, integer) to service_role;
grant execute on function public.start_connector_sync(uuid, text, text, integer, text) to service_role;
grant execute on function public.heartbeat_connector_sync(uuid, integer, jsonb) to service_role;
grant execute on function public.commit_sync_checkpoint(uuid, jsonb) to service_role;
grant execute on function public.finish_connector_sync(uuid, text, jsonb, text, jsonb) to service_role;
grant execute on function public.record_webhook_event(uuid, text, text, text, jsonb, jsonb) to service_role;
grant execute on function public.complete_webhook_event(uuid, text) to service_role;
grant execute on function public.upsert_documents(uuid, jsonb) to service_role;
grant execute on function public.mark_documents_seen(uuid, text[]) to service_role;
grant execute on function public.soft_delete_documents(uuid, text[]) to service_role;
grant execute on function public.sweep_unseen_documents(uuid, numeric) to service_role;
grant execute on function public.set_connector_secrets(uuid, jsonb, text) to service_role;
grant execute on function public.get_connector_secrets(uuid) to service_role;
