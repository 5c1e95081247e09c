-- Upgrade-in-place repairs and RPC input guards.
--
-- 1. Rows of an install upgraded in place that break a rule 0003_schema added (as NOT VALID) are
--    repaired: such a row could never be updated again (every new row version is checked), so the
--    sync, the sweep, soft deletes and deleting its connector would fail on it. Each repaired value's
--    original is kept in tributary_private.quarantined_values, the constraints are validated, and a
--    WARNING (printed by `tributary migrate`) says how many values were repaired.
-- 2. The RPCs that take a connector id refuse a null one (22004) and an unknown one (P0002) instead
--    of returning 0 / no rows; start_connector_sync refuses a worker id over 200 characters (22023)
--    instead of truncating it; a value that breaks a table's size or range rule is refused with
--    22023 (the documented "invalid value" code) naming the rule, not a bare 23514.

create table if not exists tributary_private.quarantined_values (
  id bigint generated always as identity primary key,
  table_name text not null,
  row_id uuid not null,
  column_name text not null,
  -- The value as text (null when it was null); it broke `rule`, and `action` is what replaced it.
  original_value text,
  rule text not null,
  action text not null,
  recorded_at timestamptz not null default now()
);
create index if not exists quarantined_values_row_idx on tributary_private.quarantined_values (table_name, row_id);
comment on table tributary_private.quarantined_values is
  'Tributary: original values that broke a constraint on a table upgraded in place, and what 0012_input_guards did with them.';
alter table tributary_private.quarantined_values enable row level security;
revoke all on tributary_private.quarantined_values from public, anon, authenticated;
grant select, delete on tributary_private.quarantined_values to service_role;
drop policy if exists quarantined_values_service_role on tributary_private.quarantined_values;
create policy quarantined_values_service_role on tributary_private.quarantined_values
  for all to service_role using (true) with check (true);

-- A rule is broken when its CHECK expression is false (null passes a CHECK, so `is false`).
do $repair$
declare
  document_values integer;
  document_rows integer;
  connector_values integer;
  connector_rows integer;
  invalid record;
  still_invalid text[] := '{}';
