/* rcx-worker.c: the SQS worker (see rcx-worker.h and docs/worker.md).
 *
 * Threads: the main thread runs the main loop (signals, the health file,
 * the shutdown budget); one receiver thread long-polls SQS while a slot is
 * free; one thread per running job does everything blocking for that job
 * (the lookup, the child, the heartbeats, the message's fate), so a slow
 * database or SQS holds up that job only.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-worker.h"

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

#define EXIT_OK 0
#define EXIT_USAGE 2

#define DEFAULT_CONCURRENCY 1
#define DEFAULT_VISIBILITY 600
#define DEFAULT_HEARTBEAT 150
#define DEFAULT_WAIT_TIME 20
#define DEFAULT_MAX_RECEIVES 5
#define DEFAULT_SHUTDOWN_BUDGET 60
#define DEFAULT_BACKOFF_BASE 30
#define DEFAULT_BACKOFF_MAX 900
#define DEFAULT_NOT_OURS_DELAY 900
#define DEFAULT_PROTECTION_MINUTES 60
#define DEFAULT_JOB_TIMEOUT (4 * 3600)
#define DEFAULT_HEALTH_FILE "/tmp/rugbycodex-worker.health"
#define DEFAULT_HEALTH_MAX_AGE 90
#define DEFAULT_KEY_TEMPLATE "{org_id}/{media_id}/hls/"
#define DB_TIMEOUT 10
/* Seconds the children get of the shutdown budget before SIGKILL: the rest
 * is for handing the messages back. */
#define SHUTDOWN_MARGIN 5

/* Exit codes of `transcode --job-id` (the worker/job-mode contract). */
enum
{
  CHILD_SUCCEEDED = 0,
  CHILD_FAILED = 1,
  CHILD_USAGE = 2,
  CHILD_RELEASED = 3,
  CHILD_NOT_OURS = 4,
};

/* ---- options ----------------------------------------------------------- */

typedef struct
{
  gchar *queue_url;
  gchar *sqs_endpoint;
  gchar *bucket;
  gchar *s3_endpoint;
  gchar *storage_region;
  /* storage (S3/Wasabi) keys for the children, environment only; NULL:
   * the children inherit the worker's AWS_* (see configure_storage) */
  gchar *storage_key_id;
  gchar *storage_secret;
  gchar *storage_token;
  gchar *key_template;
  gchar *description;
  gchar *worker_id;
  gchar *health_file;
  gchar **child_args;
  gint concurrency;
  gint visibility;
  gint heartbeat;
  gint wait_time;
  gint max_receives;
  gint shutdown_budget;
  gint backoff_base;
  gint backoff_max;
  gint not_ours_delay;
  gint protection_minutes;
  gint db_stale_after;
  gint job_timeout;
} WorkerOptions;

static void
worker_options_clear (WorkerOptions * o)
{
  g_free (o->queue_url);
  g_free (o->sqs_endpoint);
  g_free (o->bucket);
  g_free (o->s3_endpoint);
  g_free (o->storage_region);
  g_free (o->storage_key_id);
  g_free (o->storage_secret);
  g_free (o->storage_token);
  g_free (o->key_template);
  g_free (o->description);
  g_free (o->worker_id);
  g_free (o->health_file);
  g_strfreev (o->child_args);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (WorkerOptions, worker_options_clear);

/* ---- logs and metrics -------------------------------------------------- */

static GMutex out_lock;
static gboolean logs_json;
static gchar *log_worker_id;
static gchar *metric_queue;

gboolean
rcx_worker_logs_json (void)
{
  return logs_json;
}

static void
print_line (JsonNode * node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree gchar *text = NULL;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  g_mutex_lock (&out_lock);
  fputs (text, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
  g_mutex_unlock (&out_lock);
}

/* One log line: {"time", "level", "event", "job_id", "media_id",
 * "worker_id", "fields": {...}}. Takes @fields (may be NULL). Callers
 * never put a secret, a receipt handle or a message body in @fields. */
static void
emit (const gchar * level, const gchar * event, const gchar * job_id,
    const gchar * media_id, JsonObject * fields)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *time = g_date_time_format_iso8601 (now);
  JsonObject *o = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (o, "time", time);
  json_object_set_string_member (o, "level", level);
  json_object_set_string_member (o, "event", event);
  if (job_id)
    json_object_set_string_member (o, "job_id", job_id);
  if (media_id)
    json_object_set_string_member (o, "media_id", media_id);
  if (log_worker_id)
    json_object_set_string_member (o, "worker_id", log_worker_id);
  json_object_set_object_member (o, "fields", fields ? fields :
      json_object_new ());
  json_node_take_object (node, o);
  print_line (node);
}

static JsonObject *
fields_new (const gchar * first, ...)
{
  JsonObject *o = json_object_new ();
  va_list args;

  /* name, string value pairs; a NULL value is left out */
  va_start (args, first);
  for (const gchar * name = first; name; name = va_arg (args, const gchar *))
  {
    const gchar *value = va_arg (args, const gchar *);

    if (value)
      json_object_set_string_member (o, name, value);
  }
  va_end (args);
  return o;
}

GLogWriterOutput
rcx_worker_log_writer (GLogLevelFlags level, const GLogField * fields,
    gsize n_fields, gpointer user_data)
{
  const gchar *message = NULL;
  const gchar *domain = NULL;
  const gchar *name;

  if ((level & G_LOG_LEVEL_DEBUG) && !g_getenv ("G_MESSAGES_DEBUG"))
    return G_LOG_WRITER_HANDLED;
  if ((level & G_LOG_LEVEL_INFO) && !g_getenv ("RCX_WORKER_VERBOSE"))
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n_fields; i++) {
    if (strcmp (fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
    else if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
  }
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    name = "error";
  else if (level & G_LOG_LEVEL_WARNING)
    name = "warning";
  else if (level & G_LOG_LEVEL_MESSAGE)
    name = "info";
  else
    name = "debug";
  emit (name, "log", NULL, NULL, fields_new ("message", message, "domain",
          domain, NULL));
  return G_LOG_WRITER_HANDLED;
}

/* A CloudWatch embedded-metric-format line: @names / @values (seconds,
 * x realtime, counts) in namespace Rugbycodex/Worker, dimension Queue
 * (plus FailureKind when @kind is set). */
static void
emit_metrics (const gchar * job_id, const gchar * kind,
    const gchar * const *names, const gchar * const *units,
    const gdouble * values, guint n)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "_aws");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Timestamp");
  json_builder_add_int_value (b, g_get_real_time () / 1000);
  json_builder_set_member_name (b, "CloudWatchMetrics");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Namespace");
  json_builder_add_string_value (b, "Rugbycodex/Worker");
  json_builder_set_member_name (b, "Dimensions");
  json_builder_begin_array (b);
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "Queue");
  if (kind)
    json_builder_add_string_value (b, "FailureKind");
  json_builder_end_array (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "Metrics");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "Name");
    json_builder_add_string_value (b, names[i]);
    json_builder_set_member_name (b, "Unit");
    json_builder_add_string_value (b, units[i]);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "Queue");
  json_builder_add_string_value (b, metric_queue ? metric_queue : "unknown");
  if (kind) {
    json_builder_set_member_name (b, "FailureKind");
    json_builder_add_string_value (b, kind);
  }
  for (guint i = 0; i < n; i++) {
    json_builder_set_member_name (b, names[i]);
    json_builder_add_double_value (b, values[i]);
  }
  if (job_id) {
    json_builder_set_member_name (b, "job_id");
    json_builder_add_string_value (b, job_id);
  }
  if (log_worker_id) {
    json_builder_set_member_name (b, "worker_id");
    json_builder_add_string_value (b, log_worker_id);
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  print_line (root);
}

