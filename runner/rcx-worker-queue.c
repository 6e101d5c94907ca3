/* rcx-worker-queue.c: the worker's side of SQS: the receiver thread that
 * long-polls while a slot is free, one thread per received message (its
 * lookup, then the child), and the message's fate (delete, visibility,
 * back-off, give up).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-worker.h"
#include "rcx-worker-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rcx-http.h"
#include "rcx-ids.h"
#include "rcx-job-message.h"
#include "rcx-jobs.h"
#include "rcx-postgrest.h"
#include "rcx-retry.h"
#include "rcx-sqs.h"

/* ---- one message ------------------------------------------------------- */

void
rcx_worker_message_delete (Slot * s, const gchar * job_id,
    const gchar * media_id)
{
  g_autoptr (GError) error = NULL;

  /* not cancellable by shutdown: a finished job's message must go */
  if (rcx_sqs_delete_message (s->w->sqs, NULL, s->msg->receipt_handle, NULL,
          &error)) {
    rcx_worker_emit ("info", "message-deleted", job_id, media_id,
        rcx_worker_fields_new ("message_id", s->msg->message_id, NULL));
    return;
  }
  /* it comes back; its job is final in the database, so the next delivery
   * deletes it without running anything */
  rcx_worker_emit ("error", "message-delete-failed", job_id, media_id,
      rcx_worker_fields_new ("message_id", s->msg->message_id, "reason",
          error->message, NULL));
}

void
rcx_worker_message_visibility (Slot * s, guint seconds, const gchar * job_id,
    const gchar * media_id)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = g_strdup_printf ("%u", seconds);

  /* cancelled only near the end of the shutdown budget */
  if (rcx_sqs_change_message_visibility (s->w->sqs, NULL,
          s->msg->receipt_handle, seconds, s->w->handback, &error)) {
    rcx_worker_emit ("info", "message-visibility", job_id, media_id,
        rcx_worker_fields_new ("message_id", s->msg->message_id, "seconds",
            text, NULL));
    return;
  }
  rcx_worker_emit ("warning", "message-visibility-failed", job_id, media_id,
      rcx_worker_fields_new ("message_id", s->msg->message_id, "seconds", text,
          "reason", error->message, NULL));
}

/* The visibility of a message whose job should be tried again later:
 * exponential in its receive count, 0 when the worker stops. */
guint
rcx_worker_backoff_seconds (Slot * s)
{
  const WorkerOptions *o = s->w->o;
  guint n = MAX (s->msg->receive_count, 1) - 1;
  gint64 v = (gint64) o->backoff_base << MIN (n, 20);

  if (g_cancellable_is_cancelled (s->w->stop))
    return 0;
  return (guint) MIN (v, (gint64) o->backoff_max);
}

RcxJobs *
rcx_worker_slot_jobs (Slot * s)
{
  RcxJobs *jobs = rcx_jobs_new (s->w->pg, s->wid);

  /* the worker's own writes must end inside the shutdown budget */
  rcx_jobs_set_persistence (jobs, MAX (s->w->o->shutdown_budget / 4, 1));
  rcx_jobs_set_stale_after (jobs, s->w->o->stale_after);
  return jobs;
}

/* After max receives: the job is failed (a queued or stale running one),
 * and the message is left for the queue's redrive to the dead-letter
 * queue. */
void
rcx_worker_give_up (Slot * s, const gchar * job_id, const gchar * media_id,
    const gchar * why)
{
  g_autoptr (RcxJobs) jobs = rcx_worker_slot_jobs (s);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *state = NULL;
  g_autofree gchar *reason = why ? g_strdup (why) :
      g_strdup_printf ("given up after %u deliveries of its message (max "
      "receives)", s->msg->receive_count);

  if (rcx_jobs_give_up (jobs, job_id, reason, &state, NULL, &error)
      && g_strcmp0 (state, "failed") == 0) {
    rcx_worker_emit ("error", "job-given-up", job_id, media_id,
        rcx_worker_fields_new ("reason", reason, NULL));
    rcx_worker_count_failure (job_id, "poison");
  } else {
    rcx_worker_emit ("warning", "job-give-up-skipped", job_id, media_id,
        rcx_worker_fields_new ("reason", error ? error->message : NULL,
            "job_state", state, NULL));
  }
}

static gboolean
db_error_is_permanent (const GError * error)
{
  return error->domain == RCX_JOBS_ERROR
      || g_error_matches (error, RCX_POSTGREST_ERROR,
      RCX_POSTGREST_ERROR_REJECTED)
      || g_error_matches (error, RCX_POSTGREST_ERROR,
      RCX_POSTGREST_ERROR_INVALID);
}

