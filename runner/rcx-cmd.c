/* rcx-cmd.c: what the runner's subcommands share: the usage and exit
 * code texts, option parsing, finding a pipeline description, printing
 * a failure or a JSON summary.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-cmd.h"
#include "rcx-cmd-private.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rcx-sanitize.h"

static const gchar *const summary_text =
    "Commands:\n"
    "  transcode SRC DST   Transcode SRC (a file or s3://bucket/key) into an HLS\n"
    "                      ladder in DST (a folder or s3://bucket/prefix/)\n"
    "  pipeline            Print the pipeline of a job (--print) or check a\n"
    "                      pipeline description (--check FILE)\n"
    "  worker              Take jobs from an SQS queue, each run as a child\n"
    "                      transcode --job-id (see docs/worker.md)\n"
    "  health              Exit 0 while a worker's main loop is alive (for a\n"
    "                      container HEALTHCHECK)\n"
    "\n"
    "Run 'rugbycodex-runner COMMAND --help' for a command's options.\n"
    "\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  the job failed (bad input, pipeline error, storage error, interrupted)\n"
    "  2  usage or configuration error (bad arguments or pipeline description)\n"
    "  3  (--job-id) transient failure or interruption: the job was released\n"
    "  4  (--job-id) not ours: the job runs on another worker, or was taken over";

const gchar *const rcx_cmd_exit_codes_text =
    "Exit codes: 0 success, 1 the job failed (bad input, pipeline or storage\n"
    "error, interrupted), 2 usage or configuration error; with --job-id also\n"
    "3 transient failure or interruption (the job was released), 4 not ours\n"
    "(running on another worker, or taken over mid-way).\n"
    "\n"
    "Environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,\n"
    "AWS_ENDPOINT_URL_S3 (S3/Wasabi), RCX_PIPELINES_DIR (pipeline\n"
    "descriptions), GST_PLUGIN_PATH (the rugbycodex elements),\n"
    "SUPABASE_URL, SUPABASE_SERVICE_KEY (the job records, --job-id).";

void
rcx_cmd_options_clear (RunnerOptions * o)
{
  g_free (o->description);
  g_free (o->encoder);
  g_free (o->endpoint_uri);
  g_free (o->progress);
  g_free (o->check);
  g_strfreev (o->args);
}

/* The one-line reason of a failure, on stderr. */
void
rcx_cmd_print_error (const gchar * format, ...)
{
  va_list args;
  g_autofree gchar *msg = NULL;
  g_autofree gchar *clean = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  clean = rcx_sanitize_text (msg, -1, RCX_LOG_LINE_MAX);
  fprintf (stderr, "rugbycodex-runner: error: %s\n", clean);
}

void
rcx_cmd_print_json (JsonNode * node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree gchar *text = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
  fflush (stdout);
}

gboolean
rcx_cmd_parse_options (GOptionContext * context, gint * argc,
    gchar *** argv, RunnerOptions * o, RcxLogSettings * log_settings)
{
  g_autoptr (GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error)) {
    rcx_cmd_print_error ("%s (see --help)", error->message);
    return FALSE;
  }
  log_settings->verbose = o->verbose;
  log_settings->quiet = o->quiet;
  return TRUE;
}

RcxPipelineDesc *
rcx_cmd_load_description (const gchar * name_or_path, GError ** error)
{
  const gchar *dirs[] = { RCX_PIPELINES_SRCDIR, RCX_PIPELINES_DATADIR, NULL };
  g_autofree gchar *path = rcx_pipeline_desc_find (name_or_path, dirs, error);

  if (!path)
    return NULL;
  g_info ("pipeline description: %s", path);
  return rcx_pipeline_desc_new_from_file (path, error);
}

gboolean
rcx_cmd_valid_destination (const gchar * dst)
{
  return *dst && (g_str_has_prefix (dst, "s3://") || !strstr (dst, "://"));
}

void
rcx_cmd_print_usage (FILE * out)
{
  fprintf (out, "Usage:\n  rugbycodex-runner COMMAND [OPTION...] [ARG...]\n\n"
      "%s\n", summary_text);
}
