/* rcx-job-run.c: a transcode run as a Supabase job (see rcx-job-run.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-job-run.h"

#include <unistd.h>

#include "rcx-ids.h"
#include "rcx-jobs.h"

/* Per HTTP attempt; the client makes up to 3 attempts with backoff. */
#define DB_TIMEOUT 10
/* Releasing on SIGTERM must end well inside ECS's stopTimeout (30 s by
 * default): the whole release gets this long, then it is cancelled. */
#define RELEASE_BUDGET 15

/* ---- options ----------------------------------------------------------- */

void
rcx_job_run_options_clear (RcxJobRunOptions * options)
{
  g_clear_pointer (&options->job_id, g_free);
  g_clear_pointer (&options->worker_id, g_free);
  g_clear_pointer (&options->entries, g_free);
}

const GOptionEntry *
rcx_job_run_option_entries (RcxJobRunOptions * options)
{
  const GOptionEntry entries[] = {
    {"job-id", 0, 0, G_OPTION_ARG_STRING, &options->job_id,
        "Run as this job of the Supabase jobs table: claim it, write its "
          "progress, record the outputs or the failure ($SUPABASE_URL, "
          "$SUPABASE_SERVICE_KEY)", "ID"},
    {"worker-id", 0, 0, G_OPTION_ARG_STRING, &options->worker_id,
        "Who claims the job (default: <host>-<pid>)", "ID"},
    {"job-progress-interval", 0, 0, G_OPTION_ARG_DOUBLE,
          &options->progress_interval,
        "Seconds between two progress writes to the job (default: "
          G_STRINGIFY (RCX_JOB_RUN_DEFAULT_PROGRESS_INTERVAL) ")", "SECONDS"},
    {NULL}
  };

  if (options->progress_interval == 0 && !options->entries)
    options->progress_interval = RCX_JOB_RUN_DEFAULT_PROGRESS_INTERVAL;
  g_free (options->entries);
  options->entries = g_memdup2 (entries, sizeof entries);
  return options->entries;
}

/* ---- a cancellable with a deadline ------------------------------------- */

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
  gint64 deadline;
  GCancellable *cancellable;
  GThread *thread;
} Deadline;

static gpointer
deadline_thread (gpointer data)
{
  Deadline *d = data;

  g_mutex_lock (&d->lock);
  while (!d->done) {
    if (!g_cond_wait_until (&d->cond, &d->lock, d->deadline))
      break;
  }
  if (!d->done)
    g_cancellable_cancel (d->cancellable);
  g_mutex_unlock (&d->lock);
  return NULL;
}

static void
deadline_start (Deadline * d, guint seconds)
{
  g_mutex_init (&d->lock);
  g_cond_init (&d->cond);
  d->done = FALSE;
  d->deadline = g_get_monotonic_time () + (gint64) seconds *G_USEC_PER_SEC;
  d->cancellable = g_cancellable_new ();
  d->thread = g_thread_new ("rcx-deadline", deadline_thread, d);
}

static void
deadline_stop (Deadline * d)
{
  g_mutex_lock (&d->lock);
  d->done = TRUE;
  g_cond_signal (&d->cond);
  g_mutex_unlock (&d->lock);
  g_thread_join (d->thread);
  g_object_unref (d->cancellable);
  g_cond_clear (&d->cond);
  g_mutex_clear (&d->lock);
}

/* ---- progress writer --------------------------------------------------- */

/* The transcode reports progress on the main thread (from jobstatus's bus
 * messages); this only stores the newest value. A thread of ours writes it
 * at most every interval, so a slow or dead database never holds up the
 * main loop (watchdog, signals) or the pipeline. A failed write is retried
 * after the next interval with the newest value only. */
typedef struct
{
  RcxJobs *jobs;
  const gchar *job_id;
  gint64 interval_us;

  GMutex lock;
  GCond cond;
  gdouble pending;              /* newest value; < 0: none yet */
  gdouble stored;               /* last value written; < 0: none */
  gboolean stop;
  gboolean flush;               /* write the newest value now */
  gboolean exited;
  guint writes;
  guint failures;

  GCancellable *cancellable;
  GThread *thread;
} ProgressWriter;

static gboolean
write_is_hopeless (const GError * error)
{
  return error->domain == RCX_JOBS_ERROR
      || g_error_matches (error, RCX_POSTGREST_ERROR, RCX_POSTGREST_ERROR_AUTH)
      || g_error_matches (error, RCX_POSTGREST_ERROR,
      RCX_POSTGREST_ERROR_REJECTED);
}

