/* rcx-plan.c: plans a transcode, writes it as gst-launch tokens and builds
 * its pipeline (rcx-builder.h). Printing a plan as a command line is in
 * rcx-plan-launch.c, checking a description against the registry in
 * rcx-builder.c.
 *
 * Shape of the pipeline (software encoder):
 *
 *   filesrc|wasabisrc ! decodebin3 name=dec
 *   dec. ! video/x-raw(ANY) ! jobstatus ! [videoflip] ! [deinterlace]
 *        ! videoconvert ! videorate ! video/x-raw,format=I420,framerate=F
 *        ! tee name=vt
 *   vt. ! queue ! videoscale ! video/x-raw,width=W,height=H ! x264enc ...
 *       ! video/x-h264,profile=high ! h264parse ! hls0.video     (per rung)
 *   dec. ! audio/x-raw(ANY) ! audioconvert ! audioresample
 *        ! audio/x-raw,rate=48000,channels=2 ! avenc_aac ! aacparse
 *        ! tee name=at
 *   at. ! queue ! hls0.audio                                     (per rung)
 *   wasabihlssink name=hls0 location=DST/720p/ ...               (per rung)
 *
 * With a hardware entry ("nvidia") frames stay in device memory: the
 * entry's decoder (nvh264dec, behind parsebin) when the source matches its
 * input caps, the upload element (a pass-through for device memory) before
 * the tee, the entry's scaler (cudascale) with device-memory caps per rung.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-builder.h"
#include "rcx-schema.h"

#include <math.h>
#include <string.h>

/* raw frames queued before each rung's scaler (see add_rung) */
#define RUNG_QUEUE_FRAMES 2

/* ---- availability ------------------------------------------------------ */

static gboolean
factory_exists (const gchar * name)
{
  g_autoptr (GstElementFactory) f = gst_element_factory_find (name);

  return f != NULL;
}

gboolean
rcx_builder_encoder_available (const RcxEncoderDesc * encoder, gchar ** missing)
{
  const gchar *needed[] = { encoder->element, encoder->scaler,
    encoder->upload, NULL
  };

  for (guint i = 0; i < G_N_ELEMENTS (needed); i++) {
    if (needed[i] && !factory_exists (needed[i])) {
      if (missing)
        *missing = g_strdup (needed[i]);
      return FALSE;
    }
  }
  return TRUE;
}

gint
rcx_builder_find_encoder (const RcxPipelineDesc * desc, guint start)
{
  for (guint i = start; i < desc->n_encoders; i++) {
    g_autofree gchar *missing = NULL;

    if (rcx_builder_encoder_available (&desc->encoders[i], &missing))
      return i;
    g_info ("encoder %s skipped: element %s is not available here",
        desc->encoders[i].name, missing);
  }
  return -1;
}

/* ---- planning ---------------------------------------------------------- */

static guint
even (gdouble v)
{
  guint e = (guint) (v / 2.0 + 0.5) * 2;

  return MAX (e, 2);
}

/* Rungs no taller than the source (the short side, so portrait video gets
 * the same quality as landscape); sizes keep the display aspect ratio. */
static void
plan_rungs (RcxPlan * plan, const RcxSourceInfo * source,
    const RcxPlanOptions * options)
{
  const RcxPipelineDesc *desc = plan->desc;
  guint dw, dh, short_side;
  gboolean portrait;
  g_autoptr (GArray) rungs = g_array_new (FALSE, TRUE, sizeof (RcxPlanRung));
  g_autofree gchar *dst = g_strdup (options->destination);

  while (strlen (dst) > 1 && g_str_has_suffix (dst, "/"))
    dst[strlen (dst) - 1] = '\0';

  rcx_source_info_display_size (source, &dw, &dh);
  portrait = dh > dw;
  short_side = portrait ? dw : dh;

  for (guint i = 0; i < desc->n_rungs; i++) {
    const RcxRungDesc *rd = &desc->ladder[i];
    guint target = rd->height;
    RcxPlanRung r = { 0 };

    if (target > short_side) {
      /* Never upscale; but keep the lowest rung (at the source's size)
       * when the source is smaller than the whole ladder. */
      if (i + 1 < desc->n_rungs || rungs->len > 0) {
        g_info ("rung %s dropped: the source is only %u pixels high",
            rd->name, short_side);
        continue;
      }
      target = short_side & ~1u;
    }
    r.desc = rd;
    if (portrait) {
      r.width = target;
      r.height = even ((gdouble) target * dh / dw);
    } else {
      r.height = target;
      r.width = even ((gdouble) target * dw / dh);
    }
    r.folder = rcx_pipeline_desc_rung_folder (desc, rd);
    r.sink_name = g_strdup_printf (RCX_ELEMENT_HLS_SINK_FORMAT, rungs->len);
    if (g_str_has_prefix (dst, "s3://")) {
      /* the destination is a URI: the folder goes in percent-encoded */
      g_autofree gchar *folder = g_uri_escape_string (r.folder, "/", FALSE);
      r.location = g_strdup_printf ("%s/%s/", dst, folder);
    } else {
      r.location = g_strdup_printf ("%s/%s/", dst, r.folder);
    }
    g_array_append_val (rungs, r);
  }
  plan->n_rungs = rungs->len;
  plan->rungs = (RcxPlanRung *) g_array_free (g_steal_pointer (&rungs), FALSE);
}

