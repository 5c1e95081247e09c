-- The Tributary tables. Written to work both on a fresh database and on one that already has the
-- older `connector_configs` / `imported_documents` tables (the in-house version the seed audits
-- describe): every table is created if missing, every column added if missing, legacy data is
-- carried over, and no row is dropped.

-- Remember whether this is an in-place upgrade: rolling back then would drop host data, so the
-- down script refuses (see 0003_schema.down.sql).
insert into tributary_private.install_facts (key, value)
select 'upgraded_in_place', jsonb_build_object(
  'connector_configs', to_regclass('public.connector_configs') is not null,
  'imported_documents', to_regclass('public.imported_documents') is not null)
where to_regclass('public.connector_configs') is not null or to_regclass('public.imported_documents') is not null
on conflict (key) do nothing;

-- The backfills below must not look like edits: host triggers on the legacy tables (typically one
-- that sets updated_at = now()) are paused for this migration and restored at its end.
create temporary table tributary_paused_triggers on commit drop as
select t.tgrelid::regclass::text as table_name, t.tgname::text as trigger_name, t.tgenabled::text as mode
from pg_catalog.pg_trigger t
where t.tgrelid in (
    select legacy.r from (values (to_regclass('public.connector_configs')), (to_regclass('public.imported_documents'))) as legacy (r)
    where legacy.r is not null)
  and not t.tgisinternal and t.tgenabled <> 'D';
do $legacy$
declare
  paused record;
begin
  for paused in select * from pg_temp.tributary_paused_triggers loop
    execute format('alter table %s disable trigger %I', paused.table_name, paused.trigger_name);
  end loop;
end
$legacy$;

-- ---------------------------------------------------------------------------------------------
-- connector_configs: one configured source of an organisation (a Drive, a Notion workspace, ...).
-- Credentials and webhook secrets are NOT here: they live in tributary_private.connector_secrets,
-- which no client role can read.
-- ---------------------------------------------------------------------------------------------
create table if not exists public.connector_configs (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null
);
alter table public.connector_configs
  add column if not exists connector_type text,
  add column if not exists name text,
  add column if not exists description text,
  add column if not exists settings jsonb not null default '{}'::jsonb,
  add column if not exists filters jsonb not null default '{}'::jsonb,
  add column if not exists metadata jsonb not null default '{}'::jsonb,
  add column if not exists is_active boolean not null default true,
  add column if not exists sync_frequency text not null default 'manual',
  add column if not exists next_sync_at timestamptz,
  add column if not exists last_sync_at timestamptz,
  add column if not exists last_sync_status text,
  add column if not exists sync_cursor jsonb,
  add column if not exists credentials_updated_at timestamptz,
  add column if not exists webhook_url text,
  add column if not exists webhook_active boolean not null default false,
  add column if not exists error_count integer not null default 0,
  add column if not exists last_error text,
  add column if not exists last_error_at timestamptz,
  add column if not exists created_by uuid,
  add column if not exists created_at timestamptz not null default now(),
  add column if not exists updated_at timestamptz not null default now();

-- Legacy columns: sync_status/sync_error become last_sync_status/last_error; a NULL name gets the type.
do $legacy$
begin
  if exists (select from information_schema.columns
             where table_schema = 'public' and table_name = 'connector_configs' and column_name = 'sync_status') then
    update public.connector_configs
    set last_sync_status = case lower(sync_status)
        when 'syncing' then 'failed'   -- a run interrupted by the upgrade did not finish
        when 'running' then 'failed'
        when 'error' then 'failed'
        when 'failed' then 'failed'
        when 'partial' then 'partial'
        when 'success' then 'success'
        when 'completed' then 'success'
        when 'synced' then 'success'
        else null
      end
    where last_sync_status is null and sync_status is not null;
  end if;
  if exists (select from information_schema.columns
             where table_schema = 'public' and table_name = 'connector_configs' and column_name = 'sync_error') then
    update public.connector_configs
    set last_error = left(sync_error, 4000), last_error_at = coalesce(last_error_at, updated_at, now())
    where last_error is null and sync_error is not null;
  end if;
end
$legacy$;
update public.connector_configs set name = left(coalesce(connector_type, 'connector'), 200) where name is null;
update public.connector_configs set connector_type = 'unknown' where connector_type is null;
alter table public.connector_configs
  alter column connector_type set not null,
  alter column name set not null,
  alter column org_id set not null;