static void
count_failure (const gchar * job_id, const gchar * kind)
{
  const gchar *names[] = { "JobFailures" };
  const gchar *units[] = { "Count" };
  const gdouble values[] = { 1 };

  emit_metrics (job_id, kind, names, units, values, 1);
}

/* ---- the worker -------------------------------------------------------- */

typedef struct _Worker Worker;

typedef struct
{
  Worker *w;
  guint index;
  gchar *wid;                   /* <worker-id>-<slot>: who claims */
  RcxSqsMessage *msg;
  GSubprocess *child;           /* under w->lock */
  gboolean heartbeat_lost;
} Slot;

struct _Worker
{
  WorkerOptions *o;
  RcxSqsClient *sqs;
  RcxPostgrest *pg;
  gchar *self_exe;
  GMainLoop *loop;
  GCancellable *stop;           /* cancelled on SIGTERM / SIGINT */

  GMutex lock;
  GCond cond;
  Slot **slots;                 /* o->concurrency of them, NULL: free */
  guint active;
  gboolean stopping;
  gboolean receiver_done;
  gint64 last_poll;             /* monotonic, the receiver's last turn */
  GThread *receiver;

  /* ECS task scale-in protection */
  GMutex protection_lock;
  RcxHttpClient *agent;
  gchar *agent_uri;
  guint protected_jobs;
  gint64 protection_expires;    /* monotonic */
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
    emit ("info", enable ? "protection-on" : "protection-off", NULL, NULL,
        NULL);
    if (enable)
      w->protection_expires = g_get_monotonic_time () +
          (gint64) w->o->protection_minutes * 60 * G_USEC_PER_SEC;
    return;
  }
  status = resp ? g_strdup_printf ("HTTP %u", resp->status) :
      g_strdup (error->message);
  emit ("warning", "protection-failed", NULL, NULL,
      fields_new ("reason", status, "enable", enable ? "true" : "false", NULL));
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

/* ---- one message ------------------------------------------------------- */

static void
message_delete (Slot * s, const gchar * job_id, const gchar * media_id)
{
  g_autoptr (GError) error = NULL;

  /* not cancellable by shutdown: a finished job's message must go */
  if (rcx_sqs_delete_message (s->w->sqs, NULL, s->msg->receipt_handle, NULL,
          &error)) {
    emit ("info", "message-deleted", job_id, media_id,
        fields_new ("message_id", s->msg->message_id, NULL));
    return;
  }
  /* it comes back; its job is final in the database, so the next delivery
   * deletes it without running anything */
  emit ("error", "message-delete-failed", job_id, media_id,
      fields_new ("message_id", s->msg->message_id, "reason", error->message,
          NULL));
}

static void
message_visibility (Slot * s, guint seconds, const gchar * job_id,
    const gchar * media_id)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = g_strdup_printf ("%u", seconds);

  if (rcx_sqs_change_message_visibility (s->w->sqs, NULL,
          s->msg->receipt_handle, seconds, NULL, &error)) {
    emit ("info", "message-visibility", job_id, media_id,
        fields_new ("message_id", s->msg->message_id, "seconds", text, NULL));
    return;
  }
  emit ("warning", "message-visibility-failed", job_id, media_id,
      fields_new ("message_id", s->msg->message_id, "seconds", text, "reason",
          error->message, NULL));
}

/* The visibility of a message whose job should be tried again later:
 * exponential in its receive count, 0 when the worker stops. */
static guint
backoff_seconds (Slot * s)
{
  const WorkerOptions *o = s->w->o;
  guint n = MAX (s->msg->receive_count, 1) - 1;
  gint64 v = (gint64) o->backoff_base << MIN (n, 20);

  if (g_cancellable_is_cancelled (s->w->stop))
    return 0;
  return (guint) MIN (v, (gint64) o->backoff_max);
}

