/* rcx-pipeline-desc.h: pipeline descriptions (pipelines/<name>.json).
 *
 * A description says WHAT to produce (the ladder, GOP and segment length,
 * audio, thumbnail, output names) and WHICH encoders may produce it, in
 * order of preference, with each encoder's element name and settings. The
 * runner's builder turns it into a GStreamer pipeline; this module only
 * parses and validates it (json-glib, no GStreamer). The format is
 * documented in docs/pipelines.md.
 *
 * Validation is strict: unknown fields are errors, and every error names
 * the field and why, e.g. "ladder[1].height: must be a positive even
 * number".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RCX_PIPELINE_DESC_ERROR (rcx_pipeline_desc_error_quark ())
GQuark rcx_pipeline_desc_error_quark (void);

typedef enum {
  RCX_PIPELINE_DESC_ERROR_PARSE,        /* not JSON, or not readable */
  RCX_PIPELINE_DESC_ERROR_INVALID,      /* JSON, but a field is wrong */
} RcxPipelineDescErrorCode;

/* Name of the description used when none is given (pipelines/<name>.json). */
#define RCX_PIPELINE_DESC_DEFAULT_NAME "hls-ladder"

/* A property setting: @value is the text gst-launch-1.0 would take (enum
 * nick, number, true/false, string), possibly with ${variable} references
 * that rcx_pipeline_desc_expand() fills in. */
typedef struct {
  gchar *name;
  gchar *value;
} RcxPropertyDesc;

typedef struct {
  gchar *name;                  /* [A-Za-z0-9_-]+, unique; used in folder names */
  guint height;                 /* even, > 0 */
  guint bitrate;                /* average, kbit/s */
  guint peak_bitrate;           /* kbit/s, >= bitrate */
} RcxRungDesc;

typedef struct {
  gchar *element;               /* factory name, e.g. avenc_aac */
  RcxPropertyDesc *properties;
  guint n_properties;
} RcxAudioEncoderDesc;

typedef struct {
  gchar *name;                  /* e.g. "nvenc", "x264": reported as the encoder used */
  gchar *hardware;              /* NULL (software) or "nvidia" */
  gchar *element;               /* encoder factory, e.g. nvh264enc */
  gchar *decoder;               /* NULL: decodebin picks; else e.g. nvh264dec ... */
  gchar *decoder_input_caps;    /* ... used when the source matches these caps */
  gchar *upload;                /* NULL, or e.g. cudaupload (after a software decoder) */
  gchar *scaler;                /* scaling element, e.g. cudascale, videoscale */
  gchar *scaler_caps;           /* caps name after the scaler, e.g. video/x-raw(memory:CUDAMemory) */
  gchar *output_caps;           /* NULL, or caps after the encoder, e.g. video/x-h264,profile=high */
  RcxPropertyDesc *properties;  /* encoder properties, in order */
  guint n_properties;
} RcxEncoderDesc;

typedef struct {
  gchar *name;
  gchar *description;
  gdouble gop_seconds;          /* > 0 */
  gdouble segment_seconds;      /* a whole multiple of gop_seconds */
  guint max_frame_rate;         /* sources above are converted down to it */

  RcxRungDesc *ladder;          /* by strictly decreasing height */
  guint n_rungs;

  struct {
    guint bitrate;              /* kbit/s */
    guint rate;                 /* Hz */
    guint channels;
    RcxAudioEncoderDesc *encoders;      /* preference order */
    guint n_encoders;
  } audio;

  struct {
    gdouble position;           /* fraction of the duration, [0, 1) */
    guint width;                /* even, > 0 */
    gchar *name;                /* object name, e.g. thumbnail.jpg */
  } thumbnail;

  RcxEncoderDesc *encoders;     /* preference order */
  guint n_encoders;

  struct {
    gchar *master;              /* master playlist name, e.g. master.m3u8 */
    gchar *rung_folder;         /* pattern with {name} and/or {height} */
    gchar *playlist;            /* media playlist name in a rung folder */
    gchar *iframe_playlist;     /* I-frame playlist name in a rung folder */
    gchar *segment;             /* segment name pattern with one %d / %05d */
    gboolean publish_live;      /* EVENT playlists per segment and an early
                                 * master while transcoding (default TRUE) */
  } output;
} RcxPipelineDesc;

RcxPipelineDesc *rcx_pipeline_desc_new_from_data (const gchar * data,
    gssize length, GError ** error);
RcxPipelineDesc *rcx_pipeline_desc_new_from_file (const gchar * path,
    GError ** error);
void rcx_pipeline_desc_free (RcxPipelineDesc * desc);

/* Finds a description: @name_or_path is a path when it contains '/' or ends
 * in ".json", else a name looked up as <dir>/<name>.json in
 * $RCX_PIPELINES_DIR then in each of @search_dirs (NULL-terminated).
 * NULL @name_or_path means RCX_PIPELINE_DESC_DEFAULT_NAME. Returns the path
 * of an existing file, or NULL with G_IO_ERROR_NOT_FOUND. */
gchar *rcx_pipeline_desc_find (const gchar * name_or_path,
    const gchar * const *search_dirs, GError ** error);

/* The folder of @rung under the destination (the rung-folder pattern with
 * {name} and {height} filled in). */
gchar *rcx_pipeline_desc_rung_folder (const RcxPipelineDesc * desc,
    const RcxRungDesc * rung);

/* GOP length in frames at a frame rate (rounded, >= 1). */
guint rcx_pipeline_desc_gop_frames (const RcxPipelineDesc * desc,
    gint fps_n, gint fps_d);

/* Variables of a video encoder for one rung (name -> text):
 *   bitrate, peak-bitrate (kbit/s), bitrate-bps, peak-bitrate-bps,
 *   vbv-ms (1000 x gop-seconds x (peak - average) / average, >= 1),
 *   gop-frames, gop-seconds, width, height. */
GHashTable *rcx_pipeline_desc_rung_variables (const RcxPipelineDesc * desc,
    const RcxRungDesc * rung, guint width, guint height, gint fps_n,
    gint fps_d);

/* Variables of an audio encoder: bitrate (kbit/s), bitrate-bps, rate,
 * channels. */
GHashTable *rcx_pipeline_desc_audio_variables (const RcxPipelineDesc * desc);

/* Replaces every ${name} in @value by @variables[name]. Fails (INVALID) on
 * an unknown name or an unterminated reference. */
gchar *rcx_pipeline_desc_expand (const gchar * value, GHashTable * variables,
    GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxPipelineDesc, rcx_pipeline_desc_free)

G_END_DECLS
