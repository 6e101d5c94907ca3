/* test-s3-get-bounds.c: a streamed S3 GET gives the range it asked for and
 * not a byte more, whatever the server sends: a body longer than the range
 * (chunked without end, or a Content-Length past it) and an answer for
 * another range are errors that RcxS3Reader resumes after (with If-Match),
 * never data. Through rcx_s3_get_object, RcxS3Reader and wasabisrc.
 *
 * The server is a plain socket service on 127.0.0.1 in this process that
 * answers each GET by a script the test sets (one misbehaviour per GET,
 * then correct answers), so it can send what no real S3 library would.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <string.h>

#include "rcx-s3.h"
#include "test-util.h"

#define OBJECT_SIZE 200000
#define ETAG "\"b0a1e5\""
#define JUNK_SIZE (64 * 1024)
/* what a test reads at most before it calls a body endless */
#define READ_CAP (4 * 1024 * 1024)

typedef enum
{
  ANSWER_GOOD,                  /* the range asked for, as S3 answers it */
  ANSWER_ENDLESS,               /* the right Content-Range, chunked: the range, then junk without end */
  ANSWER_LONG_LENGTH,           /* the right Content-Range, a Content-Length 1000 bytes longer */
  ANSWER_FROM_ZERO,             /* 206 bytes 0-(N-1)/N whatever was asked */
  ANSWER_SHIFTED,               /* 206 bytes 1000-(N-1)/N whatever was asked */
} Answer;

typedef struct
{
  TestSocketServer *socket;
  gchar *endpoint;
  guint8 *object;
  GMutex lock;
  GQueue script;                /* Answer, for the next GETs */
  GPtrArray *gets;              /* "Range|If-Match" of every GET */
} Server;

static Server *server;

static void
answer_get (Server * self, GOutputStream * out, Answer answer,
    const gchar * range)
{
  guint64 first = 0, last = OBJECT_SIZE - 1;
  gboolean ranged = FALSE;
  g_autofree gchar *head = NULL;
  g_autofree guint8 *junk = g_malloc (JUNK_SIZE);

  memset (junk, 'J', JUNK_SIZE);
  if (range && g_str_has_prefix (range, "bytes=")) {
    gchar *end;

    ranged = TRUE;
    first = g_ascii_strtoull (range + 6, &end, 10);
    if (*end == '-' && end[1] != '\0')
      last = MIN (g_ascii_strtoull (end + 1, NULL, 10), OBJECT_SIZE - 1);
  }
  if (answer == ANSWER_FROM_ZERO || answer == ANSWER_SHIFTED) {
    first = answer == ANSWER_SHIFTED ? 1000 : 0;
    last = OBJECT_SIZE - 1;
    ranged = TRUE;
  }
  if (answer == ANSWER_ENDLESS) {
    g_autofree gchar *size = NULL;

    /* a 206 even without a Range: the right range, then more */
    head = g_strdup_printf ("HTTP/1.1 206 Partial Content\r\n"
        "Content-Range: bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
        "/%d\r\nETag: " ETAG "\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n", first, last, OBJECT_SIZE);
    /* the range and the first junk in one chunk, so a read can take both */
    size = g_strdup_printf ("%" G_GINT64_MODIFIER "x\r\n",
        (gint64) (last - first + 1 + JUNK_SIZE));
    if (!g_output_stream_write_all (out, head, strlen (head), NULL, NULL,
            NULL)
        || !g_output_stream_write_all (out, size, strlen (size), NULL, NULL,
            NULL)
        || !g_output_stream_write_all (out, self->object + first,
            last - first + 1, NULL, NULL, NULL)
        || !g_output_stream_write_all (out, junk, JUNK_SIZE, NULL, NULL,
            NULL))
      return;
    g_free (size);
    size = g_strdup_printf ("\r\n%x\r\n", JUNK_SIZE);
    /* until the client hangs up */
    while (g_output_stream_write_all (out, size, strlen (size), NULL, NULL,
            NULL)
        && g_output_stream_write_all (out, junk, JUNK_SIZE, NULL, NULL, NULL));
    return;
  }
  {
    guint64 extra = answer == ANSWER_LONG_LENGTH ? 1000 : 0;
    guint64 length = last - first + 1 + extra;

    head = ranged ? g_strdup_printf ("HTTP/1.1 206 Partial Content\r\n"
        "Content-Range: bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
        "/%d\r\nETag: " ETAG "\r\nContent-Length: %" G_GUINT64_FORMAT
        "\r\nConnection: close\r\n\r\n", first, last, OBJECT_SIZE, length) :
        g_strdup_printf ("HTTP/1.1 200 OK\r\nETag: " ETAG "\r\n"
        "Content-Length: %" G_GUINT64_FORMAT "\r\nConnection: close\r\n\r\n",
        length);
    if (g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL)
        && g_output_stream_write_all (out, self->object + first,
            last - first + 1, NULL, NULL, NULL))
      g_output_stream_write_all (out, junk, extra, NULL, NULL, NULL);
  }
}

