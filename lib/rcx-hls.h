/* rcx-hls.h: the HLS rendition ("rung") model and the playlist text.
 *
 * An RcxHlsRung accumulates the segments of one rendition as they are
 * stored and writes its media playlist (EVENT while it grows, VOD with
 * ENDLIST at the end), its I-frame playlist, and its measured peak and
 * average bandwidth. rcx_hls_master_playlist() writes the multivariant
 * playlist from what the rungs report. Not thread-safe: one owner (or a
 * lock) per rung.
 *
 * Rules followed (notes/hls.md): EXT-X-VERSION 4 (BYTERANGE, I-FRAMES-ONLY),
 * EXTINF with 3 decimals, TARGETDURATION >= every EXTINF rounded to the
 * nearest integer (the configured target unless a segment is longer),
 * EXT-X-INDEPENDENT-SEGMENTS, ENDLIST followed by a newline.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 offset;               /* byte offset in the segment of the IDR's first TS packet */
  guint64 length;               /* bytes */
  gdouble time;                 /* seconds from the segment's start */
} RcxHlsIFrame;

typedef struct _RcxHlsRung RcxHlsRung;

/* @target_duration: the configured segment duration in seconds (>= 1). */
RcxHlsRung *rcx_hls_rung_new (guint target_duration);
void rcx_hls_rung_free (RcxHlsRung * rung);

/* Appends a segment. @uri as written in the playlists (relative to them);
 * @duration in seconds; @size in bytes; @iframes (may be NULL when
 * @n_iframes is 0) in stream order. */
void rcx_hls_rung_add_segment (RcxHlsRung * rung, const gchar * uri,
    gdouble duration, guint64 size, const RcxHlsIFrame * iframes,
    guint n_iframes);

guint rcx_hls_rung_get_n_segments (const RcxHlsRung * rung);
/* Sum of the segment durations (as written, 3 decimals). */
gdouble rcx_hls_rung_get_duration (const RcxHlsRung * rung);
guint64 rcx_hls_rung_get_size (const RcxHlsRung * rung);
/* The configured target, or the longest EXTINF rounded when that is more. */
guint rcx_hls_rung_get_target_duration (const RcxHlsRung * rung);

/* Largest bit rate (segment bytes x 8 / seconds) over any run of
 * consecutive segments lasting 0.5-1.5x the target duration; the average
 * when no run qualifies; never below the average. 0 without segments. */
guint rcx_hls_rung_get_peak_bandwidth (const RcxHlsRung * rung);
/* Total bits / total duration, rounded up. */
guint rcx_hls_rung_get_average_bandwidth (const RcxHlsRung * rung);
/* Largest I-frame bit rate (byte range x 8 / time to the next I-frame). */
guint rcx_hls_rung_get_iframe_bandwidth (const RcxHlsRung * rung);
guint rcx_hls_rung_get_n_iframes (const RcxHlsRung * rung);

/* The media playlist: EVENT without ENDLIST while @final is FALSE, VOD with
 * ENDLIST when TRUE. */
gchar *rcx_hls_rung_media_playlist (const RcxHlsRung * rung, gboolean final);
/* The (VOD) I-frame playlist: every IDR of every segment, EXTINF = time to
 * the next I-frame (to the end of the media for the last one). */
gchar *rcx_hls_rung_iframe_playlist (const RcxHlsRung * rung);

/* ---- multivariant playlist -------------------------------------------- */

typedef struct {
  const gchar *uri;             /* media playlist, relative to the master */
  const gchar *iframe_uri;      /* I-frame playlist; NULL: no I-frame entry */
  guint bandwidth;              /* measured peak, bits/s */
  guint average_bandwidth;      /* 0: omitted */
  guint iframe_bandwidth;       /* I-frame playlist's peak; 0: @bandwidth */
  const gchar *codecs;          /* e.g. "avc1.64001f,mp4a.40.2" */
  const gchar *video_codec;     /* for the I-frame entry; NULL: the avc1 entry of @codecs */
  gint width;                   /* 0: RESOLUTION omitted */
  gint height;
  gdouble frame_rate;           /* 0: FRAME-RATE omitted */
} RcxHlsVariant;

/* #EXTM3U, #EXT-X-VERSION:4, #EXT-X-INDEPENDENT-SEGMENTS, one
 * #EXT-X-STREAM-INF + URI per variant (in the given order), then one
 * #EXT-X-I-FRAME-STREAM-INF per variant that has an I-frame playlist. */
gchar *rcx_hls_master_playlist (const RcxHlsVariant * variants, guint n);

/* Formats @value with 3 decimals, whatever the locale: "6.006". */
gchar *rcx_hls_format_decimal (gdouble value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxHlsRung, rcx_hls_rung_free)

G_END_DECLS