select tributary_private.ensure_constraint('public.connector_configs', 'connector_configs_connector_type_check',
  $$check (connector_type ~ '^[a-z][a-z0-9_]{0,62}$')$$);
select tributary_private.ensure_constraint('public.connector_configs', 'connector_configs_name_check',
  $$check (char_length(name) between 1 and 200)$$);
select tributary_private.ensure_constraint('public.connector_configs', 'connector_configs_description_check',
  $$check (char_length(description) <= 2000)$$);
select tributary_private.ensure_constraint('public.connector_configs', 'connector_configs_sync_frequency_check',
  $$check (sync_frequency in ('manual', 'hourly', 'daily', 'weekly'))$$);
select tributary_private.ensure_constraint('public.connector_configs', 'connector_configs_last_sync_status_check',
  $$check (last_sync_status in ('running', 'success', 'partial', 'failed', 'cancelled'))$$);
select tributary_private.ensure_constraint('public.connector_configs', 'connector_configs_webhook_url_check',
  $$check (char_length(webhook_url) <= 2048 and webhook_url ~ '^https?://')$$);
select tributary_private.ensure_constraint('public.connector_configs', 'connector_configs_error_count_check',
  $$check (error_count >= 0)$$);
select tributary_private.ensure_constraint('public.connector_configs', 'connector_configs_last_error_check',
  $$check (char_length(last_error) <= 4000)$$);
select tributary_private.ensure_constraint('public.connector_configs', 'connector_configs_json_check',
  $$check (jsonb_typeof(settings) = 'object' and jsonb_typeof(filters) = 'object' and jsonb_typeof(metadata) = 'object'
     and pg_column_size(settings) <= 65536 and pg_column_size(filters) <= 65536 and pg_column_size(metadata) <= 65536
     and (sync_cursor is null or pg_column_size(sync_cursor) <= 65536))$$);

-- (org_id, id) is unique so child tables can reference both: a row can never point at another
-- organisation's connector.
create unique index if not exists connector_configs_org_id_id_key on public.connector_configs (org_id, id);
create index if not exists connector_configs_org_id_created_at_idx on public.connector_configs (org_id, created_at desc);
-- The scheduler's queue: active connectors with a schedule, by due time.
create index if not exists connector_configs_due_idx on public.connector_configs (next_sync_at)
  where is_active and sync_frequency <> 'manual';

-- ---------------------------------------------------------------------------------------------
-- Secrets: readable by the service role only (never by anon/authenticated, not even admins).
-- `credentials` holds what the SDK gives it (the SDK encrypts it with a key the database never sees
-- when one is configured).
-- ---------------------------------------------------------------------------------------------
create table if not exists tributary_private.connector_secrets (
  connector_id uuid primary key references public.connector_configs (id) on delete cascade,
  credentials jsonb,
  webhook_secret text,
  updated_at timestamptz not null default now(),
  constraint connector_secrets_size_check check (pg_column_size(credentials) <= 65536 and char_length(webhook_secret) <= 1024)
);

-- Legacy: connector_configs.credentials (and webhook_secret) move into the private table, then the
-- readable columns are dropped. Nothing is lost: the values are copied first.
do $legacy$
declare
  has_credentials boolean := exists (select from information_schema.columns
    where table_schema = 'public' and table_name = 'connector_configs' and column_name = 'credentials');
  has_webhook_secret boolean := exists (select from information_schema.columns
    where table_schema = 'public' and table_name = 'connector_configs' and column_name = 'webhook_secret');
begin
  if has_credentials or has_webhook_secret then
    execute format(
      'insert into tributary_private.connector_secrets (connector_id, credentials, webhook_secret)
       select id, %s, %s from public.connector_configs
       where %s
       on conflict (connector_id) do nothing',
      case when has_credentials then 'to_jsonb(credentials)' else 'null::jsonb' end,
      case when has_webhook_secret then 'webhook_secret::text' else 'null::text' end,
      concat_ws(' or ',
        case when has_credentials then 'credentials is not null' end,
        case when has_webhook_secret then 'webhook_secret is not null' end));
    update public.connector_configs c set credentials_updated_at = coalesce(c.credentials_updated_at, c.updated_at, now())
    where exists (select from tributary_private.connector_secrets s where s.connector_id = c.id);
    if has_credentials then
      alter table public.connector_configs drop column credentials;
    end if;
    if has_webhook_secret then
      alter table public.connector_configs drop column webhook_secret;
    end if;
  end if;