static gboolean
on_run (GThreadedSocketService * service, GSocketConnection * connection,
    GObject * source, gpointer user_data)
{
  Server *self = user_data;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_auto (GStrv) request = test_http_read_head (connection);
  const gchar *range = NULL, *if_match = NULL;
  Answer answer = ANSWER_GOOD;

  if (request == NULL)
    return TRUE;
  for (guint i = 1; request[i] != NULL; i++) {
    if (g_ascii_strncasecmp (request[i], "Range: ", 7) == 0)
      range = request[i] + 7;
    else if (g_ascii_strncasecmp (request[i], "If-Match: ", 10) == 0)
      if_match = request[i] + 10;
  }
  if (g_str_has_prefix (request[0], "HEAD ")) {
    const gchar *head = "HTTP/1.1 200 OK\r\nContent-Length: "
        G_STRINGIFY (OBJECT_SIZE) "\r\nETag: " ETAG "\r\n"
        "Content-Type: video/mp4\r\nConnection: close\r\n\r\n";

    g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);
    return TRUE;
  }
  g_mutex_lock (&self->lock);
  if (!g_queue_is_empty (&self->script))
    answer = GPOINTER_TO_INT (g_queue_pop_head (&self->script));
  g_ptr_array_add (self->gets, g_strdup_printf ("%s|%s",
          range ? range : "", if_match ? if_match : ""));
  g_mutex_unlock (&self->lock);
  answer_get (self, out, answer, range);
  return TRUE;
}

static void
server_start (void)
{
  server = g_new0 (Server, 1);
  server->object = g_malloc (OBJECT_SIZE);
  for (gsize i = 0; i < OBJECT_SIZE; i++)
    server->object[i] = (guint8) ((i * 31) ^ (i >> 11));
  g_mutex_init (&server->lock);
  g_queue_init (&server->script);
  server->gets = g_ptr_array_new_with_free_func (g_free);
  server->socket = test_socket_server_new (G_CALLBACK (on_run), server);
  server->endpoint = g_strdup_printf ("http://127.0.0.1:%u",
      test_socket_server_get_port (server->socket));
}

static void
server_stop (void)
{
  test_socket_server_free (server->socket);
  g_ptr_array_unref (server->gets);
  g_queue_clear (&server->script);
  g_mutex_clear (&server->lock);
  g_free (server->endpoint);
  g_free (server->object);
  g_clear_pointer (&server, g_free);
}

/* The next GETs answer @n answers, then ANSWER_GOOD; the log is emptied. */
static void
script (guint n, const Answer * answers)
{
  g_mutex_lock (&server->lock);
  g_queue_clear (&server->script);
  for (guint i = 0; i < n; i++)
    g_queue_push_tail (&server->script, GINT_TO_POINTER (answers[i]));
  g_ptr_array_set_size (server->gets, 0);
  g_mutex_unlock (&server->lock);
}

