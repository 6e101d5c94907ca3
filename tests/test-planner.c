/* Unit tests of the runner's planner (rcx_plan_new in librcxrunner): which
 * rungs a source gets and their sizes, the output frame rate, odd sizes and
 * rotation. The sources are RcxSourceInfo values made here, as the probe
 * would report them: no media files, nothing is run. The description is the
 * shipped default (pipelines/hls-ladder.json: 1080/720/480, 2 s GOP, 6 s
 * segments, max-frame-rate 60), planned with its software entry so the
 * tests do not depend on the machine's GPU.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>

#include "rcx-builder.h"
#include "rcx-pipeline-desc.h"
#include "rcx-probe.h"

#define SOFTWARE_ENCODER "x264"

static RcxPipelineDesc *
load_default_desc (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = NULL;
  g_autofree gchar *path = NULL;
  const gchar *dirs[2] = { NULL, NULL };
  RcxPipelineDesc *desc;

  g_assert_nonnull (g_getenv ("RCX_SOURCE_DIR"));
  dir = g_build_filename (g_getenv ("RCX_SOURCE_DIR"), "pipelines", NULL);
  dirs[0] = dir;
  path = rcx_pipeline_desc_find (RCX_PIPELINE_DESC_DEFAULT_NAME, dirs, &error);
  g_assert_no_error (error);
  desc = rcx_pipeline_desc_new_from_file (path, &error);
  g_assert_no_error (error);
  /* the figures below are worked out for these */
  g_assert_cmpuint (desc->n_rungs, ==, 3);
  g_assert_cmpuint (desc->ladder[0].height, ==, 1080);
  g_assert_cmpuint (desc->ladder[1].height, ==, 720);
  g_assert_cmpuint (desc->ladder[2].height, ==, 480);
  g_assert_cmpfloat (desc->gop_seconds, ==, 2.0);
  g_assert_cmpfloat (desc->segment_seconds, ==, 6.0);
  g_assert_cmpuint (desc->max_frame_rate, ==, 60);
  return desc;
}

static guint
software_encoder (const RcxPipelineDesc * desc)
{
  for (guint i = 0; i < desc->n_encoders; i++) {
    if (g_str_equal (desc->encoders[i].name, SOFTWARE_ENCODER))
      return i;
  }
  g_assert_not_reached ();
}

/* A progressive, square-pixel, video-only source as the probe reports it. */
static RcxSourceInfo
source (guint width, guint height, gint fps_n, gint fps_d)
{
  RcxSourceInfo info = {
    .duration = 60 * GST_SECOND,
    .has_video = TRUE,
    .width = width,
    .height = height,
    .par_n = 1,
    .par_d = 1,
    .fps_n = fps_n,
    .fps_d = fps_d,
    .video_caps = (gchar *) "video/x-h264",
  };

  return info;
}

static RcxPlan *
plan (const RcxPipelineDesc * desc, const RcxSourceInfo * info)
{
  g_autoptr (GError) error = NULL;
  RcxPlanOptions options = {
    .source = "/in/match.mp4",
    .destination = "/out/match",
  };
  RcxPlan *p = rcx_plan_new (desc, software_encoder (desc), info, &options,
      &error);

  g_assert_no_error (error);
  g_assert_nonnull (p);
  return p;
}

/* The plan's rungs as "NAME WxH, ...", compared whole so a failure shows
 * the ladder that was planned. */
static void
assert_ladder (const RcxPlan * p, const gchar * want)
{
  g_autoptr (GString) got = g_string_new (NULL);

  for (guint i = 0; i < p->n_rungs; i++)
    g_string_append_printf (got, "%s%s %ux%u", i ? ", " : "",
        p->rungs[i].desc->name, p->rungs[i].width, p->rungs[i].height);
  g_assert_cmpstr (got->str, ==, want);
}

static gboolean
has_token (const RcxPlan * p, const gchar * token)
{
  for (guint i = 0; i + 1 < p->argv->len; i++) {
    if (g_str_equal (g_ptr_array_index (p->argv, i), token))
      return TRUE;
  }
  return FALSE;
}

/* Plans a 1920x1080 source at @fps_n/@fps_d (interlaced or not) and checks
 * the output rate and GOP length the planner chose. */
static void
assert_rate (const RcxPipelineDesc * desc, gint fps_n, gint fps_d,
    gboolean interlaced, gint want_n, gint want_d, guint want_gop)
{
  RcxSourceInfo info = source (1920, 1080, fps_n, fps_d);
  g_autoptr (RcxPlan) p = NULL;

  info.interlaced = interlaced;
  p = plan (desc, &info);
  g_assert_cmpint (p->fps_n, ==, want_n);
  g_assert_cmpint (p->fps_d, ==, want_d);
  g_assert_cmpuint (p->gop_frames, ==, want_gop);
  g_assert_cmpint (p->deinterlace, ==, interlaced);
  g_assert_cmpint (has_token (p, "deinterlace"), ==, interlaced);
}