static RcxJobs *
slot_jobs (Slot * s)
{
  RcxJobs *jobs = rcx_jobs_new (s->w->pg, s->wid);

  /* the worker's own writes must end inside the shutdown budget */
  rcx_jobs_set_persistence (jobs, MAX (s->w->o->shutdown_budget / 4, 1));
  if (s->w->o->db_stale_after > 0)
    rcx_jobs_set_stale_after (jobs, s->w->o->db_stale_after);
  return jobs;
}

/* After max receives: the job is failed (a queued or stale running one),
 * and the message is left for the queue's redrive to the dead-letter
 * queue. */
static void
give_up (Slot * s, const gchar * job_id, const gchar * media_id,
    const gchar * why)
{
  g_autoptr (RcxJobs) jobs = slot_jobs (s);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *state = NULL;
  g_autofree gchar *reason = why ? g_strdup (why) :
      g_strdup_printf ("given up after %u deliveries of its message (max "
      "receives)", s->msg->receive_count);

  if (rcx_jobs_give_up (jobs, job_id, reason, &state, NULL, &error)
      && g_strcmp0 (state, "failed") == 0) {
    emit ("error", "job-given-up", job_id, media_id,
        fields_new ("reason", reason, NULL));
    count_failure (job_id, "poison");
  } else {
    emit ("warning", "job-give-up-skipped", job_id, media_id,
        fields_new ("reason", error ? error->message : NULL, "job_state",
            state, NULL));
  }
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
  if (rcx_sqs_change_message_visibility (s->w->sqs, NULL,
          s->msg->receipt_handle, o->visibility, NULL, &error)) {
    run->last_extended = g_get_monotonic_time ();
    emit ("info", "heartbeat", run->job_id, run->media_id, NULL);
    return G_SOURCE_CONTINUE;
  }
  emit ("warning", "heartbeat-failed", run->job_id, run->media_id,
      fields_new ("reason", error->message, NULL));
  /* Stop before the visibility lapses: another worker may receive the
   * message then, and two runs of one job help nobody. The child releases
   * the job; the message comes back by itself. */
  if (!s->heartbeat_lost && now - run->last_extended >=
      (gint64) (o->visibility - o->heartbeat) * G_USEC_PER_SEC) {
    s->heartbeat_lost = TRUE;
    emit ("error", "heartbeat-lost", run->job_id, run->media_id, NULL);
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

  emit ("error", "job-killed", run->job_id, run->media_id, NULL);
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
  emit ("error", "job-timeout", run->job_id, run->media_id, NULL);
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

  emit ("info", g_strcmp0 (status, "skipped") == 0 ? "job-skipped" :
      "job-succeeded", job_id, media_id, fields_new ("seconds", secs,
          "master", summary_string (summary, "master"), "job_state",
          summary_string (summary, "job_state"), NULL));
  if (g_strcmp0 (status, "succeeded") == 0) {
    const gchar *names[] = { "JobDuration", "Speed", "QueueWait" };
    const gchar *units[] = { "Seconds", "None", "Seconds" };
    gdouble values[] = { elapsed, duration > 0 && elapsed > 0 ?
          duration / elapsed : 0, MAX (wait, 0)
    };

    emit_metrics (job_id, NULL, names, units, values, 3);
  }
  message_delete (s, job_id, media_id);
}

/* The crashed child's job may still be running under this slot's id. */
static void
release_crashed (Slot * s, const gchar * job_id, const gchar * media_id)
{
  g_autoptr (RcxJobs) jobs = slot_jobs (s);
  g_autoptr (GError) error = NULL;

  if (rcx_jobs_release (jobs, job_id, media_id, NULL, &error))
    emit ("warning", "job-released-after-crash", job_id, media_id, NULL);
  else if (g_error_matches (error, RCX_JOBS_ERROR, RCX_JOBS_ERROR_WRONG_STATE))
    emit ("info", "job-not-running-after-crash", job_id, media_id, NULL);
  else
    emit ("error", "job-release-failed", job_id, media_id,
        fields_new ("reason", error->message, NULL));
}

static void
run_child (Slot * s, const RcxJobMessage * m, const RcxJobLookup * lookup)
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
    message_visibility (s, 0, m->job_id, m->media_id);
    return;
  }
  child = spawn_child (s, m->job_id, src, dst, &error);
  if (child)
    s->child = g_object_ref (child);
  g_mutex_unlock (&w->lock);
  if (!child) {
    emit ("error", "spawn-failed", m->job_id, m->media_id,
        fields_new ("reason", error->message, NULL));
    message_visibility (s, backoff_seconds (s), m->job_id, m->media_id);
    return;
  }
  emit ("info", "job-started", m->job_id, m->media_id,
      fields_new ("pid", g_subprocess_get_identifier (child), "slot_worker_id",
          s->wid, "destination", dst, NULL));
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
      emit ("error", "job-failed", m->job_id, m->media_id,
          fields_new ("reason", reason, "failure_kind",
              summary_string (summary, "failure_kind"), NULL));
      count_failure (m->job_id, "permanent");
      message_delete (s, m->job_id, m->media_id);
      return;
    case CHILD_NOT_OURS:
      emit ("info", "job-not-ours", m->job_id, m->media_id, NULL);
      message_visibility (s, g_cancellable_is_cancelled (w->stop) ? 0 :
          o->not_ours_delay, m->job_id, m->media_id);
      return;
    case CHILD_USAGE:
    case CHILD_RELEASED:
      emit (code == CHILD_USAGE ? "error" : "warning", code == CHILD_USAGE ?
          "job-usage-error" : "job-released", m->job_id, m->media_id,
          fields_new ("reason", reason, NULL));
      if (!g_cancellable_is_cancelled (w->stop))
        count_failure (m->job_id, code == CHILD_USAGE ? "configuration" :
            "transient");
      break;
    default:{
      g_autofree gchar *how = g_subprocess_get_if_signaled (child) ?
          g_strdup_printf ("killed by signal %d",
          g_subprocess_get_term_sig (child)) :
          g_strdup_printf ("exit status %d", code);

      emit ("error", "job-crashed", m->job_id, m->media_id,
          fields_new ("reason", how, "timed_out", run.timed_out ? "true" :
              NULL, NULL));
      count_failure (m->job_id, run.timed_out ? "timeout" : "crash");
      release_crashed (s, m->job_id, m->media_id);
      break;
    }
  }
  if (!g_cancellable_is_cancelled (w->stop)
      && s->msg->receive_count >= (guint) o->max_receives) {
    give_up (s, m->job_id, m->media_id, NULL);
    /* visible now: the next receive moves it to the dead-letter queue */
    message_visibility (s, 0, m->job_id, m->media_id);
  } else
    message_visibility (s, backoff_seconds (s), m->job_id, m->media_id);
}

