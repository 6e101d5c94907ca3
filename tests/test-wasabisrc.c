/* test-wasabisrc.c: GstCheck tests of wasabisrc against an in-process S3
 * stub (wasabi-stub-server.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "wasabi-stub-server.h"

static StubServer *server;

static void
setup (void)
{
  server = stub_server_new ();
}

static void
teardown (void)
{
  g_clear_pointer (&server, stub_server_free);
}

static GBytes *
pattern_bytes (gsize size)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) ((i * 31) ^ (i >> 11));
  return g_bytes_new_take (data, size);
}

static GstElement *
make_pipeline (const gchar * uri, const gchar * tail, GstElement ** src_out)
{
  g_autofree gchar *desc = g_strdup_printf ("wasabisrc name=src uri=%s "
      "endpoint-uri=%s access-key=AKIDSTUB secret-access-key=stubsecret "
      "region=us-east-1 request-timeout=5 %s", uri,
      stub_server_get_endpoint (server), tail);
  g_autoptr (GError) error = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &error);

  fail_unless (pipeline != NULL, "%s", error ? error->message : "?");
  if (src_out)
    *src_out = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  return pipeline;
}

/* Runs to ERROR or EOS (10 s deadline) and returns that message. */
static GstMessage *
run_until_done (GstElement * pipeline)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (msg != NULL, "no EOS or ERROR within 10 s");
  return msg;
}

static void
assert_error (GstMessage * msg, gint code, guint status, const gchar * s3_code,
    const gchar * request_id)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *debug = NULL;
  const GstStructure *details = NULL;
  guint got_status = 0;

  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &error, &debug);
  GST_INFO ("error: %s (%s)", error->message, debug);
  fail_unless (error->domain == GST_RESOURCE_ERROR, "domain %s",
      g_quark_to_string (error->domain));
  fail_unless_equals_int (error->code, code);
  gst_message_parse_error_details (msg, &details);
  fail_unless (details != NULL, "no details");
  fail_unless (gst_structure_get_uint (details, "http-status-code",
          &got_status));
  fail_unless_equals_int (got_status, status);
  if (s3_code)
    fail_unless_equals_string (gst_structure_get_string (details,
            "s3-error-code"), s3_code);
  if (request_id)
    fail_unless_equals_string (gst_structure_get_string (details,
            "request-id"), request_id);
}

