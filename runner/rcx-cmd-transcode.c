/* rcx-cmd-transcode.c: `rugbycodex-runner transcode SRC DST`: its
 * options, then rcx_transcode_run() (or rcx_job_run() with --job-id)
 * under SIGINT/SIGTERM, the JSON summary on stdout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-cmd.h"
#include "rcx-cmd-private.h"

#include <glib-unix.h>
#include <gst/gst.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "rcx-job-run.h"
#include "rcx-s3.h"
#include "rcx-transcode.h"

static gboolean
on_signal (gpointer user_data)
{
  GCancellable *cancellable = user_data;

  if (!g_cancellable_is_cancelled (cancellable))
    g_info ("interrupted: stopping (no playlist will be left)");
  g_cancellable_cancel (cancellable);
  return G_SOURCE_CONTINUE;
}

int
rcx_cmd_transcode (int argc, char **argv, RcxLogSettings * log_settings)
{
  g_auto (RunnerOptions) o = {.watchdog = DEFAULT_WATCHDOG,
    .probe_timeout = DEFAULT_PROBE_TIMEOUT,
    .retry_timeout = RCX_S3_DEFAULT_RETRY_TIMEOUT,
    .progress_interval = DEFAULT_PROGRESS_INTERVAL
  };
  const GOptionEntry entries[] = {
    {"description", 'd', 0, G_OPTION_ARG_STRING, &o.description,
        "Pipeline description: a name in pipelines/ or a .json file "
          "(default: " RCX_PIPELINE_DESC_DEFAULT_NAME ")", "NAME|FILE"},
    {"encoder", 'e', 0, G_OPTION_ARG_STRING, &o.encoder,
          "Use this encoder entry of the description (e.g. x264), no fallback",
        "NAME"},
    {"endpoint-url", 0, 0, G_OPTION_ARG_STRING, &o.endpoint_uri,
        "S3 endpoint for s3:// URIs (default: $AWS_ENDPOINT_URL_S3, else "
          "AWS)", "URL"},
    {"retry-timeout", 0, 0, G_OPTION_ARG_INT, &o.retry_timeout,
        "How long the storage may keep failing (5xx, throttling, resets, "
          "refused connections) while uploads keep retrying before the job "
          "fails; 0: only each request's 3 attempts (default: "
          G_STRINGIFY (RCX_S3_DEFAULT_RETRY_TIMEOUT) ")", "SECONDS"},
    {"watchdog", 'w', 0, G_OPTION_ARG_INT, &o.watchdog,
        "Fail when the pipeline makes no progress for this long (default: "
          G_STRINGIFY (DEFAULT_WATCHDOG) ")", "SECONDS"},
    {"probe-timeout", 0, 0, G_OPTION_ARG_INT, &o.probe_timeout,
        "Give up probing the source after this long (default: "
          G_STRINGIFY (DEFAULT_PROBE_TIMEOUT) ")", "SECONDS"},
    {"progress", 0, 0, G_OPTION_ARG_STRING, &o.progress,
        "Progress display: auto (a bar on a terminal, else lines), bar, "
          "lines or none", "STYLE"},
    {"progress-interval", 0, 0, G_OPTION_ARG_INT, &o.progress_interval,
        "Seconds between progress lines (default: "
          G_STRINGIFY (DEFAULT_PROGRESS_INTERVAL) ")", "SECONDS"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o.verbose,
        "Log what is done (probe, plan, pipeline)", NULL},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet,
        "Only errors and the summary", NULL},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.args, NULL,
        NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("SRC DST - transcode SRC into an HLS ladder");
  g_autoptr (RcxPipelineDesc) desc = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (JsonNode) failure = NULL;
  RcxTranscodeOptions topts = { 0 };
  g_auto (RcxJobRunOptions) jopts = { 0 };
  guint sigint, sigterm;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_main_entries (context,
      rcx_job_run_option_entries (&jopts), NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  g_option_context_set_summary (context,
      "SRC is a file or s3://bucket/key; DST is a folder or\n"
      "s3://bucket/prefix/. Keys are taken literally, as `aws s3 cp` takes\n"
      "them (s3://b/a%20b is the key \"a%20b\"): quote them for the shell\n"
      "only. Writes one folder per rung (media playlist,\n"
      "I-frame playlist, segments), thumbnail.jpg, and the master playlist\n"
      "last. While it runs (output.publish-live, the default) the media\n"
      "playlists are EVENT playlists and a master goes up once every rung\n"
      "has a segment. Prints a JSON summary on stdout; progress on stderr.\n"
      "A failed job, or Ctrl-C/SIGTERM, leaves no playlist (what went up\n"
      "while it ran is deleted).");
  g_option_context_set_description (context, rcx_cmd_exit_codes_text);
  if (!rcx_cmd_parse_options (context, &argc, &argv, &o, log_settings))
    return EXIT_USAGE;
  if (g_strv_length (o.args) != 2) {
    rcx_cmd_print_error ("transcode needs SRC and DST (see --help)");
    return EXIT_USAGE;
  }
  if (o.watchdog <= 0 || o.probe_timeout <= 0 || o.progress_interval <= 0) {
    rcx_cmd_print_error ("--watchdog, --probe-timeout and "
        "--progress-interval must be positive");
    return EXIT_USAGE;
  }
  if (!rcx_cmd_valid_destination (o.args[1])) {
    rcx_cmd_print_error ("%s: DST must be a folder or an s3:// prefix",
        o.args[1]);
    return EXIT_USAGE;
  }

  topts.progress = isatty (STDERR_FILENO) ? RCX_PROGRESS_BAR :
      RCX_PROGRESS_LINES;
  if (o.quiet)
    topts.progress = RCX_PROGRESS_NONE;
  if (o.progress) {
    if (strcmp (o.progress, "bar") == 0)
      topts.progress = RCX_PROGRESS_BAR;
    else if (strcmp (o.progress, "lines") == 0)
      topts.progress = RCX_PROGRESS_LINES;
    else if (strcmp (o.progress, "none") == 0)
      topts.progress = RCX_PROGRESS_NONE;
    else if (strcmp (o.progress, "auto") != 0) {
      rcx_cmd_print_error ("--progress: %s is not one of auto, bar, lines, "
          "none", o.progress);
      return EXIT_USAGE;
    }
  }

  desc = rcx_cmd_load_description (o.description, &error);
  if (!desc) {
    rcx_cmd_print_error ("%s", error->message);
    return EXIT_USAGE;
  }

  topts.source = o.args[0];
  topts.destination = o.args[1];
  topts.desc = desc;
  topts.encoder = o.encoder;
  /* reaches every element as its endpoint-uri property, never through
   * the environment */
  topts.endpoint_uri = o.endpoint_uri;
  topts.watchdog = o.watchdog;
  topts.retry_timeout = o.retry_timeout > 0 ? o.retry_timeout : -1;
  topts.probe_timeout = o.probe_timeout;
  topts.progress_interval = o.progress_interval;
  topts.cancellable = cancellable;

  sigint = g_unix_signal_add (SIGINT, on_signal, cancellable);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, cancellable);
  if (jopts.job_id) {
    RcxJobExit code;

    /* job mode: the exit status and the summary are the SQS worker's
     * contract (docs/runner.md) */
    result = rcx_job_run (&jopts, &topts, &code, &error);
    g_source_remove (sigint);
    g_source_remove (sigterm);
    if (error)
      rcx_cmd_print_error ("%s", error->message);
    rcx_cmd_print_json (result);
    return (int) code;
  }
  result = rcx_transcode_run (&topts, &failure, &error);
  g_source_remove (sigint);
  g_source_remove (sigterm);

  if (!result) {
    rcx_cmd_print_error ("%s", error->message);
    if (failure)
      rcx_cmd_print_json (failure);
    return g_error_matches (error, RCX_TRANSCODE_ERROR,
        RCX_TRANSCODE_ERROR_CONFIG) ? EXIT_USAGE : EXIT_JOB_FAILED;
  }
  rcx_cmd_print_json (result);
  return EXIT_OK;
}