begin
  with found as (
    insert into tributary_private.quarantined_values (table_name, row_id, column_name, original_value, rule, action)
    select 'public.imported_documents', d.id, v.column_name, v.original, v.rule, v.action
    from public.imported_documents d
    cross join lateral (values
      ('external_id', d.external_id, 'imported_documents_text_size_check', 'replaced by quarantined:<id>; document soft-deleted', (char_length(d.external_id) between 1 and 1024) is false),
      ('parent_external_id', d.parent_external_id, 'imported_documents_text_size_check', 'set to null', (char_length(d.parent_external_id) <= 1024) is false),
      ('title', d.title, 'imported_documents_text_size_check', 'shortened to 1000 characters', (char_length(d.title) <= 1000) is false),
      ('mime_type', d.mime_type, 'imported_documents_text_size_check', 'set to null', (char_length(d.mime_type) <= 255) is false),
      ('external_url', d.external_url, 'imported_documents_text_size_check', 'set to null', (char_length(d.external_url) <= 4096) is false),
      ('source_version', d.source_version, 'imported_documents_text_size_check', 'set to null (the next sync downloads the document again)', (char_length(d.source_version) <= 512) is false),
      ('storage_path', d.storage_path, 'imported_documents_text_size_check', 'set to null', (char_length(d.storage_path) <= 1024) is false),
      ('processing_error', d.processing_error, 'imported_documents_text_size_check', 'shortened to 4000 characters', (char_length(d.processing_error) <= 4000) is false),
      ('content', d.content, 'imported_documents_content_size_check', 'set to null with content_hash (the next sync extracts it again)', (octet_length(d.content) <= 104857600) is false),
      ('content_hash', d.content_hash, 'imported_documents_content_hash_check', 'set to null (the next sync re-chunks and re-embeds)', (d.content_hash ~ '^[0-9a-f]{64}$') is false),
      ('file_size_bytes', d.file_size_bytes::text, 'imported_documents_counts_check', 'set to null (size unknown)', (d.file_size_bytes >= 0) is false),
      ('chunk_count', d.chunk_count::text, 'imported_documents_counts_check', 'set to 0', (d.chunk_count >= 0) is false),
      ('sync_count', d.sync_count::text, 'imported_documents_counts_check', 'set to 0', (d.sync_count >= 0) is false),
      ('source_metadata', d.source_metadata::text, 'imported_documents_json_check', 'replaced by {}', (jsonb_typeof(d.source_metadata) = 'object' and pg_column_size(d.source_metadata) <= 262144) is false),
      ('metadata', d.metadata::text, 'imported_documents_json_check', 'replaced by {}', (jsonb_typeof(d.metadata) = 'object' and pg_column_size(d.metadata) <= 65536) is false),
      ('processing_status', d.processing_status, 'imported_documents_processing_status_check', 'set to pending', (d.processing_status in ('pending', 'processing', 'completed', 'failed')) is false)
    ) as v (column_name, original, rule, action, broken)
    where v.broken
    returning row_id
  ),
  repaired as (
    update public.imported_documents d set
      external_id = case when (char_length(d.external_id) between 1 and 1024) is false then 'quarantined:' || d.id else d.external_id end,
      is_deleted = d.is_deleted or (char_length(d.external_id) between 1 and 1024) is false,
      deleted_at = case when d.is_deleted or (char_length(d.external_id) between 1 and 1024) is false
        then coalesce(d.deleted_at, now()) else d.deleted_at end,
      parent_external_id = case when (char_length(d.parent_external_id) <= 1024) is false then null else d.parent_external_id end,
      title = case when (char_length(d.title) <= 1000) is false then left(d.title, 999) || '…' else d.title end,
      mime_type = case when (char_length(d.mime_type) <= 255) is false then null else d.mime_type end,
      external_url = case when (char_length(d.external_url) <= 4096) is false then null else d.external_url end,
      source_version = case when (char_length(d.source_version) <= 512) is false then null else d.source_version end,
      storage_path = case when (char_length(d.storage_path) <= 1024) is false then null else d.storage_path end,
      processing_error = case when (char_length(d.processing_error) <= 4000) is false then left(d.processing_error, 4000) else d.processing_error end,
      content = case when (octet_length(d.content) <= 104857600) is false then null else d.content end,
      content_hash = case when (octet_length(d.content) <= 104857600) is false or (d.content_hash ~ '^[0-9a-f]{64}$') is false then null else d.content_hash end,
      file_size_bytes = case when d.file_size_bytes < 0 then null else d.file_size_bytes end,
      chunk_count = greatest(d.chunk_count, 0),
      sync_count = greatest(d.sync_count, 0),
      source_metadata = case when (jsonb_typeof(d.source_metadata) = 'object' and pg_column_size(d.source_metadata) <= 262144) is false then '{}'::jsonb else d.source_metadata end,
      metadata = case when (jsonb_typeof(d.metadata) = 'object' and pg_column_size(d.metadata) <= 65536) is false then '{}'::jsonb else d.metadata end,
      processing_status = case when (d.processing_status in ('pending', 'processing', 'completed', 'failed')) is false then 'pending' else d.processing_status end
    where d.id in (select row_id from found)
    returning 1
  )
  select (select count(*) from found), (select count(*) from repaired) into document_values, document_rows;

  with found as (
    insert into tributary_private.quarantined_values (table_name, row_id, column_name, original_value, rule, action)
    select 'public.connector_configs', c.id, v.column_name, v.original, v.rule, v.action
    from public.connector_configs c
    cross join lateral (values
      ('connector_type', c.connector_type, 'connector_configs_connector_type_check', 'lower-cased, other characters replaced by _', (c.connector_type ~ '^[a-z][a-z0-9_]{0,62}$') is false),
      ('name', c.name, 'connector_configs_name_check', 'shortened to 200 characters (an empty name became the type)', (char_length(c.name) between 1 and 200) is false),
      ('description', c.description, 'connector_configs_description_check', 'shortened to 2000 characters', (char_length(c.description) <= 2000) is false),
      ('sync_frequency', c.sync_frequency, 'connector_configs_sync_frequency_check', 'set to manual (no scheduled sync until you choose one)', (c.sync_frequency in ('manual', 'hourly', 'daily', 'weekly')) is false),
      ('last_sync_status', c.last_sync_status, 'connector_configs_last_sync_status_check', 'set to null', (c.last_sync_status in ('running', 'success', 'partial', 'failed', 'cancelled')) is false),
      ('webhook_url', c.webhook_url, 'connector_configs_webhook_url_check', 'set to null and webhook_active to false', (char_length(c.webhook_url) <= 2048 and c.webhook_url ~ '^https?://') is false),
      ('error_count', c.error_count::text, 'connector_configs_error_count_check', 'set to 0', (c.error_count >= 0) is false),
      ('last_error', c.last_error, 'connector_configs_last_error_check', 'shortened to 4000 characters', (char_length(c.last_error) <= 4000) is false),
      ('settings', c.settings::text, 'connector_configs_json_check', 'replaced by {}', (jsonb_typeof(c.settings) = 'object' and pg_column_size(c.settings) <= 65536) is false),
      ('filters', c.filters::text, 'connector_configs_json_check', 'replaced by {}', (jsonb_typeof(c.filters) = 'object' and pg_column_size(c.filters) <= 65536) is false),
      ('metadata', c.metadata::text, 'connector_configs_json_check', 'replaced by {}', (jsonb_typeof(c.metadata) = 'object' and pg_column_size(c.metadata) <= 65536) is false),
      ('sync_cursor', c.sync_cursor::text, 'connector_configs_json_check', 'set to null (the next sync starts from the beginning)', (pg_column_size(c.sync_cursor) <= 65536) is false)
    ) as v (column_name, original, rule, action, broken)
    where v.broken
    returning row_id
  ),
  repaired as (
    update public.connector_configs c set
      connector_type = case when (c.connector_type ~ '^[a-z][a-z0-9_]{0,62}$') is false
        then coalesce(nullif(left(regexp_replace(regexp_replace(lower(c.connector_type), '[^a-z0-9_]+', '_', 'g'), '^[^a-z]+', ''), 63), ''), 'unknown')
        else c.connector_type end,
      name = case when char_length(c.name) = 0 then left(c.connector_type, 200)
        when char_length(c.name) > 200 then left(c.name, 199) || '…' else c.name end,
      description = case when (char_length(c.description) <= 2000) is false then left(c.description, 1999) || '…' else c.description end,
      sync_frequency = case when (c.sync_frequency in ('manual', 'hourly', 'daily', 'weekly')) is false then 'manual' else c.sync_frequency end,
      last_sync_status = case when (c.last_sync_status in ('running', 'success', 'partial', 'failed', 'cancelled')) is false then null else c.last_sync_status end,
      webhook_url = case when (char_length(c.webhook_url) <= 2048 and c.webhook_url ~ '^https?://') is false then null else c.webhook_url end,
      webhook_active = c.webhook_active and (char_length(c.webhook_url) <= 2048 and c.webhook_url ~ '^https?://') is not false,
      error_count = greatest(c.error_count, 0),
      last_error = left(c.last_error, 4000),
      settings = case when (jsonb_typeof(c.settings) = 'object' and pg_column_size(c.settings) <= 65536) is false then '{}'::jsonb else c.settings end,
      filters = case when (jsonb_typeof(c.filters) = 'object' and pg_column_size(c.filters) <= 65536) is false then '{}'::jsonb else c.filters end,
      metadata = case when (jsonb_typeof(c.metadata) = 'object' and pg_column_size(c.metadata) <= 65536) is false then '{}'::jsonb else c.metadata end,
      sync_cursor = case when (pg_column_size(c.sync_cursor) <= 65536) is false then null else c.sync_cursor end
    where c.id in (select row_id from found)
    returning 1
  )
  select (select count(*) from found), (select count(*) from repaired) into connector_values, connector_rows;

  -- Every rule 0003 left NOT VALID on the two legacy tables is checked now; what still fails (a rule
  -- this migration does not repair, e.g. a document pointing at another organisation's connector)
  -- stays NOT VALID, recorded in install_facts, and is named in a warning.
  for invalid in
    -- Schema-qualified like ensure_constraint's install_facts keys, whatever the search_path.
    select 'public.' || rel.relname as table_name, con.conname
    from pg_catalog.pg_constraint con
    join pg_catalog.pg_class rel on rel.oid = con.conrelid
    where con.conrelid in ('public.imported_documents'::regclass, 'public.connector_configs'::regclass)
      and not con.convalidated
    order by 1, 2
  loop
    begin
      execute format('alter table %s validate constraint %I', invalid.table_name, invalid.conname);
      delete from tributary_private.install_facts
      where key = 'unvalidated_constraint:' || invalid.table_name || '.' || invalid.conname;
    exception when check_violation or foreign_key_violation then
      still_invalid := still_invalid || (invalid.table_name || '.' || invalid.conname);
    end;
  end loop;

  if document_values + connector_values > 0 then
    raise warning '[tributary] repaired % value(s) in % imported_documents row(s) and % value(s) in % connector_configs row(s) that broke a constraint (e.g. a negative file_size_bytes is now null, an over-long external_id is replaced and the document soft-deleted); the originals are kept in tributary_private.quarantined_values',
      document_values, document_rows, connector_values, connector_rows
      using hint = 'select * from tributary_private.quarantined_values order by id';
  end if;
  if cardinality(still_invalid) > 0 then
    raise warning '[tributary] constraints still NOT VALID after the repair: %; the rows that break them block updates of those rows', array_to_string(still_invalid, ', ')
      using hint = 'Fix the rows, then run: alter table <table> validate constraint <name>';
  end if;
end
$repair$;

-- ---------------------------------------------------------------------------------------------
-- Guards shared by the RPCs.
-- ---------------------------------------------------------------------------------------------
-- The organisation of a connector; 22004 for a null id, P0002 for an unknown (or invisible) one.
create or replace function tributary_private.require_connector(p_connector_id uuid)
returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  connector_org uuid;
begin
  if p_connector_id is null then
    raise exception using errcode = '22004', message = '[tributary] p_connector_id is null',
      hint = 'Pass the id of a connector_configs row.';
  end if;
  select c.org_id into connector_org from public.connector_configs c where c.id = p_connector_id;
  if not found then
    raise exception using errcode = 'P0002', message = format('[tributary] connector %s not found', p_connector_id),
      hint = 'Check the id; a deleted connector, or one of another organisation, is not found either.';
  end if;
  return connector_org;
end
$$;

-- Re-raises a constraint or data error caused by an RPC's input as 22023, naming the rule broken.
create or replace function tributary_private.raise_invalid_value(p_function text, p_sqlstate text, p_message text, p_constraint text)
returns void
language plpgsql
set search_path = ''
as $$
begin
  raise exception using errcode = '22023',
    message = format('[tributary] %s: %s', p_function,
      case when coalesce(p_constraint, '') <> ''
        then format('a value breaks %s (size or range limit)', p_constraint)
        else p_message end),
    detail = format('SQLSTATE %s: %s', p_sqlstate, left(p_message, 500)),
    hint = 'Limits: titles 1,000 characters, errors 4,000, external ids 1,024, JSON metadata 64 KB, '
      || 'webhook payloads 1 MB, document text 100 MB, counts and sizes >= 0 (see the @tributary/sql README).';
end
$$;

revoke all on function tributary_private.require_connector(uuid) from public, anon, authenticated;
revoke all on function tributary_private.raise_invalid_value(text, text, text, text) from public, anon, authenticated;
grant execute on function tributary_private.require_connector(uuid) to service_role;
grant execute on function tributary_private.raise_invalid_value(text, text, text, text) to service_role;

-- ---------------------------------------------------------------------------------------------
-- The RPCs, as in 0004_functions / 0008_resumable_listing plus the guards above. Inner blocks
-- (`begin ... exception`) turn a broken table rule into 22023; the guards before them run first, so
-- 22004 / P0002 / 55000 keep their meaning.
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
  -- Refused, not truncated: two workers whose ids share a 200-character prefix would look like one.
  if char_length(p_worker_id) > 200 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_worker_id is %s characters long; at most 200 are allowed', char_length(p_worker_id));
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
  values (connector.org_id, p_connector_id, p_sync_type, p_sync_mode, 'running', p_worker_id, new_expiry, now(), listing_start)
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
  failed_state text;
  failed_message text;
  failed_constraint text;
begin
  if p_lease_seconds is null or p_lease_seconds < 5 or p_lease_seconds > 86400 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_lease_seconds must be between 5 and 86400, got %s', coalesce(p_lease_seconds::text, 'null'));
  end if;
  perform tributary_private.lock_running_sync(p_sync_log_id);
  new_expiry := now() + make_interval(secs => p_lease_seconds);
  begin
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
  exception when check_violation or data_exception then
    get stacked diagnostics failed_state = returned_sqlstate, failed_message = message_text, failed_constraint = constraint_name;
    perform tributary_private.raise_invalid_value('heartbeat_connector_sync', failed_state, failed_message, failed_constraint);
  end;
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
  failed_state text;
  failed_message text;
  failed_constraint text;
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

  begin
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
  exception when check_violation or data_exception then
    get stacked diagnostics failed_state = returned_sqlstate, failed_message = message_text, failed_constraint = constraint_name;
    perform tributary_private.raise_invalid_value('finish_connector_sync', failed_state, failed_message, failed_constraint);
  end;
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
  failed_state text;
  failed_message text;
  failed_constraint text;
begin
  if p_event_source is null or p_event_id is null or p_event_type is null or p_payload is null then
    raise exception using errcode = '22004',
      message = '[tributary] p_event_source, p_event_id, p_event_type and p_payload are required';
  end if;
  connector_org := tributary_private.require_connector(p_connector_id);
  begin
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
  exception when check_violation or data_exception then
    get stacked diagnostics failed_state = returned_sqlstate, failed_message = message_text, failed_constraint = constraint_name;
    perform tributary_private.raise_invalid_value('record_webhook_event', failed_state, failed_message, failed_constraint);
  end;
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
  failed_state text;
  failed_message text;
  failed_constraint text;
begin
  if p_documents is null or jsonb_typeof(p_documents) <> 'array' then
    raise exception using errcode = '22023', message = '[tributary] p_documents must be a JSON array of documents';
  end if;
  item_count := jsonb_array_length(p_documents);
  if item_count > 1000 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_documents holds %s documents; send at most 1000 per call', item_count);
  end if;
  connector_org := tributary_private.require_connector(p_connector_id);
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

  begin
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
  exception when check_violation or data_exception then
    get stacked diagnostics failed_state = returned_sqlstate, failed_message = message_text, failed_constraint = constraint_name;
    perform tributary_private.raise_invalid_value('upsert_documents', failed_state, failed_message, failed_constraint);
  end;
end
$$;

create or replace function public.mark_documents_seen(p_connector_id uuid, p_external_ids text[])
returns integer
language plpgsql
set search_path = ''
as $$
declare
  connector_org uuid := tributary_private.require_connector(p_connector_id);
  touched integer;
begin
  update public.imported_documents d
  set last_seen_at = now(), last_synced_at = now(), sync_count = d.sync_count + 1
  where d.org_id = connector_org and d.connector_id = p_connector_id
    and d.external_id = any (p_external_ids) and not d.is_deleted;
  get diagnostics touched = row_count;
  return touched;
end
$$;

create or replace function public.soft_delete_documents(p_connector_id uuid, p_external_ids text[])
returns integer
language plpgsql
set search_path = ''
as $$
declare
  connector_org uuid := tributary_private.require_connector(p_connector_id);
  deleted integer;
begin
  update public.imported_documents d
  set is_deleted = true, deleted_at = now()
  where d.org_id = connector_org and d.connector_id = p_connector_id
    and d.external_id = any (p_external_ids) and not d.is_deleted;
  get diagnostics deleted = row_count;
  return deleted;
end
$$;
