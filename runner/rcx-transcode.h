/* rcx-transcode.h: one transcode job, SRC -> HLS ladder in DST.
 *
 * Probes the source, plans and builds the pipeline (rcx-builder.h), runs
 * it with a watchdog, falls back to the next encoder entry when a hardware
 * attempt fails, stores the thumbnail, and writes the master playlist LAST
 * from the rungs' reports, never after an error or an interruption.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "rcx-pipeline-desc.h"
#include "rcx-progress.h"

G_BEGIN_DECLS

#define RCX_TRANSCODE_ERROR (rcx_transcode_error_quark ())
GQuark rcx_transcode_error_quark (void);

typedef enum {
  RCX_TRANSCODE_ERROR_CONFIG,   /* bad destination, no usable encoder, ... (exit 2) */
  RCX_TRANSCODE_ERROR_INPUT,    /* the source is unreadable or unusable */
  RCX_TRANSCODE_ERROR_FAILED,   /* the pipeline failed */
  RCX_TRANSCODE_ERROR_WATCHDOG, /* no progress for watchdog seconds */
  RCX_TRANSCODE_ERROR_INTERRUPTED,      /* cancelled (SIGINT / SIGTERM) */
} RcxTranscodeErrorCode;

/* Called on the main thread with every progress update (0-100); must not
 * block (rcx-job-run.c hands the value to a writer thread). */
typedef void (*RcxTranscodeProgressFunc) (gdouble percent, gpointer user_data);

typedef struct {
  const gchar *source;          /* file path or s3://bucket/key, key literal */
  const gchar *destination;     /* folder or s3://bucket/prefix/, literal */
  const RcxPipelineDesc *desc;
  const gchar *encoder;         /* force this encoder entry (by name); NULL: by preference */
  const gchar *endpoint_uri;    /* S3 endpoint; NULL: environment */
  guint watchdog;               /* seconds without progress before failing */
  gint retry_timeout;           /* seconds the storage may fail while uploads
                                 * retry (RcxS3Config.retry_timeout);
                                 * 0: RCX_S3_DEFAULT_RETRY_TIMEOUT, < 0: none */
  guint probe_timeout;          /* seconds */
  RcxProgressStyle progress;
  guint progress_interval;      /* seconds, for RCX_PROGRESS_LINES */
  GCancellable *cancellable;    /* cancel to interrupt (no master is written) */
  RcxTranscodeProgressFunc progress_func;       /* may be NULL */
  gpointer progress_data;
  /* Cleanup after a failure or an interruption (deleting the playlists
   * that went up) stops when this is cancelled (NULL: it always runs to
   * its end): job mode cancels it at the shutdown deadline. */
  GCancellable *cleanup_cancellable;
  /* Cancelled together with @cancellable when the job was taken over by
   * another worker: stop at once and delete nothing (the outputs are the
   * other worker's now). May be NULL. */
  GCancellable *abandon;
} RcxTranscodeOptions;

/* Runs the job. On success returns the summary (see docs/runner.md); on
 * failure NULL with @error, and @summary_out (may be NULL) gets a failure
 * summary. */
JsonNode *rcx_transcode_run (const RcxTranscodeOptions * options,
    JsonNode ** failure_summary, GError ** error);

/* For a job failed without running (its attempts used up): takes down
 * what an earlier attempt may have left published at the destination, the
 * master and every ladder rung's playlists of the description (a superset
 * of what an attempt wrote; a missing object is no error). Failures are
 * logged, not returned: the job is failed either way. A local destination
 * that does not exist is left alone (not created). */
void rcx_transcode_unpublish (const RcxTranscodeOptions * options,
    GCancellable * cancellable);

/* The command line's SRC as a URI: a file path -> file:// URI;
 * "s3://bucket/key" with the key literal (the AWS CLI's form) -> the
 * percent-encoded s3:// URI the elements take. RCX_TRANSCODE_ERROR_CONFIG
 * for an unusable s3:// key, _INPUT for a missing file. */
gchar *rcx_transcode_source_uri (const gchar * source, GError ** error);

/* The command line's DST: "s3://bucket/prefix/" (prefix literal) -> its
 * percent-encoded URI; a folder unchanged. */
gchar *rcx_transcode_destination_uri (const gchar * destination,
    GError ** error);

G_END_DECLS
