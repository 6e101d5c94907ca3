/* test-credentials.c: the credentials chain against a SoupServer on
 * 127.0.0.1, in this process, playing the ECS container endpoint and EC2
 * IMDSv2. The real link-local addresses are never used: every case sets
 * AWS_EC2_METADATA_SERVICE_ENDPOINT or AWS_EC2_METADATA_DISABLED.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "rcx-credentials.h"

#define IMDS_TOKEN "imds-session-token-1"
#define IMDS_ROLE "rugby-transcoder"
#define CONTAINER_AUTH "container-auth-secret"

static gint warnings_seen;

/* Everything the library logs, at any level. */
static GMutex log_lock;
static GString *log_text;

/* ---- the fake metadata server ----------------------------------------- */

typedef struct
{
  GMutex lock;
  gchar *expiration;            /* Expiration the server answers with */
  guint fail_status;            /* 0, or the status every answer gets */
  guint container_requests;
  guint imds_token_requests;
  guint imds_token_ttl_missing;
  guint imds_requests;          /* GETs with the right token */
  guint imds_token_missing;     /* GETs without it */
  gchar *last_authorization;
} ServerState;

typedef struct
{
  SoupServer *server;
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  gchar *base_uri;
  ServerState state;
  gchar *tmpdir;
  gchar *credentials_file;
} Fixture;

static void
answer_json (SoupServerMessage * msg, const gchar * access_key,
    const gchar * secret, const gchar * token, const gchar * expiration,
    gboolean with_code)
{
  g_autofree gchar *body =
      g_strdup_printf ("{%s\"AccessKeyId\": \"%s\", \"SecretAccessKey\": "
      "\"%s\", \"Token\": \"%s\", \"Expiration\": \"%s\"}",
      with_code ? "\"Code\": \"Success\", \"Type\": \"AWS-HMAC\", " : "",
      access_key, secret, token, expiration);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_COPY, body, strlen (body));
}

static void
answer_text (SoupServerMessage * msg, guint status, const gchar * text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY,
      text, strlen (text));
}

static void
server_callback (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  ServerState *s = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *token = soup_message_headers_get_one (headers,
      "X-aws-ec2-metadata-token");
  g_autofree gchar *expiration = NULL;
  guint fail_status;

  g_mutex_lock (&s->lock);
  expiration = g_strdup (s->expiration);
  fail_status = s->fail_status;
  if (strcmp (path, "/ecs/credentials") == 0) {
    s->container_requests++;
    g_free (s->last_authorization);
    s->last_authorization = g_strdup (soup_message_headers_get_one (headers,
            "Authorization"));
  } else if (strcmp (path, "/latest/api/token") == 0) {
    s->imds_token_requests++;
    if (soup_message_headers_get_one (headers,
            "X-aws-ec2-metadata-token-ttl-seconds") == NULL)
      s->imds_token_ttl_missing++;
  } else if (g_str_has_prefix (path, "/latest/meta-data/")) {
    if (g_strcmp0 (token, IMDS_TOKEN) == 0)
      s->imds_requests++;
    else
      s->imds_token_missing++;
  }
  g_mutex_unlock (&s->lock);

  if (fail_status != 0) {
    answer_text (msg, fail_status, "failing on purpose");
  } else if (strcmp (path, "/ecs/credentials") == 0
      && strcmp (method, "GET") == 0) {
    answer_json (msg, "ASIACONTAINER", "container-secret", "container-token",
        expiration, FALSE);
  } else if (strcmp (path, "/latest/api/token") == 0) {
    if (strcmp (method, "PUT") != 0)
      answer_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "PUT only");
    else
      answer_text (msg, SOUP_STATUS_OK, IMDS_TOKEN);
  } else if (g_str_has_prefix (path, "/latest/meta-data/")
      && g_strcmp0 (token, IMDS_TOKEN) != 0) {
    answer_text (msg, SOUP_STATUS_UNAUTHORIZED, "IMDSv2 token required");
  } else if (strcmp (path, "/latest/meta-data/iam/security-credentials/")
      == 0) {
    answer_text (msg, SOUP_STATUS_OK, IMDS_ROLE "\n");
  } else if (strcmp (path, "/latest/meta-data/iam/security-credentials/"
          IMDS_ROLE) == 0) {
    answer_json (msg, "ASIAIMDS", "imds-secret", "imds-token", expiration,
        TRUE);
  } else {
    answer_text (msg, SOUP_STATUS_NOT_FOUND, "not found");
  }
}

