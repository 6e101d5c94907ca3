/* Unit tests of rcx-sqs: the reply parsers (hostile input), endpoint and
 * region resolution, and the operations against the SQS fake
 * (tests/fixtures/sqs_fake.py, started per test on a free port, with its
 * fault switches) and against a raw in-process HTTP server for replies the
 * fake never sends (oversized bodies).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <rcx-sqs.h>

#include <string.h>
#include <gio/gio.h>

#define ACCOUNT "000000000000"

/* ---- the fake, as a child process ------------------------------------- */

typedef struct
{
  GSubprocess *proc;
  GDataInputStream *out;        /* kept open: the fake's prints must not
                                 * meet a closed pipe */
  gchar *endpoint;
  gchar *key;
  gchar *secret;
} Fake;

/* Starts the fake with @args (NULL-terminated: --queue, --redrive, --fault)
 * and reads its NAME=value lines. */
static Fake *
fake_start (const gchar * first_arg, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  GDataInputStream *out;
  const gchar *src = g_getenv ("RCX_SOURCE_DIR");
  Fake *fake = g_new0 (Fake, 1);
  const gchar *arg;
  va_list ap;

  g_assert_nonnull (src);
  g_ptr_array_add (argv, g_strdup ("/usr/bin/python3"));
  g_ptr_array_add (argv, g_build_filename (src, "tests", "fixtures",
          "sqs_fake.py", NULL));
  va_start (ap, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (ap, const gchar *))
      g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  fake->proc = g_subprocess_newv ((const gchar * const *) argv->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  out = fake->out =
      g_data_input_stream_new (g_subprocess_get_stdout_pipe (fake->proc));
  for (;;) {
    g_autofree gchar *line = g_data_input_stream_read_line (out, NULL, NULL,
        &error);

    g_assert_no_error (error);
    g_assert_nonnull (line);    /* the fake died before it was ready */
    if (g_str_has_prefix (line, "# Ctrl-C"))
      break;
    if (g_str_has_prefix (line, "AWS_ENDPOINT_URL_SQS="))
      fake->endpoint = g_strdup (strchr (line, '=') + 1);
    else if (g_str_has_prefix (line, "AWS_ACCESS_KEY_ID="))
      fake->key = g_strdup (strchr (line, '=') + 1);
    else if (g_str_has_prefix (line, "AWS_SECRET_ACCESS_KEY="))
      fake->secret = g_strdup (strchr (line, '=') + 1);
  }
  g_assert_nonnull (fake->endpoint);
  return fake;
}

static void
fake_stop (Fake * fake)
{
  g_subprocess_send_signal (fake->proc, SIGTERM);
  g_subprocess_wait (fake->proc, NULL, NULL);
  g_object_unref (fake->out);
  g_object_unref (fake->proc);
  g_free (fake->endpoint);
  g_free (fake->key);
  g_free (fake->secret);
  g_free (fake);
}

static gchar *
fake_queue_url (Fake * fake, const gchar * name)
{
  return g_strdup_printf ("%s/" ACCOUNT "/%s", fake->endpoint, name);
}

/* A client of @fake's queue @name, with its credentials (or @secret). */
static RcxSqsClient *
fake_client (Fake * fake, const gchar * name, const gchar * secret)
{
  g_auto (RcxSqsConfig) config;
  g_autoptr (GError) error = NULL;
  RcxSqsClient *client;

  rcx_sqs_config_init (&config);
  config.queue_url = fake_queue_url (fake, name);
  config.access_key = g_strdup (fake->key);
  config.secret_access_key = g_strdup (secret ? secret : fake->secret);
  config.region = g_strdup ("us-east-1");
  config.request_timeout = 5;
  client = rcx_sqs_client_new (&config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (client);
  return client;
}

/* ---- parsers ---------------------------------------------------------- */

#define HELLO_MD5 "5d41402abc4b2a76b9719d911017c592"

static void
test_parse_receive (void)
{
  const gchar *ok = "{\"Messages\":[{\"MessageId\":\"m1\","
      "\"ReceiptHandle\":\"rh1\",\"MD5OfBody\":\"" HELLO_MD5 "\","
      "\"Body\":\"hello\",\"Attributes\":{\"ApproximateReceiveCount\":\"3\","
      "\"SentTimestamp\":\"1700000000000\","
      "\"ApproximateFirstReceiveTimestamp\":\"1700000000500\"}}]}";
  g_autoptr (GPtrArray) msgs = NULL;
  g_autoptr (GError) error = NULL;
  RcxSqsMessage *m;

  msgs = rcx_sqs_parse_receive_reply (ok, strlen (ok), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (msgs->len, ==, 1);
  m = msgs->pdata[0];
  g_assert_cmpstr (m->message_id, ==, "m1");
  g_assert_cmpstr (m->receipt_handle, ==, "rh1");
  g_assert_cmpstr (m->body, ==, "hello");
  g_assert_cmpuint (m->body_len, ==, 5);
  g_assert_cmpuint (m->receive_count, ==, 3);
  g_assert_cmpint (m->sent_timestamp, ==, 1700000000000);
  g_assert_cmpint (m->first_receive_timestamp, ==, 1700000000500);
  g_clear_pointer (&msgs, g_ptr_array_unref);

  /* an empty receive: "{}" (and an empty body) */
  msgs = rcx_sqs_parse_receive_reply ("{}", 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (msgs->len, ==, 0);
  g_clear_pointer (&msgs, g_ptr_array_unref);
  msgs = rcx_sqs_parse_receive_reply ("", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (msgs->len, ==, 0);
}

static void
test_parse_receive_hostile (void)
{
  const gchar *bad[] = {
    "[]", "null", "{\"Messages\":{}}", "{\"Messages\":[1]}",
    "{\"Messages\":[{\"MessageId\":1,\"ReceiptHandle\":\"r\",\"Body\":\"b\"}]}",
    "{\"Messages\":[{\"ReceiptHandle\":\"r\",\"Body\":\"b\"}]}",
    "{\"Messages\":[{\"MessageId\":\"m\",\"ReceiptHandle\":\"\",\"Body\":\"b\"}]}",
    /* MD5OfBody of another body */
    "{\"Messages\":[{\"MessageId\":\"m\",\"ReceiptHandle\":\"r\","
        "\"Body\":\"hellO\",\"MD5OfBody\":\"" HELLO_MD5 "\"}]}",
    "{\"Messages\":[{\"MessageId\":\"m\",\"ReceiptHandle\":\"r\","
        "\"Body\":\"b\",\"Attributes\":{\"ApproximateReceiveCount\":\"-1\"}}]}",
    "{\"Messages\":[{\"MessageId\":\"m\",\"ReceiptHandle\":\"r\","
        "\"Body\":\"b\",\"Attributes\":{\"ApproximateReceiveCount\":7}}]}",
    "{\"Messages\":[{\"MessageId\":\"m\",\"ReceiptHandle\":\"r\","
        "\"Body\":\"b\",\"Attributes\":[]}]}",
    "{\"Messages\":[", "{\"Messages\":\"\xff\xfe\"}", "\"just a string\"",
    NULL
  };
  g_autoptr (GString) deep = g_string_new ("{\"Messages\":");
  g_autoptr (GString) many = g_string_new ("{\"Messages\":[");
  g_autoptr (GPtrArray) msgs = NULL;
  guint i;

  for (i = 0; bad[i] != NULL; i++) {
    g_autoptr (GError) error = NULL;

    msgs = rcx_sqs_parse_receive_reply (bad[i], strlen (bad[i]), &error);
    g_assert_null (msgs);
    g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_INVALID_REPLY);
  }

  /* nesting far deeper than the limit never reaches json-glib */
  for (i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  {
    g_autoptr (GError) error = NULL;

    msgs = rcx_sqs_parse_receive_reply (deep->str, deep->len, &error);
    g_assert_null (msgs);
    g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_INVALID_REPLY);
  }
  /* an embedded NUL */
  {
    g_autoptr (GError) error = NULL;

    msgs = rcx_sqs_parse_receive_reply ("{}\0{}", 5, &error);
    g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_INVALID_REPLY);
  }
  /* more messages than SQS ever sends at once */
  for (i = 0; i < 11; i++)
    g_string_append_printf (many, "%s{\"MessageId\":\"m%u\","
        "\"ReceiptHandle\":\"r\",\"Body\":\"b\"}", i ? "," : "", i);
  g_string_append (many, "]}");
  {
    g_autoptr (GError) error = NULL;

    msgs = rcx_sqs_parse_receive_reply (many->str, many->len, &error);
    g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_INVALID_REPLY);
  }
}

static void
test_parse_others (void)
{
  const gchar *attrs = "{\"Attributes\":{\"VisibilityTimeout\":\"30\","
      "\"RedrivePolicy\":\"{\\\"maxReceiveCount\\\":5}\"}}";
  const gchar *sent = "{\"MD5OfMessageBody\":\"" HELLO_MD5 "\","
      "\"MessageId\":\"id-1\"}";
  g_autoptr (GHashTable) table = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *id = NULL;
  g_autofree gchar *code = NULL, *message = NULL;
  const gchar *err = "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\","
      "\"message\":\"The specified queue\\n does not exist.\"}";

  table = rcx_sqs_parse_attributes_reply (attrs, strlen (attrs), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (table, "VisibilityTimeout"), ==, "30");
  g_assert_cmpstr (g_hash_table_lookup (table, "RedrivePolicy"), ==,
      "{\"maxReceiveCount\":5}");
  g_clear_pointer (&table, g_hash_table_unref);
  table = rcx_sqs_parse_attributes_reply ("{\"Attributes\":{\"a\":1}}", 22,
      &error);
  g_assert_null (table);
  g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_INVALID_REPLY);
  g_clear_error (&error);

  id = rcx_sqs_parse_send_reply (sent, strlen (sent), "hello", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, "id-1");
  g_assert_null (rcx_sqs_parse_send_reply (sent, strlen (sent), "other",
          &error));
  g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_INVALID_REPLY);

  g_assert_true (rcx_sqs_parse_error_reply (err, strlen (err), &code,
          &message));
  g_assert_cmpstr (code, ==, "QueueDoesNotExist");
  /* one line: control characters are blanked */
  g_assert_cmpstr (message, ==, "The specified queue  does not exist.");
  g_clear_pointer (&code, g_free);
  g_clear_pointer (&message, g_free);
  g_assert_false (rcx_sqs_parse_error_reply ("<xml/>", 6, &code, &message));
  g_assert_null (code);
}

