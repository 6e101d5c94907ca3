/* GStreamer HLS rendition sink to a local folder or S3/Wasabi
 *
 * One concept in one file on purpose: the element (its documentation, its
 * hlssink2 signal handlers, its upload thread and its EOS finish) all read
 * and write the instance's locked fields (upload queue, playlist accounts,
 * generation), so splitting the upload thread off would mean publishing
 * the instance struct. The segment stream it hands hlssink2 is its own
 * type, in gstwasabihlsfragment.c.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-wasabihlssink
 * @title: wasabihlssink
 * @see_also: hlssink2, wasabisink
 *
 * Writes one HLS rendition (one rung of an ABR ladder) to a local folder or
 * to an S3 prefix (`s3://bucket/prefix/`), with no temporary files: a bin
 * around `hlssink2` (MPEG-TS segments) whose fragment and playlist streams
 * are kept in memory. When a segment ends its bytes go to an upload thread
 * (in order, at most `max-pending-uploads` segments queued, so the
 * streaming thread only waits when storage falls behind), and the media
 * playlist is only rewritten once the segment it lists is stored.
 *
 * The playlists are written here, not by `hlssink2`: a media playlist
 * (`playlist-name`, EXT-X-VERSION 4, EXT-X-INDEPENDENT-SEGMENTS, EXTINF from
 * the segment's video PTS span with 3 decimals) published as
 * `#EXT-X-PLAYLIST-TYPE:EVENT` after each segment while `publish-live` is
 * set, then on EOS as `VOD` with `#EXT-X-ENDLIST`; and on EOS an I-frame
 * playlist (`iframe-playlist-name`, `#EXT-X-I-FRAMES-ONLY`, one
 * `#EXT-X-BYTERANGE` per IDR starting on the IDR's first TS packet). After
 * any error, or when the element stops without EOS, the VOD playlist is
 * never written: a failed run does not look complete.
 *
 * Objects are stored with `Content-Type: video/mp2t` (segments, `Cache-Control:
 * max-age=31536000, immutable`) and `application/vnd.apple.mpegurl`
 * (playlists, `max-age=1` while live, `max-age=300` for the final ones).
 *
 * Use a fixed GOP that divides `target-duration` (e.g. 2 s GOP, 6 s
 * segments) and `h264parse` before the `video` pad.
 *
 * ## Messages
 *
 * After each stored segment, an element message `wasabihlssink-segment`:
 *
 * * `location` (string): where the segment was stored (s3:// URI or path)
 * * `index` (uint): 0 for the first segment
 * * `duration` (double): seconds, as written in the playlist
 * * `size` (guint64): bytes
 * * `running-time` (guint64): running time of the segment's start, or
 *   GST_CLOCK_TIME_NONE when unknown
 * * `codecs` (string): the CODECS so far, e.g. "avc1.64001f,mp4a.40.2"
 *   (from the first segments' SPS and audio; enough for a master playlist
 *   published while the rendition is still being written)
 *
 * On EOS, after every upload and both final playlists are stored and
 * before the EOS message is let through, an element message
 * `wasabihlssink-rung` describing the rendition for the multivariant
 * playlist:
 *
 * * `location` (string): the normalised location (s3://bucket/prefix/ or
 *   an absolute folder)
 * * `playlist`, `iframe-playlist` (string): the playlist names, relative to
 *   `location`
 * * `playlist-uri`, `iframe-playlist-uri` (string): their full locations
 * * `bandwidth` (uint): measured peak bit rate (bits/s, TS bytes, over any
 *   run of segments lasting 0.5-1.5x the target duration)
 * * `average-bandwidth` (uint): total bits / total duration
 * * `iframe-bandwidth` (uint): peak bit rate of the I-frame playlist
 * * `codecs` (string): e.g. "avc1.64001f,mp4a.40.2" (no mp4a without audio)
 * * `video-codec` (string): e.g. "avc1.64001f"
 * * `width`, `height` (int): from the video caps
 * * `frame-rate` (double): from the video caps (else measured)
 * * `duration` (double): seconds, the sum of the EXTINF values
 * * `segments` (uint), `target-duration` (uint)
 * * `independent` (boolean): every segment starts with an IDR
 *
 * Upload failures are posted as errors in the RESOURCE domain (`WRITE`,
 * `NOT_AUTHORIZED`, `NOT_FOUND`, `SETTINGS`) with the details
 * `http-status-code`, `s3-error-code` and `request-id` when known; a segment
 * that is not H.264 in MPEG-TS as STREAM `FORMAT`.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e videotestsrc num-buffers=420 ! \
 *   video/x-raw,width=1280,height=720,framerate=30/1 ! \
 *   x264enc key-int-max=60 ! h264parse ! hls.video \
 *   audiotestsrc num-buffers=660 ! voaacenc ! aacparse ! hls.audio \
 *   wasabihlssink name=hls location=s3://media/match42/720p/
 * ]| Writes segments, index.m3u8 and iframes.m3u8 under the prefix (the
 * endpoint from `AWS_ENDPOINT_URL_S3`).
 * |[
 * gst-launch-1.0 -e videotestsrc num-buffers=300 ! x264enc key-int-max=60 ! \
 *   h264parse ! wasabihlssink location=out/480p target-duration=6
 * ]| Writes a video-only rendition into a local folder.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "gstwasabihlssink.h"
#include "gstwasabihlsfragment.h"
#include "gstwasabicommon.h"
#include "gstrugbycodexelements.h"
#include "rcx-ids.h"
#include "rcx-schema.h"
#include "rcx-hls.h"
#include "rcx-store.h"
#include "rcx-ts.h"

GST_DEBUG_CATEGORY_STATIC (gst_wasabi_hls_sink_debug);
#define GST_CAT_DEFAULT gst_wasabi_hls_sink_debug

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE ("video",
    GST_PAD_SINK,
    GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-h264"));

static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE ("audio",
    GST_PAD_SINK,
    GST_PAD_REQUEST,
    GST_STATIC_CAPS_ANY);

#define CONTENT_TYPE_SEGMENT "video/mp2t"
#define CONTENT_TYPE_PLAYLIST "application/vnd.apple.mpegurl"
#define CACHE_SEGMENT "max-age=31536000, immutable"
#define CACHE_LIVE_PLAYLIST "max-age=1"
#define CACHE_FINAL_PLAYLIST "max-age=300"

typedef struct
{
  gchar *name;
  GBytes *data;
} Upload;

struct _GstWasabiHlsSink
{
  GstBin parent;

  GstElement *hlssink;          /* NULL when hlssink2 is missing */
  GstPad *video_pad;            /* ghost pads, under the object lock */
  GstPad *audio_pad;

  /* properties, under the object lock */
  gchar *location;
  guint target_duration;
  gchar *segment_name;
  gchar *playlist_name;
  gchar *iframe_playlist_name;
  gboolean publish_live;
  guint max_pending_uploads;
  RcxS3Config config;

  /* run state, from READY->PAUSED to PAUSED->READY */
  RcxStore *store;              /* immutable while running */
  GCancellable *cancellable;
  GThread *worker;
  /* copies of the settings for the run */
  gchar *run_playlist_name;
  gchar *run_iframe_playlist_name;
  gboolean run_publish_live;
  guint run_max_pending;
  gint storing;                 /* atomic: store_put calls in progress */

  /* under ->lock */
  GMutex lock;
  GCond cond;
  guint generation;             /* bumped per run: stale streams are ignored */
  gboolean accepting;           /* segments are taken */
  gboolean stopping;            /* the worker must quit */
  gboolean failed;              /* an error happened: no VOD playlist */
  gboolean finished;            /* the final playlists were written */
  GQueue queue;                 /* Upload */
  guint pending;                /* queued + being uploaded */
  RcxHlsRung *rung;
  GHashTable *running_times;    /* segment name -> GstClockTime (boxed) */
  gchar *last_fragment;         /* name of the last fragment stream made */
  gchar *video_codec;
  gboolean has_audio;
  gboolean independent;
  gint64 measured_frame_duration;       /* 90 kHz */
};

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_TARGET_DURATION,
  PROP_SEGMENT_NAME,
  PROP_PLAYLIST_NAME,
  PROP_IFRAME_PLAYLIST_NAME,
  PROP_PUBLISH_LIVE,
  PROP_MAX_PENDING_UPLOADS,
  PROP_STORING,
};

