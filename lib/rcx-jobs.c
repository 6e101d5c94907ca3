/* rcx-jobs.c: the runner's job records in Supabase (see rcx-jobs.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "rcx-jobs"

#include "rcx-jobs.h"

G_DEFINE_QUARK (rcx-jobs-error-quark, rcx_jobs_error);

#define DEFAULT_PERSISTENCE 120
#define DEFAULT_STALE_AFTER 900

struct _RcxJobs
{
  RcxPostgrest *pg;
  gchar *worker_id;
  guint persistence;
  guint stale_after;
};

const gchar *
rcx_job_claim_to_string (RcxJobClaim claim)
{
  switch (claim) {
    case RCX_JOB_CLAIMED:
      return "claimed";
    case RCX_JOB_BUSY:
      return "busy";
    case RCX_JOB_DONE:
      return "done";
    case RCX_JOB_FAILED:
      return "failed";
  }
  return "unknown";
}

void
rcx_job_free (RcxJob * job)
{
  if (job == NULL)
    return;
  g_free (job->id);
  g_free (job->media_id);
  g_free (job->org_id);
  g_free (job->state);
  g_free (job->worker_id);
  g_free (job->updated_at);
  g_free (job);
}

RcxJobs *
rcx_jobs_new (RcxPostgrest * pg, const gchar * worker_id)
{
  RcxJobs *jobs = g_new0 (RcxJobs, 1);

  jobs->pg = rcx_postgrest_ref (pg);
  jobs->worker_id = g_strdup (worker_id);
  jobs->persistence = DEFAULT_PERSISTENCE;
  jobs->stale_after = DEFAULT_STALE_AFTER;
  return jobs;
}

void
rcx_jobs_free (RcxJobs * jobs)
{
  if (jobs == NULL)
    return;
  rcx_postgrest_unref (jobs->pg);
  g_free (jobs->worker_id);
  g_free (jobs);
}

void
rcx_jobs_set_persistence (RcxJobs * jobs, guint seconds)
{
  jobs->persistence = seconds;
}

void
rcx_jobs_set_stale_after (RcxJobs * jobs, guint seconds)
{
  jobs->stale_after = seconds;
}

/* ---- helpers ---------------------------------------------------------- */

static gchar *
dup_string_member (JsonObject * obj, const gchar * name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (node));
}

static RcxJob *
job_from_object (JsonObject * obj)
{
  RcxJob *job = g_new0 (RcxJob, 1);
  JsonNode *node;

  job->id = dup_string_member (obj, "id");
  job->media_id = dup_string_member (obj, "media_id");
  job->org_id = dup_string_member (obj, "org_id");
  job->state = dup_string_member (obj, "state");
  job->worker_id = dup_string_member (obj, "worker_id");
  job->updated_at = dup_string_member (obj, "updated_at");
  node = json_object_get_member (obj, "attempts");
  if (node && JSON_NODE_HOLDS_VALUE (node))
    job->attempts = (gint) json_node_get_int (node);
  node = json_object_get_member (obj, "progress");
  if (node && JSON_NODE_HOLDS_VALUE (node))
    job->progress = json_node_get_double (node);
  return job;
}

/* The one row of @rows as a job, or NULL. */
static RcxJob *
first_job (JsonArray * rows)
{
  if (rows == NULL || json_array_get_length (rows) == 0)
    return NULL;
  return job_from_object (json_array_get_object_element (rows, 0));
}

static gchar *
get_status (RcxJobs * jobs, const gchar * table, const gchar * column,
    const gchar * id, GCancellable * cancellable, GError ** error)
{
  g_autoptr (RcxPostgrestQuery) q = rcx_postgrest_query_new (table);
  g_autoptr (JsonArray) rows = NULL;

  rcx_postgrest_query_eq (q, "id", id);
  rcx_postgrest_query_select (q, column);
  rows = rcx_postgrest_select (jobs->pg, q, cancellable, error);
  if (rows == NULL)
    return NULL;
  if (json_array_get_length (rows) == 0) {
    g_set_error (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_FOUND,
        "%s %s: no such row", table, id);
    return NULL;
  }
  return dup_string_member (json_array_get_object_element (rows, 0), column);
}

