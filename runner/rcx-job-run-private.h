/* rcx-job-run-private.h: what rcx-job-run.c and rcx-job-outcome.c share.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum
{
  RCX_JOB_KIND_PERMANENT,       /* fail the job */
  RCX_JOB_KIND_TRANSIENT,       /* release it: another attempt may pass */
  RCX_JOB_KIND_CONFIG,          /* release it: this worker is misconfigured */
} RcxJobFailureKind;

/* What a failed transcode means for the job. */
RcxJobFailureKind rcx_job_classify (const GError * error);

/* The summary printed on stdout: @base (the transcode's summary, may be
 * NULL) with "job_id", "status", and when given "reason" (sanitized, one
 * line), "failure_kind", "job_state". */
JsonNode *rcx_job_summary_new (const gchar * job_id, const gchar * status,
    const gchar * reason, const gchar * failure_kind, const gchar * job_state,
    JsonNode * base);

/* A string member of a summary, NULL when absent or not a string. */
const gchar *rcx_job_summary_string (JsonObject * o, const gchar * member);

G_END_DECLS