#define DEFAULT_LOCATION NULL
#define DEFAULT_TARGET_DURATION 6
#define DEFAULT_SEGMENT_NAME "segment%05d.ts"
#define DEFAULT_PLAYLIST_NAME "index.m3u8"
#define DEFAULT_IFRAME_PLAYLIST_NAME "iframes.m3u8"
#define DEFAULT_PUBLISH_LIVE TRUE
#define DEFAULT_MAX_PENDING_UPLOADS 4

#define gst_wasabi_hls_sink_parent_class parent_class
G_DEFINE_TYPE (GstWasabiHlsSink, gst_wasabi_hls_sink, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE (wasabihlssink, "wasabihlssink", GST_RANK_NONE,
    GST_TYPE_WASABI_HLS_SINK);

/* ---- helpers ---------------------------------------------------------- */

static void
upload_free (Upload * upload)
{
  g_free (upload->name);
  g_bytes_unref (upload->data);
  g_free (upload);
}

/* A segment name pattern: exactly one integer conversion (%d, %u, %05d...)
 * and nothing else for printf, giving a safe relative name. */
static void
fail_locked (GstWasabiHlsSink * self)
{
  self->failed = TRUE;
  self->accepting = FALSE;
  g_cond_broadcast (&self->cond);
}

static void
set_failed (GstWasabiHlsSink * self)
{
  g_mutex_lock (&self->lock);
  fail_locked (self);
  g_mutex_unlock (&self->lock);
}

/* Posts an error for @error (unless it is a cancellation) and marks the
 * run failed. */
static void
post_store_error (GstWasabiHlsSink * self, const GError * error,
    const gchar * name)
{
  g_autofree gchar *uri = rcx_store_get_uri (self->store, name);

  set_failed (self);
  if (gst_wasabi_error_is_cancelled (error))
    return;
  GST_WASABI_ELEMENT_ERROR (self, error, WRITE, "Could not store %s: %s",
      uri, error->message);
}

static gboolean
store_put (GstWasabiHlsSink * self, const gchar * name, const gchar * text,
    GBytes * data, const gchar * content_type, const gchar * cache_control)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  gboolean stored;

  if (data == NULL)
    data = bytes = g_bytes_new (text, strlen (text));
  g_atomic_int_inc (&self->storing);
  stored = rcx_store_put (self->store, name, data, content_type,
      cache_control, self->cancellable, &error);
  g_atomic_int_add (&self->storing, -1);
  if (stored) {
    GST_DEBUG_OBJECT (self, "stored %s (%" G_GSIZE_FORMAT " bytes)", name,
        g_bytes_get_size (data));
    return TRUE;
  }
  post_store_error (self, error, name);
  return FALSE;
}

