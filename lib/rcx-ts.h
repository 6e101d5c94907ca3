/* rcx-ts.h: a small MPEG-TS scanner for one HLS segment held in memory.
 *
 * It finds the programme's H.264 video PID through the PAT and PMT, walks
 * the video PES packets (one access unit each, as mpegtsmux writes them
 * after h264parse) and reports what playlists need: the video PTS span, the
 * byte range of every IDR access unit (for I-frame playlists), whether the
 * segment starts with an IDR, the SPS profile/level (for CODECS) and whether
 * an AAC (ADTS) audio stream is present.
 *
 * Limits: 188-byte packets only; PSI sections must fit in one packet (as
 * every muxer writes PAT/PMT); the first programme of the PAT is used.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RCX_TS_PACKET_SIZE 188
#define RCX_TS_CLOCK 90000      /* PTS ticks per second */

#define RCX_TS_ERROR (rcx_ts_error_quark ())
GQuark rcx_ts_error_quark (void);

typedef enum {
  RCX_TS_ERROR_SYNC,            /* not 188-byte packets starting with 0x47 */
  RCX_TS_ERROR_NO_VIDEO,        /* no PAT/PMT or no H.264 stream in it */
} RcxTsErrorCode;

typedef struct {
  guint64 offset;               /* byte offset of the first TS packet of the IDR's PES */
  guint64 length;               /* up to the next PES start on the video PID (or the
                                 * end of that PID's last packet in the segment) */
  gint64 pts;                   /* 90 kHz, on the same time line as RcxTsInfo.first_pts */
} RcxTsIFrame;

typedef struct {
  guint16 pmt_pid;
  guint16 video_pid;            /* 0: none */
  guint8 video_stream_type;     /* 0x1b: H.264 */
  guint16 audio_pid;            /* 0: none */
  gboolean has_audio;           /* an ADTS AAC stream (stream_type 0x0f) */

  guint n_frames;               /* video access units (PES packets) */
  gboolean has_pts;
  gint64 first_pts;             /* smallest video PTS, 90 kHz, in [0, 2^33) */
  gint64 last_pts;              /* largest video PTS, same time line (may be >= 2^33
                                 * when the clock wrapped inside the segment) */
  gint64 frame_duration;        /* mean step between PTS, 0 if unknown */

  gboolean starts_with_idr;     /* the first video access unit holds an IDR slice */
  gboolean have_sps;
  guint8 profile_idc;
  guint8 constraint_flags;
  guint8 level_idc;

  GArray *iframes;              /* RcxTsIFrame, in stream order */
} RcxTsInfo;

void rcx_ts_info_init (RcxTsInfo * info);
void rcx_ts_info_clear (RcxTsInfo * info);

/* Scans @size bytes of TS. Fills @info (initialise it first, or it is
 * cleared and re-initialised here). FALSE with RCX_TS_ERROR when the data is
 * not TS or has no H.264 video. */
gboolean rcx_ts_scan (const guint8 * data, gsize size, RcxTsInfo * info,
    GError ** error);

/* Video duration in seconds: PTS span plus one frame (@frame_duration in
 * 90 kHz ticks if > 0, else info->frame_duration). 0 if no PTS. */
gdouble rcx_ts_info_get_duration (const RcxTsInfo * info,
    gint64 frame_duration);

/* "avc1.PPCCLL" from the SPS, or NULL when no SPS was seen. */
gchar *rcx_ts_info_get_avc_codec (const RcxTsInfo * info);

/* Signed difference @b - @a of two 33-bit PTS values, wrap-aware. */
gint64 rcx_ts_pts_diff (gint64 a, gint64 b);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RcxTsInfo, rcx_ts_info_clear)

G_END_DECLS
