drop schema if exists tributary_private cascade;
