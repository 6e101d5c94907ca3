/* rcx-publish.c: what a transcode stores besides the renditions: the master
 * playlist (early, while transcoding, once every rung reported; and final),
 * the thumbnail, and unpublishing what was stored after a failure (or by
 * an earlier attempt of a job whose attempts ran out).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-transcode-private.h"

#include <gst/video/video.h>
#include <string.h>

#include "rcx-hls.h"
#include "rcx-schema.h"

typedef struct
{
  RcxStore *store;
  gchar *name;
  GBytes *bytes;
} MasterPut;

static void
master_put_free (MasterPut * put)
{
  rcx_store_unref (put->store);
  g_free (put->name);
  g_bytes_unref (put->bytes);
  g_free (put);
}

static void
master_put_in_thread (GTask * task, gpointer source, gpointer data,
    GCancellable * cancellable)
{
  MasterPut *put = data;
  GError *error = NULL;

  if (rcx_store_put (put->store, put->name, put->bytes,
          "application/vnd.apple.mpegurl", "max-age=1", cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
early_master_stored (GObject * source, GAsyncResult * result,
    gpointer user_data)
{
  Attempt *a = user_data;
  g_autoptr (GError) error = NULL;

  a->early_master_sending = FALSE;
  if (!g_task_propagate_boolean (G_TASK (result), &error)) {
    rcx_attempt_fail (a, g_error_new (RCX_TRANSCODE_ERROR,
            RCX_TRANSCODE_ERROR_FAILED, "storing the live master playlist: %s",
            error->message));
    return;
  }
  g_info ("live: %s published (every rung has its first segment)",
      a->plan->desc->output.master);
}

/* With output.publish-live, once the first segment of EVERY rung is stored
 * (so every media playlist exists as EVENT), the master playlist goes up with
 * the description's rates: BANDWIDTH = peak video + audio, AVERAGE-BANDWIDTH
 * = average video + audio, CODECS from the first segments, no I-frame
 * entries (those playlists exist only at the end). Players can start from
 * it at once; at EOS the master is rewritten last with measured values. It
 * never claims completion: the media playlists it lists are EVENT without
 * ENDLIST until the job succeeds. The PUT runs on a worker thread: a slow
 * or retried request must not hold up the main loop, which also handles
 * Ctrl-C, SIGTERM and the watchdog. */
void
rcx_publish_early_master (Attempt * a)
{
  const RcxPipelineDesc *desc = a->plan->desc;
  guint n = a->plan->n_rungs;
  g_autofree RcxHlsVariant *variants = g_new0 (RcxHlsVariant, n);
  g_autoptr (GPtrArray) uris = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GTask) task = NULL;
  MasterPut *put;
  gchar *master;

  if (!desc->output.publish_live || a->early_master || a->error)
    return;
  for (guint i = 0; i < n; i++) {
    if (a->rungs[i].segments == 0)
      return;
  }
  for (guint i = 0; i < n; i++) {
    const RcxPlanRung *r = &a->plan->rungs[i];
    guint audio = a->rungs[i].codecs && strstr (a->rungs[i].codecs, "mp4a") ?
        desc->audio.bitrate : 0;
    gchar *uri = g_strdup_printf ("%s/%s", r->folder, desc->output.playlist);

    g_ptr_array_add (uris, uri);
    variants[i].uri = uri;
    variants[i].bandwidth = (r->desc->peak_bitrate + audio) * 1000;
    variants[i].average_bandwidth = (r->desc->bitrate + audio) * 1000;
    variants[i].codecs = a->rungs[i].codecs;
    variants[i].width = r->width;
    variants[i].height = r->height;
    variants[i].frame_rate = (gdouble) a->plan->fps_n / a->plan->fps_d;
  }
  master = rcx_hls_master_playlist (variants, n);
  put = g_new0 (MasterPut, 1);
  put->store = rcx_store_ref (a->store);
  put->name = g_strdup (desc->output.master);
  put->bytes = g_bytes_new_take (master, strlen (master));
  task = g_task_new (NULL, a->options->cancellable, early_master_stored, a);
  g_task_set_task_data (task, put, (GDestroyNotify) master_put_free);
  /* From now on a failure deletes it: even a cancelled PUT may have landed. */
  a->early_master = TRUE;
  a->early_master_sending = TRUE;
  g_task_run_in_thread (task, master_put_in_thread);
}

