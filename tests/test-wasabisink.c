/* test-wasabisink.c: GstCheck tests of wasabisink against an in-process S3
 * stub (wasabi-stub-server.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <string.h>

#include "wasabi-stub-server.h"

#define MiB (1024 * 1024)

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

static GstHarness *
make_harness (const gchar * uri, GstBus ** bus_out, const gchar * extra_prop,
    ...)
{
  va_list args;
  GstElement *sink = gst_element_factory_make ("wasabisink", NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h;

  g_object_set (sink, "uri", uri, "endpoint-uri",
      stub_server_get_endpoint (server), "access-key", "AKIDSTUB",
      "secret-access-key", "stubsecret", "request-timeout", 5,
      "part-size", (guint64) 5 * MiB, "max-parallel-parts", 2, "async", FALSE,
      NULL);
  va_start (args, extra_prop);
  for (; extra_prop != NULL; extra_prop = va_arg (args, const gchar *))
      gst_util_set_object_arg (G_OBJECT (sink), extra_prop,
        va_arg (args, const gchar *));
  va_end (args);
  gst_element_set_bus (sink, bus);
  /* the harness starts the element: every property is set before */
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  *bus_out = bus;
  return h;
}

/* Pushes @size bytes of a pattern starting at @offset in 64 KiB buffers. */
static void
push_pattern (GstHarness * h, GByteArray * expect, gsize offset, gsize size)
{
  const gsize chunk = 64 * 1024;

  for (gsize done = 0; done < size; done += chunk) {
    gsize n = MIN (chunk, size - done);
    GstBuffer *buf = gst_buffer_new_allocate (NULL, n, NULL);
    GstMapInfo map;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (gsize i = 0; i < n; i++)
      map.data[i] = (guint8) (((offset + done + i) * 7) ^ ((offset + done +
                  i) >> 13));
    if (expect)
      g_byte_array_append (expect, map.data, n);
    gst_buffer_unmap (buf, &map);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
}

static void
assert_object (const gchar * path, GByteArray * expect)
{
  g_autoptr (GBytes) got = stub_server_get (server, path);

  fail_unless (got != NULL, "%s was not written", path);
  fail_unless_equals_int (g_bytes_get_size (got), expect->len);
  fail_unless (memcmp (g_bytes_get_data (got, NULL), expect->data,
          expect->len) == 0, "%s differs", path);
}

GST_START_TEST (test_uri_handler_and_properties)
{
  g_autoptr (GError) error = NULL;
  GstElement *sink = gst_element_make_from_uri (GST_URI_SINK,
      "s3://out/hls/master.m3u8", NULL, &error);
  g_autofree gchar *factory = NULL, *bucket = NULL, *key = NULL;
  guint64 part_size;
  guint parallel;

  fail_unless (sink != NULL, "%s", error ? error->message : "?");
  factory = gst_object_get_name (GST_OBJECT (gst_element_get_factory (sink)));
  fail_unless_equals_string (factory, "wasabisink");
  g_object_get (sink, "bucket", &bucket, "key", &key, "part-size",
      &part_size, "max-parallel-parts", &parallel, NULL);
  fail_unless_equals_string (bucket, "out");
  fail_unless_equals_string (key, "hls/master.m3u8");
  fail_unless_equals_uint64 (part_size, 8 * MiB);
  fail_unless_equals_int (parallel, 4);
  gst_object_unref (sink);
}

GST_END_TEST;

/* Below part-size: one PutObject with the Content-Type and Cache-Control,
 * done before the EOS event returns. */
GST_START_TEST (test_small_put_on_eos)
{
  g_autoptr (GByteArray) expect = g_byte_array_new ();
  g_autoptr (GstBus) bus = NULL;
  GstHarness *h = make_harness ("s3://bkt/small.jpg", &bus, "content-type",
      "image/jpeg", "cache-control", "max-age=60", NULL);
  g_autofree gchar *ctype = NULL, *cache = NULL;

  /* refused: the element is running */
  g_object_set (h->element, "content-type", "text/plain", NULL);
  gst_harness_play (h);
  push_pattern (h, expect, 0, 300 * 1024);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  /* the EOS event returned: the object is there */
  assert_object ("/bkt/small.jpg", expect);
  fail_unless_equals_int (stub_server_count (server, "PUT", "/bkt/small.jpg",
          NULL), 1);
  fail_unless_equals_int (stub_server_count (server, "POST", "/bkt/small.jpg",
          "uploads"), 0);
  ctype = stub_server_last_header (server, "PUT", "/bkt/small.jpg",
      "Content-Type");
  cache = stub_server_last_header (server, "PUT", "/bkt/small.jpg",
      "Cache-Control");
  fail_unless_equals_string (ctype, "image/jpeg");
  fail_unless_equals_string (cache, "max-age=60");
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Above part-size: multipart, completed on EOS, byte-identical. */
GST_START_TEST (test_multipart_on_eos)
{
  g_autoptr (GByteArray) expect = g_byte_array_new ();
  g_autoptr (GstBus) bus = NULL;
  GstHarness *h = make_harness ("s3://bkt/big.bin", &bus, NULL);
  GstMessage *msg;

  gst_harness_play (h);
  push_pattern (h, expect, 0, 12 * MiB + 123);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  assert_object ("/bkt/big.bin", expect);
  fail_unless_equals_int (stub_server_count (server, "POST", "/bkt/big.bin",
          "uploads"), 1);
  fail_unless_equals_int (stub_server_count (server, "PUT", "/bkt/big.bin",
          "partNumber="), 3);
  fail_unless_equals_int (stub_server_count (server, "DELETE", "/bkt/big.bin",
          NULL), 0);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  fail_unless (msg == NULL, "unexpected error/warning");
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Stopped before EOS: the multipart upload is aborted, nothing appears. */
GST_START_TEST (test_stop_mid_upload_aborts)
{
  g_autoptr (GstBus) bus = NULL;
  GstHarness *h = make_harness ("s3://bkt/partial.bin", &bus, NULL);

  gst_harness_play (h);
  push_pattern (h, NULL, 0, 11 * MiB);
  gst_harness_teardown (h);

  fail_unless_equals_int (stub_server_count (server, "POST", "/bkt/partial.bin",
          "uploads"), 1);
  fail_unless_equals_int (stub_server_count (server, "DELETE",
          "/bkt/partial.bin", "uploadId="), 1);
  fail_unless_equals_int (stub_server_count (server, "POST", "/bkt/partial.bin",
          "uploadId="), 0);
  fail_unless (stub_server_get (server, "/bkt/partial.bin") == NULL);
}

GST_END_TEST;

/* A 403 on the upload: NOT_AUTHORIZED with the S3 details, EOS refused. */
GST_START_TEST (test_access_denied)
{
  g_autoptr (GstBus) bus = NULL;
  GstHarness *h = make_harness ("s3://bkt/denied.bin", &bus, NULL);
  g_autoptr (GError) error = NULL;
  const GstStructure *details = NULL;
  GstMessage *msg;
  guint status = 0;

  stub_server_fail (server, NULL, "/bkt/denied.bin", 403, "AccessDenied",
      "REQ-SINK-403");
  gst_harness_play (h);
  push_pattern (h, NULL, 0, 1000);
  fail_if (gst_harness_push_event (h, gst_event_new_eos ()));

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error posted");
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", error->message);
  gst_message_parse_error_details (msg, &details);
  fail_unless (details != NULL);
  fail_unless (gst_structure_get_uint (details, "http-status-code", &status));
  fail_unless_equals_int (status, 403);
  fail_unless_equals_string (gst_structure_get_string (details,
          "s3-error-code"), "AccessDenied");
  fail_unless_equals_string (gst_structure_get_string (details,
          "request-id"), "REQ-SINK-403");
  gst_message_unref (msg);
  fail_unless_equals_int (stub_server_count (server, "PUT", "/bkt/denied.bin",
          NULL), 1);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A part refused with 403: the error carries the details and the
 * multipart upload is aborted at once. */
GST_START_TEST (test_part_failure_aborts)
{
  g_autoptr (GstBus) bus = NULL;
  GstHarness *h = make_harness ("s3://bkt/refused.bin", &bus, NULL);
  g_autoptr (GError) error = NULL;
  GstFlowReturn ret = GST_FLOW_OK;
  GstMessage *msg;

  stub_server_fail (server, "PUT", "/bkt/refused.bin", 403, "AccessDenied",
      "REQ-PART-403");
  gst_harness_play (h);
  for (guint i = 0; i < 40 && ret == GST_FLOW_OK; i++)
    ret = gst_harness_push (h, gst_buffer_new_allocate (NULL, 1024 * 1024,
            NULL));
  fail_unless_equals_int (ret, GST_FLOW_ERROR);

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error posted");
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", error->message);
  gst_message_unref (msg);
  /* aborted once, never completed */
  fail_unless_equals_int (stub_server_count (server, "DELETE",
          "/bkt/refused.bin", "uploadId="), 1);
  fail_unless_equals_int (stub_server_count (server, "POST",
          "/bkt/refused.bin", "uploadId="), 0);
  gst_harness_teardown (h);
  fail_unless_equals_int (stub_server_count (server, "DELETE",
          "/bkt/refused.bin", "uploadId="), 1);
}

GST_END_TEST;

static Suite *
wasabisink_suite (void)
{
  Suite *s = suite_create ("wasabisink");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_uri_handler_and_properties);
  tcase_add_test (tc, test_small_put_on_eos);
  tcase_add_test (tc, test_multipart_on_eos);
  tcase_add_test (tc, test_stop_mid_upload_aborts);
  tcase_add_test (tc, test_access_denied);
  tcase_add_test (tc, test_part_failure_aborts);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (wasabisink);
