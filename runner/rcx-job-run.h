/* rcx-job-run.h: a transcode run as a Supabase job (transcode --job-id).
 *
 * The life cycle of one job record (lib/rcx-jobs.h, docs/database.md):
 *
 *   claim    jobs queued -> running, media_assets uploaded -> transcoding;
 *            a job running elsewhere (exit 4), succeeded (exit 0) or
 *            failed (exit 1) is left alone: a duplicate delivery never
 *            transcodes twice; a job whose attempts are used up is failed
 *            (exit 1)
 *   progress the transcode's progress (jobstatus's `progress` messages)
 *            and a heartbeat, written by lib/rcx-job-progress (its own
 *            thread, every interval seconds, from the claim to the end);
 *            a write refused because the job is not ours any more (taken
 *            over) stops the pipeline at once, deletes nothing, exit 4
 *   succeed  media_assets -> transcoded -> complete (streaming URL =
 *            the master playlist, thumbnail URL, duration, renditions),
 *            jobs -> succeeded
 *   fail     a permanent failure (bad input, source 403/404...): jobs ->
 *            failed with the one-line reason (exit 1)
 *   release  a transient failure (storage or database unavailable past
 *            the retries), SIGINT / SIGTERM (exit 3), a configuration
 *            error of this worker (exit 2): jobs -> queued, media_assets
 *            -> uploaded
 *
 * SUPABASE_URL and SUPABASE_SERVICE_KEY come from the environment only; the
 * key is never logged.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "rcx-transcode.h"

G_BEGIN_DECLS

#define RCX_JOB_RUN_DEFAULT_PROGRESS_INTERVAL 5.0
#define RCX_JOB_RUN_DEFAULT_SHUTDOWN_TIMEOUT 20
/* --stale-after: at least this many seconds (a heartbeat must fit) */
#define RCX_JOB_RUN_MIN_STALE_AFTER 10

/* The exit status of `transcode --job-id` (the contract with the SQS
 * worker, docs/runner.md): what the database already says when the process
 * exits. */
typedef enum {
  RCX_JOB_EXIT_SUCCEEDED = 0,   /* succeeded (by this run, or already) */
  RCX_JOB_EXIT_FAILED = 1,      /* failed for good (by this run, or already) */
  RCX_JOB_EXIT_USAGE = 2,       /* usage / configuration error; released */
  RCX_JOB_EXIT_RELEASED = 3,    /* transient failure or SIGTERM: queued again */
  RCX_JOB_EXIT_NOT_OURS = 4,    /* running elsewhere, or taken over mid-way */
} RcxJobExit;

typedef struct {
  gchar *job_id;                /* NULL: not a job (a plain transcode) */
  gchar *worker_id;             /* NULL: <host>-<pid> */
  gdouble progress_interval;    /* seconds between two progress writes */
  gint shutdown_timeout;        /* seconds for the cleanup after SIGTERM */
  gchar *stale_after;           /* --stale-after: NULL, the library's 900 s */
  GOptionEntry *entries;        /* owned, see rcx_job_run_option_entries () */
} RcxJobRunOptions;

void rcx_job_run_options_clear (RcxJobRunOptions * options);

/* The command-line options (--job-id, --worker-id,
 * --job-progress-interval, --shutdown-timeout, --stale-after) storing into @options, for
 * g_option_context_add_main_entries (); valid until @options is cleared. */
const GOptionEntry *rcx_job_run_option_entries (RcxJobRunOptions * options);

/* Claims the job, runs rcx_transcode_run () with @transcode and records the
 * outcome. Always returns the summary to print (one JSON object with
 * "job_id", "status": succeeded | failed | skipped | released | not-ours,
 * and, when there is one, "reason" and "failure_kind": permanent |
 * transient); *@exit_code says how it ended; @error (the line for stderr)
 * is set unless it is RCX_JOB_EXIT_SUCCEEDED.
 *
 * When @transcode's cancellable is cancelled (SIGTERM / SIGINT) the job is
 * released FIRST (from a thread of ours, at once), then the pipeline stops
 * and the cleanup runs until the shutdown timeout; past it (plus 2 s) the
 * process exits 3 on its own, the summary printed. */
JsonNode *rcx_job_run (RcxJobRunOptions * options,
    const RcxTranscodeOptions * transcode, RcxJobExit * exit_code,
    GError ** error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RcxJobRunOptions, rcx_job_run_options_clear)

G_END_DECLS