/* ---- configuration ---------------------------------------------------- */

static void
test_config (void)
{
  g_auto (RcxSqsConfig) config;
  g_autoptr (RcxSqsClient) client = NULL;
  g_autoptr (GError) error = NULL;

  g_unsetenv ("AWS_ENDPOINT_URL_SQS");
  g_unsetenv ("AWS_ENDPOINT_URL");
  g_unsetenv ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  g_setenv ("AWS_REGION", "ap-south-1", TRUE);
  rcx_sqs_config_init (&config);

  /* endpoint and region from the queue URL */
  config.queue_url =
      g_strdup ("https://sqs.eu-west-3.amazonaws.com/123456789012/jobs");
  client = rcx_sqs_client_new (&config, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rcx_sqs_client_get_endpoint (client), ==,
      "https://sqs.eu-west-3.amazonaws.com");
  g_assert_cmpstr (rcx_sqs_client_get_region (client), ==, "eu-west-3");
  g_assert_cmpstr (rcx_sqs_client_get_queue_url (client), ==, config.queue_url);
  g_clear_pointer (&client, rcx_sqs_client_unref);

  /* the legacy host form */
  g_free (config.queue_url);
  config.queue_url =
      g_strdup ("https://us-west-2.queue.amazonaws.com/123456789012/jobs");
  client = rcx_sqs_client_new (&config, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rcx_sqs_client_get_region (client), ==, "us-west-2");
  g_clear_pointer (&client, rcx_sqs_client_unref);

  /* AWS_ENDPOINT_URL_SQS wins over the queue URL's host; a host that
   * names no region leaves it to AWS_REGION */
  g_setenv ("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324/", TRUE);
  g_setenv ("AWS_ENDPOINT_URL", "http://127.0.0.1:1/", TRUE);
  g_free (config.queue_url);
  config.queue_url = g_strdup ("http://localhost:4566/000000000000/jobs");
  client = rcx_sqs_client_new (&config, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rcx_sqs_client_get_endpoint (client), ==,
      "http://127.0.0.1:9324");
  g_assert_cmpstr (rcx_sqs_client_get_region (client), ==, "ap-south-1");
  g_clear_pointer (&client, rcx_sqs_client_unref);

  /* ... unless endpoints from the environment are to be ignored */
  g_setenv ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", TRUE);
  client = rcx_sqs_client_new (&config, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rcx_sqs_client_get_endpoint (client), ==,
      "http://localhost:4566");
  g_clear_pointer (&client, rcx_sqs_client_unref);
  g_unsetenv ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");

  /* the explicit setting wins over everything, default ports dropped */
  config.endpoint_uri = g_strdup ("https://sqs.example.net:443");
  config.region = g_strdup ("eu-north-1");
  client = rcx_sqs_client_new (&config, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rcx_sqs_client_get_endpoint (client), ==,
      "https://sqs.example.net");
  g_assert_cmpstr (rcx_sqs_client_get_region (client), ==, "eu-north-1");
  g_clear_pointer (&client, rcx_sqs_client_unref);
  g_unsetenv ("AWS_ENDPOINT_URL_SQS");
  g_unsetenv ("AWS_ENDPOINT_URL");
  g_unsetenv ("AWS_REGION");

  /* refused: user info, a query, no path, not http */
  {
    const gchar *bad[] = { "http://user:pw@host/1/q", "http://host/1/q?x=1",
      "http://host", "ftp://host/1/q", "not a url", NULL
    };
    guint i;

    g_clear_pointer (&config.endpoint_uri, g_free);
    for (i = 0; bad[i] != NULL; i++) {
      g_free (config.queue_url);
      config.queue_url = g_strdup (bad[i]);
      g_assert_null (rcx_sqs_client_new (&config, &error));
      g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_SETTINGS);
      g_clear_error (&error);
    }
  }
}