static gpointer
server_thread (gpointer data)
{
  Fixture *f = data;

  g_main_context_push_thread_default (f->context);
  g_main_loop_run (f->loop);
  g_main_context_pop_thread_default (f->context);
  return NULL;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* The server thread starts once a case has set its environment: setenv()
 * is not safe while other threads run. */
static void
start_server (Fixture * f)
{
  if (f->thread == NULL)
    f->thread = g_thread_new ("metadata-server", server_thread, f);
}

static gboolean
get (Fixture * f, RcxCredentialsProvider * p, RcxCredentials * out,
    GCancellable * cancellable, GError ** error)
{
  start_server (f);
  return rcx_credentials_provider_get (p, out, cancellable, error);
}

static gchar *
iso8601_in (gint64 seconds)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) then = g_date_time_add_seconds (now, seconds);

  return g_date_time_format (then, "%Y-%m-%dT%H:%M:%SZ");
}

static void
set_expiration (Fixture * f, gint64 seconds_from_now)
{
  g_mutex_lock (&f->state.lock);
  g_free (f->state.expiration);
  f->state.expiration = iso8601_in (seconds_from_now);
  g_mutex_unlock (&f->state.lock);
}

static void
set_fail_status (Fixture * f, guint status)
{
  g_mutex_lock (&f->state.lock);
  f->state.fail_status = status;
  g_mutex_unlock (&f->state.lock);
}

static guint
read_counter (Fixture * f, guint * counter)
{
  guint value;

  g_mutex_lock (&f->state.lock);
  value = *counter;
  g_mutex_unlock (&f->state.lock);
  return value;
}

static void
clear_aws_environment (void)
{
  static const gchar *const vars[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_DISABLED", NULL
  };
  guint i;

  for (i = 0; vars[i] != NULL; i++)
    g_unsetenv (vars[i]);
}

static void
fixture_setup (Fixture * f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSList) uris = NULL;
  GUri *uri;

  g_mutex_init (&f->state.lock);
  f->state.expiration = iso8601_in (3600);

  f->context = g_main_context_new ();
  f->loop = g_main_loop_new (f->context, FALSE);
  g_main_context_push_thread_default (f->context);
  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, server_callback, &f->state, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_main_context_pop_thread_default (f->context);
  g_assert_no_error (error);

  uris = soup_server_get_uris (f->server);
  g_assert_nonnull (uris);
  uri = uris->data;
  f->base_uri = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uri));
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);

  f->tmpdir = g_dir_make_tmp ("rcx-credentials-XXXXXX", &error);
  g_assert_no_error (error);
  f->credentials_file = g_build_filename (f->tmpdir, "credentials", NULL);

  /* Nothing from the machine running the tests: no environment keys, no
   * ~/.aws/credentials, no real metadata service. */
  clear_aws_environment ();
  g_setenv ("AWS_SHARED_CREDENTIALS_FILE", f->credentials_file, TRUE);
  g_setenv ("AWS_EC2_METADATA_DISABLED", "true", TRUE);
}

static void
fixture_teardown (Fixture * f, gconstpointer data)
{
  clear_aws_environment ();
  g_unsetenv ("AWS_SHARED_CREDENTIALS_FILE");

  if (f->thread != NULL) {
    /* Quit from inside the loop, so a loop that has not started running
     * yet still ends. */
    g_main_context_invoke (f->context, quit_loop, f->loop);
    g_thread_join (f->thread);
  }
  soup_server_disconnect (f->server);
  g_object_unref (f->server);
  g_main_loop_unref (f->loop);
  g_main_context_unref (f->context);

  g_unlink (f->credentials_file);
  g_rmdir (f->tmpdir);
  g_free (f->credentials_file);
  g_free (f->tmpdir);
  g_free (f->base_uri);
  g_free (f->state.expiration);
  g_free (f->state.last_authorization);
  g_mutex_clear (&f->state.lock);
}