GST_START_TEST (test_uri_handler)
{
  g_autoptr (GError) error = NULL;
  GstElement *src = gst_element_make_from_uri (GST_URI_SRC,
      "s3://matches/2024/final.mp4", NULL, &error);
  g_autofree gchar *bucket = NULL, *key = NULL, *uri = NULL;
  g_autofree gchar *factory = NULL;

  fail_unless (src != NULL, "%s", error ? error->message : "?");
  factory = gst_object_get_name (GST_OBJECT (gst_element_get_factory (src)));
  fail_unless_equals_string (factory, "wasabisrc");
  g_object_get (src, "bucket", &bucket, "key", &key, NULL);
  fail_unless_equals_string (bucket, "matches");
  fail_unless_equals_string (key, "2024/final.mp4");

  g_object_set (src, "bucket", "other", "key", "x/y.bin", NULL);
  g_object_get (src, "uri", &uri, NULL);
  fail_unless_equals_string (uri, "s3://other/x/y.bin");

  /* not an s3 URI: refused, the old one stays */
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (src), "http://x/y", NULL));
  g_clear_pointer (&uri, g_free);
  uri = gst_uri_handler_get_uri (GST_URI_HANDLER (src));
  fail_unless_equals_string (uri, "s3://other/x/y.bin");
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_properties)
{
  GstElement *src = gst_element_factory_make ("wasabisrc", NULL);
  g_autofree gchar *access = NULL;
  guint attempts, timeout;
  gint style;

  fail_unless (src != NULL);
  g_object_set (src, "access-key", "AKID", "secret-access-key", "s3cr3t",
      "session-token", "tok", "retry-attempts", 5, "request-timeout", 7, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "force-path-style", "off");
  g_object_get (src, "access-key", &access, "retry-attempts", &attempts,
      "request-timeout", &timeout, "force-path-style", &style, NULL);
  fail_unless_equals_string (access, "AKID");
  /* secrets are write-only */
  fail_if (g_object_class_find_property (G_OBJECT_GET_CLASS (src),
          "secret-access-key")->flags & G_PARAM_READABLE);
  fail_if (g_object_class_find_property (G_OBJECT_GET_CLASS (src),
          "session-token")->flags & G_PARAM_READABLE);
  fail_unless_equals_int (attempts, 5);
  fail_unless_equals_int (timeout, 7);
  fail_unless_equals_int (style, 2);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_read_and_refuse_changes_when_running)
{
  g_autoptr (GBytes) data = pattern_bytes (700 * 1024 + 13);
  GstElement *src = NULL;
  GstElement *pipeline;
  GstMessage *msg;
  g_autofree gchar *key = NULL;

  stub_server_put (server, "/bkt/obj.bin", data);
  pipeline = make_pipeline ("s3://bkt/obj.bin", "! fakesink", &src);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_ASYNC);
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          10 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  /* connection settings are frozen after READY */
  g_object_set (src, "key", "changed.bin", "uri", "s3://c/d", NULL);
  g_object_get (src, "key", &key, NULL);
  fail_unless_equals_string (key, "obj.bin");

  msg = run_until_done (pipeline);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  /* one HEAD and one GET for a sequential read */
  fail_unless_equals_int (stub_server_count (server, "GET", "/bkt/obj.bin",
          NULL), 1);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_access_denied_on_get)
{
  g_autoptr (GBytes) data = pattern_bytes (1000);
  GstElement *pipeline;
  GstMessage *msg;

  stub_server_put (server, "/bkt/denied.bin", data);
  stub_server_fail (server, "GET", "/bkt/denied.bin", 403, "AccessDenied",
      "REQ-DENIED-1");
  pipeline = make_pipeline ("s3://bkt/denied.bin", "! fakesink", NULL);
  msg = run_until_done (pipeline);
  assert_error (msg, GST_RESOURCE_ERROR_NOT_AUTHORIZED, 403, "AccessDenied",
      "REQ-DENIED-1");
  gst_message_unref (msg);
  /* never retried: Wasabi locks accounts after repeated auth failures */
  fail_unless_equals_int (stub_server_count (server, "GET", "/bkt/denied.bin",
          NULL), 1);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_access_denied_on_head)
{
  GstElement *pipeline;
  GstMessage *msg;

  stub_server_fail (server, NULL, "/bkt/secret.bin", 403, "AccessDenied",
      "REQ-DENIED-2");
  pipeline = make_pipeline ("s3://bkt/secret.bin", "! fakesink", NULL);
  msg = run_until_done (pipeline);
  assert_error (msg, GST_RESOURCE_ERROR_NOT_AUTHORIZED, 403, NULL,
      "REQ-DENIED-2");
  gst_message_unref (msg);
  fail_unless_equals_int (stub_server_count (server, "HEAD", "/bkt/secret.bin",
          NULL), 1);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_not_found)
{
  GstElement *pipeline = make_pipeline ("s3://bkt/missing.bin", "! fakesink",
      NULL);
  GstMessage *msg = run_until_done (pipeline);

  assert_error (msg, GST_RESOURCE_ERROR_NOT_FOUND, 404, NULL, NULL);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_missing_uri_is_settings_error)
{
  GstElement *pipeline = gst_parse_launch ("wasabisrc ! fakesink", NULL);
  GstMessage *msg = run_until_done (pipeline);

  assert_error (msg, GST_RESOURCE_ERROR_SETTINGS, 0, NULL, NULL);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* A GET that never answers: stopping the pipeline cancels it at once
 * (unlock), without an error message. */
GST_START_TEST (test_unlock_cancels_stalled_read)
{
  g_autoptr (GBytes) data = pattern_bytes (4096);
  g_autoptr (GstBus) bus = NULL;
  GstElement *pipeline;
  GstMessage *msg;
  gint64 start, deadline;

  stub_server_put (server, "/bkt/stall.bin", data);
  stub_server_stall (server, "/bkt/stall.bin");
  pipeline = make_pipeline ("s3://bkt/stall.bin", "! fakesink", NULL);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  /* wait (polling, with a deadline) until the GET reached the server */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (stub_server_count (server, "GET", "/bkt/stall.bin", NULL) == 0) {
    fail_unless (g_get_monotonic_time () < deadline, "no GET arrived");
    msg = gst_bus_timed_pop_filtered (bus, 10 * GST_MSECOND, GST_MESSAGE_ERROR);
    fail_unless (msg == NULL, "unexpected error");
  }

  start = g_get_monotonic_time ();
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  /* well below request-timeout (5 s): the read was cancelled */
  fail_unless (g_get_monotonic_time () - start < 3 * G_USEC_PER_SEC);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "flushing must not post an error");
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Pull mode: a downstream that reads at random offsets gets the right
 * bytes. */
GST_START_TEST (test_pull_mode_ranges)
{
  g_autoptr (GBytes) data = pattern_bytes (3 * 1024 * 1024);
  GstElement *src;
  GstPad *srcpad;
  GstBuffer *buf = NULL;
  const guint64 offsets[] = { 2 * 1024 * 1024, 10, 2 * 1024 * 1024 + 4096,
    3 * 1024 * 1024 - 100
  };
  GstPad *sinkpad;

  stub_server_put (server, "/bkt/pull.bin", data);
  src = gst_element_factory_make ("wasabisrc", NULL);
  g_object_set (src, "uri", "s3://bkt/pull.bin", "endpoint-uri",
      stub_server_get_endpoint (server), "access-key", "AKIDSTUB",
      "secret-access-key", "stubsecret", NULL);
  srcpad = gst_element_get_static_pad (src, "src");
  sinkpad = gst_pad_new ("sink", GST_PAD_SINK);
  fail_unless_equals_int (gst_pad_link (srcpad, sinkpad), GST_PAD_LINK_OK);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  /* activates wasabisrc in pull mode (and starts it: HEAD) */
  fail_unless (gst_pad_activate_mode (sinkpad, GST_PAD_MODE_PULL, TRUE));
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);

  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++) {
    GstMapInfo map;
    gsize want = 1000;

    fail_unless_equals_int (gst_pad_pull_range (sinkpad, offsets[i], 1000,
            &buf), GST_FLOW_OK);
    gst_buffer_map (buf, &map, GST_MAP_READ);
    want = MIN (want, g_bytes_get_size (data) - offsets[i]);
    fail_unless_equals_int (map.size, want);
    fail_unless (memcmp (map.data, (const guint8 *) g_bytes_get_data (data,
                NULL) + offsets[i], want) == 0, "wrong bytes at %"
        G_GUINT64_FORMAT, offsets[i]);
    gst_buffer_unmap (buf, &map);
    gst_clear_buffer (&buf);
  }
  fail_unless_equals_int (gst_pad_pull_range (sinkpad, 3 * 1024 * 1024, 10,
          &buf), GST_FLOW_EOS);

  gst_pad_activate_mode (sinkpad, GST_PAD_MODE_PULL, FALSE);
  gst_element_set_state (src, GST_STATE_NULL);
  gst_object_unref (srcpad);
  gst_object_unref (sinkpad);
  gst_object_unref (src);
}

GST_END_TEST;

static Suite *
wasabisrc_suite (void)
{
  Suite *s = suite_create ("wasabisrc");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_uri_handler);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_read_and_refuse_changes_when_running);
  tcase_add_test (tc, test_access_denied_on_get);
  tcase_add_test (tc, test_access_denied_on_head);
  tcase_add_test (tc, test_not_found);
  tcase_add_test (tc, test_missing_uri_is_settings_error);
  tcase_add_test (tc, test_unlock_cancels_stalled_read);
  tcase_add_test (tc, test_pull_mode_ranges);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (wasabisrc);
