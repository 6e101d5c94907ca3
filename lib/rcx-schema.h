/* rcx-schema.h: the names both sides of a pipeline agree on: the element
 * names the runner's builder gives (and finds again with
 * gst_bin_get_by_name), and the element messages the rugbycodex elements
 * post on the bus (structure names and field names, with their types).
 *
 * One place, so that a renamed field is a compile error on both sides
 * instead of a message that silently stops matching. Strings only: lib/
 * has no GStreamer in it, and this header needs none. The meaning of each
 * field is documented with its element (docs/wasabihlssink.md,
 * docs/jobstatus.md).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

/* ---- element names given by the builder (runner/rcx-builder.c) -------- */

#define RCX_ELEMENT_SOURCE "source"     /* filesrc or wasabisrc */
#define RCX_ELEMENT_DECODER "dec"       /* decodebin3 */
#define RCX_ELEMENT_DEMUXER "demux"     /* parsebin, with an entry's decoder */
#define RCX_ELEMENT_STATUS "status"     /* jobstatus */
#define RCX_ELEMENT_VIDEO_TEE "vt"      /* decoded, converted video */
#define RCX_ELEMENT_AUDIO_TEE "at"      /* encoded audio */
/* printf formats with the rung index (0 = the first rung planned) */
#define RCX_ELEMENT_ENCODER_FORMAT "enc%u"
#define RCX_ELEMENT_HLS_SINK_FORMAT "hls%u"

/* ---- jobstatus: "progress" ------------------------------------------- */

#define RCX_MSG_PROGRESS "progress"
#define RCX_FIELD_PERCENT "percent"     /* G_TYPE_DOUBLE, -1: unknown */
#define RCX_FIELD_POSITION "position"   /* G_TYPE_UINT64, ns */
#define RCX_FIELD_DURATION "duration"   /* G_TYPE_UINT64 ns (progress);
                                         * G_TYPE_DOUBLE s (wasabihlssink) */
#define RCX_FIELD_FRAMES "frames"       /* G_TYPE_UINT64 */
#define RCX_FIELD_SPEED "speed"         /* G_TYPE_DOUBLE, x real time */
#define RCX_FIELD_ETA "eta"             /* G_TYPE_UINT64 ns, G_MAXUINT64: unknown */
#define RCX_FIELD_EOS "eos"             /* G_TYPE_BOOLEAN */
#define RCX_FIELD_JOB_ID "job-id"       /* G_TYPE_STRING, when set */

/* ---- wasabihlssink: "wasabihlssink-segment" --------------------------- */

#define RCX_MSG_HLS_SEGMENT "wasabihlssink-segment"
#define RCX_FIELD_LOCATION "location"   /* G_TYPE_STRING: s3:// URI or path */
#define RCX_FIELD_INDEX "index"         /* G_TYPE_UINT */
#define RCX_FIELD_SIZE "size"           /* G_TYPE_UINT64, bytes */
#define RCX_FIELD_RUNNING_TIME "running-time"   /* G_TYPE_UINT64 ns */
#define RCX_FIELD_CODECS "codecs"       /* G_TYPE_STRING, RFC 6381 */

/* ---- wasabihlssink: "wasabihlssink-rung" ------------------------------ */

#define RCX_MSG_HLS_RUNG "wasabihlssink-rung"
/* also RCX_FIELD_LOCATION, RCX_FIELD_CODECS, RCX_FIELD_DURATION (s) */
#define RCX_FIELD_PLAYLIST "playlist"   /* G_TYPE_STRING, relative name */
#define RCX_FIELD_IFRAME_PLAYLIST "iframe-playlist"     /* G_TYPE_STRING */
#define RCX_FIELD_PLAYLIST_URI "playlist-uri"   /* G_TYPE_STRING */
#define RCX_FIELD_IFRAME_PLAYLIST_URI "iframe-playlist-uri"     /* G_TYPE_STRING */
#define RCX_FIELD_BANDWIDTH "bandwidth" /* G_TYPE_UINT, bits/s, peak */
#define RCX_FIELD_AVERAGE_BANDWIDTH "average-bandwidth" /* G_TYPE_UINT */
#define RCX_FIELD_IFRAME_BANDWIDTH "iframe-bandwidth"   /* G_TYPE_UINT */
#define RCX_FIELD_VIDEO_CODEC "video-codec"     /* G_TYPE_STRING */
#define RCX_FIELD_WIDTH "width"         /* G_TYPE_INT */
#define RCX_FIELD_HEIGHT "height"       /* G_TYPE_INT */
#define RCX_FIELD_FRAME_RATE "frame-rate"       /* G_TYPE_DOUBLE */
#define RCX_FIELD_SEGMENTS "segments"   /* G_TYPE_UINT */
#define RCX_FIELD_TARGET_DURATION "target-duration"     /* G_TYPE_UINT */
#define RCX_FIELD_INDEPENDENT "independent"     /* G_TYPE_BOOLEAN */
