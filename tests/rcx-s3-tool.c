/* rcx-s3-tool: drives librcx's S3 client for the integration tests
 * (tests/test_s3_client.py): one operation per run, configured from the
 * environment (AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, ...), the result as
 * one JSON object on stdout (request counts, reader opens, error details),
 * the client's log lines on stderr.
 *
 *   rcx-s3-tool [OPTION...] put|get|read|head|delete|upload BUCKET KEY [FILE]
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <json-glib/json-glib.h>

#include "rcx-s3.h"

typedef struct
{
  gint timeout;
  gint attempts;
  gint64 part_size;
  gint parallel;
  gint64 chunk;
  gchar *ranges;
  gchar *content_type;
  gint64 abort_after;
  gint cancel_after_ms;
  gint retry_timeout;
} ToolOptions;

/* Cancelled after --cancel-after-ms, as an element's unlock() would. */
static GCancellable *cancel;

static gboolean
cancel_cb (gpointer data)
{
  g_cancellable_cancel (cancel);
  return G_SOURCE_REMOVE;
}

static gpointer
cancel_thread (gpointer data)
{
  GMainContext *ctx = g_main_context_new ();
  GSource *source = g_timeout_source_new (GPOINTER_TO_UINT (data));

  g_source_set_callback (source, cancel_cb, NULL, NULL);
  g_source_attach (source, ctx);
  while (!g_cancellable_is_cancelled (cancel))
    g_main_context_iteration (ctx, TRUE);
  g_source_unref (source);
  g_main_context_unref (ctx);
  return NULL;
}

static void
log_to_stderr (GLogLevelFlags level, const gchar * message, gpointer data)
{
  g_printerr ("[%s] %s\n", level & G_LOG_LEVEL_DEBUG ? "debug" :
      level & G_LOG_LEVEL_WARNING ? "warning" : "info", message);
}

static gboolean
do_put (RcxS3Client * client, const gchar * bucket, const gchar * key,
    const gchar * file, ToolOptions * o, JsonBuilder * b, GError ** error)
{
  g_autoptr (GMappedFile) map = g_mapped_file_new (file, FALSE, error);
  g_autoptr (GBytes) body = NULL;
  g_autofree gchar *etag = NULL;
  RcxS3PutOptions options = { o->content_type, NULL };

  if (map == NULL)
    return FALSE;
  body = g_mapped_file_get_bytes (map);
  if (!rcx_s3_put_object (client, bucket, key, body, &options, &etag, cancel,
          error))
    return FALSE;
  json_builder_set_member_name (b, "etag");
  json_builder_add_string_value (b, etag);
  return TRUE;
}

static gboolean
do_get (RcxS3Client * client, const gchar * bucket, const gchar * key,
    const gchar * file, ToolOptions * o, JsonBuilder * b, GError ** error)
{
  g_auto (RcxS3ObjectInfo) info = { 0, };
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GFile) out = g_file_new_for_path (file);
  g_autoptr (GFileOutputStream) os = NULL;
  gssize n;

  in = rcx_s3_get_object (client, bucket, key, 0, 0, NULL, &info, cancel,
      error);
  if (in == NULL)
    return FALSE;
  os = g_file_replace (out, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error);
  if (os == NULL)
    return FALSE;
  n = g_output_stream_splice (G_OUTPUT_STREAM (os), in,
      G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE |
      G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, cancel, error);
  if (n < 0)
    return FALSE;
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, (gint64) info.size);
  json_builder_set_member_name (b, "etag");
  json_builder_add_string_value (b, info.etag);
  return TRUE;
}

/* RcxS3Reader: --ranges "off:len,off:len" or the whole object in --chunk
 * reads; the bytes read go to FILE in that order. */