static gboolean
is_transient (const GError * error)
{
  if (error == NULL)
    return FALSE;
  if (error->domain == RCX_POSTGREST_ERROR)
    return error->code == RCX_POSTGREST_ERROR_UNAVAILABLE;
  if (error->domain == G_IO_ERROR)
    return error->code != G_IO_ERROR_CANCELLED
        && error->code != G_IO_ERROR_INVALID_ARGUMENT
        && error->code != G_IO_ERROR_NOT_SUPPORTED;
  return FALSE;
}

typedef gboolean (*StepFunc) (RcxJobs * jobs, gpointer data,
    GCancellable * cancellable, GError ** error);

/* Runs @step until it succeeds, fails for good, or the persistence
 * deadline passes; the pause between runs is the standard backoff. */
static gboolean
persist (RcxJobs * jobs, const gchar * what, StepFunc step, gpointer data,
    GCancellable * cancellable, GError ** error)
{
  RcxRetryPolicy *policy =
      rcx_http_client_get_retry_policy (rcx_postgrest_get_http_client
      (jobs->pg));
  gint64 deadline = g_get_monotonic_time () +
      (gint64) jobs->persistence * G_USEC_PER_SEC;
  guint round;

  for (round = 0;; round++) {
    g_autoptr (GError) local = NULL;
    gint64 delay, now;

    if (step (jobs, data, cancellable, &local))
      return TRUE;
    now = g_get_monotonic_time ();
    if (!is_transient (local) || now >= deadline) {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
    delay = rcx_retry_policy_backoff (policy, MIN (round, 8));
    delay = MAX (delay, 50 * G_TIME_SPAN_MILLISECOND);
    delay = MIN (delay, deadline - now);
    g_info ("%s: %s; trying again in %" G_GINT64_FORMAT " ms", what,
        local->message, delay / 1000);
    if (!rcx_retry_sleep (delay, cancellable, error))
      return FALSE;
  }
}

/* PATCH @table row @id from @from (NULL: any) with @patch; TRUE when a row
 * changed (*@changed) or the row already is in one of @done_states. */
static gboolean
transition_full (RcxJobs * jobs, const gchar * table, const gchar * column,
    const gchar * id, const gchar * const *from, gboolean ours,
    JsonObject * patch, const gchar * const *done_states, gchar ** status_out,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (RcxPostgrestQuery) q = rcx_postgrest_query_new (table);
  g_autoptr (JsonArray) rows = NULL;
  g_autofree gchar *now = NULL;

  rcx_postgrest_query_eq (q, "id", id);
  if (from && from[1] == NULL)
    rcx_postgrest_query_eq (q, column, from[0]);
  else if (from)
    rcx_postgrest_query_in (q, column, from);
  if (ours && jobs->worker_id)
    rcx_postgrest_query_eq (q, "worker_id", jobs->worker_id);
  rcx_postgrest_query_select (q, "id");
  rows = rcx_postgrest_update (jobs->pg, q, patch, TRUE, cancellable, error);
  if (rows == NULL)
    return FALSE;
  if (json_array_get_length (rows) > 0)
    return TRUE;

  /* nothing matched: already done (a repeat), or a wrong state */
  now = get_status (jobs, table, column, id, cancellable, error);
  if (now == NULL)
    return FALSE;
  if (done_states && g_strv_contains (done_states, now)) {
    if (status_out)
      *status_out = g_steal_pointer (&now);
    return TRUE;
  }
  g_set_error (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_WRONG_STATE,
      "%s %s is %s%s", table, id, now, ours ? " (or not this worker's)" : "");
  return FALSE;
}

static gboolean
transition (RcxJobs * jobs, const gchar * table, const gchar * column,
    const gchar * id, const gchar * const *from, gboolean ours,
    JsonObject * patch, const gchar * const *done_states,
    GCancellable * cancellable, GError ** error)
{
  return transition_full (jobs, table, column, id, from, ours, patch,
      done_states, NULL, cancellable, error);
}

/* ---- reads and claims ------------------------------------------------- */

RcxJob *
rcx_jobs_get (RcxJobs * jobs, const gchar * job_id,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (RcxPostgrestQuery) q = rcx_postgrest_query_new ("jobs");
  g_autoptr (JsonArray) rows = NULL;
  RcxJob *job;

  rcx_postgrest_query_eq (q, "id", job_id);
  rows = rcx_postgrest_select (jobs->pg, q, cancellable, error);
  if (rows == NULL)
    return NULL;
  job = first_job (rows);
  if (job == NULL)
    g_set_error (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_FOUND,
        "job %s: no such job", job_id);
  return job;
}

static gboolean
media_to_transcoding (RcxJobs * jobs, const gchar * media_id,
    GCancellable * cancellable, GError ** error)
{
  static const gchar *const from_failed[] = { "failed", NULL };
  static const gchar *const from_uploaded[] = { "uploaded", NULL };
  static const gchar *const ok[] = { "transcoding", "transcoded",
    "complete", "failed", NULL
  };
  static const gchar *const ok2[] = { "transcoding", "transcoded",
    "complete", NULL
  };
  g_autoptr (JsonObject) to_uploaded = json_object_new ();
  g_autoptr (JsonObject) to_transcoding = json_object_new ();
  g_autofree gchar *status = NULL;

  /* the usual case: one request */
  json_object_set_string_member (to_transcoding, "status", "transcoding");
  if (!transition_full (jobs, "media_assets", "status", media_id,
          from_uploaded, FALSE, to_transcoding, ok, &status, cancellable,
          error))
    return FALSE;
  if (g_strcmp0 (status, "failed") != 0)
    return TRUE;

  /* an explicitly retried job: its media asset failed before */
  json_object_set_string_member (to_uploaded, "status", "uploaded");
  if (!transition (jobs, "media_assets", "status", media_id, from_failed,
          FALSE, to_uploaded, ok2, cancellable, error))
    return FALSE;
  return transition (jobs, "media_assets", "status", media_id, from_uploaded,
      FALSE, to_transcoding, ok2, cancellable, error);
}

/* TRUE when @job (running) has not moved for stale_after seconds by our
 * clock; the database checks again with its own. */
static gboolean
job_is_stale (RcxJobs * jobs, RcxJob * job)
{
  g_autoptr (GDateTime) updated = NULL;
  g_autoptr (GDateTime) now = NULL;

  if (jobs->stale_after == 0 || job->updated_at == NULL)
    return FALSE;
  updated = g_date_time_new_from_iso8601 (job->updated_at, NULL);
  if (updated == NULL)
    return FALSE;
  now = g_date_time_new_now_utc ();
  return g_date_time_difference (now, updated) >
      (GTimeSpan) jobs->stale_after * G_TIME_SPAN_SECOND;
}

/* Takes over a stale running job: guarded by the exact updated_at we read,
 * so of two takers one wins and a job that moved meanwhile stays put.
 * Returns the row when it is ours, NULL (no error) when not. */
static RcxJob *
take_over (RcxJobs * jobs, RcxJob * job, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (RcxPostgrestQuery) q = rcx_postgrest_query_new ("jobs");
  g_autoptr (JsonObject) patch = json_object_new ();
  g_autoptr (JsonArray) rows = NULL;
  g_autoptr (GError) local = NULL;

  rcx_postgrest_query_eq (q, "id", job->id);
  rcx_postgrest_query_eq (q, "state", "running");
  rcx_postgrest_query_eq (q, "updated_at", job->updated_at);
  json_object_set_string_member (patch, "worker_id", jobs->worker_id);
  rows = rcx_postgrest_update (jobs->pg, q, patch, TRUE, cancellable, &local);
  if (rows == NULL) {
    /* the database says it is not stale yet: busy */
    if (g_error_matches (local, RCX_POSTGREST_ERROR,
            RCX_POSTGREST_ERROR_REJECTED)) {
      g_info ("job %s: not taken over: %s", job->id, local->message);
      return NULL;
    }
    g_propagate_error (error, g_steal_pointer (&local));
    return NULL;
  }
  return first_job (rows);
}

static gboolean
claimed (RcxJobs * jobs, RcxJob * job, RcxJobClaim * claim, RcxJob ** job_out,
    GCancellable * cancellable, GError ** error)
{
  gboolean ok = TRUE;

  *claim = RCX_JOB_CLAIMED;
  g_info ("job %s claimed by %s (attempt %d)", job->id, jobs->worker_id,
      job->attempts);
  if (job->media_id)
    ok = media_to_transcoding (jobs, job->media_id, cancellable, error);
  if (job_out)
    *job_out = job;
  else
    rcx_job_free (job);
  return ok;
}

gboolean
rcx_jobs_claim (RcxJobs * jobs, const gchar * job_id, RcxJobClaim * claim,
    RcxJob ** job_out, GCancellable * cancellable, GError ** error)
{
  guint tries;

  g_return_val_if_fail (claim != NULL, FALSE);
  g_return_val_if_fail (jobs->worker_id != NULL, FALSE);

  for (tries = 0; tries < 3; tries++) {
    g_autoptr (RcxPostgrestQuery) q = rcx_postgrest_query_new ("jobs");
    g_autoptr (JsonObject) patch = json_object_new ();
    g_autoptr (JsonArray) rows = NULL;
    g_autoptr (RcxJob) job = NULL;

    rcx_postgrest_query_eq (q, "id", job_id);
    rcx_postgrest_query_eq (q, "state", "queued");
    json_object_set_string_member (patch, "state", "running");
    json_object_set_string_member (patch, "worker_id", jobs->worker_id);
    rows = rcx_postgrest_update (jobs->pg, q, patch, TRUE, cancellable, error);
    if (rows == NULL)
      return FALSE;

    job = first_job (rows);
    if (job != NULL)
      return claimed (jobs, g_steal_pointer (&job), claim, job_out,
          cancellable, error);

    /* not claimed: tell why */
    job = rcx_jobs_get (jobs, job_id, cancellable, error);
    if (job == NULL)
      return FALSE;
    if (g_strcmp0 (job->state, "queued") == 0)
      continue;                 /* released meanwhile: try again */
    if (g_strcmp0 (job->state, "running") == 0
        && g_strcmp0 (job->worker_id, jobs->worker_id) != 0
        && job_is_stale (jobs, job)) {
      g_autoptr (GError) local = NULL;
      RcxJob *taken;

      g_info ("job %s: running on %s without an update since %s: taking "
          "it over", job_id, job->worker_id, job->updated_at);
      taken = take_over (jobs, job, cancellable, &local);
      if (local) {
        g_propagate_error (error, g_steal_pointer (&local));
        return FALSE;
      }
      if (taken)
        return claimed (jobs, taken, claim, job_out, cancellable, error);
    }
    if (g_strcmp0 (job->state, "running") == 0)
      *claim = RCX_JOB_BUSY;
    else if (g_strcmp0 (job->state, "succeeded") == 0)
      *claim = RCX_JOB_DONE;
    else
      *claim = RCX_JOB_FAILED;
    g_info ("job %s not claimed: %s", job_id, job->state);
    if (job_out)
      *job_out = g_steal_pointer (&job);
    return TRUE;
  }
  *claim = RCX_JOB_BUSY;
  return TRUE;
}

gboolean
rcx_jobs_progress (RcxJobs * jobs, const gchar * job_id, gdouble percent,
    GCancellable * cancellable, GError ** error)
{
  static const gchar *const running[] = { "running", NULL };
  g_autoptr (JsonObject) patch = json_object_new ();

  json_object_set_double_member (patch, "progress", CLAMP (percent, 0, 100));
  return transition (jobs, "jobs", "state", job_id, running, TRUE, patch,
      NULL, cancellable, error);
}

/* ---- final states ----------------------------------------------------- */

typedef struct
{
  const gchar *job_id;
  const gchar *media_id;
  const RcxJobOutputs *outputs;
  const gchar *reason;
} FinalData;

static gboolean
succeed_step (RcxJobs * jobs, gpointer data, GCancellable * cancellable,
    GError ** error)
{
  static const gchar *const transcoding[] = { "transcoding", NULL };
  static const gchar *const transcoded[] = { "transcoded", NULL };
  static const gchar *const running[] = { "running", NULL };
  static const gchar *const past_transcoding[] =
      { "transcoded", "complete", NULL };
  static const gchar *const complete[] = { "complete", NULL };
  static const gchar *const succeeded[] = { "succeeded", NULL };
  FinalData *d = data;
  g_autoptr (JsonObject) m1 = json_object_new ();
  g_autoptr (JsonObject) m2 = json_object_new ();
  g_autoptr (JsonObject) j = json_object_new ();

  if (d->media_id) {
    json_object_set_string_member (m1, "status", "transcoded");
    if (d->outputs->duration_s >= 0)
      json_object_set_double_member (m1, "duration_s", d->outputs->duration_s);
    if (d->outputs->renditions)
      json_object_set_member (m1, "renditions",
          json_node_copy (d->outputs->renditions));
    if (!transition (jobs, "media_assets", "status", d->media_id, transcoding,
            FALSE, m1, past_transcoding, cancellable, error))
      return FALSE;

    json_object_set_string_member (m2, "status", "complete");
    json_object_set_string_member (m2, "streaming_url",
        d->outputs->streaming_url);
    if (d->outputs->thumbnail_url)
      json_object_set_string_member (m2, "thumbnail_url",
          d->outputs->thumbnail_url);
    if (!transition (jobs, "media_assets", "status", d->media_id, transcoded,
            FALSE, m2, complete, cancellable, error))
      return FALSE;
  }

  json_object_set_string_member (j, "state", "succeeded");
  return transition (jobs, "jobs", "state", d->job_id, running, TRUE, j,
      succeeded, cancellable, error);
}

gboolean
rcx_jobs_succeed (RcxJobs * jobs, const gchar * job_id,
    const gchar * media_id, const RcxJobOutputs * outputs,
    GCancellable * cancellable, GError ** error)
{
  FinalData d = { job_id, media_id, outputs, NULL };

  g_return_val_if_fail (outputs != NULL && outputs->streaming_url != NULL,
      FALSE);
  if (!persist (jobs, "succeed", succeed_step, &d, cancellable, error))
    return FALSE;
  g_info ("job %s succeeded", job_id);
  return TRUE;
}

static gboolean
fail_step (RcxJobs * jobs, gpointer data, GCancellable * cancellable,
    GError ** error)
{
  static const gchar *const live[] = { "uploaded", "transcoding",
    "transcoded", NULL
  };
  static const gchar *const media_done[] = { "failed", "complete", NULL };
  static const gchar *const running[] = { "running", NULL };
  static const gchar *const failed[] = { "failed", NULL };
  FinalData *d = data;
  g_autoptr (JsonObject) m = json_object_new ();
  g_autoptr (JsonObject) j = json_object_new ();

  if (d->media_id) {
    json_object_set_string_member (m, "status", "failed");
    json_object_set_string_member (m, "error_reason", d->reason);
    if (!transition (jobs, "media_assets", "status", d->media_id, live, FALSE,
            m, media_done, cancellable, error))
      return FALSE;
  }
  json_object_set_string_member (j, "state", "failed");
  json_object_set_string_member (j, "error_reason", d->reason);
  return transition (jobs, "jobs", "state", d->job_id, running, TRUE, j,
      failed, cancellable, error);
}

gboolean
rcx_jobs_fail (RcxJobs * jobs, const gchar * job_id, const gchar * media_id,
    const gchar * reason, GCancellable * cancellable, GError ** error)
{
  FinalData d = { job_id, media_id, NULL, reason ? reason : "unknown error" };

  if (!persist (jobs, "fail", fail_step, &d, cancellable, error))
    return FALSE;
  g_info ("job %s failed: %s", job_id, d.reason);
  return TRUE;
}

static gboolean
release_step (RcxJobs * jobs, gpointer data, GCancellable * cancellable,
    GError ** error)
{
  static const gchar *const transcoding[] = { "transcoding", NULL };
  static const gchar *const media_any[] = { "uploaded", "transcoded",
    "complete", "failed", NULL
  };
  static const gchar *const running[] = { "running", NULL };
  static const gchar *const job_any[] = { "queued", "running", "succeeded",
    "failed", NULL
  };
  FinalData *d = data;
  g_autoptr (JsonObject) m = json_object_new ();
  g_autoptr (JsonObject) j = json_object_new ();

  /* the media asset first: once the job is queued another worker may
   * claim it and move the media asset itself */
  if (d->media_id) {
    json_object_set_string_member (m, "status", "uploaded");
    if (!transition (jobs, "media_assets", "status", d->media_id,
            transcoding, FALSE, m, media_any, cancellable, error))
      return FALSE;
  }
  /* not ours any more (or not running): nothing to release */
  json_object_set_string_member (j, "state", "queued");
  return transition (jobs, "jobs", "state", d->job_id, running, TRUE, j,
      job_any, cancellable, error);
}

gboolean
rcx_jobs_release (RcxJobs * jobs, const gchar * job_id,
    const gchar * media_id, GCancellable * cancellable, GError ** error)
{
  FinalData d = { job_id, media_id, NULL, NULL };

  if (!persist (jobs, "release", release_step, &d, cancellable, error))
    return FALSE;
  g_info ("job %s released", job_id);
  return TRUE;
}

/* ---- lookup for the SQS worker ------------------------------------------ */

void
rcx_job_lookup_free (RcxJobLookup * lookup)
{
  if (lookup == NULL)
    return;
  g_free (lookup->job_id);
  g_free (lookup->media_id);
  g_free (lookup->org_id);
  g_free (lookup->state);
  g_free (lookup->worker_id);
  g_free (lookup->media_org_id);
  g_free (lookup->source_key);
  g_free (lookup);
}

RcxJobLookup *
rcx_jobs_lookup (RcxJobs * jobs, const gchar * job_id,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (RcxPostgrestQuery) jq = rcx_postgrest_query_new ("jobs");
  g_autoptr (RcxPostgrestQuery) mq = rcx_postgrest_query_new ("media_assets");
  g_autoptr (JsonArray) jrows = NULL;
  g_autoptr (JsonArray) mrows = NULL;
  g_autoptr (RcxJobLookup) lookup = NULL;
  JsonObject *row;

  rcx_postgrest_query_eq (jq, "id", job_id);
  rcx_postgrest_query_select (jq, "id,media_id,org_id,state,worker_id");
  jrows = rcx_postgrest_select (jobs->pg, jq, cancellable, error);
  if (jrows == NULL)
    return NULL;
  if (json_array_get_length (jrows) == 0) {
    g_set_error (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_FOUND,
        "job %s: no such job", job_id);
    return NULL;
  }
  row = json_array_get_object_element (jrows, 0);
  lookup = g_new0 (RcxJobLookup, 1);
  lookup->job_id = g_strdup (job_id);
  lookup->media_id = dup_string_member (row, "media_id");
  lookup->org_id = dup_string_member (row, "org_id");
  lookup->state = dup_string_member (row, "state");
  lookup->worker_id = dup_string_member (row, "worker_id");
  if (lookup->media_id == NULL)
    return g_steal_pointer (&lookup);

  rcx_postgrest_query_eq (mq, "id", lookup->media_id);
  rcx_postgrest_query_select (mq, "org_id,source_key");
  mrows = rcx_postgrest_select (jobs->pg, mq, cancellable, error);
  if (mrows == NULL)
    return NULL;
  if (json_array_get_length (mrows) > 0) {
    row = json_array_get_object_element (mrows, 0);
    lookup->media_org_id = dup_string_member (row, "org_id");
    lookup->source_key = dup_string_member (row, "source_key");
  }
  return g_steal_pointer (&lookup);
}

gboolean
rcx_job_lookup_matches (const RcxJobLookup * lookup, const gchar * media_id,
    const gchar * org_id, GError ** error)
{
  const gchar *why = NULL;

  /* ids are UUIDs in the database; compare them as the database spells
   * them (lower case) */
  if (lookup->media_id == NULL
      || g_ascii_strcasecmp (lookup->media_id, media_id) != 0)
    why = "the message's media_id is not the job's";
  else if (lookup->org_id == NULL
      || g_ascii_strcasecmp (lookup->org_id, org_id) != 0)
    why = "the message's org_id is not the job's";
  else if (lookup->media_org_id == NULL)
    why = "the job's media asset does not exist";
  else if (g_ascii_strcasecmp (lookup->media_org_id, org_id) != 0)
    why = "the organisation does not own the media";
  if (why == NULL)
    return TRUE;
  g_set_error_literal (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_FOUND, why);
  return FALSE;
}