static void
write_credentials_file (Fixture * f)
{
  static const gchar contents[] =
      "# shared credentials\n"
      "[default]\n"
      "aws_access_key_id = AKIDEFAULT\n"
      "aws_secret_access_key = default-secret\n"
      "\n"
      "; another comment style\n"
      "[ match-day ]\n"
      "aws_access_key_id=AKIDMATCHDAY\n"
      "aws_secret_access_key=matchday-secret\n"
      "aws_session_token = matchday-token\n"
      "region = eu-central-2\n" "[incomplete]\n" "aws_access_key_id = AKIDX\n";
  g_autoptr (GError) error = NULL;

  g_file_set_contents (f->credentials_file, contents, -1, &error);
  g_assert_no_error (error);
}

static void
use_container (Fixture * f)
{
  g_autofree gchar *uri = g_strconcat (f->base_uri, "/ecs/credentials", NULL);

  g_setenv ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri, TRUE);
  g_setenv ("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_AUTH, TRUE);
}

static void
use_imds (Fixture * f)
{
  g_unsetenv ("AWS_EC2_METADATA_DISABLED");
  g_setenv ("AWS_EC2_METADATA_SERVICE_ENDPOINT", f->base_uri, TRUE);
}

static void
get_ok (Fixture * f, RcxCredentialsProvider * p, RcxCredentials * out)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (get (f, p, out, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (out->access_key);
  g_assert_nonnull (out->secret_key);
}

/* ---- cases ------------------------------------------------------------ */

static void
test_explicit_wins (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) p = NULL;
  g_auto (RcxCredentials) c = { 0, };

  g_setenv ("AWS_ACCESS_KEY_ID", "AKIDENV", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "env-secret", TRUE);
  write_credentials_file (f);
  use_container (f);

  p = rcx_credentials_provider_new ("AKIDEXPLICIT", "explicit-secret",
      "explicit-token", NULL);
  get_ok (f, p, &c);
  g_assert_cmpstr (c.source, ==, "properties");
  g_assert_cmpstr (c.access_key, ==, "AKIDEXPLICIT");
  g_assert_cmpstr (c.secret_key, ==, "explicit-secret");
  g_assert_cmpstr (c.session_token, ==, "explicit-token");
  g_assert_cmpint (c.expiration, ==, 0);
  g_assert_cmpuint (read_counter (f, &f->state.container_requests), ==, 0);
}

static void
test_half_explicit_ignored (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) p = NULL;
  g_auto (RcxCredentials) c = { 0, };

  g_setenv ("AWS_ACCESS_KEY_ID", "AKIDENV", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "env-secret", TRUE);
  g_atomic_int_set (&warnings_seen, 0);
  p = rcx_credentials_provider_new ("AKIDALONE", NULL, NULL, NULL);
  g_assert_cmpint (g_atomic_int_get (&warnings_seen), ==, 1);
  get_ok (f, p, &c);
  g_assert_cmpstr (c.source, ==, "environment");
  g_assert_cmpstr (c.access_key, ==, "AKIDENV");
}

static void
test_environment (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) p = NULL;
  g_auto (RcxCredentials) c = { 0, };

  g_setenv ("AWS_ACCESS_KEY_ID", "AKIDENV", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "env-secret", TRUE);
  g_setenv ("AWS_SESSION_TOKEN", "env-token", TRUE);
  write_credentials_file (f);
  use_container (f);

  p = rcx_credentials_provider_new (NULL, NULL, NULL, NULL);
  get_ok (f, p, &c);
  g_assert_cmpstr (c.source, ==, "environment");
  g_assert_cmpstr (c.access_key, ==, "AKIDENV");
  g_assert_cmpstr (c.secret_key, ==, "env-secret");
  g_assert_cmpstr (c.session_token, ==, "env-token");
  g_assert_cmpuint (read_counter (f, &f->state.container_requests), ==, 0);
}

