/* rcx-probe.h: what the builder needs to know about a source, found with
 * GstDiscoverer (files, and s3:// URIs through wasabisrc's URI handler).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct {
  gchar *uri;                   /* what was probed (file:// or s3://) */
  GstClockTime duration;        /* GST_CLOCK_TIME_NONE when unknown */

  gboolean has_video;
  guint width;                  /* coded size, before rotation */
  guint height;
  gint par_n, par_d;            /* pixel aspect ratio (1/1 when unknown) */
  gint fps_n, fps_d;            /* 0/1 when unknown or variable */
  gboolean interlaced;
  gchar *orientation;           /* image-orientation tag ("rotate-90", ...) or NULL */
  gchar *video_caps;            /* media type of the coded stream, e.g. video/x-h264 */
  gchar *video_codec;           /* human readable, e.g. "H.264 (High Profile)" */

  gboolean has_audio;
  gchar *audio_caps;            /* media type, e.g. audio/mpeg */
  guint audio_rate;
  guint audio_channels;
} RcxSourceInfo;

/* Probes @uri (a file:// or s3:// URI) on a thread of its own, waiting at
 * most @timeout_s seconds, and calls @callback on the thread-default main
 * context of the caller. @endpoint_uri (may be NULL) is set as the source
 * element's endpoint-uri property (in the discoverer's source-setup: the
 * configuration reaches the element as a property, never through the
 * environment). Cancelling @cancellable completes the task at once with
 * G_IO_ERROR_CANCELLED. */
void rcx_probe_source_async (const gchar * uri, const gchar * endpoint_uri,
    guint timeout_s, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);

/* Fills @info (cleared first; rcx_source_info_clear() it). Fails with a
 * one-line reason (GST_STREAM_ERROR / GST_RESOURCE_ERROR /
 * GST_CORE_ERROR_MISSING_PLUGIN / G_IO_ERROR_TIMED_OUT) when the source
 * cannot be read or typed, G_IO_ERROR_CANCELLED when cancelled. */
gboolean rcx_probe_source_finish (GAsyncResult * result,
    RcxSourceInfo * info, GError ** error);

/* The same, blocking: runs the caller's thread-default main context (so
 * its signal handlers and timeouts keep running, and may cancel
 * @cancellable) until the probe is done. */
gboolean rcx_probe_source (const gchar * uri, const gchar * endpoint_uri,
    guint timeout_s, GCancellable * cancellable, RcxSourceInfo * info,
    GError ** error);

void rcx_source_info_clear (RcxSourceInfo * info);

/* TRUE when the orientation swaps width and height (90 / 270 degrees). */
gboolean rcx_source_info_is_rotated (const RcxSourceInfo * info);

/* Display size after pixel aspect ratio and rotation. */
void rcx_source_info_display_size (const RcxSourceInfo * info,
    guint * width, guint * height);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RcxSourceInfo, rcx_source_info_clear)

G_END_DECLS
