/* rcx-http.c: synchronous libsoup 3 client with the standard retry mode.
 *
 * Requests, the client and sending with retries are here; responses and the
 * parser of a service's error body are in rcx-http-response.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-http.h"
#include "rcx-http-private.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include "rcx-json.h"
#include "rcx-sanitize.h"
#include "rcx-xml.h"

#define READ_CHUNK ((gsize) 64 * 1024)
#define STR_NULL(s) ((s) ? (s) : "(none)")

struct _RcxHttpRequest
{
  gatomicrefcount ref;
  gchar *method;
  GUri *uri;
  GPtrArray *header_names;
  GPtrArray *header_values;
  gchar *content_type;
  GBytes *body;
  gsize max_body;
  RcxHttpPrepareFunc prepare;
  gpointer prepare_data;
  GDestroyNotify prepare_notify;
  RcxHttpClassifyFunc classify;
  gpointer classify_data;
  GDestroyNotify classify_notify;
};

struct _RcxHttpClient
{
  gatomicrefcount ref;
  SoupSession *session;
  RcxRetryPolicy *policy;
  guint timeout;
  guint64 request_count;        /* atomic */
  gint64 clock_offset;          /* atomic: microseconds */
  RcxHttpLogFunc log_func;
  gpointer log_data;
  GDestroyNotify log_notify;
};

/* ---- requests --------------------------------------------------------- */

RcxHttpRequest *
rcx_http_request_new (const gchar * method, const gchar * uri)
{
  RcxHttpRequest *request;
  GUri *guri;

  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  guri = g_uri_parse (uri, SOUP_HTTP_URI_FLAGS, NULL);
  if (guri == NULL)
    return NULL;

  request = g_new0 (RcxHttpRequest, 1);
  g_atomic_ref_count_init (&request->ref);
  request->method = g_strdup (method);
  request->uri = guri;
  request->header_names = g_ptr_array_new_with_free_func (g_free);
  request->header_values = g_ptr_array_new_with_free_func (g_free);
  return request;
}

RcxHttpRequest *
rcx_http_request_ref (RcxHttpRequest * request)
{
  g_atomic_ref_count_inc (&request->ref);
  return request;
}

void
rcx_http_request_unref (RcxHttpRequest * request)
{
  if (request == NULL || !g_atomic_ref_count_dec (&request->ref))
    return;
  if (request->prepare_notify)
    request->prepare_notify (request->prepare_data);
  if (request->classify_notify)
    request->classify_notify (request->classify_data);
  g_free (request->method);
  g_uri_unref (request->uri);
  g_ptr_array_unref (request->header_names);
  g_ptr_array_unref (request->header_values);
  g_free (request->content_type);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_free (request);
}

const gchar *
rcx_http_request_get_method (RcxHttpRequest * request)
{
  return request->method;
}

GUri *
rcx_http_request_get_uri (RcxHttpRequest * request)
{
  return request->uri;
}

void
rcx_http_request_set_header (RcxHttpRequest * request, const gchar * name,
    const gchar * value)
{
  guint i;

  for (i = 0; i < request->header_names->len; i++) {
    if (g_ascii_strcasecmp (request->header_names->pdata[i], name) == 0) {
      g_free (request->header_values->pdata[i]);
      request->header_values->pdata[i] = g_strdup (value);
      return;
    }
  }
  g_ptr_array_add (request->header_names, g_strdup (name));
  g_ptr_array_add (request->header_values, g_strdup (value));
}

const gchar *
rcx_http_request_get_header (RcxHttpRequest * request, const gchar * name)
{
  guint i;

  for (i = 0; i < request->header_names->len; i++) {
    if (g_ascii_strcasecmp (request->header_names->pdata[i], name) == 0)
      return request->header_values->pdata[i];
  }
  return NULL;
}

void
rcx_http_request_set_body (RcxHttpRequest * request,
    const gchar * content_type, GBytes * body)
{
  g_free (request->content_type);
  request->content_type = g_strdup (content_type);
  g_clear_pointer (&request->body, g_bytes_unref);
  if (body)
    request->body = g_bytes_ref (body);
}

GBytes *
rcx_http_request_get_body (RcxHttpRequest * request)
{
  return request->body;
}

void
rcx_http_request_set_max_body (RcxHttpRequest * request, gsize max)
{
  /* one byte past the limit is read to tell "exactly" from "more" */
  request->max_body = MIN (max, G_MAXSIZE - 1);
}

