/* rcx-worker-private.h: what the rcx-worker*.c files share: the options,
 * the worker and its slots, and the functions that cross files.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "rcx-http.h"
#include "rcx-job-message.h"
#include "rcx-jobs.h"
#include "rcx-postgrest.h"
#include "rcx-sqs.h"

G_BEGIN_DECLS

/* Seconds the children get of the shutdown budget before SIGKILL: the rest
 * is for handing the messages back. */
#define SHUTDOWN_MARGIN 5
/* Seconds before the end of the shutdown budget at which the hand-back of
 * the messages is cancelled. Not at the kill deadline (SHUTDOWN_MARGIN):
 * a child that used all its cleanup time exits only then, and its message
 * must still be handed back after it. */
#define HANDBACK_MARGIN 2

typedef struct
{
  gchar *queue_url;
  gchar *sqs_endpoint;
  gchar *bucket;
  gchar *s3_endpoint;
  gchar *storage_region;
  /* storage (S3/Wasabi) keys for the children, environment only; NULL:
   * the children inherit the worker's AWS_* (see configure_storage) */
  gchar *storage_key_id;
  gchar *storage_secret;
  gchar *storage_token;
  gchar *key_template;
  gchar *description;
  gchar *worker_id;
  gchar *health_file;
  gchar **child_args;
  gint concurrency;
  gint visibility;
  gint heartbeat;
  gint wait_time;
  gint max_receives;
  gint shutdown_budget;
  gint backoff_base;
  gint backoff_max;
  gint not_ours_delay;
  gint protection_minutes;
  gchar *stale_after_text;      /* --stale-after as given */
  gint stale_after;             /* seconds: the claims' stale horizon */
  gint job_timeout;
} WorkerOptions;

typedef struct _Worker Worker;

typedef struct
{
  Worker *w;
  guint index;
  gchar *wid;                   /* <worker-id>-<slot>: who claims */
  RcxSqsMessage *msg;
  GSubprocess *child;           /* under w->lock */
  gboolean heartbeat_lost;
} Slot;

struct _Worker
{
  WorkerOptions *o;
  RcxSqsClient *sqs;
  RcxPostgrest *pg;
  gchar *self_exe;
  GMainLoop *loop;
  GCancellable *stop;           /* cancelled on SIGTERM / SIGINT */
  /* cancelled HANDBACK_MARGIN s before the shutdown budget ends: the
   * messages' hand-back (visibility 0) gives up then, so a stalled SQS
   * cannot hold the exit past the budget */
  GCancellable *handback;

  GMutex lock;
  GCond cond;
  Slot **slots;                 /* o->concurrency of them, NULL: free */
  guint active;
  gboolean stopping;
  gboolean receiver_done;
  gint64 last_poll;             /* monotonic, the receiver's last turn */
  GThread *receiver;

  /* ECS task scale-in protection */
  GMutex protection_lock;
  RcxHttpClient *agent;
  gchar *agent_uri;
  guint protected_jobs;
  gint64 protection_expires;    /* monotonic */
};

/* rcx-worker-log.c */
void rcx_worker_log_set_context (const gchar * worker_id,
    const gchar * queue_url);
void rcx_worker_log_set_json (gboolean json);
const gchar *rcx_worker_log_queue (void);
void rcx_worker_emit (const gchar * level, const gchar * event,
    const gchar * job_id, const gchar * media_id, JsonObject * fields);
JsonObject *rcx_worker_fields_new (const gchar * first, ...);
void rcx_worker_emit_metrics (const gchar * job_id, const gchar * kind,
    const gchar * const *names, const gchar * const *units,
    const gdouble * values, guint n);
void rcx_worker_count_failure (const gchar * job_id, const gchar * kind);

/* rcx-worker-queue.c */
void rcx_worker_message_delete (Slot * s, const gchar * job_id,
    const gchar * media_id);
void rcx_worker_message_visibility (Slot * s, guint seconds,
    const gchar * job_id, const gchar * media_id);
guint rcx_worker_backoff_seconds (Slot * s);
RcxJobs *rcx_worker_slot_jobs (Slot * s);
void rcx_worker_give_up (Slot * s, const gchar * job_id,
    const gchar * media_id, const gchar * why);
gboolean rcx_worker_check_done (gpointer data);
gpointer rcx_worker_receiver_thread (gpointer data);

/* rcx-worker-child.c */
void rcx_worker_run_child (Slot * s, const RcxJobMessage * m,
    const RcxJobLookup * lookup);

G_END_DECLS
