/* rcx-jobs-tool: drives librcx's Supabase client (rcx-postgrest, rcx-jobs)
 * for tests/test_jobs_db.py. Settings from SUPABASE_URL and
 * SUPABASE_SERVICE_KEY.
 *
 *   rcx-jobs-tool [options] claim JOB
 *   rcx-jobs-tool [options] claim-race JOB N     N threads, N workers
 *   rcx-jobs-tool [options] give-up JOB REASON
 *   rcx-jobs-tool [options] progress JOB PERCENT|unknown
 *   rcx-jobs-tool [options] succeed JOB MEDIA URL [THUMB DURATION RENDITIONS]
 *   rcx-jobs-tool [options] fail JOB MEDIA REASON
 *   rcx-jobs-tool [options] release JOB MEDIA
 *   rcx-jobs-tool [options] get JOB
 *   rcx-jobs-tool [options] insert TABLE JSON
 *   rcx-jobs-tool [options] select TABLE COLUMN VALUE [COLUMN VALUE...]
 *
 * Prints one result line on stdout; errors on stderr as
 * "error: <domain> <code>: <message>"; "requests=N" (HTTP attempts) on
 * stderr at the end. Exit 0 ok, 1 error, 2 usage.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <rcx-jobs.h>
#include <stdio.h>
#include <stdlib.h>

static gchar *opt_worker = NULL;
static gint opt_persist = 0;
static gint opt_attempts = 0;
static gint opt_backoff_ms = 0;
static gint opt_timeout = 0;
static gint opt_stale_after = -1;

static GOptionEntry entries[] = {
  {"worker", 'w', 0, G_OPTION_ARG_STRING, &opt_worker, "worker id", "ID"},
  {"persist", 'p', 0, G_OPTION_ARG_INT, &opt_persist,
      "seconds succeed/fail/release keep retrying (default 0)", "S"},
  {"attempts", 'a', 0, G_OPTION_ARG_INT, &opt_attempts,
      "HTTP attempts per request (default: the policy's 3)", "N"},
  {"backoff-ms", 'b', 0, G_OPTION_ARG_INT, &opt_backoff_ms,
      "backoff base in ms (default: the policy's 1000)", "MS"},
  {"timeout", 't', 0, G_OPTION_ARG_INT, &opt_timeout,
      "HTTP timeout in seconds", "S"},
  {"stale-after", 's', 0, G_OPTION_ARG_INT, &opt_stale_after,
      "take over running jobs not updated for S seconds", "S"},
  {NULL}
};

static void
log_to_stderr (GLogLevelFlags level, const gchar * message, gpointer data)
{
  fprintf (stderr, "http: %s\n", message);
}

static RcxPostgrest *
make_client (GError ** error)
{
  RcxHttpClientOptions options = { 0, };
  g_autoptr (RcxHttpClient) http = NULL;

  options.max_attempts = opt_attempts;
  options.timeout = opt_timeout;
  http = rcx_http_client_new (&options);
  rcx_http_client_set_log_func (http, log_to_stderr, NULL, NULL);
  if (opt_backoff_ms > 0)
    rcx_retry_policy_set_backoff (rcx_http_client_get_retry_policy (http),
        (gint64) opt_backoff_ms * 1000, 20 * G_USEC_PER_SEC);
  return rcx_postgrest_new (g_getenv ("SUPABASE_URL"),
      g_getenv ("SUPABASE_SERVICE_KEY"), http, error);
}

static void
print_job (RcxJob * job)
{
  printf (" state=%s attempts=%d worker=%s progress=%g\n",
      job ? job->state : "-", job ? job->attempts : -1,
      job && job->worker_id ? job->worker_id : "-", job ? job->progress : -1);
}

typedef struct
{
  RcxPostgrest *pg;
  const gchar *job_id;
  guint index;
  RcxJobClaim claim;
  gboolean ok;
  GError *error;
} Racer;

static gpointer
race (gpointer data)
{
  Racer *r = data;
  g_autofree gchar *worker = g_strdup_printf ("racer-%u", r->index);
  g_autoptr (RcxJobs) jobs = rcx_jobs_new (r->pg, worker);

  if (opt_stale_after >= 0)
    rcx_jobs_set_stale_after (jobs, (guint) opt_stale_after);
  r->ok = rcx_jobs_claim (jobs, r->job_id, &r->claim, NULL, NULL, &r->error);
  return NULL;
}

static int
run (int argc, char **argv, GError ** error)
{
  g_autoptr (RcxPostgrest) pg = NULL;
  g_autoptr (RcxJobs) jobs = NULL;
  const gchar *cmd;

  if (argc < 3)
    return 2;
  cmd = argv[1];
  pg = make_client (error);
  if (pg == NULL)
    return 1;
  jobs = rcx_jobs_new (pg, opt_worker);
  rcx_jobs_set_persistence (jobs, (guint) opt_persist);
  if (opt_stale_after >= 0)
    rcx_jobs_set_stale_after (jobs, (guint) opt_stale_after);

  if (g_str_equal (cmd, "claim")) {
    g_autoptr (RcxJob) job = NULL;
    RcxJobClaim claim;

    if (!opt_worker)
      return 2;
    if (!rcx_jobs_claim (jobs, argv[2], &claim, &job, NULL, error))
      return 1;
    printf ("%s", rcx_job_claim_to_string (claim));
    print_job (job);
  } else if (g_str_equal (cmd, "claim-race") && argc == 4) {
    guint n = (guint) atoi (argv[3]), i, won = 0, busy = 0, errors = 0;
    g_autofree Racer *racers = g_new0 (Racer, n);
    g_autofree GThread **threads = g_new0 (GThread *, n);

    for (i = 0; i < n; i++) {
      racers[i].pg = pg;
      racers[i].job_id = argv[2];
      racers[i].index = i;
      threads[i] = g_thread_new ("racer", race, &racers[i]);
    }
    for (i = 0; i < n; i++) {
      g_thread_join (threads[i]);
      if (!racers[i].ok) {
        errors++;
        fprintf (stderr, "racer %u: %s\n", i, racers[i].error->message);
        g_clear_error (&racers[i].error);
      } else if (racers[i].claim == RCX_JOB_CLAIMED) {
        won++;
      } else {
        busy++;
      }
    }
    printf ("claimed=%u busy=%u errors=%u\n", won, busy, errors);
  } else if (g_str_equal (cmd, "progress") && argc == 4) {
    /* "unknown": a heartbeat without a percent */
    if (!rcx_jobs_progress (jobs, argv[2], g_str_equal (argv[3], "unknown") ?
            -1 : g_ascii_strtod (argv[3], NULL), NULL, error))
      return 1;
    printf ("ok\n");
  } else if (g_str_equal (cmd, "succeed") && argc >= 5) {
    RcxJobOutputs out = { argv[4], NULL, -1, NULL };
    g_autoptr (JsonNode) renditions = NULL;

    if (argc >= 6)
      out.thumbnail_url = argv[5];
    if (argc >= 7)
      out.duration_s = g_ascii_strtod (argv[6], NULL);
    if (argc >= 8) {
      renditions = json_from_string (argv[7], error);
      if (renditions == NULL)
        return 2;
      out.renditions = renditions;
    }
    if (!rcx_jobs_succeed (jobs, argv[2], argv[3], &out, NULL, error))
      return 1;
    printf ("ok\n");
  } else if (g_str_equal (cmd, "fail") && argc == 5) {
    if (!rcx_jobs_fail (jobs, argv[2], argv[3], argv[4], NULL, error))
      return 1;
    printf ("ok\n");
  } else if (g_str_equal (cmd, "release") && argc == 4) {
    if (!rcx_jobs_release (jobs, argv[2], argv[3], NULL, error))
      return 1;
    printf ("ok\n");
  } else if (g_str_equal (cmd, "give-up") && argc == 4) {
    g_autofree gchar *state = NULL;

    if (!rcx_jobs_give_up (jobs, argv[2], argv[3], &state, NULL, error))
      return 1;
    printf ("ok state=%s\n", state ? state : "-");
  } else if (g_str_equal (cmd, "get")) {
    g_autoptr (RcxJob) job = rcx_jobs_get (jobs, argv[2], NULL, error);

    if (job == NULL)
      return 1;
    printf ("job");
    print_job (job);
  } else if (g_str_equal (cmd, "insert") && argc == 4) {
    g_autoptr (JsonNode) rows = json_from_string (argv[3], error);
    g_autoptr (JsonArray) out = NULL;
    g_autoptr (JsonNode) node = json_node_new (JSON_NODE_ARRAY);
    g_autofree gchar *text = NULL;

    if (rows == NULL)
      return 2;
    out = rcx_postgrest_insert (pg, argv[2], rows, NULL, error);
    if (out == NULL)
      return 1;
    json_node_set_array (node, out);
    text = json_to_string (node, FALSE);
    printf ("%s\n", text);
  } else if (g_str_equal (cmd, "select") && argc >= 3 && argc % 2 == 1) {
    g_autoptr (RcxPostgrestQuery) q = rcx_postgrest_query_new (argv[2]);
    g_autoptr (JsonArray) out = NULL;
    g_autoptr (JsonNode) node = json_node_new (JSON_NODE_ARRAY);
    g_autofree gchar *text = NULL;
    gint i;

    for (i = 3; i + 1 < argc; i += 2) {
      if (strchr (argv[i + 1], ',')) {
        g_auto (GStrv) values = g_strsplit (argv[i + 1], ",", -1);

        rcx_postgrest_query_in (q, argv[i], (const gchar * const *) values);
      } else {
        rcx_postgrest_query_eq (q, argv[i], argv[i + 1]);
      }
    }
    out = rcx_postgrest_select (pg, q, NULL, error);
    if (out == NULL)
      return 1;
    json_node_set_array (node, out);
    text = json_to_string (node, FALSE);
    printf ("%s\n", text);
  } else {
    return 2;
  }
  fprintf (stderr, "requests=%" G_GUINT64_FORMAT "\n",
      rcx_http_client_get_request_count (rcx_postgrest_get_http_client (pg)));
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("COMMAND ARGS...");
  g_autoptr (GError) error = NULL;
  int rc;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "usage: %s\n", error->message);
    return 2;
  }
  rc = run (argc, argv, &error);
  if (rc == 1 && error)
    fprintf (stderr, "error: %s %d: %s\n", g_quark_to_string (error->domain),
        error->code, error->message);
  else if (rc == 2)
    fprintf (stderr, "usage: rcx-jobs-tool [options] COMMAND ARGS "
        "(see tests/rcx-jobs-tool.c)%s%s\n", error ? ": " : "",
        error ? error->message : "");
  return rc;
}