end
$legacy$;

drop trigger if exists connector_configs_set_updated_at on public.connector_configs;
create trigger connector_configs_set_updated_at before update on public.connector_configs
  for each row execute function tributary_private.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- imported_documents: one source document (a file, a page, a transcript).
-- ---------------------------------------------------------------------------------------------
create table if not exists public.imported_documents (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  connector_id uuid,
  external_id text not null
);
alter table public.imported_documents
  add column if not exists parent_external_id text,
  add column if not exists title text,
  add column if not exists mime_type text,
  add column if not exists external_url text,
  add column if not exists source_version text,
  add column if not exists source_modified_at timestamptz,
  add column if not exists content text,
  add column if not exists content_hash text,
  add column if not exists file_size_bytes bigint,
  add column if not exists storage_path text,
  add column if not exists processing_status text default 'pending',
  add column if not exists processing_error text,
  add column if not exists chunks_generated boolean not null default false,
  add column if not exists embeddings_generated boolean not null default false,
  add column if not exists chunk_count integer not null default 0,
  add column if not exists source_metadata jsonb not null default '{}'::jsonb,
  add column if not exists metadata jsonb not null default '{}'::jsonb,
  add column if not exists uploaded_by uuid,
  add column if not exists first_synced_at timestamptz,
  add column if not exists last_synced_at timestamptz,
  add column if not exists last_seen_at timestamptz,
  add column if not exists sync_count integer not null default 1,
  add column if not exists is_deleted boolean not null default false,
  add column if not exists deleted_at timestamptz,
  add column if not exists created_at timestamptz not null default now(),
  add column if not exists updated_at timestamptz not null default now();

-- Legacy: sync_status/sync_error carry into processing_status/processing_error, uploadedBy in
-- metadata becomes uploaded_by, first_synced_at comes from created_at.
do $legacy$
begin
  if exists (select from information_schema.columns
             where table_schema = 'public' and table_name = 'imported_documents' and column_name = 'sync_status') then
    update public.imported_documents
    set processing_status = case lower(sync_status)
        when 'pending' then 'pending'
        when 'queued' then 'pending'
        when 'processing' then 'processing'
        when 'syncing' then 'processing'
        when 'completed' then 'completed'
        when 'complete' then 'completed'
        when 'synced' then 'completed'
        when 'success' then 'completed'
        when 'failed' then 'failed'
        when 'error' then 'failed'
        else 'pending'
      end;
  end if;
  if exists (select from information_schema.columns
             where table_schema = 'public' and table_name = 'imported_documents' and column_name = 'sync_error') then
    update public.imported_documents set processing_error = left(sync_error, 4000)
    where processing_error is null and sync_error is not null;
  end if;
end
$legacy$;
update public.imported_documents
set uploaded_by = (metadata ->> 'uploadedBy')::uuid
where uploaded_by is null
  and metadata ->> 'uploadedBy' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
update public.imported_documents set processing_status = 'pending' where processing_status is null;
update public.imported_documents set first_synced_at = coalesce(created_at, last_synced_at, now()) where first_synced_at is null;
update public.imported_documents set last_seen_at = coalesce(last_synced_at, created_at, now()) where last_seen_at is null;
alter table public.imported_documents
  alter column processing_status set default 'pending',
  alter column processing_status set not null,
  alter column first_synced_at set default now(),
  alter column first_synced_at set not null,
  alter column last_seen_at set default now(),
  alter column last_seen_at set not null,
  alter column org_id set not null,
  alter column external_id set not null;

select tributary_private.ensure_constraint('public.imported_documents', 'imported_documents_processing_status_check',
  $$check (processing_status in ('pending', 'processing', 'completed', 'failed'))$$);
-- A legacy row that broke a CHECK would be kept but could never be updated again (every new row
-- version is checked), which would also block soft-deleting it. Over-long titles are therefore
-- shortened, and the original is kept in install_facts.
insert into tributary_private.install_facts (key, value)
select 'clamped_title:' || d.id, jsonb_build_object('table', 'public.imported_documents', 'id', d.id, 'title', d.title)
from public.imported_documents d where char_length(d.title) > 1000
on conflict (key) do nothing;
update public.imported_documents set title = left(title, 999) || '…' where char_length(title) > 1000;
select tributary_private.ensure_constraint('public.imported_documents', 'imported_documents_text_size_check',
  $$check (char_length(external_id) between 1 and 1024
     and char_length(parent_external_id) <= 1024
     and char_length(title) <= 1000
     and char_length(mime_type) <= 255
     and char_length(external_url) <= 4096
     and char_length(source_version) <= 512
     and char_length(storage_path) <= 1024
     and char_length(processing_error) <= 4000)$$);
