-- 002_media_assets_jobs.sql: the two tables the transcoder writes, with
-- the seed's state machines enforced by the database (see docs/database.md).
--
--   jobs.state:           queued -> running -> succeeded | failed
--                         running -> queued   (released: shutdown, Spot notice)
--                         failed  -> queued   (explicit retry by an operator)
--   media_assets.status:  uploaded -> transcoding -> transcoded -> complete
--                         uploaded | transcoding | transcoded -> failed
--                         transcoding -> uploaded (its job was released)
--                         failed -> uploaded      (explicit retry)
--
-- Any other change of state raises SQLSTATE 'RX001' (class "RX": ours)
-- from a BEFORE UPDATE trigger, whoever sends the UPDATE.

CREATE TYPE job_state AS ENUM ('queued', 'running', 'succeeded', 'failed');
CREATE TYPE media_status AS ENUM
  ('uploaded', 'transcoding', 'transcoded', 'complete', 'failed');

CREATE TABLE media_assets (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id        uuid NOT NULL,
  status        media_status NOT NULL DEFAULT 'uploaded',
  source_key    text,                    -- the original's object key
  streaming_url text,                    -- the HLS master playlist
  thumbnail_url text,
  duration_s    double precision CHECK (duration_s IS NULL OR duration_s >= 0),
  renditions    jsonb NOT NULL DEFAULT '[]'::jsonb
                CHECK (jsonb_typeof(renditions) = 'array'),
  error_reason  text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT media_complete_has_url
    CHECK (status <> 'complete' OR streaming_url IS NOT NULL),
  CONSTRAINT media_failed_has_reason
    CHECK (status <> 'failed' OR error_reason IS NOT NULL)
);

CREATE INDEX media_assets_org_id_idx ON media_assets (org_id);

CREATE TABLE jobs (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  media_id      uuid NOT NULL REFERENCES media_assets (id) ON DELETE CASCADE,
  org_id        uuid NOT NULL,
  kind          text NOT NULL DEFAULT 'transcode',
  state         job_state NOT NULL DEFAULT 'queued',
  progress      double precision NOT NULL DEFAULT 0
                CHECK (progress >= 0 AND progress <= 100),
  attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  worker_id     text,
  error_reason  text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,             -- of the current / last attempt
  finished_at   timestamptz,             -- set on succeeded / failed
  CONSTRAINT jobs_running_has_worker
    CHECK (state <> 'running' OR worker_id IS NOT NULL),
  CONSTRAINT jobs_failed_has_reason
    CHECK (state <> 'failed' OR error_reason IS NOT NULL)
);

CREATE INDEX jobs_media_id_idx ON jobs (media_id);
CREATE INDEX jobs_org_id_idx ON jobs (org_id);
-- At most one live (queued or running) job per media asset and kind: a
-- second one is a unique violation (PostgREST answers 409).
CREATE UNIQUE INDEX jobs_one_live_per_media
  ON jobs (media_id, kind) WHERE state IN ('queued', 'running');

-- ---- jobs: transitions ---------------------------------------------------

