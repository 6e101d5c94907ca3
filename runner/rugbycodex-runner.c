/* rugbycodex-runner: runs transcode jobs as GStreamer pipelines.
 *
 *   rugbycodex-runner transcode SRC DST
 *   rugbycodex-runner pipeline --print [SRC DST] | --check FILE
 *   rugbycodex-runner worker [OPTION...]
 *   rugbycodex-runner health
 *
 * Exit codes: 0 success, 1 the job failed, 2 usage or configuration error.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rcx-builder.h"
#include "rcx-pipeline-desc.h"
#include "rcx-probe.h"
#include "rcx-s3.h"
#include "rcx-transcode.h"
#include "rcx-job-run.h"
#include "rcx-worker.h"
#include "rcx-sanitize.h"

/* stderr lines are cut here (rcx_sanitize_text) */
#define LOG_LINE_MAX 16384

typedef enum
{
  EXIT_OK = 0,
  EXIT_JOB_FAILED = 1,
  EXIT_USAGE = 2,
} RunnerExit;

#define DEFAULT_WATCHDOG 60
#define DEFAULT_PROBE_TIMEOUT 20
#define DEFAULT_PROGRESS_INTERVAL 10

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

static const gchar *const exit_codes_text =
    "Exit codes: 0 success, 1 the job failed (bad input, pipeline or storage\n"
    "error, interrupted), 2 usage or configuration error; with --job-id also\n"
    "3 transient failure or interruption (the job was released), 4 not ours\n"
    "(running on another worker, or taken over mid-way).\n"
    "\n"
    "Environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,\n"
    "AWS_ENDPOINT_URL_S3 (S3/Wasabi), RCX_PIPELINES_DIR (pipeline\n"
    "descriptions), GST_PLUGIN_PATH (the rugbycodex elements),\n"
    "SUPABASE_URL, SUPABASE_SERVICE_KEY (the job records, --job-id).";

/* ---- options ----------------------------------------------------------- */

typedef struct
{
  gchar *description;
  gchar *encoder;
  gchar *endpoint_uri;
  gint watchdog;
  gint probe_timeout;
  gint progress_interval;
  gint retry_timeout;
  gchar *progress;
  gboolean verbose;
  gboolean quiet;
  gboolean print;
  gchar *check;
  gchar **args;
} RunnerOptions;

static void
runner_options_clear (RunnerOptions * o)
{
  g_free (o->description);
  g_free (o->encoder);
  g_free (o->endpoint_uri);
  g_free (o->progress);
  g_free (o->check);
  g_strfreev (o->args);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RunnerOptions, runner_options_clear);

/* ---- logging ----------------------------------------------------------- */

/* What the log writer lets through: main owns it and gives it to the
 * writer as its user_data; a command's --verbose/--quiet set it once its
 * options are parsed. */
typedef struct
{
  gboolean verbose;
  gboolean quiet;
} LogSettings;

