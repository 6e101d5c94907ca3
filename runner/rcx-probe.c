/* rcx-probe.c: probing a source with GstDiscoverer, as a GTask.
 *
 * The discoverer runs synchronously on the task's thread (it has its own
 * main context there), bounded by its own timeout. The task returns on
 * cancel: the caller gets G_IO_ERROR_CANCELLED at once, and an abandoned
 * probe ends by itself within the timeout, its result dropped.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-probe.h"

#include <gio/gio.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <string.h>

void
rcx_source_info_clear (RcxSourceInfo * info)
{
  g_clear_pointer (&info->uri, g_free);
  g_clear_pointer (&info->orientation, g_free);
  g_clear_pointer (&info->video_caps, g_free);
  g_clear_pointer (&info->video_codec, g_free);
  g_clear_pointer (&info->audio_caps, g_free);
  memset (info, 0, sizeof *info);
}

gboolean
rcx_source_info_is_rotated (const RcxSourceInfo * info)
{
  const gchar *o = info->orientation;

  return o && (g_str_has_suffix (o, "-90") || g_str_has_suffix (o, "-270"));
}

void
rcx_source_info_display_size (const RcxSourceInfo * info, guint * width,
    guint * height)
{
  guint w = info->width, h = info->height;

  if (info->par_n > 0 && info->par_d > 0 && info->par_n != info->par_d)
    w = (guint) gst_util_uint64_scale_int_round (w, info->par_n, info->par_d);
  if (rcx_source_info_is_rotated (info)) {
    guint t = w;
    w = h;
    h = t;
  }
  *width = w;
  *height = h;
}

static gchar *
caps_media_type (GstCaps * caps)
{
  if (!caps || gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return NULL;
  return g_strdup (gst_structure_get_name (gst_caps_get_structure (caps, 0)));
}

static void
read_video (RcxSourceInfo * info, GstDiscovererVideoInfo * video)
{
  GstDiscovererStreamInfo *stream = GST_DISCOVERER_STREAM_INFO (video);
  g_autoptr (GstCaps) caps = gst_discoverer_stream_info_get_caps (stream);
  const GstTagList *tags = gst_discoverer_stream_info_get_tags (stream);
  gchar *orientation = NULL;

  info->has_video = TRUE;
  info->width = gst_discoverer_video_info_get_width (video);
  info->height = gst_discoverer_video_info_get_height (video);
  info->par_n = gst_discoverer_video_info_get_par_num (video);
  info->par_d = gst_discoverer_video_info_get_par_denom (video);
  if (info->par_n <= 0 || info->par_d <= 0)
    info->par_n = info->par_d = 1;
  info->fps_n = gst_discoverer_video_info_get_framerate_num (video);
  info->fps_d = gst_discoverer_video_info_get_framerate_denom (video);
  if (info->fps_n <= 0 || info->fps_d <= 0) {
    info->fps_n = 0;
    info->fps_d = 1;
  }
  info->interlaced = gst_discoverer_video_info_is_interlaced (video);
  info->video_caps = caps_media_type (caps);
  if (caps)
    info->video_codec = gst_pb_utils_get_codec_description (caps);
  if (tags && gst_tag_list_get_string (tags, GST_TAG_IMAGE_ORIENTATION,
          &orientation)) {
    if (strcmp (orientation, "rotate-0") == 0)
      g_free (orientation);
    else
      info->orientation = orientation;
  }
}

static void
read_audio (RcxSourceInfo * info, GstDiscovererAudioInfo * audio)
{
  GstDiscovererStreamInfo *stream = GST_DISCOVERER_STREAM_INFO (audio);
  g_autoptr (GstCaps) caps = gst_discoverer_stream_info_get_caps (stream);

  info->has_audio = TRUE;
  info->audio_rate = gst_discoverer_audio_info_get_sample_rate (audio);
  info->audio_channels = gst_discoverer_audio_info_get_channels (audio);
  info->audio_caps = caps_media_type (caps);
}

/* The first sentence of a GStreamer error, without the debug part. */
static void
set_discoverer_error (GError ** error, GstDiscovererResult result,
    GstDiscovererInfo * dinfo, const GError * err, const gchar * uri)
{
  switch (result) {
    case GST_DISCOVERER_URI_INVALID:
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
          "not a readable source: %s", uri);
      return;
    case GST_DISCOVERER_TIMEOUT:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
          "timed out probing the source");
      return;
    case GST_DISCOVERER_MISSING_PLUGINS:{
      const gchar **details =
          gst_discoverer_info_get_missing_elements_installer_details (dinfo);
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
          "no decoder for the source (%s)", details && details[0] ?
          details[0] : "missing plugin");
      return;
    }
    default:
      break;
  }
  if (err)
    g_set_error (error, err->domain, err->code, "%s", err->message);
  else
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
        "the source could not be probed");
}

/* The discoverer makes its source from the URI with no properties: the
 * runner's settings for it are set here, before it leaves NULL. */
static void
on_source_setup (GstDiscoverer * discoverer, GstElement * source,
    const gchar * endpoint_uri)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS
      (source), "endpoint-uri");

  if (pspec && G_PARAM_SPEC_VALUE_TYPE (pspec) == G_TYPE_STRING)
    g_object_set (source, "endpoint-uri", endpoint_uri, NULL);
}

