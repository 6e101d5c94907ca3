/* rcx-transcode.c: running one transcode job: the attempt loop (fallback
 * from one encoder entry to the next), the bus, the watchdog and the probe
 * of the source. Beside it: rcx-transcode-probes.c (pad probes on the
 * running pipeline), rcx-transcode-state.c (state changes with a time
 * limit: a stuck one fails the attempt and the pipeline is abandoned),
 * rcx-transcode-uri.c (the source and destination as the elements' URIs),
 * rcx-publish.c (what is stored besides the renditions: the live and final
 * master playlist, the thumbnail, unpublishing after a failure) and
 * rcx-summary.c (the JSON summaries); rcx-transcode-private.h holds the
 * attempt they all work on.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-transcode.h"
#include "rcx-transcode-private.h"

#include <gst/video/video.h>
#include <string.h>
#include <unistd.h>

#include "rcx-builder.h"
#include "rcx-concealment.h"
#include "rcx-hls.h"
#include "rcx-job-progress.h"
#include "rcx-probe.h"
#include "rcx-progress.h"
#include "rcx-schema.h"
#include "rcx-store.h"
#include "rcx-transcode-state.h"

G_DEFINE_QUARK (rcx-transcode-error-quark, rcx_transcode_error);

/* ---- failures ---------------------------------------------------------- */

void
rcx_attempt_fail (Attempt * a, GError * error)
{
  if (!a->error)
    a->error = error;
  else
    g_error_free (error);
  g_main_loop_quit (a->loop);
}

static gboolean
element_is_device (const RcxEncoderDesc * enc, GstObject * src)
{
  GstElementFactory *f;
  const gchar *name;

  if (!enc->hardware || !GST_IS_ELEMENT (src))
    return FALSE;
  f = gst_element_get_factory (GST_ELEMENT (src));
  if (!f)
    return FALSE;
  name = GST_OBJECT_NAME (f);
  return g_strcmp0 (name, enc->element) == 0
      || g_strcmp0 (name, enc->decoder) == 0
      || g_strcmp0 (name, enc->upload) == 0
      || g_strcmp0 (name, enc->scaler) == 0 || g_str_has_prefix (name, "cuda")
      || g_str_has_prefix (name, "nv");
}

static void
on_error_message (Attempt * a, GstMessage * msg)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;
  g_autofree gchar *path = gst_object_get_path_string (msg->src);
  gboolean about_input;
  gchar *nl, *reason;

  gst_message_parse_error (msg, &err, &debug);
  g_info ("error from %s: %s (%s)", path, err->message, debug ? debug : "");

  if (a->plan->encoder->hardware
      && (element_is_device (a->plan->encoder, msg->src)
          || g_error_matches (err, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION)
          || (debug && strstr (debug, "not-negotiated"))))
    a->device_failure = TRUE;

  /* One line: the first line of the message, about the input (demuxing,
   * decoding, a truncated file: named by the source) or about an element
   * (named by the element, with the flow reason of "Internal data stream
   * error"). */
  if ((nl = strchr (err->message, '\n')))
    *nl = '\0';
  about_input = err->domain == GST_STREAM_ERROR
      && err->code != GST_STREAM_ERROR_FAILED
      && err->code != GST_STREAM_ERROR_ENCODE
      && err->code != GST_STREAM_ERROR_NOT_IMPLEMENTED;
  if (debug && (reason = strstr (debug, "reason ")))
    reason = g_strndup (reason, strcspn (reason, "\n"));
  else
    reason = NULL;
  rcx_attempt_fail (a, g_error_new (RCX_TRANSCODE_ERROR, about_input ?
          RCX_TRANSCODE_ERROR_INPUT : RCX_TRANSCODE_ERROR_FAILED,
          "%s: %s%s%s%s", about_input ? a->options->source :
          GST_OBJECT_NAME (msg->src), err->message, reason ? " (" : "",
          reason ? reason : "", reason ? ")" : ""));
  g_free (reason);
}

/* ---- bus --------------------------------------------------------------- */

