/* gstrcxteststuck.c: a test-only GStreamer plugin (never installed) with
 * one element, rcxteststuck: a pass-through whose PAUSED -> READY state
 * change never returns, the way a change once blocked under hlssink2 /
 * splitmuxsink on a corrupt source. tests/test_runner_jobs.py puts it in
 * a description as the scaler to show that `transcode` bounds its state
 * changes (runner/rcx-transcode-state.c) instead of hanging.
 *
 *   gst-launch-1.0 videotestsrc num-buffers=10 ! rcxteststuck ! fakesink
 *   (reaches EOS, then hangs on the way down)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

#define RCX_TYPE_TEST_STUCK (rcx_test_stuck_get_type ())
G_DECLARE_FINAL_TYPE (RcxTestStuck, rcx_test_stuck, RCX, TEST_STUCK,
    GstBaseTransform);

struct _RcxTestStuck
{
  GstBaseTransform parent;
};

G_DEFINE_TYPE (RcxTestStuck, rcx_test_stuck, GST_TYPE_BASE_TRANSFORM);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GMutex never_lock;
static GCond never_cond;

static GstFlowReturn
rcx_test_stuck_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  return GST_FLOW_OK;
}

static GstStateChangeReturn
rcx_test_stuck_change_state (GstElement * element, GstStateChange transition)
{
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    GST_WARNING_OBJECT (element, "stuck in PAUSED -> READY for good");
    g_mutex_lock (&never_lock);
    for (;;)
      g_cond_wait (&never_cond, &never_lock);
  }
  return GST_ELEMENT_CLASS (rcx_test_stuck_parent_class)->change_state
      (element, transition);
}

static void
rcx_test_stuck_init (RcxTestStuck * self)
{
}

static void
rcx_test_stuck_class_init (RcxTestStuckClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Stuck (test)",
      "Filter", "Pass-through whose PAUSED -> READY never returns (tests)",
      "rugbycodex");
  element_class->change_state = rcx_test_stuck_change_state;
  trans_class->transform_ip = rcx_test_stuck_transform_ip;
  trans_class->passthrough_on_same_caps = TRUE;
}

static gboolean
plugin_init (GstPlugin * plugin)
{
  return gst_element_register (plugin, "rcxteststuck", GST_RANK_NONE,
      RCX_TYPE_TEST_STUCK);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, rcxteststuck,
    "rugbycodex test elements (never installed)", plugin_init, "0.1", "LGPL",
    "rugbycodex-tests", "https://github.com/rugbycodex")
