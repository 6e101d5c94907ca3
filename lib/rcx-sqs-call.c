/* rcx-sqs-call.c: one SQS call (JSON protocol: SigV4-signed POST with
 * X-Amz-Target, retries, the reply read with a cap, a final answer mapped
 * to RCX_SQS_ERROR) and the operations of rcx-sqs.h on it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "rcx-sqs"

#include "rcx-sqs.h"
#include "rcx-sqs-private.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include "rcx-credentials.h"
#include "rcx-http.h"
#include "rcx-sigv4.h"
#include "rcx-sigv4-http.h"

#define JSON_CONTENT_TYPE "application/x-amz-json-1.0"
#define READ_CHUNK (64 * 1024)

/* ---- one call --------------------------------------------------------- */

/* The `__type` code of an error reply, else what rcx-http found. */
static gchar *
type_code (RcxHttpResponse * response, gchar ** message)
{
  g_autofree gchar *code = NULL;
  g_autofree gchar *msg = NULL;
  const gchar *data = NULL;
  gsize len = 0;

  if (response->body != NULL)
    data = g_bytes_get_data (response->body, &len);
  rcx_sqs_parse_error_reply (data, len, &code, &msg);
  if (message != NULL)
    *message = g_steal_pointer (&msg);
  if (code == NULL)
    code = g_strdup (response->error_code);
  return g_steal_pointer (&code);
}

static gchar *
query_code (RcxHttpResponse * response)
{
  const gchar *h = response->headers == NULL ? NULL :
      soup_message_headers_get_one (response->headers, "x-amzn-query-error");

  return h != NULL && h[0] != '\0' ? g_strndup (h, strcspn (h, ";")) : NULL;
}

/* Throttling is retried whichever of the two codes names it; expired
 * temporary credentials are fetched again and the call re-signed once. */
static RcxRetryKind
sqs_classify (RcxHttpResponse * response, gpointer user_data)
{
  RcxSqsClient *client = user_data;
  g_autofree gchar *code = NULL;
  g_autofree gchar *qcode = NULL;

  if (response->status >= 200 && response->status < 300)
    return RCX_RETRY_KIND_NONE;
  code = type_code (response, NULL);
  qcode = query_code (response);
  if (g_strcmp0 (code, "ExpiredToken") == 0
      || g_strcmp0 (code, "ExpiredTokenException") == 0) {
    rcx_credentials_provider_invalidate (client->credentials);
    return RCX_RETRY_KIND_CLOCK_SKEW;
  }
  if (rcx_retry_code_is_throttling (code)
      || rcx_retry_code_is_throttling (qcode))
    return RCX_RETRY_KIND_TRANSIENT;
  return rcx_retry_classify (response->status, code, NULL);
}

static gboolean
is_auth_code (const gchar * code)
{
  static const gchar *const more[] = { "MissingAuthenticationToken",
    "MissingAuthenticationTokenException", "IncompleteSignature",
    "IncompleteSignatureException", "InvalidSignatureException",
    "ExpiredToken", "ExpiredTokenException", "RequestExpired", NULL
  };

  return code != NULL && (rcx_retry_code_is_auth_failure (code)
      || g_strv_contains (more, code));
}