void
rcx_http_request_set_prepare_func (RcxHttpRequest * request,
    RcxHttpPrepareFunc func, gpointer user_data, GDestroyNotify notify)
{
  if (request->prepare_notify)
    request->prepare_notify (request->prepare_data);
  request->prepare = func;
  request->prepare_data = user_data;
  request->prepare_notify = notify;
}

void
rcx_http_request_set_classify_func (RcxHttpRequest * request,
    RcxHttpClassifyFunc func, gpointer user_data, GDestroyNotify notify)
{
  if (request->classify_notify)
    request->classify_notify (request->classify_data);
  request->classify = func;
  request->classify_data = user_data;
  request->classify_notify = notify;
}

/* ---- client ----------------------------------------------------------- */

RcxHttpClient *
rcx_http_client_new (const RcxHttpClientOptions * options)
{
  RcxHttpClientOptions defaults = { 0, };
  RcxHttpClient *client;
  g_autofree gchar *ua = NULL;

  if (options == NULL)
    options = &defaults;

  client = g_new0 (RcxHttpClient, 1);
  g_atomic_ref_count_init (&client->ref);
  client->timeout = options->timeout ? options->timeout :
      RCX_HTTP_DEFAULT_TIMEOUT;
  ua = g_strdup (options->user_agent ? options->user_agent :
      PACKAGE "/" PACKAGE_VERSION);
  client->session = soup_session_new_with_options ("timeout", client->timeout,
      "max-conns-per-host", options->max_conns ? options->max_conns :
      RCX_HTTP_DEFAULT_MAX_CONNS,
      "max-conns", 4 * (options->max_conns ? options->max_conns :
          RCX_HTTP_DEFAULT_MAX_CONNS), "user-agent", ua, NULL);
  /* bodies must come as stored (ranges of gzip objects); no
   * Accept-Encoding that we did not sign */
  soup_session_remove_feature_by_type (client->session,
      SOUP_TYPE_CONTENT_DECODER);
  client->policy = rcx_retry_policy_new (options->max_attempts, NULL);
  return client;
}

RcxHttpClient *
rcx_http_client_ref (RcxHttpClient * client)
{
  g_atomic_ref_count_inc (&client->ref);
  return client;
}

void
rcx_http_client_unref (RcxHttpClient * client)
{
  if (client == NULL || !g_atomic_ref_count_dec (&client->ref))
    return;
  if (client->log_notify)
    client->log_notify (client->log_data);
  g_object_unref (client->session);
  rcx_retry_policy_unref (client->policy);
  g_free (client);
}

void
rcx_http_client_set_log_func (RcxHttpClient * client, RcxHttpLogFunc func,
    gpointer user_data, GDestroyNotify notify)
{
  if (client->log_notify)
    client->log_notify (client->log_data);
  client->log_func = func;
  client->log_data = user_data;
  client->log_notify = notify;
}

SoupSession *
rcx_http_client_get_session (RcxHttpClient * client)
{
  return client->session;
}

RcxRetryPolicy *
rcx_http_client_get_retry_policy (RcxHttpClient * client)
{
  return client->policy;
}

guint
rcx_http_client_get_timeout (RcxHttpClient * client)
{
  return client->timeout;
}

guint64
rcx_http_client_get_request_count (RcxHttpClient * client)
{
  return __atomic_load_n (&client->request_count, __ATOMIC_SEQ_CST);
}

gint64
rcx_http_client_get_clock_offset (RcxHttpClient * client)
{
  return __atomic_load_n (&client->clock_offset, __ATOMIC_SEQ_CST);
}

void
rcx_http_client_set_clock_offset (RcxHttpClient * client, gint64 offset_us)
{
  __atomic_store_n (&client->clock_offset, offset_us, __ATOMIC_SEQ_CST);
}

GDateTime *
rcx_http_client_now (RcxHttpClient * client)
{
  gint64 now = g_get_real_time () + rcx_http_client_get_clock_offset (client);

  return g_date_time_new_from_unix_utc (now / G_USEC_PER_SEC);
}

void
rcx_http_client_log (RcxHttpClient * client, GLogLevelFlags level,
    const gchar * format, ...)
{
  g_autofree gchar *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (client->log_func)
    client->log_func (level, message, client->log_data);
  /* never WARNING here: the caller decides what is worth a warning (and
   * GLib tests make warnings fatal) */
  g_log (RCX_HTTP_LOG_DOMAIN,
      level & G_LOG_LEVEL_DEBUG ? G_LOG_LEVEL_DEBUG : G_LOG_LEVEL_INFO,
      "%s", message);
}

static G_GNUC_CONST gboolean
status_ok (guint status)
{
  return status >= 200 && status < 300;
}