select tributary_private.ensure_constraint('public.imported_documents', 'imported_documents_content_size_check',
  $$check (octet_length(content) <= 104857600)$$);
select tributary_private.ensure_constraint('public.imported_documents', 'imported_documents_content_hash_check',
  $$check (content_hash ~ '^[0-9a-f]{64}$')$$);
select tributary_private.ensure_constraint('public.imported_documents', 'imported_documents_counts_check',
  $$check (file_size_bytes >= 0 and chunk_count >= 0 and sync_count >= 0)$$);
select tributary_private.ensure_constraint('public.imported_documents', 'imported_documents_json_check',
  $$check (jsonb_typeof(source_metadata) = 'object' and jsonb_typeof(metadata) = 'object'
     and pg_column_size(source_metadata) <= 262144 and pg_column_size(metadata) <= 65536)$$);
select tributary_private.ensure_constraint('public.imported_documents', 'imported_documents_deleted_check',
  $$check (not is_deleted or deleted_at is not null)$$);
update public.imported_documents set deleted_at = coalesce(updated_at, now()) where is_deleted and deleted_at is null;

-- Identity (dedup layer 1): one row per (org, connector, external id).
create unique index if not exists imported_documents_identity_key
  on public.imported_documents (org_id, connector_id, external_id);
create unique index if not exists imported_documents_org_id_id_key on public.imported_documents (org_id, id);

-- Older installs point connector_id at connector_configs(id) with NO ACTION, which would block
-- deleting a connector; the composite key below replaces it.
do $legacy$
declare
  legacy record;
begin
  for legacy in
    select c.conname from pg_catalog.pg_constraint c
    where c.conrelid = 'public.imported_documents'::regclass and c.contype = 'f'
      and c.confrelid = 'public.connector_configs'::regclass
      and c.conname <> 'imported_documents_connector_fkey'
  loop
    execute format('alter table public.imported_documents drop constraint %I', legacy.conname);
  end loop;
end
$legacy$;
-- Deleting a connector keeps its documents as soft-deleted rows (see the trigger below) and clears
-- only connector_id; the retention job purges them later.
select tributary_private.ensure_constraint('public.imported_documents', 'imported_documents_connector_fkey',
  'foreign key (org_id, connector_id) references public.connector_configs (org_id, id) on delete set null (connector_id)');

-- Queues and lookups the pipeline uses.
create index if not exists imported_documents_pending_idx on public.imported_documents (created_at)
  where processing_status = 'pending' and not is_deleted;
create index if not exists imported_documents_content_hash_idx on public.imported_documents (org_id, content_hash)
  where content_hash is not null and not is_deleted;
create index if not exists imported_documents_retention_idx on public.imported_documents (deleted_at)
  where is_deleted;
-- "Latest documents of my organisation", the list every UI shows.
create index if not exists imported_documents_org_created_idx on public.imported_documents (org_id, created_at desc);
create index if not exists imported_documents_uploaded_by_idx on public.imported_documents (org_id, uploaded_by)
  where uploaded_by is not null;

drop trigger if exists imported_documents_set_updated_at on public.imported_documents;
create trigger imported_documents_set_updated_at before update on public.imported_documents
  for each row execute function tributary_private.set_updated_at();

-- Deleting a connector soft-deletes its documents first (they leave search at once). Security
-- definer: an admin deleting a connector has no UPDATE right on documents, and must not need one.
create or replace function tributary_private.soft_delete_connector_documents()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  update public.imported_documents
  set is_deleted = true, deleted_at = now()
  where org_id = old.org_id and connector_id = old.id and not is_deleted;
  return old;
end
$$;
revoke all on function tributary_private.soft_delete_connector_documents() from public, anon, authenticated;
drop trigger if exists connector_configs_soft_delete_documents on public.connector_configs;
create trigger connector_configs_soft_delete_documents before delete on public.connector_configs
  for each row execute function tributary_private.soft_delete_connector_documents();