/* Frame duration in 90 kHz ticks from the video caps; 0 if unknown. */
static gint64
caps_frame_duration (GstWasabiHlsSink * self, gint * width, gint * height,
    gdouble * frame_rate)
{
  g_autoptr (GstPad) pad = NULL;
  g_autoptr (GstCaps) caps = NULL;
  const GstStructure *s;
  gint num = 0, den = 1;

  if (width)
    *width = 0;
  if (height)
    *height = 0;
  if (frame_rate)
    *frame_rate = 0;
  GST_OBJECT_LOCK (self);
  if (self->video_pad)
    pad = gst_object_ref (self->video_pad);
  GST_OBJECT_UNLOCK (self);
  if (pad == NULL || (caps = gst_pad_get_current_caps (pad)) == NULL ||
      gst_caps_get_size (caps) == 0)
    return 0;
  s = gst_caps_get_structure (caps, 0);
  if (width)
    gst_structure_get_int (s, "width", width);
  if (height)
    gst_structure_get_int (s, "height", height);
  if (!gst_structure_get_fraction (s, "framerate", &num, &den) || num <= 0
      || den <= 0)
    return 0;
  if (frame_rate)
    *frame_rate = (gdouble) num / den;
  return gst_util_uint64_scale_round (RCX_TS_CLOCK, den, num);
}

/* ---- the upload thread ------------------------------------------------ */

static void
process_segment (GstWasabiHlsSink * self, Upload * upload)
{
  g_auto (RcxTsInfo) info = { 0, };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) iframes = NULL;
  g_autofree gchar *playlist = NULL;
  g_autofree gchar *uri = NULL;
  g_autofree gchar *codecs = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (upload->data, &size);
  gint64 frame_duration;
  gdouble duration;
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
  gpointer rt;
  guint index, i;
  gboolean warn_not_independent = FALSE;

  if (!rcx_ts_scan (data, size, &info, &error)) {
    set_failed (self);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Segment %s is not H.264 in "
            "MPEG-TS", upload->name), ("%s", error->message));
    return;
  }
  frame_duration = caps_frame_duration (self, NULL, NULL, NULL);
  if (frame_duration <= 0)
    frame_duration = info.frame_duration;
  /* as the playlist writes it */
  duration = rint (rcx_ts_info_get_duration (&info, frame_duration) * 1000) /
      1000;

  iframes = g_array_new (FALSE, FALSE, sizeof (RcxHlsIFrame));
  for (i = 0; i < info.iframes->len; i++) {
    const RcxTsIFrame *f = &g_array_index (info.iframes, RcxTsIFrame, i);
    RcxHlsIFrame h = { f->offset, f->length,
      (gdouble) (f->pts - info.first_pts) / RCX_TS_CLOCK
    };
    g_array_append_val (iframes, h);
  }

  if (!store_put (self, upload->name, NULL, upload->data,
          CONTENT_TYPE_SEGMENT, CACHE_SEGMENT))
    return;

  g_mutex_lock (&self->lock);
  if (self->failed || self->stopping) {
    g_mutex_unlock (&self->lock);
    return;
  }
  rcx_hls_rung_add_segment (self->rung, upload->name, duration, size,
      (const RcxHlsIFrame *) iframes->data, iframes->len);
  index = rcx_hls_rung_get_n_segments (self->rung) - 1;
  if (self->video_codec == NULL)
    self->video_codec = rcx_ts_info_get_avc_codec (&info);
  self->has_audio |= info.has_audio;
  if (self->measured_frame_duration == 0)
    self->measured_frame_duration = info.frame_duration;
  if (!info.starts_with_idr && self->independent) {
    self->independent = FALSE;
    warn_not_independent = TRUE;
  }
  /* read once: dropped so that a 2-hour job keeps no entry per segment */
  if (g_hash_table_lookup_extended (self->running_times, upload->name, NULL,
          &rt)) {
    running_time = *(GstClockTime *) rt;
    g_hash_table_remove (self->running_times, upload->name);
  }
  if (self->run_publish_live)
    playlist = rcx_hls_rung_media_playlist (self->rung, FALSE);
  codecs = g_strconcat (self->video_codec ? self->video_codec : "avc1",
      self->has_audio ? ",mp4a.40.2" : "", NULL);
  g_mutex_unlock (&self->lock);

  if (warn_not_independent)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Segment %s does not start with an IDR frame", upload->name),
        ("Use a fixed GOP that divides target-duration"));

  if (playlist != NULL && !store_put (self, self->run_playlist_name, playlist,
          NULL, CONTENT_TYPE_PLAYLIST, CACHE_LIVE_PLAYLIST))
    return;

  uri = rcx_store_get_uri (self->store, upload->name);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new (RCX_MSG_HLS_SEGMENT,
              RCX_FIELD_LOCATION, G_TYPE_STRING, uri,
              RCX_FIELD_INDEX, G_TYPE_UINT, index,
              RCX_FIELD_DURATION, G_TYPE_DOUBLE, duration,
              RCX_FIELD_SIZE, G_TYPE_UINT64, (guint64) size,
              RCX_FIELD_RUNNING_TIME, G_TYPE_UINT64, running_time,
              RCX_FIELD_CODECS, G_TYPE_STRING, codecs, NULL)));
}

