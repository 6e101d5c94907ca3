/* rcx-job-progress.h: the one writer of a running job's progress and
 * heartbeat to its row (jobs.progress, jobs.updated_at), used by the
 * jobstatus element and by the runner's job mode, and the one computation
 * of percent / speed / ETA.
 *
 * The writer:
 * - runs on a thread of its own: rcx_job_progress_set () only stores the
 *   newest value and never blocks, so no streaming thread or main loop
 *   waits for the database;
 * - writes at most every interval, and at least every interval: a write
 *   is also the heartbeat (it moves jobs.updated_at even when no percent
 *   is known, percent < 0), so a healthy job never looks stale and is
 *   never taken over (the stale threshold is 15 minutes, the interval a
 *   few seconds);
 * - one rule for giving up: a transient failure (5xx after the HTTP
 *   client's retries, a connection error: rcx_jobs_error_is_transient ())
 *   is logged and the newest value is tried again at the next interval;
 *   anything else (the job is not running under this worker any more:
 *   RCX_JOBS_ERROR_NOT_OURS; a refused key; a request the server rejects;
 *   an answer that makes no sense) stops the writer for good and calls
 *   the `stopped` callback once, from the writer's thread, with the
 *   reason. RCX_JOBS_ERROR_NOT_OURS means ownership is lost: whoever runs
 *   the job must stop at once;
 * - stopping: rcx_job_progress_stop () writes the newest value for at
 *   most the given time (0: at once, a write in flight is cancelled).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "rcx-jobs.h"

G_BEGIN_DECLS

/* ---- percent / speed / ETA ---------------------------------------------- */

/* Times in nanoseconds, RCX_PROGRESS_NONE (G_MAXUINT64): unknown. */
#define RCX_PROGRESS_NONE G_MAXUINT64

typedef struct {
  gdouble percent;              /* 0-100; -1: unknown (no duration) */
  gdouble speed;                /* stream time / elapsed time; 0: unknown */
  guint64 eta;                  /* ns left at this speed; NONE: unknown */
} RcxProgressEstimate;

/* @position: stream time reached; @duration: the stream's; @start_position:
 * where the measurement began; @elapsed: time spent since then; @eos: the
 * end was reached (100 %, ETA 0). */
void rcx_progress_estimate (guint64 position, guint64 duration,
    guint64 start_position, guint64 elapsed, gboolean eos,
    RcxProgressEstimate * out);

/* ---- the writer --------------------------------------------------------- */

typedef struct _RcxJobProgress RcxJobProgress;

/* Called once, from the writer's thread, when it stops writing for good
 * (see above); @reason: why (RCX_JOBS_ERROR_NOT_OURS: ownership lost). */
typedef void (*RcxJobProgressStopped) (const GError * reason,
    gpointer user_data);

/* @jobs: used from the writer's thread (its worker id is the owner the
 * database checks; NULL worker id: no ownership check); must outlive the
 * writer. @interval_s: seconds between two writes (> 0). */
RcxJobProgress *rcx_job_progress_new (RcxJobs * jobs, const gchar * job_id,
    gdouble interval_s, RcxJobProgressStopped stopped, gpointer user_data);

/* The newest percent (< 0: unknown; heartbeats go on). @now: write it
 * without waiting for the interval (the final value). Never blocks. */
void rcx_job_progress_set (RcxJobProgress * writer, gdouble percent,
    gboolean now);

/* TRUE once the writer stopped for good (the stopped callback ran). */
gboolean rcx_job_progress_has_stopped (RcxJobProgress * writer);

/* Stops the writer: the newest value is written first, for at most
 * @flush_timeout_s seconds (0: not at all). Then the thread ends; the
 * callback is not called any more. Returns TRUE when the newest value was
 * stored. Safe to call more than once. */
gboolean rcx_job_progress_stop (RcxJobProgress * writer,
    gdouble flush_timeout_s);

/* Stops (at once, if still running) and frees. */
void rcx_job_progress_free (RcxJobProgress * writer);

/* Writes that went through / failed, for logs. */
void rcx_job_progress_get_counts (RcxJobProgress * writer, guint64 * writes,
    guint64 * failures);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxJobProgress, rcx_job_progress_free)

G_END_DECLS