static void
test_profile_default (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) p = NULL;
  g_auto (RcxCredentials) c = { 0, };

  /* A key id alone in the environment is not credentials. */
  g_setenv ("AWS_ACCESS_KEY_ID", "AKIDENV", TRUE);
  write_credentials_file (f);
  use_container (f);

  p = rcx_credentials_provider_new (NULL, NULL, NULL, NULL);
  get_ok (f, p, &c);
  g_assert_cmpstr (c.source, ==, "profile");
  g_assert_cmpstr (c.access_key, ==, "AKIDEFAULT");
  g_assert_cmpstr (c.secret_key, ==, "default-secret");
  g_assert_null (c.session_token);
  g_assert_cmpuint (read_counter (f, &f->state.container_requests), ==, 0);
}

static void
test_profile_selection (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) from_env = NULL;
  g_autoptr (RcxCredentialsProvider) explicit_profile = NULL;
  g_autoptr (RcxCredentialsProvider) incomplete = NULL;
  g_auto (RcxCredentials) c = { 0, };
  g_auto (RcxCredentials) d = { 0, };
  g_autoptr (GError) error = NULL;

  write_credentials_file (f);

  g_setenv ("AWS_PROFILE", "match-day", TRUE);
  from_env = rcx_credentials_provider_new (NULL, NULL, NULL, NULL);
  get_ok (f, from_env, &c);
  g_assert_cmpstr (c.source, ==, "profile");
  g_assert_cmpstr (c.access_key, ==, "AKIDMATCHDAY");
  g_assert_cmpstr (c.secret_key, ==, "matchday-secret");
  g_assert_cmpstr (c.session_token, ==, "matchday-token");

  /* The profile argument wins over AWS_PROFILE. */
  explicit_profile = rcx_credentials_provider_new (NULL, NULL, NULL, "default");
  get_ok (f, explicit_profile, &d);
  g_assert_cmpstr (d.access_key, ==, "AKIDEFAULT");

  /* A profile without a secret is skipped; nothing else configured. */
  incomplete = rcx_credentials_provider_new (NULL, NULL, NULL, "incomplete");
  rcx_credentials_clear (&c);
  g_assert_false (get (f, incomplete, &c, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_container (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) p = NULL;
  g_auto (RcxCredentials) c = { 0, };
  g_auto (RcxCredentials) d = { 0, };
  g_auto (RcxCredentials) e = { 0, };
  gint64 now = g_get_real_time ();

  use_container (f);
  use_imds (f);

  p = rcx_credentials_provider_new (NULL, NULL, NULL, NULL);
  get_ok (f, p, &c);
  g_assert_cmpstr (c.source, ==, "container");
  g_assert_cmpstr (c.access_key, ==, "ASIACONTAINER");
  g_assert_cmpstr (c.secret_key, ==, "container-secret");
  g_assert_cmpstr (c.session_token, ==, "container-token");
  /* An hour from now, to the second. */
  g_assert_cmpint (c.expiration, >, now + (gint64) 3590 * G_USEC_PER_SEC);
  g_assert_cmpint (c.expiration, <, now + (gint64) 3610 * G_USEC_PER_SEC);
  g_mutex_lock (&f->state.lock);
  g_assert_cmpstr (f->state.last_authorization, ==, CONTAINER_AUTH);
  g_mutex_unlock (&f->state.lock);
  g_assert_cmpuint (read_counter (f, &f->state.imds_token_requests), ==, 0);

  /* Cached while far from expiry. */
  get_ok (f, p, &d);
  g_assert_cmpstr (d.access_key, ==, "ASIACONTAINER");
  g_assert_cmpuint (read_counter (f, &f->state.container_requests), ==, 1);

  /* Invalidated after an ExpiredToken: fetched again. */
  rcx_credentials_provider_invalidate (p);
  get_ok (f, p, &e);
  g_assert_cmpstr (e.source, ==, "container");
  g_assert_cmpuint (read_counter (f, &f->state.container_requests), ==, 2);
}

static void
test_container_token_file (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) p = NULL;
  g_auto (RcxCredentials) c = { 0, };
  g_autofree gchar *token_file = g_build_filename (f->tmpdir, "token", NULL);
  g_autoptr (GError) error = NULL;

  use_container (f);
  g_file_set_contents (token_file, "token-from-file\n", -1, &error);
  g_assert_no_error (error);
  g_setenv ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file, TRUE);

  p = rcx_credentials_provider_new (NULL, NULL, NULL, NULL);
  get_ok (f, p, &c);
  g_assert_cmpstr (c.source, ==, "container");
  g_mutex_lock (&f->state.lock);
  g_assert_cmpstr (f->state.last_authorization, ==, "token-from-file");
  g_mutex_unlock (&f->state.lock);
  g_unlink (token_file);
}