static gpointer
upload_thread (gpointer data)
{
  GstWasabiHlsSink *self = data;
  Upload *upload;

  g_mutex_lock (&self->lock);
  while (TRUE) {
    while (!self->stopping && g_queue_is_empty (&self->queue))
      g_cond_wait (&self->cond, &self->lock);
    if (self->stopping)
      break;
    upload = g_queue_pop_head (&self->queue);
    if (!self->failed) {
      g_mutex_unlock (&self->lock);
      process_segment (self, upload);
      g_mutex_lock (&self->lock);
    }
    upload_free (upload);
    self->pending--;
    g_cond_broadcast (&self->cond);
  }
  while ((upload = g_queue_pop_head (&self->queue)) != NULL) {
    upload_free (upload);
    self->pending--;
  }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* Streaming thread (a fragment stream's flush): queue the segment, waiting
 * while max-pending-uploads segments are already queued. */
void
gst_wasabi_hls_sink_queue_segment (GstWasabiHlsSink * self,
    guint generation, const gchar * name, GBytes * data)
{
  Upload *upload;

  g_mutex_lock (&self->lock);
  while (self->accepting && generation == self->generation &&
      self->pending >= self->run_max_pending)
    g_cond_wait (&self->cond, &self->lock);
  if (!self->accepting || generation != self->generation) {
    g_mutex_unlock (&self->lock);
    GST_DEBUG_OBJECT (self, "dropping segment %s (stopped or failed)", name);
    return;
  }
  upload = g_new0 (Upload, 1);
  upload->name = g_strdup (name);
  upload->data = g_bytes_ref (data);
  g_queue_push_tail (&self->queue, upload);
  self->pending++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  GST_LOG_OBJECT (self, "queued segment %s (%" G_GSIZE_FORMAT " bytes)",
      name, g_bytes_get_size (data));
}

/* ---- hlssink2 signals ------------------------------------------------- */

static GOutputStream *
on_get_fragment_stream (GstElement * hlssink, const gchar * location,
    GstWasabiHlsSink * self)
{
  guint generation;

  if (!rcx_store_name_is_safe (location)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Unsafe segment name \"%s\"", location), (NULL));
    return NULL;
  }
  g_mutex_lock (&self->lock);
  generation = self->generation;
  g_free (self->last_fragment);
  self->last_fragment = g_strdup (location);
  g_mutex_unlock (&self->lock);
  GST_DEBUG_OBJECT (self, "new segment %s", location);
  return gst_wasabi_hls_fragment_new (self, generation, location);
}

static GOutputStream *
on_get_playlist_stream (GstElement * hlssink, const gchar * location,
    GstWasabiHlsSink * self)
{
  /* hlssink2's own playlist is discarded: ours is written from rcx-hls
   * once the segments it lists are stored */
  return g_memory_output_stream_new_resizable ();
}

static void
on_delete_fragment (GstElement * hlssink, const gchar * location,
    GstWasabiHlsSink * self)
{
  /* Connected, so hlssink2 deletes nothing itself: max-files only bounds
   * its list of old names. Our segments are never deleted. */
}

/* ---- EOS -------------------------------------------------------------- */

/* Streaming thread, on hlssink2's EOS: waits for every upload, writes the
 * VOD and I-frame playlists and posts wasabihlssink-rung. FALSE when the
 * run failed or stopped (then EOS is not let through). */
