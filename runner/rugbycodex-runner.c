/* rugbycodex-runner: runs transcode jobs as GStreamer pipelines.
 *
 *   rugbycodex-runner transcode SRC DST
 *   rugbycodex-runner pipeline --print [SRC DST] | --check FILE
 *   rugbycodex-runner worker [OPTION...]
 *   rugbycodex-runner health
 *
 * Exit codes: 0 success, 1 the job failed, 2 usage or configuration error.
 *
 * Only the command line: each subcommand lives in librcxrunner
 * (rcx-cmd-transcode.c, rcx-cmd-pipeline.c, rcx-worker.c), the log writer
 * in rcx-log.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <gst/gst.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "rcx-cmd.h"
#include "rcx-log.h"
#include "rcx-worker.h"

int
main (int argc, char **argv)
{
  const gchar *command;
  /* static: the writer may still run while main returns (atexit, other
   * threads' last messages) */
  static RcxLogSettings log_settings = { 0 };

  setlocale (LC_ALL, "");
  g_log_set_writer_func (rcx_log_writer, &log_settings, NULL);

  if (argc < 2) {
    rcx_cmd_print_error ("no command given");
    rcx_cmd_print_usage (stderr);
    return EXIT_USAGE;
  }
  command = argv[1];
  if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0
      || strcmp (command, "help") == 0) {
    rcx_cmd_print_usage (stdout);
    return EXIT_OK;
  }
  if (strcmp (command, "--version") == 0) {
    printf ("rugbycodex-runner %s (GStreamer %s)\n", PACKAGE_VERSION,
        gst_version_string ());
    return EXIT_OK;
  }

  /* The command's own argv: "rugbycodex-runner transcode" as argv[0]. */
  argv[1] = g_strdup_printf ("%s %s", argv[0], command);
  if (strcmp (command, "transcode") == 0)
    return rcx_cmd_transcode (argc - 1, argv + 1, &log_settings);
  if (strcmp (command, "pipeline") == 0)
    return rcx_cmd_pipeline (argc - 1, argv + 1, &log_settings);
  if (strcmp (command, "worker") == 0)
    return rcx_worker_main (argc - 1, argv + 1);
  if (strcmp (command, "health") == 0)
    return rcx_worker_health_main (argc - 1, argv + 1);

  rcx_cmd_print_error ("unknown command \"%s\"", command);
  rcx_cmd_print_usage (stderr);
  return EXIT_USAGE;
}
