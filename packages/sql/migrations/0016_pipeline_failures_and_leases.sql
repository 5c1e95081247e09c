-- Pipeline v2: failures that keep what was good, and leases an operator can release.
--
-- record_document_failures: a document that failed to load or extract this run. A live document
-- whose earlier version finished processing keeps that version (content, chunks, status
-- 'completed', so it stays searchable) and gets the error beside it (processing_error and
-- metadata.lastFailure); its source_version is left alone so the next run tries the new version
-- again. A document never processed (or deleted) is marked 'failed'. An unknown one is stored as
-- a failed placeholder without content. Content is never written here, so a failed load can
-- never blank a stored document.
--
-- release_connector_sync: ends the connector's running run as 'cancelled' so a new run can start
-- at once (the operator's take-over after a crash, instead of waiting for the lease to expire).
-- The released worker, if it is in fact alive, loses its lease at its next heartbeat or
-- checkpoint (both require status 'running') and stops; checkpoints it committed are kept.
-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';


create or replace function public.record_document_failures(p_connector_id uuid, p_documents jsonb)
returns table (document_id uuid, external_id text, kept_previous boolean)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  connector_org uuid;
  item_count integer;
begin
  if p_documents is null or jsonb_typeof(p_documents) <> 'array' then
    raise exception using errcode = '22023', message = '[tributary] p_documents must be a JSON array',
      hint = 'Pass [{ "external_id": ..., "error": ... }, ...].';
  end if;
  item_count := jsonb_array_length(p_documents);
  if item_count > 1000 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_documents holds %s documents; send at most 1000 per call', item_count);
  end if;
  if exists (select from jsonb_array_elements(p_documents) e
             where jsonb_typeof(e) <> 'object' or coalesce(e ->> 'external_id', '') = '') then
    raise exception using errcode = '22023',
      message = '[tributary] record_document_failures: every element needs a non-empty external_id';
  end if;
  if (select count(distinct e ->> 'external_id') from jsonb_array_elements(p_documents) e) <> item_count then
    raise exception using errcode = '22023',
      message = '[tributary] record_document_failures: external_id values must be unique within one call';
  end if;
  connector_org := tributary_private.require_connector(p_connector_id);

  return query
  with input as (
    select x.external_id, left(coalesce(x.error, 'unknown error'), 4000) as error, x.parent_external_id, x.title,
      x.mime_type, x.external_url, x.source_modified_at, coalesce(x.source_metadata, '{}'::jsonb) as source_metadata,
      coalesce(x.metadata, '{}'::jsonb) as metadata
    from jsonb_to_recordset(p_documents) as x(
      external_id text, error text, parent_external_id text, title text, mime_type text, external_url text,
      source_modified_at timestamptz, source_metadata jsonb, metadata jsonb)
  ),
  written as (
    insert into public.imported_documents as d (
      org_id, connector_id, external_id, parent_external_id, title, mime_type, external_url, source_modified_at,
      source_metadata, metadata, processing_status, processing_error, last_synced_at, last_seen_at)
    select connector_org, p_connector_id, i.external_id, i.parent_external_id, i.title, i.mime_type, i.external_url,
      i.source_modified_at, i.source_metadata,
      i.metadata || jsonb_build_object('lastFailure', jsonb_build_object('error', i.error, 'at', now())),
      'failed', i.error, now(), now()
    from input i
    order by i.external_id
    on conflict (org_id, connector_id, external_id) do update set
      -- A good earlier version stays as it was (and searchable); anything else shows the failure.
      processing_status = case when d.processing_status = 'completed' and not d.is_deleted
        then 'completed' else 'failed' end,
      processing_error = excluded.processing_error,
      metadata = d.metadata || jsonb_build_object('lastFailure', excluded.metadata -> 'lastFailure'),
      -- The listing saw it: the full-sync sweep must not remove it.
      last_seen_at = now()
    returning d.id, d.external_id, (d.processing_status = 'completed') as kept
  )
  select w.id, w.external_id, w.kept from written w;
end
$$;
comment on function public.record_document_failures(uuid, jsonb) is
  'Records load/extract failures of up to 1,000 documents: a live completed document keeps its indexed version (still searchable) with the error beside it (processing_error, metadata.lastFailure); others are marked failed; unknown ones are stored as failed placeholders. Never writes content.';

-- When the pipeline stores a document's next version successfully, the failure note of the
-- version before goes away with it (upsert_documents clears processing_error on change; this
-- clears metadata.lastFailure when processing completes).
create or replace function public.set_documents_processing_status(p_document_ids uuid[], p_status text, p_error text default null)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  changed integer;
begin
  if p_document_ids is null or p_status is null then
    raise exception using errcode = '22004', message = '[tributary] p_document_ids and p_status must not be null',
      hint = 'Pass the documents and one of pending, processing, completed, failed.';
  end if;
  if p_status not in ('pending', 'processing', 'completed', 'failed') then
    raise exception using errcode = '22023',
      message = format('[tributary] p_status must be pending, processing, completed or failed, got %s', p_status);
  end if;
  update public.imported_documents d
  set processing_status = p_status, processing_error = left(p_error, 4000),
      metadata = case when p_status = 'completed' then d.metadata - 'lastFailure' else d.metadata end
  where d.id = any (p_document_ids);
  get diagnostics changed = row_count;
  return changed;
end
$$;

create or replace function public.release_connector_sync(p_connector_id uuid, p_reason text default null)
returns table (sync_log_id uuid, lease_expires_at timestamptz, worker_id text, was_expired boolean)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_connector_id is null then
    raise exception using errcode = '22004', message = '[tributary] p_connector_id is null';
  end if;
  -- Same lock as start_connector_sync: a start and a release of one connector never interleave.
  perform 1 from public.connector_configs c where c.id = p_connector_id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('[tributary] connector %s not found', p_connector_id);
  end if;
  return query
  with released as (
    select s.id, s.lease_expires_at, s.worker_id from public.connector_sync_logs s
    where s.connector_id = p_connector_id and s.status = 'running'
    for update
  ),
  ended as (
    update public.connector_sync_logs s
    set status = 'cancelled', completed_at = now(),
        duration_ms = greatest(0, (extract(epoch from now() - s.started_at) * 1000)::integer),
        error_message = left('[tributary] released by an operator (take-over)'
          || coalesce(': ' || nullif(p_reason, ''), '')
          || '; the next run resumes from the last committed checkpoint', 4000)
    from released r where s.id = r.id
    returning s.id
  )
  select r.id, r.lease_expires_at, r.worker_id, r.lease_expires_at < now() from released r join ended e on e.id = r.id;
  update public.connector_configs set last_sync_status = 'cancelled'
  where id = p_connector_id and last_sync_status = 'running';
end
$$;
comment on function public.release_connector_sync(uuid, text) is
  'Ends the connector''s running sync run as cancelled (operator take-over); returns the released run, its lease expiry and worker. The next run resumes from the last checkpoint.';

revoke all on function public.record_document_failures(uuid, jsonb) from public, anon, authenticated;
revoke all on function public.release_connector_sync(uuid, text) from public, anon, authenticated;
grant execute on function public.record_document_failures(uuid, jsonb) to service_role;
grant execute on function public.release_connector_sync(uuid, text) to service_role;
