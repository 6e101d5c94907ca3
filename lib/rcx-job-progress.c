/* rcx-job-progress.c: a job's progress and heartbeat writer, and the
 * percent / speed / ETA computation (see rcx-job-progress.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "rcx-job-progress"

#include "rcx-job-progress.h"

/* While stopping with a flush, a transient failure is tried again this
 * soon rather than after a whole interval. */
#define FLUSH_RETRY_US (200 * G_TIME_SPAN_MILLISECOND)

void
rcx_progress_estimate (guint64 position, guint64 duration,
    guint64 start_position, guint64 elapsed, gboolean eos,
    RcxProgressEstimate * out)
{
  out->percent = -1.0;
  out->speed = 0.0;
  out->eta = RCX_PROGRESS_NONE;

  if (eos) {
    out->percent = 100.0;
    if (duration != RCX_PROGRESS_NONE)
      position = position == RCX_PROGRESS_NONE ? duration :
          MAX (position, duration);
  } else if (duration != RCX_PROGRESS_NONE && duration > 0
      && position != RCX_PROGRESS_NONE) {
    out->percent = CLAMP (100.0 * (gdouble) position / (gdouble) duration,
        0.0, 100.0);
  }

  if (elapsed != RCX_PROGRESS_NONE && elapsed > 0
      && position != RCX_PROGRESS_NONE && start_position != RCX_PROGRESS_NONE
      && position >= start_position)
    out->speed = (gdouble) (position - start_position) / (gdouble) elapsed;

  if (eos)
    out->eta = 0;
  else if (out->speed > 0 && duration != RCX_PROGRESS_NONE
      && position != RCX_PROGRESS_NONE)
    out->eta = duration > position ?
        (guint64) ((gdouble) (duration - position) / out->speed) : 0;
}

struct _RcxJobProgress
{
  RcxJobs *jobs;
  gchar *job_id;
  gint64 interval_us;
  RcxJobProgressStopped stopped;
  gpointer user_data;
  GCancellable *cancellable;
  GThread *thread;

  GMutex lock;
  GCond cond;
  gdouble percent;              /* the newest value; < 0: unknown */
  guint64 serial;               /* bumped by every set () */
  guint64 stored_serial;        /* the serial of the last stored value */
  gint64 next_us;               /* monotonic: the next write is due */
  gboolean flushing;
  gboolean quit;
  gboolean dead;                /* gave up for good */
  guint64 writes;
  guint64 failures;
};

static gpointer
writer_thread (gpointer data)
{
  RcxJobProgress *w = data;
  g_autoptr (GError) reason = NULL;

  g_mutex_lock (&w->lock);
  while (!w->quit) {
    g_autoptr (GError) error = NULL;
    gint64 now = g_get_monotonic_time ();
    guint64 serial;
    gdouble percent;
    gboolean ok;

    if (now < w->next_us) {
      g_cond_wait_until (&w->cond, &w->lock, w->next_us);
      continue;
    }
    percent = w->percent;
    serial = w->serial;
    g_mutex_unlock (&w->lock);

    ok = rcx_jobs_progress (w->jobs, w->job_id, percent, w->cancellable,
        &error);

    g_mutex_lock (&w->lock);
    w->next_us = g_get_monotonic_time () + w->interval_us;
    if (ok) {
      w->writes++;
      w->stored_serial = serial;
      g_cond_broadcast (&w->cond);
      g_debug ("job %s: progress %.1f stored", w->job_id, percent);
      continue;
    }
    w->failures++;
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      break;
    if (rcx_jobs_error_is_transient (error)) {
      g_warning ("job %s: progress not stored (%s); trying again with the "
          "newest value", w->job_id, error->message);
      if (w->flushing)
        w->next_us = g_get_monotonic_time () + FLUSH_RETRY_US;
      continue;
    }
    /* the one rule: anything but a transient failure ends the writer */
    g_warning ("job %s: not writing progress any more: %s", w->job_id,
        error->message);
    w->dead = TRUE;
    if (!w->quit)
      reason = g_steal_pointer (&error);
    break;
  }
  w->dead = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);

  if (reason && w->stopped)
    w->stopped (reason, w->user_data);
  return NULL;
}

