-- Row level security and grants, per Supabase's guidance (see SQL-GUIDE.md):
-- - every policy names its role; no policy is left to `public`;
-- - membership is asked once per statement: org_id = any (array(select tributary_private.user_org_ids()));
-- - one permissive policy per role and action;
-- - members read their organisation's rows; owners/admins manage connectors; a member may delete
--   the documents they uploaded; service_role (BYPASSRLS on Supabase and in the shim) does the rest;
-- - grants are explicit: Supabase grants the API roles everything on new tables by default, so we
--   revoke it all and grant back exactly what each role needs.

alter table public.connector_configs enable row level security;
alter table public.imported_documents enable row level security;
alter table public.document_chunks enable row level security;
alter table public.connector_sync_logs enable row level security;
alter table public.connector_webhook_events enable row level security;
alter table public.file_upload_batches enable row level security;
alter table tributary_private.memberships enable row level security;
alter table tributary_private.connector_secrets enable row level security;
alter table tributary_private.install_facts enable row level security;

revoke all on public.connector_configs, public.imported_documents, public.document_chunks,
  public.connector_sync_logs, public.connector_webhook_events, public.file_upload_batches
  from public, anon, authenticated;
revoke all on tributary_private.memberships, tributary_private.connector_secrets, tributary_private.install_facts
  from public, anon, authenticated;

grant select, insert, update, delete on public.connector_configs to authenticated;
grant select, delete on public.imported_documents to authenticated;
grant select on public.document_chunks to authenticated;
grant select on public.connector_sync_logs to authenticated;
grant select on public.connector_webhook_events to authenticated;
-- UPDATE is granted without any UPDATE policy: members can never change a batch, but
-- increment_batch_processed/_failed then find zero rows and can say why (not found / not allowed /
-- already finished) instead of a bare "permission denied for table".
grant select, insert, update on public.file_upload_batches to authenticated;

grant select, insert, update, delete on public.connector_configs, public.imported_documents, public.document_chunks,
  public.connector_sync_logs, public.connector_webhook_events, public.file_upload_batches to service_role;
grant select, insert, update, delete on tributary_private.connector_secrets to service_role;
grant select on tributary_private.install_facts to service_role;

-- The seed-era policies of older installs (they read the host's users table row by row and let
-- any member manage connectors) are replaced.
drop policy if exists "Users can view their org's connectors" on public.connector_configs;
drop policy if exists "Users can create connectors for their org" on public.connector_configs;
drop policy if exists "Users can update their org's connectors" on public.connector_configs;
drop policy if exists "Users can delete their org's connectors" on public.connector_configs;
drop policy if exists "Admins can manage their org's connectors" on public.connector_configs;
drop policy if exists "Service role full access to connectors" on public.connector_configs;
drop policy if exists "Users can view their org's imported documents" on public.imported_documents;
drop policy if exists "Service role full access to imported docs" on public.imported_documents;
drop policy if exists "Users can delete their org's imported documents" on public.imported_documents;

-- connector_configs ---------------------------------------------------------------------------
drop policy if exists connector_configs_select_members on public.connector_configs;
create policy connector_configs_select_members on public.connector_configs
  for select to authenticated
  using (org_id = any (array(select tributary_private.user_org_ids())));

drop policy if exists connector_configs_insert_admins on public.connector_configs;
create policy connector_configs_insert_admins on public.connector_configs
  for insert to authenticated
  with check (org_id = any (array(select tributary_private.user_org_ids_with_role(array['owner', 'admin']))));

drop policy if exists connector_configs_update_admins on public.connector_configs;
create policy connector_configs_update_admins on public.connector_configs
  for update to authenticated
  using (org_id = any (array(select tributary_private.user_org_ids_with_role(array['owner', 'admin']))))
  with check (org_id = any (array(select tributary_private.user_org_ids_with_role(array['owner', 'admin']))));

drop policy if exists connector_configs_delete_admins on public.connector_configs;
create policy connector_configs_delete_admins on public.connector_configs
  for delete to authenticated
  using (org_id = any (array(select tributary_private.user_org_ids_with_role(array['owner', 'admin']))));

-- imported_documents --------------------------------------------------------------------------
drop policy if exists imported_documents_select_members on public.imported_documents;
create policy imported_documents_select_members on public.imported_documents
  for select to authenticated
  using (org_id = any (array(select tributary_private.user_org_ids())));

-- Owners/admins delete any document of their organisation; a member deletes what they uploaded.
drop policy if exists imported_documents_delete_admins_or_uploader on public.imported_documents;
create policy imported_documents_delete_admins_or_uploader on public.imported_documents
  for delete to authenticated
  using (
    org_id = any (array(select tributary_private.user_org_ids_with_role(array['owner', 'admin'])))
    or (uploaded_by = (select auth.uid()) and org_id = any (array(select tributary_private.user_org_ids())))
  );

-- document_chunks, connector_sync_logs, connector_webhook_events: members read -----------------
drop policy if exists document_chunks_select_members on public.document_chunks;
create policy document_chunks_select_members on public.document_chunks
  for select to authenticated
  using (org_id = any (array(select tributary_private.user_org_ids())));

drop policy if exists connector_sync_logs_select_members on public.connector_sync_logs;
create policy connector_sync_logs_select_members on public.connector_sync_logs
  for select to authenticated
  using (org_id = any (array(select tributary_private.user_org_ids())));

drop policy if exists connector_webhook_events_select_members on public.connector_webhook_events;
create policy connector_webhook_events_select_members on public.connector_webhook_events
  for select to authenticated
  using (org_id = any (array(select tributary_private.user_org_ids())));

-- file_upload_batches: members read and create their own batches; progress is the server's ----
drop policy if exists file_upload_batches_select_members on public.file_upload_batches;
create policy file_upload_batches_select_members on public.file_upload_batches
  for select to authenticated
  using (org_id = any (array(select tributary_private.user_org_ids())));

drop policy if exists file_upload_batches_insert_members on public.file_upload_batches;
create policy file_upload_batches_insert_members on public.file_upload_batches
  for insert to authenticated
  with check (
    org_id = any (array(select tributary_private.user_org_ids()))
    and user_id = (select auth.uid())
    and status = 'uploading' and processed_files = 0 and failed_files = 0
  );

-- Private tables: the service role only (it bypasses RLS); no client policy at all. The explicit
-- service_role policies keep them usable where service_role lacks BYPASSRLS.
drop policy if exists memberships_service_role on tributary_private.memberships;
create policy memberships_service_role on tributary_private.memberships
  for all to service_role using (true) with check (true);
drop policy if exists connector_secrets_service_role on tributary_private.connector_secrets;
create policy connector_secrets_service_role on tributary_private.connector_secrets
  for all to service_role using (true) with check (true);
drop policy if exists install_facts_service_role on tributary_private.install_facts;
create policy install_facts_service_role on tributary_private.install_facts
  for select to service_role using (true);
