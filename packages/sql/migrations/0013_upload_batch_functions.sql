-- Upload batches: the logic both batch stores (node-postgres/PGlite and supabase-js) used to carry
-- in TypeScript, once, in SQL. Each function is one transaction, so what it writes is all or nothing:
-- - ensure_upload_connector: the organisation's `upload` connector, created once however many
--   processes ask at the same moment (an advisory lock per organisation, not a per-process lock).
-- - record_batch_file: one file's entry in `metadata.files` and its count, in one statement-level
--   update of the row (concurrent writers never lose each other's entries, unlike a client that
--   reads the map and writes it back).
-- - settle_interrupted_batch: a batch whose process died is settled exactly once (row lock).
-- Errors follow 0004_functions: 22004 null, 22023 invalid value, P0002 not found, 42501 not
-- allowed, 55000 wrong state.

-- The per-file entry kept in metadata.files: { s: status, d?: document id, n?: name, m?: message }.
-- When the full entry would push the row past its 64 KB metadata limit, the compact form ({ s, d })
-- is kept; when not even that fits, no entry (the file is still counted).
create or replace function tributary_private.batch_metadata_with_entries(p_metadata jsonb, p_entries jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select case
    when pg_column_size(full_form) <= 65536 then full_form
    when pg_column_size(compact_form) <= 65536 then compact_form
    else p_metadata
  end
  from (
    select
      jsonb_set(p_metadata, '{files}', coalesce(p_metadata -> 'files', '{}'::jsonb) || p_entries) as full_form,
      jsonb_set(p_metadata, '{files}', coalesce(p_metadata -> 'files', '{}'::jsonb) || (
        select coalesce(jsonb_object_agg(key, value - 'n' - 'm'), '{}'::jsonb) from jsonb_each(p_entries)
      )) as compact_form
  ) forms
$$;

create or replace function public.ensure_upload_connector(p_org_id uuid)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  found_id uuid;
begin
  if p_org_id is null then
    raise exception using errcode = '22004', message = '[tributary] p_org_id is null',
      hint = 'Pass the organisation whose upload connector you want.';
  end if;
  -- Two first uploads at once must not create two connectors: serialise per organisation.
  perform pg_advisory_xact_lock(hashtext('tributary.upload-connector:' || p_org_id::text));
  select c.id into found_id from public.connector_configs c
  where c.org_id = p_org_id and c.connector_type = 'upload'
  order by c.created_at, c.id limit 1;
  if found_id is not null then
    return found_id;
  end if;
  insert into public.connector_configs (org_id, connector_type, name)
  values (p_org_id, 'upload', 'Uploads')
  returning id into found_id;
  return found_id;
end
$$;
comment on function public.ensure_upload_connector(uuid) is
  'The organisation''s upload connector, created on first use; concurrent callers get the same one. Invoker rights: members need the right to create connectors (owners/admins) the first time.';

create or replace function public.record_batch_file(
  p_batch_id uuid,
  p_file_index integer,
  p_entry jsonb,
  p_failed boolean
)
returns public.file_upload_batches
language plpgsql
set search_path = ''
as $$
begin
  if p_batch_id is null or p_failed is null then
    raise exception using errcode = '22004', message = '[tributary] p_batch_id and p_failed must not be null',
      hint = 'Pass the batch id and whether the file failed.';
  end if;
  if p_entry is not null and (jsonb_typeof(p_entry) <> 'object' or jsonb_typeof(p_entry -> 's') <> 'string') then
    raise exception using errcode = '22023', message = '[tributary] p_entry must be an object with a status "s"',
      hint = 'Pass { "s": status, "d"?: document id, "n"?: name, "m"?: message }, or null for no entry.';
  end if;
  if p_entry is not null and (p_file_index is null or p_file_index < 0) then
    raise exception using errcode = '22023', message = format('[tributary] p_file_index must be 0 or more, not %s', p_file_index),
      hint = 'Pass the file''s position in the batch.';
  end if;
  if p_entry is not null then
    -- One UPDATE: its expression is re-evaluated on the latest row version after waiting for the row
    -- lock, so concurrent writers each add their entry.
    update public.file_upload_batches b
    set metadata = tributary_private.batch_metadata_with_entries(
      b.metadata, jsonb_build_object(p_file_index::text, p_entry))
    where b.id = p_batch_id and b.status in ('uploading', 'processing');
  end if;
  -- Counts the file (and raises not found / not allowed / already ended, undoing the entry).
  return tributary_private.account_batch_file(p_batch_id, p_failed);
end
$$;
comment on function public.record_batch_file(uuid, integer, jsonb, boolean) is
  'Records one file''s outcome in metadata.files (compact when the row is nearly full, none when full) and counts it, in one transaction; returns the batch.';

create or replace function public.settle_interrupted_batch(
  p_batch_id uuid,
  p_updated_before timestamptz,
  p_message text
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  batch public.file_upload_batches;
  remaining integer;
  missing_count integer;
  outcomes jsonb;
  entries jsonb;
  failed_now integer;
  counted integer;
begin
  if p_batch_id is null or p_updated_before is null or p_message is null then
    raise exception using errcode = '22004',
      message = '[tributary] p_batch_id, p_updated_before and p_message must not be null',
      hint = 'Pass the batch, the staleness threshold and the message recorded for interrupted files.';
  end if;
  -- The row lock serialises recoverers: a second one waits, then re-checks the WHERE clause against
  -- the committed row (ended, or updated since) and finds nothing. A live uploader's record_batch_file
  -- waits on the same lock, and any file it counts moves updated_at past the threshold.
  select * into batch from public.file_upload_batches b
  where b.id = p_batch_id and b.status in ('uploading', 'processing') and b.updated_at < p_updated_before
  for update;
  if not found then
    return null;
  end if;
  remaining := batch.total_files - batch.processed_files;

  select count(*)::int into missing_count
  from generate_series(0, batch.total_files - 1) i
  where not (coalesce(batch.metadata -> 'files', '{}'::jsonb) ? i::text);

  if missing_count = remaining then
    -- Every file without an entry is one never counted: its document (if the dead process wrote
    -- one) says what happened; otherwise it was interrupted.
    select coalesce(jsonb_agg(jsonb_build_object(
        'file_index', i, 'status', coalesce(known.status, 'failed'), 'document_id', docs.id,
        'name', docs.title, 'failed', known.status is null)), '[]'::jsonb)
    into outcomes
    from generate_series(0, batch.total_files - 1) i
    left join lateral (
      select d.id, d.title, d.processing_status,
        coalesce(d.metadata -> 'upload', d.source_metadata -> 'upload') ->> 'kind' as kind,
        d.metadata -> 'transcription' ->> 'status' as transcription
      from public.imported_documents d
      where batch.connector_id is not null and d.org_id = batch.org_id and d.connector_id = batch.connector_id
        and not d.is_deleted
        and coalesce(d.metadata -> 'upload', d.source_metadata -> 'upload') ->> 'batchId' = batch.id::text
        and coalesce(d.metadata -> 'upload', d.source_metadata -> 'upload') ->> 'fileIndex' = i::text
      order by d.created_at
      limit 1
    ) docs on true
    left join lateral (
      select case
        when docs.processing_status = 'completed' and (docs.kind = 'image' or docs.transcription = 'too_large') then 'stored'
        when docs.processing_status = 'completed' then 'completed'
        when docs.processing_status = 'pending' and docs.kind in ('audio', 'video') then 'awaiting_transcription'
      end as status
    ) known on true
    where not (coalesce(batch.metadata -> 'files', '{}'::jsonb) ? i::text);
  else
    -- Some files were counted without an entry (the row's metadata was full): which files are
    -- unaccounted for is unknown, so the rest are counted failed without entries.
    select coalesce(jsonb_agg(jsonb_build_object('file_index', -1, 'status', 'failed', 'failed', true)), '[]'::jsonb)
    into outcomes
    from generate_series(1, greatest(remaining, 0));
  end if;

  -- Documents whose indexing the dead process never finished: failed, so uploading the same bytes
  -- again imports them again instead of linking to a document with no chunks.
  if batch.connector_id is not null then
    update public.imported_documents d
    set processing_status = 'failed', processing_error = p_message
    where d.org_id = batch.org_id and d.connector_id = batch.connector_id and not d.is_deleted
      and d.processing_status = 'processing'
      and coalesce(d.metadata -> 'upload', d.source_metadata -> 'upload') ->> 'batchId' = batch.id::text;
  end if;

  select
    coalesce(jsonb_object_agg(o.file_index::text, jsonb_strip_nulls(jsonb_build_object(
      's', o.status,
      'd', case when o.status <> 'completed' then o.document_id end,
      'n', left(o.name, 120),
      'm', case when o.failed then left(p_message, 300) end))) filter (where o.file_index >= 0), '{}'::jsonb),
    count(*) filter (where o.failed)::int,
    count(*)::int
  into entries, failed_now, counted
  from jsonb_to_recordset(outcomes) as o(file_index integer, status text, document_id uuid, name text, failed boolean);

  -- Every remaining file is counted at once; the status follows account_batch_file's rule.
  update public.file_upload_batches b
  set metadata = tributary_private.batch_metadata_with_entries(b.metadata, entries),
      processed_files = b.processed_files + counted,
      failed_files = b.failed_files + failed_now,
      progress_percent = round((b.processed_files + counted) * 100.0 / b.total_files, 2),
      status = case
        when b.processed_files + counted < b.total_files then 'processing'
        when b.failed_files + failed_now = 0 then 'completed'
        when b.failed_files + failed_now >= b.total_files then 'failed'
        else 'completed_with_errors'
      end,
      completed_at = case when b.processed_files + counted >= b.total_files then now() else null end
  where b.id = batch.id
  returning b.* into batch;

  return jsonb_build_object(
    'batch', to_jsonb(batch),
    'interrupted_files', failed_now,
    'recovered_files', counted - failed_now);
end
$$;
comment on function public.settle_interrupted_batch(uuid, timestamptz, text) is
  'Settles an upload batch whose process died (unfinished and not updated since p_updated_before): files without an outcome are counted from their documents or as failed with p_message. Returns { batch, interrupted_files, recovered_files }, or null when the batch ended or moved meanwhile.';

revoke all on function tributary_private.batch_metadata_with_entries(jsonb, jsonb) from public, anon;
revoke all on function public.ensure_upload_connector(uuid) from public, anon;
revoke all on function public.record_batch_file(uuid, integer, jsonb, boolean) from public, anon;
revoke all on function public.settle_interrupted_batch(uuid, timestamptz, text) from public, anon, authenticated;
grant execute on function tributary_private.batch_metadata_with_entries(jsonb, jsonb) to authenticated, service_role;
-- Members may call these; row level security decides what they may create or count.
grant execute on function public.ensure_upload_connector(uuid) to authenticated, service_role;
grant execute on function public.record_batch_file(uuid, integer, jsonb, boolean) to authenticated, service_role;
-- Recovery is server work.
grant execute on function public.settle_interrupted_batch(uuid, timestamptz, text) to service_role;