static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField * fields,
    gsize n_fields, gpointer user_data)
{
  const LogSettings *settings = user_data;
  const gchar *message = NULL;
  const gchar *domain = NULL;
  const gchar *prefix;
  g_autofree gchar *clean = NULL;

  if (rcx_worker_logs_json ())
    return rcx_worker_log_writer (level, fields, n_fields, user_data);
  if (g_log_writer_is_journald (fileno (stderr)))
    return g_log_writer_journald (level, fields, n_fields, NULL);

  if ((level & G_LOG_LEVEL_DEBUG) && !g_getenv ("G_MESSAGES_DEBUG"))
    return G_LOG_WRITER_HANDLED;
  if ((level & G_LOG_LEVEL_INFO) && !settings->verbose)
    return G_LOG_WRITER_HANDLED;
  if ((level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_WARNING)) && settings->quiet)
    return G_LOG_WRITER_HANDLED;

  for (gsize i = 0; i < n_fields; i++) {
    if (strcmp (fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
    else if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
  }
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    prefix = "critical: ";
  else if (level & G_LOG_LEVEL_WARNING)
    prefix = "warning: ";
  else
    prefix = "";
  /* one line per message, whatever keys or server text it quotes */
  clean = rcx_sanitize_text (message ? message : "", -1, LOG_LINE_MAX);
  fprintf (stderr, "rugbycodex-runner: %s%s%s%s\n", prefix,
      domain && strcmp (domain, G_LOG_DOMAIN) != 0 ? domain : "",
      domain && strcmp (domain, G_LOG_DOMAIN) != 0 ? ": " : "", clean);
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

/* The one-line reason of a failure, on stderr. */
static void
print_error (const gchar * format, ...)
{
  va_list args;
  g_autofree gchar *msg = NULL;
  g_autofree gchar *clean = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  clean = rcx_sanitize_text (msg, -1, LOG_LINE_MAX);
  fprintf (stderr, "rugbycodex-runner: error: %s\n", clean);
}

static void
print_json (JsonNode * node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree gchar *text = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
  fflush (stdout);
}

/* ---- common helpers ---------------------------------------------------- */

static gboolean
parse_options (GOptionContext * context, gint * argc, gchar *** argv,
    RunnerOptions * o, LogSettings * log_settings)
{
  g_autoptr (GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error)) {
    print_error ("%s (see --help)", error->message);
    return FALSE;
  }
  log_settings->verbose = o->verbose;
  log_settings->quiet = o->quiet;
  return TRUE;
}

static RcxPipelineDesc *
load_description (const gchar * name_or_path, GError ** error)
{
  const gchar *dirs[] = { RCX_PIPELINES_SRCDIR, RCX_PIPELINES_DATADIR, NULL };
  g_autofree gchar *path = rcx_pipeline_desc_find (name_or_path, dirs, error);

  if (!path)
    return NULL;
  g_info ("pipeline description: %s", path);
  return rcx_pipeline_desc_new_from_file (path, error);
}

static gboolean
on_signal (gpointer user_data)
{
  GCancellable *cancellable = user_data;

  if (!g_cancellable_is_cancelled (cancellable))
    g_info ("interrupted: stopping (no playlist will be left)");
  g_cancellable_cancel (cancellable);
  return G_SOURCE_CONTINUE;
}

static gboolean
valid_destination (const gchar * dst)
{
  return *dst && (g_str_has_prefix (dst, "s3://") || !strstr (dst, "://"));
}

/* ---- transcode --------------------------------------------------------- */

static int
cmd_transcode (int argc, char **argv, LogSettings * log_settings)
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
  g_option_context_set_description (context, exit_codes_text);
  if (!parse_options (context, &argc, &argv, &o, log_settings))
    return EXIT_USAGE;
  if (g_strv_length (o.args) != 2) {
    print_error ("transcode needs SRC and DST (see --help)");
    return EXIT_USAGE;
  }
  if (o.watchdog <= 0 || o.probe_timeout <= 0 || o.progress_interval <= 0) {
    print_error ("--watchdog, --probe-timeout and --progress-interval must "
        "be positive");
    return EXIT_USAGE;
  }
  if (!valid_destination (o.args[1])) {
    print_error ("%s: DST must be a folder or an s3:// prefix", o.args[1]);
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
      print_error ("--progress: %s is not one of auto, bar, lines, none",
          o.progress);
      return EXIT_USAGE;
    }
  }

  desc = load_description (o.description, &error);
  if (!desc) {
    print_error ("%s", error->message);
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
      print_error ("%s", error->message);
    print_json (result);
    return (int) code;
  }
  result = rcx_transcode_run (&topts, &failure, &error);
  g_source_remove (sigint);
  g_source_remove (sigterm);

  if (!result) {
    print_error ("%s", error->message);
    if (failure)
      print_json (failure);
    return g_error_matches (error, RCX_TRANSCODE_ERROR,
        RCX_TRANSCODE_ERROR_CONFIG) ? EXIT_USAGE : EXIT_JOB_FAILED;
  }
  print_json (result);
  return EXIT_OK;
}