static gboolean
gst_wasabi_hls_sink_finish (GstWasabiHlsSink * self)
{
  g_autofree gchar *media = NULL;
  g_autofree gchar *iframe = NULL;
  g_autofree gchar *codecs = NULL;
  g_autofree gchar *video_codec = NULL;
  g_autofree gchar *playlist_uri = NULL;
  g_autofree gchar *iframe_uri = NULL;
  GstStructure *s;
  guint bandwidth, average, iframe_bandwidth, n_segments, target;
  gdouble duration, frame_rate;
  gint width, height;
  gboolean independent;
  gint64 measured;

  g_mutex_lock (&self->lock);
  while (self->pending > 0 && !self->failed && !self->stopping)
    g_cond_wait (&self->cond, &self->lock);
  if (self->failed || self->stopping || self->rung == NULL) {
    g_mutex_unlock (&self->lock);
    GST_INFO_OBJECT (self, "not finishing the rendition: failed or stopped");
    return FALSE;
  }
  self->accepting = FALSE;
  media = rcx_hls_rung_media_playlist (self->rung, TRUE);
  iframe = rcx_hls_rung_iframe_playlist (self->rung);
  bandwidth = rcx_hls_rung_get_peak_bandwidth (self->rung);
  average = rcx_hls_rung_get_average_bandwidth (self->rung);
  iframe_bandwidth = rcx_hls_rung_get_iframe_bandwidth (self->rung);
  n_segments = rcx_hls_rung_get_n_segments (self->rung);
  target = rcx_hls_rung_get_target_duration (self->rung);
  duration = rcx_hls_rung_get_duration (self->rung);
  video_codec = g_strdup (self->video_codec ? self->video_codec : "avc1");
  codecs = self->has_audio ? g_strconcat (video_codec, ",mp4a.40.2", NULL) :
      g_strdup (video_codec);
  independent = self->independent && n_segments > 0;
  measured = self->measured_frame_duration;
  g_mutex_unlock (&self->lock);

  /* the media playlist last: its ENDLIST says the rendition is complete */
  if (!store_put (self, self->run_iframe_playlist_name, iframe, NULL,
          CONTENT_TYPE_PLAYLIST, CACHE_FINAL_PLAYLIST))
    return FALSE;
  if (!store_put (self, self->run_playlist_name, media, NULL,
          CONTENT_TYPE_PLAYLIST, CACHE_FINAL_PLAYLIST))
    return FALSE;

  g_mutex_lock (&self->lock);
  self->finished = TRUE;
  g_mutex_unlock (&self->lock);

  caps_frame_duration (self, &width, &height, &frame_rate);
  if (frame_rate <= 0 && measured > 0)
    frame_rate = (gdouble) RCX_TS_CLOCK / measured;
  playlist_uri = rcx_store_get_uri (self->store, self->run_playlist_name);
  iframe_uri = rcx_store_get_uri (self->store, self->run_iframe_playlist_name);

  s = gst_structure_new (RCX_MSG_HLS_RUNG,
      RCX_FIELD_LOCATION, G_TYPE_STRING, rcx_store_get_location (self->store),
      RCX_FIELD_PLAYLIST, G_TYPE_STRING, self->run_playlist_name,
      RCX_FIELD_IFRAME_PLAYLIST, G_TYPE_STRING, self->run_iframe_playlist_name,
      RCX_FIELD_PLAYLIST_URI, G_TYPE_STRING, playlist_uri,
      RCX_FIELD_IFRAME_PLAYLIST_URI, G_TYPE_STRING, iframe_uri,
      RCX_FIELD_BANDWIDTH, G_TYPE_UINT, bandwidth,
      RCX_FIELD_AVERAGE_BANDWIDTH, G_TYPE_UINT, average,
      RCX_FIELD_IFRAME_BANDWIDTH, G_TYPE_UINT, iframe_bandwidth,
      RCX_FIELD_CODECS, G_TYPE_STRING, codecs,
      RCX_FIELD_VIDEO_CODEC, G_TYPE_STRING, video_codec,
      RCX_FIELD_WIDTH, G_TYPE_INT, width,
      RCX_FIELD_HEIGHT, G_TYPE_INT, height,
      RCX_FIELD_FRAME_RATE, G_TYPE_DOUBLE, frame_rate,
      RCX_FIELD_DURATION, G_TYPE_DOUBLE, duration,
      RCX_FIELD_SEGMENTS, G_TYPE_UINT, n_segments,
      RCX_FIELD_TARGET_DURATION, G_TYPE_UINT, target,
      RCX_FIELD_INDEPENDENT, G_TYPE_BOOLEAN, independent, NULL);
  GST_INFO_OBJECT (self, "rendition complete: %" GST_PTR_FORMAT, s);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  return TRUE;
}

/* ---- GstBin / GstElement vfuncs --------------------------------------- */

static void
gst_wasabi_hls_sink_handle_message (GstBin * bin, GstMessage * message)
{
  GstWasabiHlsSink *self = GST_WASABI_HLS_SINK (bin);

  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (message);
      const gchar *location;
      GstClockTime running_time;

      /* hlssink2 leaves splitmuxsink's location unset: the fragment just
       * opened is the one whose stream was asked for last */
      if (gst_structure_has_name (s, "splitmuxsink-fragment-opened") &&
          gst_structure_get_clock_time (s, "running-time", &running_time)) {
        g_mutex_lock (&self->lock);
        location = gst_structure_get_string (s, "location");
        if (location == NULL)
          location = self->last_fragment;
        if (location != NULL)
          g_hash_table_insert (self->running_times, g_strdup (location),
              g_memdup2 (&running_time, sizeof (running_time)));
        g_mutex_unlock (&self->lock);
      }
      break;
    }
    case GST_MESSAGE_ERROR:
      set_failed (self);
      break;
    case GST_MESSAGE_EOS:
      if (!gst_wasabi_hls_sink_finish (self)) {
        gst_message_unref (message);
        return;
      }
      break;
    default:
      break;
  }
  GST_BIN_CLASS (parent_class)->handle_message (bin, message);
}

