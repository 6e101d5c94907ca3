/* rcx-log.c: reading a structured log entry, and the command line's text
 * log writer (one sanitised line per message on stderr).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-log.h"

#include <stdio.h>
#include <string.h>

#include "rcx-sanitize.h"
#include "rcx-worker.h"

void
rcx_log_entry_init (RcxLogEntry * entry, GLogLevelFlags level,
    const GLogField * fields, gsize n_fields)
{
  entry->message = NULL;
  entry->domain = NULL;
  for (gsize i = 0; i < n_fields; i++) {
    if (strcmp (fields[i].key, "MESSAGE") == 0)
      entry->message = fields[i].value;
    else if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
      entry->domain = fields[i].value;
  }
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    entry->level = "error";
  else if (level & G_LOG_LEVEL_WARNING)
    entry->level = "warning";
  else if (level & G_LOG_LEVEL_MESSAGE)
    entry->level = "info";
  else
    entry->level = "debug";
}

GLogWriterOutput
rcx_log_writer (GLogLevelFlags level, const GLogField * fields,
    gsize n_fields, gpointer user_data)
{
  const RcxLogSettings *settings = user_data;
  RcxLogEntry entry;
  const gchar *prefix;
  gboolean own_domain;
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

  rcx_log_entry_init (&entry, level, fields, n_fields);
  if (strcmp (entry.level, "error") == 0)
    prefix = "critical: ";
  else if (strcmp (entry.level, "warning") == 0)
    prefix = "warning: ";
  else
    prefix = "";
  own_domain = !entry.domain || strcmp (entry.domain, G_LOG_DOMAIN) == 0;
  /* one line per message, whatever keys or server text it quotes */
  clean = rcx_sanitize_text (entry.message ? entry.message : "", -1,
      RCX_LOG_LINE_MAX);
  fprintf (stderr, "rugbycodex-runner: %s%s%s%s\n", prefix,
      own_domain ? "" : entry.domain, own_domain ? "" : ": ", clean);
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}