static gboolean
do_read (RcxS3Client * client, const gchar * bucket, const gchar * key,
    const gchar * file, ToolOptions * o, JsonBuilder * b, GError ** error)
{
  g_autoptr (RcxS3Reader) reader = rcx_s3_reader_new (client, bucket, key);
  g_autoptr (GFile) out = g_file_new_for_path (file);
  g_autoptr (GFileOutputStream) os = NULL;
  g_autofree guint8 *buf = NULL;
  g_auto (GStrv) ranges = NULL;
  g_auto (RcxS3ObjectInfo) info = { 0, };
  gsize chunk = o->chunk > 0 ? (gsize) o->chunk : 1024 * 1024;
  guint64 total = 0;
  gint64 start = g_get_monotonic_time ();
  guint i;

  os = g_file_replace (out, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error);
  if (os == NULL)
    return FALSE;
  buf = g_malloc (chunk);
  ranges = g_strsplit (o->ranges ? o->ranges : "0:0", ",", -1);
  for (i = 0; ranges[i] != NULL; i++) {
    guint64 offset = g_ascii_strtoull (ranges[i], NULL, 10);
    const gchar *colon = strchr (ranges[i], ':');
    guint64 length = colon ? g_ascii_strtoull (colon + 1, NULL, 10) : 0;
    guint64 done = 0;

    while (length == 0 || done < length) {
      gsize want = length ? MIN (chunk, length - done) : chunk;
      gssize n = rcx_s3_reader_read (reader, offset + done, buf, want, cancel,
          error);

      if (n < 0)
        return FALSE;
      if (n == 0)
        break;
      if (!g_output_stream_write_all (G_OUTPUT_STREAM (os), buf, n, NULL,
              NULL, error))
        return FALSE;
      done += n;
    }
    total += done;
  }
  if (!g_output_stream_close (G_OUTPUT_STREAM (os), NULL, error))
    return FALSE;
  if (!rcx_s3_reader_get_info (reader, &info, cancel, error))
    return FALSE;
  json_builder_set_member_name (b, "opens");
  json_builder_add_int_value (b, rcx_s3_reader_get_open_count (reader));
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b, (gint64) total);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, (gint64) info.size);
  json_builder_set_member_name (b, "seconds");
  json_builder_add_double_value (b,
      (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC);
  return TRUE;
}

static gboolean
do_head (RcxS3Client * client, const gchar * bucket, const gchar * key,
    const gchar * file, ToolOptions * o, JsonBuilder * b, GError ** error)
{
  g_auto (RcxS3ObjectInfo) info = { 0, };

  if (!rcx_s3_head_object (client, bucket, key, &info, cancel, error))
    return FALSE;
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, (gint64) info.size);
  json_builder_set_member_name (b, "etag");
  json_builder_add_string_value (b, info.etag);
  json_builder_set_member_name (b, "content_type");
  json_builder_add_string_value (b, info.content_type);
  json_builder_set_member_name (b, "last_modified");
  json_builder_add_int_value (b, info.last_modified);
  return TRUE;
}

static gboolean
do_delete (RcxS3Client * client, const gchar * bucket, const gchar * key,
    const gchar * file, ToolOptions * o, JsonBuilder * b, GError ** error)
{
  return rcx_s3_delete_object (client, bucket, key, cancel, error);
}

/* RcxS3Upload from FILE, read in --chunk pieces (not mapped, so the peak
 * RSS shows what the upload buffers); --abort-after N aborts once N bytes
 * are written; a failed write or finish is followed by an abort as the
 * elements do. */
static gboolean
do_upload (RcxS3Client * client, const gchar * bucket, const gchar * key,
    const gchar * file, ToolOptions * o, JsonBuilder * b, GError ** error)
{
  g_autoptr (GFile) f = g_file_new_for_path (file);
  g_autoptr (GFileInputStream) in = g_file_read (f, NULL, error);
  g_autoptr (RcxS3Upload) upload = NULL;
  g_autoptr (GError) abort_error = NULL;
  g_autofree guint8 *buf = NULL;
  RcxS3PutOptions options = { o->content_type, NULL };
  gsize chunk = o->chunk > 0 ? (gsize) o->chunk : 1024 * 1024;
  guint64 off = 0;
  gboolean ok = TRUE, aborted = FALSE;
  gint64 start = g_get_monotonic_time ();

  if (in == NULL)
    return FALSE;
  buf = g_malloc (chunk);
  upload = rcx_s3_upload_new (client, bucket, key, &options,
      (gsize) o->part_size, (guint) o->parallel);
  while (ok) {
    gsize n = 0;

    if (o->abort_after > 0 && off >= (guint64) o->abort_after) {
      aborted = TRUE;
      break;
    }
    ok = g_input_stream_read_all (G_INPUT_STREAM (in), buf, chunk, &n, NULL,
        error);
    if (!ok || n == 0)
      break;
    ok = rcx_s3_upload_write (upload, buf, n, cancel, error);
    off += n;
  }
  if (ok && !aborted)
    ok = rcx_s3_upload_finish (upload, cancel, error);
  if (!ok || aborted) {
    gboolean abort_ok = rcx_s3_upload_abort (upload, &abort_error);

    json_builder_set_member_name (b, "abort_ok");
    json_builder_add_boolean_value (b, abort_ok);
    if (abort_error) {
      json_builder_set_member_name (b, "abort_http_status");
      json_builder_add_int_value (b,
          rcx_s3_error_get_http_status (abort_error));
    }
  }
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b,
      (gint64) rcx_s3_upload_get_bytes_written (upload));
  json_builder_set_member_name (b, "seconds");
  json_builder_add_double_value (b,
      (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC);
  return ok;
}