/* The probe itself, blocking (GstDiscoverer's synchronous mode, which
 * runs its own main context): on the task's thread. */
static gboolean
probe_blocking (const gchar * uri, const gchar * endpoint_uri,
    guint timeout_s, RcxSourceInfo * info, GError ** error)
{
  g_autoptr (GstDiscoverer) discoverer = NULL;
  g_autoptr (GstDiscovererInfo) dinfo = NULL;
  g_autoptr (GError) local = NULL;
  GstDiscovererResult result;
  GList *streams;

  memset (info, 0, sizeof *info);
  info->uri = g_strdup (uri);
  info->duration = GST_CLOCK_TIME_NONE;

  discoverer = gst_discoverer_new (timeout_s * GST_SECOND, &local);
  if (!discoverer) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  if (endpoint_uri)
    g_signal_connect (discoverer, "source-setup", G_CALLBACK (on_source_setup),
        (gpointer) endpoint_uri);

  dinfo = gst_discoverer_discover_uri (discoverer, uri, &local);
  result = dinfo ? gst_discoverer_info_get_result (dinfo) :
      GST_DISCOVERER_ERROR;
  if (result != GST_DISCOVERER_OK) {
    set_discoverer_error (error, result, dinfo, local, uri);
    return FALSE;
  }

  info->duration = gst_discoverer_info_get_duration (dinfo);
  if (info->duration == 0)
    info->duration = GST_CLOCK_TIME_NONE;

  streams = gst_discoverer_info_get_video_streams (dinfo);
  for (GList * l = streams; l; l = l->next) {
    GstDiscovererVideoInfo *video = l->data;
    if (!gst_discoverer_video_info_is_image (video)) {
      read_video (info, video);
      break;
    }
  }
  gst_discoverer_stream_info_list_free (streams);

  streams = gst_discoverer_info_get_audio_streams (dinfo);
  if (streams)
    read_audio (info, streams->data);
  gst_discoverer_stream_info_list_free (streams);

  return TRUE;
}

/* ---- the probe as a GTask ---------------------------------------------- */

typedef struct
{
  gchar *uri;
  gchar *endpoint_uri;
  guint timeout_s;
} ProbeRequest;

static void
probe_request_free (ProbeRequest * req)
{
  g_free (req->uri);
  g_free (req->endpoint_uri);
  g_free (req);
}

static void
source_info_free (RcxSourceInfo * info)
{
  rcx_source_info_clear (info);
  g_free (info);
}

static void
probe_thread (GTask * task, gpointer source_object, gpointer task_data,
    GCancellable * cancellable)
{
  ProbeRequest *req = task_data;
  RcxSourceInfo *info = g_new0 (RcxSourceInfo, 1);
  GError *error = NULL;
  gboolean ok;

  ok = probe_blocking (req->uri, req->endpoint_uri, req->timeout_s, info,
      &error);
  /* FALSE: cancelled, the task has already returned G_IO_ERROR_CANCELLED
   * and nobody waits for this result */
  if (!g_task_set_return_on_cancel (task, FALSE)) {
    g_clear_error (&error);
    source_info_free (info);
    return;
  }
  if (ok) {
    g_task_return_pointer (task, info, (GDestroyNotify) source_info_free);
  } else {
    source_info_free (info);
    g_task_return_error (task, error);
  }
}

void
rcx_probe_source_async (const gchar * uri, const gchar * endpoint_uri,
    guint timeout_s, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  ProbeRequest *req = g_new0 (ProbeRequest, 1);

  g_task_set_source_tag (task, rcx_probe_source_async);
  g_task_set_name (task, "rcx-probe");
  req->uri = g_strdup (uri);
  req->endpoint_uri = g_strdup (endpoint_uri);
  req->timeout_s = timeout_s;
  g_task_set_task_data (task, req, (GDestroyNotify) probe_request_free);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, probe_thread);
}

gboolean
rcx_probe_source_finish (GAsyncResult * result, RcxSourceInfo * info,
    GError ** error)
{
  RcxSourceInfo *found;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result,
          rcx_probe_source_async), FALSE);

  memset (info, 0, sizeof *info);
  info->duration = GST_CLOCK_TIME_NONE;
  found = g_task_propagate_pointer (G_TASK (result), error);
  if (!found)
    return FALSE;
  *info = *found;
  g_free (found);
  return TRUE;
}

static void
on_probed (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

gboolean
rcx_probe_source (const gchar * uri, const gchar * endpoint_uri,
    guint timeout_s, GCancellable * cancellable, RcxSourceInfo * info,
    GError ** error)
{
  g_autoptr (GMainContext) context = g_main_context_ref_thread_default ();
  g_autoptr (GAsyncResult) result = NULL;
  gboolean pushed = FALSE;

  /* The caller's context when this thread may run it (its other sources,
   * SIGINT / SIGTERM handlers, keep being dispatched while the probe
   * runs), else one of our own. */
  if (!g_main_context_acquire (context)) {
    g_main_context_unref (context);
    context = g_main_context_new ();
    g_main_context_push_thread_default (context);
    g_main_context_acquire (context);
    pushed = TRUE;
  }
  rcx_probe_source_async (uri, endpoint_uri, timeout_s, cancellable,
      on_probed, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_release (context);
  if (pushed)
    g_main_context_pop_thread_default (context);
  return rcx_probe_source_finish (result, info, error);
}
