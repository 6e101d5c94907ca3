/* rcx-cmd-private.h: what the rcx-cmd*.c files share: the options
 * struct, the defaults and the helpers every subcommand uses.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "rcx-cmd.h"
#include "rcx-pipeline-desc.h"

G_BEGIN_DECLS

#define DEFAULT_WATCHDOG 60
#define DEFAULT_PROBE_TIMEOUT 20
#define DEFAULT_PROGRESS_INTERVAL 10

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

void rcx_cmd_options_clear (RunnerOptions * o);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RunnerOptions, rcx_cmd_options_clear);

/* A command's --help description: exit codes and environment. */
extern const gchar *const rcx_cmd_exit_codes_text;

gboolean rcx_cmd_parse_options (GOptionContext * context, gint * argc,
    gchar *** argv, RunnerOptions * o, RcxLogSettings * log_settings);
RcxPipelineDesc *rcx_cmd_load_description (const gchar * name_or_path,
    GError ** error);
void rcx_cmd_print_json (JsonNode * node);
gboolean rcx_cmd_valid_destination (const gchar * dst);

G_END_DECLS