static guint
get_count (void)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->gets->len;
  g_mutex_unlock (&server->lock);
  return n;
}

static gchar *
get_log (guint i)
{
  gchar *s;

  g_mutex_lock (&server->lock);
  g_assert_cmpuint (i, <, server->gets->len);
  s = g_strdup (server->gets->pdata[i]);
  g_mutex_unlock (&server->lock);
  return s;
}

static RcxS3Client *
make_client (void)
{
  RcxS3Config config;
  g_autoptr (GError) error = NULL;
  RcxS3Client *client;

  rcx_s3_config_init (&config);
  config.endpoint_uri = g_strdup (server->endpoint);
  config.access_key = g_strdup ("AKIDSTUB");
  config.secret_access_key = g_strdup ("stubsecret");
  config.region = g_strdup ("us-east-1");
  config.request_timeout = 5;
  client = rcx_s3_client_new (&config, &error);
  g_assert_no_error (error);
  rcx_s3_config_clear (&config);
  return client;
}

/* An endless body: rcx_s3_get_object gives the range, then an error, and
 * never the junk after it. */
static void
test_get_object_endless_body (void)
{
  const Answer answers[] = { ANSWER_ENDLESS };
  g_autoptr (RcxS3Client) client = make_client ();
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *got = g_malloc (READ_CAP);
  gsize total = 0;
  gssize n = 0;

  script (1, answers);
  in = rcx_s3_get_object (client, "media", "clip.mp4", 1000, 0, NULL, NULL,
      NULL, &error);
  g_assert_no_error (error);
  while (total < READ_CAP && (n = g_input_stream_read (in, got + total,
              MIN (16384, READ_CAP - total), NULL, &error)) > 0)
    total += n;
  g_assert_cmpuint (total, ==, OBJECT_SIZE - 1000);
  g_assert_cmpmem (got, total, server->object + 1000, OBJECT_SIZE - 1000);
  g_assert_cmpint (n, ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_input_stream_close (in, NULL, NULL);
}

/* Reads @size bytes at @offset through a reader that asked HEAD first
 * (@head) or not; the buffer is larger than the object. */
static gssize
reader_read (RcxS3Client * client, gboolean head, guint64 offset, gsize size,
    guint8 ** data, GError ** error)
{
  g_autoptr (RcxS3Reader) reader = rcx_s3_reader_new (client, "media",
      "clip.mp4");
  guint8 *buffer = g_malloc0 (OBJECT_SIZE + JUNK_SIZE);
  gssize n;

  if (head)
    g_assert_true (rcx_s3_reader_get_info (reader, NULL, NULL, NULL));
  n = rcx_s3_reader_read (reader, offset, buffer, size, NULL, error);
  *data = buffer;
  return n;
}

static void
test_reader_endless_body (gconstpointer with_head)
{
  const Answer answers[] = { ANSWER_ENDLESS };
  g_autoptr (RcxS3Client) client = make_client ();
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *data = NULL;
  gssize n;

  script (1, answers);
  n = reader_read (client, GPOINTER_TO_INT (with_head), 1000,
      OBJECT_SIZE + JUNK_SIZE, &data, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, OBJECT_SIZE - 1000);
  g_assert_cmpmem (data, n, server->object + 1000, OBJECT_SIZE - 1000);
  g_assert_cmpuint (get_count (), ==, 1);
}

/* A Content-Length past the range asked for, or another range: resumed
 * from the same offset with If-Match, and only the right bytes given. */
static void
test_reader_wrong_answer (gconstpointer data)
{
  const Answer answers[] = { GPOINTER_TO_INT (data) };
  g_autoptr (RcxS3Client) client = make_client ();
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *got = NULL;
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;
  gssize n;

  script (1, answers);
  n = reader_read (client, TRUE, 5000, OBJECT_SIZE, &got, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, OBJECT_SIZE - 5000);
  g_assert_cmpmem (got, n, server->object + 5000, OBJECT_SIZE - 5000);
  g_assert_cmpuint (get_count (), ==, 2);
  first = get_log (0);
  second = get_log (1);
  g_assert_cmpstr (first, ==, "bytes=5000-|" ETAG);
  g_assert_cmpstr (second, ==, "bytes=5000-|" ETAG);
}

/* A server that always answers another range: an error after the retry
 * policy's attempts, not data. */
static void
test_reader_always_wrong (void)
{
  const Answer answers[] = { ANSWER_FROM_ZERO, ANSWER_FROM_ZERO,
    ANSWER_FROM_ZERO, ANSWER_FROM_ZERO, ANSWER_FROM_ZERO, ANSWER_FROM_ZERO,
  };
  g_autoptr (RcxS3Client) client = make_client ();
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *got = NULL;
  gssize n;

  script (G_N_ELEMENTS (answers), answers);
  n = reader_read (client, TRUE, 5000, 1000, &got, &error);
  g_assert_cmpint (n, ==, -1);
  g_assert_error (error, RCX_S3_ERROR, RCX_S3_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "asked for bytes 5000-"));
  g_assert_cmpuint (get_count (), ==, RCX_S3_DEFAULT_RETRY_ATTEMPTS);
}