/* A delete that failed because the storage could not be reached (no
 * connection, timeouts, 5xx after the retries), not because it refused. */
static gboolean
storage_unreachable (const GError * error)
{
  if (error == NULL || error->domain != RCX_S3_ERROR)
    return FALSE;
  if (error->code == RCX_S3_ERROR_CONNECT)
    return TRUE;
  return error->code == RCX_S3_ERROR_FAILED
      && (rcx_s3_error_get_http_status (error) == 0
      || rcx_s3_error_get_http_status (error) >= 500);
}

/* After a failed attempt (the pipeline is stopped, nothing writes any
 * more): the early master and the rungs' playlists are deleted, so a
 * failed job leaves no playlist at all. A player that had started stops at
 * its next playlist reload (404) instead of waiting forever for a stream
 * that will never end; the segments stay (a retry overwrites them).
 *
 * When the storage cannot be reached to delete them, the stream stays
 * half-published: the attempt's @failure is then replaced by an
 * RCX_S3_ERROR_CONNECT naming both, which job mode treats as transient
 * (the job is released, exit 3, not failed), so a later attempt runs
 * again and takes the playlists down or replaces them. An interruption
 * (SIGTERM: the job is released already) keeps its own error. */
void
rcx_publish_unpublish (Attempt * a, GError ** failure)
{
  const RcxPipelineDesc *desc = a->plan->desc;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) unreachable = NULL;
  const gchar *left = NULL;

  if (!a->store || g_cancellable_is_cancelled (a->options->abandon))
    return;
  if (a->early_master)
    g_ptr_array_add (names, g_strdup (desc->output.master));
  for (guint i = 0; i < a->plan->n_rungs; i++) {
    /* a rung that reached EOS before another failed wrote VOD playlists */
    g_ptr_array_add (names, g_strdup_printf ("%s/%s", a->plan->rungs[i].folder,
            desc->output.playlist));
    g_ptr_array_add (names, g_strdup_printf ("%s/%s", a->plan->rungs[i].folder,
            desc->output.iframe_playlist));
  }
  for (guint i = 0; i < names->len; i++) {
    g_autoptr (GError) error = NULL;

    /* not the job's cancellable: this also runs after SIGTERM, until the
     * cleanup deadline */
    if (!rcx_store_delete (a->store, names->pdata[i],
            a->options->cleanup_cancellable, &error)) {
      g_warning ("could not delete %s after the failure: %s",
          (const gchar *) names->pdata[i], error->message);
      if (unreachable == NULL && storage_unreachable (error)) {
        left = names->pdata[i];
        unreachable = g_steal_pointer (&error);
      }
    }
  }
  a->early_master = FALSE;
  if (unreachable != NULL && failure != NULL && *failure != NULL
      && !g_error_matches (*failure, RCX_TRANSCODE_ERROR,
          RCX_TRANSCODE_ERROR_INTERRUPTED)) {
    GError *released = g_error_new (RCX_S3_ERROR, RCX_S3_ERROR_CONNECT,
        "%s; and the storage could not be reached to take the playlists "
        "down (%s: %s): a later attempt must run to clean up",
        (*failure)->message, left, unreachable->message);

    g_clear_error (failure);
    *failure = released;
  }
}

/* see rcx-transcode.h: a superset of rcx_publish_unpublish's names, as no
 * plan was made (the source is not probed for a failed job) */
