/* rcx-builder.h: from a pipeline description and a probed source to a
 * GStreamer pipeline.
 *
 * The builder makes a *plan* (which rungs, their sizes, which encoder,
 * which pre-processing) and writes it as gst-launch-1.0 tokens that hold
 * only our own syntax (element names, caps, the description's encoder
 * properties) plus *settings*: string properties (the source's location or
 * URI, the sinks' locations and names, the endpoint) that rcx_plan_build()
 * sets with g_object_set after parsing, found by element name. So no
 * outside string (an object key, a file name) is ever parsed as pipeline
 * syntax. `pipeline --print` prints the tokens with the settings quoted in
 * place (for gst-launch's parser and for a POSIX shell), so the printed
 * line runs as printed and is the pipeline that runs. (The thumbnail is a
 * frame the runner scales down at the tee and turns into a JPEG afterwards:
 * no branch, no sink that could stall the preroll.)
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

/* A string property set after parsing; printed after token @after. */
typedef struct {
  guint after;                  /* index in argv */
  gchar *element;               /* element name */
  gchar *property;
  gchar *value;
} RcxPlanSetting;

typedef struct {
  const gchar *source;          /* a file path or an s3:// URI (percent-encoded) */
  const gchar *destination;     /* a folder or an s3:// URI prefix (percent-encoded) */
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
  const gchar *source_factory;  /* filesrc or wasabisrc */
  guint source_tokens;          /* argv[0..source_tokens): "SRC name=source !" */
  const gchar *sink_factory;    /* wasabihlssink */
  GArray *settings;             /* RcxPlanSetting, in argv order */
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

/* The pipeline of the plan: the source made with its settings (a URI
 * through the element's URI handler, so a refused URI is an error), the
 * other tokens parsed, the source linked to the decoder, then the sinks'
 * settings set. */
GstElement *rcx_plan_build (const RcxPlan * plan, GError ** error);

/* "gst-launch-1.0 ..." with every token quoted for a POSIX shell, the
 * settings in place as rcx_plan_launch_property() tokens. */
gchar *rcx_plan_to_command_line (const RcxPlan * plan);

/* The gst-launch-1.0 token "PROPERTY=VALUE" that gives @property exactly
 * the string @value (any bytes but NUL: quotes, '!', spaces, newlines),
 * for gst_parse_launchv / gst-launch-1.0's argv (quote it once more for
 * a shell). */
gchar *rcx_plan_launch_property (const gchar * property, const gchar * value);

/* Checks every element a description names against this machine's
 * registry: each property exists, is writable, and its value (variables
 * filled in for a 1920x1080 30 fps source) is valid. Elements not
 * registered here are reported and skipped. Appends one line per finding to
 * @report; returns FALSE when something is wrong. */
gboolean rcx_builder_check_desc (const RcxPipelineDesc * desc,
    GString * report);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxPlan, rcx_plan_free)

G_END_DECLS
