-- Removes 0016's functions and restores set_documents_processing_status as 0014 made it.
-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

drop function if exists public.release_connector_sync(uuid, text);
drop function if exists public.record_document_failures(uuid, jsonb);
create or replace function public.set_documents_processing_status(p_document_ids uuid[], p_status text, p_error text default null)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  changed integer;
begin
  if p_document_ids is null or p_status is null then
    raise exception using errcode = '22004', message = '[tributary] p_document_ids and p_status must not be null',
      hint = 'Pass the documents and one of pending, processing, completed, failed.';
  end if;
  if p_status not in ('pending', 'processing', 'completed', 'failed') then
    raise exception using errcode = '22023',
      message = format('[tributary] p_status must be pending, processing, completed or failed, got %s', p_status);
  end if;
  update public.imported_documents d
  set processing_status = p_status, processing_error = left(p_error, 4000)
  where d.id = any (p_document_ids);
  get diagnostics changed = row_count;
  return changed;
end
$$;
