/* Unit tests of rcx-postgrest without a server: query strings (PostgREST's
 * filter syntax and escaping) and argument checks; and the pure parts of
 * rcx-jobs (reasons, worker ids) and rcx-job-progress (percent / speed /
 * ETA). The requests themselves are tested against a real database in
 * tests/test_jobs_db.py.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <rcx-job-progress.h>
#include <rcx-postgrest.h>
#include <string.h>

static gchar *
query_string (RcxPostgrestQuery * q)
{
  gchar *s = rcx_postgrest_query_to_string (q);

  rcx_postgrest_query_free (q);
  return s;
}

static void
test_eq_and_select (void)
{
  RcxPostgrestQuery *q = rcx_postgrest_query_new ("jobs");
  g_autofree gchar *s = NULL;

  rcx_postgrest_query_eq (q, "id", "0b6c2d9e-1111-4222-8333-444455556666");
  rcx_postgrest_query_eq (q, "state", "queued");
  rcx_postgrest_query_select (q, "id,state,attempts");
  s = query_string (q);
  g_assert_cmpstr (s, ==, "jobs?id=eq.0b6c2d9e-1111-4222-8333-444455556666"
      "&state=eq.queued&select=id,state,attempts");
}

static void
test_values_are_escaped (void)
{
  RcxPostgrestQuery *q = rcx_postgrest_query_new ("media_assets");
  g_autofree gchar *s = NULL;

  /* '&', '=', '#', ' ' and '%' must not end or change the filter */
  rcx_postgrest_query_eq (q, "source_key", "a b&c=d#e%f/g");
  s = query_string (q);
  g_assert_cmpstr (s, ==,
      "media_assets?source_key=eq.a%20b%26c%3Dd%23e%25f%2Fg");
}

static void
test_in_list (void)
{
  const gchar *plain[] = { "queued", "running", NULL };
  const gchar *odd[] = { "a,b", "x\"y", "", NULL };
  const gchar *none[] = { NULL };
  RcxPostgrestQuery *q;
  g_autofree gchar *s1 = NULL, *s2 = NULL, *s3 = NULL;

  q = rcx_postgrest_query_new ("jobs");
  rcx_postgrest_query_in (q, "state", plain);
  s1 = query_string (q);
  g_assert_cmpstr (s1, ==, "jobs?state=in.(queued,running)");

  /* reserved characters: double-quoted, '"' escaped, then percent-encoded */
  q = rcx_postgrest_query_new ("jobs");
  rcx_postgrest_query_in (q, "worker_id", odd);
  s2 = query_string (q);
  g_assert_cmpstr (s2, ==,
      "jobs?worker_id=in.(%22a%2Cb%22,%22x%5C%22y%22,%22%22)");

  q = rcx_postgrest_query_new ("jobs");
  rcx_postgrest_query_in (q, "state", none);
  s3 = query_string (q);
  g_assert_cmpstr (s3, ==, "jobs?state=in.()");
}

static void
test_no_filters (void)
{
  g_autofree gchar *s = query_string (rcx_postgrest_query_new ("jobs"));

  g_assert_cmpstr (s, ==, "jobs");
}

static void
test_new_checks_arguments (void)
{
  g_autoptr (GError) error = NULL;
  RcxPostgrest *pg;

  pg = rcx_postgrest_new (NULL, "key", NULL, &error);
  g_assert_null (pg);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  pg = rcx_postgrest_new ("https://x.supabase.co", "", NULL, &error);
  g_assert_null (pg);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* user info would leak into logs: refused; the message never echoes the
   * URL */
  pg = rcx_postgrest_new ("https://user:secret@x.supabase.co", "k", NULL,
      &error);
  g_assert_null (pg);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (strstr (error->message, "secret"));
  g_clear_error (&error);

  pg = rcx_postgrest_new ("ftp://x.supabase.co", "k", NULL, &error);
  g_assert_null (pg);
  g_clear_error (&error);

  pg = rcx_postgrest_new ("https://x.supabase.co/", "k", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pg);
  rcx_postgrest_unref (pg);

  pg = rcx_postgrest_new ("http://127.0.0.1:54321/rest/v1", "k", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pg);
  rcx_postgrest_unref (pg);
}

/* Nothing listens: a connection error after the retries, not a crash, and
 * no PostgREST error code. */