/* TRUE when a GOP of round(gop x fps) frames lasts the GOP within half a
 * frame, and the first segment boundary (the first frame at or after the
 * segment duration) is one of its IDRs: so every segment starts on a
 * keyframe at the same frame in every rung. 29.97 and 23.976 fps pass with
 * a 2 s GOP and 6 s segments; 70/3 (a variable-rate phone clip's average)
 * does not. */
static gboolean
frame_rate_fits (const RcxPipelineDesc * desc, gint n, gint d)
{
  gdouble fps = (gdouble) n / d;
  gdouble gop = round (desc->gop_seconds * fps);

  if (gop < 1 || fabs (gop / fps - desc->gop_seconds) > 0.5 / fps)
    return FALSE;
  return fmod (ceil (desc->segment_seconds * fps - 1e-9), gop) == 0;
}

/* Constant output rate: the source's when it is known, not above
 * max-frame-rate, and fits the GOP and segment lengths; otherwise the
 * nearest standard rate that does (variable-rate sources report an average
 * such as 70/3). */
static void
plan_frame_rate (RcxPlan * plan, const RcxSourceInfo * source)
{
  static const gint standard[][2] = {
    {24000, 1001}, {24, 1}, {25, 1}, {30000, 1001}, {30, 1}, {48, 1},
    {50, 1}, {60000, 1001}, {60, 1}, {15, 1}, {12, 1}, {10, 1},
  };
  const RcxPipelineDesc *desc = plan->desc;
  gdouble max = desc->max_frame_rate + 0.01;
  gdouble want = 30.0;
  gdouble best_diff = G_MAXDOUBLE;

  if (source->fps_n > 0 && source->fps_d > 0) {
    gint n = source->fps_n, d = source->fps_d;

    /* Interlaced video is deinterlaced field by field: 25i becomes 50p
     * (fast play stays fluid) when that is allowed. */
    if (source->interlaced && 2.0 * n / d <= max
        && frame_rate_fits (desc, 2 * n, d))
      n *= 2;
    want = (gdouble) n / d;
    if (want <= max && frame_rate_fits (desc, n, d)) {
      plan->fps_n = n;
      plan->fps_d = d;
      goto done;
    }
  }
  want = MIN (want, max);
  plan->fps_n = MIN (30, desc->max_frame_rate);
  plan->fps_d = 1;
  for (guint i = 0; i < G_N_ELEMENTS (standard); i++) {
    gdouble fps = (gdouble) standard[i][0] / standard[i][1];

    if (fps > max || !frame_rate_fits (desc, standard[i][0], standard[i][1]))
      continue;
    if (fabs (fps - want) < best_diff) {
      best_diff = fabs (fps - want);
      plan->fps_n = standard[i][0];
      plan->fps_d = standard[i][1];
    }
  }
  if (source->fps_n > 0)
    g_info ("frame rate %d/%d -> %d/%d (constant, whole GOPs per segment)",
        source->fps_n, source->fps_d, plan->fps_n, plan->fps_d);

done:
  plan->gop_frames = rcx_pipeline_desc_gop_frames (desc, plan->fps_n,
      plan->fps_d);
}

