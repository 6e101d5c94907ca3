-- 004_row_level_security.sql: close the tables to everyone but the
-- transcoder (service_role) and, for reading, the members of the row's
-- organisation.
--
-- On Supabase, `ALTER DEFAULT PRIVILEGES ... GRANT ALL ON TABLES (and
-- FUNCTIONS) TO anon, authenticated` makes every new table in `public`
-- readable and writable with the public anon key unless row-level security
-- is on and the grants are taken back. Both are done here:
--
--   anon           nothing at all
--   authenticated  SELECT, only the rows of the organisations listed in its
--                  JWT: app_metadata.org_ids (an array of uuids; Supabase
--                  puts app_metadata into the JWT and only the service role
--                  can change it, unlike user_metadata)
--   service_role   everything (it bypasses RLS on Supabase and here;
--                  the policies below say so as well, in case it does not)
--
-- request.jwt.claims is what PostgREST sets per request (the JWT's claims
-- as JSON); Supabase's auth.jwt() reads the same setting.

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE media_assets ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON jobs, media_assets FROM PUBLIC, anon, authenticated;
GRANT SELECT ON jobs, media_assets TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON jobs, media_assets TO service_role;

-- The organisations of the caller's JWT; empty when there is no JWT, no
-- such claim, or a claim that is not an array of uuids (never an error:
-- a malformed claim must read nothing, not fail open or break reads).
CREATE FUNCTION rcx_jwt_org_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  claims jsonb;
  ids uuid[];
BEGIN
  BEGIN
    claims := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
    IF claims IS NULL
        OR jsonb_typeof(claims -> 'app_metadata' -> 'org_ids') <> 'array' THEN
      RETURN '{}';
    END IF;
    SELECT array_agg(v::uuid) INTO ids
      FROM jsonb_array_elements_text(claims -> 'app_metadata' -> 'org_ids') AS v;
  EXCEPTION WHEN others THEN
    RETURN '{}';
  END;
  RETURN coalesce(ids, '{}');
END
$$;

REVOKE ALL ON FUNCTION rcx_jwt_org_ids() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION rcx_jwt_org_ids() TO authenticated, service_role;

CREATE POLICY jobs_read_own_org ON jobs FOR SELECT TO authenticated
  USING (org_id = ANY (rcx_jwt_org_ids()));
CREATE POLICY media_assets_read_own_org ON media_assets FOR SELECT
  TO authenticated
  USING (org_id = ANY (rcx_jwt_org_ids()));
CREATE POLICY jobs_service ON jobs FOR ALL TO service_role
  USING (true) WITH CHECK (true);
CREATE POLICY media_assets_service ON media_assets FOR ALL TO service_role
  USING (true) WITH CHECK (true);

-- Functions created before this one (the triggers', jobs_stale_after) were
-- granted to anon / authenticated by Supabase's default privileges.
REVOKE ALL ON FUNCTION jobs_before_insert(), jobs_before_update(),
  media_assets_before_update(), jobs_stale_after()
  FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION jobs_stale_after() TO service_role;
