-- 005_job_functions.sql: every change of a job and of its media asset as
-- one function, one transaction, that checks who owns the job (the
-- transcoder calls them through PostgREST's /rpc/<name>):
--
--   rcx_job_claim(p_job_id, p_worker_id, p_stale_after_s)
--       queued -> running (ours), or a running job of ours (a claim whose
--       answer was lost and that is sent again), or a running job whose
--       row did not move for max(p_stale_after_s, jobs_stale_after())
--       taken over; media_assets (failed ->) uploaded -> transcoding.
--       A job that used up jobs_max_attempts() claims is failed instead,
--       with the reason "attempts exhausted (N of M)".
--   rcx_job_heartbeat(p_job_id, p_worker_id, p_progress)
--       moves updated_at (and progress unless it is NULL: unknown) of a
--       running job of ours; FALSE when it is not ours any more.
--   rcx_job_succeed / rcx_job_fail / rcx_job_release
--       only while the job is running under p_worker_id (a repeat of the
--       same step after a lost answer is recognised): the media asset and
--       the job move together, or nothing moves at all.
--   rcx_job_give_up(p_job_id, p_reason, p_stale_after_s)
--       a queued (or stale running) job -> failed with the reason: the
--       queue gave up on its message (poison message, redrive).
--
-- Each returns a JSON object: {"outcome": ..., "state": <the job's state
-- now>, "job": <the row>} (outcomes below). Only service_role may call
-- them.
--
-- The attempt limit: change it with CREATE OR REPLACE FUNCTION
-- jobs_max_attempts().

CREATE FUNCTION jobs_max_attempts() RETURNS integer
LANGUAGE sql STABLE AS $$ SELECT 5 $$;

CREATE OR REPLACE FUNCTION jobs_before_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id <> OLD.id OR NEW.created_at <> OLD.created_at
      OR NEW.media_id <> OLD.media_id OR NEW.org_id <> OLD.org_id THEN
    RAISE EXCEPTION 'jobs.id, media_id, org_id and created_at are immutable'
      USING ERRCODE = 'RX002';
  END IF;

  IF NEW.state = 'running' AND OLD.state = 'running'
      AND NEW.worker_id IS DISTINCT FROM OLD.worker_id THEN
    -- A takeover: the worker that claimed the job died without releasing
    -- it (instance lost, OOM) and the message came back. Only a job whose
    -- row has not moved for jobs_stale_after() may change hands; it
    -- counts as a new attempt.
    IF OLD.updated_at > now() - jobs_stale_after() THEN
      RAISE EXCEPTION 'job % is running on % (last update %)', OLD.id,
          OLD.worker_id, OLD.updated_at
        USING ERRCODE = 'RX001',
              HINT = format('a running job changes worker only after %s without updates',
                            jobs_stale_after());
    END IF;
    NEW.attempts := OLD.attempts + 1;
    NEW.progress := 0;
    NEW.error_reason := NULL;
    NEW.started_at := now();
    NEW.finished_at := NULL;
  ELSIF NEW.state = OLD.state THEN
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
  ELSIF OLD.state = 'queued' AND NEW.state = 'failed' THEN
    -- Given up without running: its attempts are exhausted, or the queue
    -- gave up on its message (rcx_job_give_up).
    NEW.attempts := OLD.attempts;
    NEW.progress := 0;
    NEW.worker_id := NULL;
    NEW.finished_at := now();
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
            HINT = 'queued -> running -> succeeded | failed; running -> queued; queued -> failed; failed -> queued';
  END IF;

  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- The answer of every function below.
CREATE FUNCTION rcx_job_answer(outcome text, j jobs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('outcome', outcome, 'state', j.state,
                            'job', CASE WHEN j.id IS NULL THEN NULL
                                        ELSE to_jsonb(j) END)
$$;

-- Fails a job (running, or queued: never ran) and its media asset.
CREATE FUNCTION rcx_job_to_failed(j jobs, reason text) RETURNS jobs
LANGUAGE plpgsql AS $$
DECLARE
  r jobs;
BEGIN
  UPDATE media_assets SET status = 'failed', error_reason = reason
    WHERE id = j.media_id
      AND status IN ('uploaded', 'transcoding', 'transcoded');
  UPDATE jobs SET state = 'failed', error_reason = reason
    WHERE id = j.id RETURNING * INTO r;
  RETURN r;
END
$$;

-- outcomes: claimed (also "again": our own claim repeated, "taken_over"),
-- busy, done (succeeded), failed, exhausted (failed now: attempts used
-- up), not-found
CREATE FUNCTION rcx_job_claim(p_job_id uuid, p_worker_id text,
    p_stale_after_s integer DEFAULT 900) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  j jobs;
  taken_over boolean := false;
BEGIN
  IF p_worker_id IS NULL OR p_worker_id = '' THEN
    RAISE EXCEPTION 'a claim needs a worker id' USING ERRCODE = 'RX003';
  END IF;
  SELECT * INTO j FROM jobs WHERE id = p_job_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN rcx_job_answer('not-found', j);
  END IF;
  IF j.state = 'running' AND j.worker_id = p_worker_id THEN
    -- ours already: this claim was sent before and its answer was lost
    RETURN rcx_job_answer('claimed', j) || '{"again": true}';
  ELSIF j.state = 'succeeded' THEN
    RETURN rcx_job_answer('done', j);
  ELSIF j.state = 'failed' THEN
    RETURN rcx_job_answer('failed', j);
  ELSIF j.state = 'running' THEN
    IF p_stale_after_s IS NULL OR p_stale_after_s <= 0
        OR j.updated_at > now() - greatest(jobs_stale_after(),
                                           make_interval(secs => p_stale_after_s)) THEN
      RETURN rcx_job_answer('busy', j);
    END IF;
    taken_over := true;
  END IF;

  IF j.attempts >= jobs_max_attempts() THEN
    j := rcx_job_to_failed(j, format('attempts exhausted (%s of %s)',
                                     j.attempts, jobs_max_attempts()));
    RETURN rcx_job_answer('exhausted', j);
  END IF;

  UPDATE jobs SET state = 'running', worker_id = p_worker_id
    WHERE id = j.id RETURNING * INTO j;
  -- an explicitly retried job's media asset failed before
  UPDATE media_assets SET status = 'uploaded'
    WHERE id = j.media_id AND status = 'failed';
  UPDATE media_assets SET status = 'transcoding'
    WHERE id = j.media_id AND status = 'uploaded';
  RETURN rcx_job_answer('claimed', j)
      || jsonb_build_object('taken_over', taken_over);
END
$$;

CREATE FUNCTION rcx_job_heartbeat(p_job_id uuid, p_worker_id text,
    p_progress double precision DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  -- updated_at moves with every update (the trigger), progress or not
  -- (NULL: unknown, keep it; GREATEST / LEAST would skip the NULL)
  UPDATE jobs SET progress = CASE WHEN p_progress IS NULL THEN progress
                                  ELSE least(greatest(p_progress, 0), 100) END
    WHERE id = p_job_id AND state = 'running'
      AND (p_worker_id IS NULL OR worker_id = p_worker_id);
  RETURN FOUND;
END
$$;

-- The job row locked, or NULL when it is not running under p_worker_id;
-- *state says where it is.
CREATE FUNCTION rcx_job_lock_ours(p_job_id uuid, p_worker_id text,
    OUT j jobs, OUT ours boolean)
LANGUAGE plpgsql AS $$
BEGIN
  SELECT * INTO j FROM jobs WHERE id = p_job_id FOR UPDATE;
  ours := FOUND AND j.worker_id IS NOT DISTINCT FROM p_worker_id
      AND p_worker_id IS NOT NULL;
END
$$;

-- outcomes: succeeded (also when it already was, by us), not-ours,
-- not-found
CREATE FUNCTION rcx_job_succeed(p_job_id uuid, p_worker_id text,
    p_streaming_url text, p_thumbnail_url text DEFAULT NULL,
    p_duration_s double precision DEFAULT NULL,
    p_renditions jsonb DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  l record;
  j jobs;
BEGIN
  l := rcx_job_lock_ours(p_job_id, p_worker_id);
  j := l.j;
  IF j.id IS NULL THEN
    RETURN rcx_job_answer('not-found', j);
  ELSIF NOT l.ours OR j.state NOT IN ('running', 'succeeded') THEN
    RETURN rcx_job_answer('not-ours', j);
  ELSIF j.state = 'succeeded' THEN
    RETURN rcx_job_answer('succeeded', j);
  END IF;
  UPDATE media_assets SET status = 'transcoded',
      duration_s = coalesce(p_duration_s, duration_s),
      renditions = coalesce(p_renditions, renditions)
    WHERE id = j.media_id AND status = 'transcoding';
  UPDATE media_assets SET status = 'complete', streaming_url = p_streaming_url,
      thumbnail_url = coalesce(p_thumbnail_url, thumbnail_url)
    WHERE id = j.media_id AND status = 'transcoded';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'media asset % of job % is not transcoding',
        j.media_id, j.id USING ERRCODE = 'RX001';
  END IF;
  UPDATE jobs SET state = 'succeeded' WHERE id = j.id RETURNING * INTO j;
  RETURN rcx_job_answer('succeeded', j);
END
$$;

-- outcomes: failed (also when it already was, by us), not-ours, not-found
CREATE FUNCTION rcx_job_fail(p_job_id uuid, p_worker_id text, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  l record;
  j jobs;
BEGIN
  l := rcx_job_lock_ours(p_job_id, p_worker_id);
  j := l.j;
  IF j.id IS NULL THEN
    RETURN rcx_job_answer('not-found', j);
  ELSIF NOT l.ours OR j.state NOT IN ('running', 'failed') THEN
    RETURN rcx_job_answer('not-ours', j);
  ELSIF j.state = 'failed' THEN
    RETURN rcx_job_answer('failed', j);
  END IF;
  j := rcx_job_to_failed(j, coalesce(nullif(p_reason, ''), 'unknown error'));
  RETURN rcx_job_answer('failed', j);
END
$$;

-- outcomes: released, not-ours (a repeat after a lost answer lands here
-- too: the job is queued, with no worker), not-found
CREATE FUNCTION rcx_job_release(p_job_id uuid, p_worker_id text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  l record;
  j jobs;
BEGIN
  l := rcx_job_lock_ours(p_job_id, p_worker_id);
  j := l.j;
  IF j.id IS NULL THEN
    RETURN rcx_job_answer('not-found', j);
  ELSIF NOT l.ours OR j.state <> 'running' THEN
    RETURN rcx_job_answer('not-ours', j);
  END IF;
  UPDATE media_assets SET status = 'uploaded'
    WHERE id = j.media_id AND status = 'transcoding';
  UPDATE jobs SET state = 'queued' WHERE id = j.id RETURNING * INTO j;
  RETURN rcx_job_answer('released', j);
END
$$;

-- outcomes: failed (now), busy (running, not stale), done, already-failed,
-- not-found
CREATE FUNCTION rcx_job_give_up(p_job_id uuid, p_reason text,
    p_stale_after_s integer DEFAULT 900) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  j jobs;
BEGIN
  SELECT * INTO j FROM jobs WHERE id = p_job_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN rcx_job_answer('not-found', j);
  ELSIF j.state = 'succeeded' THEN
    RETURN rcx_job_answer('done', j);
  ELSIF j.state = 'failed' THEN
    RETURN rcx_job_answer('already-failed', j);
  ELSIF j.state = 'running' AND (p_stale_after_s IS NULL
      OR p_stale_after_s <= 0
      OR j.updated_at > now() - greatest(jobs_stale_after(),
                                         make_interval(secs => p_stale_after_s))) THEN
    RETURN rcx_job_answer('busy', j);
  END IF;
  j := rcx_job_to_failed(j, coalesce(nullif(p_reason, ''), 'given up'));
  RETURN rcx_job_answer('failed', j);
END
$$;

-- Only the transcoder (service_role): Supabase's default privileges grant
-- new functions to anon and authenticated, and PostgreSQL to PUBLIC.
DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
      'jobs_max_attempts()',
      'jobs_before_update()',
      'rcx_job_answer(text, jobs)',
      'rcx_job_to_failed(jobs, text)',
      'rcx_job_claim(uuid, text, integer)',
      'rcx_job_heartbeat(uuid, text, double precision)',
      'rcx_job_lock_ours(uuid, text)',
      'rcx_job_succeed(uuid, text, text, text, double precision, jsonb)',
      'rcx_job_fail(uuid, text, text)',
      'rcx_job_release(uuid, text)',
      'rcx_job_give_up(uuid, text, integer)'] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, anon, authenticated', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', f);
  END LOOP;
END
$$;