static gpointer
writer_thread (gpointer data)
{
  ProgressWriter *w = data;
  gint64 next = 0;

  g_mutex_lock (&w->lock);
  while (!w->stop) {
    gboolean due = w->pending >= 0 && w->pending != w->stored;

    if (due && (w->flush || g_get_monotonic_time () >= next)) {
      gdouble value = w->pending;
      g_autoptr (GError) error = NULL;
      gboolean ok;

      g_mutex_unlock (&w->lock);
      ok = rcx_jobs_progress (w->jobs, w->job_id, value, w->cancellable,
          &error);
      g_mutex_lock (&w->lock);
      next = g_get_monotonic_time () + w->interval_us;
      g_cond_broadcast (&w->cond);
      if (ok) {
        w->stored = value;
        w->writes++;
        g_debug ("job %s: progress %.1f %% stored", w->job_id, value);
      } else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        break;
      } else if (write_is_hopeless (error)) {
        g_warning ("job %s: not writing progress any more: %s", w->job_id,
            error->message);
        break;
      } else {
        w->failures++;
        g_warning ("job %s: progress not stored (%s); trying again with the "
            "newest value", w->job_id, error->message);
      }
    } else if (due) {
      g_cond_wait_until (&w->cond, &w->lock, next);
    } else {
      g_cond_wait (&w->cond, &w->lock);
    }
  }
  w->exited = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  return NULL;
}

static void
on_progress (gdouble percent, gpointer user_data)
{
  ProgressWriter *w = user_data;

  if (percent < 0)
    return;
  g_mutex_lock (&w->lock);
  w->pending = MIN (percent, 100.0);
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

static void
writer_start (ProgressWriter * w, RcxJobs * jobs, const gchar * job_id,
    gdouble interval_s)
{
  w->jobs = jobs;
  w->job_id = job_id;
  w->interval_us = (gint64) (interval_s * G_USEC_PER_SEC);
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->pending = w->stored = -1;
  w->cancellable = g_cancellable_new ();
  w->thread = g_thread_new ("rcx-job-progress", writer_thread, w);
}

/* With @flush (the transcode succeeded), the newest value (100 at EOS) is
 * written first, for at most DB_TIMEOUT seconds; otherwise it stops at
 * once: a write in flight is cancelled (the final state written next
 * supersedes it anyway). */
static void
writer_stop (ProgressWriter * w, gboolean flush)
{
  gint64 deadline = g_get_monotonic_time () + DB_TIMEOUT * G_USEC_PER_SEC;

  g_mutex_lock (&w->lock);
  if (flush) {
    w->flush = TRUE;
    g_cond_broadcast (&w->cond);
    while (!w->exited && w->pending >= 0 && w->pending != w->stored) {
      if (!g_cond_wait_until (&w->cond, &w->lock, deadline))
        break;
    }
  }
  w->stop = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  g_cancellable_cancel (w->cancellable);
  g_thread_join (w->thread);
  g_info ("job %s: %u progress writes, %u failed", w->job_id, w->writes,
      w->failures);
  g_object_unref (w->cancellable);
  g_cond_clear (&w->cond);
  g_mutex_clear (&w->lock);
}

/* ---- the job ----------------------------------------------------------- */

/* Back to queued, within RELEASE_BUDGET whatever the database does. */
static gboolean
release_job (RcxJobs * jobs, const gchar * job_id, const gchar * media_id)
{
  g_autoptr (GError) error = NULL;
  Deadline d;
  gboolean ok;

  rcx_jobs_set_persistence (jobs, RELEASE_BUDGET);
  deadline_start (&d, RELEASE_BUDGET);
  ok = rcx_jobs_release (jobs, job_id, media_id, d.cancellable, &error);
  deadline_stop (&d);
  if (ok)
    g_message ("job %s released (back to queued)", job_id);
  else
    g_warning ("job %s could not be released: %s", job_id, error->message);
  return ok;
}

static JsonNode *
skipped_summary (const gchar * job_id, RcxJobClaim claim, RcxJob * job)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, "skipped");
  json_builder_set_member_name (b, "job_id");
  json_builder_add_string_value (b, job_id);
  json_builder_set_member_name (b, "job_state");
  json_builder_add_string_value (b, job && job->state ? job->state :
      rcx_job_claim_to_string (claim));
  json_builder_set_member_name (b, "master");
  json_builder_add_null_value (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
add_job_id (JsonNode * summary, const gchar * job_id)
{
  if (summary && JSON_NODE_HOLDS_OBJECT (summary))
    json_object_set_string_member (json_node_get_object (summary), "job_id",
        job_id);
}

static const gchar *
summary_string (JsonObject * o, const gchar * member)
{
  JsonNode *n = json_object_get_member (o, member);

  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_string (n) : NULL;
}

static RcxPostgrest *
open_database (GError ** error)
{
  const gchar *url = g_getenv ("SUPABASE_URL");
  const gchar *key = g_getenv ("SUPABASE_SERVICE_KEY");
  RcxHttpClientOptions hopts = {.timeout = DB_TIMEOUT };
  g_autoptr (RcxHttpClient) http = NULL;
  g_autoptr (GError) local = NULL;
  RcxPostgrest *pg;

  if (!url || !*url || !key || !*key) {
    g_set_error_literal (error, RCX_TRANSCODE_ERROR,
        RCX_TRANSCODE_ERROR_CONFIG, "--job-id needs SUPABASE_URL and "
        "SUPABASE_SERVICE_KEY in the environment");
    return NULL;
  }
  http = rcx_http_client_new (&hopts);
  pg = rcx_postgrest_new (url, key, http, &local);
  if (!pg)
    g_set_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_CONFIG,
        "SUPABASE_URL: %s", local->message);
  return pg;
}