static gboolean
decoder_matches (const RcxEncoderDesc * enc, const RcxSourceInfo * source,
    gboolean assume_available)
{
  g_autoptr (GstCaps) want = NULL;
  g_autoptr (GstCaps) have = NULL;

  if (!enc->decoder || !source->video_caps)
    return FALSE;
  if (!assume_available && !factory_exists (enc->decoder))
    return FALSE;
  want = gst_caps_from_string (enc->decoder_input_caps);
  have = gst_caps_new_empty_simple (source->video_caps);
  return want && gst_caps_can_intersect (want, have);
}

/* ---- tokens ------------------------------------------------------------ */

static void
add (RcxPlan * plan, const gchar * format, ...)
{
  va_list args;

  va_start (args, format);
  /* keep the NULL terminator last */
  g_ptr_array_remove_index (plan->argv, plan->argv->len - 1);
  g_ptr_array_add (plan->argv, g_strdup_vprintf (format, args));
  g_ptr_array_add (plan->argv, NULL);
  va_end (args);
}

/* A string property of the element named @element, set after parsing
 * (rcx_plan_build) and printed after the element's name token: the way
 * every outside string (source, destination, endpoint) and every free
 * name reaches the pipeline, so none is ever read as pipeline syntax. */
static void
set_later (RcxPlan * plan, const gchar * element, const gchar * property,
    const gchar * value)
{
  RcxPlanSetting setting = {
    .after = plan->argv->len - 2,       /* the token just added */
    .element = g_strdup (element),
    .property = g_strdup (property),
    .value = g_strdup (value),
  };

  g_array_append_val (plan->settings, setting);
}

static gboolean
add_properties (RcxPlan * plan, const RcxPropertyDesc * props, guint n,
    GHashTable * vars, GError ** error)
{
  for (guint i = 0; i < n; i++) {
    g_autofree gchar *value = rcx_pipeline_desc_expand (props[i].value, vars,
        error);
    if (!value)
      return FALSE;
    add (plan, "%s=%s", props[i].name, value);
  }
  return TRUE;
}

static void
add_source (RcxPlan * plan, const RcxPlanOptions * options)
{
  plan->source_factory = g_str_has_prefix (options->source, "s3://") ?
      "wasabisrc" : "filesrc";
  if (g_str_has_prefix (options->source, "s3://")) {
    add (plan, "wasabisrc");
    add (plan, "name=" RCX_ELEMENT_SOURCE);
    set_later (plan, RCX_ELEMENT_SOURCE, "uri", options->source);
    if (options->endpoint_uri)
      set_later (plan, RCX_ELEMENT_SOURCE, "endpoint-uri",
          options->endpoint_uri);
  } else {
    add (plan, "filesrc");
    add (plan, "name=" RCX_ELEMENT_SOURCE);
    set_later (plan, RCX_ELEMENT_SOURCE, "location", options->source);
  }
  add (plan, "!");
  plan->source_tokens = plan->argv->len - 1;
}

/* Decoded video up to and including "tee name=vt". */
static void
add_video_chain (RcxPlan * plan, const RcxSourceInfo * source)
{
  const RcxEncoderDesc *enc = plan->encoder;

  if (plan->explicit_decoder) {
    add (plan, RCX_ELEMENT_DEMUXER ".");
    add (plan, "!");
    add (plan, "%s", source->video_caps);
    add (plan, "!");
    add (plan, "queue");
    add (plan, "!");
    add (plan, "%s", enc->decoder);
  } else {
    add (plan, RCX_ELEMENT_DECODER ".");
  }
  add (plan, "!");
  add (plan, "video/x-raw(ANY)");
  add (plan, "!");
  if (plan->jobstatus) {
    add (plan, "jobstatus");
    add (plan, "name=" RCX_ELEMENT_STATUS);
    add (plan, "!");
  }
  if (plan->flip) {
    add (plan, "videoflip");
    add (plan, "video-direction=auto");
    add (plan, "!");
  }
  if (plan->deinterlace) {
    add (plan, "deinterlace");
    add (plan, "!");
  }
  if (enc->hardware) {
    add (plan, "videorate");
    add (plan, "!");
    add (plan, "%s", enc->upload);
    add (plan, "!");
    add (plan, "%s,framerate=%d/%d", enc->scaler_caps, plan->fps_n,
        plan->fps_d);
  } else {
    add (plan, "videoconvert");
    add (plan, "!");
    add (plan, "videorate");
    add (plan, "!");
    add (plan, "video/x-raw,format=I420,framerate=%d/%d", plan->fps_n,
        plan->fps_d);
  }
  add (plan, "!");
  add (plan, "tee");
  add (plan, "name=" RCX_ELEMENT_VIDEO_TEE);
}

