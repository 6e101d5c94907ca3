-- 003_stale_takeover.sql: a running job whose worker died may be taken
-- over by another worker, but only once its row has not moved for
-- jobs_stale_after() (default 15 minutes: longer than the SQS visibility
-- timeout of 10 minutes, and progress / heartbeats move the row every few
-- seconds while a worker lives). The takeover counts as a new attempt.
--
--   jobs.state: running -> running with another worker_id (stale only)
--
-- Change the threshold with CREATE OR REPLACE FUNCTION jobs_stale_after().

CREATE FUNCTION jobs_stale_after() RETURNS interval
LANGUAGE sql STABLE AS $$ SELECT interval '15 minutes' $$;

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