/* Reads @in to its end, at most @max bytes. With @truncate a longer body
 * is kept cut at @max; otherwise it is G_IO_ERROR_MESSAGE_TOO_LARGE. Sizes
 * are gsize/guint64 throughout: no 32-bit length to wrap. */
static GBytes *
read_capped (GInputStream * in, goffset expected, gsize max,
    gboolean truncate, GCancellable * cancellable, GError ** error)
{
  gsize size, len = 0;
  g_autofree guint8 *buf = NULL;

  /* pre-size only for a modest body: a HEAD's Content-Length is the whole
   * object's size */
  size = expected > 0 && (guint64) expected <= MIN (max, 16 * READ_CHUNK) ?
      (gsize) expected + 1 : MIN (READ_CHUNK, max + 1);
  buf = g_malloc (size);

  for (;;) {
    gssize n;
    gsize want;

    /* one byte past @max tells a body of exactly @max from a longer one */
    if (len == size) {
      if (size > max) {
        if (truncate)
          break;
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
            "response body larger than the limit of %" G_GSIZE_FORMAT
            " bytes", max);
        return NULL;
      }
      size = size <= (max + 1) / 2 ? size * 2 : max + 1;
      buf = g_realloc (buf, size);
    }
    want = MIN (size - len, READ_CHUNK);
    n = g_input_stream_read (in, buf + len, want, cancellable, error);
    if (n < 0)
      return NULL;
    if (n == 0)
      break;
    len += (gsize) n;
  }
  if (len > max)
    len = max;
  return g_bytes_new_take (g_realloc (g_steal_pointer (&buf), MAX (len, 1)),
      len);
}

GBytes *
rcx_http_read_bytes (GInputStream * in, gsize max,
    GCancellable * cancellable, GError ** error)
{
  g_return_val_if_fail (G_IS_INPUT_STREAM (in), NULL);
  g_return_val_if_fail (max < G_MAXSIZE, NULL);

  return read_capped (in, 0, max, FALSE, cancellable, error);
}

gboolean
rcx_http_uri_is_cleartext_remote (GUri * uri)
{
  const gchar *host = g_uri_get_host (uri);
  g_autoptr (GInetAddress) addr = NULL;

  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") != 0)
    return FALSE;
  if (host == NULL)
    return TRUE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return FALSE;
  addr = g_inet_address_new_from_string (host);
  return addr == NULL || !g_inet_address_get_is_loopback (addr);
}

/* Once per host and process: a warning that a key or token goes out in
 * clear text. Not refused: containers reach their peers by service name
 * over plain http on a private network (docker compose, tests). */
static void
warn_cleartext_once (GUri * uri)
{
  static GMutex lock;
  static GHashTable *warned;
  g_autofree gchar *host = g_ascii_strdown (g_uri_get_host (uri) ?
      g_uri_get_host (uri) : "", -1);
  gboolean first;

  g_mutex_lock (&lock);
  if (warned == NULL)
    warned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  first = g_hash_table_add (warned, g_strdup (host));
  g_mutex_unlock (&lock);
  if (first) {
    g_autofree gchar *safe = rcx_sanitize_text (host, -1, 255);

    g_log (RCX_HTTP_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
        "credentials are sent in clear text to http://%s (not loopback): "
        "anyone on the path can read and replay them; use https://", safe);
  }
}

/* The checks made once per request, before anything is sent. */
static gboolean
check_request (RcxHttpRequest * request, GError ** error)
{
  guint i;

  for (i = 0; i < request->header_names->len; i++) {
    if (!rcx_sanitize_is_header_safe (request->header_values->pdata[i])) {
      /* the value is a key or token: never shown */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "configuration error: the %s header's value holds a control "
          "character (a key or token with CR/LF?); not sent",
          (const gchar *) request->header_names->pdata[i]);
      return FALSE;
    }
  }
  if ((request->prepare != NULL
          || rcx_http_request_get_header (request, "Authorization") != NULL
          || rcx_http_request_get_header (request, "apikey") != NULL)
      && rcx_http_uri_is_cleartext_remote (request->uri))
    warn_cleartext_once (request->uri);
  return TRUE;
}

static void
learn_clock_offset (RcxHttpClient * client, SoupMessageHeaders * headers)
{
  const gchar *date = soup_message_headers_get_one (headers, "Date");
  g_autoptr (GDateTime) server = NULL;
  gint64 offset;

  if (date == NULL)
    return;
  server = soup_date_time_new_from_http_string (date);
  if (server == NULL)
    return;
  offset = g_date_time_to_unix (server) * G_USEC_PER_SEC - g_get_real_time ();
  rcx_http_client_set_clock_offset (client, offset);
  rcx_http_client_log (client, G_LOG_LEVEL_INFO,
      "clock offset from the server's Date: %" G_GINT64_FORMAT " s",
      offset / G_USEC_PER_SEC);
}