static gboolean
add_rung (RcxPlan * plan, guint index, GError ** error)
{
  const RcxPlanRung *rung = &plan->rungs[index];
  const RcxEncoderDesc *enc = plan->encoder;
  g_autoptr (GHashTable) vars = rcx_pipeline_desc_rung_variables (plan->desc,
      rung->desc, rung->width, rung->height, plan->fps_n, plan->fps_d);
  /* The encoder keeps its lookahead and B-frames itself (x264 copies each
   * frame in, and x264enc holds the input until it is encoded), so this
   * queue only hands frames to the rung's thread, with a little slack for
   * rungs that encode at different speeds. Each queued raw frame is 3 MB
   * at 1080p: 30 frames cost 90 MB more peak RSS than 8 for no measured
   * speed, and 8 cost 24 MB more than 2, again for no measured speed
   * (docs/performance.md). */
  guint queue_frames = RUNG_QUEUE_FRAMES;

  add (plan, RCX_ELEMENT_VIDEO_TEE ".");
  add (plan, "!");
  add (plan, "queue");
  add (plan, "max-size-buffers=%u", queue_frames);
  add (plan, "max-size-bytes=0");
  add (plan, "max-size-time=0");
  add (plan, "!");
  add (plan, "%s", enc->scaler);
  add (plan, "!");
  add (plan, "%s,width=%u,height=%u,pixel-aspect-ratio=1/1",
      enc->scaler_caps, rung->width, rung->height);
  add (plan, "!");
  add (plan, "%s", enc->element);
  add (plan, "name=" RCX_ELEMENT_ENCODER_FORMAT, index);
  if (!add_properties (plan, enc->properties, enc->n_properties, vars, error))
    return FALSE;
  add (plan, "!");
  if (enc->output_caps) {
    add (plan, "%s", enc->output_caps);
    add (plan, "!");
  }
  add (plan, "h264parse");
  add (plan, "!");
  add (plan, "%s.video", rung->sink_name);
  return TRUE;
}

static gboolean
add_audio_chain (RcxPlan * plan, const RcxSourceInfo * source, GError ** error)
{
  const RcxPipelineDesc *desc = plan->desc;
  g_autoptr (GHashTable) vars = rcx_pipeline_desc_audio_variables (desc);

  if (plan->explicit_decoder) {
    add (plan, RCX_ELEMENT_DEMUXER ".");
    add (plan, "!");
    add (plan, "%s", source->audio_caps);
    add (plan, "!");
    add (plan, "queue");
    add (plan, "!");
    add (plan, "decodebin3");
  } else {
    add (plan, RCX_ELEMENT_DECODER ".");
  }
  add (plan, "!");
  add (plan, "audio/x-raw(ANY)");
  add (plan, "!");
  add (plan, "audioconvert");
  add (plan, "!");
  add (plan, "audioresample");
  add (plan, "!");
  add (plan, "audio/x-raw,rate=%u,channels=%u", desc->audio.rate,
      desc->audio.channels);
  add (plan, "!");
  add (plan, "%s", plan->audio_encoder->element);
  if (!add_properties (plan, plan->audio_encoder->properties,
          plan->audio_encoder->n_properties, vars, error))
    return FALSE;
  add (plan, "!");
  add (plan, "aacparse");
  add (plan, "!");
  add (plan, "tee");
  add (plan, "name=" RCX_ELEMENT_AUDIO_TEE);

  for (guint i = 0; i < plan->n_rungs; i++) {
    /* Unbounded: audio is small, and a full audio queue behind slow video
     * encoders would stall the demuxer for everyone. */
    add (plan, RCX_ELEMENT_AUDIO_TEE ".");
    add (plan, "!");
    add (plan, "queue");
    add (plan, "max-size-buffers=0");
    add (plan, "max-size-bytes=0");
    add (plan, "max-size-time=0");
    add (plan, "!");
    add (plan, "%s.audio", plan->rungs[i].sink_name);
  }
  return TRUE;
}