RcxJobProgress *
rcx_job_progress_new (RcxJobs * jobs, const gchar * job_id,
    gdouble interval_s, RcxJobProgressStopped stopped, gpointer user_data)
{
  RcxJobProgress *w;

  g_return_val_if_fail (jobs != NULL && job_id != NULL, NULL);
  g_return_val_if_fail (interval_s > 0, NULL);

  w = g_new0 (RcxJobProgress, 1);
  w->jobs = jobs;
  w->job_id = g_strdup (job_id);
  w->interval_us = MAX ((gint64) (interval_s * G_USEC_PER_SEC), 1000);
  w->stopped = stopped;
  w->user_data = user_data;
  w->cancellable = g_cancellable_new ();
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->percent = -1.0;
  w->serial = 1;                /* the first write (a heartbeat) is due now */
  w->next_us = 0;
  w->thread = g_thread_new ("rcx-job-progress", writer_thread, w);
  return w;
}

void
rcx_job_progress_set (RcxJobProgress * w, gdouble percent, gboolean now)
{
  g_mutex_lock (&w->lock);
  w->percent = percent < 0 ? -1.0 : MIN (percent, 100.0);
  w->serial++;
  if (now)
    w->next_us = 0;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

gboolean
rcx_job_progress_has_stopped (RcxJobProgress * w)
{
  gboolean dead;

  g_mutex_lock (&w->lock);
  dead = w->dead;
  g_mutex_unlock (&w->lock);
  return dead;
}

gboolean
rcx_job_progress_stop (RcxJobProgress * w, gdouble flush_timeout_s)
{
  gint64 deadline = g_get_monotonic_time () +
      (gint64) (flush_timeout_s * G_USEC_PER_SEC);
  GThread *thread;
  gboolean stored;

  /* two threads may stop it (job mode: the release on SIGTERM and the
   * main thread): one joins */
  g_mutex_lock (&w->lock);
  thread = g_steal_pointer (&w->thread);
  if (thread == NULL) {
    stored = w->stored_serial == w->serial;
    g_mutex_unlock (&w->lock);
    return stored;
  }
  if (flush_timeout_s > 0 && w->stored_serial != w->serial) {
    w->flushing = TRUE;
    w->next_us = 0;
    g_cond_broadcast (&w->cond);
    while (!w->dead && w->stored_serial != w->serial)
      if (!g_cond_wait_until (&w->cond, &w->lock, deadline))
        break;
    if (w->stored_serial != w->serial && !w->dead)
      g_warning ("job %s: the database did not take the last progress "
          "within %.1f s, giving up", w->job_id, flush_timeout_s);
  }
  w->quit = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  g_cancellable_cancel (w->cancellable);
  g_thread_join (thread);
  stored = w->stored_serial == w->serial;
  g_debug ("job %s: %" G_GUINT64_FORMAT " progress writes, %"
      G_GUINT64_FORMAT " failed", w->job_id, w->writes, w->failures);
  return stored;
}

void
rcx_job_progress_get_counts (RcxJobProgress * w, guint64 * writes,
    guint64 * failures)
{
  g_mutex_lock (&w->lock);
  if (writes)
    *writes = w->writes;
  if (failures)
    *failures = w->failures;
  g_mutex_unlock (&w->lock);
}

void
rcx_job_progress_free (RcxJobProgress * w)
{
  if (w == NULL)
    return;
  rcx_job_progress_stop (w, 0);
  g_object_unref (w->cancellable);
  g_free (w->job_id);
  g_cond_clear (&w->cond);
  g_mutex_clear (&w->lock);
  g_free (w);
}