/* Maps a final non-2xx reply of @op to an RCX_SQS_ERROR. */
static void
response_to_error (RcxHttpResponse * response, const gchar * op,
    GError ** error)
{
  g_autofree gchar *message = NULL;
  g_autofree gchar *code = type_code (response, &message);
  g_autofree gchar *qcode = query_code (response);
  RcxSqsErrorCode ecode;

  if (g_strcmp0 (code, "QueueDoesNotExist") == 0
      || g_strcmp0 (qcode, "AWS.SimpleQueueService.NonExistentQueue") == 0)
    ecode = RCX_SQS_ERROR_QUEUE_DOES_NOT_EXIST;
  else if (g_strcmp0 (code, "ReceiptHandleIsInvalid") == 0)
    ecode = RCX_SQS_ERROR_RECEIPT_HANDLE_INVALID;
  else if (g_strcmp0 (code, "MessageNotInflight") == 0
      || g_strcmp0 (qcode, "AWS.SimpleQueueService.MessageNotInflight") == 0)
    ecode = RCX_SQS_ERROR_MESSAGE_NOT_INFLIGHT;
  /* what SQS answers for a handle whose message was deleted or received
   * again: "Value ... for parameter ReceiptHandle is invalid. Reason:
   * Message does not exist or is not available for visibility timeout
   * change." */
  else if (g_str_equal (op, "ChangeMessageVisibility")
      && g_strcmp0 (code, "InvalidParameterValue") == 0 && message != NULL
      && strstr (message, "ReceiptHandle") != NULL)
    ecode = RCX_SQS_ERROR_MESSAGE_NOT_INFLIGHT;
  else if (rcx_retry_code_is_throttling (code)
      || rcx_retry_code_is_throttling (qcode) || response->status == 429)
    ecode = RCX_SQS_ERROR_THROTTLED;
  else if (is_auth_code (code) || is_auth_code (qcode)
      || response->status == 401 || (response->status == 403 && code == NULL))
    ecode = RCX_SQS_ERROR_NOT_AUTHORIZED;
  else if (response->status >= 500 || response->status < 400)
    ecode = RCX_SQS_ERROR_FAILED;
  else
    ecode = RCX_SQS_ERROR_INVALID_PARAMETER;

  rcx_sqs_set_error (error, ecode, response->status, code ? code : qcode, qcode,
      response->request_id, "SQS %s: HTTP %u %s%s%s%s%s (request id %s)", op,
      response->status, STR_NULL (code ? code : qcode),
      qcode && code ? " / " : "", qcode && code ? qcode : "",
      message ? ": " : "", message ? message : "",
      STR_NULL (response->request_id));
}

/* Reads a 2xx body, at most RCX_SQS_MAX_REPLY bytes. */
static GBytes *
read_reply (GInputStream * in, const gchar * op, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (GByteArray) buf = g_byte_array_sized_new (READ_CHUNK);
  g_autoptr (GError) local_error = NULL;

  for (;;) {
    guint old = buf->len;
    gssize n;

    if (buf->len > RCX_SQS_MAX_REPLY) {
      rcx_sqs_set_error (error, RCX_SQS_ERROR_INVALID_REPLY, 200, NULL, NULL,
          NULL, "SQS %s: reply larger than %u bytes", op, RCX_SQS_MAX_REPLY);
      return NULL;
    }
    g_byte_array_set_size (buf, old + READ_CHUNK);
    n = g_input_stream_read (in, buf->data + old, READ_CHUNK, cancellable,
        &local_error);
    if (n < 0) {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        rcx_sqs_set_error (error, RCX_SQS_ERROR_CONNECT, 200, NULL, NULL, NULL,
            "SQS %s: reading the reply: %s", op, local_error->message);
      return NULL;
    }
    g_byte_array_set_size (buf, old + n);
    if (n == 0)
      break;
  }
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

/* Sends one call: @op, a JSON object @params (QueueUrl added here).
 * Returns the 2xx reply body, or NULL with an RCX_SQS_ERROR (or
 * G_IO_ERROR_CANCELLED). */
static GBytes *
sqs_call (RcxSqsClient * client, const gchar * op, const gchar * queue_url,
    JsonBuilder * params, gboolean long_poll, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (RcxHttpRequest) request = NULL;
  g_autoptr (RcxHttpResponse) response = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (GBytes) body = NULL;
  gchar *json;
  gsize json_len;
  g_autofree gchar *target = NULL;
  g_autofree gchar *payload_hash = NULL;
  RcxSigv4Http *sign;

  if (queue_url == NULL)
    queue_url = client->queue_url;
  if (queue_url == NULL || queue_url[0] == '\0') {
    rcx_sqs_set_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
        "SQS %s: no queue URL", op);
    return NULL;
  }
  if (!g_utf8_validate (queue_url, -1, NULL)) {
    rcx_sqs_set_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
        "SQS %s: the queue URL is not UTF-8", op);
    return NULL;
  }
  json_builder_set_member_name (params, "QueueUrl");
  json_builder_add_string_value (params, queue_url);
  json_builder_end_object (params);
  root = json_builder_get_root (params);
  json_generator_set_root (gen, root);
  json = json_generator_to_data (gen, &json_len);
  body = g_bytes_new_take (json, json_len);

  request = rcx_http_request_new ("POST", client->post_uri);
  if (request == NULL) {
    rcx_sqs_set_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
        "SQS %s: cannot build a request for %s", op, client->post_uri);
    return NULL;
  }
  target = g_strconcat ("AmazonSQS.", op, NULL);
  payload_hash = rcx_sha256_hex ((const guint8 *) json, json_len);
  sign = rcx_sigv4_http_new ("sqs", client->credentials, client->region,
      client->host_header, payload_hash, cancellable);
  sign->error_domain = RCX_SQS_ERROR;
  sign->error_code = RCX_SQS_ERROR_SETTINGS;
  sign->error_prefix = "no AWS credentials for SQS";
  rcx_http_request_set_header (request, "X-Amz-Target", target);
  /* ask for query-compatible error codes in x-amzn-query-error, like the
   * SDKs of awsQueryCompatible services */
  rcx_http_request_set_header (request, "x-amzn-query-mode", "true");
  rcx_http_request_set_body (request, JSON_CONTENT_TYPE, body);
  rcx_http_request_set_prepare_func (request, rcx_sigv4_http_sign, sign,
      rcx_sigv4_http_free);
  rcx_http_request_set_classify_func (request, sqs_classify, client, NULL);

  response = rcx_http_client_send_streaming (long_poll ? client->poll_http :
      client->http, request, cancellable, &local_error);
  if (response == NULL) {
    if (local_error->domain == RCX_SQS_ERROR
        || g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_propagate_error (error, g_steal_pointer (&local_error));
    else
      rcx_sqs_set_error (error, RCX_SQS_ERROR_CONNECT, 0, NULL, NULL, NULL,
          "SQS %s: %s", op, local_error->message);
    return NULL;
  }
  if (response->status < 200 || response->status >= 300) {
    response_to_error (response, op, error);
    return NULL;
  }
  return read_reply (response->stream, op, cancellable, error);
}