static gboolean
db_error_is_permanent (const GError * error)
{
  return error->domain == RCX_JOBS_ERROR
      || g_error_matches (error, RCX_POSTGREST_ERROR,
      RCX_POSTGREST_ERROR_REJECTED)
      || g_error_matches (error, RCX_POSTGREST_ERROR,
      RCX_POSTGREST_ERROR_INVALID);
}

static void
handle_message (Slot * s)
{
  Worker *w = s->w;
  g_auto (RcxJobMessage) m = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (RcxJobs) jobs = NULL;
  g_autoptr (RcxJobLookup) lookup = NULL;
  g_autofree gchar *count = g_strdup_printf ("%u", s->msg->receive_count);

  if (!rcx_job_message_parse (s->msg->body, s->msg->body_len, &m, &error)) {
    /* nothing in it can be trusted, not even a job id to fail */
    emit ("error", "message-rejected", NULL, NULL,
        fields_new ("message_id", s->msg->message_id, "reason",
            error->message, NULL));
    count_failure (NULL, "rejected");
    message_delete (s, NULL, NULL);
    return;
  }
  emit ("info", "message-received", m.job_id, m.media_id,
      fields_new ("message_id", s->msg->message_id, "receive_count", count,
          NULL));
  if (s->msg->receive_count > (guint) w->o->max_receives) {
    give_up (s, m.job_id, m.media_id, NULL);
    message_visibility (s, 0, m.job_id, m.media_id);
    return;
  }

  jobs = slot_jobs (s);
  lookup = rcx_jobs_lookup (jobs, m.job_id, w->stop, &error);
  if (!lookup) {
    if (db_error_is_permanent (error)) {
      emit ("error", "message-rejected", m.job_id, m.media_id,
          fields_new ("reason", error->message, NULL));
      count_failure (m.job_id, "rejected");
      message_delete (s, m.job_id, m.media_id);
    } else {
      emit ("warning", "lookup-failed", m.job_id, m.media_id,
          fields_new ("reason", error->message, NULL));
      count_failure (m.job_id, "transient");
      message_visibility (s, backoff_seconds (s), m.job_id, m.media_id);
    }
    return;
  }
  if (!rcx_job_lookup_matches (lookup, m.media_id, m.org_id, &error)) {
    emit ("error", "message-rejected", m.job_id, m.media_id,
        fields_new ("reason", error->message, NULL));
    count_failure (m.job_id, "rejected");
    message_delete (s, m.job_id, m.media_id);
    return;
  }
  if (g_strcmp0 (lookup->state, "succeeded") == 0
      || g_strcmp0 (lookup->state, "failed") == 0) {
    /* a duplicate delivery, or a delete that failed after the end */
    emit ("info", "job-already-final", m.job_id, m.media_id,
        fields_new ("job_state", lookup->state, NULL));
    message_delete (s, m.job_id, m.media_id);
    return;
  }
  if (!rcx_job_source_key_is_valid (lookup->source_key)) {
    emit ("error", "message-rejected", m.job_id, m.media_id,
        fields_new ("reason", "the media asset's source_key is missing or "
            "not a safe object key", NULL));
    count_failure (m.job_id, "rejected");
    give_up (s, m.job_id, m.media_id, "the media asset's source_key is "
        "missing or not a safe object key");
    message_delete (s, m.job_id, m.media_id);
    return;
  }
  run_child (s, &m, lookup);
}

static gboolean
check_done (gpointer data)
{
  Worker *w = data;
  gboolean done;

  g_mutex_lock (&w->lock);
  done = w->stopping && w->active == 0 && w->receiver_done;
  g_mutex_unlock (&w->lock);
  if (done)
    g_main_loop_quit (w->loop);
  return G_SOURCE_REMOVE;
}

static gpointer
slot_thread (gpointer data)
{
  Slot *s = data;
  Worker *w = s->w;

  handle_message (s);

  g_mutex_lock (&w->lock);
  w->slots[s->index] = NULL;
  w->active--;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  rcx_sqs_message_free (s->msg);
  g_free (s->wid);
  g_free (s);
  g_main_context_invoke (NULL, check_done, w);
  return NULL;
}