/* libsoup restarts a request by itself when a reused keep-alive connection
 * fails before any answer (it takes it for a server that closed an idle
 * connection). The body stream was consumed by the first try: without this,
 * the restarted PUT goes out with an empty body (Content-Length: 0), and a
 * server that does not check Content-MD5 stores an empty object. */
static void
on_restarted (SoupMessage * msg, RcxHttpRequest * request)
{
  if (request->body != NULL)
    soup_message_set_request_body_from_bytes (msg, request->content_type,
        request->body);
}

/* A signing hook may add headers from credentials: libsoup would drop a
 * value with CR/LF (with a warning that shows it) and send the rest. */
static gboolean
check_message_headers (SoupMessage * msg, GError ** error)
{
  SoupMessageHeadersIter iter;
  const gchar *name, *value;

  soup_message_headers_iter_init (&iter, soup_message_get_request_headers
      (msg));
  while (soup_message_headers_iter_next (&iter, &name, &value)) {
    if (!rcx_sanitize_is_header_safe (value)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "configuration error: the %s header's value holds a control "
          "character; not sent", name);
      return FALSE;
    }
  }
  return TRUE;
}

static SoupMessage *
build_message (RcxHttpRequest * request)
{
  SoupMessage *msg = soup_message_new_from_uri (request->method,
      request->uri);
  SoupMessageHeaders *hdrs = soup_message_get_request_headers (msg);
  guint i;

  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  for (i = 0; i < request->header_names->len; i++)
    soup_message_headers_replace (hdrs, request->header_names->pdata[i],
        request->header_values->pdata[i]);
  if (request->body != NULL) {
    soup_message_set_request_body_from_bytes (msg, request->content_type,
        request->body);
    g_signal_connect (msg, "restarted", G_CALLBACK (on_restarted), request);
  } else if (g_strcmp0 (request->method, "PUT") == 0
      || g_strcmp0 (request->method, "POST") == 0) {
    g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);

    soup_message_set_request_body_from_bytes (msg, request->content_type,
        empty);
  }
  return msg;
}

