/* rcx-jobs.c: the runner's job records in Supabase (see rcx-jobs.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "rcx-jobs"

#include "rcx-jobs.h"
#include "rcx-sanitize.h"

#include <string.h>

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
    case RCX_JOB_EXHAUSTED:
      return "exhausted";
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
  g_free (job->error_reason);
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
  job->error_reason = dup_string_member (obj, "error_reason");
  /* numbers only: a server's string or object here is ignored */
  node = json_object_get_member (obj, "attempts");
  if (node && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_INT64)
    job->attempts = (gint) CLAMP (json_node_get_int (node), 0, G_MAXINT);
  node = json_object_get_member (obj, "progress");
  if (node && JSON_NODE_HOLDS_VALUE (node)
      && (json_node_get_value_type (node) == G_TYPE_DOUBLE
          || json_node_get_value_type (node) == G_TYPE_INT64))
    job->progress = json_node_get_double (node);
  return job;
}

/* The first row of @rows as a job; an error unless it is an object with
 * an id and a state. */
static RcxJob *
first_job (JsonArray * rows, GError ** error)
{
  JsonNode *node = json_array_get_length (rows) > 0 ?
      json_array_get_element (rows, 0) : NULL;
  RcxJob *job;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error_literal (error, RCX_POSTGREST_ERROR,
        RCX_POSTGREST_ERROR_INVALID, "jobs: the answer's row is not an object");
    return NULL;
  }
  job = job_from_object (json_node_get_object (node));
  if (job->id == NULL || job->state == NULL) {
    rcx_job_free (job);
    g_set_error_literal (error, RCX_POSTGREST_ERROR,
        RCX_POSTGREST_ERROR_INVALID, "jobs: the answer's row has no id or "
        "state");
    return NULL;
  }
  return job;
}

gboolean
rcx_jobs_worker_id_is_valid (const gchar * worker_id)
{
  gsize i;

  if (worker_id == NULL || worker_id[0] == '\0' || worker_id[0] == '-')
    return FALSE;
  for (i = 0; worker_id[i] != '\0'; i++) {
    if (i >= 128)
      return FALSE;
    if (!g_ascii_isalnum (worker_id[i])
        && strchr ("_-.:/", worker_id[i]) == NULL)
      return FALSE;
  }
  return TRUE;
}

gchar *
rcx_jobs_reason_sanitize (const gchar * reason)
{
  if (reason == NULL || *reason == '\0')
    return g_strdup ("unknown error");
  return rcx_sanitize_text (reason, -1, RCX_JOBS_REASON_MAX);
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

gboolean
rcx_jobs_error_is_transient (const GError * error)
{
  return is_transient (error);
}

typedef gboolean (*StepFunc) (RcxJobs * jobs, gpointer data,
    GCancellable * cancellable, GError ** error);

/* Runs @step until it succeeds, fails for good, or the persistence
 * deadline passes; the pause between runs is the standard backoff. Every
 * step is one database function that checks ownership, so running it
 * again after a lost answer changes nothing twice. */
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

/* ---- the database functions (db/migrations/005_job_functions.sql) ----- */

/* Calls @fn and checks its answer: an object whose "outcome" is one of
 * @outcomes (returned, static) and whose "job", when there is one, is a job
 * row (*@job_out). Anything else is RCX_POSTGREST_ERROR_INVALID: a hostile
 * or broken server never gets further than this. */
static const gchar *
call (RcxJobs * jobs, const gchar * fn, JsonObject * args,
    const gchar * const *outcomes, RcxJob ** job_out,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *obj;
  JsonNode *node;
  const gchar *outcome;
  guint i;

  if (job_out)
    *job_out = NULL;
  root = rcx_postgrest_rpc (jobs->pg, fn, args, cancellable, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, RCX_POSTGREST_ERROR, RCX_POSTGREST_ERROR_INVALID,
        "%s: the answer is not an object", fn);
    return NULL;
  }
  obj = json_node_get_object (root);
  node = json_object_get_member (obj, "outcome");
  outcome = node && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING ?
      json_node_get_string (node) : NULL;
  for (i = 0; outcome && outcomes[i]; i++)
    if (g_strcmp0 (outcome, outcomes[i]) == 0)
      break;
  if (outcome == NULL || outcomes[i] == NULL) {
    g_set_error (error, RCX_POSTGREST_ERROR, RCX_POSTGREST_ERROR_INVALID,
        "%s: the answer has no known outcome", fn);
    return NULL;
  }
  node = json_object_get_member (obj, "job");
  if (node && JSON_NODE_HOLDS_OBJECT (node)) {
    RcxJob *job = job_from_object (json_node_get_object (node));

    if (job->id == NULL || job->state == NULL) {
      rcx_job_free (job);
      g_set_error (error, RCX_POSTGREST_ERROR, RCX_POSTGREST_ERROR_INVALID,
          "%s: the answer's job has no id or state", fn);
      return NULL;
    }
    if (job_out)
      *job_out = job;
    else
      rcx_job_free (job);
  } else if (node && !JSON_NODE_HOLDS_NULL (node)) {
    g_set_error (error, RCX_POSTGREST_ERROR, RCX_POSTGREST_ERROR_INVALID,
        "%s: the answer's job is not an object", fn);
    return NULL;
  }
  return outcomes[i];
}

