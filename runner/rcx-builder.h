/* rcx-builder.h: from a pipeline description and a probed source to a
 * GStreamer pipeline.
 *
 * The builder makes a *plan* (which rungs, their sizes, which encoder,
 * which pre-processing) and writes it as gst-launch-1.0 tokens. The runner
 * builds the pipeline from exactly those tokens (gst_parse_launchv), and
 * `pipeline --print` prints them, so the printed line is the pipeline that
 * runs. (The thumbnail is a frame the runner copies at the tee and turns
 * into a JPEG afterwards: no branch, no sink that could stall the preroll.)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include "rcx-pipeline-desc.h"
#include "rcx-probe.h"

G_BEGIN_DECLS

typedef struct {
  const RcxRungDesc *desc;
  guint width;
  guint height;
  gchar *folder;                /* rung folder under the destination, e.g. "720p" */
  gchar *sink_name;             /* element name of its HLS sink, e.g. "hls0" */
  gchar *location;              /* the sink's location: "<dst>/<folder>/" */
} RcxPlanRung;

typedef struct {
  const gchar *source;          /* a file path or an s3:// URI */
  const gchar *destination;     /* a folder or an s3:// prefix */
  const gchar *endpoint_uri;    /* S3 endpoint for wasabi* elements; NULL: environment */
  gboolean assume_available;    /* plan as if the encoder entry's elements existed (printing) */
} RcxPlanOptions;

typedef struct {
  const RcxPipelineDesc *desc;
  const RcxEncoderDesc *encoder;
  const RcxAudioEncoderDesc *audio_encoder;     /* NULL: no audio */
  gboolean explicit_decoder;    /* the encoder entry's decoder is used */
  RcxPlanRung *rungs;
  guint n_rungs;
  gint fps_n, fps_d;            /* output frame rate */
  guint gop_frames;
  gboolean flip;                /* videoflip for the orientation tag */
  gboolean deinterlace;
  gboolean jobstatus;           /* a jobstatus element named "status" */
  const gchar *sink_factory;    /* wasabihlssink */
  guint thumb_width, thumb_height;     /* thumbnail size */
  GstClockTime thumb_position;  /* stream time of the thumbnail frame */
  GPtrArray *argv;              /* gst-launch-1.0 tokens, NULL-terminated */
} RcxPlan;

/* TRUE when every element @encoder needs is registered; otherwise FALSE
 * and @missing (may be NULL) names the first missing one. The decoder is
 * optional (decodebin3 is used without it). */
gboolean rcx_builder_encoder_available (const RcxEncoderDesc * encoder,
    gchar ** missing);

/* The first encoder entry at index >= @start that is available here, or
 * -1. Skipped entries are logged with the reason. */
gint rcx_builder_find_encoder (const RcxPipelineDesc * desc, guint start);

/* Plans a transcode of @source with encoder entry @encoder_index. Fails
 * (GST_STREAM_ERROR) when the source has no video stream, and
 * (GST_CORE_ERROR_MISSING_PLUGIN) when no AAC encoder or HLS sink is
 * available. */
RcxPlan *rcx_plan_new (const RcxPipelineDesc * desc, guint encoder_index,
    const RcxSourceInfo * source, const RcxPlanOptions * options,
    GError ** error);
void rcx_plan_free (RcxPlan * plan);

/* The pipeline of the plan. */
GstElement *rcx_plan_build (const RcxPlan * plan, GError ** error);

/* "gst-launch-1.0 ..." with every token quoted for a POSIX shell. */
gchar *rcx_plan_to_command_line (const RcxPlan * plan);

/* Checks every element a description names against this machine's
 * registry: each property exists, is writable, and its value (variables
 * filled in for a 1920x1080 30 fps source) is valid. Elements not
 * registered here are reported and skipped. Appends one line per finding to
 * @report; returns FALSE when something is wrong. */
gboolean rcx_builder_check_desc (const RcxPipelineDesc * desc,
    GString * report);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxPlan, rcx_plan_free)

G_END_DECLS
