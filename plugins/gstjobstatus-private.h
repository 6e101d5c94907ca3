/* gstjobstatus-private.h: what gstjobstatus.c (the element, its
 * messages) and gstjobstatus-db.c (the job row's progress) share.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "gstjobstatus.h"

#include <rcx-job-progress.h>
#include <rcx-jobs.h>

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (gst_job_status_debug);

struct _GstJobStatus
{
  GstBaseTransform parent;

  /* properties (object lock) */
  gdouble update_freq;
  GstClockTime duration_prop;
  gchar *job_id;
  gchar *supabase_url;
  gchar *supabase_key;
  gchar *worker_id;
  gdouble db_interval;
  gdouble db_flush_timeout;

  /* streaming state (object lock) */
  GstClockTime start_rt;        /* running time of the first buffer */
  GstClockTime start_pos;       /* stream time of the first buffer */
  GstClockTime last_post_rt;
  GstClockTime position;
  GstClockTime duration;
  guint64 frames;
  gboolean eos;

  /* the database (NULL: not configured); set in start (), freed in stop () */
  RcxJobs *jobs;
  RcxJobProgress *db;
  gdouble db_last_percent;      /* streaming thread: last value handed over */
};

/* gstjobstatus-db.c. Both from start () / stop (), streaming lock free.
 * db_start: when job-id and a Supabase URL and key are set (properties,
 * else the environment), starts the progress writer; FALSE (an element
 * error posted) on a bad id or URL. */
gboolean gst_job_status_db_start (GstJobStatus * self);
void gst_job_status_db_stop (GstJobStatus * self, gdouble flush_timeout);

G_END_DECLS