static JsonObject *
args_new (const gchar * job_id, const gchar * worker_id)
{
  JsonObject *args = json_object_new ();

  json_object_set_string_member (args, "p_job_id", job_id);
  if (worker_id)
    json_object_set_string_member (args, "p_worker_id", worker_id);
  else
    json_object_set_null_member (args, "p_worker_id");
  return args;
}

static void
set_not_ours (GError ** error, const gchar * job_id, const gchar * what,
    RcxJob * job)
{
  g_set_error (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_OURS,
      "job %s: not %s: it is %s%s%s", job_id, what,
      job ? job->state : "gone", job && job->worker_id ? " on " : "",
      job && job->worker_id ? job->worker_id : "");
}

/* ---- reads and claims ------------------------------------------------- */

RcxJob *
rcx_jobs_get (RcxJobs * jobs, const gchar * job_id,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (RcxPostgrestQuery) q = rcx_postgrest_query_new ("jobs");
  g_autoptr (JsonArray) rows = NULL;

  rcx_postgrest_query_eq (q, "id", job_id);
  rows = rcx_postgrest_select (jobs->pg, q, cancellable, error);
  if (rows == NULL)
    return NULL;
  if (json_array_get_length (rows) == 0) {
    g_set_error (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_FOUND,
        "job %s: no such job", job_id);
    return NULL;
  }
  return first_job (rows, error);
}

