/* test-outside-bytes.c: hostile bytes from servers and users' files: JSON
 * nested deeper than json-glib's recursion survives, bodies without end,
 * server text full of control characters, keys holding CR/LF.
 *
 * The endless bodies come from a plain socket service on 127.0.0.1 in this
 * process (a thread per connection writing until the client goes away).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "rcx-credentials.h"
#include "rcx-http.h"
#include "rcx-json.h"
#include "rcx-pipeline-desc.h"
#include "rcx-postgrest.h"
#include "rcx-sanitize.h"
#include "rcx-xml.h"
#include "test-util.h"

/* The depth that segfaulted json-glib 1.6 (240 KB). */
#define HOSTILE_DEPTH 120000

static gchar *
nested (const gchar * open, const gchar * close, guint depth)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < depth; i++)
    g_string_append (s, open);
  for (i = 0; i < depth; i++)
    g_string_append (s, close);
  return g_string_free (s, FALSE);
}

/* ---- rcx-json --------------------------------------------------------- */

static void
test_json_deep_refused (void)
{
  g_autofree gchar *arrays = nested ("[", "]", HOSTILE_DEPTH);
  g_autofree gchar *objects = nested ("{\"a\":", "}", HOSTILE_DEPTH);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;

  node = rcx_json_parse (arrays, strlen (arrays), 0, &error);
  g_assert_null (node);
  g_assert_error (error, RCX_JSON_ERROR, RCX_JSON_ERROR_TOO_DEEP);
  g_clear_error (&error);
  node = rcx_json_parse (objects, strlen (objects), 0, &error);
  g_assert_null (node);
  g_assert_error (error, RCX_JSON_ERROR, RCX_JSON_ERROR_TOO_DEEP);
}

