/* GstHarness tests of jobstatus: the `progress` messages' fields and their
 * throttling, driven by a GstTestClock (no sleeping).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "rcx-schema.h"

#define MS (GST_MSECOND)

typedef struct
{
  GstHarness *h;
  GstBus *bus;
} Fixture;

static Fixture
setup (const gchar * launch)
{
  Fixture f;

  f.h = gst_harness_new_parse (launch);
  fail_unless (f.h != NULL, "jobstatus not found: is GST_PLUGIN_PATH set?");
  gst_harness_use_testclock (f.h);
  f.bus = gst_bus_new ();
  gst_element_set_bus (f.h->element, f.bus);
  gst_harness_set_src_caps_str (f.h, "application/x-rcx-test");
  return f;
}

static void
teardown (Fixture * f)
{
  gst_element_set_bus (f->h->element, NULL);
  gst_object_unref (f->bus);
  gst_harness_teardown (f->h);
}

/* Pushes a buffer [pts, pts + dur) at test-clock time @clock_time and checks
 * that it comes out untouched. */
static void
push_at (Fixture * f, GstClockTime clock_time, GstClockTime pts,
    GstClockTime dur)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 16, NULL);
  GstBuffer *out;

  fail_unless (gst_harness_set_time (f->h, clock_time));
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = dur;
  fail_unless_equals_int (gst_harness_push (f->h, buf), GST_FLOW_OK);
  out = gst_harness_pull (f->h);
  fail_unless (out == buf, "jobstatus must pass buffers through untouched");
  gst_buffer_unref (out);
}

/* The next `progress` message on the bus, or NULL. */
static GstMessage *
pop_progress (Fixture * f)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (f->bus, GST_MESSAGE_ELEMENT))) {
    if (gst_message_has_name (msg, RCX_MSG_PROGRESS))
      return msg;
    gst_message_unref (msg);
  }
  return NULL;
}

static const GstStructure *
check_fields (GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);

  fail_unless (gst_structure_has_field_typed (s, "percent", G_TYPE_DOUBLE));
  fail_unless (gst_structure_has_field_typed (s, "position", G_TYPE_UINT64));
  fail_unless (gst_structure_has_field_typed (s, "duration", G_TYPE_UINT64));
  fail_unless (gst_structure_has_field_typed (s, "frames", G_TYPE_UINT64));
  fail_unless (gst_structure_has_field_typed (s, "speed", G_TYPE_DOUBLE));
  fail_unless (gst_structure_has_field_typed (s, "eta", G_TYPE_UINT64));
  fail_unless (GST_MESSAGE_SRC (msg) != NULL);
  return s;
}

static guint64
get_u64 (const GstStructure * s, const gchar * name)
{
  guint64 v = 0;

  fail_unless (gst_structure_get_uint64 (s, name, &v));
  return v;
}

static gdouble
get_double (const GstStructure * s, const gchar * name)
{
  gdouble v = 0;

  fail_unless (gst_structure_get_double (s, name, &v));
  return v;
}

/* A 10 s stream processed at 2x realtime: one 100 ms buffer every 50 ms of
 * running time. */
GST_START_TEST (test_progress_fields_and_throttling)
{
  Fixture f = setup ("jobstatus duration=10000000000 update-freq=1.0 "
      "job-id=job-42");
  GstMessage *msg;
  const GstStructure *s;
  guint i;

  /* 0..0.95 s of running time: no message yet */
  for (i = 0; i < 20; i++) {
    push_at (&f, i * 50 * MS, i * 100 * MS, 100 * MS);
    fail_unless (pop_progress (&f) == NULL, "posted too early (buffer %u)", i);
  }

  /* at 1.0 s exactly one */
  push_at (&f, 1000 * MS, 2000 * MS, 100 * MS);
  msg = pop_progress (&f);
  fail_unless (msg != NULL, "no progress message after update-freq");
  s = check_fields (msg);
  fail_unless_equals_uint64 (get_u64 (s, "position"), 2100 * MS);
  fail_unless_equals_uint64 (get_u64 (s, "duration"), 10 * GST_SECOND);
  fail_unless_equals_uint64 (get_u64 (s, "frames"), 21);
  fail_unless (G_APPROX_VALUE (get_double (s, "percent"), 21.0, 1e-9));
  /* 2.1 s of stream in 1.0 s of running time */
  fail_unless (G_APPROX_VALUE (get_double (s, "speed"), 2.1, 1e-9),
      "speed %f", get_double (s, "speed"));
  /* (10 - 2.1) s left at 2.1x */
  fail_unless (get_u64 (s, "eta") > 3761 * MS
      && get_u64 (s, "eta") < 3762 * MS, "eta %" G_GUINT64_FORMAT,
      get_u64 (s, "eta"));
  fail_unless_equals_string (gst_structure_get_string (s, "job-id"), "job-42");
  gst_message_unref (msg);
  fail_unless (pop_progress (&f) == NULL, "one message per period");

  /* 1.05 .. 1.95 s: throttled */
  for (i = 1; i < 20; i++) {
    push_at (&f, (1000 + i * 50) * MS, (2000 + i * 100) * MS, 100 * MS);
    fail_unless (pop_progress (&f) == NULL, "throttling broken (%u)", i);
  }
  /* 2.0 s: the next one */
  push_at (&f, 2000 * MS, 4000 * MS, 100 * MS);
  msg = pop_progress (&f);
  fail_unless (msg != NULL);
  s = check_fields (msg);
  fail_unless_equals_uint64 (get_u64 (s, "frames"), 41);
  fail_unless_equals_uint64 (get_u64 (s, "position"), 4100 * MS);
  fail_unless (G_APPROX_VALUE (get_double (s, "percent"), 41.0, 1e-9));
  fail_unless (G_APPROX_VALUE (get_double (s, "speed"), 2.05, 1e-9));
  gst_message_unref (msg);

  /* EOS: a final message with percent 100 and no time left */
  fail_unless (gst_harness_set_time (f.h, 2100 * MS));
  fail_unless (gst_harness_push_event (f.h, gst_event_new_eos ()));
  msg = pop_progress (&f);
  fail_unless (msg != NULL, "no final message at EOS");
  s = check_fields (msg);
  fail_unless (G_APPROX_VALUE (get_double (s, "percent"), 100.0, 1e-9));
  fail_unless_equals_uint64 (get_u64 (s, "eta"), 0);
  fail_unless_equals_uint64 (get_u64 (s, "frames"), 41);
  fail_unless_equals_uint64 (get_u64 (s, "position"), 10 * GST_SECOND);
  {
    gboolean eos = FALSE;

    fail_unless (gst_structure_get_boolean (s, "eos", &eos) && eos);
  }
  gst_message_unref (msg);
  fail_unless (pop_progress (&f) == NULL);

  teardown (&f);
}