gboolean
rcx_jobs_claim (RcxJobs * jobs, const gchar * job_id, RcxJobClaim * claim,
    RcxJob ** job_out, GCancellable * cancellable, GError ** error)
{
  static const gchar *const outcomes[] = { "claimed", "busy", "done",
    "failed", "exhausted", "not-found", NULL
  };
  g_autoptr (JsonObject) args = NULL;
  g_autoptr (RcxJob) job = NULL;
  const gchar *outcome;

  g_return_val_if_fail (claim != NULL, FALSE);
  g_return_val_if_fail (jobs->worker_id != NULL, FALSE);

  args = args_new (job_id, jobs->worker_id);
  json_object_set_int_member (args, "p_stale_after_s", jobs->stale_after);
  outcome = call (jobs, "rcx_job_claim", args, outcomes, &job, cancellable,
      error);
  if (outcome == NULL)
    return FALSE;
  if (g_str_equal (outcome, "not-found")) {
    g_set_error (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_FOUND,
        "job %s: no such job", job_id);
    return FALSE;
  }
  if (job == NULL) {
    g_set_error (error, RCX_POSTGREST_ERROR, RCX_POSTGREST_ERROR_INVALID,
        "rcx_job_claim: the answer has no job");
    return FALSE;
  }
  if (g_str_equal (outcome, "claimed")) {
    /* the database says ours: check that its row says so too */
    if (g_strcmp0 (job->state, "running") != 0
        || g_strcmp0 (job->worker_id, jobs->worker_id) != 0) {
      g_set_error (error, RCX_POSTGREST_ERROR, RCX_POSTGREST_ERROR_INVALID,
          "rcx_job_claim: claimed, but the row is not running here");
      return FALSE;
    }
    *claim = RCX_JOB_CLAIMED;
    g_info ("job %s claimed by %s (attempt %d)", job_id, jobs->worker_id,
        job->attempts);
  } else if (g_str_equal (outcome, "busy")) {
    *claim = RCX_JOB_BUSY;
  } else if (g_str_equal (outcome, "done")) {
    *claim = RCX_JOB_DONE;
  } else if (g_str_equal (outcome, "exhausted")) {
    *claim = RCX_JOB_EXHAUSTED;
  } else {
    *claim = RCX_JOB_FAILED;
  }
  if (*claim != RCX_JOB_CLAIMED)
    g_info ("job %s not claimed: %s", job_id, outcome);
  if (job_out)
    *job_out = g_steal_pointer (&job);
  return TRUE;
}

gboolean
rcx_jobs_progress (RcxJobs * jobs, const gchar * job_id, gdouble percent,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (JsonObject) args = args_new (job_id, jobs->worker_id);
  g_autoptr (JsonNode) root = NULL;

  if (percent >= 0)
    json_object_set_double_member (args, "p_progress", MIN (percent, 100));
  else
    json_object_set_null_member (args, "p_progress");
  root = rcx_postgrest_rpc (jobs->pg, "rcx_job_heartbeat", args, cancellable,
      error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (root)
      || json_node_get_value_type (root) != G_TYPE_BOOLEAN) {
    g_set_error (error, RCX_POSTGREST_ERROR, RCX_POSTGREST_ERROR_INVALID,
        "rcx_job_heartbeat: the answer is not a boolean");
    return FALSE;
  }
  if (!json_node_get_boolean (root)) {
    g_set_error (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_OURS,
        "job %s is not running%s%s any more", job_id,
        jobs->worker_id ? " on " : "", jobs->worker_id ? jobs->worker_id : "");
    return FALSE;
  }
  return TRUE;
}

/* ---- final states ----------------------------------------------------- */

typedef struct
{
  const gchar *job_id;
  const gchar *media_id;
  const RcxJobOutputs *outputs;
  const gchar *reason;
  gchar **state_out;            /* give_up: the job's state afterwards */
} FinalData;

static gboolean
succeed_step (RcxJobs * jobs, gpointer data, GCancellable * cancellable,
    GError ** error)
{
  static const gchar *const outcomes[] = { "succeeded", "not-ours",
    "not-found", NULL
  };
  FinalData *d = data;
  g_autoptr (JsonObject) args = args_new (d->job_id, jobs->worker_id);
  g_autoptr (RcxJob) job = NULL;
  const gchar *outcome;

  json_object_set_string_member (args, "p_streaming_url",
      d->outputs->streaming_url);
  if (d->outputs->thumbnail_url)
    json_object_set_string_member (args, "p_thumbnail_url",
        d->outputs->thumbnail_url);
  if (d->outputs->duration_s >= 0)
    json_object_set_double_member (args, "p_duration_s",
        d->outputs->duration_s);
  if (d->outputs->renditions)
    json_object_set_member (args, "p_renditions",
        json_node_copy (d->outputs->renditions));
  if (d->outputs->warnings)
    json_object_set_member (args, "p_warnings",
        json_node_copy (d->outputs->warnings));
  outcome = call (jobs, "rcx_job_succeed", args, outcomes, &job, cancellable,
      error);
  if (outcome == NULL)
    return FALSE;
  if (!g_str_equal (outcome, "succeeded")) {
    set_not_ours (error, d->job_id, "succeeded by this worker", job);
    return FALSE;
  }
  return TRUE;
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
  static const gchar *const outcomes[] = { "failed", "not-ours",
    "not-found", NULL
  };
  FinalData *d = data;
  g_autoptr (JsonObject) args = args_new (d->job_id, jobs->worker_id);
  g_autoptr (RcxJob) job = NULL;
  const gchar *outcome;

  json_object_set_string_member (args, "p_reason", d->reason);
  outcome = call (jobs, "rcx_job_fail", args, outcomes, &job, cancellable,
      error);
  if (outcome == NULL)
    return FALSE;
  if (!g_str_equal (outcome, "failed")) {
    set_not_ours (error, d->job_id, "failed by this worker", job);
    return FALSE;
  }
  return TRUE;
}

