/* rcx-job-run.h: a transcode run as a Supabase job (transcode --job-id).
 *
 * The life cycle of one job record (lib/rcx-jobs.h, docs/database.md):
 *
 *   claim    jobs queued -> running, media_assets uploaded -> transcoding;
 *            a job running elsewhere, succeeded or failed is left alone
 *            ("nothing to do", exit 0: a duplicate delivery never
 *            transcodes twice)
 *   progress the transcode's progress (jobstatus's `progress` messages)
 *            written to jobs.progress by a writer thread of ours, at most
 *            every interval seconds (the main loop and the streaming
 *            threads never wait for the database)
 *   succeed  media_assets -> transcoded -> complete (streaming URL =
 *            the master playlist, thumbnail URL, duration, renditions),
 *            jobs -> succeeded
 *   fail     jobs -> failed with the one-line reason (exit 1)
 *   release  on SIGINT / SIGTERM (and on a configuration error of this
 *            worker): jobs -> queued, media_assets -> uploaded
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

typedef struct {
  gchar *job_id;                /* NULL: not a job (a plain transcode) */
  gchar *worker_id;             /* NULL: <host>-<pid> */
  gdouble progress_interval;    /* seconds between two progress writes */
  GOptionEntry *entries;        /* owned, see rcx_job_run_option_entries () */
} RcxJobRunOptions;

void rcx_job_run_options_clear (RcxJobRunOptions * options);

/* The command-line options (--job-id, --worker-id,
 * --job-progress-interval) storing into @options, for
 * g_option_context_add_main_entries (); valid until @options is cleared. */
const GOptionEntry *rcx_job_run_option_entries (RcxJobRunOptions * options);

/* Claims the job, runs rcx_transcode_run () with @transcode and records the
 * outcome. Returns the summary (the transcode's, with "job_id"; or
 * {"status": "skipped", ...} when the job was not ours to run), or NULL with
 * @error: RCX_TRANSCODE_ERROR_CONFIG for a usage / configuration error
 * (exit 2; the job, if claimed, was released), _INTERRUPTED (released),
 * anything else a failed job (recorded as failed when the database could
 * be reached). */
JsonNode *rcx_job_run (RcxJobRunOptions * options,
    const RcxTranscodeOptions * transcode, JsonNode ** failure_summary,
    GError ** error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RcxJobRunOptions, rcx_job_run_options_clear)

G_END_DECLS