static gpointer
receiver_thread (gpointer data)
{
  Worker *w = data;
  guint failures = 0;

  for (;;) {
    g_autoptr (GPtrArray) msgs = NULL;
    g_autoptr (GError) error = NULL;
    RcxSqsReceiveOptions ro;
    guint free_slots;

    g_mutex_lock (&w->lock);
    w->last_poll = g_get_monotonic_time ();
    while (!w->stopping && w->active >= (guint) w->o->concurrency)
      g_cond_wait (&w->cond, &w->lock);
    free_slots = w->o->concurrency - w->active;
    g_mutex_unlock (&w->lock);
    if (g_cancellable_is_cancelled (w->stop))
      break;

    rcx_sqs_receive_options_init (&ro);
    ro.max_messages = MIN (free_slots, RCX_SQS_MAX_MESSAGES);
    ro.wait_time_seconds = w->o->wait_time;
    ro.visibility_timeout = w->o->visibility;
    msgs = rcx_sqs_receive_message (w->sqs, NULL, &ro, w->stop, &error);
    if (!msgs) {
      if (g_cancellable_is_cancelled (w->stop))
        break;
      emit ("warning", "receive-failed", NULL, NULL,
          fields_new ("reason", error->message, NULL));
      /* SQS answered with an error after its own retries: wait before
       * asking again, longer while it keeps failing (up to 20 s) */
      rcx_retry_sleep (MIN ((gint64) 1 << MIN (failures, 5), 20) *
          G_USEC_PER_SEC, w->stop, NULL);
      failures++;
      continue;
    }
    failures = 0;
    for (guint i = 0; i < msgs->len; i++) {
      Slot *s = g_new0 (Slot, 1);

      s->w = w;
      s->msg = g_steal_pointer (&msgs->pdata[i]);
      g_mutex_lock (&w->lock);
      for (s->index = 0; w->slots[s->index]; s->index++);
      w->slots[s->index] = s;
      w->active++;
      g_mutex_unlock (&w->lock);
      s->wid = g_strdup_printf ("%s-%u", w->o->worker_id, s->index);
      g_thread_unref (g_thread_new ("rcx-job", slot_thread, s));
    }
  }
  g_mutex_lock (&w->lock);
  w->receiver_done = TRUE;
  g_mutex_unlock (&w->lock);
  g_main_context_invoke (NULL, check_done, w);
  return NULL;
}

/* ---- main loop --------------------------------------------------------- */

static void
signal_children (Worker * w, gboolean kill)
{
  g_mutex_lock (&w->lock);
  for (gint i = 0; i < w->o->concurrency; i++) {
    Slot *s = w->slots[i];

    if (s && s->child) {
      if (kill)
        g_subprocess_force_exit (s->child);
      else
        g_subprocess_send_signal (s->child, SIGTERM);
    }
  }
  g_mutex_unlock (&w->lock);
}

static gboolean
on_kill_deadline (gpointer data)
{
  Worker *w = data;

  emit ("warning", "shutdown-kill", NULL, NULL, NULL);
  signal_children (w, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
on_budget_spent (gpointer data)
{
  emit ("error", "shutdown-budget-spent", NULL, NULL, NULL);
  exit (EXIT_OK);
  return G_SOURCE_REMOVE;
}

static gboolean
on_stop_signal (gpointer data)
{
  Worker *w = data;
  guint budget = w->o->shutdown_budget;

  if (g_cancellable_is_cancelled (w->stop))
    return G_SOURCE_CONTINUE;
  emit ("info", "shutdown", NULL, NULL, NULL);
  g_mutex_lock (&w->lock);
  w->stopping = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  g_cancellable_cancel (w->stop);
  signal_children (w, FALSE);
  g_timeout_add_seconds (budget > SHUTDOWN_MARGIN * 2 ?
      budget - SHUTDOWN_MARGIN : budget / 2, on_kill_deadline, w);
  g_timeout_add_seconds (budget, on_budget_spent, w);
  check_done (w);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_health (gpointer data)
{
  Worker *w = data;
  gint64 last;
  g_autofree gchar *text = NULL;

  g_mutex_lock (&w->lock);
  last = w->last_poll;
  /* a receiver waiting for a free slot is healthy */
  if (w->active >= (guint) w->o->concurrency)
    last = g_get_monotonic_time ();
  g_mutex_unlock (&w->lock);
  /* a receiver stuck past its long poll and the HTTP timeouts is not */
  if (g_get_monotonic_time () - last > (gint64) (w->o->wait_time +
          RCX_SQS_DEFAULT_REQUEST_TIMEOUT * RCX_SQS_DEFAULT_RETRY_ATTEMPTS +
          30) * G_USEC_PER_SEC)
    return G_SOURCE_CONTINUE;
  text = g_strdup_printf ("%" G_GINT64_FORMAT "\n", g_get_real_time ());
  g_file_set_contents (w->o->health_file, text, -1, NULL);
  return G_SOURCE_CONTINUE;
}

static gchar *
default_worker_id (void)
{
  g_autofree gchar *host = g_strdup (g_get_host_name ());

  g_strcanon (host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
      "0123456789_-", '_');
  if (strlen (host) > 80)
    host[80] = '\0';
  return g_strdup_printf ("%s-%d", host, (int) getpid ());
}

static gchar *
env_value (const gchar * name)
{
  const gchar *env = g_getenv (name);

  return env && *env ? g_strdup (env) : NULL;
}

/* Storage keys come from the environment only: in argv, `ps` would show
 * them. Both or neither; a token alone means a mistake in the task
 * definition, caught here rather than as 403s on every job. */
static gboolean
configure_storage (WorkerOptions * o, GError ** error)
{
  o->storage_key_id = env_value ("RCX_STORAGE_ACCESS_KEY_ID");
  o->storage_secret = env_value ("RCX_STORAGE_SECRET_ACCESS_KEY");
  o->storage_token = env_value ("RCX_STORAGE_SESSION_TOKEN");
  if (!o->storage_key_id != !o->storage_secret
      || (o->storage_token && !o->storage_key_id)) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
        "RCX_STORAGE_ACCESS_KEY_ID and RCX_STORAGE_SECRET_ACCESS_KEY are "
        "set together (RCX_STORAGE_SESSION_TOKEN only with them)");
    return FALSE;
  }
  return TRUE;
}

static gboolean
configure (WorkerOptions * o, GError ** error)
{
  const gchar *env;

#define ENV_DEFAULT(field, name) \
  if (!o->field && (env = g_getenv (name)) && *env) o->field = g_strdup (env)
  ENV_DEFAULT (queue_url, "RCX_QUEUE_URL");
  ENV_DEFAULT (bucket, "RCX_BUCKET");
  ENV_DEFAULT (s3_endpoint, "AWS_ENDPOINT_URL_S3");
  ENV_DEFAULT (storage_region, "RCX_STORAGE_REGION");
  ENV_DEFAULT (sqs_endpoint, "AWS_ENDPOINT_URL_SQS");
  ENV_DEFAULT (key_template, "RCX_HLS_KEY_TEMPLATE");
  ENV_DEFAULT (description, "RCX_PIPELINE_DESCRIPTION");
  ENV_DEFAULT (worker_id, "RCX_WORKER_ID");
  ENV_DEFAULT (health_file, "RCX_HEALTH_FILE");
#undef ENV_DEFAULT
  if (!o->key_template)
    o->key_template = g_strdup (DEFAULT_KEY_TEMPLATE);
  if (!o->health_file)
    o->health_file = g_strdup (DEFAULT_HEALTH_FILE);
  if (!o->worker_id)
    o->worker_id = default_worker_id ();

  if (!o->queue_url || !o->bucket) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
        "--queue-url and --bucket (or RCX_QUEUE_URL, RCX_BUCKET) are needed");
    return FALSE;
  }
  if (!rcx_id_is_valid (o->worker_id) || strlen (o->worker_id) > 100) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--worker-id: 1-100 of A-Z a-z 0-9 _ -");
    return FALSE;
  }
  if (!rcx_job_key_template_check (o->key_template, error))
    return FALSE;
  if (strchr (o->bucket, '/') || !*o->bucket) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--bucket: a bucket name");
    return FALSE;
  }
  if (o->concurrency < 1 || o->concurrency > 64 || o->heartbeat < 1
      || o->visibility <= o->heartbeat
      || o->visibility > RCX_SQS_MAX_VISIBILITY_TIMEOUT || o->wait_time < 0
      || o->wait_time > RCX_SQS_MAX_WAIT_TIME || o->max_receives < 1
      || o->shutdown_budget < 2 || o->backoff_base < 0
      || o->backoff_max < o->backoff_base
      || o->backoff_max > RCX_SQS_MAX_VISIBILITY_TIMEOUT
      || o->not_ours_delay < 0
      || o->not_ours_delay > RCX_SQS_MAX_VISIBILITY_TIMEOUT
      || o->protection_minutes < 1 || o->db_stale_after < 0
      || o->job_timeout < 0) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "out of range: --concurrency 1-64, --heartbeat >= 1 and below "
        "--visibility (<= 43200), --wait-time 0-20, --max-receives >= 1, "
        "--shutdown-budget >= 2, --backoff-base <= --backoff-max <= 43200, "
        "--not-ours-delay <= 43200, --protection-minutes >= 1");
    return FALSE;
  }
  if (!g_getenv ("SUPABASE_URL") || !g_getenv ("SUPABASE_SERVICE_KEY")) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
        "SUPABASE_URL and SUPABASE_SERVICE_KEY must be set in the "
        "environment");
    return FALSE;
  }
  return configure_storage (o, error);
}