gboolean
rcx_jobs_fail (RcxJobs * jobs, const gchar * job_id, const gchar * media_id,
    const gchar * reason, GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *line = rcx_jobs_reason_sanitize (reason);
  FinalData d = { job_id, media_id, NULL, line };

  if (!persist (jobs, "fail", fail_step, &d, cancellable, error))
    return FALSE;
  g_info ("job %s failed: %s", job_id, d.reason);
  return TRUE;
}

static gboolean
give_up_step (RcxJobs * jobs, gpointer data, GCancellable * cancellable,
    GError ** error)
{
  static const gchar *const outcomes[] = { "failed", "busy", "done",
    "already-failed", "not-found", NULL
  };
  FinalData *d = data;
  g_autoptr (JsonObject) args = json_object_new ();
  g_autoptr (RcxJob) job = NULL;
  const gchar *outcome;

  json_object_set_string_member (args, "p_job_id", d->job_id);
  json_object_set_string_member (args, "p_reason", d->reason);
  json_object_set_int_member (args, "p_stale_after_s", jobs->stale_after);
  outcome = call (jobs, "rcx_job_give_up", args, outcomes, &job, cancellable,
      error);
  if (outcome == NULL)
    return FALSE;
  if (g_str_equal (outcome, "not-found")) {
    g_set_error (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_FOUND,
        "job %s: no such job", d->job_id);
    return FALSE;
  }
  g_info ("job %s: give up: %s", d->job_id, outcome);
  if (d->state_out)
    *d->state_out = g_strdup (job ? job->state : NULL);
  return TRUE;
}

gboolean
rcx_jobs_give_up (RcxJobs * jobs, const gchar * job_id, const gchar * reason,
    gchar ** state_out, GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *line = rcx_jobs_reason_sanitize (reason);
  FinalData d = { job_id, NULL, NULL, line, state_out };

  if (state_out)
    *state_out = NULL;
  return persist (jobs, "give up", give_up_step, &d, cancellable, error);
}

static gboolean
release_step (RcxJobs * jobs, gpointer data, GCancellable * cancellable,
    GError ** error)
{
  static const gchar *const outcomes[] = { "released", "not-ours",
    "not-found", NULL
  };
  FinalData *d = data;
  g_autoptr (JsonObject) args = args_new (d->job_id, jobs->worker_id);
  g_autoptr (RcxJob) job = NULL;
  const gchar *outcome;

  /* the job and its media asset move back together, only while ours: a
   * worker whose job was taken over releases nothing */
  outcome = call (jobs, "rcx_job_release", args, outcomes, &job, cancellable,
      error);
  if (outcome == NULL)
    return FALSE;
  if (!g_str_equal (outcome, "released"))
    g_info ("job %s: nothing to release (%s, %s)", d->job_id, outcome,
        job ? job->state : "gone");
  return TRUE;
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