CREATE FUNCTION jobs_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state <> 'queued' THEN
    RAISE EXCEPTION 'a job is created queued, not %', NEW.state
      USING ERRCODE = 'RX001', HINT = 'insert with state queued';
  END IF;
  NEW.attempts := 0;
  NEW.progress := 0;
  NEW.worker_id := NULL;
  NEW.started_at := NULL;
  NEW.finished_at := NULL;
  NEW.created_at := now();
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE FUNCTION jobs_before_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id <> OLD.id OR NEW.created_at <> OLD.created_at
      OR NEW.media_id <> OLD.media_id OR NEW.org_id <> OLD.org_id THEN
    RAISE EXCEPTION 'jobs.id, media_id, org_id and created_at are immutable'
      USING ERRCODE = 'RX002';
  END IF;

  IF NEW.state = OLD.state THEN
    -- Same state: only a running job moves (progress, worker heartbeat).
    IF NEW.state <> 'running' AND (NEW.progress <> OLD.progress
        OR NEW.worker_id IS DISTINCT FROM OLD.worker_id
        OR NEW.error_reason IS DISTINCT FROM OLD.error_reason) THEN
      RAISE EXCEPTION 'job % is %: nothing may change', OLD.id, OLD.state
        USING ERRCODE = 'RX001';
    END IF;
    NEW.attempts := OLD.attempts;
    NEW.started_at := OLD.started_at;
    NEW.finished_at := OLD.finished_at;
  ELSIF OLD.state = 'queued' AND NEW.state = 'running' THEN
    -- A claim: one more attempt, a fresh start.
    NEW.attempts := OLD.attempts + 1;
    NEW.progress := 0;
    NEW.error_reason := NULL;
    NEW.started_at := now();
    NEW.finished_at := NULL;
  ELSIF OLD.state = 'running' AND NEW.state = 'succeeded' THEN
    NEW.progress := 100;
    NEW.error_reason := NULL;
    NEW.attempts := OLD.attempts;
    NEW.finished_at := now();
  ELSIF OLD.state = 'running' AND NEW.state = 'failed' THEN
    NEW.attempts := OLD.attempts;
    NEW.finished_at := now();
  ELSIF OLD.state = 'running' AND NEW.state = 'queued' THEN
    -- Released (SIGTERM, Spot notice): another worker claims it again.
    NEW.attempts := OLD.attempts;
    NEW.progress := 0;
    NEW.worker_id := NULL;
    NEW.finished_at := NULL;
  ELSIF OLD.state = 'failed' AND NEW.state = 'queued' THEN
    -- An explicit retry (operator / dashboard); attempts keep counting.
    NEW.attempts := OLD.attempts;
    NEW.progress := 0;
    NEW.worker_id := NULL;
    NEW.error_reason := NULL;
    NEW.finished_at := NULL;
  ELSE
    RAISE EXCEPTION 'illegal job transition % -> %', OLD.state, NEW.state
      USING ERRCODE = 'RX001',
            DETAIL = format('job %s', OLD.id),
            HINT = 'queued -> running -> succeeded | failed; running -> queued; failed -> queued';
  END IF;

  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER jobs_before_insert BEFORE INSERT ON jobs
  FOR EACH ROW EXECUTE FUNCTION jobs_before_insert();
CREATE TRIGGER jobs_before_update BEFORE UPDATE ON jobs
  FOR EACH ROW EXECUTE FUNCTION jobs_before_update();

-- ---- media_assets: transitions -------------------------------------------

CREATE FUNCTION media_assets_before_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id <> OLD.id OR NEW.org_id <> OLD.org_id
      OR NEW.created_at <> OLD.created_at THEN
    RAISE EXCEPTION 'media_assets.id, org_id and created_at are immutable'
      USING ERRCODE = 'RX002';
  END IF;

  IF NEW.status = OLD.status THEN
    NULL;                               -- details may be filled in any state
  ELSIF (OLD.status, NEW.status) IN (
      ('uploaded'::media_status,    'transcoding'::media_status),
      ('transcoding'::media_status, 'transcoded'::media_status),
      ('transcoded'::media_status,  'complete'::media_status),
      ('uploaded'::media_status,    'failed'::media_status),
      ('transcoding'::media_status, 'failed'::media_status),
      ('transcoded'::media_status,  'failed'::media_status),
      ('transcoding'::media_status, 'uploaded'::media_status),
      ('failed'::media_status,      'uploaded'::media_status)) THEN
    IF NEW.status <> 'failed' THEN
      NEW.error_reason := NULL;
    END IF;
  ELSE
    RAISE EXCEPTION 'illegal media_assets transition % -> %',
        OLD.status, NEW.status
      USING ERRCODE = 'RX001',
            DETAIL = format('media asset %s', OLD.id),
            HINT = 'uploaded -> transcoding -> transcoded -> complete | failed';
  END IF;

  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER media_assets_before_update BEFORE UPDATE ON media_assets
  FOR EACH ROW EXECUTE FUNCTION media_assets_before_update();

-- ---- access --------------------------------------------------------------
-- The transcoder uses the service role key (service_role bypasses RLS on
-- Supabase). Signed-in users read their organisation's rows through the
-- app's own policies, which are not the transcoder's business; anon sees
-- nothing.
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON media_assets, jobs TO service_role;
GRANT SELECT ON media_assets, jobs TO authenticated;