static void
add_sink (RcxPlan * plan, const RcxPlanRung * rung,
    const RcxPlanOptions * options)
{
  const RcxPipelineDesc *desc = plan->desc;
  guint target = (guint) (desc->segment_seconds + 0.5);

  add (plan, "%s", plan->sink_factory);
  add (plan, "name=%s", rung->sink_name);
  set_later (plan, rung->sink_name, "location", rung->location);
  /* names from the description: free strings, set like the location */
  set_later (plan, rung->sink_name, "segment-name", desc->output.segment);
  set_later (plan, rung->sink_name, "playlist-name", desc->output.playlist);
  set_later (plan, rung->sink_name, "iframe-playlist-name",
      desc->output.iframe_playlist);
  if (options->endpoint_uri && g_str_has_prefix (rung->location, "s3://"))
    set_later (plan, rung->sink_name, "endpoint-uri", options->endpoint_uri);
  add (plan, "target-duration=%u", target);
  /* publish-live: EVENT playlists after each segment, VOD at EOS; off:
   * playlists are stored once, at EOS. Either way a failed job leaves none
   * (rcx-transcode.c unpublishes what went up). */
  add (plan, "publish-live=%s", desc->output.publish_live ? "true" : "false");
}

RcxPlan *
rcx_plan_new (const RcxPipelineDesc * desc, guint encoder_index,
    const RcxSourceInfo * source, const RcxPlanOptions * options,
    GError ** error)
{
  g_autoptr (RcxPlan) plan = g_new0 (RcxPlan, 1);

  g_return_val_if_fail (encoder_index < desc->n_encoders, NULL);

  plan->desc = desc;
  plan->encoder = &desc->encoders[encoder_index];
  plan->argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (plan->argv, NULL);
  plan->settings = g_array_new (FALSE, TRUE, sizeof (RcxPlanSetting));

  if (!source->has_video || source->width == 0 || source->height == 0) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE,
        "the source has no video stream");
    return NULL;
  }

  if (source->has_audio) {
    for (guint i = 0; i < desc->audio.n_encoders; i++) {
      if (factory_exists (desc->audio.encoders[i].element)) {
        plan->audio_encoder = &desc->audio.encoders[i];
        break;
      }
    }
    if (!plan->audio_encoder) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
          "no AAC encoder of the description is available (install "
          "gstreamer1.0-libav or gstreamer1.0-plugins-bad)");
      return NULL;
    }
  }

  plan->sink_factory = "wasabihlssink";
  if (!factory_exists (plan->sink_factory)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "the wasabihlssink element is not available (is GST_PLUGIN_PATH "
        "set to the build's plugins folder?)");
    return NULL;
  }

  plan->explicit_decoder = decoder_matches (plan->encoder, source,
      options->assume_available)
      && (!source->has_audio || source->audio_caps);
  plan->flip = source->orientation != NULL;
  plan->deinterlace = source->interlaced;
  plan->jobstatus = factory_exists ("jobstatus");
  plan_frame_rate (plan, source);
  plan_rungs (plan, source, options);

  {
    guint dw, dh;

    rcx_source_info_display_size (source, &dw, &dh);
    plan->thumb_width = MIN (desc->thumbnail.width, dw & ~1u);
    plan->thumb_height = even ((gdouble) plan->thumb_width * dh / dw);
    plan->thumb_position = GST_CLOCK_TIME_IS_VALID (source->duration) ?
        (GstClockTime) (source->duration * desc->thumbnail.position) : 0;
  }

  /* Tokens. */
  add_source (plan, options);
  if (plan->explicit_decoder) {
    add (plan, "parsebin");
    add (plan, "name=" RCX_ELEMENT_DEMUXER);
  } else {
    add (plan, "decodebin3");
    add (plan, "name=" RCX_ELEMENT_DECODER);
  }
  add_video_chain (plan, source);
  for (guint i = 0; i < plan->n_rungs; i++) {
    if (!add_rung (plan, i, error))
      return NULL;
  }
  if (plan->audio_encoder && !add_audio_chain (plan, source, error))
    return NULL;
  for (guint i = 0; i < plan->n_rungs; i++)
    add_sink (plan, &plan->rungs[i], options);

  return g_steal_pointer (&plan);
}