/* After a claim that failed half-way (interrupted, or the media asset
 * could not follow): the job may be ours and running. */
static void
abandon_claim (RcxJobs * jobs, const gchar * job_id, const gchar * worker_id,
    const GError * why)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RcxJob) job = NULL;
  Deadline d;

  deadline_start (&d, RELEASE_BUDGET);
  job = rcx_jobs_get (jobs, job_id, d.cancellable, &error);
  deadline_stop (&d);
  if (!job || g_strcmp0 (job->state, "running") != 0
      || g_strcmp0 (job->worker_id, worker_id) != 0)
    return;
  if (why->domain == RCX_JOBS_ERROR) {
    /* the media asset is in a state no transcode can leave: permanent */
    if (!rcx_jobs_fail (jobs, job_id, NULL, why->message, NULL, &error))
      g_warning ("job %s could not be marked failed: %s", job_id,
          error->message);
  } else {
    release_job (jobs, job_id, job->media_id);
  }
}

JsonNode *
rcx_job_run (RcxJobRunOptions * options,
    const RcxTranscodeOptions * transcode, JsonNode ** failure_out,
    GError ** error)
{
  g_autoptr (RcxPostgrest) pg = NULL;
  g_autoptr (RcxJobs) jobs = NULL;
  g_autoptr (RcxJob) job = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree gchar *worker_id = NULL;
  g_autofree gchar *media_id = NULL;
  RcxTranscodeOptions topts = *transcode;
  GCancellable *cancellable = transcode->cancellable;
  ProgressWriter writer = { 0 };
  RcxJobClaim claim;
  JsonNode *result;
  JsonObject *summary;
  RcxJobOutputs outputs = { 0 };

  if (!rcx_id_is_valid (options->job_id)) {
    g_set_error_literal (error, RCX_TRANSCODE_ERROR,
        RCX_TRANSCODE_ERROR_CONFIG, "--job-id: not a valid id (allowed: "
        "1-128 of A-Z a-z 0-9 _ -)");
    return NULL;
  }
  if (options->worker_id && !rcx_id_is_valid (options->worker_id)) {
    g_set_error_literal (error, RCX_TRANSCODE_ERROR,
        RCX_TRANSCODE_ERROR_CONFIG, "--worker-id: not a valid id (allowed: "
        "1-128 of A-Z a-z 0-9 _ -)");
    return NULL;
  }
  if (options->progress_interval < 0) {
    g_set_error_literal (error, RCX_TRANSCODE_ERROR,
        RCX_TRANSCODE_ERROR_CONFIG, "--job-progress-interval must not be "
        "negative");
    return NULL;
  }
  if (!(pg = open_database (error)))
    return NULL;
  worker_id = options->worker_id ? g_strdup (options->worker_id) :
      g_strdup_printf ("%s-%d", g_get_host_name (), (int) getpid ());
  jobs = rcx_jobs_new (pg, worker_id);

  /* Claim: of two deliveries of one message exactly one runs it. */
  if (!rcx_jobs_claim (jobs, options->job_id, &claim, &job, cancellable,
          &local)) {
    abandon_claim (jobs, options->job_id, worker_id, local);
    if (g_cancellable_is_cancelled (cancellable))
      g_set_error_literal (error, RCX_TRANSCODE_ERROR,
          RCX_TRANSCODE_ERROR_INTERRUPTED, "interrupted");
    else
      g_set_error (error, RCX_TRANSCODE_ERROR,
          g_error_matches (local, RCX_POSTGREST_ERROR,
              RCX_POSTGREST_ERROR_AUTH) ? RCX_TRANSCODE_ERROR_CONFIG :
          RCX_TRANSCODE_ERROR_FAILED, "claiming job %s: %s", options->job_id,
          local->message);
    return NULL;
  }
  if (claim != RCX_JOB_CLAIMED) {
    g_message ("job %s already taken/done (%s%s%s): nothing to do",
        options->job_id, job && job->state ? job->state :
        rcx_job_claim_to_string (claim), claim == RCX_JOB_BUSY
        && job && job->worker_id ? " on " : "", claim == RCX_JOB_BUSY
        && job && job->worker_id ? job->worker_id : "");
    return skipped_summary (options->job_id, claim, job);
  }
  media_id = g_strdup (job->media_id);
  if (media_id && !rcx_id_is_valid (media_id)) {
    /* it would end up in object keys and filters: refuse it for good */
    g_autofree gchar *reason = g_strdup_printf ("job %s: its media_id is "
        "not a valid id", options->job_id);

    if (!rcx_jobs_fail (jobs, options->job_id, NULL, reason, cancellable,
            &local))
      g_warning ("job %s: the failure could not be recorded: %s",
          options->job_id, local->message);
    g_set_error_literal (error, RCX_TRANSCODE_ERROR,
        RCX_TRANSCODE_ERROR_INPUT, reason);
    return NULL;
  }
  g_message ("job %s claimed by %s (attempt %d, media %s)", options->job_id,
      worker_id, job->attempts, media_id ? media_id : "none");

  /* Run it, progress to the job row from a thread of ours. */
  writer_start (&writer, jobs, options->job_id, options->progress_interval);
  topts.progress_func = on_progress;
  topts.progress_data = &writer;
  result = rcx_transcode_run (&topts, failure_out, &local);
  writer_stop (&writer, result != NULL);
  add_job_id (failure_out ? *failure_out : NULL, options->job_id);

  if (!result) {
    if (g_error_matches (local, RCX_TRANSCODE_ERROR,
            RCX_TRANSCODE_ERROR_INTERRUPTED)
        || g_error_matches (local, RCX_TRANSCODE_ERROR,
            RCX_TRANSCODE_ERROR_CONFIG)) {
      /* not the job's fault: someone else (or this worker, fixed) runs it */
      release_job (jobs, options->job_id, media_id);
    } else {
      g_autoptr (GError) db_error = NULL;

      if (rcx_jobs_fail (jobs, options->job_id, media_id, local->message,
              cancellable, &db_error))
        g_message ("job %s failed: %s", options->job_id, local->message);
      else
        g_warning ("job %s: the failure could not be recorded: %s",
            options->job_id, db_error->message);
    }
    g_propagate_error (error, g_steal_pointer (&local));
    return NULL;
  }

  /* Record the outputs. */
  add_job_id (result, options->job_id);
  summary = json_node_get_object (result);
  outputs.streaming_url = summary_string (summary, "master");
  outputs.thumbnail_url = summary_string (summary, "thumbnail");
  outputs.duration_s = json_object_has_member (summary, "duration") ?
      json_object_get_double_member (summary, "duration") : -1;
  outputs.renditions = json_object_get_member (summary, "rungs");
  if (!rcx_jobs_succeed (jobs, options->job_id, media_id, &outputs,
          cancellable, &local)) {
    g_autoptr (GError) failed = NULL;

    if (g_cancellable_is_cancelled (cancellable)) {
      release_job (jobs, options->job_id, media_id);
      failed = g_error_new_literal (RCX_TRANSCODE_ERROR,
          RCX_TRANSCODE_ERROR_INTERRUPTED, "interrupted");
    } else {
      failed = g_error_new (RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_FAILED,
          "job %s: the outputs could not be recorded: %s", options->job_id,
          local->message);
    }
    if (failure_out) {
      JsonObject *o = json_node_get_object (result);

      json_object_set_string_member (o, "status", g_error_matches (failed,
              RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_INTERRUPTED) ?
          "interrupted" : "failed");
      json_object_set_string_member (o, "error", failed->message);
      *failure_out = g_steal_pointer (&result);
    }
    g_propagate_error (error, g_steal_pointer (&failed));
    g_clear_pointer (&result, json_node_unref);
    return NULL;
  }
  g_message ("job %s succeeded: %s", options->job_id, outputs.streaming_url);
  return result;
}
