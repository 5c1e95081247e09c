-- Removes the upload batch functions (the @tributary/connector-upload stores call them: roll back the package too).
drop function if exists public.settle_interrupted_batch(uuid, timestamptz, text);
drop function if exists public.record_batch_file(uuid, integer, jsonb, boolean);
drop function if exists public.ensure_upload_connector(uuid);
drop function if exists tributary_private.batch_metadata_with_entries(jsonb, jsonb);
