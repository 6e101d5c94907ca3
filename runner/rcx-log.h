/* rcx-log.h: what the runner's two GLib log writers share: reading a
 * structured log entry (its message, domain and level name), and the
 * text writer of the command line (one sanitised line per message on
 * stderr). The worker's JSON writer is rcx_worker_log_writer().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* stderr lines are cut here (rcx_sanitize_text) */
#define RCX_LOG_LINE_MAX 16384

typedef struct
{
  const gchar *message;         /* MESSAGE, or NULL */
  const gchar *domain;          /* GLIB_DOMAIN, or NULL */
  /* "error" (ERROR, CRITICAL), "warning", "info" (MESSAGE) or "debug"
   * (INFO, DEBUG) */
  const gchar *level;
} RcxLogEntry;

/* Fills @entry from a structured log call's fields; the strings stay
 * @fields' (and static). */
void rcx_log_entry_init (RcxLogEntry * entry, GLogLevelFlags level,
    const GLogField * fields, gsize n_fields);

/* What the text writer lets through: set by a command once its
 * --verbose / --quiet are parsed. */
typedef struct
{
  gboolean verbose;
  gboolean quiet;
} RcxLogSettings;

/* The runner's GLogWriterFunc: @user_data is an RcxLogSettings that
 * outlives every thread that logs. Hands over to the worker's JSON writer
 * once the worker runs, and to journald when stderr is the journal. */
GLogWriterOutput rcx_log_writer (GLogLevelFlags level,
    const GLogField * fields, gsize n_fields, gpointer user_data);

G_END_DECLS