/* ---- against the fake ------------------------------------------------- */

static void
test_send_receive_delete (void)
{
  Fake *fake = fake_start ("--queue", "jobs", NULL);
  g_autoptr (RcxSqsClient) client = fake_client (fake, "jobs", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) msgs = NULL;
  g_autoptr (GHashTable) attrs = NULL;
  g_autofree gchar *id = NULL;
  RcxSqsReceiveOptions opts;
  const gchar *body = "{\"job_id\":\"j\",\"text\":\"\xc3\xa9 <&> \\\"\"}";
  RcxSqsMessage *m;
  gint64 start;

  id = rcx_sqs_send_message (client, NULL, body, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);

  rcx_sqs_receive_options_init (&opts);
  opts.visibility_timeout = 1;
  msgs = rcx_sqs_receive_message (client, NULL, &opts, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (msgs->len, ==, 1);
  m = msgs->pdata[0];
  g_assert_cmpstr (m->message_id, ==, id);
  g_assert_cmpstr (m->body, ==, body);
  g_assert_cmpuint (m->receive_count, ==, 1);
  g_assert_cmpint (m->sent_timestamp, >, 0);
  g_assert_cmpint (m->first_receive_timestamp, >=, m->sent_timestamp);
  g_clear_pointer (&msgs, g_ptr_array_unref);

  /* in flight: the long poll comes back as soon as the 1 s visibility
   * runs out, with the message a second time */
  start = g_get_monotonic_time ();
  msgs = rcx_sqs_receive_message (client, NULL, &opts, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (msgs->len, ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  m = msgs->pdata[0];
  g_assert_cmpuint (m->receive_count, ==, 2);

  /* heartbeat, then delete with the latest handle */
  g_assert_true (rcx_sqs_change_message_visibility (client, NULL,
          m->receipt_handle, 600, NULL, &error));
  g_assert_no_error (error);
  attrs = rcx_sqs_get_queue_attributes (client, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (attrs,
          "ApproximateNumberOfMessagesNotVisible"), ==, "1");
  g_clear_pointer (&attrs, g_hash_table_unref);
  g_assert_true (rcx_sqs_delete_message (client, NULL, m->receipt_handle,
          NULL, &error));
  g_assert_no_error (error);
  /* the message is gone: a visibility change now fails as SQS says */
  g_assert_false (rcx_sqs_change_message_visibility (client, NULL,
          m->receipt_handle, 0, NULL, &error));
  g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_MESSAGE_NOT_INFLIGHT);
  g_clear_error (&error);
  /* a handle that is not SQS's */
  g_assert_false (rcx_sqs_delete_message (client, NULL, "not-a-handle",
          NULL, &error));
  g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_RECEIPT_HANDLE_INVALID);
  g_assert_cmpuint (rcx_sqs_error_get_http_status (error), ==, 404);
  g_assert_cmpstr (rcx_sqs_error_get_code (error), ==,
      "ReceiptHandleIsInvalid");
  g_clear_error (&error);

  {
    const gchar *names[] = { "ApproximateNumberOfMessages",
      "VisibilityTimeout", NULL
    };

    attrs = rcx_sqs_get_queue_attributes (client, NULL, names, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_hash_table_size (attrs), ==, 2);
    g_assert_cmpstr (g_hash_table_lookup (attrs,
            "ApproximateNumberOfMessages"), ==, "0");
  }
  fake_stop (fake);
}

static void
test_queue_does_not_exist (void)
{
  Fake *fake = fake_start ("--queue", "jobs", NULL);
  g_autoptr (RcxSqsClient) client = fake_client (fake, "jobs", NULL);
  g_autofree gchar *other = fake_queue_url (fake, "missing");
  g_autoptr (GError) error = NULL;
  guint64 before = rcx_sqs_client_get_request_count (client);

  g_assert_null (rcx_sqs_receive_message (client, other, NULL, NULL, &error));
  g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_QUEUE_DOES_NOT_EXIST);
  g_assert_cmpstr (rcx_sqs_error_get_code (error), ==, "QueueDoesNotExist");
  g_assert_cmpstr (rcx_sqs_error_get_query_code (error), ==,
      "AWS.SimpleQueueService.NonExistentQueue");
  g_assert_cmpuint (rcx_sqs_error_get_http_status (error), ==, 400);
  g_assert_nonnull (rcx_sqs_error_get_request_id (error));
  g_assert_false (rcx_sqs_error_is_transient (error));
  /* a definite answer: not retried */
  g_assert_cmpuint (rcx_sqs_client_get_request_count (client) - before, ==, 1);
  fake_stop (fake);
}

