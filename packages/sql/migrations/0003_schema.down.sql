-- Refuses on a database that was upgraded in place: the tables held the host's data before
-- Tributary, and dropping them would lose it. Restore from a backup or roll forward instead.
do $down$
begin
  if exists (select from tributary_private.install_facts where key = 'upgraded_in_place') then
    raise exception using errcode = '55000',
      message = '[tributary] refusing to roll back 0003_schema: this database was upgraded in place from existing connector_configs/imported_documents tables, and rolling back would drop their rows',
      hint = 'Restore from a backup taken before the upgrade, or fix forward with a new migration.';
  end if;
end
$down$;
drop table if exists public.file_upload_batches;
drop table if exists public.connector_webhook_events;
drop table if exists public.connector_sync_logs;
drop table if exists public.document_chunks;
drop table if exists tributary_private.connector_secrets;
drop table if exists public.imported_documents;
drop table if exists public.connector_configs;
drop function if exists tributary_private.soft_delete_connector_documents();