static void
on_handoff (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    gpointer user_data)
{
  GByteArray *got = user_data;
  GstMapInfo map;

  g_assert_true (gst_buffer_map (buffer, &map, GST_MAP_READ));
  g_byte_array_append (got, map.data, map.size);
  gst_buffer_unmap (buffer, &map);
}

/* wasabisrc: the first GET is answered with another range, the resumed
 * one with an endless body; the element delivers the object, exactly. */
static void
test_element (void)
{
  const Answer answers[] = { ANSWER_SHIFTED, ANSWER_ENDLESS };
  g_autofree gchar *desc = g_strdup_printf ("wasabisrc uri=s3://media/"
      "clip.mp4 endpoint-uri=%s access-key=AKIDSTUB secret-access-key="
      "stubsecret region=us-east-1 request-timeout=5 ! fakesink name=sink "
      "signal-handoffs=true sync=false", server->endpoint);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) msg = NULL;
  g_autoptr (GByteArray) got = g_byte_array_new ();

  script (G_N_ELEMENTS (answers), answers);
  pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), got);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_assert_nonnull (msg);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &error, NULL);
    g_assert_no_error (error);
  }
  g_assert_cmpuint (got->len, ==, OBJECT_SIZE);
  g_assert_cmpmem (got->data, got->len, server->object, OBJECT_SIZE);
  g_assert_cmpuint (get_count (), ==, 2);
}

int
main (int argc, char **argv)
{
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  server_start ();
  g_test_add_func ("/s3-get-bounds/get-object/endless-body",
      test_get_object_endless_body);
  g_test_add_data_func ("/s3-get-bounds/reader/endless-body",
      GINT_TO_POINTER (TRUE), test_reader_endless_body);
  g_test_add_data_func ("/s3-get-bounds/reader/endless-body-without-head",
      GINT_TO_POINTER (FALSE), test_reader_endless_body);
  g_test_add_data_func ("/s3-get-bounds/reader/long-content-length",
      GINT_TO_POINTER (ANSWER_LONG_LENGTH), test_reader_wrong_answer);
  g_test_add_data_func ("/s3-get-bounds/reader/other-range",
      GINT_TO_POINTER (ANSWER_FROM_ZERO), test_reader_wrong_answer);
  g_test_add_func ("/s3-get-bounds/reader/always-another-range",
      test_reader_always_wrong);
  g_test_add_func ("/s3-get-bounds/element", test_element);
  ret = g_test_run ();
  server_stop ();
  return ret;
}
