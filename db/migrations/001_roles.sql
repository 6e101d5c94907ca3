-- 001_roles.sql: the roles Supabase's PostgREST switches to, so the same
-- grants work on plain PostgreSQL 15 (tests) and on Supabase (where they
-- already exist). NOLOGIN: the REST server connects as the owner and does
-- SET LOCAL ROLE <the JWT's role claim>, exactly as PostgREST does.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
END
$$;

-- The connecting (owner) role must be allowed to switch to them.
DO $$
BEGIN
  EXECUTE format('GRANT anon, authenticated, service_role TO %I', current_user);
END
$$;
