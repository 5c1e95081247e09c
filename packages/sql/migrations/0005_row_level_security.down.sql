drop policy if exists connector_configs_select_members on public.connector_configs;
drop policy if exists connector_configs_insert_admins on public.connector_configs;
drop policy if exists connector_configs_update_admins on public.connector_configs;
drop policy if exists connector_configs_delete_admins on public.connector_configs;
drop policy if exists imported_documents_select_members on public.imported_documents;
drop policy if exists imported_documents_delete_admins_or_uploader on public.imported_documents;
drop policy if exists document_chunks_select_members on public.document_chunks;
drop policy if exists connector_sync_logs_select_members on public.connector_sync_logs;
drop policy if exists connector_webhook_events_select_members on public.connector_webhook_events;
drop policy if exists file_upload_batches_select_members on public.file_upload_batches;
drop policy if exists file_upload_batches_insert_members on public.file_upload_batches;
drop policy if exists memberships_service_role on tributary_private.memberships;
drop policy if exists connector_secrets_service_role on tributary_private.connector_secrets;
drop policy if exists install_facts_service_role on tributary_private.install_facts;
-- Without policies, RLS stays enabled: the tables deny every client role until policies return.
revoke all on public.connector_configs, public.imported_documents, public.document_chunks,
  public.connector_sync_logs, public.connector_webhook_events, public.file_upload_batches
  from anon, authenticated;