static gint
rung_index (Attempt * a, GstObject * src)
{
  for (guint i = 0; i < a->plan->n_rungs; i++) {
    if (g_strcmp0 (GST_OBJECT_NAME (src), a->plan->rungs[i].sink_name) == 0)
      return i;
  }
  return -1;
}

static void
on_element_message (Attempt * a, GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  gint i;

  if (gst_structure_has_name (s, RCX_MSG_PROGRESS)) {
    gdouble percent = -1, speed = 0;
    guint64 position = GST_CLOCK_TIME_NONE, eta = G_MAXUINT64;

    a->have_jobstatus = TRUE;
    gst_structure_get_double (s, RCX_FIELD_PERCENT, &percent);
    gst_structure_get_double (s, RCX_FIELD_SPEED, &speed);
    gst_structure_get_uint64 (s, RCX_FIELD_POSITION, &position);
    gst_structure_get_uint64 (s, RCX_FIELD_ETA, &eta);
    rcx_progress_update (a->progress, percent, position, speed,
        eta == G_MAXUINT64 ? GST_CLOCK_TIME_NONE : eta);
    if (a->options->progress_func)
      a->options->progress_func (percent, a->options->progress_data);
    return;
  }

  i = rung_index (a, msg->src);
  if (i < 0)
    return;
  if (gst_structure_has_name (s, RCX_MSG_HLS_SEGMENT)) {
    guint64 size = 0;

    gst_structure_get_uint64 (s, RCX_FIELD_SIZE, &size);
    a->rungs[i].size += size;
    a->rungs[i].segments++;
    g_free (a->rungs[i].codecs);
    a->rungs[i].codecs = g_strdup (gst_structure_get_string (s,
            RCX_FIELD_CODECS));
    g_atomic_int_inc (&a->activity);
    rcx_publish_early_master (a);
  } else if (gst_structure_has_name (s, RCX_MSG_HLS_RUNG)) {
    g_clear_pointer (&a->rungs[i].report, gst_structure_free);
    a->rungs[i].report = gst_structure_copy (s);
  }
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Attempt *a = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      on_error_message (a, msg);
      break;
    case GST_MESSAGE_WARNING:{
      g_autoptr (GError) err = NULL;
      g_autofree gchar *debug = NULL;

      gst_message_parse_warning (msg, &err, &debug);
      g_warning ("%s: %s", GST_OBJECT_NAME (msg->src), err->message);
      rcx_concealment_add_warning (a->concealment, msg);
      break;
    }
    case GST_MESSAGE_ELEMENT:
      on_element_message (a, msg);
      break;
    case GST_MESSAGE_EOS:
      a->done = TRUE;
      g_main_loop_quit (a->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- timers ------------------------------------------------------------ */

/* A rung's sink storing a segment or playlist: the pipeline waits for
 * storage, which the sink's retry-timeout bounds, not for a hung element. */
static gboolean
any_sink_storing (Attempt * a)
{
  gboolean storing = FALSE;

  for (guint i = 0; i < a->plan->n_rungs && !storing; i++) {
    g_autofree gchar *name = g_strdup_printf (RCX_ELEMENT_HLS_SINK_FORMAT, i);
    g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (a->pipeline),
        name);

    if (sink && g_object_class_find_property (G_OBJECT_GET_CLASS (sink),
            "storing"))
      g_object_get (sink, "storing", &storing, NULL);
  }
  return storing;
}

static gboolean
on_tick (gpointer user_data)
{
  Attempt *a = user_data;
  gint64 now = g_get_monotonic_time ();
  gint activity = g_atomic_int_get (&a->activity);

  if (activity != a->seen_activity) {
    a->seen_activity = activity;
    a->last_activity_us = now;
  } else if (any_sink_storing (a)) {
    a->last_activity_us = now;
  } else if (now - a->last_activity_us >=
      (gint64) a->options->watchdog * G_USEC_PER_SEC) {
    gboolean all_reported = TRUE;

    for (guint i = 0; i < a->plan->n_rungs; i++)
      all_reported &= a->rungs[i].report != NULL;
    if (all_reported) {
      /* Every rung stored its final playlists and reported (that happens
       * at EOS): only the pipeline's EOS message is missing, as GStreamer
       * 1.22 sometimes loses it. The outputs are complete. */
      g_warning ("every rung finished but the pipeline posted no EOS for "
          "%u s: going on", a->options->watchdog);
      a->done = TRUE;
      g_main_loop_quit (a->loop);
      return G_SOURCE_CONTINUE;
    }
    if (a->plan->encoder->hardware)
      a->device_failure = TRUE;
    rcx_attempt_fail (a, g_error_new (RCX_TRANSCODE_ERROR,
            RCX_TRANSCODE_ERROR_WATCHDOG,
            "no progress for %u s (watchdog)", a->options->watchdog));
    return G_SOURCE_CONTINUE;
  }

  /* Without jobstatus: progress from how far the video got at the tee,
   * computed as jobstatus computes it. */
  if (!a->have_jobstatus) {
    GstClockTime reached;
    RcxProgressEstimate e;

    g_mutex_lock (&a->lock);
    reached = a->reached;
    g_mutex_unlock (&a->lock);
    rcx_progress_estimate (reached, a->duration, 0,
        (GstClockTime) (now - a->start_us) * GST_USECOND, FALSE, &e);
    rcx_progress_update (a->progress, e.percent, reached, e.speed, e.eta);
    if (a->options->progress_func)
      a->options->progress_func (e.percent, a->options->progress_data);
  }
  return G_SOURCE_CONTINUE;
}

static void
on_cancelled (GCancellable * cancellable, gpointer user_data)
{
  Attempt *a = user_data;

  rcx_attempt_fail (a, g_error_new_literal (RCX_TRANSCODE_ERROR,
          RCX_TRANSCODE_ERROR_INTERRUPTED, "interrupted"));
}

/* ---- one attempt ------------------------------------------------------- */

static void
attempt_clear (Attempt * a)
{
  /* a stuck pipeline is left to its blocked thread, never freed */
  if (a->pipeline && !a->stuck) {
    gst_element_set_state (a->pipeline, GST_STATE_NULL);
    gst_object_unref (a->pipeline);
  }
  for (guint i = 0; a->rungs && i < a->plan->n_rungs; i++) {
    g_clear_pointer (&a->rungs[i].report, gst_structure_free);
    g_clear_pointer (&a->rungs[i].codecs, g_free);
  }
  g_free (a->rungs);
  g_clear_pointer (&a->concealment, rcx_concealment_free);
  g_clear_pointer (&a->thumbnail, gst_sample_unref);
  g_clear_pointer (&a->loop, g_main_loop_unref);
  g_clear_error (&a->error);
  g_mutex_clear (&a->lock);
}

static guint
retry_timeout_of (const RcxTranscodeOptions * options)
{
  if (options->retry_timeout < 0)
    return 0;
  return options->retry_timeout > 0 ? (guint) options->retry_timeout :
      RCX_S3_DEFAULT_RETRY_TIMEOUT;
}

/* Every storage element of the pipeline (the sinks) rides out the same
 * outage as the runner's own PUTs. */
static void
set_retry_timeout (GstElement * pipeline, guint seconds)
{
  g_autoptr (GstIterator) it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GValue item = G_VALUE_INIT;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GObject *element = g_value_get_object (&item);

    if (g_object_class_find_property (G_OBJECT_GET_CLASS (element),
            "retry-timeout"))
      g_object_set (element, "retry-timeout", seconds, NULL);
    g_value_reset (&item);
  }
  g_value_unset (&item);
}

