/* rcx-worker-child.c: running one job of the worker as a child process
 * (`transcode --job-id`): spawning it, its heartbeats (the message's
 * visibility, the job row), its timeout and kill, what its exit status and
 * summary mean for the message, and ECS scale-in protection while jobs run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-worker.h"
#include "rcx-worker-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rcx-http.h"
#include "rcx-ids.h"
#include "rcx-job-message.h"
#include "rcx-jobs.h"
#include "rcx-postgrest.h"
#include "rcx-retry.h"
#include "rcx-sqs.h"

/* Exit codes of `transcode --job-id` (the worker/job-mode contract). */
enum
{
  CHILD_SUCCEEDED = 0,
  CHILD_FAILED = 1,
  CHILD_USAGE = 2,
  CHILD_RELEASED = 3,
  CHILD_NOT_OURS = 4,
};

static void
protection_put (Worker * w, gboolean enable)
{
  g_autoptr (RcxHttpRequest) req = NULL;
  g_autoptr (RcxHttpResponse) resp = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *body = NULL;
  g_autofree gchar *status = NULL;
  gsize len;

  if (w->agent_uri == NULL)
    return;
  body = enable ? g_strdup_printf ("{\"ProtectionEnabled\": true, "
      "\"ExpiresInMinutes\": %d}", w->o->protection_minutes) :
      g_strdup ("{\"ProtectionEnabled\": false}");
  req = rcx_http_request_new ("PUT", w->agent_uri);
  len = strlen (body);
  rcx_http_request_set_body (req, "application/json",
      g_bytes_new_take (g_steal_pointer (&body), len));
  resp = rcx_http_client_send_and_read (w->agent, req, NULL, &error);
  if (resp && resp->status >= 200 && resp->status < 300) {
    rcx_worker_emit ("info", enable ? "protection-on" : "protection-off", NULL,
        NULL, NULL);
    if (enable)
      w->protection_expires = g_get_monotonic_time () +
          (gint64) w->o->protection_minutes * 60 * G_USEC_PER_SEC;
    return;
  }
  status = resp ? g_strdup_printf ("HTTP %u", resp->status) :
      g_strdup (error->message);
  rcx_worker_emit ("warning", "protection-failed", NULL, NULL,
      rcx_worker_fields_new ("reason", status, "enable",
          enable ? "true" : "false", NULL));
}

static void
protection_acquire (Worker * w)
{
  g_mutex_lock (&w->protection_lock);
  if (w->protected_jobs++ == 0)
    protection_put (w, TRUE);
  g_mutex_unlock (&w->protection_lock);
}

/* While busy: renew before it expires (a job may outlast it). */
static void
protection_renew (Worker * w)
{
  g_mutex_lock (&w->protection_lock);
  if (w->protected_jobs > 0 && g_get_monotonic_time () >
      w->protection_expires - (gint64) w->o->protection_minutes * 30 *
      G_USEC_PER_SEC)
    protection_put (w, TRUE);
  g_mutex_unlock (&w->protection_lock);
}

static void
protection_release (Worker * w)
{
  g_mutex_lock (&w->protection_lock);
  if (--w->protected_jobs == 0)
    protection_put (w, FALSE);
  g_mutex_unlock (&w->protection_lock);
}

typedef struct
{
  Slot *s;
  gboolean done;
  gchar *out;
  GError *error;
  gint64 last_extended;         /* monotonic */
  gboolean timed_out;
  GSource *kill;
  const gchar *job_id;
  const gchar *media_id;
} ChildRun;

static void
on_communicated (GObject * source, GAsyncResult * res, gpointer data)
{
  ChildRun *run = data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), res,
      &run->out, NULL, &run->error);
  run->done = TRUE;
}

