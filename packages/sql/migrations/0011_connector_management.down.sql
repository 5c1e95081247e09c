-- Refuses while any secret is stored encrypted: the columns holding it would be dropped, and the
-- 0004 functions cannot read it. Decrypt first (read each connector's secrets with the SDK and write
-- them back with set_connector_secrets), or keep this migration.
do $$
begin
  if exists (select from tributary_private.connector_secrets
             where credentials_ciphertext is not null or webhook_secret_ciphertext is not null) then
    raise exception using errcode = '55000',
      message = '[tributary] connector secrets are stored encrypted; rolling back 0011 would lose them',
      hint = 'Write them back as plaintext with set_connector_secrets first, or keep 0011 applied.';
  end if;
end
$$;

drop function if exists public.get_connector_status(uuid);
drop function if exists public.delete_connector(uuid);
drop function if exists public.update_connector(uuid, jsonb);
drop function if exists public.create_connector(uuid, text, text, jsonb, uuid, text, text, boolean);
drop function if exists public.rewrap_connector_secrets(jsonb);
drop function if exists public.list_connector_secrets_to_rotate(text, uuid, integer);
drop function if exists public.put_connector_secrets(uuid, jsonb);
drop function if exists public.get_connector_secrets(uuid);

-- The 0004 versions.
create or replace function public.set_connector_secrets(p_connector_id uuid, p_credentials jsonb default null, p_webhook_secret text default null)
returns void
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select from public.connector_configs c where c.id = p_connector_id) then
    raise exception using errcode = 'P0002', message = format('[tributary] connector %s not found', p_connector_id);
  end if;
  insert into tributary_private.connector_secrets as s (connector_id, credentials, webhook_secret)
  values (p_connector_id, p_credentials, p_webhook_secret)
  on conflict (connector_id) do update set
    credentials = coalesce(excluded.credentials, s.credentials),
    webhook_secret = coalesce(excluded.webhook_secret, s.webhook_secret),
    updated_at = now();
  update public.connector_configs set credentials_updated_at = now()
  where id = p_connector_id and p_credentials is not null;
end
$$;

create or replace function public.get_connector_secrets(p_connector_id uuid)
returns table (credentials jsonb, webhook_secret text, updated_at timestamptz)
language sql stable
set search_path = ''
as $$
  select s.credentials, s.webhook_secret, s.updated_at
  from tributary_private.connector_secrets s where s.connector_id = p_connector_id
$$;
revoke all on function public.get_connector_secrets(uuid) from public, anon, authenticated;
grant execute on function public.get_connector_secrets(uuid) to service_role;

drop function if exists tributary_private.connector_org_id(uuid);

alter table tributary_private.connector_secrets drop constraint if exists connector_secrets_envelope_check;
alter table tributary_private.connector_secrets
  drop column if exists revision,
  drop column if exists webhook_secret_ciphertext,
  drop column if exists credentials_ciphertext,
  drop column if exists wrapped_data_key,
  drop column if exists key_id;
comment on table tributary_private.connector_secrets is null;
