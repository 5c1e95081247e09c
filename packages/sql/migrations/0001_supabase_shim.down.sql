-- Removes only what the shim itself created (schemas it marked with a comment), so rolling back on
-- a real Supabase project touches nothing. Roles are cluster-wide and may serve other databases,
-- so they are kept; the `extensions` schema may hold other extensions, so it is kept too.
do $shim$
begin
  if obj_description(to_regnamespace('storage'), 'pg_namespace') = 'tributary supabase shim' then
    drop schema storage cascade;
  end if;
  if obj_description(to_regnamespace('auth'), 'pg_namespace') = 'tributary supabase shim' then
    drop schema auth cascade;
    alter default privileges in schema public revoke all on tables from anon, authenticated, service_role;
    alter default privileges in schema public revoke all on sequences from anon, authenticated, service_role;
    alter default privileges in schema public revoke all on functions from anon, authenticated, service_role;
  end if;
end
$shim$;
