/* Tests of RcxStore on local folders and on s3rver (started here on
 * 127.0.0.1 with a free port, in a throwaway folder).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "rcx-store.h"
#include "test-util.h"

typedef struct
{
  gchar *dir;
} Fixture;

static void
fixture_setup (Fixture * f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("rcx-test-store-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture * f, gconstpointer data)
{
  test_remove_tree (f->dir);
  g_free (f->dir);
}

static gchar *
read_file (const gchar * path)
{
  gchar *contents = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  return contents;
}

static void
test_put_local (Fixture * f, gconstpointer data)
{
  g_autofree gchar *out = g_build_filename (f->dir, "out", "720p", NULL);
  g_autoptr (RcxStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) one = g_bytes_new_static ("first", 5);
  g_autoptr (GBytes) two = g_bytes_new_static ("second", 6);
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  g_autofree gchar *uri = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *nested = NULL;
  g_autoptr (GDir) dir = NULL;
  const gchar *name;
  guint n = 0;

  store = rcx_store_new (out, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (rcx_store_is_s3 (store));
  g_assert_null (rcx_store_get_s3_client (store));
  g_assert_cmpstr (rcx_store_get_location (store), ==, out);
  /* created on open */
  g_assert_true (g_file_test (out, G_FILE_TEST_IS_DIR));

  g_assert_false (rcx_store_exists (store, "index.m3u8", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (rcx_store_put (store, "index.m3u8", one,
          "application/vnd.apple.mpegurl", "max-age=1", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (rcx_store_exists (store, "index.m3u8", NULL, &error));
  uri = rcx_store_get_uri (store, "index.m3u8");
  text = read_file (uri);
  g_assert_cmpstr (text, ==, "first");
  g_clear_pointer (&text, g_free);

  /* replaced atomically, no temporary left behind */
  g_assert_true (rcx_store_put (store, "index.m3u8", two, NULL, NULL, NULL,
          &error));
  text = read_file (uri);
  g_assert_cmpstr (text, ==, "second");
  dir = g_dir_open (out, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL) {
    g_assert_cmpstr (name, ==, "index.m3u8");
    n++;
  }
  g_assert_cmpuint (n, ==, 1);

  /* sub folders are made; empty objects are fine */
  g_assert_true (rcx_store_put (store, "sub/dir/empty.ts", empty, NULL, NULL,
          NULL, &error));
  g_assert_no_error (error);
  nested = g_build_filename (out, "sub", "dir", "empty.ts", NULL);
  g_assert_true (g_file_test (nested, G_FILE_TEST_IS_REGULAR));

  g_assert_true (rcx_store_delete (store, "index.m3u8", NULL, &error));
  g_assert_false (rcx_store_exists (store, "index.m3u8", NULL, NULL));
  /* deleting what is not there is fine */
  g_assert_true (rcx_store_delete (store, "index.m3u8", NULL, &error));
  g_assert_no_error (error);
}

static void
test_file_uri (Fixture * f, gconstpointer data)
{
  g_autofree gchar *uri = g_filename_to_uri (f->dir, NULL, NULL);
  g_autoptr (RcxStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;

  store = rcx_store_new (uri, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rcx_store_get_location (store), ==, f->dir);
  path = rcx_store_get_uri (store, "a.ts");
  g_assert_true (g_str_has_prefix (path, f->dir));
  g_assert_true (g_str_has_suffix (path, "/a.ts"));
}

static void
test_unsafe_names (Fixture * f, gconstpointer data)
{
  const gchar *bad[] = { "", "/etc/passwd", "../x", "a/../../x", "a/./b",
    "a//b", "a/", "..", ".", "a\\b", "a\nb", "\xff\xfe"
  };
  g_autoptr (RcxStore) store = rcx_store_new (f->dir, NULL, NULL);
  g_autoptr (GBytes) data_bytes = g_bytes_new_static ("x", 1);
  guint i;

  g_assert_nonnull (store);
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_false (rcx_store_name_is_safe (bad[i]));
    g_assert_false (rcx_store_put (store, bad[i], data_bytes, NULL, NULL,
            NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME);
    g_assert_null (rcx_store_get_uri (store, bad[i]));
  }
  g_assert_false (rcx_store_name_is_safe (NULL));
  g_assert_true (rcx_store_name_is_safe ("segment00001.ts"));
  g_assert_true (rcx_store_name_is_safe ("720p/index.m3u8"));
  g_assert_true (rcx_store_name_is_safe ("a..b/c.d"));
}

static void
test_bad_locations (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (rcx_store_new ("", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (rcx_store_new ("http://example.com/x/", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_null (rcx_store_new ("/proc/rcx-cannot-exist/x", NULL, &error));
  g_assert_nonnull (error);
}

static void
test_cancelled (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxStore) store = rcx_store_new (f->dir, NULL, NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GBytes) data_bytes = g_bytes_new_static ("x", 1);
  g_autoptr (GError) error = NULL;

  g_cancellable_cancel (cancellable);
  g_assert_false (rcx_store_put (store, "a.ts", data_bytes, NULL, NULL,
          cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (rcx_store_exists (store, "a.ts", NULL, NULL));
}

#define N_THREADS 4
#define N_PUTS 50

static gpointer
put_many (gpointer data)
{
  RcxStore *store = data;
  guint i;

  for (i = 0; i < N_PUTS; i++) {
    g_autofree gchar *name = g_strdup_printf ("t%p/%u.ts", g_thread_self (),
        i % 5);
    g_autofree gchar *shared_text = g_strdup_printf ("%p %u",
        g_thread_self (), i);
    g_autoptr (GBytes) own = g_bytes_new (name, strlen (name));
    g_autoptr (GBytes) shared = g_bytes_new (shared_text, strlen (shared_text));
    g_autoptr (GError) error = NULL;

    if (!rcx_store_put (store, name, own, NULL, NULL, NULL, &error) ||
        !rcx_store_put (store, "shared.m3u8", shared, NULL, NULL, NULL, &error))
      return g_strdup (error->message);
  }
  return NULL;
}

static void
test_threads (Fixture * f, gconstpointer data)
{
  g_autoptr (RcxStore) store = rcx_store_new (f->dir, NULL, NULL);
  GThread *threads[N_THREADS];
  g_autofree gchar *path = NULL;
  g_autofree gchar *text = NULL;
  guint i;

  for (i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("put", put_many, store);
  for (i = 0; i < N_THREADS; i++) {
    g_autofree gchar *failure = g_thread_join (threads[i]);
    g_assert_null (failure);
  }
  /* the file that every thread replaced holds one whole write */
  path = rcx_store_get_uri (store, "shared.m3u8");
  text = read_file (path);
  g_assert_true (g_regex_match_simple ("^0x[0-9a-f]+ [0-9]+$", text, 0, 0));
}

/* ---- S3 (s3rver) --------------------------------------------------------- */

typedef struct
{
  gchar *dir;
  GSubprocess *proc;
  guint port;
  gchar *endpoint;
} S3rver;

static guint
free_port (void)
{
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_socket_bind (sock, any, FALSE, &error));
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
port_open (guint port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;

  g_socket_client_set_timeout (client, 1);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL,
      NULL);
  return conn != NULL;
}

/* A fixture that cannot start fails the test. */
static void
s3rver_start (S3rver * s)
{
  const gchar *source = g_getenv ("RCX_SOURCE_DIR");
  g_autofree gchar *script = NULL;
  g_autofree gchar *port = NULL;
  g_autoptr (GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;

  g_assert_nonnull (source);
  script = g_build_filename (source, "tests", "node", "node_modules", "s3rver",
      "bin", "s3rver.js", NULL);
  g_assert_true (g_file_test (script, G_FILE_TEST_IS_REGULAR));
  s->dir = g_dir_make_tmp ("rcx-store-s3rver-XXXXXX", &error);
  g_assert_no_error (error);
  s->port = free_port ();
  port = g_strdup_printf ("%u", s->port);
  s->proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
      G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, "node", script, "-d", s->dir,
      "-a", "127.0.0.1", "-p", port, "--silent", "--configure-bucket", "test",
      NULL);
  g_assert_no_error (error);
  /* polled with a deadline, as rcxtest.wait_for_port() does */
  while (!port_open (s->port)) {
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    g_usleep (50 * 1000);
  }
  s->endpoint = g_strdup_printf ("http://127.0.0.1:%u", s->port);
}

static void
s3rver_stop (S3rver * s)
{
  g_subprocess_send_signal (s->proc, SIGTERM);
  g_subprocess_wait (s->proc, NULL, NULL);
  g_object_unref (s->proc);
  test_remove_tree (s->dir);
  g_free (s->dir);
  g_free (s->endpoint);
}

static void
s3_config (RcxS3Config * config, const gchar * endpoint)
{
  rcx_s3_config_init (config);
  config->endpoint_uri = g_strdup (endpoint);
  config->region = g_strdup ("us-east-1");
  config->access_key = g_strdup ("S3RVER");
  config->secret_access_key = g_strdup ("S3RVER");
}

static void
test_s3 (void)
{
  S3rver server = { 0, };
  g_auto (RcxS3Config) config = { 0, };
  g_autoptr (RcxStore) store = NULL;
  g_autoptr (RcxStore) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = g_bytes_new_static ("#EXTM3U\n", 8);
  g_auto (RcxS3ObjectInfo) info = { 0, };
  g_autofree gchar *uri = NULL;
  guint64 before;

  s3rver_start (&server);
  s3_config (&config, server.endpoint);

  /* a prefix without its trailing '/' is a folder all the same */
  store = rcx_store_new ("s3://test/media/720p", &config, &error);
  g_assert_no_error (error);
  g_assert_true (rcx_store_is_s3 (store));
  g_assert_cmpstr (rcx_store_get_location (store), ==, "s3://test/media/720p/");
  uri = rcx_store_get_uri (store, "index.m3u8");
  g_assert_cmpstr (uri, ==, "s3://test/media/720p/index.m3u8");

  g_assert_false (rcx_store_exists (store, "index.m3u8", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (rcx_store_put (store, "index.m3u8", data,
          "application/vnd.apple.mpegurl", "max-age=1", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (rcx_store_exists (store, "index.m3u8", NULL, &error));
  g_assert_true (rcx_s3_head_object (rcx_store_get_s3_client (store), "test",
          "media/720p/index.m3u8", &info, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.size, ==, 8);
  g_assert_cmpstr (info.content_type, ==, "application/vnd.apple.mpegurl");

  /* unsafe names are refused before any request */
  before = rcx_s3_client_get_request_count (rcx_store_get_s3_client (store));
  g_assert_false (rcx_store_put (store, "../../escape", data, NULL, NULL,
          NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME);
  g_clear_error (&error);
  g_assert_cmpuint (rcx_s3_client_get_request_count (rcx_store_get_s3_client
          (store)), ==, before);

  g_assert_true (rcx_store_delete (store, "index.m3u8", NULL, &error));
  g_assert_no_error (error);
  g_assert_false (rcx_store_exists (store, "index.m3u8", NULL, &error));
  g_assert_no_error (error);

  /* the bucket root */
  root = rcx_store_new ("s3://test/", &config, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rcx_store_get_location (root), ==, "s3://test/");
  g_assert_true (rcx_store_put (root, "a/b.ts", data, "video/mp2t", NULL,
          NULL, &error));
  g_assert_no_error (error);
  g_assert_true (rcx_store_exists (root, "a/b.ts", NULL, &error));

  /* a missing bucket is an error, not "absent" */
  g_clear_pointer (&root, rcx_store_unref);
  root = rcx_store_new ("s3://nosuchbucket/x/", &config, &error);
  g_assert_no_error (error);
  g_assert_false (rcx_store_put (root, "a.ts", data, NULL, NULL, NULL, &error));
  g_assert_error (error, RCX_S3_ERROR, RCX_S3_ERROR_NOT_FOUND);
  g_assert_cmpuint (rcx_s3_error_get_http_status (error), ==, 404);

  s3rver_stop (&server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/store/put-local", Fixture, NULL, fixture_setup,
      test_put_local, fixture_teardown);
  g_test_add ("/store/file-uri", Fixture, NULL, fixture_setup,
      test_file_uri, fixture_teardown);
  g_test_add ("/store/unsafe-names", Fixture, NULL, fixture_setup,
      test_unsafe_names, fixture_teardown);
  g_test_add_func ("/store/bad-locations", test_bad_locations);
  g_test_add ("/store/cancelled", Fixture, NULL, fixture_setup,
      test_cancelled, fixture_teardown);
  g_test_add ("/store/threads", Fixture, NULL, fixture_setup,
      test_threads, fixture_teardown);
  g_test_add_func ("/store/s3", test_s3);
  return g_test_run ();
}