static void
test_bad_signature (void)
{
  Fake *fake = fake_start ("--queue", "jobs", NULL);
  g_autoptr (RcxSqsClient) client = fake_client (fake, "jobs", "wrong");
  g_autoptr (GError) error = NULL;

  g_assert_null (rcx_sqs_send_message (client, NULL, "x", 0, NULL, &error));
  g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_NOT_AUTHORIZED);
  g_assert_cmpstr (rcx_sqs_error_get_code (error), ==, "SignatureDoesNotMatch");
  /* bad credentials are never retried */
  g_assert_cmpuint (rcx_sqs_client_get_request_count (client), ==, 1);
  fake_stop (fake);
}

static void
test_retries (void)
{
  Fake *fake = fake_start ("--queue", "jobs",
      "--fault", "error:SendMessage:2:500:InternalError",
      "--fault", "throttle:GetQueueAttributes:2",
      "--fault", "throttle:DeleteMessage:5", NULL);
  g_autoptr (RcxSqsClient) client = fake_client (fake, "jobs", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *id = NULL;
  g_autoptr (GHashTable) attrs = NULL;
  guint64 n;

  /* two 500s, then the third attempt goes through */
  id = rcx_sqs_send_message (client, NULL, "x", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rcx_sqs_client_get_request_count (client), ==, 3);

  /* RequestThrottled comes with HTTP 403 and is still retried */
  attrs = rcx_sqs_get_queue_attributes (client, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rcx_sqs_client_get_request_count (client), ==, 6);

  /* throttled past the attempts: THROTTLED, transient */
  n = rcx_sqs_client_get_request_count (client);
  g_assert_false (rcx_sqs_delete_message (client, NULL, "aGFuZGxl", NULL,
          &error));
  g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_THROTTLED);
  g_assert_cmpuint (rcx_sqs_error_get_http_status (error), ==, 403);
  g_assert_true (rcx_sqs_error_is_transient (error));
  g_assert_cmpuint (rcx_sqs_client_get_request_count (client) - n, ==, 3);
  fake_stop (fake);
}