static gboolean
attempt_run (Attempt * a, GError ** error)
{
  const RcxTranscodeOptions *options = a->options;
  g_autoptr (GstBus) bus = NULL;
  guint bus_watch, tick;
  gulong cancel_id;
  GstStateChangeReturn ret = GST_STATE_CHANGE_SUCCESS;
  GError *stuck = NULL;

  a->pipeline = rcx_plan_build (a->plan, error);
  if (!a->pipeline)
    return FALSE;
  set_retry_timeout (a->pipeline, retry_timeout_of (options));
  a->concealment = rcx_concealment_new (a->pipeline);

  a->loop = g_main_loop_new (NULL, FALSE);
  a->rungs = g_new0 (RungState, a->plan->n_rungs);
  a->reached = GST_CLOCK_TIME_NONE;

  rcx_attempt_add_pad_probe (a->pipeline, RCX_ELEMENT_VIDEO_TEE, "sink",
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      rcx_attempt_tee_probe, a);
  for (guint i = 0; i < a->plan->n_rungs; i++) {
    g_autofree gchar *name = g_strdup_printf (RCX_ELEMENT_ENCODER_FORMAT, i);
    rcx_attempt_add_pad_probe (a->pipeline, name, "src",
        GST_PAD_PROBE_TYPE_BUFFER, rcx_attempt_activity_probe, a);
  }
  bus = gst_element_get_bus (a->pipeline);
  bus_watch = gst_bus_add_watch (bus, on_bus_message, a);
  tick = g_timeout_add_seconds (1, on_tick, a);
  cancel_id = g_cancellable_connect (options->cancellable,
      G_CALLBACK (on_cancelled), a, NULL);

  a->start_us = a->last_activity_us = g_get_monotonic_time ();
  /* bounded: a stuck change must not take the signals and the watchdog
   * with it */
  if (!rcx_transcode_set_state (a->pipeline, GST_STATE_PLAYING,
          options->watchdog, &ret, &stuck)) {
    a->stuck = TRUE;
    rcx_attempt_fail (a, stuck);
  } else if (ret == GST_STATE_CHANGE_FAILURE && !a->error) {
    /* The reason is on the bus: let it be read first. */
    g_autoptr (GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (msg)
      on_error_message (a, msg);
    else
      rcx_attempt_fail (a, g_error_new_literal (RCX_TRANSCODE_ERROR,
              RCX_TRANSCODE_ERROR_FAILED, "the pipeline could not start"));
  }
  /* the bus was read during the change: EOS may have come already (a
   * quit before the loop runs would be lost) */
  if (!a->error && !a->done)
    g_main_loop_run (a->loop);
  /* A live master on its way up lands (or fails) first: the final master
   * must replace it, and after a failure it must be there to be deleted. */
  while (a->early_master_sending)
    g_main_context_iteration (NULL, TRUE);

  g_cancellable_disconnect (options->cancellable, cancel_id);
  g_source_remove (tick);
  g_source_remove (bus_watch);
  if (!a->stuck && !rcx_transcode_set_state (a->pipeline, GST_STATE_NULL,
          options->watchdog, NULL, &stuck)) {
    /* the outputs cannot be trusted, whatever happened before */
    a->stuck = TRUE;
    g_clear_error (&a->error);
    a->error = stuck;
  }
  rcx_progress_finish (a->progress);
  {
    g_autofree gchar *concealed = rcx_concealment_to_string (a->concealment);

    if (concealed)
      g_warning ("%s", concealed);
  }

  if (a->error) {
    g_propagate_error (error, g_steal_pointer (&a->error));
    return FALSE;
  }
  for (guint i = 0; i < a->plan->n_rungs; i++) {
    if (!a->rungs[i].report) {
      g_set_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_FAILED,
          "rung %s ended without reporting its playlist",
          a->plan->rungs[i].desc->name);
      return FALSE;
    }
  }
  return TRUE;
}