static gboolean
on_heartbeat (gpointer data)
{
  ChildRun *run = data;
  Slot *s = run->s;
  const WorkerOptions *o = s->w->o;
  g_autoptr (GError) error = NULL;
  gint64 now = g_get_monotonic_time ();

  protection_renew (s->w);
  /* while stopping too: the message stays ours until the child has
   * released the job and it is handed back; a stalled SQS holds this
   * slot up to the hand-back deadline at most */
  if (rcx_sqs_change_message_visibility (s->w->sqs, NULL,
          s->msg->receipt_handle, o->visibility, s->w->handback, &error)) {
    run->last_extended = g_get_monotonic_time ();
    rcx_worker_emit ("info", "heartbeat", run->job_id, run->media_id, NULL);
    return G_SOURCE_CONTINUE;
  }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return G_SOURCE_CONTINUE;
  rcx_worker_emit ("warning", "heartbeat-failed", run->job_id, run->media_id,
      rcx_worker_fields_new ("reason", error->message, NULL));
  /* Stop before the visibility lapses: another worker may receive the
   * message then, and two runs of one job help nobody. The child releases
   * the job; the message comes back by itself. */
  if (!s->heartbeat_lost && now - run->last_extended >=
      (gint64) (o->visibility - o->heartbeat) * G_USEC_PER_SEC) {
    s->heartbeat_lost = TRUE;
    rcx_worker_emit ("error", "heartbeat-lost", run->job_id, run->media_id,
        NULL);
    g_mutex_lock (&s->w->lock);
    if (s->child)
      g_subprocess_send_signal (s->child, SIGTERM);
    g_mutex_unlock (&s->w->lock);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_child_kill (gpointer data)
{
  ChildRun *run = data;

  rcx_worker_emit ("error", "job-killed", run->job_id, run->media_id, NULL);
  g_mutex_lock (&run->s->w->lock);
  if (run->s->child)
    g_subprocess_force_exit (run->s->child);
  g_mutex_unlock (&run->s->w->lock);
  return G_SOURCE_REMOVE;
}

/* A child that outlives --job-timeout is hung (a deadlocked pipeline does
 * not even see its own watchdog): SIGTERM, then SIGKILL after its cleanup
 * time. It then counts as a crash: its job is released, the message backs
 * off, and after max receives the job is given up. */
static gboolean
on_job_timeout (gpointer data)
{
  ChildRun *run = data;
  const WorkerOptions *o = run->s->w->o;

  run->timed_out = TRUE;
  rcx_worker_emit ("error", "job-timeout", run->job_id, run->media_id, NULL);
  g_mutex_lock (&run->s->w->lock);
  if (run->s->child)
    g_subprocess_send_signal (run->s->child, SIGTERM);
  g_mutex_unlock (&run->s->w->lock);
  run->kill = g_timeout_source_new_seconds (CLAMP (o->shutdown_budget -
          2 * SHUTDOWN_MARGIN, 1, 20) + SHUTDOWN_MARGIN);
  g_source_set_callback (run->kill, on_child_kill, run, NULL);
  g_source_attach (run->kill, g_main_context_get_thread_default ());
  return G_SOURCE_REMOVE;
}

static void
child_setup (gpointer data)
{
  /* The worker forwards signals itself (SIGTERM, then SIGKILL past the
   * budget): a Ctrl-C on the terminal must not reach the children first.
   * If the worker dies, so do they, as in a container. */
  setpgid (0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *
spawn_child (Slot * s, const gchar * job_id, const gchar * src,
    const gchar * dst, GError ** error)
{
  const WorkerOptions *o = s->w->o;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* the child's cleanup must end before the worker kills it */
  g_autofree gchar *shutdown = g_strdup_printf ("%d", CLAMP (o->shutdown_budget
          - 2 * SHUTDOWN_MARGIN, 1, 20));
  g_autofree gchar *stale = g_strdup_printf ("%ds", o->stale_after);

  g_ptr_array_add (argv, s->w->self_exe);
  g_ptr_array_add (argv, (gpointer) "transcode");
  g_ptr_array_add (argv, (gpointer) "--job-id");
  g_ptr_array_add (argv, (gpointer) job_id);
  g_ptr_array_add (argv, (gpointer) "--worker-id");
  g_ptr_array_add (argv, s->wid);
  g_ptr_array_add (argv, (gpointer) "--progress");
  g_ptr_array_add (argv, (gpointer) "none");
  if (o->description) {
    g_ptr_array_add (argv, (gpointer) "--description");
    g_ptr_array_add (argv, o->description);
  }
  g_ptr_array_add (argv, (gpointer) "--shutdown-timeout");
  g_ptr_array_add (argv, shutdown);
  g_ptr_array_add (argv, (gpointer) "--stale-after");
  g_ptr_array_add (argv, stale);
  if (o->s3_endpoint) {
    g_ptr_array_add (argv, (gpointer) "--endpoint-url");
    g_ptr_array_add (argv, o->s3_endpoint);
  }
  for (guint i = 0; o->child_args && o->child_args[i]; i++)
    g_ptr_array_add (argv, o->child_args[i]);
  g_ptr_array_add (argv, (gpointer) "--");
  g_ptr_array_add (argv, (gpointer) src);
  g_ptr_array_add (argv, (gpointer) dst);
  g_ptr_array_add (argv, NULL);
  /* The worker's own AWS_* (or its task role) sign SQS; the storage is
   * another provider (Wasabi) whose keys only the child's S3 may see.
   * Setting them in the child's environment puts them first in its chain,
   * ahead of a profile or the container endpoint. */
  if (o->storage_key_id) {
    g_subprocess_launcher_setenv (launcher, "AWS_ACCESS_KEY_ID",
        o->storage_key_id, TRUE);
    g_subprocess_launcher_setenv (launcher, "AWS_SECRET_ACCESS_KEY",
        o->storage_secret, TRUE);
    /* an SQS session token would spoil the storage keys' signatures */
    if (o->storage_token)
      g_subprocess_launcher_setenv (launcher, "AWS_SESSION_TOKEN",
          o->storage_token, TRUE);
    else
      g_subprocess_launcher_unsetenv (launcher, "AWS_SESSION_TOKEN");
  }
  if (o->storage_region) {
    g_subprocess_launcher_setenv (launcher, "AWS_REGION", o->storage_region,
        TRUE);
    g_subprocess_launcher_unsetenv (launcher, "AWS_DEFAULT_REGION");
  }
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  return g_subprocess_launcher_spawnv (launcher,
      (const gchar * const *) argv->pdata, error);
}

static JsonObject *
parse_summary (const gchar * out, JsonParser * parser)
{
  JsonNode *root;

  /* our own child's summary, a few KB */
  if (!out || !json_parser_load_from_data (parser, out, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) :
      NULL;
}

static const gchar *
summary_string (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_STRING ?
      json_node_get_string (n) : NULL;
}

static void
job_succeeded (Slot * s, JsonObject * summary, gdouble elapsed,
    const gchar * job_id, const gchar * media_id)
{
  const gchar *status = summary_string (summary, "status");
  JsonNode *d = summary ? json_object_get_member (summary, "duration") : NULL;
  gdouble duration = d && JSON_NODE_HOLDS_VALUE (d) ?
      json_node_get_double (d) : -1;
  gdouble wait = s->msg->sent_timestamp > 0 ?
      (g_get_real_time () / 1000 - s->msg->sent_timestamp) / 1000.0 -
      elapsed : -1;
  g_autofree gchar *secs = g_strdup_printf ("%.3f", elapsed);

  rcx_worker_emit ("info", g_strcmp0 (status, "skipped") == 0 ? "job-skipped" :
      "job-succeeded", job_id, media_id, rcx_worker_fields_new ("seconds", secs,
          "master", summary_string (summary, "master"), "job_state",
          summary_string (summary, "job_state"), NULL));
  if (g_strcmp0 (status, "succeeded") == 0) {
    const gchar *names[] = { "JobDuration", "Speed", "QueueWait" };
    const gchar *units[] = { "Seconds", "None", "Seconds" };
    gdouble values[] = { elapsed, duration > 0 && elapsed > 0 ?
          duration / elapsed : 0, MAX (wait, 0)
    };

    rcx_worker_emit_metrics (job_id, NULL, names, units, values, 3);
  }
  rcx_worker_message_delete (s, job_id, media_id);
}

/* The crashed child's job may still be running under this slot's id. */
static void
release_crashed (Slot * s, const gchar * job_id, const gchar * media_id)
{
  g_autoptr (RcxJobs) jobs = rcx_worker_slot_jobs (s);
  g_autoptr (GError) error = NULL;

  if (rcx_jobs_release (jobs, job_id, media_id, NULL, &error))
    rcx_worker_emit ("warning", "job-released-after-crash", job_id, media_id,
        NULL);
  else if (g_error_matches (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_WRONG_STATE))
    rcx_worker_emit ("info", "job-not-running-after-crash", job_id, media_id,
        NULL);
  else
    rcx_worker_emit ("error", "job-release-failed", job_id, media_id,
        rcx_worker_fields_new ("reason", error->message, NULL));
}

void
rcx_worker_run_child (Slot * s, const RcxJobMessage * m,
    const RcxJobLookup * lookup)
{
  Worker *w = s->w;
  const WorkerOptions *o = w->o;
  g_autofree gchar *prefix = rcx_job_key_template_expand (o->key_template, m);
  g_autofree gchar *src = g_strdup_printf ("s3://%s/%s", o->bucket,
      lookup->source_key);
  g_autofree gchar *dst = g_strdup_printf ("s3://%s/%s", o->bucket, prefix);
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSource) beat = NULL;
  g_autoptr (GSource) deadline = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GSubprocess) child = NULL;
  JsonObject *summary;
  ChildRun run = {.s = s,.job_id = m->job_id,.media_id = m->media_id };
  gint64 start = g_get_monotonic_time ();
  gdouble elapsed;
  const gchar *reason;
  gint code = -1;

  g_mutex_lock (&w->lock);
  if (w->stopping) {
    g_mutex_unlock (&w->lock);
    rcx_worker_message_visibility (s, 0, m->job_id, m->media_id);
    return;
  }
  child = spawn_child (s, m->job_id, src, dst, &error);
  if (child)
    s->child = g_object_ref (child);
  g_mutex_unlock (&w->lock);
  if (!child) {
    rcx_worker_emit ("error", "spawn-failed", m->job_id, m->media_id,
        rcx_worker_fields_new ("reason", error->message, NULL));
    rcx_worker_message_visibility (s, rcx_worker_backoff_seconds (s), m->job_id,
        m->media_id);
    return;
  }
  rcx_worker_emit ("info", "job-started", m->job_id, m->media_id,
      rcx_worker_fields_new ("pid", g_subprocess_get_identifier (child),
          "slot_worker_id", s->wid, "destination", dst, NULL));
  protection_acquire (w);

  g_main_context_push_thread_default (context);
  run.last_extended = start;
  g_subprocess_communicate_utf8_async (child, NULL, NULL, on_communicated,
      &run);
  beat = g_timeout_source_new_seconds (o->heartbeat);
  g_source_set_callback (beat, on_heartbeat, &run, NULL);
  g_source_attach (beat, context);
  if (o->job_timeout > 0) {
    deadline = g_timeout_source_new_seconds (o->job_timeout);
    g_source_set_callback (deadline, on_job_timeout, &run, NULL);
    g_source_attach (deadline, context);
  }
  while (!run.done)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (beat);
  if (deadline)
    g_source_destroy (deadline);
  if (run.kill) {
    g_source_destroy (run.kill);
    g_source_unref (run.kill);
  }
  g_subprocess_wait (child, NULL, NULL);
  g_main_context_pop_thread_default (context);

  g_mutex_lock (&w->lock);
  g_clear_object (&s->child);
  g_mutex_unlock (&w->lock);
  protection_release (w);

  elapsed = (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC;
  summary = parse_summary (run.out, parser);
  reason = summary_string (summary, "reason");
  if (!reason)
    reason = summary_string (summary, "error");
  if (g_subprocess_get_if_exited (child))
    code = g_subprocess_get_exit_status (child);
  g_clear_error (&run.error);
  g_free (run.out);

  /* "nothing to do" that is not "succeeded" would lose the job if the
   * message went: treat it as not ours */
  if (code == CHILD_SUCCEEDED && g_strcmp0 (summary_string (summary,
              "status"), "skipped") == 0 && g_strcmp0 (summary_string (summary,
              "job_state"), "succeeded") != 0)
    code = CHILD_NOT_OURS;
  switch (code) {
    case CHILD_SUCCEEDED:
      job_succeeded (s, summary, elapsed, m->job_id, m->media_id);
      return;
    case CHILD_FAILED:
      rcx_worker_emit ("error", "job-failed", m->job_id, m->media_id,
          rcx_worker_fields_new ("reason", reason, "failure_kind",
              summary_string (summary, "failure_kind"), NULL));
      rcx_worker_count_failure (m->job_id, "permanent");
      rcx_worker_message_delete (s, m->job_id, m->media_id);
      return;
    case CHILD_NOT_OURS:
      rcx_worker_emit ("info", "job-not-ours", m->job_id, m->media_id, NULL);
      rcx_worker_message_visibility (s,
          g_cancellable_is_cancelled (w->stop) ? 0 : o->not_ours_delay,
          m->job_id, m->media_id);
      return;
    case CHILD_USAGE:
    case CHILD_RELEASED:
      rcx_worker_emit (code == CHILD_USAGE ? "error" : "warning",
          code == CHILD_USAGE ? "job-usage-error" : "job-released", m->job_id,
          m->media_id, rcx_worker_fields_new ("reason", reason, NULL));
      if (!g_cancellable_is_cancelled (w->stop))
        rcx_worker_count_failure (m->job_id,
            code == CHILD_USAGE ? "configuration" : "transient");
      break;
    default:{
      g_autofree gchar *how = g_subprocess_get_if_signaled (child) ?
          g_strdup_printf ("killed by signal %d",
          g_subprocess_get_term_sig (child)) :
          g_strdup_printf ("exit status %d", code);

      rcx_worker_emit ("error", "job-crashed", m->job_id, m->media_id,
          rcx_worker_fields_new ("reason", how, "timed_out",
              run.timed_out ? "true" : NULL, NULL));
      rcx_worker_count_failure (m->job_id, run.timed_out ? "timeout" : "crash");
      release_crashed (s, m->job_id, m->media_id);
      break;
    }
  }
  if (!g_cancellable_is_cancelled (w->stop)
      && s->msg->receive_count >= (guint) o->max_receives) {
    rcx_worker_give_up (s, m->job_id, m->media_id, NULL);
    /* visible now: the next receive moves it to the dead-letter queue */
    rcx_worker_message_visibility (s, 0, m->job_id, m->media_id);
  } else
    rcx_worker_message_visibility (s, rcx_worker_backoff_seconds (s), m->job_id,
        m->media_id);
}
