/* rcx-transcode-private.h: the attempt the rcx-transcode*.c, rcx-publish.c
 * and rcx-summary.c files share; nothing outside the transcode sees it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "rcx-builder.h"
#include "rcx-concealment.h"
#include "rcx-progress.h"
#include "rcx-store.h"
#include "rcx-transcode.h"

G_BEGIN_DECLS

typedef struct
{
  guint64 size;                 /* bytes, from wasabihlssink-segment */
  guint segments;
  gchar *codecs;                /* from the last wasabihlssink-segment */
  GstStructure *report;         /* wasabihlssink-rung */
} RungState;

/* One attempt: one pipeline with one encoder entry. */
typedef struct
{
  const RcxTranscodeOptions *options;
  const RcxPlan *plan;
  GstElement *pipeline;
  GMainLoop *loop;
  RcxProgress *progress;

  GError *error;                /* the first failure */
  gboolean device_failure;      /* the failure came from the hardware path */
  gboolean done;                /* EOS reached */
  gboolean stuck;               /* a state change never returned: the
                                 * pipeline is lost (rcx-transcode-state.h) */

  GstClockTime duration;        /* probed */
  gint64 start_us;

  /* Watchdog: bumped by buffer probes and segment messages. */
  gint activity;
  gint seen_activity;
  gint64 last_activity_us;

  /* Guarded by lock (streaming threads). */
  GMutex lock;
  GstClockTime reached;         /* stream time of the video at the tee */
  guint64 frames;
  GstSample *thumbnail;         /* the frame at the thumbnail position, thumbnail-sized */

  gboolean have_jobstatus;      /* progress comes from jobstatus messages */
  RungState *rungs;

  RcxConcealment *concealment;  /* what a damaged source made us hide */
  RcxStore *store;              /* the destination */
  gboolean early_master;        /* the live master playlist may be stored */
  gboolean early_master_sending;        /* its PUT has not ended yet */
} Attempt;


/* Field readers for wasabihlssink-rung reports: absent fields read as
 * NULL / 0. */
static inline const gchar *
get_string (const GstStructure * s, const gchar * field)
{
  const gchar *v = gst_structure_get_string (s, field);

  return v ? v : "";
}

static inline guint
get_uint (const GstStructure * s, const gchar * field)
{
  guint v = 0;

  gst_structure_get_uint (s, field, &v);
  return v;
}

static inline gint
get_int (const GstStructure * s, const gchar * field)
{
  gint v = 0;

  gst_structure_get_int (s, field, &v);
  return v;
}

static inline gdouble
get_double (const GstStructure * s, const gchar * field)
{
  gdouble v = 0;

  gst_structure_get_double (s, field, &v);
  return v;
}


/* rcx-transcode.c */
void rcx_attempt_fail (Attempt * a, GError * error);
/* The destination's store (RCX_TRANSCODE_ERROR_CONFIG when unusable). */
RcxStore *rcx_transcode_open_store (const RcxTranscodeOptions * options,
    GError ** error);

/* rcx-transcode-probes.c */
GstPadProbeReturn rcx_attempt_tee_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data);
GstPadProbeReturn rcx_attempt_activity_probe (GstPad * pad,
    GstPadProbeInfo * info, gpointer user_data);
gboolean rcx_attempt_add_pad_probe (GstElement * pipeline,
    const gchar * element, const gchar * pad_name, GstPadProbeType type,
    GstPadProbeCallback cb, gpointer data);

/* rcx-publish.c */
void rcx_publish_early_master (Attempt * a);
void rcx_publish_unpublish (Attempt * a, GError ** failure);
gchar *rcx_publish_master_playlist (Attempt * a);
gboolean rcx_publish_thumbnail (Attempt * a, RcxStore * store,
    gboolean * stored, GError ** error);

/* rcx-summary.c */
JsonNode *rcx_transcode_summary (Attempt * a, RcxStore * store,
    const gchar * fallback_reason, gboolean with_thumbnail, gint64 start_us);
JsonNode *rcx_transcode_failure_summary (const RcxTranscodeOptions * options,
    const GError * error, const gchar * encoder, gint64 start_us);

G_END_DECLS
