/* rcx-job-outcome.c: what the outcome of a job run means (see
 * rcx-job-run-private.h): the summary printed on stdout, and which
 * failures fail the job for good and which release it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-job-run-private.h"

#include "rcx-jobs.h"
#include "rcx-s3.h"
#include "rcx-transcode.h"

JsonNode *
rcx_job_summary_new (const gchar * job_id, const gchar * status,
    const gchar * reason, const gchar * failure_kind, const gchar * job_state,
    JsonNode * base)
{
  JsonNode *node = base ? json_node_ref (base) :
      json_node_init_object (json_node_alloc (), json_object_new ());
  JsonObject *o;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    json_node_unref (node);
    node = json_node_init_object (json_node_alloc (), json_object_new ());
  }
  o = json_node_get_object (node);
  json_object_set_string_member (o, "job_id", job_id);
  json_object_set_string_member (o, "status", status);
  if (reason) {
    g_autofree gchar *line = rcx_jobs_reason_sanitize (reason);

    json_object_set_string_member (o, "reason", line);
  }
  if (failure_kind)
    json_object_set_string_member (o, "failure_kind", failure_kind);
  if (job_state)
    json_object_set_string_member (o, "job_state", job_state);
  return node;
}

RcxJobFailureKind
rcx_job_classify (const GError * error)
{
  if (error->domain == RCX_TRANSCODE_ERROR) {
    switch (error->code) {
      case RCX_TRANSCODE_ERROR_CONFIG:
        return RCX_JOB_KIND_CONFIG;
      case RCX_TRANSCODE_ERROR_WATCHDOG:
      case RCX_TRANSCODE_ERROR_INTERRUPTED:
        return RCX_JOB_KIND_TRANSIENT;
      default:
        return RCX_JOB_KIND_PERMANENT;  /* the input, or the pipeline on it */
    }
  }
  if (error->domain == RCX_S3_ERROR) {
    /* storing the outputs */
    switch (error->code) {
      case RCX_S3_ERROR_SETTINGS:
      case RCX_S3_ERROR_NOT_AUTHORIZED:
      case RCX_S3_ERROR_NOT_FOUND:
        return RCX_JOB_KIND_CONFIG;     /* our bucket, our credentials */
      case RCX_S3_ERROR_CONNECT:
        return RCX_JOB_KIND_TRANSIENT;
      default:
        return rcx_s3_error_get_http_status (error) == 0
            || rcx_s3_error_get_http_status (error) >= 500 ?
            RCX_JOB_KIND_TRANSIENT : RCX_JOB_KIND_PERMANENT;
    }
  }
  if (error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR)
    return RCX_JOB_KIND_TRANSIENT;
  return RCX_JOB_KIND_PERMANENT;
}

const gchar *
rcx_job_summary_string (JsonObject * o, const gchar * member)
{
  JsonNode *n = json_object_get_member (o, member);

  return n && JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_STRING ?
      json_node_get_string (n) : NULL;
}
