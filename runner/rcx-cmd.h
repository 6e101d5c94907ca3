/* rcx-cmd.h: the runner's subcommands as main dispatches them, their
 * usage text and exit codes.
 *
 *   rugbycodex-runner transcode SRC DST        rcx_cmd_transcode()
 *   rugbycodex-runner pipeline --print | --check FILE   rcx_cmd_pipeline()
 *   rugbycodex-runner worker [OPTION...]       rcx_worker_main()
 *   rugbycodex-runner health                   rcx_worker_health_main()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stdio.h>

#include <glib.h>

#include "rcx-log.h"

G_BEGIN_DECLS

/* The runner's exit codes; job mode (--job-id) adds 3 and 4 (RcxJobExit). */
typedef enum
{
  EXIT_OK = 0,
  EXIT_JOB_FAILED = 1,
  EXIT_USAGE = 2,
} RunnerExit;

/* Each takes the command's own argv (argv[0] "rugbycodex-runner
 * COMMAND") and returns the process exit code; --verbose / --quiet go
 * into @log_settings once parsed. */
int rcx_cmd_transcode (int argc, char **argv, RcxLogSettings * log_settings);
int rcx_cmd_pipeline (int argc, char **argv, RcxLogSettings * log_settings);

/* The top-level usage (commands and exit codes) on @out. */
void rcx_cmd_print_usage (FILE * out);

/* The one-line reason of a failure on stderr ("rugbycodex-runner:
 * error: ..."), sanitised. */
void rcx_cmd_print_error (const gchar * format, ...) G_GNUC_PRINTF (1, 2);

G_END_DECLS
