-- The reads and writes the TypeScript repositories still did with direct table queries, as RPCs,
-- so one repository implementation in @tributary/core (and one upload batch store in
-- @tributary/connector-upload) reaches everything through `rpc(name, args)`: the same call over a
-- SQL client (node-postgres, PGlite) and over supabase-js. No adapter keeps its own copy of a query.
--
-- Every function here is security invoker: it reads and writes with the caller's rights, so row
-- level security and grants apply exactly as they did to the direct queries these replace (a
-- member reads the connectors, runs and batches of their organisations; only the service role
-- writes runs). None needs pgvector, so this file applies where 0007_vector_search was deferred.

-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

-- ---------------------------------------------------------------------------------------------
-- Capabilities
-- ---------------------------------------------------------------------------------------------

-- Whether document_chunks has its embedding column (0007_vector_search applied). The catalog is
-- readable by every role, so this needs no elevated rights; it answers false, not an error, where
-- pgvector is missing, so a client can refuse to embed before paying for it.
create or replace function public.stores_embeddings()
returns boolean
language sql stable
set search_path = ''
as $$
  select exists (
    select from pg_catalog.pg_attribute a
    where a.attrelid = to_regclass('public.document_chunks') and a.attname = 'embedding' and not a.attisdropped
  )
$$;
revoke all on function public.stores_embeddings() from public, anon;
grant execute on function public.stores_embeddings() to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Connectors and runs
-- ---------------------------------------------------------------------------------------------

-- Connectors (never their secrets), one by id or filtered, in a total order (org, creation, id)
-- with keyset pages: p_after is the last id of the previous page, p_limit the page size (null: all).
create or replace function public.list_connectors(
  p_connector_id uuid default null,
  p_org_id uuid default null,
  p_connector_type text default null,
  p_is_active boolean default null,
  p_after uuid default null,
  p_limit integer default null
)
returns table (
  id uuid, org_id uuid, connector_type text, name text, description text, settings jsonb, filters jsonb,
  metadata jsonb, is_active boolean, sync_frequency text, sync_cursor jsonb, last_sync_at timestamptz,
  last_sync_status text, next_sync_at timestamptz, error_count integer, last_error text
)
language plpgsql stable
set search_path = ''
as $$
declare
  after_org uuid;
  after_created timestamptz;
  after_id uuid;
begin
  if p_limit is not null and (p_limit < 1 or p_limit > 10000) then
    raise exception using errcode = '22023',
      message = format('[tributary] p_limit must be 1 to 10000, got %s', p_limit);
  end if;
  if p_after is not null then
    select c.org_id, c.created_at, c.id into after_org, after_created, after_id from public.connector_configs c where c.id = p_after;
    if not found then
      raise exception using errcode = 'P0002',
        message = format('[tributary] list_connectors: page key %s not found', p_after),
        hint = 'Start again without p_after: the connector was deleted while the list was read.';
    end if;
  end if;
  return query
    select c.id, c.org_id, c.connector_type, c.name, c.description, c.settings, c.filters, c.metadata,
      c.is_active, c.sync_frequency, c.sync_cursor, c.last_sync_at, c.last_sync_status, c.next_sync_at,
      c.error_count, c.last_error
    from public.connector_configs c
    where (p_connector_id is null or c.id = p_connector_id)
      and (p_org_id is null or c.org_id = p_org_id)
      and (p_connector_type is null or c.connector_type = p_connector_type)
      and (p_is_active is null or c.is_active = p_is_active)
      and (p_after is null or (c.org_id, c.created_at, c.id) > (after_org, after_created, after_id))
    order by c.org_id, c.created_at, c.id
    limit p_limit;
end
$$;
revoke all on function public.list_connectors(uuid, uuid, text, boolean, uuid, integer) from public, anon;
grant execute on function public.list_connectors(uuid, uuid, text, boolean, uuid, integer)
  to authenticated, service_role;

-- One sync run; no row when it does not exist or the caller may not see it. bytes_transferred as
-- double precision: clients read a JSON number instead of a bigint string.
create or replace function public.get_sync_run(p_sync_log_id uuid)
returns table (
  id uuid, org_id uuid, connector_id uuid, sync_type text, sync_mode text, status text,
  started_at timestamptz, completed_at timestamptz, lease_expires_at timestamptz, worker_id text,
  documents_synced integer, documents_updated integer, documents_skipped integer, documents_failed integer,
  documents_deleted integer, api_calls_made integer, bytes_transferred double precision, error_message text
)
language sql stable
set search_path = ''
as $$
  select s.id, s.org_id, s.connector_id, s.sync_type, s.sync_mode, s.status, s.started_at, s.completed_at,
    s.lease_expires_at, s.worker_id, s.documents_synced, s.documents_updated, s.documents_skipped,
    s.documents_failed, s.documents_deleted, s.api_calls_made, s.bytes_transferred::double precision,
    s.error_message
  from public.connector_sync_logs s
  where s.id = p_sync_log_id