static void
test_json_depth_limit (void)
{
  g_autofree gchar *ok = nested ("[", "]", RCX_JSON_MAX_DEPTH);
  g_autofree gchar *one_more = nested ("[", "]", RCX_JSON_MAX_DEPTH + 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;

  node = rcx_json_parse (ok, strlen (ok), 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (node);
  g_assert_false (rcx_json_check (one_more, strlen (one_more), 0, 0, &error));
  g_assert_error (error, RCX_JSON_ERROR, RCX_JSON_ERROR_TOO_DEEP);
}

/* Brackets inside strings are text: a message full of them parses.
 * json-glib's single-quoted strings and comments are refused (it leaks on
 * some of them), whatever they hold. */
static void
test_json_strings_are_not_structure (void)
{
  g_autofree gchar *brackets = nested ("[{", "}]", 1000);
  g_autofree gchar *dq = g_strdup_printf ("{\"m\": \"\\\"%s\\\\\"}", brackets);
  g_autofree gchar *sq = g_strdup_printf ("{\"m\": '%s'}", brackets);
  g_autofree gchar *comment = g_strdup_printf ("/* %s */ [1]", brackets);
  g_autoptr (GError) error = NULL;
  JsonNode *node;

  node = rcx_json_parse (dq, strlen (dq), 0, &error);
  g_assert_no_error (error);
  json_node_unref (node);
  g_assert_null (rcx_json_parse (sq, strlen (sq), 0, &error));
  g_assert_error (error, RCX_JSON_ERROR, RCX_JSON_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (rcx_json_parse (comment, strlen (comment), 0, &error));
  g_assert_error (error, RCX_JSON_ERROR, RCX_JSON_ERROR_INVALID);
}

/* A quote that json-glib does not take as a string's start must not hide
 * the brackets after it from the scan. */
static void
test_json_quotes_cannot_hide_depth (void)
{
  g_autofree gchar *deep = nested ("[", "]", 1000);
  const gchar *prefixes[] = { "/* \" */", "'\"'", "\"\\\\\"", "\"\\\"\"", };
  /* GScanner's comments and single quotes are refused outright */
  const gint expected[] = { RCX_JSON_ERROR_INVALID,
    RCX_JSON_ERROR_INVALID, RCX_JSON_ERROR_TOO_DEEP, RCX_JSON_ERROR_TOO_DEEP,
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (prefixes); i++) {
    g_autofree gchar *doc = g_strdup_printf ("[%s, %s]", prefixes[i], deep);
    g_autoptr (GError) error = NULL;

    g_assert_false (rcx_json_check (doc, strlen (doc), 0, 0, &error));
    g_assert_error (error, RCX_JSON_ERROR, expected[i]);
  }
}

static void
test_json_size_limit (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (rcx_json_check ("[1, 2, 3]", 9, 8, 0, &error));
  g_assert_error (error, RCX_JSON_ERROR, RCX_JSON_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_true (rcx_json_check ("[1, 2, 3]", 9, 9, 0, &error));
  g_assert_no_error (error);
}

/* Inputs on which json-glib 1.6 leaks (found by tests/fuzz/fuzz-json,
 * fuzz-postgrest and fuzz-s3-error): refused before it sees them. */
static void
test_json_leaky_inputs_refused (void)
{
  const gchar *leaky[] = { "[][]", "{} {}", "2{\"a\": 1}", "0[1]", "\"a\" 1",
    "[\"\\ud83c\\u(dfc9\"]", "[\"\\udfc9\"]", "[\"\\u12\"]",
    "/*/[\"\\ud999\\ue999", "/{}/*/{}/*'A,'A},}",
  };
  const gchar *fine[] = { "[] ", "{}\n", "2", " true ",
    "[\"\\ud83c\\udfc9 \\u00e9\"]",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (leaky); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_false (rcx_json_check (leaky[i], strlen (leaky[i]), 0, 0, &error));
    g_assert_error (error, RCX_JSON_ERROR, RCX_JSON_ERROR_INVALID);
  }
  for (i = 0; i < G_N_ELEMENTS (fine); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) node = rcx_json_parse (fine[i], strlen (fine[i]), 0,
        &error);

    g_assert_no_error (error);
  }
}

/* An Expiration before 1970 failed without setting the error (found by
 * tests/fuzz/fuzz-credentials). */
static void
test_credentials_old_expiration (void)
{
  const gchar *json = "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\","
      "\"Expiration\":\"1013-12-04T18:00:00Z\"}";
  g_auto (RcxCredentials) creds = { 0, };
  g_autoptr (GError) error = NULL;

  g_assert_false (rcx_credentials_parse_json (json, strlen (json), "imds",
          &creds, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

/* Every parser of outside JSON goes through the check. */
static void
test_json_callers (void)
{
  g_autofree gchar *deep = nested ("[", "]", HOSTILE_DEPTH);
  g_autofree gchar *deep_object = nested ("{\"a\":", "}", HOSTILE_DEPTH);
  g_autoptr (GError) error = NULL;
  g_autoptr (RcxPipelineDesc) desc = NULL;
  g_autoptr (JsonArray) rows = NULL;
  g_autoptr (RcxHttpResponse) response = NULL;
  g_autoptr (GBytes) body = NULL;
  RcxCredentials creds = { 0, };

  desc = rcx_pipeline_desc_new_from_data (deep, -1, &error);
  g_assert_null (desc);
  g_assert_error (error, RCX_PIPELINE_DESC_ERROR,
      RCX_PIPELINE_DESC_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "deeper"));
  g_clear_error (&error);

  rows = rcx_postgrest_parse_rows (deep, strlen (deep), &error);
  g_assert_null (rows);
  g_assert_error (error, RCX_POSTGREST_ERROR, RCX_POSTGREST_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_false (rcx_credentials_parse_json (deep_object,
          strlen (deep_object), "container", &creds, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);

  body = g_bytes_new (deep_object, strlen (deep_object));
  response = rcx_http_response_new (400, NULL, body);
  rcx_http_response_parse_error (response);
  g_assert_null (response->error_code);
}

/* ---- rcx-sanitize ----------------------------------------------------- */

static void
test_sanitize (void)
{
  g_autofree gchar *a = rcx_sanitize_text ("a\r\nb\tc\033[31md\x7f", -1, 0);
  g_autofree gchar *b = rcx_sanitize_text ("x\xc2\x85y\xe2\x80\xaez\xff", -1,
      0);
  g_autofree gchar *long_text = g_strnfill (10000, 'x');
  g_autofree gchar *c = rcx_sanitize_text (long_text, -1, 100);
  g_autofree gchar *d = rcx_sanitize_text ("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
      -1, 7);
  g_autofree gchar *e = rcx_sanitize_text ("short", -1, 100);

  /* CR/LF/TAB become spaces; ESC and DEL go: no forged line, no colour */
  g_assert_cmpstr (a, ==, "a  b c[31md");
  /* C1 NEL and RLO go; an invalid byte becomes U+FFFD */
  g_assert_cmpstr (b, ==, "xyz\xef\xbf\xbd");
  g_assert_cmpuint (strlen (c), ==, 100);
  g_assert_true (g_str_has_suffix (c, "..."));
  /* cut on a character boundary */
  g_assert_true (g_utf8_validate (d, -1, NULL));
  g_assert_cmpuint (strlen (d), <=, 7);
  g_assert_true (g_str_has_suffix (d, "..."));
  g_assert_cmpstr (e, ==, "short");
  g_assert_null (rcx_sanitize_text (NULL, -1, 0));

  g_assert_true (rcx_sanitize_is_header_safe ("AKIA/abc+=~"));
  g_assert_false (rcx_sanitize_is_header_safe ("key\r\nX-Injected: 1"));
  g_assert_false (rcx_sanitize_is_header_safe ("key\n"));
  g_assert_false (rcx_sanitize_is_header_safe ("key\033"));
}

/* A server's <Message> with CR/LF, C1 and bidi controls (XML cannot
 * carry ESC; JSON can) reaches logs only cleaned. */
static void
test_error_fields_sanitised (void)
{
  const gchar *xml = "<?xml version=\"1.0\"?><Error><Code>Slow&#13;Down"
      "</Code><Message>line1&#13;&#10;rugbycodex-runner: job done&#x202E;"
      "&#x85;x</Message><RequestId>r\nid</RequestId></Error>";
  const gchar *json = "{\"__type\": \"x#Bad\\r\\nCode\", \"message\": "
      "\"a\\u001b[1mb\\nc\"}";
  g_autoptr (GBytes) xml_body = g_bytes_new_static (xml, strlen (xml));
  g_autoptr (GBytes) json_body = g_bytes_new_static (json, strlen (json));
  g_autoptr (RcxHttpResponse) r1 = rcx_http_response_new (503, NULL, xml_body);
  g_autoptr (RcxHttpResponse) r2 = rcx_http_response_new (400, NULL, json_body);

  rcx_http_response_parse_error (r1);
  g_assert_cmpstr (r1->error_code, ==, "Slow Down");
  g_assert_cmpstr (r1->error_message, ==,
      "line1  rugbycodex-runner: job donex");
  g_assert_cmpstr (r1->request_id, ==, "r id");
  rcx_http_response_parse_error (r2);
  g_assert_cmpstr (r2->error_code, ==, "Bad  Code");
  g_assert_cmpstr (r2->error_message, ==, "a[1mb c");
}

/* Error fields of the wrong JSON type (found by tests/fuzz/fuzz-s3-error:
 * json-glib's string getter is g_return_if_fail'ed on the member's type,
 * a critical the fuzzers make fatal): ignored, as credential fields are. */
static void
test_error_fields_of_the_wrong_type (void)
{
  const gchar *json = "{\"__type\": {}, \"message\": [1], \"Message\": 2}";
  const gchar *creds = "{\"Code\": [], \"AccessKeyId\": {\"a\": 1}, "
      "\"SecretAccessKey\": \"s\"}";
  g_autoptr (GBytes) body = g_bytes_new_static (json, strlen (json));
  g_autoptr (RcxHttpResponse) r = rcx_http_response_new (400, NULL, body);
  g_autoptr (GError) error = NULL;
  g_auto (RcxCredentials) c = { 0, };

  rcx_http_response_parse_error (r);
  g_assert_null (r->error_code);
  g_assert_null (r->error_message);
  g_assert_false (rcx_credentials_parse_json (creds, strlen (creds), "test",
          &c, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

/* Entity expansion ("billion laughs") in an error body: refused whole. */
static void
test_xml_doctype_refused (void)
{
  GString *s = g_string_new ("<?xml version=\"1.0\"?><!DOCTYPE Error ["
      "<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">");
  g_autoptr (GBytes) body = NULL;
  g_autoptr (RcxHttpResponse) response = NULL;
  gint64 start;
  gchar prev = 'a';
  gchar c;

  for (c = 'b'; c <= 'k'; c++, prev++)
    g_string_append_printf (s, "<!ENTITY %c \"&%c;&%c;&%c;&%c;&%c;&%c;&%c;"
        "&%c;&%c;&%c;\">", c, prev, prev, prev, prev, prev, prev, prev, prev,
        prev, prev);
  g_string_append (s, "]><Error><Code>X</Code><Message>&k;</Message></Error>");
  body = g_string_free_to_bytes (s);
  response = rcx_http_response_new (500, NULL, body);
  start = g_get_monotonic_time ();
  rcx_http_response_parse_error (response);
  g_assert_null (response->error_code);
  g_assert_null (response->error_message);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

/* ---- bodies without end ----------------------------------------------- */

typedef enum
{
  SEND_CHUNKED_OK,              /* 200, chunked, never ends */
  SEND_HUGE_LENGTH,             /* 200, Content-Length 10 GiB */
  SEND_CHUNKED_ERROR,           /* 500, chunked, never ends */
} SendMode;

typedef struct
{
  TestSocketServer *socket;
  guint16 port;
  SendMode mode;
  gint connections;             /* atomic */
} EndlessServer;

static gboolean
on_run (GThreadedSocketService * service, GSocketConnection * connection,
    GObject * source, gpointer user_data)
{
  EndlessServer *server = user_data;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_auto (GStrv) request = NULL;
  g_autofree gchar *chunk = NULL;
  g_autofree gchar *payload = g_strnfill (16 * 1024, '[');
  const gchar *head;

  g_atomic_int_inc (&server->connections);
  request = test_http_read_head (connection);
  switch (server->mode) {
    case SEND_HUGE_LENGTH:
      head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
          "Content-Length: 10737418240\r\n\r\n";
      chunk = g_strdup (payload);
      break;
    case SEND_CHUNKED_ERROR:
      head = "HTTP/1.1 500 Internal Server Error\r\n"
          "Content-Type: application/xml\r\n"
          "Transfer-Encoding: chunked\r\n\r\n";
      chunk = g_strdup_printf ("%zx\r\n%s\r\n", strlen (payload), payload);
      break;
    case SEND_CHUNKED_OK:
    default:
      head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: chunked\r\n\r\n";
      chunk = g_strdup_printf ("%zx\r\n%s\r\n", strlen (payload), payload);
      break;
  }
  if (!g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL))
    return TRUE;
  /* until the client hangs up */
  while (g_output_stream_write_all (out, chunk, strlen (chunk), NULL, NULL,
          NULL));
  return TRUE;
}

static EndlessServer *
endless_server_new (SendMode mode)
{
  EndlessServer *server = g_new0 (EndlessServer, 1);

  server->mode = mode;
  server->socket = test_socket_server_new (G_CALLBACK (on_run), server);
  server->port = test_socket_server_get_port (server->socket);
  return server;
}

static void
endless_server_free (EndlessServer * server)
{
  test_socket_server_free (server->socket);
  g_free (server);
}

static RcxHttpResponse *
get (EndlessServer * server, gsize max_body, RcxHttpClient ** client_out,
    GError ** error)
{
  RcxHttpClientOptions options = {.timeout = 10 };
  RcxHttpClient *client = rcx_http_client_new (&options);
  g_autofree gchar *uri = g_strdup_printf ("http://127.0.0.1:%u/rows",
      server->port);
  g_autoptr (RcxHttpRequest) request = rcx_http_request_new ("GET", uri);
  RcxHttpResponse *response;

  rcx_http_request_set_max_body (request, max_body);
  response = rcx_http_client_send_and_read (client, request, NULL, error);
  *client_out = client;
  return response;
}

static void
test_endless_body (gconstpointer data)
{
  SendMode mode = GPOINTER_TO_INT (data);
  EndlessServer *server = endless_server_new (mode);
  g_autoptr (RcxHttpClient) client = NULL;
  g_autoptr (RcxHttpResponse) response = NULL;
  g_autoptr (GError) error = NULL;

  response = get (server, 1024 * 1024, &client, &error);
  g_assert_null (response);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  /* the same answer would come again: one attempt */
  g_assert_cmpuint (rcx_http_client_get_request_count (client), ==, 1);
  g_clear_pointer (&client, rcx_http_client_unref);
  endless_server_free (server);
}

static void
test_endless_error_body (void)
{
  EndlessServer *server = endless_server_new (SEND_CHUNKED_ERROR);
  RcxHttpClientOptions options = {.timeout = 10,.max_attempts = 1 };
  g_autoptr (RcxHttpClient) client = rcx_http_client_new (&options);
  g_autofree gchar *uri = g_strdup_printf ("http://127.0.0.1:%u/x",
      server->port);
  g_autoptr (RcxHttpRequest) request = rcx_http_request_new ("GET", uri);
  g_autoptr (RcxHttpResponse) response = NULL;
  g_autoptr (GError) error = NULL;

  response = rcx_http_client_send_and_read (client, request, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (response);
  g_assert_cmpuint (response->status, ==, 500);
  g_assert_cmpuint (g_bytes_get_size (response->body), ==,
      RCX_HTTP_ERROR_BODY_MAX);
  g_clear_pointer (&response, rcx_http_response_free);
  g_clear_pointer (&client, rcx_http_client_unref);
  endless_server_free (server);
}

/* The default cap applies when the request sets none. */
static void
test_default_cap (void)
{
  EndlessServer *server = endless_server_new (SEND_CHUNKED_OK);
  g_autoptr (RcxHttpClient) client = NULL;
  g_autoptr (RcxHttpResponse) response = NULL;
  g_autoptr (GError) error = NULL;

  response = get (server, 0, &client, &error);
  g_assert_null (response);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "8388608"));
  g_clear_pointer (&client, rcx_http_client_unref);
  endless_server_free (server);
}

/* rcx_http_read_bytes: exactly the limit passes, one byte more does not. */
static void
test_read_bytes_limit (void)
{
  g_autofree gchar *data = g_strnfill (200000, 'x');
  g_autoptr (GInputStream) exact =
      g_memory_input_stream_new_from_data (data, 200000, NULL);
  g_autoptr (GInputStream) more =
      g_memory_input_stream_new_from_data (data, 200000, NULL);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;

  bytes = rcx_http_read_bytes (exact, 200000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 200000);
  g_assert_null (rcx_http_read_bytes (more, 199999, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
}

/* ---- keys and endpoints ----------------------------------------------- */

static void
test_header_with_newline_refused (void)
{
  EndlessServer *server = endless_server_new (SEND_CHUNKED_OK);
  g_autoptr (RcxHttpClient) client = rcx_http_client_new (NULL);
  g_autofree gchar *uri = g_strdup_printf ("http://127.0.0.1:%u/x",
      server->port);
  g_autoptr (RcxHttpRequest) request = rcx_http_request_new ("GET", uri);
  g_autoptr (RcxHttpResponse) response = NULL;
  g_autoptr (GError) error = NULL;

  rcx_http_request_set_header (request, "apikey", "service-key\r\n");
  response = rcx_http_client_send_and_read (client, request, NULL, &error);
  g_assert_null (response);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (strstr (error->message, "service-key"));
  g_assert_cmpuint (rcx_http_client_get_request_count (client), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&server->connections), ==, 0);
  endless_server_free (server);
}

static void
test_supabase_key_with_newline (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RcxPostgrest) pg = rcx_postgrest_new ("http://127.0.0.1:1",
      "eyJhbGciOi.key\n", NULL, &error);

  g_assert_null (pg);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_access_key_with_newline (void)
{
  g_autoptr (RcxCredentialsProvider) p =
      rcx_credentials_provider_new ("AKIAEXAMPLE\r\n", "secret", NULL, NULL);
  g_auto (RcxCredentials) creds = { 0, };
  g_autoptr (GError) error = NULL;

  g_assert_false (rcx_credentials_provider_get (p, &creds, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "access key"));
  g_assert_null (strstr (error->message, "AKIA"));
  g_assert_null (creds.access_key);
}

static gboolean
refuse_to_send (RcxHttpRequest * request, SoupMessage * msg, GDateTime * now,
    guint attempt, gpointer user_data, GError ** error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "not sent");
  return FALSE;
}

static void
test_cleartext_warning (void)
{
  const struct
  {
    const gchar *uri;
    gboolean remote;
  } cases[] = {
    {"http://127.0.0.1:9000/b", FALSE}, {"http://localhost/", FALSE},
    {"http://[::1]:80/", FALSE}, {"https://s3.wasabisys.com/", FALSE},
    {"http://s3.wasabisys.com/", TRUE}, {"http://10.0.0.5:9000/", TRUE},
    {"http://192.0.2.7/", TRUE},
  };
  g_autoptr (RcxHttpClient) client = rcx_http_client_new (NULL);
  g_autoptr (GError) error = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GUri) uri = g_uri_parse (cases[i].uri, SOUP_HTTP_URI_FLAGS,
        NULL);

    g_assert_cmpint (rcx_http_uri_is_cleartext_remote (uri), ==,
        cases[i].remote);
  }

  /* one warning per host, however many requests; nothing is sent here */
  g_test_expect_message (RCX_HTTP_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
      "*clear text to http://192.0.2.7*");
  for (i = 0; i < 3; i++) {
    g_autoptr (RcxHttpRequest) request = rcx_http_request_new ("GET",
        "http://192.0.2.7/bucket/key");
    g_autoptr (RcxHttpResponse) response = NULL;

    rcx_http_request_set_prepare_func (request, refuse_to_send, NULL, NULL);
    response = rcx_http_client_send_and_read (client, request, NULL, &error);
    g_assert_null (response);
    g_clear_error (&error);
  }
  g_test_assert_expected_messages ();
}

static void
test_imds_role (void)
{
  g_autofree gchar *a = rcx_credentials_parse_imds_role ("role-1\nother\n",
      13);
  g_autofree gchar *b = rcx_credentials_parse_imds_role ("../x", 4);
  g_autofree gchar *c = rcx_credentials_parse_imds_role ("a\033b", 3);

  g_assert_cmpstr (a, ==, "role-1");
  g_assert_null (b);
  g_assert_null (c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_setenv ("AWS_EC2_METADATA_DISABLED", "true", TRUE);

  g_test_add_func ("/json/deep-refused", test_json_deep_refused);
  g_test_add_func ("/json/depth-limit", test_json_depth_limit);
  g_test_add_func ("/json/strings-are-not-structure",
      test_json_strings_are_not_structure);
  g_test_add_func ("/json/quotes-cannot-hide-depth",
      test_json_quotes_cannot_hide_depth);
  g_test_add_func ("/json/size-limit", test_json_size_limit);
  g_test_add_func ("/json/leaky-inputs-refused",
      test_json_leaky_inputs_refused);
  g_test_add_func ("/json/callers", test_json_callers);
  g_test_add_func ("/credentials/old-expiration",
      test_credentials_old_expiration);
  g_test_add_func ("/sanitize/text", test_sanitize);
  g_test_add_func ("/sanitize/error-fields", test_error_fields_sanitised);
  g_test_add_func ("/json/fields-of-the-wrong-type",
      test_error_fields_of_the_wrong_type);
  g_test_add_func ("/xml/doctype-refused", test_xml_doctype_refused);
  g_test_add_data_func ("/http/endless-chunked-body",
      GINT_TO_POINTER (SEND_CHUNKED_OK), test_endless_body);
  g_test_add_data_func ("/http/huge-content-length",
      GINT_TO_POINTER (SEND_HUGE_LENGTH), test_endless_body);
  g_test_add_func ("/http/endless-error-body", test_endless_error_body);
  g_test_add_func ("/http/default-cap", test_default_cap);
  g_test_add_func ("/http/read-bytes-limit", test_read_bytes_limit);
  g_test_add_func ("/http/header-with-newline",
      test_header_with_newline_refused);
  g_test_add_func ("/http/cleartext-warning", test_cleartext_warning);
  g_test_add_func ("/config/supabase-key-with-newline",
      test_supabase_key_with_newline);
  g_test_add_func ("/config/access-key-with-newline",
      test_access_key_with_newline);
  g_test_add_func ("/credentials/imds-role", test_imds_role);
  return g_test_run ();
}
