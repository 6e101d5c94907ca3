/* rcx-job-run.c: a transcode run as a Supabase job (see rcx-job-run.h):
 * the options, the claim, the run with its progress writer, the release
 * on SIGTERM and the shutdown deadline, recording the outcome. Beside it:
 * rcx-job-outcome.c (what an outcome means: the summary printed, which
 * failures fail the job and which release it); rcx-job-run-private.h holds
 * what they share.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-job-run.h"
#include "rcx-job-run-private.h"

#include <stdio.h>
#include <unistd.h>

#include "rcx-duration.h"
#include "rcx-ids.h"
#include "rcx-job-progress.h"
#include "rcx-jobs.h"
#include "rcx-s3.h"

/* Per HTTP attempt; the client makes up to 3 attempts with backoff. */
#define DB_TIMEOUT 10
/* Releasing must end well inside ECS's stopTimeout (30 s by default): the
 * whole release gets this long, then it is cancelled. */
#define RELEASE_BUDGET 15
/* After the shutdown timeout, the cleanup has this long to return before
 * the process exits on its own. */
#define SHUTDOWN_GRACE 2

/* ---- options ----------------------------------------------------------- */

void
rcx_job_run_options_clear (RcxJobRunOptions * options)
{
  g_clear_pointer (&options->job_id, g_free);
  g_clear_pointer (&options->worker_id, g_free);
  g_clear_pointer (&options->stale_after, g_free);
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
          "Seconds between two progress writes (and heartbeats) to the job "
          "(default: " G_STRINGIFY (RCX_JOB_RUN_DEFAULT_PROGRESS_INTERVAL)
        ")", "SECONDS"},
    {"shutdown-timeout", 0, 0, G_OPTION_ARG_INT, &options->shutdown_timeout,
        "After SIGTERM / SIGINT the job is released at once; the cleanup "
          "(deleting the playlists that went up) gets this long, then the "
          "process exits 3 (default: "
          G_STRINGIFY (RCX_JOB_RUN_DEFAULT_SHUTDOWN_TIMEOUT) ")", "SECONDS"},
    {"stale-after", 0, 0, G_OPTION_ARG_STRING, &options->stale_after,
        "Take over a job running on another worker whose row has not moved "
          "for this long (its worker died), e.g. 90s, 15m; at least "
          G_STRINGIFY (RCX_JOB_RUN_MIN_STALE_AFTER) " s (default: 15m)",
        "DURATION"},
    {NULL}
  };

  if (options->progress_interval == 0 && !options->entries)
    options->progress_interval = RCX_JOB_RUN_DEFAULT_PROGRESS_INTERVAL;
  if (options->shutdown_timeout == 0 && !options->entries)
    options->shutdown_timeout = RCX_JOB_RUN_DEFAULT_SHUTDOWN_TIMEOUT;
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

/* ---- one run ----------------------------------------------------------- */

typedef struct
{
  RcxJobRunOptions *options;
  RcxJobs *jobs;
  const gchar *job_id;
  RcxJobProgress *writer;

  GCancellable *outer;          /* SIGTERM / SIGINT (the caller's) */
  GCancellable *run;            /* stops the transcode */
  GCancellable *abandon;        /* ownership lost: stop, delete nothing */
  GCancellable *cleanup;        /* cancelled at the shutdown deadline */
  gulong outer_id;

  GMutex lock;
  GThread *release_thread;      /* the release on SIGTERM */
  gboolean released;            /* by release_thread */
  gboolean lost;                /* the writer was refused: not ours */
  gchar *lost_reason;
  GThread *shutdown_thread;
  GCond shutdown_cond;
  gboolean finished;
} Run;

/* Back to queued, within RELEASE_BUDGET whatever the database does. A job
 * that is not ours any more is left alone (the database checks). */
