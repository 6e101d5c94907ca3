/* rcx-worker.c: the SQS worker (see rcx-worker.h and docs/worker.md): its
 * options, the main loop (signals, the health file, the shutdown budget)
 * and the health subcommand. Beside it: rcx-worker-queue.c (the receiver
 * and what happens to each message), rcx-worker-child.c (running one job
 * as a child process, with heartbeats and ECS scale-in protection) and
 * rcx-worker-log.c (JSON log lines and metrics).
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

#include "rcx-duration.h"
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
#define DEFAULT_STALE_AFTER 900
#define MIN_STALE_AFTER 10
#define DEFAULT_PROTECTION_MINUTES 60
#define DEFAULT_JOB_TIMEOUT (4 * 3600)
#define DEFAULT_HEALTH_FILE "/tmp/rugbycodex-worker.health"
#define DEFAULT_HEALTH_MAX_AGE 90
#define DEFAULT_KEY_TEMPLATE "{org_id}/{media_id}/hls/"
#define DB_TIMEOUT 10

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
  g_free (o->stale_after_text);
  g_strfreev (o->child_args);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (WorkerOptions, worker_options_clear);

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

  rcx_worker_emit ("warning", "shutdown-kill", NULL, NULL, NULL);
  signal_children (w, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
on_handback_deadline (gpointer data)
{
  Worker *w = data;

  g_cancellable_cancel (w->handback);
  return G_SOURCE_REMOVE;
}

static gboolean
on_budget_spent (gpointer data)
{
  rcx_worker_emit ("error", "shutdown-budget-spent", NULL, NULL, NULL);
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
  rcx_worker_emit ("info", "shutdown", NULL, NULL, NULL);
  g_mutex_lock (&w->lock);
  w->stopping = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  g_cancellable_cancel (w->stop);
  signal_children (w, FALSE);
  g_timeout_add_seconds (budget > SHUTDOWN_MARGIN * 2 ?
      budget - SHUTDOWN_MARGIN : budget / 2, on_kill_deadline, w);
  g_timeout_add_seconds (budget > HANDBACK_MARGIN * 2 ?
      budget - HANDBACK_MARGIN : budget / 2, on_handback_deadline, w);
  g_timeout_add_seconds (budget, on_budget_spent, w);
  rcx_worker_check_done (w);
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
  if (o->stale_after_text && !rcx_duration_parse ("--stale-after",
          o->stale_after_text, &o->stale_after, error))
    return FALSE;
  if (o->stale_after < MIN_STALE_AFTER) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--stale-after: at least " G_STRINGIFY (MIN_STALE_AFTER) " s");
    return FALSE;
  }
  /* a message of a job live elsewhere comes back when it may be stale */
  if (o->not_ours_delay == -1)
    o->not_ours_delay = MIN (o->stale_after, RCX_SQS_MAX_VISIBILITY_TIMEOUT);
  if (o->concurrency < 1 || o->concurrency > 64 || o->heartbeat < 1
      || o->visibility <= o->heartbeat
      || o->visibility > RCX_SQS_MAX_VISIBILITY_TIMEOUT || o->wait_time < 0
      || o->wait_time > RCX_SQS_MAX_WAIT_TIME || o->max_receives < 1
      || o->shutdown_budget < 2 || o->backoff_base < 0
      || o->backoff_max < o->backoff_base
      || o->backoff_max > RCX_SQS_MAX_VISIBILITY_TIMEOUT
      || o->not_ours_delay < 0
      || o->not_ours_delay > RCX_SQS_MAX_VISIBILITY_TIMEOUT
      || o->protection_minutes < 1
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
    .not_ours_delay = -1,.stale_after = DEFAULT_STALE_AFTER,
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
          "(default: --stale-after, at most 43200)", "SECONDS"},
    {"stale-after", 0, 0, G_OPTION_ARG_STRING, &o.stale_after_text,
        "A job running elsewhere whose row has not moved for this long "
          "(its worker died) is taken over, or given up at max receives; "
          "each child gets it; e.g. 90s, 15m, at least "
          G_STRINGIFY (MIN_STALE_AFTER) " s (default: 15m). Keep it well "
          "above the children's progress interval (5 s)", "DURATION"},
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
  rcx_worker_log_set_context (o.worker_id, o.queue_url);
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
  w.handback = g_cancellable_new ();
  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  g_mutex_init (&w.protection_lock);
  w.slots = g_new0 (Slot *, o.concurrency);
  w.last_poll = g_get_monotonic_time ();
  rcx_worker_log_set_json (TRUE);

  sigint = g_unix_signal_add (SIGINT, on_stop_signal, &w);
  sigterm = g_unix_signal_add (SIGTERM, on_stop_signal, &w);
  health = g_timeout_add_seconds (5, on_health, &w);
  on_health (&w);
  rcx_worker_emit ("info", "worker-started", NULL, NULL,
      rcx_worker_fields_new ("queue", rcx_worker_log_queue (), "bucket",
          o.bucket, "key_template", o.key_template, "protection",
          w.agent_uri ? "ecs" : "none", "storage_credentials",
          o.storage_key_id ? "RCX_STORAGE" : "inherited", NULL));
  w.receiver = g_thread_new ("rcx-receiver", rcx_worker_receiver_thread, &w);
  g_main_loop_run (w.loop);
  g_thread_join (w.receiver);
  rcx_worker_emit ("info", "worker-stopped", NULL, NULL, NULL);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_source_remove (health);
  g_unlink (o.health_file);
  g_main_loop_unref (w.loop);
  g_object_unref (w.stop);
  g_object_unref (w.handback);
  g_free (w.slots);
  g_free (w.self_exe);
  g_free (w.agent_uri);
  g_clear_pointer (&w.agent, rcx_http_client_unref);
  rcx_postgrest_unref (w.pg);
  rcx_sqs_client_unref (w.sqs);
  rcx_worker_log_set_json (FALSE);
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