static RcxHttpResponse *
client_send (RcxHttpClient * client, RcxHttpRequest * request,
    gboolean streaming, GCancellable * cancellable, GError ** error)
{
  const gchar *path = g_uri_get_path (request->uri);
  guint attempt = 0, cost = 0;
  gboolean skew_retried = FALSE;
  gsize max_body = request->max_body ? request->max_body :
      RCX_HTTP_DEFAULT_MAX_BODY;

  if (!check_request (request, error))
    return NULL;

  for (;;) {
    g_autoptr (SoupMessage) msg = build_message (request);
    g_autoptr (GInputStream) in = NULL;
    g_autoptr (GError) transport_error = NULL;
    RcxHttpResponseReal *real = NULL;
    RcxHttpResponse *response = NULL;
    RcxRetryKind kind;
    gint64 delay = 0;
    const gchar *reason = NULL;
    guint status = 0;

    attempt++;
    if (request->prepare) {
      g_autoptr (GDateTime) now = rcx_http_client_now (client);

      if (!request->prepare (request, msg, now, attempt,
              request->prepare_data, error))
        return NULL;
      if (!check_message_headers (msg, error))
        return NULL;
    }

    __atomic_fetch_add (&client->request_count, 1, __ATOMIC_SEQ_CST);
    rcx_http_client_log (client, G_LOG_LEVEL_DEBUG, "%s %s (attempt %u)",
        request->method, path, attempt);
    in = soup_session_send (client->session, msg, cancellable,
        &transport_error);

    if (in != NULL) {
      status = soup_message_get_status (msg);
      real = g_new0 (RcxHttpResponseReal, 1);
      response = &real->pub;
      real->msg = g_object_ref (msg);
      response->status = status;
      response->headers =
          soup_message_headers_ref (soup_message_get_response_headers (msg));
      response->attempts = attempt;
      if (status_ok (status)) {
        if (streaming) {
          response->stream = g_steal_pointer (&in);
        } else {
          response->body = read_capped (in,
              soup_message_headers_get_content_length (response->headers),
              max_body, FALSE, cancellable, &transport_error);
          if (response->body == NULL)
            g_clear_pointer (&response, rcx_http_response_free);
          if (g_error_matches (transport_error, G_IO_ERROR,
                  G_IO_ERROR_MESSAGE_TOO_LARGE)) {
            /* the same answer would come again: not retried */
            rcx_http_client_log (client, G_LOG_LEVEL_WARNING, "%s %s: %u, %s",
                request->method, path, status, transport_error->message);
            g_propagate_error (error, g_steal_pointer (&transport_error));
            return NULL;
          }
        }
      } else {
        /* an error body is small; a broken or cut one is still a
         * response */
        response->body = read_capped (in, 0, RCX_HTTP_ERROR_BODY_MAX, TRUE,
            cancellable, NULL);
        rcx_http_response_parse_error (response);
      }
      if (response != NULL && response->request_id == NULL)
        response->request_id =
            rcx_sanitize_text (soup_message_headers_get_one
            (response->headers, "x-amz-request-id"), -1, ERROR_CODE_MAX);
    }

    if (response == NULL)
      kind = rcx_retry_classify (0, NULL, transport_error);
    else if (request->classify)
      kind = request->classify (response, request->classify_data);
    else
      kind = rcx_retry_classify (status, response->error_code, NULL);

    if (kind == RCX_RETRY_KIND_NONE) {
      rcx_retry_policy_on_success (client->policy, cost);
      if (attempt > 1)
        rcx_http_client_log (client, G_LOG_LEVEL_INFO,
            "%s %s: %u after %u attempts", request->method, path, status,
            attempt);
      return response;
    }

    if (kind == RCX_RETRY_KIND_CLOCK_SKEW) {
      if (!skew_retried && response != NULL) {
        skew_retried = TRUE;
        learn_clock_offset (client, response->headers);
        rcx_http_client_log (client, G_LOG_LEVEL_INFO,
            "%s %s: %u %s (request id %s), re-signing with the server's "
            "clock", request->method, path, status, response->error_code,
            STR_NULL (response->request_id));
        rcx_http_response_free (response);
        attempt--;              /* a re-sign is not a retry */
        continue;
      }
      kind = RCX_RETRY_KIND_FATAL;
    }

    if (!rcx_retry_policy_should_retry (client->policy, kind, attempt,
            &delay, &cost, &reason)) {
      if (response != NULL) {
        if (kind != RCX_RETRY_KIND_FATAL || attempt > 1)
          rcx_http_client_log (client, G_LOG_LEVEL_WARNING,
              "%s %s: %u %s (request id %s) after %u attempts: %s",
              request->method, path, status,
              STR_NULL (response->error_code),
              STR_NULL (response->request_id), attempt, reason);
        else
          rcx_http_client_log (client, G_LOG_LEVEL_DEBUG,
              "%s %s: %u %s (request id %s)", request->method, path, status,
              STR_NULL (response->error_code), STR_NULL (response->request_id));
        return response;
      }
      if (!g_error_matches (transport_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        rcx_http_client_log (client, G_LOG_LEVEL_WARNING,
            "%s %s: %s after %u attempts: %s", request->method, path,
            transport_error->message, attempt, reason);
      g_propagate_error (error, g_steal_pointer (&transport_error));
      return NULL;
    }

    if (response != NULL)
      rcx_http_client_log (client, G_LOG_LEVEL_INFO,
          "%s %s: %u %s (request id %s), attempt %u of %u, retrying in "
          "%" G_GINT64_FORMAT " ms", request->method, path, status,
          STR_NULL (response->error_code),
          STR_NULL (response->request_id), attempt,
          rcx_retry_policy_get_max_attempts (client->policy), delay / 1000);
    else
      rcx_http_client_log (client, G_LOG_LEVEL_INFO,
          "%s %s: %s, attempt %u of %u, retrying in %" G_GINT64_FORMAT
          " ms", request->method, path, transport_error->message, attempt,
          rcx_retry_policy_get_max_attempts (client->policy), delay / 1000);
    g_clear_pointer (&response, rcx_http_response_free);
    if (!rcx_retry_sleep (delay, cancellable, error))
      return NULL;
  }
}

RcxHttpResponse *
rcx_http_client_send_and_read (RcxHttpClient * client,
    RcxHttpRequest * request, GCancellable * cancellable, GError ** error)
{
  return client_send (client, request, FALSE, cancellable, error);
}

RcxHttpResponse *
rcx_http_client_send_streaming (RcxHttpClient * client,
    RcxHttpRequest * request, GCancellable * cancellable, GError ** error)
{
  return client_send (client, request, TRUE, cancellable, error);
}