void
rcx_transcode_unpublish (const RcxTranscodeOptions * options,
    GCancellable * cancellable)
{
  const RcxPipelineDesc *desc = options->desc;
  g_autoptr (RcxStore) store = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  if (!g_str_has_prefix (options->destination, "s3://")
      && !g_file_test (options->destination, G_FILE_TEST_IS_DIR))
    return;
  if (!(store = rcx_transcode_open_store (options, &error))) {
    g_warning ("could not take down what an earlier attempt published at "
        "%s: %s", options->destination, error->message);
    return;
  }
  g_ptr_array_add (names, g_strdup (desc->output.master));
  for (guint i = 0; i < desc->n_rungs; i++) {
    g_autofree gchar *folder = rcx_pipeline_desc_rung_folder (desc,
        &desc->ladder[i]);

    g_ptr_array_add (names, g_strdup_printf ("%s/%s", folder,
            desc->output.playlist));
    g_ptr_array_add (names, g_strdup_printf ("%s/%s", folder,
            desc->output.iframe_playlist));
  }
  for (guint i = 0; i < names->len; i++) {
    g_clear_error (&error);
    if (!rcx_store_delete (store, names->pdata[i], cancellable, &error))
      g_warning ("could not delete %s (published by an earlier attempt): %s",
          (const gchar *) names->pdata[i], error->message);
  }
}

gchar *
rcx_publish_master_playlist (Attempt * a)
{
  guint n = a->plan->n_rungs;
  g_autofree RcxHlsVariant *variants = g_new0 (RcxHlsVariant, n);
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < n; i++) {
    const GstStructure *s = a->rungs[i].report;
    const gchar *folder = a->plan->rungs[i].folder;
    gchar *uri =
        g_strdup_printf ("%s/%s", folder, get_string (s, RCX_FIELD_PLAYLIST));
    gchar *iframe_uri = g_strdup_printf ("%s/%s", folder,
        get_string (s, RCX_FIELD_IFRAME_PLAYLIST));

    g_ptr_array_add (strings, uri);
    g_ptr_array_add (strings, iframe_uri);
    variants[i].uri = uri;
    variants[i].iframe_uri = iframe_uri;
    variants[i].bandwidth = get_uint (s, RCX_FIELD_BANDWIDTH);
    variants[i].average_bandwidth = get_uint (s, RCX_FIELD_AVERAGE_BANDWIDTH);
    variants[i].iframe_bandwidth = get_uint (s, RCX_FIELD_IFRAME_BANDWIDTH);
    variants[i].codecs = get_string (s, RCX_FIELD_CODECS);
    variants[i].video_codec =
        gst_structure_get_string (s, RCX_FIELD_VIDEO_CODEC);
    variants[i].width = get_int (s, RCX_FIELD_WIDTH);
    variants[i].height = get_int (s, RCX_FIELD_HEIGHT);
    variants[i].frame_rate = get_double (s, RCX_FIELD_FRAME_RATE);
  }
  return rcx_hls_master_playlist (variants, n);
}

/* The captured frame as a JPEG of the planned size, stored beside the
 * master playlist. A missing frame (a source shorter than it claimed) is
 * not a failure of the job. */
gboolean
rcx_publish_thumbnail (Attempt * a, RcxStore * store, gboolean * stored,
    GError ** error)
{
  g_autoptr (GstCaps) caps = NULL;
  g_autoptr (GstSample) jpeg = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) bytes = NULL;
  GstBuffer *buf;
  GstMapInfo map;

  *stored = FALSE;
  if (!a->thumbnail) {
    g_warning ("no frame reached the thumbnail position: no thumbnail");
    return TRUE;
  }
  caps = gst_caps_new_simple ("image/jpeg", "width", G_TYPE_INT,
      a->plan->thumb_width, "height", G_TYPE_INT, a->plan->thumb_height,
      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  jpeg = gst_video_convert_sample (a->thumbnail, caps, 10 * GST_SECOND, &local);
  if (!jpeg || !(buf = gst_sample_get_buffer (jpeg))
      || !gst_buffer_map (buf, &map, GST_MAP_READ)) {
    g_set_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_FAILED,
        "could not make the thumbnail: %s", local ? local->message : "?");
    return FALSE;
  }
  bytes = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buf, &map);
  if (!rcx_store_put (store, a->plan->desc->thumbnail.name, bytes,
          "image/jpeg", "max-age=300", a->options->cancellable, error))
    return FALSE;
  *stored = TRUE;
  return TRUE;
}