/* request_timeout 1 s: a stalled call times out, a 3 s long poll does
 * not (it runs on request_timeout + 20 s) */
static void
test_timeouts (void)
{
  Fake *fake = fake_start ("--queue", "jobs",
      "--fault", "stall:GetQueueAttributes:3:4", NULL);
  g_auto (RcxSqsConfig) config;
  g_autoptr (RcxSqsClient) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) msgs = NULL;
  RcxSqsReceiveOptions opts;
  gint64 start;

  rcx_sqs_config_init (&config);
  config.queue_url = fake_queue_url (fake, "jobs");
  config.access_key = g_strdup (fake->key);
  config.secret_access_key = g_strdup (fake->secret);
  config.request_timeout = 1;
  config.retry_attempts = 2;
  client = rcx_sqs_client_new (&config, &error);
  g_assert_no_error (error);

  g_assert_null (rcx_sqs_get_queue_attributes (client, NULL, NULL, NULL,
          &error));
  g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_CONNECT);
  g_assert_true (rcx_sqs_error_is_transient (error));
  g_clear_error (&error);

  rcx_sqs_receive_options_init (&opts);
  opts.wait_time_seconds = 3;
  start = g_get_monotonic_time ();
  msgs = rcx_sqs_receive_message (client, NULL, &opts, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (msgs->len, ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 3 * G_USEC_PER_SEC);
  /* one attempt: the wait was not taken for a stall */
  g_assert_cmpuint (rcx_sqs_client_get_request_count (client), ==, 3);
  fake_stop (fake);
}