$$;
revoke all on function public.get_sync_run(uuid) from public, anon;
grant execute on function public.get_sync_run(uuid) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Upload batches (the rest of the batch store: ensure_upload_connector, record_batch_file and
-- settle_interrupted_batch are in 0013_upload_batch_functions)
-- ---------------------------------------------------------------------------------------------

create or replace function public.create_upload_batch(
  p_org_id uuid,
  p_user_id uuid,
  p_connector_id uuid,
  p_batch_name text,
  p_total_files integer,
  p_metadata jsonb default '{}'
)
returns setof public.file_upload_batches
language sql
set search_path = ''
as $$
  insert into public.file_upload_batches (org_id, user_id, connector_id, batch_name, total_files, metadata)
  values (p_org_id, p_user_id, p_connector_id, p_batch_name, p_total_files, coalesce(p_metadata, '{}'))
  returning *
$$;
revoke all on function public.create_upload_batch(uuid, uuid, uuid, text, integer, jsonb) from public, anon;
grant execute on function public.create_upload_batch(uuid, uuid, uuid, text, integer, jsonb)
  to authenticated, service_role;

-- P0002 when the batch does not exist or the caller may not update it.
create or replace function public.attach_upload_batch_connector(p_batch_id uuid, p_connector_id uuid)
returns setof public.file_upload_batches
language plpgsql
set search_path = ''
as $$
declare
  updated public.file_upload_batches;
begin
  update public.file_upload_batches b set connector_id = p_connector_id where b.id = p_batch_id
  returning b.* into updated;
  if not found then
    raise exception using errcode = 'P0002',
      message = format('[tributary] upload batch %s not found', p_batch_id),
      hint = 'Check the batch id; batches of another organisation are not visible.';
  end if;
  return next updated;
end
$$;
revoke all on function public.attach_upload_batch_connector(uuid, uuid) from public, anon;
grant execute on function public.attach_upload_batch_connector(uuid, uuid) to authenticated, service_role;

create or replace function public.get_upload_batch(p_batch_id uuid)
returns setof public.file_upload_batches
language sql stable
set search_path = ''
as $$
  select * from public.file_upload_batches b where b.id = p_batch_id
$$;
revoke all on function public.get_upload_batch(uuid) from public, anon;
grant execute on function public.get_upload_batch(uuid) to authenticated, service_role;

-- The status alone, read before each file an uploader indexes: without the per-file map a batch row
-- carries (up to 64 KB), so a cancel from another process is seen at the next file for a few bytes.
create or replace function public.get_upload_batch_status(p_batch_id uuid)
returns text
language sql stable
set search_path = ''
as $$
  select b.status::text from public.file_upload_batches b where b.id = p_batch_id
$$;
revoke all on function public.get_upload_batch_status(uuid) from public, anon;
grant execute on function public.get_upload_batch_status(uuid) to authenticated, service_role;

-- Cancels a batch that is still running and returns it; a batch that already ended is returned as
-- it is (one statement each way, so a concurrent finish is never overwritten).
create or replace function public.cancel_upload_batch(p_batch_id uuid)
returns setof public.file_upload_batches
language plpgsql
set search_path = ''
as $$
begin
  return query
    update public.file_upload_batches b set status = 'cancelled', completed_at = now()
    where b.id = p_batch_id and b.status in ('uploading', 'processing')
    returning b.*;
  if not found then
    return query select * from public.file_upload_batches b where b.id = p_batch_id;
  end if;
end
$$;
revoke all on function public.cancel_upload_batch(uuid) from public, anon;
grant execute on function public.cancel_upload_batch(uuid) to authenticated, service_role;

-- Running batches not updated since p_updated_before (their uploader likely died), oldest first.
create or replace function public.find_stale_upload_batches(
  p_updated_before timestamptz,
  p_org_id uuid default null,
  p_limit integer default 100
)
returns setof public.file_upload_batches
language plpgsql stable
set search_path = ''
as $$
begin
  if p_updated_before is null then
    raise exception using errcode = '22004', message = '[tributary] p_updated_before must not be null';
  end if;
  if p_limit is null or p_limit < 1 or p_limit > 10000 then
    raise exception using errcode = '22023',
      message = format('[tributary] p_limit must be 1 to 10000, got %s', coalesce(p_limit::text, 'null'));
  end if;
  return query
    select * from public.file_upload_batches b
    where b.status in ('uploading', 'processing') and b.updated_at < p_updated_before
      and (p_org_id is null or b.org_id = p_org_id)
    order by b.updated_at
    limit p_limit;
end
$$;
revoke all on function public.find_stale_upload_batches(timestamptz, uuid, integer) from public, anon;
grant execute on function public.find_stale_upload_batches(timestamptz, uuid, integer)
  to authenticated, service_role;