static gboolean
gst_wasabi_hls_sink_start (GstWasabiHlsSink * self)
{
  g_autoptr (GError) error = NULL;
  g_auto (RcxS3Config) config = { 0, };
  g_autofree gchar *location = NULL;
  g_autofree gchar *segment_name = NULL;
  guint target;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->location);
  segment_name = g_strdup (self->segment_name);
  target = self->target_duration;
  rcx_s3_config_copy (&config, &self->config);
  g_free (self->run_playlist_name);
  self->run_playlist_name = g_strdup (self->playlist_name);
  g_free (self->run_iframe_playlist_name);
  self->run_iframe_playlist_name = g_strdup (self->iframe_playlist_name);
  self->run_publish_live = self->publish_live;
  self->run_max_pending = self->max_pending_uploads;
  GST_OBJECT_UNLOCK (self);

  if (self->hlssink == NULL) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("The hlssink2 element is missing (gst-plugins-bad)"), (NULL));
    return FALSE;
  }
  if (location == NULL || location[0] == '\0') {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("No location set"), ("Set a folder or s3://bucket/prefix/"));
    return FALSE;
  }
  if (!rcx_segment_name_is_valid (segment_name)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid segment-name \"%s\"", segment_name),
        ("One integer conversion such as %%05d, giving a relative name"));
    return FALSE;
  }
  if (!rcx_store_name_is_safe (self->run_playlist_name) ||
      !rcx_store_name_is_safe (self->run_iframe_playlist_name)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid playlist-name or iframe-playlist-name"),
        ("Relative names without '..' segments"));
    return FALSE;
  }

  self->store = rcx_store_new (location, &config, &error);
  if (self->store == NULL) {
    GST_WASABI_ELEMENT_ERROR (self, error, SETTINGS,
        "Could not open %s: %s", location, error->message);
    return FALSE;
  }
  if (rcx_store_get_s3_client (self->store) != NULL)
    gst_wasabi_client_log_to_category (rcx_store_get_s3_client (self->store),
        GST_ELEMENT (self), GST_CAT_DEFAULT);

  /* hlssink2's own playlist is discarded (on_get_playlist_stream): one
   * entry and one old name are enough, where 0 (unbounded) kept both lists
   * growing and re-rendered the whole playlist after every segment */
  g_object_set (self->hlssink, "location", segment_name,
      "playlist-location", self->run_playlist_name, "target-duration", target,
      "max-files", 1, "playlist-length", 1, "send-keyframe-requests", TRUE,
      NULL);

  self->cancellable = g_cancellable_new ();
  g_mutex_lock (&self->lock);
  self->generation++;
  self->accepting = TRUE;
  self->stopping = FALSE;
  self->failed = FALSE;
  self->finished = FALSE;
  self->pending = 0;
  self->rung = rcx_hls_rung_new (target);
  g_hash_table_remove_all (self->running_times);
  g_clear_pointer (&self->last_fragment, g_free);
  g_clear_pointer (&self->video_codec, g_free);
  self->has_audio = FALSE;
  self->independent = TRUE;
  self->measured_frame_duration = 0;
  g_mutex_unlock (&self->lock);

  self->worker = g_thread_new ("wasabihlssink-upload", upload_thread, self);
  return TRUE;
}

static void
gst_wasabi_hls_sink_stop (GstWasabiHlsSink * self)
{
  g_mutex_lock (&self->lock);
  self->accepting = FALSE;
  self->stopping = TRUE;
  self->generation++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
}

static void
gst_wasabi_hls_sink_cleanup (GstWasabiHlsSink * self)
{
  if (self->worker != NULL) {
    g_thread_join (self->worker);
    self->worker = NULL;
  }
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->rung, rcx_hls_rung_free);
  g_mutex_unlock (&self->lock);
  g_clear_pointer (&self->store, rcx_store_unref);
  g_clear_object (&self->cancellable);
}

static GstStateChangeReturn
gst_wasabi_hls_sink_change_state (GstElement * element,
    GstStateChange transition)
{
  GstWasabiHlsSink *self = GST_WASABI_HLS_SINK (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!gst_wasabi_hls_sink_start (self)) {
        gst_wasabi_hls_sink_stop (self);
        gst_wasabi_hls_sink_cleanup (self);
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* before hlssink2 stops: what it flushes or writes now is not used */
      gst_wasabi_hls_sink_stop (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (ret == GST_STATE_CHANGE_FAILURE) {
        gst_wasabi_hls_sink_stop (self);
        gst_wasabi_hls_sink_cleanup (self);
      }
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_wasabi_hls_sink_cleanup (self);
      break;
    default:
      break;
  }
  return ret;
}

static GstPad *
gst_wasabi_hls_sink_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps)
{
  GstWasabiHlsSink *self = GST_WASABI_HLS_SINK (element);
  gboolean is_audio = g_str_equal (templ->name_template, "audio");
  g_autoptr (GstPad) target = NULL;
  GstPad *pad;

  if (self->hlssink == NULL)
    return NULL;
  GST_OBJECT_LOCK (self);
  if ((is_audio && self->audio_pad) || (!is_audio && self->video_pad)) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self, "pad %s already requested", templ->name_template);
    return NULL;
  }
  GST_OBJECT_UNLOCK (self);

  target = gst_element_request_pad_simple (self->hlssink,
      is_audio ? "audio" : "video");
  if (target == NULL)
    return NULL;
  pad = gst_ghost_pad_new_from_template (templ->name_template, target, templ);
  gst_pad_set_active (pad, TRUE);
  GST_OBJECT_LOCK (self);
  if (is_audio)
    self->audio_pad = pad;
  else
    self->video_pad = pad;
  GST_OBJECT_UNLOCK (self);
  gst_element_add_pad (element, pad);
  return pad;
}