static void
test_container_refresh (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) p = NULL;
  g_auto (RcxCredentials) c = { 0, };
  g_auto (RcxCredentials) d = { 0, };
  g_auto (RcxCredentials) e = { 0, };
  g_auto (RcxCredentials) g = { 0, };

  use_container (f);
  /* Inside the five-minute margin: every call fetches again. */
  set_expiration (f, 4 * 60);
  p = rcx_credentials_provider_new (NULL, NULL, NULL, NULL);
  get_ok (f, p, &c);
  g_assert_cmpuint (read_counter (f, &f->state.container_requests), ==, 1);
  get_ok (f, p, &d);
  g_assert_cmpuint (read_counter (f, &f->state.container_requests), ==, 2);

  /* The endpoint fails while the cached ones are still valid: they are
   * used, and the next call tries again. */
  set_fail_status (f, SOUP_STATUS_INTERNAL_SERVER_ERROR);
  get_ok (f, p, &e);
  g_assert_cmpstr (e.access_key, ==, "ASIACONTAINER");
  g_assert_cmpuint (read_counter (f, &f->state.container_requests), ==, 3);

  /* Back, with a long expiry: fetched once more, then cached. */
  set_fail_status (f, 0);
  set_expiration (f, 6 * 3600);
  get_ok (f, p, &g);
  g_assert_cmpuint (read_counter (f, &f->state.container_requests), ==, 4);
  rcx_credentials_clear (&g);
  get_ok (f, p, &g);
  g_assert_cmpuint (read_counter (f, &f->state.container_requests), ==, 4);
}