/* ---- pipeline ---------------------------------------------------------- */

/* A nominal source for --print without SRC: 1080p30 H.264 with AAC. */
static void
nominal_source (RcxSourceInfo * info)
{
  memset (info, 0, sizeof *info);
  info->duration = GST_CLOCK_TIME_NONE;
  info->has_video = TRUE;
  info->width = 1920;
  info->height = 1080;
  info->par_n = info->par_d = 1;
  info->fps_n = 30;
  info->fps_d = 1;
  info->video_caps = g_strdup ("video/x-h264");
  info->has_audio = TRUE;
  info->audio_caps = g_strdup ("audio/mpeg");
  info->audio_rate = 48000;
  info->audio_channels = 2;
}

static int
pipeline_check (RunnerOptions * o)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RcxPipelineDesc) desc = load_description (o->check, &error);
  g_autoptr (GString) report = g_string_new (NULL);
  gboolean ok;

  if (!desc) {
    print_error ("%s", error->message);
    return EXIT_USAGE;
  }
  ok = rcx_builder_check_desc (desc, report);
  printf ("%s%s: %s\n", report->str, o->check,
      ok ? "valid" : "INVALID for this machine");
  return ok ? EXIT_OK : EXIT_USAGE;
}

static int
pipeline_print (RunnerOptions * o)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RcxPipelineDesc) desc = load_description (o->description, &error);
  g_auto (RcxSourceInfo) source = { 0 };
  g_autoptr (RcxPlan) plan = NULL;
  g_autofree gchar *line = NULL;
  g_autofree gchar *uri = NULL;
  g_autofree gchar *destination = NULL;
  guint n_args = o->args ? g_strv_length (o->args) : 0;
  RcxPlanOptions popts = {
    .source = n_args ? o->args[0] : "input.mp4",
    .destination = n_args ? o->args[1] : "out",
    .endpoint_uri = o->endpoint_uri,
  };
  gint index = -1;

  if (!desc) {
    print_error ("%s", error->message);
    return EXIT_USAGE;
  }
  if (n_args != 0 && n_args != 2) {
    print_error ("pipeline --print takes SRC and DST, or nothing");
    return EXIT_USAGE;
  }
  if (n_args && !valid_destination (popts.destination)) {
    print_error ("%s: DST must be a folder or an s3:// prefix",
        popts.destination);
    return EXIT_USAGE;
  }

  /* --encoder may name an entry that is not available here: printing the
   * GPU pipeline on a machine without a GPU is useful. */
  if (o->encoder) {
    for (guint i = 0; i < desc->n_encoders; i++) {
      if (g_strcmp0 (desc->encoders[i].name, o->encoder) == 0
          || g_strcmp0 (desc->encoders[i].element, o->encoder) == 0)
        index = i;
    }
    if (index < 0) {
      print_error ("no encoder named \"%s\" in the description", o->encoder);
      return EXIT_USAGE;
    }
    popts.assume_available = TRUE;
  } else if ((index = rcx_builder_find_encoder (desc, 0)) < 0) {
    print_error ("none of the description's encoders is available here");
    return EXIT_USAGE;
  }

  if (n_args) {
    /* SRC and DST as the transcode takes them: s3:// keys literal (the
     * AWS CLI's form), printed as the URIs the elements take */
    if (!(destination = rcx_transcode_destination_uri (popts.destination,
                &error))) {
      print_error ("%s", error->message);
      return EXIT_USAGE;
    }
    popts.destination = destination;
    uri = rcx_transcode_source_uri (popts.source, &error);
    if (!uri && g_error_matches (error, RCX_TRANSCODE_ERROR,
            RCX_TRANSCODE_ERROR_CONFIG)) {
      print_error ("%s", error->message);
      return EXIT_USAGE;
    }
    if (!uri || !rcx_probe_source (uri, o->endpoint_uri, o->probe_timeout,
            &source, &error)) {
      print_error ("%s: %s", popts.source, error->message);
      return EXIT_JOB_FAILED;
    }
    if (g_str_has_prefix (popts.source, "s3://"))
      popts.source = uri;
  } else {
    nominal_source (&source);
  }

  plan = rcx_plan_new (desc, index, &source, &popts, &error);
  if (!plan) {
    print_error ("%s", error->message);
    return EXIT_JOB_FAILED;
  }
  line = rcx_plan_to_command_line (plan);
  printf ("%s\n", line);
  return EXIT_OK;
}