static void
gst_wasabi_hls_sink_release_pad (GstElement * element, GstPad * pad)
{
  GstWasabiHlsSink *self = GST_WASABI_HLS_SINK (element);
  g_autoptr (GstPad) target = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));

  GST_OBJECT_LOCK (self);
  if (pad == self->audio_pad)
    self->audio_pad = NULL;
  else if (pad == self->video_pad)
    self->video_pad = NULL;
  GST_OBJECT_UNLOCK (self);

  if (target != NULL && self->hlssink != NULL)
    gst_element_release_request_pad (self->hlssink, target);
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
}

/* ---- GObject ---------------------------------------------------------- */

static void
set_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

static void
gst_wasabi_hls_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWasabiHlsSink *self = GST_WASABI_HLS_SINK (object);

  if (gst_wasabi_connection_set_property (GST_ELEMENT (self), &self->config,
          prop_id, value, pspec))
    return;

  GST_OBJECT_LOCK (self);
  if (!gst_wasabi_element_settings_mutable (GST_ELEMENT (self),
          g_param_spec_get_name (pspec))) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_LOCATION:
      set_string (&self->location, value);
      break;
    case PROP_TARGET_DURATION:
      self->target_duration = g_value_get_uint (value);
      break;
    case PROP_SEGMENT_NAME:
      set_string (&self->segment_name, value);
      break;
    case PROP_PLAYLIST_NAME:
      set_string (&self->playlist_name, value);
      break;
    case PROP_IFRAME_PLAYLIST_NAME:
      set_string (&self->iframe_playlist_name, value);
      break;
    case PROP_PUBLISH_LIVE:
      self->publish_live = g_value_get_boolean (value);
      break;
    case PROP_MAX_PENDING_UPLOADS:
      self->max_pending_uploads = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_wasabi_hls_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstWasabiHlsSink *self = GST_WASABI_HLS_SINK (object);

  if (gst_wasabi_connection_get_property (GST_ELEMENT (self), &self->config,
          prop_id, value))
    return;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_TARGET_DURATION:
      g_value_set_uint (value, self->target_duration);
      break;
    case PROP_SEGMENT_NAME:
      g_value_set_string (value, self->segment_name);
      break;
    case PROP_PLAYLIST_NAME:
      g_value_set_string (value, self->playlist_name);
      break;
    case PROP_IFRAME_PLAYLIST_NAME:
      g_value_set_string (value, self->iframe_playlist_name);
      break;
    case PROP_PUBLISH_LIVE:
      g_value_set_boolean (value, self->publish_live);
      break;
    case PROP_MAX_PENDING_UPLOADS:
      g_value_set_uint (value, self->max_pending_uploads);
      break;
    case PROP_STORING:
      g_value_set_boolean (value, g_atomic_int_get (&self->storing) > 0);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_wasabi_hls_sink_finalize (GObject * object)
{
  GstWasabiHlsSink *self = GST_WASABI_HLS_SINK (object);

  g_free (self->location);
  g_free (self->segment_name);
  g_free (self->playlist_name);
  g_free (self->iframe_playlist_name);
  g_free (self->run_playlist_name);
  g_free (self->run_iframe_playlist_name);
  rcx_s3_config_clear (&self->config);
  g_queue_clear_full (&self->queue, (GDestroyNotify) upload_free);
  g_clear_pointer (&self->rung, rcx_hls_rung_free);
  g_hash_table_unref (self->running_times);
  g_free (self->last_fragment);
  g_free (self->video_codec);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_wasabi_hls_sink_init (GstWasabiHlsSink * self)
{
  self->location = g_strdup (DEFAULT_LOCATION);
  self->target_duration = DEFAULT_TARGET_DURATION;
  self->segment_name = g_strdup (DEFAULT_SEGMENT_NAME);
  self->playlist_name = g_strdup (DEFAULT_PLAYLIST_NAME);
  self->iframe_playlist_name = g_strdup (DEFAULT_IFRAME_PLAYLIST_NAME);
  self->publish_live = DEFAULT_PUBLISH_LIVE;
  self->max_pending_uploads = DEFAULT_MAX_PENDING_UPLOADS;
  rcx_s3_config_init (&self->config);
  self->config.retry_timeout = RCX_S3_DEFAULT_RETRY_TIMEOUT;

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->queue);
  self->running_times = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, g_free);

  self->hlssink = gst_element_factory_make ("hlssink2", "hlssink");
  if (self->hlssink == NULL) {
    GST_ERROR_OBJECT (self, "hlssink2 is missing");
    return;
  }
  g_signal_connect (self->hlssink, "get-fragment-stream",
      G_CALLBACK (on_get_fragment_stream), self);
  g_signal_connect (self->hlssink, "get-playlist-stream",
      G_CALLBACK (on_get_playlist_stream), self);
  g_signal_connect (self->hlssink, "delete-fragment",
      G_CALLBACK (on_delete_fragment), self);
  gst_bin_add (GST_BIN (self), self->hlssink);
}