static gboolean
cancel_cb (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

typedef struct
{
  GCancellable *cancellable;
  guint delay_ms;
} CancelLater;

static gpointer
cancel_later (gpointer data)
{
  CancelLater *cl = data;

  /* a timer (the shutdown that comes while a poll waits), not a wait for
   * something that could be awaited */
  g_usleep (cl->delay_ms * 1000);
  cancel_cb (cl->cancellable);
  return NULL;
}

static void
test_cancel_long_poll (void)
{
  Fake *fake = fake_start ("--queue", "jobs", NULL);
  g_autoptr (RcxSqsClient) client = fake_client (fake, "jobs", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GThread) thread = NULL;
  CancelLater cl = { cancellable, 300 };
  gint64 start = g_get_monotonic_time ();

  thread = g_thread_new ("cancel", cancel_later, &cl);
  /* an empty queue and a 20 s long poll: cancelled after 0.3 s */
  g_assert_null (rcx_sqs_receive_message (client, NULL, NULL, cancellable,
          &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_thread_join (g_steal_pointer (&thread));
  fake_stop (fake);
}

static void
test_connection_refused (void)
{
  g_auto (RcxSqsConfig) config;
  g_autoptr (RcxSqsClient) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GInetSocketAddress) addr = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  guint16 port;

  /* a port nothing listens on: bind one, close it */
  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  addr = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string
      ("127.0.0.1", 0));
  g_assert_true (g_socket_bind (sock, G_SOCKET_ADDRESS (addr), TRUE, &error));
  bound = g_socket_get_local_address (sock, &error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (sock, NULL);

  rcx_sqs_config_init (&config);
  config.queue_url = g_strdup_printf ("http://127.0.0.1:%u/" ACCOUNT "/q",
      port);
  config.access_key = g_strdup ("AKID");
  config.secret_access_key = g_strdup ("secret");
  config.retry_attempts = 2;
  client = rcx_sqs_client_new (&config, &error);
  g_assert_no_error (error);
  g_assert_false (rcx_sqs_delete_message (client, NULL, "h", NULL, &error));
  g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_CONNECT);
  g_assert_true (rcx_sqs_error_is_transient (error));
  g_assert_cmpuint (rcx_sqs_client_get_request_count (client), ==, 2);
}

/* ---- a raw server for replies the fake never sends --------------------- */

typedef struct
{
  GSocketListener *listener;
  guint16 port;
  GBytes *reply;                /* the whole HTTP response */
} RawServer;

static gpointer
raw_server_thread (gpointer data)
{
  RawServer *rs = data;
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  gsize len;
  const gchar *reply = g_bytes_get_data (rs->reply, &len);
  guint64 content_length = 0;

  conn = g_socket_listener_accept (rs->listener, NULL, NULL, NULL);
  if (conn == NULL)
    return NULL;
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM
          (conn)));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in),
      FALSE);
  for (;;) {
    g_autofree gchar *line = g_data_input_stream_read_line (in, NULL, NULL,
        NULL);

    if (line == NULL || line[0] == '\r' || line[0] == '\0')
      break;
    if (g_ascii_strncasecmp (line, "content-length:", 15) == 0)
      content_length = g_ascii_strtoull (line + 15, NULL, 10);
  }
  g_input_stream_skip (G_INPUT_STREAM (in), content_length, NULL, NULL);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM
          (conn)), reply, len, NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  return NULL;
}

