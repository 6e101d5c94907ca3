/* rcx-worker.h: `rugbycodex-runner worker`, the SQS worker, and
 * `rugbycodex-runner health`, its container health check.
 *
 * The worker long-polls an SQS queue for job messages
 * ({"job_id", "media_id", "org_id"}), checks each against the job row, and
 * runs each job as a child process `rugbycodex-runner transcode --job-id`
 * (up to --concurrency at once), extending the message's visibility while
 * the child runs. What happens to the message follows the child's exit
 * status (the worker/job-mode contract, docs/worker.md). SIGTERM / SIGINT:
 * stop receiving, SIGTERM the children (they release their jobs), hand the
 * messages back (visibility 0), exit 0 within the shutdown budget.
 *
 * Logs: one JSON object per line on stdout, and CloudWatch embedded-metric
 * lines (job duration, speed, queue wait, failures by kind).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Both return the process exit code; @argv[0] is the command's name. */
int rcx_worker_main (int argc, char **argv);
int rcx_worker_health_main (int argc, char **argv);

/* TRUE once the worker runs: g_log messages then go to
 * rcx_worker_log_writer() (JSON lines on stdout). */
gboolean rcx_worker_logs_json (void);
GLogWriterOutput rcx_worker_log_writer (GLogLevelFlags level,
    const GLogField * fields, gsize n_fields, gpointer user_data);

G_END_DECLS
