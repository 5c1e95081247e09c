-- The private `connector-imports` bucket and its policies, where a `storage` schema exists (Supabase
-- Storage, or the shim on plain PostgreSQL/PGlite). Object paths start with the organisation id:
--   {orgId}/connectors/{connectorType}/{connectorId}/{YYYY-MM-DD}/{fileType}/{fileId}-{filename}
-- Members read and upload inside their organisation's folder; owners/admins, or the uploader,
-- update and delete.

do $storage$
begin
  if to_regclass('storage.buckets') is null or to_regclass('storage.objects') is null then
    raise notice '[tributary] no storage schema: the connector-imports bucket is not created';
    return;
  end if;

  insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
  values (
    'connector-imports',
    'connector-imports',
    false,
    5368709120, -- 5 GB
    array[
      'video/mp4', 'video/webm', 'video/quicktime',
      'audio/mpeg', 'audio/wav', 'audio/ogg',
      'image/png', 'image/jpeg', 'image/gif', 'image/webp',
      'application/pdf',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
      'text/plain', 'text/markdown', 'text/csv', 'text/html',
      'application/json'
    ]
  )
  on conflict (id) do nothing;

  drop policy if exists "connector-imports: members read their org folder" on storage.objects;
  create policy "connector-imports: members read their org folder" on storage.objects
    for select to authenticated
    using (
      bucket_id = 'connector-imports'
      and (storage.foldername(name))[1] = any (array(select o::text from tributary_private.user_org_ids() o))
    );

  drop policy if exists "connector-imports: members upload to their org folder" on storage.objects;
  create policy "connector-imports: members upload to their org folder" on storage.objects
    for insert to authenticated
    with check (
      bucket_id = 'connector-imports'
      and (storage.foldername(name))[1] = any (array(select o::text from tributary_private.user_org_ids() o))
    );

  -- Updating is narrowed like deleting: a member could otherwise set owner_id to themselves and
  -- then delete (or overwrite) someone else's file. Owners/admins update anything in their
  -- organisation's folder; a member only their own objects, and cannot hand them to someone else.
  drop policy if exists "connector-imports: admins or the uploader update" on storage.objects;
  create policy "connector-imports: admins or the uploader update" on storage.objects
    for update to authenticated
    using (
      bucket_id = 'connector-imports'
      and (
        (storage.foldername(name))[1] = any (array(
          select o::text from tributary_private.user_org_ids_with_role(array['owner', 'admin']) o))
        or (
          owner_id = (select auth.uid())::text
          and (storage.foldername(name))[1] = any (array(select o::text from tributary_private.user_org_ids() o))
        )
      )
    )
    with check (
      bucket_id = 'connector-imports'
      and (
        (storage.foldername(name))[1] = any (array(
          select o::text from tributary_private.user_org_ids_with_role(array['owner', 'admin']) o))
        or (
          owner_id = (select auth.uid())::text
          and (storage.foldername(name))[1] = any (array(select o::text from tributary_private.user_org_ids() o))
        )
      )
    );

  drop policy if exists "connector-imports: admins or the uploader delete" on storage.objects;
  create policy "connector-imports: admins or the uploader delete" on storage.objects
    for delete to authenticated
    using (
      bucket_id = 'connector-imports'
      and (
        (storage.foldername(name))[1] = any (array(
          select o::text from tributary_private.user_org_ids_with_role(array['owner', 'admin']) o))
        or (
          owner_id = (select auth.uid())::text
          and (storage.foldername(name))[1] = any (array(select o::text from tributary_private.user_org_ids() o))
        )
      )
    );
end
$storage$;
