-- Back to 0021: 0018's statement trigger keeps ACL rows in step with every UPDATE.
-- Fail fast instead of queueing every reader behind a blocked DDL statement (the runner's
-- transaction scopes both settings to this file).
set local lock_timeout = '5s';
set local statement_timeout = '15min';

drop trigger if exists imported_documents_principals_update on public.imported_documents;
create trigger imported_documents_principals_update after update on public.imported_documents
  referencing old table as old_rows new table as new_rows
  for each statement execute function tributary_private.maintain_document_principals();
drop function if exists tributary_private.maintain_document_principals_row();