/* ---- ladder ------------------------------------------------------------ */

/* Plans an upright, square-pixel 25 fps source of @width x @height, checks
 * its ladder against @want and returns the plan for further checks. */
static RcxPlan *
plan_ladder (const RcxPipelineDesc * desc, guint width, guint height,
    const gchar * want)
{
  RcxSourceInfo info = source (width, height, 25, 1);
  RcxPlan *p = plan (desc, &info);

  assert_ladder (p, want);
  return p;
}

static void
test_ladder (void)
{
  g_autoptr (RcxPipelineDesc) desc = load_default_desc ();
  /* 480p: 480 x 16/9 = 853.3, the nearest even width */
  g_autoptr (RcxPlan) full = plan_ladder (desc, 1920, 1080,
      "1080p 1920x1080, 720p 1280x720, 480p 854x480");
  /* never upscaled: a 720p source loses the 1080p rung */
  g_autoptr (RcxPlan) hd = plan_ladder (desc, 1280, 720,
      "720p 1280x720, 480p 854x480");
  /* smaller than the whole ladder: the lowest rung, at the source's size */
  g_autoptr (RcxPlan) small = plan_ladder (desc, 640, 360, "480p 640x360");
  /* portrait: the rung height applies to the short side, so a phone's
   * 1080x1920 gets all three rungs, 1080, 720 and 480 wide... */
  g_autoptr (RcxPlan) portrait = plan_ladder (desc, 1080, 1920,
      "1080p 1080x1920, 720p 720x1280, 480p 480x854");
  /* ... and a 720x1280 one loses the 1080p rung, though it is 1280 high */
  g_autoptr (RcxPlan) portrait_hd = plan_ladder (desc, 720, 1280,
      "720p 720x1280, 480p 480x854");

  g_assert_cmpstr (full->rungs[0].location, ==, "/out/match/1080p/");
  g_assert_cmpstr (full->rungs[2].sink_name, ==, "hls2");
  g_assert_false (full->flip);
  g_assert_false (full->deinterlace);
  g_assert_false (has_token (full, "videoflip"));
  /* the sinks are numbered by the rungs kept, not by the ladder */
  g_assert_cmpstr (hd->rungs[0].sink_name, ==, "hls0");
  g_assert_cmpstr (small->rungs[0].folder, ==, "480p");
  /* upright portrait video needs no flip */
  g_assert_false (portrait->flip);
  g_assert_false (portrait_hd->flip);
}

static void
test_ladder_pixel_aspect (void)
{
  g_autoptr (RcxPipelineDesc) desc = load_default_desc ();
  /* anamorphic 1440x1080 (4:3 pixels) displays as 1920x1080 */
  RcxSourceInfo info = source (1440, 1080, 25, 1);
  g_autoptr (RcxPlan) p = NULL;

  info.par_n = 4;
  info.par_d = 3;
  p = plan (desc, &info);
  assert_ladder (p, "1080p 1920x1080, 720p 1280x720, 480p 854x480");
}

/* ---- frame rate -------------------------------------------------------- */

static void
test_rate_kept (void)
{
  g_autoptr (RcxPipelineDesc) desc = load_default_desc ();

  /* 29.97 and 23.976 fit: 60 frames last 2.002 s (within half a frame of
   * the GOP) and the first frame at or after 6 s is frame 180, an IDR */
  assert_rate (desc, 30000, 1001, FALSE, 30000, 1001, 60);
  assert_rate (desc, 24000, 1001, FALSE, 24000, 1001, 48);
  assert_rate (desc, 25, 1, FALSE, 25, 1, 50);
  assert_rate (desc, 50, 1, FALSE, 50, 1, 100);
  assert_rate (desc, 60, 1, FALSE, 60, 1, 120);
}

static void
test_rate_variable (void)
{
  g_autoptr (RcxPipelineDesc) desc = load_default_desc ();

  /* a variable-rate phone clip's average, 70/3: a 47-frame GOP, and the
   * 140th frame (6 s) is not on one, so segments would not start on IDRs.
   * The nearest standard rate that fits: 23.976 (24 is 0.03 further). */
  assert_rate (desc, 70, 3, FALSE, 24000, 1001, 48);
  /* no rate at all: 30 */
  assert_rate (desc, 0, 1, FALSE, 30, 1, 60);
}

static void
test_rate_interlaced (void)
{
  g_autoptr (RcxPipelineDesc) desc = load_default_desc ();

  /* field by field: 25i -> 50p under max-frame-rate 60 */
  assert_rate (desc, 25, 1, TRUE, 50, 1, 100);
  /* 50 is over max-frame-rate 30: frame by frame, 25p */
  desc->max_frame_rate = 30;
  assert_rate (desc, 25, 1, TRUE, 25, 1, 50);
}