static JsonBuilder *
begin_params (void)
{
  JsonBuilder *b = json_builder_new_immutable ();

  json_builder_begin_object (b);
  return b;
}

static void
add_int (JsonBuilder * b, const gchar * name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
add_string (JsonBuilder * b, const gchar * name, const gchar * value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static gboolean
check_handle (const gchar * op, const gchar * receipt_handle, GError ** error)
{
  if (receipt_handle == NULL || receipt_handle[0] == '\0'
      || !g_utf8_validate (receipt_handle, -1, NULL)) {
    rcx_sqs_set_error (error, RCX_SQS_ERROR_RECEIPT_HANDLE_INVALID, 0, NULL,
        NULL, NULL, "SQS %s: empty or non-UTF-8 receipt handle", op);
    return FALSE;
  }
  return TRUE;
}

/* ---- operations ------------------------------------------------------- */

GPtrArray *
rcx_sqs_receive_message (RcxSqsClient * client, const gchar * queue_url,
    const RcxSqsReceiveOptions * options, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (JsonBuilder) b = begin_params ();
  g_autoptr (GBytes) reply = NULL;
  RcxSqsReceiveOptions defaults;
  static const gchar *const attrs[] = { "ApproximateReceiveCount",
    "SentTimestamp", "ApproximateFirstReceiveTimestamp", NULL
  };
  gsize len;
  const gchar *data;
  guint i;

  g_return_val_if_fail (client != NULL, NULL);

  if (options == NULL) {
    rcx_sqs_receive_options_init (&defaults);
    options = &defaults;
  }
  if (options->max_messages > RCX_SQS_MAX_MESSAGES
      || options->wait_time_seconds > RCX_SQS_MAX_WAIT_TIME
      || options->wait_time_seconds < -1
      || options->visibility_timeout > RCX_SQS_MAX_VISIBILITY_TIMEOUT
      || options->visibility_timeout < -1) {
    rcx_sqs_set_error (error, RCX_SQS_ERROR_INVALID_PARAMETER, 0, NULL, NULL,
        NULL, "SQS ReceiveMessage: max messages 1-10, wait 0-20 s, "
        "visibility 0-43200 s");
    return NULL;
  }
  add_int (b, "MaxNumberOfMessages", MAX (options->max_messages, 1));
  if (options->wait_time_seconds >= 0)
    add_int (b, "WaitTimeSeconds", options->wait_time_seconds);
  if (options->visibility_timeout >= 0)
    add_int (b, "VisibilityTimeout", options->visibility_timeout);
  json_builder_set_member_name (b, "MessageSystemAttributeNames");
  json_builder_begin_array (b);
  for (i = 0; attrs[i] != NULL; i++)
    json_builder_add_string_value (b, attrs[i]);
  json_builder_end_array (b);

  reply = sqs_call (client, "ReceiveMessage", queue_url, b,
      options->wait_time_seconds != 0, cancellable, error);
  if (reply == NULL)
    return NULL;
  data = g_bytes_get_data (reply, &len);
  return rcx_sqs_parse_receive_reply (data, len, error);
}

gboolean
rcx_sqs_change_message_visibility (RcxSqsClient * client,
    const gchar * queue_url, const gchar * receipt_handle,
    guint visibility_timeout, GCancellable * cancellable, GError ** error)
{
  g_autoptr (JsonBuilder) b = begin_params ();
  g_autoptr (GBytes) reply = NULL;

  g_return_val_if_fail (client != NULL, FALSE);

  if (!check_handle ("ChangeMessageVisibility", receipt_handle, error))
    return FALSE;
  if (visibility_timeout > RCX_SQS_MAX_VISIBILITY_TIMEOUT) {
    rcx_sqs_set_error (error, RCX_SQS_ERROR_INVALID_PARAMETER, 0, NULL, NULL,
        NULL, "SQS ChangeMessageVisibility: %u s is above 43200 s",
        visibility_timeout);
    return FALSE;
  }
  add_string (b, "ReceiptHandle", receipt_handle);
  add_int (b, "VisibilityTimeout", visibility_timeout);
  reply = sqs_call (client, "ChangeMessageVisibility", queue_url, b, FALSE,
      cancellable, error);
  return reply != NULL;
}

gboolean
rcx_sqs_delete_message (RcxSqsClient * client, const gchar * queue_url,
    const gchar * receipt_handle, GCancellable * cancellable, GError ** error)
{
  g_autoptr (JsonBuilder) b = begin_params ();
  g_autoptr (GBytes) reply = NULL;

  g_return_val_if_fail (client != NULL, FALSE);

  if (!check_handle ("DeleteMessage", receipt_handle, error))
    return FALSE;
  add_string (b, "ReceiptHandle", receipt_handle);
  reply = sqs_call (client, "DeleteMessage", queue_url, b, FALSE,
      cancellable, error);
  return reply != NULL;
}

gchar *
rcx_sqs_send_message (RcxSqsClient * client, const gchar * queue_url,
    const gchar * body, guint delay_seconds, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (JsonBuilder) b = begin_params ();
  g_autoptr (GBytes) reply = NULL;
  const gchar *data;
  gsize len;

  g_return_val_if_fail (client != NULL, NULL);

  if (body == NULL || body[0] == '\0' || !g_utf8_validate (body, -1, NULL)
      || delay_seconds > RCX_SQS_MAX_DELAY_SECONDS) {
    rcx_sqs_set_error (error, RCX_SQS_ERROR_INVALID_PARAMETER, 0, NULL, NULL,
        NULL, "SQS SendMessage: the body must be non-empty UTF-8 and the "
        "delay 0-900 s");
    return NULL;
  }
  add_string (b, "MessageBody", body);
  if (delay_seconds > 0)
    add_int (b, "DelaySeconds", delay_seconds);
  reply = sqs_call (client, "SendMessage", queue_url, b, FALSE, cancellable,
      error);
  if (reply == NULL)
    return NULL;
  data = g_bytes_get_data (reply, &len);
  return rcx_sqs_parse_send_reply (data, len, body, error);
}

GHashTable *
rcx_sqs_get_queue_attributes (RcxSqsClient * client, const gchar * queue_url,
    const gchar * const *names, GCancellable * cancellable, GError ** error)
{
  g_autoptr (JsonBuilder) b = begin_params ();
  g_autoptr (GBytes) reply = NULL;
  const gchar *data;
  gsize len;
  guint i;

  g_return_val_if_fail (client != NULL, NULL);

  json_builder_set_member_name (b, "AttributeNames");
  json_builder_begin_array (b);
  if (names == NULL)
    json_builder_add_string_value (b, "All");
  for (i = 0; names != NULL && names[i] != NULL; i++)
    json_builder_add_string_value (b, names[i]);
  json_builder_end_array (b);
  reply = sqs_call (client, "GetQueueAttributes", queue_url, b, FALSE,
      cancellable, error);
  if (reply == NULL)
    return NULL;
  data = g_bytes_get_data (reply, &len);
  return rcx_sqs_parse_attributes_reply (data, len, error);
}
