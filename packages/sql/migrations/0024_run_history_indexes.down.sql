-- Back to 0023: run history across organisations is read without its own index; the heartbeat
-- stores counts only (0012's function), get_sync_run has no progress column (0019's).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

drop index if exists public.connector_sync_logs_started_idx;

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

drop function if exists public.get_sync_run(uuid);
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