GST_END_TEST;

/* No duration anywhere: percent -1, duration and eta unknown, no job-id. */
GST_START_TEST (test_unknown_duration)
{
  Fixture f = setup ("jobstatus update-freq=0.5");
  GstMessage *msg;
  const GstStructure *s;

  push_at (&f, 0, 0, 40 * MS);
  push_at (&f, 500 * MS, 40 * MS, 40 * MS);
  msg = pop_progress (&f);
  fail_unless (msg != NULL);
  s = check_fields (msg);
  fail_unless (G_APPROX_VALUE (get_double (s, "percent"), -1.0, 1e-9));
  fail_unless_equals_uint64 (get_u64 (s, "duration"), G_MAXUINT64);
  fail_unless_equals_uint64 (get_u64 (s, "eta"), G_MAXUINT64);
  fail_unless_equals_uint64 (get_u64 (s, "frames"), 2);
  /* 80 ms of stream in 500 ms: 0.16x */
  fail_unless (G_APPROX_VALUE (get_double (s, "speed"), 0.16, 1e-9));
  fail_if (gst_structure_has_field (s, "job-id"));
  gst_message_unref (msg);
  teardown (&f);
}

GST_END_TEST;

static GstPadQueryFunction harness_src_query;

static gboolean
src_query_with_duration (GstPad * pad, GstObject * parent, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_DURATION) {
    GstFormat format;

    gst_query_parse_duration (query, &format, NULL);
    if (format == GST_FORMAT_TIME) {
      gst_query_set_duration (query, GST_FORMAT_TIME, 4 * GST_SECOND);
      return TRUE;
    }
  }
  return harness_src_query (pad, parent, query);
}

/* The duration comes from upstream when the property is not set. */
GST_START_TEST (test_duration_from_upstream)
{
  Fixture f = setup ("jobstatus update-freq=1");
  GstMessage *msg;
  const GstStructure *s;

  harness_src_query = GST_PAD_QUERYFUNC (f.h->srcpad);
  gst_pad_set_query_function (f.h->srcpad, src_query_with_duration);

  push_at (&f, 0, 0, 500 * MS);
  push_at (&f, 1000 * MS, 500 * MS, 500 * MS);
  msg = pop_progress (&f);
  fail_unless (msg != NULL);
  s = check_fields (msg);
  fail_unless_equals_uint64 (get_u64 (s, "duration"), 4 * GST_SECOND);
  fail_unless (G_APPROX_VALUE (get_double (s, "percent"), 25.0, 1e-9));
  fail_unless (G_APPROX_VALUE (get_double (s, "speed"), 1.0, 1e-9));
  /* 3 s left at 1x */
  fail_unless_equals_uint64 (get_u64 (s, "eta"), 3 * GST_SECOND);
  gst_message_unref (msg);
  teardown (&f);
}

GST_END_TEST;

/* update-freq=0: a message for every buffer after the first. */
GST_START_TEST (test_every_buffer)
{
  Fixture f = setup ("jobstatus update-freq=0 duration=1000000000");
  guint i, n = 0;
  GstMessage *msg;

  for (i = 0; i < 10; i++) {
    push_at (&f, i * 10 * MS, i * 100 * MS, 100 * MS);
    while ((msg = pop_progress (&f))) {
      n++;
      gst_message_unref (msg);
    }
  }
  fail_unless_equals_int (n, 9);
  teardown (&f);
}

GST_END_TEST;

/* Without Supabase settings nothing else happens, and job-id alone does not
 * need a database. */
GST_START_TEST (test_no_database_needed)
{
  Fixture f;

  g_unsetenv ("SUPABASE_URL");
  g_unsetenv ("SUPABASE_SERVICE_KEY");
  f = setup ("jobstatus job-id=abc update-freq=0");
  push_at (&f, 0, 0, 10 * MS);
  push_at (&f, 10 * MS, 10 * MS, 10 * MS);
  {
    GstMessage *msg = pop_progress (&f);
    fail_unless (msg != NULL);
    gst_message_unref (msg);
  }
  teardown (&f);
}

GST_END_TEST;

static Suite *
jobstatus_suite (void)
{
  Suite *s = suite_create ("jobstatus");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_progress_fields_and_throttling);
  tcase_add_test (tc, test_unknown_duration);
  tcase_add_test (tc, test_duration_from_upstream);
  tcase_add_test (tc, test_every_buffer);
  tcase_add_test (tc, test_no_database_needed);
  return s;
}

GST_CHECK_MAIN (jobstatus);