static gboolean
release_job (RcxJobs * jobs, const gchar * job_id)
{
  g_autoptr (GError) error = NULL;
  Deadline d;
  gboolean ok;

  rcx_jobs_set_persistence (jobs, RELEASE_BUDGET);
  deadline_start (&d, RELEASE_BUDGET);
  ok = rcx_jobs_release (jobs, job_id, NULL, d.cancellable, &error);
  deadline_stop (&d);
  if (ok)
    g_message ("job %s released (back to queued)", job_id);
  else
    g_warning ("job %s could not be released: %s", job_id, error->message);
  return ok;
}

/* The process exits on its own when the cleanup outlives the shutdown
 * deadline: the job is released already, and ECS would kill it anyway. */
static gpointer
shutdown_thread (gpointer data)
{
  Run *r = data;
  gint64 deadline = g_get_monotonic_time () +
      (gint64) r->options->shutdown_timeout * G_USEC_PER_SEC;
  gboolean finished;

  g_mutex_lock (&r->lock);
  while (!r->finished && g_cond_wait_until (&r->shutdown_cond, &r->lock,
          deadline));
  finished = r->finished;
  g_mutex_unlock (&r->lock);
  if (finished)
    return NULL;
  /* the cleanup stops now (deleting what went up is best effort) */
  g_cancellable_cancel (r->cleanup);

  deadline += SHUTDOWN_GRACE * G_USEC_PER_SEC;
  g_mutex_lock (&r->lock);
  while (!r->finished && g_cond_wait_until (&r->shutdown_cond, &r->lock,
          deadline));
  finished = r->finished;
  g_mutex_unlock (&r->lock);
  if (!finished) {
    g_autoptr (JsonNode) summary = NULL;
    g_autofree gchar *text = NULL;

    if (r->release_thread)
      g_thread_join (g_steal_pointer (&r->release_thread));
    summary = rcx_job_summary_new (r->job_id, "released",
        "interrupted: the cleanup did not end within the shutdown timeout",
        "transient", NULL, NULL);
    text = json_to_string (summary, TRUE);
    g_printerr ("job %s: the cleanup did not end within %d s: exiting\n",
        r->job_id, r->options->shutdown_timeout);
    fputs (text, stdout);
    fputc ('\n', stdout);
    fflush (stdout);
    _exit (RCX_JOB_EXIT_RELEASED);
  }
  return NULL;
}

static gpointer
release_thread (gpointer data)
{
  Run *r = data;
  gboolean ok;

  /* the heartbeat stops first: once queued, a refused write is no news */
  rcx_job_progress_stop (r->writer, 0);
  ok = release_job (r->jobs, r->job_id);
  g_mutex_lock (&r->lock);
  r->released = ok;
  g_mutex_unlock (&r->lock);
  return NULL;
}

/* SIGTERM / SIGINT (the main thread, from the signal's source): release
 * the job first, then let the transcode stop and clean up until the
 * deadline. */
static void
on_interrupted (GCancellable * cancellable, gpointer user_data)
{
  Run *r = user_data;

  g_mutex_lock (&r->lock);
  if (r->release_thread == NULL && !r->lost) {
    g_message ("job %s: interrupted: releasing it first", r->job_id);
    r->release_thread = g_thread_new ("rcx-job-release", release_thread, r);
    r->shutdown_thread = g_thread_new ("rcx-job-shutdown", shutdown_thread, r);
  }
  g_mutex_unlock (&r->lock);
  g_cancellable_cancel (r->run);
}

static gboolean
stop_lost (gpointer user_data)
{
  Run *r = user_data;

  g_cancellable_cancel (r->abandon);
  g_cancellable_cancel (r->run);
  return G_SOURCE_REMOVE;
}

/* The writer's thread: it stopped for good. */
static void
on_writer_stopped (const GError * reason, gpointer user_data)
{
  Run *r = user_data;

  if (!g_error_matches (reason, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_OURS)) {
    g_warning ("job %s: no more progress writes (%s); the job may look "
        "stale to other workers", r->job_id, reason->message);
    return;
  }
  g_mutex_lock (&r->lock);
  if (r->release_thread == NULL) {
    r->lost = TRUE;
    r->lost_reason = g_strdup (reason->message);
  }
  g_mutex_unlock (&r->lock);
  if (r->lost) {
    g_warning ("job %s: lost ownership (%s): stopping at once, deleting "
        "nothing", r->job_id, reason->message);
    /* the transcode's state belongs to the main thread */
    g_idle_add (stop_lost, r);
  }
}

