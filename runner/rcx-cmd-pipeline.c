/* rcx-cmd-pipeline.c: `rugbycodex-runner pipeline`: --print writes the
 * gst-launch-1.0 line of a job (probing SRC when given), --check
 * validates a pipeline description against this machine's registry.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-cmd.h"
#include "rcx-cmd-private.h"

#include <gst/gst.h>
#include <stdio.h>
#include <string.h>

#include "rcx-builder.h"
#include "rcx-probe.h"
#include "rcx-transcode.h"

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
  g_autoptr (RcxPipelineDesc) desc =
      rcx_cmd_load_description (o->check, &error);
  g_autoptr (GString) report = g_string_new (NULL);
  gboolean ok;

  if (!desc) {
    rcx_cmd_print_error ("%s", error->message);
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
  g_autoptr (RcxPipelineDesc) desc =
      rcx_cmd_load_description (o->description, &error);
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
    rcx_cmd_print_error ("%s", error->message);
    return EXIT_USAGE;
  }
  if (n_args != 0 && n_args != 2) {
    rcx_cmd_print_error ("pipeline --print takes SRC and DST, or nothing");
    return EXIT_USAGE;
  }
  if (n_args && !rcx_cmd_valid_destination (popts.destination)) {
    rcx_cmd_print_error ("%s: DST must be a folder or an s3:// prefix",
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
      rcx_cmd_print_error ("no encoder named \"%s\" in the description",
          o->encoder);
      return EXIT_USAGE;
    }
    popts.assume_available = TRUE;
  } else if ((index = rcx_builder_find_encoder (desc, 0)) < 0) {
    rcx_cmd_print_error
        ("none of the description's encoders is available here");
    return EXIT_USAGE;
  }

  if (n_args) {
    /* SRC and DST as the transcode takes them: s3:// keys literal (the
     * AWS CLI's form), printed as the URIs the elements take */
    if (!(destination = rcx_transcode_destination_uri (popts.destination,
                &error))) {
      rcx_cmd_print_error ("%s", error->message);
      return EXIT_USAGE;
    }
    popts.destination = destination;
    uri = rcx_transcode_source_uri (popts.source, &error);
    if (!uri && g_error_matches (error, RCX_TRANSCODE_ERROR,
            RCX_TRANSCODE_ERROR_CONFIG)) {
      rcx_cmd_print_error ("%s", error->message);
      return EXIT_USAGE;
    }
    if (!uri || !rcx_probe_source (uri, o->endpoint_uri, o->probe_timeout,
            NULL, &source, &error)) {
      rcx_cmd_print_error ("%s: %s", popts.source, error->message);
      return EXIT_JOB_FAILED;
    }
    if (g_str_has_prefix (popts.source, "s3://"))
      popts.source = uri;
  } else {
    nominal_source (&source);
  }

  plan = rcx_plan_new (desc, index, &source, &popts, &error);
  if (!plan) {
    rcx_cmd_print_error ("%s", error->message);
    return EXIT_JOB_FAILED;
  }
  line = rcx_plan_to_command_line (plan);
  printf ("%s\n", line);
  return EXIT_OK;
}

int
rcx_cmd_pipeline (int argc, char **argv, RcxLogSettings * log_settings)
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
  g_option_context_set_description (context, rcx_cmd_exit_codes_text);
  if (!rcx_cmd_parse_options (context, &argc, &argv, &o, log_settings))
    return EXIT_USAGE;

  if (o.print == (o.check != NULL)) {
    rcx_cmd_print_error ("pipeline needs exactly one of --print and --check");
    return EXIT_USAGE;
  }
  if (o.check) {
    if (o.args) {
      rcx_cmd_print_error ("pipeline --check takes no other arguments");
      return EXIT_USAGE;
    }
    return pipeline_check (&o);
  }
  return pipeline_print (&o);
}