/* ---- the job ----------------------------------------------------------- */

static gint
encoder_by_name (const RcxPipelineDesc * desc, const gchar * name)
{
  for (guint i = 0; i < desc->n_encoders; i++) {
    if (g_strcmp0 (desc->encoders[i].name, name) == 0
        || g_strcmp0 (desc->encoders[i].element, name) == 0)
      return i;
  }
  return -1;
}

/* The probe runs on a thread while this one keeps dispatching the main
 * context, so that SIGINT / SIGTERM interrupt a slow probe (an S3 source
 * behind a stalled connection) at once instead of after the probe
 * timeout. */
static gboolean
probe_interruptible (const RcxTranscodeOptions * options, const gchar * uri,
    RcxSourceInfo * info, GError ** error)
{
  g_autoptr (GError) local = NULL;

  if (rcx_probe_source (uri, options->endpoint_uri, options->probe_timeout,
          options->cancellable, info, &local))
    return TRUE;
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_set_error_literal (error, RCX_TRANSCODE_ERROR,
        RCX_TRANSCODE_ERROR_INTERRUPTED, "interrupted");
  else
    g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* After a hardware failure decodebin3 must not pick the device decoder
 * again. */
static void
demote_decoder (const RcxEncoderDesc * enc)
{
  g_autoptr (GstPluginFeature) f = NULL;

  if (!enc->decoder)
    return;
  f = GST_PLUGIN_FEATURE (gst_element_factory_find (enc->decoder));
  if (f)
    gst_plugin_feature_set_rank (f, GST_RANK_NONE);
}

RcxStore *
rcx_transcode_open_store (const RcxTranscodeOptions * options,
    GError ** error)
{
  g_auto (RcxS3Config) s3 = { 0 };
  g_autoptr (GError) local = NULL;
  g_autofree gchar *location = NULL;
  RcxStore *store;

  if (!(location = rcx_transcode_destination_uri (options->destination, error)))
    return NULL;
  rcx_s3_config_init (&s3);
  s3.endpoint_uri = g_strdup (options->endpoint_uri);
  s3.retry_timeout = retry_timeout_of (options);
  store = rcx_store_new (location, &s3, &local);
  if (!store) {
    gboolean config = g_error_matches (local, G_IO_ERROR,
        G_IO_ERROR_INVALID_FILENAME)
        || g_error_matches (local, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)
        || g_error_matches (local, RCX_S3_ERROR, RCX_S3_ERROR_SETTINGS);
    g_set_error (error, RCX_TRANSCODE_ERROR, config ?
        RCX_TRANSCODE_ERROR_CONFIG : RCX_TRANSCODE_ERROR_FAILED,
        "destination %s: %s", options->destination, local->message);
  }
  return store;
}

/* Replaces *@error with an RCX_TRANSCODE_ERROR @code error carrying its
 * message: a GError is never changed in place (its domain and code are
 * what callers match on, and it may be logged or held elsewhere). */
static void
as_transcode_error (GError ** error, RcxTranscodeErrorCode code)
{
  GError *retyped = g_error_new_literal (RCX_TRANSCODE_ERROR, code,
      (*error)->message);

  g_error_free (*error);
  *error = retyped;
}

JsonNode *
rcx_transcode_run (const RcxTranscodeOptions * options,
    JsonNode ** failure_out, GError ** error)
{
  const RcxPipelineDesc *desc = options->desc;
  g_auto (RcxSourceInfo) source = { 0 };
  g_autoptr (GError) local = NULL;
  g_autofree gchar *uri = NULL;
  g_autofree gchar *fallback_reason = NULL;
  g_autoptr (RcxStore) store = NULL;
  gint64 start_us = g_get_monotonic_time ();
  const gchar *encoder_name = NULL;
  gint index;
  JsonNode *result = NULL;

  /* Which encoder entry first. */
  if (options->encoder) {
    index = encoder_by_name (desc, options->encoder);
    if (index < 0) {
      g_set_error (&local, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_CONFIG,
          "no encoder named \"%s\" in the description", options->encoder);
      goto failed;
    }
    if (!rcx_builder_encoder_available (&desc->encoders[index], NULL)) {
      g_set_error (&local, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_CONFIG,
          "encoder %s is not available here", options->encoder);
      goto failed;
    }
  } else if ((index = rcx_builder_find_encoder (desc, 0)) < 0) {
    g_set_error (&local, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_CONFIG,
        "none of the description's encoders is available here");
    goto failed;
  }

  /* The source: bad inputs fail here, before anything is written. */
  if (!(uri = rcx_transcode_source_uri (options->source, &local)))
    goto failed;
  g_info ("probing %s", uri);
  if (!probe_interruptible (options, uri, &source, &local)) {
    if (local->domain != RCX_TRANSCODE_ERROR) {
      g_prefix_error (&local, "%s: ", options->source);
      as_transcode_error (&local, RCX_TRANSCODE_ERROR_INPUT);
    }
    goto failed;
  }
  if (!source.has_video) {
    g_set_error (&local, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_INPUT,
        "%s: the source has no video stream", options->source);
    goto failed;
  }
  g_info ("source: %ux%u, %d/%d fps, %.3f s, %s%s%s%s", source.width,
      source.height, source.fps_n, source.fps_d,
      GST_CLOCK_TIME_IS_VALID (source.duration) ?
      (gdouble) source.duration / GST_SECOND : -1.0,
      source.video_codec ? source.video_codec : "?",
      source.has_audio ? ", audio" : ", no audio",
      source.interlaced ? ", interlaced" : "",
      source.orientation ? ", rotated" : "");

  if (!(store = rcx_transcode_open_store (options, &local)))
    goto failed;

  while (TRUE) {
    RcxPlanOptions popts = {
      .source = g_str_has_prefix (options->source, "s3://") ? uri :
          options->source,
      .destination = rcx_store_get_location (store),
      .endpoint_uri = options->endpoint_uri,
    };
    g_autoptr (RcxPlan) plan = NULL;
    Attempt a = { 0 };
    gboolean ok;
    g_autofree gchar *line = NULL;

    encoder_name = desc->encoders[index].name;
    plan = rcx_plan_new (desc, index, &source, &popts, &local);
    if (!plan) {
      as_transcode_error (&local, g_error_matches (local, GST_CORE_ERROR,
              GST_CORE_ERROR_MISSING_PLUGIN) ? RCX_TRANSCODE_ERROR_CONFIG :
          RCX_TRANSCODE_ERROR_INPUT);
      goto failed;
    }
    line = rcx_plan_to_command_line (plan);
    g_info ("encoder %s, %u rungs, %d/%d fps; pipeline: %s", encoder_name,
        plan->n_rungs, plan->fps_n, plan->fps_d, line);

    a.options = options;
    a.plan = plan;
    a.store = store;
    a.duration = source.duration;
    a.progress = rcx_progress_new (options->progress,
        options->progress_interval);
    g_mutex_init (&a.lock);

    ok = attempt_run (&a, &local);
    if (ok) {
      g_autofree gchar *master = NULL;
      g_autoptr (GBytes) bytes = NULL;
      gboolean thumb_ok;

      /* Thumbnail, then the master playlist last. */
      ok = rcx_publish_thumbnail (&a, store, &thumb_ok, &local);
      if (ok && !g_cancellable_is_cancelled (options->cancellable)) {
        master = rcx_publish_master_playlist (&a);
        bytes = g_bytes_new_take (master, strlen (master));
        master = NULL;
        ok = rcx_store_put (store, desc->output.master, bytes,
            "application/vnd.apple.mpegurl", "max-age=300",
            options->cancellable, &local);
      } else if (ok) {
        g_set_error_literal (&local, RCX_TRANSCODE_ERROR,
            RCX_TRANSCODE_ERROR_INTERRUPTED, "interrupted");
        ok = FALSE;
      }
      if (ok)
        result =
            rcx_transcode_summary (&a, store, fallback_reason, thumb_ok,
            start_us);
      else if (local->domain != RCX_TRANSCODE_ERROR)
        g_prefix_error (&local, "storing the outputs: ");
    }
    rcx_progress_free (a.progress);
    if (!ok)
      rcx_publish_unpublish (&a, &local);

    if (!ok && a.device_failure && !a.stuck && !g_error_matches (local,
            RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_INTERRUPTED)
        && !options->encoder) {
      gint next = rcx_builder_find_encoder (desc, index + 1);

      if (next >= 0) {
        g_warning ("encoder %s failed (%s); retrying with %s",
            encoder_name, local->message, desc->encoders[next].name);
        g_free (fallback_reason);
        fallback_reason = g_strdup_printf ("%s failed: %s", encoder_name,
            local->message);
        demote_decoder (&desc->encoders[index]);
        g_clear_error (&local);
        attempt_clear (&a);
        index = next;
        continue;
      }
    }
    attempt_clear (&a);
    if (!ok)
      goto failed;
    return result;
  }

failed:
  if (failure_out)
    *failure_out =
        rcx_transcode_failure_summary (options, local, encoder_name, start_us);
  g_propagate_error (error, g_steal_pointer (&local));
  return NULL;
}