static void
on_progress (gdouble percent, gpointer user_data)
{
  Run *r = user_data;

  rcx_job_progress_set (r->writer, percent, FALSE);
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

static void
run_finish (Run * r)
{
  g_mutex_lock (&r->lock);
  r->finished = TRUE;
  g_cond_broadcast (&r->shutdown_cond);
  g_mutex_unlock (&r->lock);
  if (r->outer_id)
    g_cancellable_disconnect (r->outer, r->outer_id);
  r->outer_id = 0;
  if (r->release_thread)
    g_thread_join (g_steal_pointer (&r->release_thread));
  if (r->shutdown_thread)
    g_thread_join (g_steal_pointer (&r->shutdown_thread));
  if (r->writer)
    rcx_job_progress_stop (r->writer, 0);
  /* stop_lost may still be queued: it must not run on a freed Run */
  while (g_main_context_iteration (NULL, FALSE));
}

static void
run_clear (Run * r)
{
  g_clear_pointer (&r->writer, rcx_job_progress_free);
  g_clear_object (&r->run);
  g_clear_object (&r->abandon);
  g_clear_object (&r->cleanup);
  g_clear_pointer (&r->lost_reason, g_free);
  g_cond_clear (&r->shutdown_cond);
  g_mutex_clear (&r->lock);
}

static JsonNode *
usage_error (RcxJobExit * exit_code, const gchar * job_id, GError ** error,
    const gchar * message)
{
  g_set_error_literal (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_CONFIG,
      message);
  *exit_code = RCX_JOB_EXIT_USAGE;
  return rcx_job_summary_new (job_id ? job_id : "", "released", message, NULL,
      NULL, NULL);
}

/* The claim went wrong: whatever happened, the job must not stay running
 * under us. */
static JsonNode *
claim_failed (Run * r, GError * local, RcxJobExit * exit_code, GError ** error)
{
  const gchar *kind = "transient";

  if (g_error_matches (local, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_FOUND)) {
    /* no such job (and so no media row): nothing will ever run it */
    *exit_code = RCX_JOB_EXIT_FAILED;
    g_set_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_INPUT,
        "claiming job %s: %s", r->job_id, local->message);
    return rcx_job_summary_new (r->job_id, "failed", local->message,
        "permanent", NULL, NULL);
  }
  /* the claim may have landed (its answer lost, or refused by us): the
   * release is a no-op unless the job runs under us */
  release_job (r->jobs, r->job_id);
  if (g_error_matches (local, RCX_POSTGREST_ERROR, RCX_POSTGREST_ERROR_AUTH)
      || g_error_matches (local, RCX_POSTGREST_ERROR,
          RCX_POSTGREST_ERROR_REJECTED)) {
    *exit_code = RCX_JOB_EXIT_USAGE;
    kind = NULL;
  } else {
    *exit_code = RCX_JOB_EXIT_RELEASED;
  }
  g_set_error (error, RCX_TRANSCODE_ERROR, *exit_code == RCX_JOB_EXIT_USAGE ?
      RCX_TRANSCODE_ERROR_CONFIG : RCX_TRANSCODE_ERROR_FAILED,
      "claiming job %s: %s", r->job_id,
      g_cancellable_is_cancelled (r->outer) ? "interrupted" : local->message);
  return rcx_job_summary_new (r->job_id, "released",
      g_cancellable_is_cancelled (r->outer) ? "interrupted" : local->message,
      kind, NULL, NULL);
}