static void
test_oversized_reply (void)
{
  g_autoptr (GError) error = NULL;
  g_auto (RcxSqsConfig) config;
  g_autoptr (RcxSqsClient) client = NULL;
  g_autoptr (GThread) thread = NULL;
  g_autoptr (GString) reply = g_string_new (NULL);
  RawServer rs = { 0, };
  gsize body = RCX_SQS_MAX_REPLY + 1024 * 1024;

  rs.listener = g_socket_listener_new ();
  rs.port = g_socket_listener_add_any_inet_port (rs.listener, NULL, &error);
  g_assert_no_error (error);
  /* no Content-Length: a body that just goes on */
  g_string_append (reply, "HTTP/1.1 200 OK\r\nContent-Type: "
      "application/x-amz-json-1.0\r\nConnection: close\r\n\r\n{\"a\":\"");
  g_string_set_size (reply, reply->len + body);
  memset (reply->str + reply->len - body, 'x', body);
  rs.reply = g_bytes_new (reply->str, reply->len);
  thread = g_thread_new ("raw", raw_server_thread, &rs);

  rcx_sqs_config_init (&config);
  config.queue_url = g_strdup_printf ("http://127.0.0.1:%u/" ACCOUNT "/q",
      rs.port);
  config.access_key = g_strdup ("AKID");
  config.secret_access_key = g_strdup ("secret");
  client = rcx_sqs_client_new (&config, &error);
  g_assert_no_error (error);
  g_assert_null (rcx_sqs_get_queue_attributes (client, NULL, NULL, NULL,
          &error));
  g_assert_error (error, RCX_SQS_ERROR, RCX_SQS_ERROR_INVALID_REPLY);
  g_thread_join (g_steal_pointer (&thread));
  g_socket_listener_close (rs.listener);
  g_object_unref (rs.listener);
  g_bytes_unref (rs.reply);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_setenv ("AWS_EC2_METADATA_DISABLED", "true", TRUE);
  g_test_add_func ("/sqs/parse/receive", test_parse_receive);
  g_test_add_func ("/sqs/parse/receive-hostile", test_parse_receive_hostile);
  g_test_add_func ("/sqs/parse/others", test_parse_others);
  g_test_add_func ("/sqs/config", test_config);
  g_test_add_func ("/sqs/fake/send-receive-delete", test_send_receive_delete);
  g_test_add_func ("/sqs/fake/queue-does-not-exist", test_queue_does_not_exist);
  g_test_add_func ("/sqs/fake/bad-signature", test_bad_signature);
  g_test_add_func ("/sqs/fake/retries", test_retries);
  g_test_add_func ("/sqs/fake/cancel-long-poll", test_cancel_long_poll);
  g_test_add_func ("/sqs/fake/timeouts", test_timeouts);
  g_test_add_func ("/sqs/connection-refused", test_connection_refused);
  g_test_add_func ("/sqs/oversized-reply", test_oversized_reply);
  return g_test_run ();
}
