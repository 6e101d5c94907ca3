/* rcx-worker-log.c: the worker's output: JSON log lines on stdout (one per
 * event, also GLib's log through rcx_worker_log_writer) and CloudWatch
 * embedded-metric lines, written whole under one lock.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-worker.h"
#include "rcx-worker-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rcx-http.h"
#include "rcx-ids.h"
#include "rcx-job-message.h"
#include "rcx-jobs.h"
#include "rcx-log.h"
#include "rcx-postgrest.h"
#include "rcx-retry.h"
#include "rcx-sqs.h"

static GMutex out_lock;
static gboolean logs_json;
static const gchar *log_worker_id;      /* the worker options own it */
static gchar *metric_queue;

gboolean
rcx_worker_logs_json (void)
{
  return logs_json;
}

static void
print_line (JsonNode * node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree gchar *text = NULL;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  g_mutex_lock (&out_lock);
  fputs (text, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
  g_mutex_unlock (&out_lock);
}

/* One log line: {"time", "level", "event", "job_id", "media_id",
 * "worker_id", "fields": {...}}. Takes @fields (may be NULL). Callers
 * never put a secret, a receipt handle or a message body in @fields. */
void
rcx_worker_emit (const gchar * level, const gchar * event, const gchar * job_id,
    const gchar * media_id, JsonObject * fields)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *time = g_date_time_format_iso8601 (now);
  JsonObject *o = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (o, "time", time);
  json_object_set_string_member (o, "level", level);
  json_object_set_string_member (o, "event", event);
  if (job_id)
    json_object_set_string_member (o, "job_id", job_id);
  if (media_id)
    json_object_set_string_member (o, "media_id", media_id);
  if (log_worker_id)
    json_object_set_string_member (o, "worker_id", log_worker_id);
  json_object_set_object_member (o, "fields", fields ? fields :
      json_object_new ());
  json_node_take_object (node, o);
  print_line (node);
}

JsonObject *
rcx_worker_fields_new (const gchar * first, ...)
{
  JsonObject *o = json_object_new ();
  va_list args;

  /* name, string value pairs; a NULL value is left out */
  va_start (args, first);
  for (const gchar * name = first; name; name = va_arg (args, const gchar *))
  {
    const gchar *value = va_arg (args, const gchar *);

    if (value)
      json_object_set_string_member (o, name, value);
  }
  va_end (args);
  return o;
}

GLogWriterOutput
rcx_worker_log_writer (GLogLevelFlags level, const GLogField * fields,
    gsize n_fields, gpointer user_data)
{
  RcxLogEntry entry;

  if ((level & G_LOG_LEVEL_DEBUG) && !g_getenv ("G_MESSAGES_DEBUG"))
    return G_LOG_WRITER_HANDLED;
  if ((level & G_LOG_LEVEL_INFO) && !g_getenv ("RCX_WORKER_VERBOSE"))
    return G_LOG_WRITER_HANDLED;
  rcx_log_entry_init (&entry, level, fields, n_fields);
  rcx_worker_emit (entry.level, "log", NULL, NULL,
      rcx_worker_fields_new ("message", entry.message, "domain",
          entry.domain, NULL));
  return G_LOG_WRITER_HANDLED;
}

/* A CloudWatch embedded-metric-format line: @names / @values (seconds,
 * x realtime, counts) in namespace Rugbycodex/Worker, dimension Queue
 * (plus FailureKind when @kind is set). */
void
rcx_worker_emit_metrics (const gchar * job_id, const gchar * kind,
    const gchar * const *names, const gchar * const *units,
    const gdouble * values, guint n)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "_aws");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Timestamp");
  json_builder_add_int_value (b, g_get_real_time () / 1000);
  json_builder_set_member_name (b, "CloudWatchMetrics");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "Namespace");
  json_builder_add_string_value (b, "Rugbycodex/Worker");
  json_builder_set_member_name (b, "Dimensions");
  json_builder_begin_array (b);
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "Queue");
  if (kind)
    json_builder_add_string_value (b, "FailureKind");
  json_builder_end_array (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "Metrics");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "Name");
    json_builder_add_string_value (b, names[i]);
    json_builder_set_member_name (b, "Unit");
    json_builder_add_string_value (b, units[i]);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "Queue");
  json_builder_add_string_value (b, metric_queue ? metric_queue : "unknown");
  if (kind) {
    json_builder_set_member_name (b, "FailureKind");
    json_builder_add_string_value (b, kind);
  }
  for (guint i = 0; i < n; i++) {
    json_builder_set_member_name (b, names[i]);
    json_builder_add_double_value (b, values[i]);
  }
  if (job_id) {
    json_builder_set_member_name (b, "job_id");
    json_builder_add_string_value (b, job_id);
  }
  if (log_worker_id) {
    json_builder_set_member_name (b, "worker_id");
    json_builder_add_string_value (b, log_worker_id);
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  print_line (root);
}

void
rcx_worker_count_failure (const gchar * job_id, const gchar * kind)
{
  const gchar *names[] = { "JobFailures" };
  const gchar *units[] = { "Count" };
  const gdouble values[] = { 1 };

  rcx_worker_emit_metrics (job_id, kind, names, units, values, 1);
}


/* Who the lines are about: the worker id and the queue's name (the last
 * segment of its URL) as the metrics' dimension. */
void
rcx_worker_log_set_context (const gchar * worker_id, const gchar * queue_url)
{
  log_worker_id = worker_id;
  {
    const gchar *slash = strrchr (queue_url, '/');

    metric_queue = g_strdup (slash && slash[1] ? slash + 1 : queue_url);
  }
}

const gchar *
rcx_worker_log_queue (void)
{
  return metric_queue;
}

void
rcx_worker_log_set_json (gboolean json)
{
  logs_json = json;
}