typedef gboolean (*Command) (RcxS3Client *, const gchar *, const gchar *,
    const gchar *, ToolOptions *, JsonBuilder *, GError **);

int
main (int argc, char **argv)
{
  ToolOptions o = { 0, };
  GOptionEntry entries[] = {
    {"timeout", 0, 0, G_OPTION_ARG_INT, &o.timeout,
        "Request timeout (s)", "S"},
    {"attempts", 0, 0, G_OPTION_ARG_INT, &o.attempts, "Attempts", "N"},
    {"retry-timeout", 0, 0, G_OPTION_ARG_INT, &o.retry_timeout,
        "Retry window (s)", "S"},
    {"part-size", 0, 0, G_OPTION_ARG_INT64, &o.part_size, "Part size", "B"},
    {"parallel", 0, 0, G_OPTION_ARG_INT, &o.parallel, "Parallel parts", "N"},
    {"chunk", 0, 0, G_OPTION_ARG_INT64, &o.chunk, "Read/write size", "B"},
    {"ranges", 0, 0, G_OPTION_ARG_STRING, &o.ranges, "off:len,...", "R"},
    {"content-type", 0, 0, G_OPTION_ARG_STRING, &o.content_type, "Type",
        "T"},
    {"abort-after", 0, 0, G_OPTION_ARG_INT64, &o.abort_after,
        "Abort the upload after B bytes", "B"},
    {"cancel-after-ms", 0, 0, G_OPTION_ARG_INT, &o.cancel_after_ms,
        "Cancel the operation after MS milliseconds", "MS"},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("put|get|read|head|delete|upload BUCKET KEY "
      "[FILE]");
  g_autoptr (GError) error = NULL;
  g_autoptr (RcxS3Client) client = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *text = NULL;
  g_auto (RcxS3Config) config;
  Command cmd = NULL;
  gboolean ok;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc < 4) {
    g_printerr ("%s\n", error ? error->message : "missing arguments");
    return 2;
  }
  if (g_str_equal (argv[1], "put"))
    cmd = do_put;
  else if (g_str_equal (argv[1], "get"))
    cmd = do_get;
  else if (g_str_equal (argv[1], "read"))
    cmd = do_read;
  else if (g_str_equal (argv[1], "head"))
    cmd = do_head;
  else if (g_str_equal (argv[1], "delete"))
    cmd = do_delete;
  else if (g_str_equal (argv[1], "upload"))
    cmd = do_upload;
  if (cmd == NULL || (cmd != do_head && cmd != do_delete && argc < 5)) {
    g_printerr ("bad command line\n");
    return 2;
  }

  rcx_s3_config_init (&config);
  if (o.timeout > 0)
    config.request_timeout = o.timeout;
  if (o.attempts > 0)
    config.retry_attempts = o.attempts;
  if (o.retry_timeout > 0)
    config.retry_timeout = o.retry_timeout;
  client = rcx_s3_client_new (&config, &error);
  if (client == NULL) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  rcx_s3_client_set_log_func (client, log_to_stderr, NULL, NULL);

  cancel = g_cancellable_new ();
  if (o.cancel_after_ms > 0)
    g_thread_unref (g_thread_new ("cancel", cancel_thread,
            GUINT_TO_POINTER (o.cancel_after_ms)));

  json_builder_begin_object (b);
  ok = cmd (client, argv[2], argv[3], argc > 4 ? argv[4] : NULL, &o, b, &error);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, ok);
  json_builder_set_member_name (b, "requests");
  json_builder_add_int_value (b,
      (gint64) rcx_s3_client_get_request_count (client));
  if (!ok) {
    json_builder_set_member_name (b, "domain");
    json_builder_add_string_value (b, g_quark_to_string (error->domain));
    json_builder_set_member_name (b, "code");
    json_builder_add_int_value (b, error->code);
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, error->message);
    json_builder_set_member_name (b, "http_status");
    json_builder_add_int_value (b, rcx_s3_error_get_http_status (error));
    json_builder_set_member_name (b, "s3_code");
    json_builder_add_string_value (b, rcx_s3_error_get_s3_code (error));
    json_builder_set_member_name (b, "request_id");
    json_builder_add_string_value (b, rcx_s3_error_get_request_id (error));
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
  g_free (o.ranges);
  g_free (o.content_type);
  return ok ? 0 : 1;
}
