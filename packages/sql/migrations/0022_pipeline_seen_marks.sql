-- tributary:requires-extension vector
-- (It changes a trigger 0018 created; 0018 waits for pgvector, so this waits with it.)
-- Cheaper marks for unchanged documents. An unchanged re-sync marks every listed document seen
-- (mark_documents_seen: one UPDATE of last_seen_at per 5,000 documents). 0018's statement trigger
-- kept ACL rows in step with every UPDATE of imported_documents, whatever it changed: each mark
-- captured the old and new rows of all 5,000 documents in transition tables and compared their
-- permissions, more than half of the mark's cost (measured: 1.1 s of 5,000 marks, 0.5 s without it).
-- ACL rows (and 0021's chunk readers) only change when metadata, the organisation or the connector
-- does, so UPDATE now fires a row trigger on those columns only, and only for rows where they differ.
-- INSERT keeps 0018's statement trigger.

-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

create or replace function tributary_private.maintain_document_principals_row()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  delete from tributary_private.document_principals p where p.document_id = new.id;
  insert into tributary_private.document_principals (document_id, principal, org_id)
  select distinct new.id, k.principal, new.org_id
  from jsonb_array_elements(case when jsonb_typeof(new.metadata -> 'permissions') = 'array'
                                 then new.metadata -> 'permissions' else '[]'::jsonb end) e(entry)
  cross join lateral tributary_private.permission_principals(e.entry) k(principal)
  on conflict do nothing;
  -- 0021's prefilter: the chunks carry their document's ACL keys, kept equal in the same statement.
  update public.document_chunks c
  set readers = tributary_private.chunk_readers(new.connector_id, new.metadata -> 'permissions')
  where c.org_id = new.org_id and c.document_id = new.id
    and c.readers is distinct from tributary_private.chunk_readers(new.connector_id, new.metadata -> 'permissions');
  return null;
end
$$;
revoke all on function tributary_private.maintain_document_principals_row() from public, anon, authenticated;
comment on function tributary_private.maintain_document_principals_row() is
  'Tributary: rewrites one document''s ACL rows and its chunks'' readers after an UPDATE that changed its permissions, organisation or connector.';

drop trigger if exists imported_documents_principals_update on public.imported_documents;
create trigger imported_documents_principals_update
  after update of metadata, org_id, connector_id on public.imported_documents
  for each row
  when ((old.metadata -> 'permissions') is distinct from (new.metadata -> 'permissions')
        or old.org_id is distinct from new.org_id
        or old.connector_id is distinct from new.connector_id)
  execute function tributary_private.maintain_document_principals_row();