JsonNode *
rcx_job_run (RcxJobRunOptions * options,
    const RcxTranscodeOptions * transcode, RcxJobExit * exit_code,
    GError ** error)
{
  g_autoptr (RcxPostgrest) pg = NULL;
  g_autoptr (RcxJobs) jobs = NULL;
  g_autoptr (RcxJob) job = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (JsonNode) failure = NULL;
  g_autoptr (JsonNode) warnings = NULL;
  g_autofree gchar *worker_id = NULL;
  RcxTranscodeOptions topts = *transcode;
  Run r = { 0 };
  RcxJobClaim claim;
  RcxJobOutputs outputs = { 0 };
  JsonObject *summary;
  JsonNode *answer;
  gboolean interrupted, lost;
  RcxJobFailureKind kind;
  gint stale_after = 0;

  if (!rcx_id_is_valid (options->job_id))
    return usage_error (exit_code, NULL, error, "--job-id: not a valid id "
        "(allowed: 1-128 of A-Z a-z 0-9 _ -)");
  if (options->worker_id && !rcx_jobs_worker_id_is_valid (options->worker_id))
    return usage_error (exit_code, options->job_id, error, "--worker-id: not "
        "a valid id (allowed: 1-128 of A-Z a-z 0-9 _ - . : /)");
  if (options->progress_interval <= 0)
    return usage_error (exit_code, options->job_id, error,
        "--job-progress-interval must be positive");
  if (options->shutdown_timeout <= 0)
    return usage_error (exit_code, options->job_id, error,
        "--shutdown-timeout must be positive");
  if (options->stale_after && (!rcx_duration_parse ("--stale-after",
              options->stale_after, &stale_after, &local)
          || stale_after < RCX_JOB_RUN_MIN_STALE_AFTER))
    return usage_error (exit_code, options->job_id, error, local ?
        local->message : "--stale-after: at least "
        G_STRINGIFY (RCX_JOB_RUN_MIN_STALE_AFTER) " s");
  if (!(pg = open_database (&local)))
    return usage_error (exit_code, options->job_id, error, local->message);
  worker_id = options->worker_id ? g_strdup (options->worker_id) :
      g_strdup_printf ("%s-%d", g_get_host_name (), (int) getpid ());
  if (!rcx_jobs_worker_id_is_valid (worker_id))
    return usage_error (exit_code, options->job_id, error, "the host name "
        "makes no valid worker id: pass --worker-id");
  jobs = rcx_jobs_new (pg, worker_id);
  if (stale_after > 0)
    rcx_jobs_set_stale_after (jobs, stale_after);

  r.options = options;
  r.jobs = jobs;
  r.job_id = options->job_id;
  r.outer = transcode->cancellable;
  g_mutex_init (&r.lock);
  g_cond_init (&r.shutdown_cond);

  /* Claim: of two deliveries of one message exactly one runs it. */
  if (!rcx_jobs_claim (jobs, options->job_id, &claim, &job, r.outer, &local)) {
    answer = claim_failed (&r, local, exit_code, error);
    run_clear (&r);
    return answer;
  }
  switch (claim) {
    case RCX_JOB_CLAIMED:
      break;
    case RCX_JOB_BUSY:
      g_message ("job %s is running on %s: not ours", options->job_id,
          job->worker_id ? job->worker_id : "another worker");
      *exit_code = RCX_JOB_EXIT_NOT_OURS;
      g_set_error (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_OURS,
          "job %s is running on another worker", options->job_id);
      run_clear (&r);
      return rcx_job_summary_new (options->job_id, "not-ours",
          "running on another worker", NULL, job->state, NULL);
    case RCX_JOB_DONE:
      g_message ("job %s succeeded already: nothing to do", options->job_id);
      *exit_code = RCX_JOB_EXIT_SUCCEEDED;
      run_clear (&r);
      answer = rcx_job_summary_new (options->job_id, "skipped", NULL, NULL,
          job->state, NULL);
      json_object_set_null_member (json_node_get_object (answer), "master");
      return answer;
    case RCX_JOB_FAILED:
    case RCX_JOB_EXHAUSTED:
      g_message ("job %s is failed%s: %s", options->job_id,
          claim == RCX_JOB_EXHAUSTED ? " now" : " already",
          job->error_reason ? job->error_reason : "no reason");
      *exit_code = RCX_JOB_EXIT_FAILED;
      if (claim == RCX_JOB_EXHAUSTED)
        rcx_transcode_unpublish (transcode, r.outer);
      g_set_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_INPUT,
          "job %s is failed: %s", options->job_id,
          job->error_reason ? job->error_reason : "no reason");
      run_clear (&r);
      return rcx_job_summary_new (options->job_id, claim == RCX_JOB_EXHAUSTED ?
          "failed" : "skipped", job->error_reason, "permanent", job->state,
          NULL);
  }
  g_message ("job %s claimed by %s (attempt %d, media %s)", options->job_id,
      worker_id, job->attempts, job->media_id ? job->media_id : "none");
  if (job->media_id && !rcx_id_is_valid (job->media_id)) {
    /* it would end up in object keys: refuse it for good */
    g_autofree gchar *reason = g_strdup_printf ("job %s: its media_id is "
        "not a valid id", options->job_id);

    if (!rcx_jobs_fail (jobs, options->job_id, NULL, reason, r.outer, &local))
      g_warning ("job %s: the failure could not be recorded: %s",
          options->job_id, local->message);
    *exit_code = RCX_JOB_EXIT_FAILED;
    g_set_error_literal (error, RCX_TRANSCODE_ERROR,
        RCX_TRANSCODE_ERROR_INPUT, reason);
    run_clear (&r);
    return rcx_job_summary_new (options->job_id, "failed", reason, "permanent",
        NULL, NULL);
  }

  /* Run it: progress and heartbeats from the writer's thread, SIGTERM
   * releases first. */
  r.run = g_cancellable_new ();
  r.abandon = g_cancellable_new ();
  r.cleanup = g_cancellable_new ();
  r.writer = rcx_job_progress_new (jobs, options->job_id,
      options->progress_interval, on_writer_stopped, &r);
  if (r.outer)
    r.outer_id = g_cancellable_connect (r.outer, G_CALLBACK (on_interrupted),
        &r, NULL);
  topts.cancellable = r.run;
  topts.abandon = r.abandon;
  topts.cleanup_cancellable = r.cleanup;
  topts.progress_func = on_progress;
  topts.progress_data = &r;
  result = rcx_transcode_run (&topts, &failure, &local);
  if (result)
    rcx_job_progress_set (r.writer, 100, TRUE);
  rcx_job_progress_stop (r.writer, result ? DB_TIMEOUT : 0);

  g_mutex_lock (&r.lock);
  lost = r.lost;
  interrupted = r.release_thread != NULL;
  g_mutex_unlock (&r.lock);

  if (lost) {
    /* taken over: the database is the new worker's; change nothing */
    run_finish (&r);
    *exit_code = RCX_JOB_EXIT_NOT_OURS;
    g_set_error (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_OURS,
        "job %s: lost ownership: %s", options->job_id, r.lost_reason);
    answer = rcx_job_summary_new (options->job_id, "not-ours", r.lost_reason,
        NULL, NULL, result ? result : failure);
    run_clear (&r);
    return answer;
  }
  if (interrupted) {
    run_finish (&r);
    *exit_code = RCX_JOB_EXIT_RELEASED;
    g_set_error_literal (error, RCX_TRANSCODE_ERROR,
        RCX_TRANSCODE_ERROR_INTERRUPTED, "interrupted: the job was released");
    answer = rcx_job_summary_new (options->job_id, "released", "interrupted",
        "transient", NULL, result ? result : failure);
    run_clear (&r);
    return answer;
  }

  if (!result) {
    kind = rcx_job_classify (local);
    if (kind == RCX_JOB_KIND_PERMANENT) {
      g_autoptr (GError) db_error = NULL;

      if (rcx_jobs_fail (jobs, options->job_id, NULL, local->message, r.outer,
              &db_error)) {
        g_message ("job %s failed: %s", options->job_id, local->message);
        *exit_code = RCX_JOB_EXIT_FAILED;
        answer = rcx_job_summary_new (options->job_id, "failed", local->message,
            "permanent", "failed", failure);
      } else if (g_error_matches (db_error, RCX_JOBS_ERROR,
              RCX_JOBS_ERROR_NOT_OURS)) {
        *exit_code = RCX_JOB_EXIT_NOT_OURS;
        answer = rcx_job_summary_new (options->job_id, "not-ours",
            db_error->message, NULL, NULL, failure);
      } else {
        /* the database is away: the job stays ours until it looks stale */
        g_warning ("job %s: the failure could not be recorded: %s",
            options->job_id, db_error->message);
        release_job (jobs, options->job_id);
        *exit_code = RCX_JOB_EXIT_RELEASED;
        answer = rcx_job_summary_new (options->job_id, "released",
            db_error->message, "transient", NULL, failure);
      }
    } else {
      /* not the job's fault: another attempt (or this worker, fixed) */
      release_job (jobs, options->job_id);
      *exit_code = kind == RCX_JOB_KIND_CONFIG ? RCX_JOB_EXIT_USAGE :
          RCX_JOB_EXIT_RELEASED;
      answer = rcx_job_summary_new (options->job_id, "released", local->message,
          kind == RCX_JOB_KIND_CONFIG ? NULL : "transient", NULL, failure);
    }
    run_finish (&r);
    run_clear (&r);
    if (kind == RCX_JOB_KIND_CONFIG && local->domain != RCX_TRANSCODE_ERROR)
      g_set_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_CONFIG,
          "%s", local->message);
    else
      g_propagate_error (error, g_steal_pointer (&local));
    return answer;
  }

  /* Record the outputs. */
  summary = json_node_get_object (result);
  outputs.streaming_url = rcx_job_summary_string (summary, "master");
  outputs.thumbnail_url = rcx_job_summary_string (summary, "thumbnail");
  outputs.duration_s = json_object_has_member (summary, "duration") ?
      json_object_get_double_member (summary, "duration") : -1;
  outputs.renditions = json_object_get_member (summary, "rungs");
  outputs.warnings = warnings = rcx_jobs_warnings_new
      (json_object_get_member (summary, "warnings"),
      rcx_job_summary_string (summary, "concealed"));
  if (outputs.streaming_url == NULL) {
    release_job (jobs, options->job_id);
    run_finish (&r);
    run_clear (&r);
    *exit_code = RCX_JOB_EXIT_RELEASED;
    g_set_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_FAILED,
        "job %s: the transcode reported no master playlist", options->job_id);
    return rcx_job_summary_new (options->job_id, "released", (*error)->message,
        "transient", NULL, result);
  }
  if (!rcx_jobs_succeed (jobs, options->job_id, NULL, &outputs, r.outer,
          &local)) {
    g_mutex_lock (&r.lock);
    interrupted = r.release_thread != NULL;
    g_mutex_unlock (&r.lock);
    if (g_error_matches (local, RCX_JOBS_ERROR, RCX_JOBS_ERROR_NOT_OURS)
        && !interrupted) {
      *exit_code = RCX_JOB_EXIT_NOT_OURS;
      answer = rcx_job_summary_new (options->job_id, "not-ours",
          local->message, NULL, NULL, result);
    } else {
      /* interrupted (released by then), or the database away past the
       * persistence */
      if (!interrupted)
        release_job (jobs, options->job_id);
      *exit_code = RCX_JOB_EXIT_RELEASED;
      answer = rcx_job_summary_new (options->job_id, "released",
          g_cancellable_is_cancelled (r.outer) ? "interrupted" :
          local->message, "transient", NULL, result);
    }
    run_finish (&r);
    run_clear (&r);
    g_set_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_FAILED,
        "job %s: the outputs could not be recorded: %s", options->job_id,
        local->message);
    return answer;
  }
  run_finish (&r);
  run_clear (&r);
  g_message ("job %s succeeded: %s", options->job_id, outputs.streaming_url);
  *exit_code = RCX_JOB_EXIT_SUCCEEDED;
  return rcx_job_summary_new (options->job_id, "succeeded", NULL, NULL,
      "succeeded", result);
}
