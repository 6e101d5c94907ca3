/* gstjobstatus-db.c: jobstatus's database side: the job row's progress
 * through the writer of lib/rcx-job-progress.h (configuration from the
 * properties or the environment, starting and stopping the writer, what
 * happens when it gives up). The element and its messages are
 * gstjobstatus.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstjobstatus-private.h"

#include <rcx-ids.h>
#include <string.h>

#define GST_CAT_DEFAULT gst_job_status_debug

#define DB_HTTP_TIMEOUT 10
#define MIN_DB_INTERVAL 0.05

/* The writer's thread: it stopped writing for good. A job taken over by
 * another worker must not go on (its outputs are the new worker's now):
 * with a worker-id, that is an error that stops the pipeline. Anything
 * else (a refused key...) only ends the writes: the pipeline never fails
 * because of the database. */
static void
on_writer_stopped (const GError * reason, gpointer user_data)
{
  GstJobStatus *self = GST_JOB_STATUS (user_data);
  gboolean owned;

  GST_OBJECT_LOCK (self);
  owned = self->worker_id != NULL;
  GST_OBJECT_UNLOCK (self);
  if (owned && g_error_matches (reason, RCX_JOBS_ERROR,
          RCX_JOBS_ERROR_NOT_OURS))
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("The job was taken over by "
            "another worker"), ("%s", reason->message));
  else
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, (NULL),
        ("not writing progress any more: %s", reason->message));
}

static gboolean
db_open (GstJobStatus * self, const gchar * url, const gchar * key,
    const gchar * job_id, const gchar * worker_id, gdouble interval,
    GError ** error)
{
  RcxHttpClientOptions options = { 0, };
  g_autoptr (RcxHttpClient) http = NULL;
  g_autoptr (RcxPostgrest) pg = NULL;

  options.timeout = DB_HTTP_TIMEOUT;
  http = rcx_http_client_new (&options);
  pg = rcx_postgrest_new (url, key, http, error);
  if (pg == NULL)
    return FALSE;
  self->jobs = rcx_jobs_new (pg, worker_id);
  /* every interval is a write, so 0 means "as often as sensible" */
  self->db = rcx_job_progress_new (self->jobs, job_id,
      MAX (interval, MIN_DB_INTERVAL),
      on_writer_stopped, self);
  return TRUE;
}

void
gst_job_status_db_stop (GstJobStatus * self, gdouble flush_timeout)
{
  if (self->db)
    rcx_job_progress_stop (self->db, flush_timeout);
  g_clear_pointer (&self->db, rcx_job_progress_free);
  g_clear_pointer (&self->jobs, rcx_jobs_free);
}

gboolean
gst_job_status_db_start (GstJobStatus * self)
{
  g_autofree gchar *url = NULL, *key = NULL, *job_id = NULL, *worker = NULL;
  g_autoptr (GError) error = NULL;
  gdouble interval;

  GST_OBJECT_LOCK (self);
  job_id = g_strdup (self->job_id);
  url = g_strdup (self->supabase_url);
  key = g_strdup (self->supabase_key);
  worker = g_strdup (self->worker_id);
  interval = self->db_interval;
  GST_OBJECT_UNLOCK (self);

  if (job_id == NULL)
    return TRUE;
  if (url == NULL)
    url = g_strdup (g_getenv ("SUPABASE_URL"));
  if (key == NULL)
    key = g_strdup (g_getenv ("SUPABASE_SERVICE_KEY"));
  if (url == NULL || *url == '\0' || key == NULL || *key == '\0') {
    GST_INFO_OBJECT (self, "job %s: no Supabase URL or key, progress goes to "
        "the bus only", job_id);
    return TRUE;
  }
  if (!rcx_id_is_valid (job_id)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, (NULL),
        ("invalid job-id (allowed: 1-128 of A-Z a-z 0-9 _ -)"));
    return FALSE;
  }

  if (worker != NULL && !rcx_jobs_worker_id_is_valid (worker)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, (NULL),
        ("invalid worker-id (allowed: 1-128 of A-Z a-z 0-9 _ - . : /)"));
    return FALSE;
  }
  if (!db_open (self, url, key, job_id, worker, interval, &error)) {
    memset (key, 0, strlen (key));
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, (NULL),
        ("supabase-url: %s", error->message));
    return FALSE;
  }
  memset (key, 0, strlen (key));
  GST_INFO_OBJECT (self, "job %s: writing progress to Supabase every %.1f s",
      job_id, interval);
  return TRUE;
}
