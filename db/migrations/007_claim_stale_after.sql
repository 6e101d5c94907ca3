-- 007_claim_stale_after.sql: the stale horizon is the caller's.
--
-- 005 took a running job over only after max(p_stale_after_s,
-- jobs_stale_after()) without updates, so a worker could lengthen the
-- horizon but never shorten it below 15 minutes: a deployment whose jobs
-- heartbeat every few seconds had to wait 15 minutes for a dead worker's
-- job, and a test could only age the row by hand. Now:
--
--   rcx_job_stale_horizon(p_stale_after_s)
--       NULL or <= 0: no takeover at all (a worker configured never to take
--       over); else p_stale_after_s seconds, at least 10 (a heartbeat or
--       two must fit in it, or a live job would change hands).
--   rcx_job_claim(p_job_id, p_worker_id, p_stale_after_s DEFAULT 900)
--   rcx_job_give_up(p_job_id, p_reason, p_stale_after_s DEFAULT 900)
--       judge "stale" by that horizon alone (the default stays 15 min);
--   jobs_stale_after()
--       what the trigger checks a takeover against: inside rcx_job_claim
--       the claim's horizon (the transaction-local setting
--       rcx.stale_after, which only rcx_job_claim sets), else 15 minutes
--       as before (an operator's UPDATE of worker_id).

CREATE FUNCTION rcx_job_stale_horizon(p_stale_after_s integer) RETURNS interval
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_stale_after_s IS NULL OR p_stale_after_s <= 0 THEN NULL
              ELSE make_interval(secs => greatest(p_stale_after_s, 10)) END
$$;

-- The trigger (005) checks a takeover against jobs_stale_after(): inside
-- rcx_job_claim that is the claim's horizon, which it sets for its own
-- UPDATE (the transaction-local setting rcx.stale_after, seconds);
-- elsewhere (an operator's UPDATE) still 15 minutes. To change that
-- default, replace this function keeping the setting's part.
CREATE OR REPLACE FUNCTION jobs_stale_after() RETURNS interval
LANGUAGE sql STABLE AS $$
  SELECT coalesce(make_interval(secs => nullif(
             current_setting('rcx.stale_after', true), '')::integer),
         interval '15 minutes')
$$;

-- outcomes as in 005
CREATE OR REPLACE FUNCTION rcx_job_claim(p_job_id uuid, p_worker_id text,
    p_stale_after_s integer DEFAULT 900) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  j jobs;
  taken_over boolean := false;
  horizon interval;
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
    horizon := rcx_job_stale_horizon(p_stale_after_s);
    IF horizon IS NULL OR j.updated_at > now() - horizon THEN
      RETURN rcx_job_answer('busy', j);
    END IF;
    taken_over := true;
  END IF;

  IF j.attempts >= jobs_max_attempts() THEN
    j := rcx_job_to_failed(j, format('attempts exhausted (%s of %s)',
                                     j.attempts, jobs_max_attempts()));
    RETURN rcx_job_answer('exhausted', j);
  END IF;

  -- the trigger checks a takeover against this claim's horizon
  PERFORM set_config('rcx.stale_after',
      coalesce(extract(epoch FROM horizon)::integer::text, ''), true);
  UPDATE jobs SET state = 'running', worker_id = p_worker_id
    WHERE id = j.id RETURNING * INTO j;
  PERFORM set_config('rcx.stale_after', '', true);
  -- an explicitly retried job's media asset failed before
  UPDATE media_assets SET status = 'uploaded'
    WHERE id = j.media_id AND status = 'failed';
  UPDATE media_assets SET status = 'transcoding'
    WHERE id = j.media_id AND status = 'uploaded';
  RETURN rcx_job_answer('claimed', j)
      || jsonb_build_object('taken_over', taken_over);
END
$$;

-- outcomes as in 005
CREATE OR REPLACE FUNCTION rcx_job_give_up(p_job_id uuid, p_reason text,
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
  ELSIF j.state = 'running' AND (rcx_job_stale_horizon(p_stale_after_s) IS NULL
      OR j.updated_at > now() - rcx_job_stale_horizon(p_stale_after_s)) THEN
    RETURN rcx_job_answer('busy', j);
  END IF;
  j := rcx_job_to_failed(j, coalesce(nullif(p_reason, ''), 'given up'));
  RETURN rcx_job_answer('failed', j);
END
$$;

DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
      'rcx_job_stale_horizon(integer)',
      'jobs_stale_after()',
      'rcx_job_claim(uuid, text, integer)',
      'rcx_job_give_up(uuid, text, integer)'] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, anon, authenticated', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', f);
  END LOOP;
END
$$;
