/* jobstatus: posts progress messages and writes a job's progress to
 * Supabase.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_JOB_STATUS (gst_job_status_get_type ())
G_DECLARE_FINAL_TYPE (GstJobStatus, gst_job_status, GST, JOB_STATUS,
    GstBaseTransform)

G_END_DECLS