static const gchar *const worker_description =
    "Environment: SUPABASE_URL, SUPABASE_SERVICE_KEY (the job records; "
    "environment\nonly), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
    "AWS_SESSION_TOKEN, AWS_REGION\n(the worker's SQS credentials; unset: "
    "the ECS task role or IMDS),\nRCX_STORAGE_ACCESS_KEY_ID, "
    "RCX_STORAGE_SECRET_ACCESS_KEY, RCX_STORAGE_SESSION_TOKEN\n(the S3/Wasabi "
    "keys, environment only: each child gets them as its AWS_*;\nunset: the "
    "children inherit the worker's), AWS_ENDPOINT_URL_SQS,\n"
    "AWS_ENDPOINT_URL_S3, ECS_AGENT_URI (task scale-in protection while a job "
    "runs),\nRCX_QUEUE_URL, RCX_BUCKET, RCX_STORAGE_REGION, "
    "RCX_HLS_KEY_TEMPLATE,\nRCX_PIPELINE_DESCRIPTION, RCX_WORKER_ID, "
    "RCX_HEALTH_FILE (defaults for the options\nof the same name),\n"
    "RCX_WORKER_VERBOSE (info-level library logs).\n\n"
    "Each job runs as a child `rugbycodex-runner transcode --job-id ID "
    "--worker-id\n<worker-id>-<slot> ... s3://BUCKET/<source_key> "
    "s3://BUCKET/<template>`.\nLogs: one JSON object per line on stdout "
    "(time, level, event, job_id, media_id,\nworker_id, fields) and "
    "CloudWatch embedded-metric lines. See docs/worker.md.\n\n"
    "Exit codes: 0 success (stopped by SIGTERM/SIGINT), 2 usage or "
    "configuration error.";