static void
handle_message (Slot * s)
{
  Worker *w = s->w;
  g_auto (RcxJobMessage) m = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (RcxJobs) jobs = NULL;
  g_autoptr (RcxJobLookup) lookup = NULL;
  g_autofree gchar *count = g_strdup_printf ("%u", s->msg->receive_count);

  if (!rcx_job_message_parse (s->msg->body, s->msg->body_len, &m, &error)) {
    /* nothing in it can be trusted, not even a job id to fail */
    rcx_worker_emit ("error", "message-rejected", NULL, NULL,
        rcx_worker_fields_new ("message_id", s->msg->message_id, "reason",
            error->message, NULL));
    rcx_worker_count_failure (NULL, "rejected");
    rcx_worker_message_delete (s, NULL, NULL);
    return;
  }
  rcx_worker_emit ("info", "message-received", m.job_id, m.media_id,
      rcx_worker_fields_new ("message_id", s->msg->message_id, "receive_count",
          count, NULL));
  if (s->msg->receive_count > (guint) w->o->max_receives) {
    rcx_worker_give_up (s, m.job_id, m.media_id, NULL);
    rcx_worker_message_visibility (s, 0, m.job_id, m.media_id);
    return;
  }

  jobs = rcx_worker_slot_jobs (s);
  lookup = rcx_jobs_lookup (jobs, m.job_id, w->stop, &error);
  if (!lookup) {
    if (db_error_is_permanent (error)) {
      rcx_worker_emit ("error", "message-rejected", m.job_id, m.media_id,
          rcx_worker_fields_new ("reason", error->message, NULL));
      rcx_worker_count_failure (m.job_id, "rejected");
      rcx_worker_message_delete (s, m.job_id, m.media_id);
    } else {
      rcx_worker_emit ("warning", "lookup-failed", m.job_id, m.media_id,
          rcx_worker_fields_new ("reason", error->message, NULL));
      rcx_worker_count_failure (m.job_id, "transient");
      rcx_worker_message_visibility (s, rcx_worker_backoff_seconds (s),
          m.job_id, m.media_id);
    }
    return;
  }
  if (!rcx_job_lookup_matches (lookup, m.media_id, m.org_id, &error)) {
    rcx_worker_emit ("error", "message-rejected", m.job_id, m.media_id,
        rcx_worker_fields_new ("reason", error->message, NULL));
    rcx_worker_count_failure (m.job_id, "rejected");
    rcx_worker_message_delete (s, m.job_id, m.media_id);
    return;
  }
  if (g_strcmp0 (lookup->state, "succeeded") == 0
      || g_strcmp0 (lookup->state, "failed") == 0) {
    /* a duplicate delivery, or a delete that failed after the end */
    rcx_worker_emit ("info", "job-already-final", m.job_id, m.media_id,
        rcx_worker_fields_new ("job_state", lookup->state, NULL));
    rcx_worker_message_delete (s, m.job_id, m.media_id);
    return;
  }
  if (!rcx_job_source_key_is_valid (lookup->source_key)) {
    rcx_worker_emit ("error", "message-rejected", m.job_id, m.media_id,
        rcx_worker_fields_new ("reason",
            "the media asset's source_key is missing or "
            "not a safe object key", NULL));
    rcx_worker_count_failure (m.job_id, "rejected");
    rcx_worker_give_up (s, m.job_id, m.media_id,
        "the media asset's source_key is " "missing or not a safe object key");
    rcx_worker_message_delete (s, m.job_id, m.media_id);
    return;
  }
  rcx_worker_run_child (s, &m, lookup);
}

gboolean
rcx_worker_check_done (gpointer data)
{
  Worker *w = data;
  gboolean done;

  g_mutex_lock (&w->lock);
  done = w->stopping && w->active == 0 && w->receiver_done;
  g_mutex_unlock (&w->lock);
  if (done)
    g_main_loop_quit (w->loop);
  return G_SOURCE_REMOVE;
}

static gpointer
slot_thread (gpointer data)
{
  Slot *s = data;
  Worker *w = s->w;

  handle_message (s);

  g_mutex_lock (&w->lock);
  w->slots[s->index] = NULL;
  w->active--;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  rcx_sqs_message_free (s->msg);
  g_free (s->wid);
  g_free (s);
  g_main_context_invoke (NULL, rcx_worker_check_done, w);
  return NULL;
}

gpointer
rcx_worker_receiver_thread (gpointer data)
{
  Worker *w = data;
  guint failures = 0;

  for (;;) {
    g_autoptr (GPtrArray) msgs = NULL;
    g_autoptr (GError) error = NULL;
    RcxSqsReceiveOptions ro;
    guint free_slots;

    g_mutex_lock (&w->lock);
    w->last_poll = g_get_monotonic_time ();
    while (!w->stopping && w->active >= (guint) w->o->concurrency)
      g_cond_wait (&w->cond, &w->lock);
    free_slots = w->o->concurrency - w->active;
    g_mutex_unlock (&w->lock);
    if (g_cancellable_is_cancelled (w->stop))
      break;

    rcx_sqs_receive_options_init (&ro);
    ro.max_messages = MIN (free_slots, RCX_SQS_MAX_MESSAGES);
    ro.wait_time_seconds = w->o->wait_time;
    ro.visibility_timeout = w->o->visibility;
    msgs = rcx_sqs_receive_message (w->sqs, NULL, &ro, w->stop, &error);
    if (!msgs) {
      if (g_cancellable_is_cancelled (w->stop))
        break;
      rcx_worker_emit ("warning", "receive-failed", NULL, NULL,
          rcx_worker_fields_new ("reason", error->message, NULL));
      /* SQS answered with an error after its own retries: wait before
       * asking again, longer while it keeps failing (up to 20 s) */
      rcx_retry_sleep (MIN ((gint64) 1 << MIN (failures, 5), 20) *
          G_USEC_PER_SEC, w->stop, NULL);
      failures++;
      continue;
    }
    failures = 0;
    for (guint i = 0; i < msgs->len; i++) {
      Slot *s = g_new0 (Slot, 1);

      s->w = w;
      s->msg = g_steal_pointer (&msgs->pdata[i]);
      g_mutex_lock (&w->lock);
      for (s->index = 0; w->slots[s->index]; s->index++);
      w->slots[s->index] = s;
      w->active++;
      g_mutex_unlock (&w->lock);
      s->wid = g_strdup_printf ("%s-%u", w->o->worker_id, s->index);
      g_thread_unref (g_thread_new ("rcx-job", slot_thread, s));
    }
  }
  g_mutex_lock (&w->lock);
  w->receiver_done = TRUE;
  g_mutex_unlock (&w->lock);
  g_main_context_invoke (NULL, rcx_worker_check_done, w);
  return NULL;
}