-- ---------------------------------------------------------------------------------------------
-- document_chunks: the searchable pieces of a document. Full-text here; the embedding column and
-- its HNSW index arrive with pgvector in 0007_vector_search.sql.
-- ---------------------------------------------------------------------------------------------
create table if not exists public.document_chunks (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  document_id uuid not null,
  chunk_index integer not null,
  context text,
  content text not null,
  content_hash text not null,
  token_count integer,
  metadata jsonb not null default '{}'::jsonb,
  fts tsvector generated always as (
    setweight(to_tsvector('english'::regconfig, coalesce(context, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, content), 'B')
  ) stored,
  created_at timestamptz not null default now(),
  constraint document_chunks_document_fkey foreign key (org_id, document_id)
    references public.imported_documents (org_id, id) on delete cascade,
  constraint document_chunks_chunk_index_check check (chunk_index >= 0),
  constraint document_chunks_size_check check (
    char_length(content) between 1 and 32768 and char_length(context) <= 2048
    and token_count >= 0 and pg_column_size(metadata) <= 16384),
  constraint document_chunks_content_hash_check check (content_hash ~ '^[0-9a-f]{64}$')
);
create unique index if not exists document_chunks_position_key on public.document_chunks (org_id, document_id, chunk_index);
create index if not exists document_chunks_fts_idx on public.document_chunks using gin (fts);

-- ---------------------------------------------------------------------------------------------
-- connector_sync_logs: one row per sync run, also the run's lease (one running run per connector).
-- ---------------------------------------------------------------------------------------------
create table if not exists public.connector_sync_logs (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  connector_id uuid,
  sync_type text not null default 'manual',
  sync_mode text not null default 'full',
  status text not null default 'running',
  started_at timestamptz not null default now(),
  completed_at timestamptz,
  duration_ms integer,
  documents_synced integer not null default 0,
  documents_updated integer not null default 0,
  documents_skipped integer not null default 0,
  documents_failed integer not null default 0,
  documents_deleted integer not null default 0,
  api_calls_made integer not null default 0,
  bytes_transferred bigint not null default 0,
  error_message text,
  error_details jsonb,
  metadata jsonb not null default '{}'::jsonb,
  worker_id text,
  lease_expires_at timestamptz,
  heartbeat_at timestamptz,
  -- History outlives the connector: deleting one keeps its runs with connector_id cleared.
  constraint connector_sync_logs_connector_fkey foreign key (org_id, connector_id)
    references public.connector_configs (org_id, id) on delete set null (connector_id),
  constraint connector_sync_logs_sync_type_check check (sync_type in ('manual', 'scheduled', 'webhook', 'initial')),
  constraint connector_sync_logs_sync_mode_check check (sync_mode in ('full', 'incremental')),
  constraint connector_sync_logs_status_check check (status in ('running', 'success', 'partial', 'failed', 'cancelled')),
  constraint connector_sync_logs_counts_check check (
    documents_synced >= 0 and documents_updated >= 0 and documents_skipped >= 0 and documents_failed >= 0
    and documents_deleted >= 0 and api_calls_made >= 0 and bytes_transferred >= 0 and duration_ms >= 0),
  constraint connector_sync_logs_running_check check ((status = 'running') = (completed_at is null)),
  constraint connector_sync_logs_size_check check (
    char_length(error_message) <= 4000 and pg_column_size(error_details) <= 65536
    and pg_column_size(metadata) <= 65536 and char_length(worker_id) <= 200),
  constraint connector_sync_logs_metadata_check check (jsonb_typeof(metadata) = 'object')
);
create index if not exists connector_sync_logs_connector_idx on public.connector_sync_logs (org_id, connector_id, started_at desc);
create index if not exists connector_sync_logs_org_idx on public.connector_sync_logs (org_id, started_at desc);
-- At most one running sync per connector, enforced by the database.
create unique index if not exists connector_sync_logs_one_running_key on public.connector_sync_logs (connector_id)
  where status = 'running';
create index if not exists connector_sync_logs_problems_idx on public.connector_sync_logs (started_at desc)
  where status in ('failed', 'partial');

-- ---------------------------------------------------------------------------------------------
-- connector_webhook_events: every delivery recorded once per (event_source, event_id).
-- ---------------------------------------------------------------------------------------------
create table if not exists public.connector_webhook_events (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  connector_id uuid not null,
  event_type text not null,
  event_source text not null,
  event_id text not null,
  payload jsonb not null,
  headers jsonb,
  processed boolean not null default false,
  processed_at timestamptz,
  processing_error text,
  retry_count integer not null default 0,
  received_at timestamptz not null default now(),
  -- Once per connector: provider event ids are unique per subscription/channel, not across every
  -- tenant, and one organisation's delivery must never shadow another's.
  constraint connector_webhook_events_source_event_key unique (connector_id, event_source, event_id),
  constraint connector_webhook_events_connector_fkey foreign key (org_id, connector_id)
    references public.connector_configs (org_id, id) on delete cascade,
  constraint connector_webhook_events_event_source_check check (event_source ~ '^[a-z][a-z0-9_]{0,62}$'),
  constraint connector_webhook_events_size_check check (
    char_length(event_type) between 1 and 200 and char_length(event_id) between 1 and 512
    and pg_column_size(payload) <= 1048576 and pg_column_size(headers) <= 65536
    and char_length(processing_error) <= 4000),
  constraint connector_webhook_events_retry_count_check check (retry_count between 0 and 1000),
  constraint connector_webhook_events_processed_check check (not processed or processed_at is not null)
);
create index if not exists connector_webhook_events_connector_idx on public.connector_webhook_events (org_id, connector_id);
create index if not exists connector_webhook_events_org_idx on public.connector_webhook_events (org_id, received_at desc);
create index if not exists connector_webhook_events_unprocessed_idx on public.connector_webhook_events (received_at)
  where not processed;

-- ---------------------------------------------------------------------------------------------
-- file_upload_batches: progress of a batch of uploaded files.
-- processed_files counts every file accounted for (succeeded or failed); failed_files is a subset.
-- ---------------------------------------------------------------------------------------------
create table if not exists public.file_upload_batches (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  user_id uuid,
  connector_id uuid,
  batch_name text,
  total_files integer not null,
  processed_files integer not null default 0,
  failed_files integer not null default 0,
  status text not null default 'uploading',
  progress_percent numeric(5, 2) not null default 0,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  constraint file_upload_batches_connector_fkey foreign key (org_id, connector_id)
    references public.connector_configs (org_id, id) on delete set null (connector_id),
  constraint file_upload_batches_status_check check (
    status in ('uploading', 'processing', 'completed', 'completed_with_errors', 'failed', 'cancelled')),
  constraint file_upload_batches_counts_check check (
    total_files between 1 and 100000 and processed_files between 0 and total_files
    and failed_files between 0 and processed_files),
  constraint file_upload_batches_progress_check check (progress_percent between 0 and 100),
  constraint file_upload_batches_completed_check check (
    (status in ('completed', 'completed_with_errors', 'failed', 'cancelled')) = (completed_at is not null)),
  constraint file_upload_batches_size_check check (char_length(batch_name) <= 500 and pg_column_size(metadata) <= 65536)
);
create index if not exists file_upload_batches_org_idx on public.file_upload_batches (org_id, created_at desc);
create index if not exists file_upload_batches_connector_idx on public.file_upload_batches (org_id, connector_id);
create index if not exists file_upload_batches_active_idx on public.file_upload_batches (status)
  where status in ('uploading', 'processing');

drop trigger if exists file_upload_batches_set_updated_at on public.file_upload_batches;
create trigger file_upload_batches_set_updated_at before update on public.file_upload_batches
  for each row execute function tributary_private.set_updated_at();

comment on table public.connector_configs is 'Tributary: configured sources per organisation (secrets live in tributary_private.connector_secrets).';
comment on table public.imported_documents is 'Tributary: one row per source document; soft-deleted rows leave search at once.';
comment on table public.document_chunks is 'Tributary: searchable chunks with full-text (and, with pgvector, embeddings).';
comment on table public.connector_sync_logs is 'Tributary: one row per sync run; a running row is the run''s lease.';
comment on table public.connector_webhook_events is 'Tributary: webhook deliveries, recorded once per (event_source, event_id).';
comment on table public.file_upload_batches is 'Tributary: progress of batch uploads.';

-- Host triggers paused at the top of this migration are restored as they were.
do $legacy$
declare
  paused record;
begin
  for paused in select * from pg_temp.tributary_paused_triggers loop
    execute format('alter table %s enable %s trigger %I', paused.table_name,
      case paused.mode when 'A' then 'always' when 'R' then 'replica' else '' end, paused.trigger_name);
  end loop;
end
$legacy$;
