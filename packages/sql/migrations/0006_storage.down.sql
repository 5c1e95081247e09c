do $storage$
begin
  if to_regclass('storage.objects') is null then
    return;
  end if;
  drop policy if exists "connector-imports: members read their org folder" on storage.objects;
  drop policy if exists "connector-imports: members upload to their org folder" on storage.objects;
  drop policy if exists "connector-imports: admins or the uploader update" on storage.objects;
  drop policy if exists "connector-imports: admins or the uploader delete" on storage.objects;
  -- The bucket is removed only when it is empty: stored files are never orphaned by a rollback.
  if not exists (select from storage.objects where bucket_id = 'connector-imports') then
    delete from storage.buckets where id = 'connector-imports';
  end if;
end
$storage$;