int
rcx_worker_main (int argc, char **argv)
{
  g_auto (WorkerOptions) o = {.concurrency = DEFAULT_CONCURRENCY,
    .visibility = DEFAULT_VISIBILITY,.heartbeat = DEFAULT_HEARTBEAT,
    .wait_time = DEFAULT_WAIT_TIME,.max_receives = DEFAULT_MAX_RECEIVES,
    .shutdown_budget = DEFAULT_SHUTDOWN_BUDGET,
    .backoff_base = DEFAULT_BACKOFF_BASE,.backoff_max = DEFAULT_BACKOFF_MAX,
    .not_ours_delay = DEFAULT_NOT_OURS_DELAY,
    .protection_minutes = DEFAULT_PROTECTION_MINUTES,
    .job_timeout = DEFAULT_JOB_TIMEOUT,
  };
  const GOptionEntry entries[] = {
    {"queue-url", 0, 0, G_OPTION_ARG_STRING, &o.queue_url,
        "The SQS queue of job messages (default: $RCX_QUEUE_URL)", "URL"},
    {"sqs-endpoint-url", 0, 0, G_OPTION_ARG_STRING, &o.sqs_endpoint,
          "SQS endpoint (default: $AWS_ENDPOINT_URL_SQS, else the queue URL's)",
        "URL"},
    {"bucket", 0, 0, G_OPTION_ARG_STRING, &o.bucket,
        "The bucket of the sources (media_assets.source_key) and the HLS "
          "outputs (default: $RCX_BUCKET)", "NAME"},
    {"endpoint-url", 0, 0, G_OPTION_ARG_STRING, &o.s3_endpoint,
        "S3/Wasabi endpoint (default: $AWS_ENDPOINT_URL_S3, else AWS)", "URL"},
    {"storage-region", 0, 0, G_OPTION_ARG_STRING, &o.storage_region,
          "Region that signs the children's S3/Wasabi requests, their "
          "AWS_REGION (default: $RCX_STORAGE_REGION, else the worker's)",
        "REGION"},
    {"key-template", 0, 0, G_OPTION_ARG_STRING, &o.key_template,
        "Where a job's HLS goes in the bucket: {org_id}, {media_id}, "
          "{job_id} (default: " DEFAULT_KEY_TEMPLATE ")", "TEMPLATE"},
    {"description", 'd', 0, G_OPTION_ARG_STRING, &o.description,
        "Pipeline description passed to each job (default: the "
          "transcode's; $RCX_PIPELINE_DESCRIPTION)", "NAME|FILE"},
    {"concurrency", 'j', 0, G_OPTION_ARG_INT, &o.concurrency,
        "Jobs at once, each a child process (default: "
          G_STRINGIFY (DEFAULT_CONCURRENCY) ")", "N"},
    {"visibility", 0, 0, G_OPTION_ARG_INT, &o.visibility,
          "Visibility timeout of a received message, renewed by each "
          "heartbeat (default: " G_STRINGIFY (DEFAULT_VISIBILITY) ")",
        "SECONDS"},
    {"heartbeat", 0, 0, G_OPTION_ARG_INT, &o.heartbeat,
        "Seconds between two visibility extensions while a job runs "
          "(default: " G_STRINGIFY (DEFAULT_HEARTBEAT) ")", "SECONDS"},
    {"wait-time", 0, 0, G_OPTION_ARG_INT, &o.wait_time,
        "Long-poll wait of a receive, 0-20 (default: "
          G_STRINGIFY (DEFAULT_WAIT_TIME) ")", "SECONDS"},
    {"max-receives", 0, 0, G_OPTION_ARG_INT, &o.max_receives,
        "Deliveries of one message before its job is given up (failed) "
          "and the message left for the dead-letter queue; set the queue's "
          "maxReceiveCount to the same (default: "
          G_STRINGIFY (DEFAULT_MAX_RECEIVES) ")", "N"},
    {"backoff-base", 0, 0, G_OPTION_ARG_INT, &o.backoff_base,
        "Visibility after a transient failure, doubled with each delivery "
          "(default: " G_STRINGIFY (DEFAULT_BACKOFF_BASE) ")", "SECONDS"},
    {"backoff-max", 0, 0, G_OPTION_ARG_INT, &o.backoff_max,
          "Longest such backoff (default: " G_STRINGIFY (DEFAULT_BACKOFF_MAX)
        ")", "SECONDS"},
    {"not-ours-delay", 0, 0, G_OPTION_ARG_INT, &o.not_ours_delay,
          "Visibility of a message whose job runs on another live worker "
          "(default: " G_STRINGIFY (DEFAULT_NOT_OURS_DELAY)
        ", the database's stale horizon)", "SECONDS"},
    {"db-stale-after", 0, 0, G_OPTION_ARG_INT, &o.db_stale_after,
        "Stale horizon of this worker's own claims (give-up); 0: the "
          "library's 900 s", "SECONDS"},
    {"job-timeout", 0, 0, G_OPTION_ARG_INT, &o.job_timeout,
        "A job still running after this long is hung: SIGTERM, then "
          "SIGKILL; it counts as a crash (default: "
          G_STRINGIFY (DEFAULT_JOB_TIMEOUT) "; 0: none)", "SECONDS"},
    {"shutdown-budget", 0, 0, G_OPTION_ARG_INT, &o.shutdown_budget,
        "On SIGTERM/SIGINT, exit within this long; children still running "
          G_STRINGIFY (SHUTDOWN_MARGIN) " s before it are killed (default: "
          G_STRINGIFY (DEFAULT_SHUTDOWN_BUDGET) ")", "SECONDS"},
    {"protection-minutes", 0, 0, G_OPTION_ARG_INT, &o.protection_minutes,
        "ExpiresInMinutes of the ECS task scale-in protection asked for "
          "while a job runs, renewed half-way (default: "
          G_STRINGIFY (DEFAULT_PROTECTION_MINUTES) ")", "MINUTES"},
    {"worker-id", 0, 0, G_OPTION_ARG_STRING, &o.worker_id,
        "This worker's id; slot N claims as <id>-<N> (default: "
          "$RCX_WORKER_ID, else <host>-<pid>)", "ID"},
    {"health-file", 0, 0, G_OPTION_ARG_FILENAME, &o.health_file,
        "File the main loop rewrites every 5 s while the worker is healthy "
          "(default: " DEFAULT_HEALTH_FILE ")", "PATH"},
    {"child-arg", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.child_args,
        "An extra argument for each `transcode --job-id` child "
          "(repeatable)", "ARG"},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- run transcode jobs from an SQS queue");
  g_autoptr (GError) error = NULL;
  g_autoptr (RcxHttpClient) http = NULL;
  RcxHttpClientOptions hopts = {.timeout = DB_TIMEOUT };
  RcxSqsConfig sqs_config;
  Worker w = { 0 };
  const gchar *agent;
  guint sigint, sigterm, health;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context, worker_description);
  if (!g_option_context_parse (context, &argc, &argv, &error)
      || !configure (&o, &error)) {
    fprintf (stderr, "rugbycodex-runner: error: worker: %s (see --help)\n",
        error->message);
    return EXIT_USAGE;
  }
  if (argc > 1) {
    fprintf (stderr, "rugbycodex-runner: error: worker takes no arguments\n");
    return EXIT_USAGE;
  }

  w.o = &o;
  log_worker_id = o.worker_id;
  {
    const gchar *slash = strrchr (o.queue_url, '/');

    metric_queue = g_strdup (slash && slash[1] ? slash + 1 : o.queue_url);
  }
  rcx_sqs_config_init (&sqs_config);
  sqs_config.queue_url = g_strdup (o.queue_url);
  sqs_config.endpoint_uri = g_strdup (o.sqs_endpoint);
  w.sqs = rcx_sqs_client_new (&sqs_config, &error);
  rcx_sqs_config_clear (&sqs_config);
  if (!w.sqs) {
    fprintf (stderr, "rugbycodex-runner: error: worker: %s\n", error->message);
    return EXIT_USAGE;
  }
  http = rcx_http_client_new (&hopts);
  w.pg = rcx_postgrest_new (g_getenv ("SUPABASE_URL"),
      g_getenv ("SUPABASE_SERVICE_KEY"), http, &error);
  if (!w.pg) {
    fprintf (stderr, "rugbycodex-runner: error: worker: SUPABASE_URL: %s\n",
        error->message);
    rcx_sqs_client_unref (w.sqs);
    return EXIT_USAGE;
  }
  if ((agent = g_getenv ("ECS_AGENT_URI")) && *agent) {
    RcxHttpClientOptions aopts = {.timeout = 5,.max_attempts = 2 };

    w.agent_uri = g_strdup_printf ("%s/task-protection/v1/state", agent);
    w.agent = rcx_http_client_new (&aopts);
  }
  w.self_exe = g_file_read_link ("/proc/self/exe", NULL);
  if (!w.self_exe)
    w.self_exe = g_strdup (argv[0]);
  w.loop = g_main_loop_new (NULL, FALSE);
  w.stop = g_cancellable_new ();
  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  g_mutex_init (&w.protection_lock);
  w.slots = g_new0 (Slot *, o.concurrency);
  w.last_poll = g_get_monotonic_time ();
  logs_json = TRUE;

  sigint = g_unix_signal_add (SIGINT, on_stop_signal, &w);
  sigterm = g_unix_signal_add (SIGTERM, on_stop_signal, &w);
  health = g_timeout_add_seconds (5, on_health, &w);
  on_health (&w);
  emit ("info", "worker-started", NULL, NULL,
      fields_new ("queue", metric_queue, "bucket", o.bucket, "key_template",
          o.key_template, "protection", w.agent_uri ? "ecs" : "none",
          "storage_credentials", o.storage_key_id ? "RCX_STORAGE" : "inherited",
          NULL));
  w.receiver = g_thread_new ("rcx-receiver", receiver_thread, &w);
  g_main_loop_run (w.loop);
  g_thread_join (w.receiver);
  emit ("info", "worker-stopped", NULL, NULL, NULL);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_source_remove (health);
  g_unlink (o.health_file);
  g_main_loop_unref (w.loop);
  g_object_unref (w.stop);
  g_free (w.slots);
  g_free (w.self_exe);
  g_free (w.agent_uri);
  g_clear_pointer (&w.agent, rcx_http_client_unref);
  rcx_postgrest_unref (w.pg);
  rcx_sqs_client_unref (w.sqs);
  logs_json = FALSE;
  return EXIT_OK;
}