static void
test_container_errors (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) p = NULL;
  g_auto (RcxCredentials) c = { 0, };
  g_autoptr (GError) error = NULL;

  /* A configured endpoint that fails is an error of its own, not "no
   * credentials". */
  use_container (f);
  set_fail_status (f, SOUP_STATUS_INTERNAL_SERVER_ERROR);
  p = rcx_credentials_provider_new (NULL, NULL, NULL, NULL);
  g_assert_false (get (f, p, &c, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_null (c.access_key);
  g_clear_error (&error);

  /* Plain http to a host that is not local is refused before sending. */
  g_setenv ("AWS_CONTAINER_CREDENTIALS_FULL_URI",
      "http://credentials.example.com/creds", TRUE);
  g_assert_false (get (f, p, &c, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_imds (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) p = NULL;
  g_auto (RcxCredentials) c = { 0, };
  g_auto (RcxCredentials) d = { 0, };

  use_imds (f);
  p = rcx_credentials_provider_new (NULL, NULL, NULL, NULL);
  get_ok (f, p, &c);
  g_assert_cmpstr (c.source, ==, "imds");
  g_assert_cmpstr (c.access_key, ==, "ASIAIMDS");
  g_assert_cmpstr (c.secret_key, ==, "imds-secret");
  g_assert_cmpstr (c.session_token, ==, "imds-token");
  g_assert_cmpint (c.expiration, >, g_get_real_time ());

  /* IMDSv2: one token PUT with its TTL header, then two GETs carrying the
   * token. */
  g_assert_cmpuint (read_counter (f, &f->state.imds_token_requests), ==, 1);
  g_assert_cmpuint (read_counter (f, &f->state.imds_token_ttl_missing), ==, 0);
  g_assert_cmpuint (read_counter (f, &f->state.imds_requests), ==, 2);
  g_assert_cmpuint (read_counter (f, &f->state.imds_token_missing), ==, 0);
  g_assert_cmpuint (read_counter (f, &f->state.container_requests), ==, 0);

  /* Refreshed when close to the Expiration. */
  set_expiration (f, 60);
  rcx_credentials_provider_invalidate (p);
  get_ok (f, p, &d);
  rcx_credentials_clear (&d);
  get_ok (f, p, &d);
  g_assert_cmpuint (read_counter (f, &f->state.imds_token_requests), ==, 3);
  g_assert_cmpuint (read_counter (f, &f->state.imds_requests), ==, 6);
}

static void
test_not_found (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) p = NULL;
  g_auto (RcxCredentials) c = { 0, };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *nowhere = NULL;

  /* No environment, no file, no container, IMDS disabled. */
  p = rcx_credentials_provider_new (NULL, NULL, NULL, NULL);
  g_assert_false (get (f, p, &c, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (c.access_key);
  g_clear_error (&error);

  /* An instance metadata service without credentials. */
  use_imds (f);
  nowhere = g_strconcat (f->base_uri, "/no-imds-here", NULL);
  g_setenv ("AWS_EC2_METADATA_SERVICE_ENDPOINT", nowhere, TRUE);
  g_assert_false (get (f, p, &c, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Nothing listening. */
  g_setenv ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", TRUE);
  g_assert_false (get (f, p, &c, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_cancelled (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) p = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_auto (RcxCredentials) c = { 0, };
  g_autoptr (GError) error = NULL;

  use_imds (f);
  g_cancellable_cancel (cancellable);
  p = rcx_credentials_provider_new (NULL, NULL, NULL, NULL);
  g_assert_false (get (f, p, &c, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

#define N_THREADS 4
#define GETS_PER_THREAD 25

static gpointer
getter_thread (gpointer data)
{
  RcxCredentialsProvider *p = data;
  guint i;

  for (i = 0; i < GETS_PER_THREAD; i++) {
    g_auto (RcxCredentials) c = { 0, };

    if (!rcx_credentials_provider_get (p, &c, NULL, NULL)
        || g_strcmp0 (c.access_key, "ASIACONTAINER") != 0)
      return GUINT_TO_POINTER (FALSE);
  }
  return GUINT_TO_POINTER (TRUE);
}

static void
test_threads (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxCredentialsProvider) p = NULL;
  GThread *threads[N_THREADS];
  guint i;

  use_container (f);
  p = rcx_credentials_provider_new (NULL, NULL, NULL, NULL);
  start_server (f);
  for (i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("getter", getter_thread,
        rcx_credentials_provider_ref (p));
  for (i = 0; i < N_THREADS; i++) {
    g_assert_true (GPOINTER_TO_UINT (g_thread_join (threads[i])));
    rcx_credentials_provider_unref (p);
  }
  /* One fetch shared by every caller. */
  g_assert_cmpuint (read_counter (f, &f->state.container_requests), ==, 1);
}

/* With structured logging g_test_expect_message() sees nothing: the
 * library's warnings are counted here (and are not fatal), everything else
 * goes to the default writer. */
static GLogWriterOutput
log_writer (GLogLevelFlags log_level, const GLogField * fields,
    gsize n_fields, gpointer user_data)
{
  const gchar *domain = NULL;
  const gchar *message = NULL;
  gsize i;

  for (i = 0; i < n_fields; i++) {
    if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
    else if (strcmp (fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
  }
  if (g_strcmp0 (domain, "rcx-credentials") == 0) {
    g_mutex_lock (&log_lock);
    g_string_append_printf (log_text, "%s\n", message ? message : "");
    g_mutex_unlock (&log_lock);
    if (log_level & G_LOG_LEVEL_WARNING) {
      g_atomic_int_inc (&warnings_seen);
      return G_LOG_WRITER_HANDLED;
    }
  }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

/* Each source is used and fails once; the log names the sources and holds
 * none of the secrets. */
static void
test_no_secrets_logged (Fixture * f, gconstpointer data)
{
  static const gchar *const secrets[] = {
    "env-secret", "env-token", "default-secret", "container-secret",
    "container-token", CONTAINER_AUTH, "imds-secret", "imds-token",
    IMDS_TOKEN, NULL
  };
  g_autoptr (RcxCredentialsProvider) p = NULL;
  g_autofree gchar *logged = NULL;
  guint i, j;

  g_mutex_lock (&log_lock);
  g_string_truncate (log_text, 0);
  g_mutex_unlock (&log_lock);

  g_setenv ("AWS_ACCESS_KEY_ID", "AKIDENV", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "env-secret", TRUE);
  g_setenv ("AWS_SESSION_TOKEN", "env-token", TRUE);
  write_credentials_file (f);
  use_container (f);
  use_imds (f);
  set_expiration (f, 60);

  for (i = 0; i < 5; i++) {
    g_auto (RcxCredentials) c = { 0, };
    g_autoptr (GError) error = NULL;
    gboolean ok;

    p = rcx_credentials_provider_new (NULL, NULL, NULL, NULL);
    ok = get (f, p, &c, NULL, &error);
    /* Peel the chain one source at a time. */
    switch (i) {
      case 0:
        g_assert_true (ok);
        g_assert_cmpstr (c.source, ==, "environment");
        g_unsetenv ("AWS_ACCESS_KEY_ID");
        break;
      case 1:
        g_assert_true (ok);
        g_assert_cmpstr (c.source, ==, "profile");
        g_unlink (f->credentials_file);
        break;
      case 2:
        g_assert_true (ok);
        g_assert_cmpstr (c.source, ==, "container");
        g_unsetenv ("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        break;
      case 3:
        g_assert_true (ok);
        g_assert_cmpstr (c.source, ==, "imds");
        set_fail_status (f, SOUP_STATUS_FORBIDDEN);
        break;
      default:
        g_assert_false (ok);
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
        for (j = 0; secrets[j] != NULL; j++)
          g_assert_null (strstr (error->message, secrets[j]));
        break;
    }
    g_clear_pointer (&p, rcx_credentials_provider_unref);
  }

  g_mutex_lock (&log_lock);
  logged = g_strdup (log_text->str);
  g_mutex_unlock (&log_lock);
  g_test_message ("logged:\n%s", logged);
  g_assert_nonnull (strstr (logged, "environment"));
  g_assert_nonnull (strstr (logged, "container"));
  g_assert_nonnull (strstr (logged, "imds"));
  for (i = 0; secrets[i] != NULL; i++)
    g_assert_null (strstr (logged, secrets[i]));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  log_text = g_string_new (NULL);
  g_log_set_writer_func (log_writer, NULL, NULL);

#define ADD(name, func) \
  g_test_add ("/credentials/" name, Fixture, NULL, fixture_setup, func, \
      fixture_teardown)
  ADD ("explicit-wins", test_explicit_wins);
  ADD ("half-explicit-ignored", test_half_explicit_ignored);
  ADD ("environment", test_environment);
  ADD ("profile-default", test_profile_default);
  ADD ("profile-selection", test_profile_selection);
  ADD ("container", test_container);
  ADD ("container-token-file", test_container_token_file);
  ADD ("container-refresh", test_container_refresh);
  ADD ("container-errors", test_container_errors);
  ADD ("imds", test_imds);
  ADD ("not-found", test_not_found);
  ADD ("cancelled", test_cancelled);
  ADD ("threads", test_threads);
  ADD ("no-secrets-logged", test_no_secrets_logged);
#undef ADD

  return g_test_run ();
}
