/* test-probe.c: the probe (runner/rcx-probe.c) as a GTask: what it reads
 * from a clip, through wasabisrc from an in-process S3 (its endpoint-uri
 * set in source-setup), its own timeout on a stalled source, and a cancel
 * from the caller's main context.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include "rcx-probe.h"
#include "wasabi-stub-server.h"

/* generous: the machine is shared; the probe timeout is 1 s, the cancel
 * comes after 0.2 s while the probe would wait 60 s */
#define QUICK_US (20 * G_USEC_PER_SEC)

static gchar *clip_dir;
static gchar *clip_path;

/* One second of 320x240 30 fps H.264 in MP4, made once. */
static GBytes *
clip_bytes (void)
{
  gchar *contents;
  gsize length;

  if (clip_path == NULL) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GstElement) pipeline = NULL;
    g_autoptr (GstBus) bus = NULL;
    g_autoptr (GstMessage) msg = NULL;
    g_autofree gchar *line = NULL;

    clip_dir = g_dir_make_tmp ("rcx-probe-XXXXXX", &error);
    g_assert_no_error (error);
    clip_path = g_build_filename (clip_dir, "clip.mp4", NULL);
    line = g_strdup_printf ("videotestsrc num-buffers=30 ! "
        "video/x-raw,width=320,height=240,framerate=30/1 ! "
        "x264enc speed-preset=ultrafast ! mp4mux ! filesink location=\"%s\"",
        clip_path);
    pipeline = gst_parse_launch (line, &error);
    g_assert_no_error (error);
    bus = gst_element_get_bus (pipeline);
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
    gst_element_set_state (pipeline, GST_STATE_NULL);
  }
  g_assert_true (g_file_get_contents (clip_path, &contents, &length, NULL));
  return g_bytes_new_take (contents, length);
}

static void
assert_clip (const RcxSourceInfo * info)
{
  g_assert_true (info->has_video);
  g_assert_cmpuint (info->width, ==, 320);
  g_assert_cmpuint (info->height, ==, 240);
  g_assert_cmpint (info->fps_n, ==, 30);
  g_assert_cmpint (info->fps_d, ==, 1);
  g_assert_cmpstr (info->video_caps, ==, "video/x-h264");
  g_assert_false (info->has_audio);
  g_assert_cmpuint (info->duration, >, 900 * GST_MSECOND);
  g_assert_cmpuint (info->duration, <, 1100 * GST_MSECOND);
}

static void
test_file (void)
{
  g_autoptr (GBytes) bytes = clip_bytes ();
  g_autofree gchar *uri = gst_filename_to_uri (clip_path, NULL);
  g_auto (RcxSourceInfo) info = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (rcx_probe_source (uri, NULL, 10, NULL, &info, &error));
  g_assert_no_error (error);
  assert_clip (&info);
}

static void
on_probed (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* The async form, from S3: endpoint-uri reaches wasabisrc before its
 * first request. The default endpoint (what wasabisrc uses without
 * endpoint-uri) is a second stub holding the same object: it must see
 * nothing (uridecodebin's scheduling query used to start wasabisrc before
 * source-setup, and that start sent a HEAD there). */
static void
test_s3_async (void)
{
  StubServer *server = stub_server_new ();
  StubServer *fallback = stub_server_new ();
  g_autoptr (GBytes) bytes = clip_bytes ();
  g_autoptr (GAsyncResult) result = NULL;
  g_auto (RcxSourceInfo) info = { 0 };
  g_autoptr (GError) error = NULL;

  stub_server_put (server, "/bucket/clip.mp4", bytes);
  stub_server_put (fallback, "/bucket/clip.mp4", bytes);
  g_setenv ("AWS_ENDPOINT_URL_S3", stub_server_get_endpoint (fallback), TRUE);
  rcx_probe_source_async ("s3://bucket/clip.mp4",
      stub_server_get_endpoint (server), 10, NULL, on_probed, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_unsetenv ("AWS_ENDPOINT_URL_S3");
  g_assert_true (rcx_probe_source_finish (result, &info, &error));
  g_assert_no_error (error);
  assert_clip (&info);
  g_assert_cmpuint (stub_server_count (server, "GET", "/bucket/clip.mp4",
          NULL), >, 0);
  g_assert_cmpuint (stub_server_count (fallback, "HEAD", "/bucket/clip.mp4",
          NULL), ==, 0);
  g_assert_cmpuint (stub_server_count (fallback, "GET", "/bucket/clip.mp4",
          NULL), ==, 0);
  stub_server_free (fallback);
  stub_server_free (server);
}

/* Probes the clip from a stub that answers HEAD and never a GET, waiting
 * at most @timeout_s; the probe must fail with @code within @min_us ..
 * QUICK_US. */
static void
probe_stalled (guint timeout_s, GCancellable * cancellable, gint code,
    gint64 min_us)
{
  StubServer *server = stub_server_new ();
  g_autoptr (GBytes) bytes = clip_bytes ();
  g_auto (RcxSourceInfo) info = { 0 };
  g_autoptr (GError) error = NULL;
  gint64 start, took;

  stub_server_put (server, "/bucket/clip.mp4", bytes);
  stub_server_stall (server, "/bucket/clip.mp4");
  start = g_get_monotonic_time ();
  g_assert_false (rcx_probe_source ("s3://bucket/clip.mp4",
          stub_server_get_endpoint (server), timeout_s, cancellable, &info,
          &error));
  took = g_get_monotonic_time () - start;
  g_assert_error (error, G_IO_ERROR, code);
  g_assert_cmpint (took, >=, min_us);
  g_assert_cmpint (took, <, QUICK_US);
  g_assert_false (info.has_video);
  /* an abandoned (cancelled) probe gets its answer, a closed connection,
   * and ends */
  stub_server_free (server);
}

/* The discoverer's own timeout. */
static void
test_timeout (void)
{
  probe_stalled (1, NULL, G_IO_ERROR_TIMED_OUT, G_USEC_PER_SEC);
}

static gboolean
cancel_now (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* A cancel from a source of the caller's main context (as the runner's
 * SIGINT handler is) ends the blocking form long before its 60 s. */
static void
test_cancel (void)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  g_timeout_add (200, cancel_now, cancellable);
  probe_stalled (60, cancellable, G_IO_ERROR_CANCELLED, 0);
}

int
main (int argc, char **argv)
{
  int ret;

  /* wasabisrc's credentials chain: the environment, nothing remote */
  g_setenv ("AWS_ACCESS_KEY_ID", "AKIDSTUB", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "stubsecret", TRUE);
  g_setenv ("AWS_REGION", "us-east-1", TRUE);
  g_setenv ("AWS_EC2_METADATA_DISABLED", "true", TRUE);
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/probe/file", test_file);
  g_test_add_func ("/probe/s3-async", test_s3_async);
  g_test_add_func ("/probe/timeout", test_timeout);
  g_test_add_func ("/probe/cancel", test_cancel);

  ret = g_test_run ();
  if (clip_path) {
    g_unlink (clip_path);
    g_rmdir (clip_dir);
  }
  g_free (clip_path);
  g_free (clip_dir);
  return ret;
}