/* ---- health ------------------------------------------------------------ */

int
rcx_worker_health_main (int argc, char **argv)
{
  g_autofree gchar *file = NULL;
  gint max_age = DEFAULT_HEALTH_MAX_AGE;
  const GOptionEntry entries[] = {
    {"health-file", 0, 0, G_OPTION_ARG_FILENAME, &file,
        "The worker's health file (default: $RCX_HEALTH_FILE, else "
          DEFAULT_HEALTH_FILE ")", "PATH"},
    {"max-age", 0, 0, G_OPTION_ARG_INT, &max_age,
        "Healthy when the file is younger than this (default: "
          G_STRINGIFY (DEFAULT_HEALTH_MAX_AGE) ")", "SECONDS"},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- exit 0 when the worker's main loop is alive");
  g_autoptr (GError) error = NULL;
  const gchar *env = g_getenv ("RCX_HEALTH_FILE");
  struct stat st;
  gint64 age;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context, "For a container HEALTHCHECK: "
      "`rugbycodex-runner health`.\nExit codes: 0 healthy, 1 unhealthy, 2 "
      "usage error.");
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    fprintf (stderr, "rugbycodex-runner: error: health: %s\n", error->message);
    return EXIT_USAGE;
  }
  if (!file)
    file = g_strdup (env && *env ? env : DEFAULT_HEALTH_FILE);
  if (stat (file, &st) != 0) {
    fprintf (stderr, "unhealthy: %s: %s\n", file, g_strerror (errno));
    return 1;
  }
  age = g_get_real_time () / G_USEC_PER_SEC - st.st_mtime;
  if (age > max_age) {
    fprintf (stderr, "unhealthy: %s is %" G_GINT64_FORMAT " s old\n", file,
        age);
    return 1;
  }
  printf ("healthy (%" G_GINT64_FORMAT " s)\n", age);
  return 0;
}