static int
cmd_pipeline (int argc, char **argv, LogSettings * log_settings)
{
  g_auto (RunnerOptions) o = {.probe_timeout = DEFAULT_PROBE_TIMEOUT };
  const GOptionEntry entries[] = {
    {"print", 'p', 0, G_OPTION_ARG_NONE, &o.print,
        "Print the gst-launch-1.0 line of a job (of a nominal 1080p30 "
          "source when SRC DST are not given)", NULL},
    {"check", 'c', 0, G_OPTION_ARG_FILENAME, &o.check,
        "Validate a pipeline description (structure, then elements and "
          "properties against this machine's registry)", "FILE"},
    {"description", 'd', 0, G_OPTION_ARG_STRING, &o.description,
        "Pipeline description for --print (default: "
          RCX_PIPELINE_DESC_DEFAULT_NAME ")", "NAME|FILE"},
    {"encoder", 'e', 0, G_OPTION_ARG_STRING, &o.encoder,
          "Print with this encoder entry, even if it is not available here",
        "NAME"},
    {"endpoint-url", 0, 0, G_OPTION_ARG_STRING, &o.endpoint_uri,
        "S3 endpoint for s3:// URIs", "URL"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o.verbose, "Log more", NULL},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.args, NULL,
        NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("--print [SRC DST] | --check FILE");

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  g_option_context_set_summary (context,
      "--print writes the gst-launch-1.0 line the transcode of SRC into DST\n"
      "runs; the runner then adds the thumbnail and the master playlist.\n"
      "--check validates a pipeline description.");
  g_option_context_set_description (context, exit_codes_text);
  if (!parse_options (context, &argc, &argv, &o, log_settings))
    return EXIT_USAGE;

  if (o.print == (o.check != NULL)) {
    print_error ("pipeline needs exactly one of --print and --check");
    return EXIT_USAGE;
  }
  if (o.check) {
    if (o.args) {
      print_error ("pipeline --check takes no other arguments");
      return EXIT_USAGE;
    }
    return pipeline_check (&o);
  }
  return pipeline_print (&o);
}

/* ---- worker ------------------------------------------------------------ */

static int
cmd_worker (int argc, char **argv)
{
  return rcx_worker_main (argc, argv);
}

/* ---- main -------------------------------------------------------------- */

static void
print_usage (FILE * out)
{
  fprintf (out, "Usage:\n  rugbycodex-runner COMMAND [OPTION...] [ARG...]\n\n"
      "%s\n", summary_text);
}

int
main (int argc, char **argv)
{
  const gchar *command;
  /* static: the writer may still run while main returns (atexit, other
   * threads' last messages) */
  static LogSettings log_settings = { 0 };

  setlocale (LC_ALL, "");
  g_log_set_writer_func (log_writer, &log_settings, NULL);

  if (argc < 2) {
    print_error ("no command given");
    print_usage (stderr);
    return EXIT_USAGE;
  }
  command = argv[1];
  if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0
      || strcmp (command, "help") == 0) {
    print_usage (stdout);
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
    return cmd_transcode (argc - 1, argv + 1, &log_settings);
  if (strcmp (command, "pipeline") == 0)
    return cmd_pipeline (argc - 1, argv + 1, &log_settings);
  if (strcmp (command, "worker") == 0)
    return cmd_worker (argc - 1, argv + 1);
  if (strcmp (command, "health") == 0)
    return rcx_worker_health_main (argc - 1, argv + 1);

  print_error ("unknown command \"%s\"", command);
  print_usage (stderr);
  return EXIT_USAGE;
}