static void
gst_wasabi_hls_sink_class_init (GstWasabiHlsSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  GST_DEBUG_CATEGORY_INIT (gst_wasabi_hls_sink_debug, "wasabihlssink", 0,
      "HLS rendition to a folder or S3/Wasabi");

  gobject_class->set_property = gst_wasabi_hls_sink_set_property;
  gobject_class->get_property = gst_wasabi_hls_sink_get_property;
  gobject_class->finalize = gst_wasabi_hls_sink_finalize;

  /**
   * GstWasabiHlsSink:location:
   *
   * Where the rendition goes: a local folder (path or file:// URI, created
   * when missing) or an S3 prefix `s3://bucket/prefix/`. Required.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Folder, file:// URI or s3://bucket/prefix/ for the rendition",
          DEFAULT_LOCATION, flags));
  /**
   * GstWasabiHlsSink:target-duration:
   *
   * Segment duration in seconds, passed to hlssink2 and written as
   * EXT-X-TARGETDURATION (raised only if a segment is longer).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TARGET_DURATION,
      g_param_spec_uint ("target-duration", "Target duration",
          "Target segment duration in seconds", 1, 60,
          DEFAULT_TARGET_DURATION, flags));
  /**
   * GstWasabiHlsSink:segment-name:
   *
   * Segment names: one integer conversion (e.g. `%05d`) for the index,
   * relative to the location.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SEGMENT_NAME,
      g_param_spec_string ("segment-name", "Segment name",
          "Segment name pattern with one integer conversion (e.g. %05d)",
          DEFAULT_SEGMENT_NAME, flags));
  /**
   * GstWasabiHlsSink:playlist-name:
   *
   * The media playlist's name, relative to the location (a relative name
   * without `..` segments, else RESOURCE/SETTINGS at start). Stored as an
   * EVENT playlist after each segment while #GstWasabiHlsSink:publish-live
   * is set, and as the VOD playlist at EOS; reported in the
   * `wasabihlssink-rung` message's `playlist` field.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PLAYLIST_NAME,
      g_param_spec_string ("playlist-name", "Playlist name",
          "Media playlist name, relative to the location",
          DEFAULT_PLAYLIST_NAME, flags));
  /**
   * GstWasabiHlsSink:iframe-playlist-name:
   *
   * The I-frame playlist's name, relative to the location (same rules as
   * #GstWasabiHlsSink:playlist-name). Stored once, at EOS: one
   * `#EXT-X-BYTERANGE` per IDR of the segments; reported in the
   * `wasabihlssink-rung` message's `iframe-playlist` field.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_IFRAME_PLAYLIST_NAME,
      g_param_spec_string ("iframe-playlist-name", "I-frame playlist name",
          "I-frame playlist name, relative to the location",
          DEFAULT_IFRAME_PLAYLIST_NAME, flags));
  /**
   * GstWasabiHlsSink:publish-live:
   *
   * After each stored segment, store the media playlist as an EVENT
   * playlist, so the rendition can be watched while it is made.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PUBLISH_LIVE,
      g_param_spec_boolean ("publish-live", "Publish live",
          "Store an EVENT media playlist after each segment",
          DEFAULT_PUBLISH_LIVE, flags));
  /**
   * GstWasabiHlsSink:max-pending-uploads:
   *
   * Segments held in memory waiting for storage; when reached, the
   * streaming thread waits. Bounds memory to about this many segments.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MAX_PENDING_UPLOADS,
      g_param_spec_uint ("max-pending-uploads", "Max pending uploads",
          "Segments queued for storage before the stream waits", 1, 64,
          DEFAULT_MAX_PENDING_UPLOADS, flags));
  /**
   * GstWasabiHlsSink:storing:
   *
   * TRUE while a segment or playlist is being stored, retries included.
   * A pipeline that makes no progress while this is TRUE is waiting for
   * storage (bounded by #GstWasabiHlsSink:retry-timeout), not hung: the
   * runner's watchdog asks this before it gives up.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_STORING,
      g_param_spec_boolean ("storing", "Storing",
          "TRUE while a segment or playlist is being stored (retries "
          "included)", FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  gst_wasabi_install_connection_properties (gobject_class);
  gst_wasabi_install_retry_timeout_property (gobject_class);

  gst_element_class_set_static_metadata (element_class,
      "HLS rendition sink to a folder or S3/Wasabi", "Sink/Muxer",
      "Writes an HLS rendition (MPEG-TS segments, media and I-frame "
      "playlists) to a local folder or an S3 prefix, uploading each segment "
      "as it closes", "Rugbycodex");
  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_wasabi_hls_sink_change_state);
  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_wasabi_hls_sink_request_new_pad);
  element_class->release_pad =
      GST_DEBUG_FUNCPTR (gst_wasabi_hls_sink_release_pad);
  bin_class->handle_message =
      GST_DEBUG_FUNCPTR (gst_wasabi_hls_sink_handle_message);
}