static void
test_rate_cap (void)
{
  g_autoptr (RcxPipelineDesc) desc = load_default_desc ();
  RcxSourceInfo sixty = source (1920, 1080, 60, 1);
  g_autoptr (RcxPlan) p = NULL;

  desc->max_frame_rate = 30;
  assert_rate (desc, 60, 1, FALSE, 30, 1, 60);
  /* 59.94 goes to the standard rate nearest under the cap */
  assert_rate (desc, 60000, 1001, FALSE, 30, 1, 60);
  /* and the rate is what videorate is asked for */
  p = plan (desc, &sixty);
  g_assert_true (has_token (p, "video/x-raw,format=I420,framerate=30/1"));
}

/* ---- odd sizes --------------------------------------------------------- */

static void
assert_even_keeping_aspect (const RcxPlan * p, guint dw, guint dh)
{
  for (guint i = 0; i < p->n_rungs; i++) {
    const RcxPlanRung *r = &p->rungs[i];
    gdouble want = (gdouble) dw / dh;
    gdouble got = (gdouble) r->width / r->height;

    g_assert_cmpuint (r->width % 2, ==, 0);
    g_assert_cmpuint (r->height % 2, ==, 0);
    /* within the rounding to even: one pixel either way of the width */
    g_assert_cmpfloat (ABS (got - want), <=, 1.0 / r->height);
  }
}

static void
test_odd_sizes (void)
{
  g_autoptr (RcxPipelineDesc) desc = load_default_desc ();
  /* 1078 is under 1080: that rung goes (no upscaling by two pixels);
   * 720 x 1918/1078 = 1281.0 and 480 x 1918/1078 = 854.0, made even */
  g_autoptr (RcxPlan) p = plan_ladder (desc, 1918, 1078,
      "720p 1282x720, 480p 854x480");
  /* smaller than the ladder and odd: the source's size made even */
  g_autoptr (RcxPlan) p_tiny = plan_ladder (desc, 639, 359, "480p 638x358");

  assert_even_keeping_aspect (p, 1918, 1078);
  assert_even_keeping_aspect (p_tiny, 639, 359);

  /* the thumbnail too */
  g_assert_cmpuint (p_tiny->thumb_width % 2, ==, 0);
  g_assert_cmpuint (p_tiny->thumb_height % 2, ==, 0);
  g_assert_cmpuint (p_tiny->thumb_width, <=, 639);
}

/* ---- rotation ---------------------------------------------------------- */

static void
test_rotation (void)
{
  g_autoptr (RcxPipelineDesc) desc = load_default_desc ();
  /* a phone's portrait clip: stored 1920x1080, shown turned a quarter */
  RcxSourceInfo info = source (1920, 1080, 30, 1);
  RcxSourceInfo upside_down = source (1920, 1080, 30, 1);
  g_autoptr (RcxPlan) p = NULL;
  g_autoptr (RcxPlan) p_180 = NULL;

  info.orientation = (gchar *) "rotate-90";
  p = plan (desc, &info);
  g_assert_true (p->flip);
  g_assert_true (has_token (p, "videoflip"));
  g_assert_true (has_token (p, "video-direction=auto"));
  assert_ladder (p, "1080p 1080x1920, 720p 720x1280, 480p 480x854");
  /* the thumbnail is portrait too */
  g_assert_cmpuint (p->thumb_width, <, p->thumb_height);

  /* turned half way: flipped, but the sizes stay landscape */
  upside_down.orientation = (gchar *) "rotate-180";
  p_180 = plan (desc, &upside_down);
  g_assert_true (p_180->flip);
  assert_ladder (p_180, "1080p 1920x1080, 720p 1280x720, 480p 854x480");
}

/* ---- errors ------------------------------------------------------------ */

static void
test_no_video (void)
{
  g_autoptr (RcxPipelineDesc) desc = load_default_desc ();
  g_autoptr (GError) error = NULL;
  RcxSourceInfo info = source (0, 0, 0, 1);
  RcxPlanOptions options = {.source = "/in/a.m4a",.destination = "/out" };
  RcxPlan *p;

  info.has_video = FALSE;
  p = rcx_plan_new (desc, software_encoder (desc), &info, &options, &error);
  g_assert_null (p);
  g_assert_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/planner/ladder/choice", test_ladder);
  g_test_add_func ("/planner/ladder/pixel-aspect", test_ladder_pixel_aspect);
  g_test_add_func ("/planner/frame-rate/kept", test_rate_kept);
  g_test_add_func ("/planner/frame-rate/variable", test_rate_variable);
  g_test_add_func ("/planner/frame-rate/interlaced", test_rate_interlaced);
  g_test_add_func ("/planner/frame-rate/cap", test_rate_cap);
  g_test_add_func ("/planner/odd-sizes", test_odd_sizes);
  g_test_add_func ("/planner/rotation", test_rotation);
  g_test_add_func ("/planner/no-video", test_no_video);

  return g_test_run ();
}