static void
test_connection_refused (void)
{
  RcxHttpClientOptions options = { 0, };
  g_autoptr (RcxHttpClient) http = NULL;
  g_autoptr (RcxPostgrest) pg = NULL;
  g_autoptr (RcxPostgrestQuery) q = rcx_postgrest_query_new ("jobs");
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autofree gchar *url = NULL;
  JsonArray *rows;
  guint16 port;

  /* a port that was free a moment ago */
  port = g_socket_listener_add_any_inet_port (listener, NULL, NULL);
  g_socket_listener_close (listener);
  url = g_strdup_printf ("http://127.0.0.1:%u", port);

  options.max_attempts = 2;
  http = rcx_http_client_new (&options);
  rcx_retry_policy_set_backoff (rcx_http_client_get_retry_policy (http),
      1000, 1000);
  pg = rcx_postgrest_new (url, "k", http, &error);
  g_assert_no_error (error);
  rows = rcx_postgrest_select (pg, q, NULL, &error);
  g_assert_null (rows);
  g_assert_true (error->domain == G_IO_ERROR);
  g_assert_cmpuint (rcx_http_client_get_request_count (http), ==, 2);
}

static void
test_reason_sanitize (void)
{
  g_autofree gchar *a = rcx_jobs_reason_sanitize ("bad\r\ninput\x1b[31m");
  g_autofree gchar *b = rcx_jobs_reason_sanitize ("caf\xc3\xa9 \xff end");
  g_autofree gchar *c = rcx_jobs_reason_sanitize (NULL);
  g_autofree gchar *long_in = g_strnfill (10000, 'x');
  g_autofree gchar *d = rcx_jobs_reason_sanitize (long_in);

  g_assert_cmpstr (a, ==, "bad  input [31m");
  g_assert_cmpstr (b, ==, "caf\xc3\xa9 ? end");
  g_assert_cmpstr (c, ==, "unknown error");
  g_assert_cmpuint (strlen (d), ==, RCX_JOBS_REASON_MAX);
}

static void
test_worker_ids (void)
{
  g_assert_true (rcx_jobs_worker_id_is_valid ("ip-10-0-1-2/3"));
  g_assert_true (rcx_jobs_worker_id_is_valid ("task:abc.def_1"));
  g_assert_false (rcx_jobs_worker_id_is_valid (""));
  g_assert_false (rcx_jobs_worker_id_is_valid (NULL));
  g_assert_false (rcx_jobs_worker_id_is_valid ("-x"));
  g_assert_false (rcx_jobs_worker_id_is_valid ("a b"));
  g_assert_false (rcx_jobs_worker_id_is_valid ("a\"b"));
}

static void
test_progress_estimate (void)
{
  RcxProgressEstimate e;

  /* 30 s of 120 s done in 10 s: 25 %, 3x, 30 s left */
  rcx_progress_estimate (30 * G_GUINT64_CONSTANT (1000000000),
      120 * G_GUINT64_CONSTANT (1000000000), 0,
      10 * G_GUINT64_CONSTANT (1000000000), FALSE, &e);
  g_assert_cmpfloat_with_epsilon (e.percent, 25.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (e.speed, 3.0, 1e-9);
  g_assert_cmpuint (e.eta, ==, 30 * G_GUINT64_CONSTANT (1000000000));
  /* no duration: percent and ETA unknown, the speed known */
  rcx_progress_estimate (30 * G_GUINT64_CONSTANT (1000000000),
      RCX_PROGRESS_NONE, 0, 10 * G_GUINT64_CONSTANT (1000000000), FALSE, &e);
  g_assert_cmpfloat (e.percent, ==, -1.0);
  g_assert_cmpfloat_with_epsilon (e.speed, 3.0, 1e-9);
  g_assert_cmpuint (e.eta, ==, RCX_PROGRESS_NONE);
  /* nothing elapsed yet; the end */
  rcx_progress_estimate (RCX_PROGRESS_NONE, RCX_PROGRESS_NONE,
      RCX_PROGRESS_NONE, RCX_PROGRESS_NONE, FALSE, &e);
  g_assert_cmpfloat (e.percent, ==, -1.0);
  g_assert_cmpfloat (e.speed, ==, 0.0);
  rcx_progress_estimate (5, 10, 0, 0, TRUE, &e);
  g_assert_cmpfloat (e.percent, ==, 100.0);
  g_assert_cmpuint (e.eta, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/postgrest/query/eq-select", test_eq_and_select);
  g_test_add_func ("/postgrest/query/escaping", test_values_are_escaped);
  g_test_add_func ("/postgrest/query/in", test_in_list);
  g_test_add_func ("/postgrest/query/none", test_no_filters);
  g_test_add_func ("/postgrest/new", test_new_checks_arguments);
  g_test_add_func ("/postgrest/connection-refused", test_connection_refused);
  g_test_add_func ("/jobs/reason-sanitize", test_reason_sanitize);
  g_test_add_func ("/jobs/worker-ids", test_worker_ids);
  g_test_add_func ("/job-progress/estimate", test_progress_estimate);
  return g_test_run ();
}