void
rcx_plan_free (RcxPlan * plan)
{
  if (!plan)
    return;
  for (guint i = 0; i < plan->n_rungs; i++) {
    g_free (plan->rungs[i].folder);
    g_free (plan->rungs[i].sink_name);
    g_free (plan->rungs[i].location);
  }
  g_free (plan->rungs);
  if (plan->argv)
    g_ptr_array_unref (plan->argv);
  for (guint i = 0; plan->settings && i < plan->settings->len; i++) {
    RcxPlanSetting *s = &g_array_index (plan->settings, RcxPlanSetting, i);

    g_free (s->element);
    g_free (s->property);
    g_free (s->value);
  }
  if (plan->settings)
    g_array_unref (plan->settings);
  g_free (plan);
}

static gboolean
apply_setting (GstElement * element, const RcxPlanSetting * setting,
    GError ** error)
{
  GParamSpec *pspec;

  /* The URI handler, not the property: it says why a URI is refused. */
  if (g_str_equal (setting->property, "uri") && GST_IS_URI_HANDLER (element))
    return gst_uri_handler_set_uri (GST_URI_HANDLER (element), setting->value,
        error);
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (element),
      setting->property);
  if (!pspec || G_PARAM_SPEC_VALUE_TYPE (pspec) != G_TYPE_STRING
      || !(pspec->flags & G_PARAM_WRITABLE)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
        "could not build the pipeline: %s has no writable string property "
        "%s", setting->element, setting->property);
    return FALSE;
  }
  g_object_set (element, setting->property, setting->value, NULL);
  return TRUE;
}

/* libav decodes into GStreamer's buffers ("direct rendering") and keeps a
 * reference to each reference frame, so GstVideoDecoder copies nearly every
 * frame it pushes (a shared buffer is not writable) on top of the pool the
 * decoder filled at start: 42 MB more peak RSS on the 1080p ladder than
 * decoding into libav's own frames and copying once into the pool, for the
 * same CPU (docs/performance.md). Not expressible in a gst-launch line. */
static void
on_deep_element_added (GstBin * bin, GstBin * sub_bin, GstElement * element,
    gpointer user_data)
{
  GstElementFactory *factory = gst_element_get_factory (element);

  if (factory && g_str_has_prefix (GST_OBJECT_NAME (factory), "avdec_")
      && g_object_class_find_property (G_OBJECT_GET_CLASS (element),
          "direct-rendering"))
    g_object_set (element, "direct-rendering", FALSE, NULL);
}

GstElement *
rcx_plan_build (const RcxPlan * plan, GError ** error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) source = NULL;
  g_autoptr (GstElement) first = NULL;

  /* The source is made here, its location set before it is linked: the
   * decoder's scheduling query at link time starts it. */
  source = gst_element_factory_make (plan->source_factory, RCX_ELEMENT_SOURCE);
  if (!source) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "could not build the pipeline: no %s element", plan->source_factory);
    return NULL;
  }
  for (guint i = 0; i < plan->settings->len; i++) {
    const RcxPlanSetting *s = &g_array_index (plan->settings,
        RcxPlanSetting, i);

    if (g_str_equal (s->element, RCX_ELEMENT_SOURCE)
        && !apply_setting (source, s, error))
      return NULL;
  }

  pipeline = gst_parse_launchv_full ((const gchar **) plan->argv->pdata +
      plan->source_tokens, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &local);
  if (!pipeline) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
        "could not build the pipeline: %s", local->message);
    return NULL;
  }
  g_signal_connect (pipeline, "deep-element-added",
      G_CALLBACK (on_deep_element_added), NULL);
  first = gst_bin_get_by_name (GST_BIN (pipeline), plan->explicit_decoder ?
      RCX_ELEMENT_DEMUXER : RCX_ELEMENT_DECODER);
  gst_bin_add (GST_BIN (pipeline), gst_object_ref (source));
  if (!first || !gst_element_link (source, first)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
        "could not build the pipeline: the source does not link");
    return NULL;
  }
  for (guint i = 0; i < plan->settings->len; i++) {
    const RcxPlanSetting *s = &g_array_index (plan->settings,
        RcxPlanSetting, i);
    g_autoptr (GstElement) element = NULL;

    if (g_str_equal (s->element, RCX_ELEMENT_SOURCE))
      continue;
    element = gst_bin_get_by_name (GST_BIN (pipeline), s->element);
    if (!element) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
          "could not build the pipeline: no element named %s", s->element);
      return NULL;
    }
    if (!apply_setting (element, s, error))
      return NULL;
  }
  return g_steal_pointer (&pipeline);
}
