-- 006_job_warnings.sql: what a succeeded job concealed from a damaged
-- source (decoder errors recovered from, where in the timeline), so the
-- dashboard can flag it without the runner's log:
--
--   jobs.warnings jsonb: NULL (a clean source), or
--     {"text": <one line, the summary's "concealed">,
--      "groups": [{"element", "kind", "count", "first", "last",
--                  "message"}, ...]}           (the summary's "warnings")
--   bounded by a CHECK (rcx_job_warnings_ok): at most 32 groups, 32 KiB
--   of JSON, every text (the line, each group's element, kind and
--   message) at most 2000 characters.
--
--   rcx_job_succeed(..., p_warnings jsonb DEFAULT NULL) replaces the
--   function of 005: it stores the warnings with the success, in the
--   same transaction; warnings outside the bounds are refused (22023)
--   and nothing moves.

ALTER TABLE jobs ADD COLUMN warnings jsonb;

CREATE FUNCTION rcx_job_warnings_ok(w jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT w IS NULL OR (
    jsonb_typeof(w) = 'object'
    AND octet_length(w::text) <= 32768
    AND jsonb_typeof(w -> 'text') = 'string'
    AND char_length(w ->> 'text') <= 2000
    AND jsonb_typeof(w -> 'groups') = 'array'
    AND jsonb_array_length(w -> 'groups') <= 32
    AND NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(w -> 'groups') g
      WHERE jsonb_typeof(g) <> 'object'
         OR char_length(coalesce(g ->> 'element', '')) > 2000
         OR char_length(coalesce(g ->> 'kind', '')) > 2000
         OR char_length(coalesce(g ->> 'message', '')) > 2000))
$$;

ALTER TABLE jobs ADD CONSTRAINT jobs_warnings_bounded
  CHECK (rcx_job_warnings_ok(warnings));

DROP FUNCTION rcx_job_succeed(uuid, text, text, text, double precision, jsonb);

-- outcomes: succeeded (also when it already was, by us), not-ours,
-- not-found
CREATE FUNCTION rcx_job_succeed(p_job_id uuid, p_worker_id text,
    p_streaming_url text, p_thumbnail_url text DEFAULT NULL,
    p_duration_s double precision DEFAULT NULL,
    p_renditions jsonb DEFAULT NULL,
    p_warnings jsonb DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  l record;
  j jobs;
BEGIN
  IF NOT rcx_job_warnings_ok(p_warnings) THEN
    RAISE EXCEPTION 'p_warnings: not {"text", "groups"} within the bounds '
        '(32 groups, 32 KiB, texts of 2000 characters)'
      USING ERRCODE = '22023';
  END IF;
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
  UPDATE jobs SET state = 'succeeded', warnings = p_warnings
    WHERE id = j.id RETURNING * INTO j;
  RETURN rcx_job_answer('succeeded', j);
END
$$;

DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
      'rcx_job_warnings_ok(jsonb)',
      'rcx_job_succeed(uuid, text, text, text, double precision, jsonb, jsonb)'] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, anon, authenticated', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', f);
  END LOOP;
END
$$;
