/* Unit tests of the runner's bounded state changes (rcx_transcode_set_state
 * in librcxrunner, runner/rcx-transcode-state.h): a state change that never
 * returns (simulated by an element of this file whose READY -> NULL or
 * NULL -> READY blocks until the test lets it go, the way a change once
 * blocked under hlssink2 / splitmuxsink on a corrupt source) ends as a
 * watchdog error within the limit, and the caller's main context kept
 * dispatching meanwhile (the signals and the cancellation live there); a
 * change that returns gives its result.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <string.h>

#include "rcx-transcode.h"
#include "rcx-transcode-state.h"

/* ---- an element whose state changes block ------------------------------ */

#define TEST_TYPE_STUCK (test_stuck_get_type ())
G_DECLARE_FINAL_TYPE (TestStuck, test_stuck, TEST, STUCK, GstElement);

struct _TestStuck
{
  GstElement parent;
};

G_DEFINE_TYPE (TestStuck, test_stuck, GST_TYPE_ELEMENT);

static GMutex gate_lock;
static GCond gate_cond;
static gboolean gate_open;
static gboolean change_returned;

static GstStateChangeReturn
test_stuck_change_state (GstElement * element, GstStateChange transition)
{
  GstStateChangeReturn ret;

  g_mutex_lock (&gate_lock);
  while (!gate_open)
    g_cond_wait (&gate_cond, &gate_lock);
  g_mutex_unlock (&gate_lock);
  ret = GST_ELEMENT_CLASS (test_stuck_parent_class)->change_state (element,
      transition);
  g_mutex_lock (&gate_lock);
  change_returned = TRUE;
  g_cond_broadcast (&gate_cond);
  g_mutex_unlock (&gate_lock);
  return ret;
}

static void
test_stuck_init (TestStuck * self)
{
}

static void
test_stuck_class_init (TestStuckClass * klass)
{
  GST_ELEMENT_CLASS (klass)->change_state = test_stuck_change_state;
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass),
      "Stuck", "Testing", "State changes that block until let go", "tests");
}

static void
gate_set (gboolean open)
{
  g_mutex_lock (&gate_lock);
  gate_open = open;
  change_returned = FALSE;
  g_cond_broadcast (&gate_cond);
  g_mutex_unlock (&gate_lock);
}

static gboolean
on_tick (gpointer data)
{
  (*(guint *) data)++;
  return G_SOURCE_CONTINUE;
}

/* ---- tests ------------------------------------------------------------- */

static void
test_stuck_change_times_out (void)
{
  GstElement *stuck = g_object_new (TEST_TYPE_STUCK, NULL);
  g_autoptr (GError) error = NULL;
  guint ticks = 0, tick;
  gint64 start;
  gboolean ok;

  gst_object_ref_sink (stuck);
  gate_set (FALSE);
  tick = g_timeout_add (100, on_tick, &ticks);
  start = g_get_monotonic_time ();
  ok = rcx_transcode_set_state (stuck, GST_STATE_READY, 1, NULL, &error);
  g_source_remove (tick);
  g_assert_false (ok);
  g_assert_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_WATCHDOG);
  g_assert_nonnull (strstr (error->message, "state change to READY did not "
          "return within 1 s"));
  /* within the limit, not long after it */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  /* the main context ran meanwhile: SIGTERM would have been seen */
  g_assert_cmpuint (ticks, >=, 5);

  /* the abandoned change still runs on; let it go and see it end, then
   * the element can be taken down as usual */
  g_mutex_lock (&gate_lock);
  gate_open = TRUE;
  g_cond_broadcast (&gate_cond);
  while (!change_returned)
    g_cond_wait (&gate_cond, &gate_lock);
  g_mutex_unlock (&gate_lock);
  g_assert_true (rcx_transcode_set_state (stuck, GST_STATE_NULL, 5, NULL,
          NULL));
  gst_object_unref (stuck);
}

static void
test_change_that_returns (void)
{
  g_autoptr (GError) error = NULL;
  GstElement *pipeline = gst_parse_launch ("fakesrc num-buffers=10 ! "
      "fakesink sync=false", &error);
  GstStateChangeReturn ret = GST_STATE_CHANGE_FAILURE;
  GstElement *stuck = g_object_new (TEST_TYPE_STUCK, NULL);

  g_assert_no_error (error);
  g_assert_true (rcx_transcode_set_state (pipeline, GST_STATE_PLAYING, 5,
          &ret, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ret, !=, GST_STATE_CHANGE_FAILURE);
  g_assert_true (rcx_transcode_set_state (pipeline, GST_STATE_NULL, 5, &ret,
          &error));
  g_assert_cmpint (ret, ==, GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);

  /* an open gate: the element's own change passes through */
  gst_object_ref_sink (stuck);
  gate_set (TRUE);
  g_assert_true (rcx_transcode_set_state (stuck, GST_STATE_READY, 5, &ret,
          &error));
  g_assert_cmpint (ret, ==, GST_STATE_CHANGE_SUCCESS);
  g_assert_true (rcx_transcode_set_state (stuck, GST_STATE_NULL, 5, &ret,
          &error));
  gst_object_unref (stuck);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/transcode-state/stuck-times-out",
      test_stuck_change_times_out);
  g_test_add_func ("/transcode-state/returns", test_change_that_returns);

  return g_test_run ();
}
