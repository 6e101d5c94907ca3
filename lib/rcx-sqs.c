/* rcx-sqs.c: an Amazon SQS client (JSON protocol) on rcx-http.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "rcx-sqs"

#include "rcx-sqs.h"
#include "rcx-json.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include "rcx-credentials.h"
#include "rcx-http.h"
#include "rcx-sigv4.h"

#define STR_NULL(s) ((s) ? (s) : "(none)")
#define JSON_CONTENT_TYPE "application/x-amz-json-1.0"
/* a service's error message goes into our GError message: keep it short */
#define MAX_SERVICE_MESSAGE 256
#define READ_CHUNK (64 * 1024)

/* ---- errors ----------------------------------------------------------- */

typedef struct
{
  guint http_status;
  gchar *code;
  gchar *query_code;
  gchar *request_id;
} RcxSqsErrorPrivate;

static void
rcx_sqs_error_private_init (RcxSqsErrorPrivate * priv)
{
}

static void
rcx_sqs_error_private_copy (const RcxSqsErrorPrivate * src,
    RcxSqsErrorPrivate * dest)
{
  dest->http_status = src->http_status;
  dest->code = g_strdup (src->code);
  dest->query_code = g_strdup (src->query_code);
  dest->request_id = g_strdup (src->request_id);
}

static void
rcx_sqs_error_private_clear (RcxSqsErrorPrivate * priv)
{
  g_clear_pointer (&priv->code, g_free);
  g_clear_pointer (&priv->query_code, g_free);
  g_clear_pointer (&priv->request_id, g_free);
}

G_DEFINE_EXTENDED_ERROR (RcxSqsError, rcx_sqs_error);

guint
rcx_sqs_error_get_http_status (const GError * error)
{
  if (error == NULL || error->domain != RCX_SQS_ERROR)
    return 0;
  return rcx_sqs_error_get_private (error)->http_status;
}

const gchar *
rcx_sqs_error_get_code (const GError * error)
{
  if (error == NULL || error->domain != RCX_SQS_ERROR)
    return NULL;
  return rcx_sqs_error_get_private (error)->code;
}

const gchar *
rcx_sqs_error_get_query_code (const GError * error)
{
  if (error == NULL || error->domain != RCX_SQS_ERROR)
    return NULL;
  return rcx_sqs_error_get_private (error)->query_code;
}

const gchar *
rcx_sqs_error_get_request_id (const GError * error)
{
  if (error == NULL || error->domain != RCX_SQS_ERROR)
    return NULL;
  return rcx_sqs_error_get_private (error)->request_id;
}

gboolean
rcx_sqs_error_is_transient (const GError * error)
{
  if (error == NULL)
    return FALSE;
  if (error->domain == G_IO_ERROR)
    return error->code == G_IO_ERROR_TIMED_OUT;
  if (error->domain != RCX_SQS_ERROR)
    return FALSE;
  switch (error->code) {
    case RCX_SQS_ERROR_CONNECT:
    case RCX_SQS_ERROR_THROTTLED:
      return TRUE;
    case RCX_SQS_ERROR_FAILED:
      return rcx_sqs_error_get_http_status (error) >= 500;
    default:
      return FALSE;
  }
}

static void
G_GNUC_PRINTF (7, 8)
set_sqs_error (GError ** error, RcxSqsErrorCode code, guint http_status,
    const gchar * sqs_code, const gchar * query_code,
    const gchar * request_id, const gchar * format, ...)
{
  GError *err;
  RcxSqsErrorPrivate *priv;
  va_list args;

  if (error == NULL)
    return;
  va_start (args, format);
  err = g_error_new_valist (RCX_SQS_ERROR, code, format, args);
  va_end (args);
  priv = rcx_sqs_error_get_private (err);
  priv->http_status = http_status;
  priv->code = g_strdup (sqs_code);
  priv->query_code = g_strdup (query_code);
  priv->request_id = g_strdup (request_id);
  g_propagate_error (error, err);
}

/* ---- bounded JSON ----------------------------------------------------- */

/* The reply's root object, or NULL: size and nesting are checked before
 * json-glib, which recurses once per level, sees the bytes (rcx-json.h).
 * The returned node owns *@root. */
static JsonNode *
parse_object (const gchar * data, gsize len, JsonObject ** root,
    GError ** error)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) local_error = NULL;

  node = rcx_json_parse (data, len, RCX_SQS_MAX_REPLY, &local_error);
  if (node == NULL) {
    set_sqs_error (error, RCX_SQS_ERROR_INVALID_REPLY, 0, NULL, NULL, NULL,
        "SQS reply is not usable JSON: %s", local_error->message);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    set_sqs_error (error, RCX_SQS_ERROR_INVALID_REPLY, 0, NULL, NULL, NULL,
        "SQS reply is not a JSON object");
    return NULL;
  }
  *root = json_node_get_object (node);
  return g_steal_pointer (&node);
}

/* A string member: TRUE with *out = NULL when absent or null; FALSE when
 * it holds something else. */
static gboolean
member_string (JsonObject * obj, const gchar * name, const gchar ** out)
{
  JsonNode *node = json_object_get_member (obj, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (node);
  return TRUE;
}

/* An object member (NULL when absent or null); FALSE when not an object. */
static gboolean
member_object (JsonObject * obj, const gchar * name, JsonObject ** out)
{
  JsonNode *node = json_object_get_member (obj, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  *out = json_node_get_object (node);
  return TRUE;
}

static gboolean
parse_uint64 (const gchar * s, guint64 max, guint64 * out)
{
  return s != NULL && g_ascii_string_to_unsigned (s, 10, 0, max, out, NULL);
}

static gboolean
md5_matches (const gchar * data, gsize len, const gchar * md5_hex)
{
  g_autofree gchar *md5 = NULL;

  if (md5_hex == NULL)
    return TRUE;
  md5 = g_compute_checksum_for_data (G_CHECKSUM_MD5, (const guchar *) data,
      len);
  return g_ascii_strcasecmp (md5, md5_hex) == 0;
}

/* ---- reply parsers ---------------------------------------------------- */

void
rcx_sqs_message_free (RcxSqsMessage * message)
{
  if (message == NULL)
    return;
  g_free (message->message_id);
  g_free (message->receipt_handle);
  g_free (message->body);
  g_free (message->md5_of_body);
  g_free (message);
}

static gboolean
invalid_reply (GError ** error, const gchar * what)
{
  set_sqs_error (error, RCX_SQS_ERROR_INVALID_REPLY, 0, NULL, NULL, NULL,
      "SQS reply: %s", what);
  return FALSE;
}

static RcxSqsMessage *
parse_message (JsonNode * node, GError ** error)
{
  g_autoptr (RcxSqsMessage) msg = g_new0 (RcxSqsMessage, 1);
  JsonObject *obj, *attrs;
  const gchar *id, *handle, *body, *md5, *count, *sent, *first;
  guint64 v;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    invalid_reply (error, "a message is not an object");
    return NULL;
  }
  obj = json_node_get_object (node);
  if (!member_string (obj, "MessageId", &id)
      || !member_string (obj, "ReceiptHandle", &handle)
      || !member_string (obj, "Body", &body)
      || !member_string (obj, "MD5OfBody", &md5)
      || !member_object (obj, "Attributes", &attrs)) {
    invalid_reply (error, "a message member has the wrong type");
    return NULL;
  }
  if (id == NULL || handle == NULL || body == NULL || *handle == '\0') {
    invalid_reply (error, "a message lacks MessageId, ReceiptHandle or Body");
    return NULL;
  }
  msg->body_len = strlen (body);
  if (!md5_matches (body, msg->body_len, md5)) {
    set_sqs_error (error, RCX_SQS_ERROR_INVALID_REPLY, 0, NULL, NULL, NULL,
        "SQS reply: MD5OfBody of message %s does not match its body", id);
    return NULL;
  }
  msg->message_id = g_strdup (id);
  msg->receipt_handle = g_strdup (handle);
  msg->body = g_strdup (body);
  msg->md5_of_body = g_strdup (md5);
  if (attrs != NULL) {
    if (!member_string (attrs, "ApproximateReceiveCount", &count)
        || !member_string (attrs, "SentTimestamp", &sent)
        || !member_string (attrs, "ApproximateFirstReceiveTimestamp", &first)) {
      invalid_reply (error, "a message attribute is not a string");
      return NULL;
    }
    if (count != NULL) {
      if (!parse_uint64 (count, G_MAXUINT, &v)) {
        invalid_reply (error, "ApproximateReceiveCount is not a count");
        return NULL;
      }
      msg->receive_count = (guint) v;
    }
    if (sent != NULL && parse_uint64 (sent, G_MAXINT64, &v))
      msg->sent_timestamp = (gint64) v;
    if (first != NULL && parse_uint64 (first, G_MAXINT64, &v))
      msg->first_receive_timestamp = (gint64) v;
  }
  return g_steal_pointer (&msg);
}

GPtrArray *
rcx_sqs_parse_receive_reply (const gchar * data, gsize len, GError ** error)
{
  g_autoptr (JsonNode) parser = NULL;
  g_autoptr (GPtrArray) messages =
      g_ptr_array_new_with_free_func ((GDestroyNotify) rcx_sqs_message_free);
  JsonObject *root = NULL;
  JsonNode *list;
  JsonArray *array;
  guint i, n;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  /* SQS answers an empty receive with "{}"; tolerate an empty body too */
  if (len == 0)
    return g_steal_pointer (&messages);
  parser = parse_object (data, len, &root, error);
  if (parser == NULL)
    return NULL;
  list = json_object_get_member (root, "Messages");
  if (list == NULL || JSON_NODE_HOLDS_NULL (list))
    return g_steal_pointer (&messages);
  if (!JSON_NODE_HOLDS_ARRAY (list)) {
    invalid_reply (error, "Messages is not an array");
    return NULL;
  }
  array = json_node_get_array (list);
  n = json_array_get_length (array);
  if (n > RCX_SQS_MAX_MESSAGES) {
    invalid_reply (error, "more than 10 messages");
    return NULL;
  }
  for (i = 0; i < n; i++) {
    RcxSqsMessage *msg = parse_message (json_array_get_element (array, i),
        error);

    if (msg == NULL)
      return NULL;
    g_ptr_array_add (messages, msg);
  }
  return g_steal_pointer (&messages);
}

GHashTable *
rcx_sqs_parse_attributes_reply (const gchar * data, gsize len, GError ** error)
{
  g_autoptr (JsonNode) parser = NULL;
  g_autoptr (GHashTable) table = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, g_free);
  JsonObject *root = NULL, *attrs;
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *value;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len == 0)
    return g_steal_pointer (&table);
  parser = parse_object (data, len, &root, error);
  if (parser == NULL)
    return NULL;
  if (!member_object (root, "Attributes", &attrs)) {
    invalid_reply (error, "Attributes is not an object");
    return NULL;
  }
  if (attrs == NULL)
    return g_steal_pointer (&table);
  json_object_iter_init (&iter, attrs);
  while (json_object_iter_next (&iter, &name, &value)) {
    if (!JSON_NODE_HOLDS_VALUE (value)
        || json_node_get_value_type (value) != G_TYPE_STRING) {
      invalid_reply (error, "an attribute value is not a string");
      return NULL;
    }
    g_hash_table_replace (table, g_strdup (name),
        g_strdup (json_node_get_string (value)));
  }
  return g_steal_pointer (&table);
}

gchar *
rcx_sqs_parse_send_reply (const gchar * data, gsize len, const gchar * body,
    GError ** error)
{
  g_autoptr (JsonNode) parser = NULL;
  JsonObject *root = NULL;
  const gchar *id, *md5;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  parser = parse_object (data, len, &root, error);
  if (parser == NULL)
    return NULL;
  if (!member_string (root, "MessageId", &id)
      || !member_string (root, "MD5OfMessageBody", &md5) || id == NULL) {
    invalid_reply (error, "no MessageId");
    return NULL;
  }
  if (body != NULL && !md5_matches (body, strlen (body), md5)) {
    invalid_reply (error, "MD5OfMessageBody does not match the body sent");
    return NULL;
  }
  return g_strdup (id);
}

gboolean
rcx_sqs_parse_error_reply (const gchar * data, gsize len, gchar ** code,
    gchar ** message)
{
  g_autoptr (JsonNode) parser = NULL;
  JsonObject *root = NULL;
  const gchar *type = NULL, *msg = NULL;

  *code = NULL;
  *message = NULL;
  if (data == NULL)
    return FALSE;
  parser = parse_object (data, len, &root, NULL);
  if (parser == NULL)
    return FALSE;
  if (!member_string (root, "__type", &type) || type == NULL)
    member_string (root, "code", &type);
  if (!member_string (root, "message", &msg) || msg == NULL)
    member_string (root, "Message", &msg);
  if (type != NULL && *type != '\0') {
    const gchar *hash = strrchr (type, '#');

    if (hash != NULL)
      type = hash + 1;
    /* some services append ":http://internal.amazon.com/..." */
    *code = g_strndup (type, strcspn (type, ":"));
  }
  if (msg != NULL) {
    gchar *p;

    /* it lands in a GError message and logs: one line, bounded */
    *message = g_utf8_substring (msg, 0, MIN (g_utf8_strlen (msg, -1),
            MAX_SERVICE_MESSAGE));
    for (p = *message; *p; p++)
      if ((guchar) * p < 0x20 || *p == 0x7f)
        *p = ' ';
  }
  return *code != NULL || *message != NULL;
}

/* ---- configuration ---------------------------------------------------- */

void
rcx_sqs_config_init (RcxSqsConfig * config)
{
  memset (config, 0, sizeof (*config));
  config->retry_attempts = RCX_SQS_DEFAULT_RETRY_ATTEMPTS;
  config->request_timeout = RCX_SQS_DEFAULT_REQUEST_TIMEOUT;
}

void
rcx_sqs_config_clear (RcxSqsConfig * config)
{
  g_clear_pointer (&config->queue_url, g_free);
  g_clear_pointer (&config->endpoint_uri, g_free);
  g_clear_pointer (&config->region, g_free);
  g_clear_pointer (&config->access_key, g_free);
  if (config->secret_access_key != NULL)
    memset (config->secret_access_key, 0, strlen (config->secret_access_key));
  g_clear_pointer (&config->secret_access_key, g_free);
  g_clear_pointer (&config->session_token, g_free);
  g_clear_pointer (&config->profile, g_free);
}

void
rcx_sqs_receive_options_init (RcxSqsReceiveOptions * options)
{
  options->max_messages = 1;
  options->wait_time_seconds = RCX_SQS_MAX_WAIT_TIME;
  options->visibility_timeout = -1;
}

/* ---- the client ------------------------------------------------------- */

struct _RcxSqsClient
{
  gatomicrefcount ref;
  gchar *endpoint;              /* scheme://host[:port][/path], no trailing '/' */
  gchar *post_uri;              /* endpoint + "/" */
  gchar *host_header;           /* host[:port] as signed */
  gchar *region;
  gchar *queue_url;
  RcxCredentialsProvider *credentials;
  RcxHttpClient *http;          /* timeout: request_timeout */
  RcxHttpClient *poll_http;     /* timeout: request_timeout + 20 s */
};

static const gchar *
getenv_nonempty (const gchar * name)
{
  const gchar *v = g_getenv (name);

  return v != NULL && v[0] != '\0' ? v : NULL;
}

/* http(s), a host, no user info, query or fragment. */
static GUri *
parse_http_uri (const gchar * text)
{
  g_autoptr (GUri) uri = NULL;

  if (text == NULL)
    return NULL;
  uri = g_uri_parse (text, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL
      || *g_uri_get_host (uri) == '\0' || g_uri_get_userinfo (uri) != NULL
      || g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL
      || (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") != 0
          && g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0))
    return NULL;
  return g_steal_pointer (&uri);
}

/* "sqs.eu-west-1.amazonaws.com", "eu-west-1.queue.amazonaws.com" ->
 * "eu-west-1"; "queue.amazonaws.com" -> "us-east-1"; else NULL. */
static gchar *
region_from_host (const gchar * host)
{
  g_auto (GStrv) parts = g_strsplit (host, ".", -1);
  guint n = g_strv_length (parts);

  if (n >= 4 && g_ascii_strcasecmp (parts[0], "sqs") == 0
      && g_ascii_strcasecmp (parts[2], "amazonaws") == 0)
    return g_ascii_strdown (parts[1], -1);
  if (n >= 4 && g_ascii_strcasecmp (parts[1], "queue") == 0
      && g_ascii_strcasecmp (parts[2], "amazonaws") == 0)
    return g_ascii_strdown (parts[0], -1);
  if (n == 3 && g_ascii_strcasecmp (parts[0], "queue") == 0
      && g_ascii_strcasecmp (parts[1], "amazonaws") == 0)
    return g_strdup ("us-east-1");
  return NULL;
}

RcxSqsClient *
rcx_sqs_client_new (const RcxSqsConfig * config, GError ** error)
{
  g_autoptr (RcxSqsClient) client = NULL;
  RcxSqsConfig defaults;
  g_autoptr (GUri) queue_uri = NULL;
  g_autoptr (GUri) endpoint_uri = NULL;
  const gchar *endpoint = NULL, *scheme, *path;
  g_autofree gchar *scheme_down = NULL;
  g_autofree gchar *host = NULL;
  RcxHttpClientOptions options = { 0, };
  guint timeout;
  gint port;

  if (config == NULL) {
    rcx_sqs_config_init (&defaults);
    config = &defaults;
  }

  if (config->queue_url != NULL && config->queue_url[0] != '\0') {
    queue_uri = parse_http_uri (config->queue_url);
    if (queue_uri == NULL || strlen (g_uri_get_path (queue_uri)) < 2) {
      set_sqs_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
          "invalid SQS queue URL '%s' (want http(s)://host/account/name)",
          config->queue_url);
      return NULL;
    }
  }

  endpoint = config->endpoint_uri;
  if ((endpoint == NULL || endpoint[0] == '\0')
      && g_strcmp0 (g_getenv ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"),
          "true") != 0) {
    endpoint = getenv_nonempty ("AWS_ENDPOINT_URL_SQS");
    if (endpoint == NULL)
      endpoint = getenv_nonempty ("AWS_ENDPOINT_URL");
  }
  if (endpoint != NULL && endpoint[0] != '\0') {
    endpoint_uri = parse_http_uri (endpoint);
    if (endpoint_uri == NULL) {
      set_sqs_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
          "invalid SQS endpoint '%s'", endpoint);
      return NULL;
    }
  } else if (queue_uri != NULL) {
    endpoint_uri = g_uri_build (G_URI_FLAGS_ENCODED,
        g_uri_get_scheme (queue_uri), NULL, g_uri_get_host (queue_uri),
        g_uri_get_port (queue_uri), "", NULL, NULL);
  } else {
    set_sqs_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
        "no SQS queue URL and no endpoint");
    return NULL;
  }

  client = g_new0 (RcxSqsClient, 1);
  g_atomic_ref_count_init (&client->ref);

  scheme = g_uri_get_scheme (endpoint_uri);
  scheme_down = g_ascii_strdown (scheme, -1);
  host = g_ascii_strdown (g_uri_get_host (endpoint_uri), -1);
  port = g_uri_get_port (endpoint_uri);
  if ((port == 80 && g_str_equal (scheme_down, "http"))
      || (port == 443 && g_str_equal (scheme_down, "https")))
    port = -1;
  client->host_header = port > 0 ? g_strdup_printf ("%s:%d", host, port) :
      g_strdup (host);
  path = g_uri_get_path (endpoint_uri);
  client->endpoint = g_strdup_printf ("%s://%s%s", scheme_down,
      client->host_header, path);
  while (g_str_has_suffix (client->endpoint, "/"))
    client->endpoint[strlen (client->endpoint) - 1] = '\0';
  client->post_uri = g_strconcat (client->endpoint, "/", NULL);

  if (config->region != NULL && config->region[0] != '\0')
    client->region = g_strdup (config->region);
  if (client->region == NULL && queue_uri != NULL)
    client->region = region_from_host (g_uri_get_host (queue_uri));
  if (client->region == NULL)
    client->region = g_strdup (getenv_nonempty ("AWS_REGION"));
  if (client->region == NULL)
    client->region = g_strdup (getenv_nonempty ("AWS_DEFAULT_REGION"));
  if (client->region == NULL)
    client->region = g_strdup (RCX_SQS_DEFAULT_REGION);

  client->queue_url = g_strdup (queue_uri ? config->queue_url : NULL);
  client->credentials = rcx_credentials_provider_new (config->access_key,
      config->secret_access_key, config->session_token, config->profile);

  timeout = config->request_timeout ? config->request_timeout :
      RCX_SQS_DEFAULT_REQUEST_TIMEOUT;
  options.max_attempts = config->retry_attempts ? config->retry_attempts :
      RCX_SQS_DEFAULT_RETRY_ATTEMPTS;
  options.timeout = timeout;
  client->http = rcx_http_client_new (&options);
  /* a long poll holds the answer back for up to 20 s: that wait must not
   * read as a stalled connection */
  options.timeout = timeout + RCX_SQS_MAX_WAIT_TIME;
  client->poll_http = rcx_http_client_new (&options);
  return g_steal_pointer (&client);
}

RcxSqsClient *
rcx_sqs_client_ref (RcxSqsClient * client)
{
  g_atomic_ref_count_inc (&client->ref);
  return client;
}

void
rcx_sqs_client_unref (RcxSqsClient * client)
{
  if (client == NULL || !g_atomic_ref_count_dec (&client->ref))
    return;
  g_free (client->endpoint);
  g_free (client->post_uri);
  g_free (client->host_header);
  g_free (client->region);
  g_free (client->queue_url);
  g_clear_pointer (&client->credentials, rcx_credentials_provider_unref);
  g_clear_pointer (&client->http, rcx_http_client_unref);
  g_clear_pointer (&client->poll_http, rcx_http_client_unref);
  g_free (client);
}

const gchar *
rcx_sqs_client_get_endpoint (RcxSqsClient * client)
{
  return client->endpoint;
}

const gchar *
rcx_sqs_client_get_region (RcxSqsClient * client)
{
  return client->region;
}

const gchar *
rcx_sqs_client_get_queue_url (RcxSqsClient * client)
{
  return client->queue_url;
}

guint64
rcx_sqs_client_get_request_count (RcxSqsClient * client)
{
  return rcx_http_client_get_request_count (client->http)
      + rcx_http_client_get_request_count (client->poll_http);
}

typedef struct
{
  RcxSqsLogFunc func;
  gpointer user_data;
  GDestroyNotify notify;
  gint ref;
} LogData;

static void
log_data_unref (gpointer data)
{
  LogData *ld = data;

  if (!g_atomic_int_dec_and_test (&ld->ref))
    return;
  if (ld->notify)
    ld->notify (ld->user_data);
  g_free (ld);
}

static void
log_trampoline (GLogLevelFlags level, const gchar * message, gpointer user_data)
{
  LogData *ld = user_data;

  ld->func (level, message, ld->user_data);
}

void
rcx_sqs_client_set_log_func (RcxSqsClient * client, RcxSqsLogFunc func,
    gpointer user_data, GDestroyNotify notify)
{
  LogData *ld;

  if (func == NULL) {
    rcx_http_client_set_log_func (client->http, NULL, NULL, NULL);
    rcx_http_client_set_log_func (client->poll_http, NULL, NULL, NULL);
    if (notify)
      notify (user_data);
    return;
  }
  /* both HTTP clients log through one func: the user data is released
   * once, when the second lets go */
  ld = g_new0 (LogData, 1);
  ld->func = func;
  ld->user_data = user_data;
  ld->notify = notify;
  ld->ref = 2;
  rcx_http_client_set_log_func (client->http, log_trampoline, ld,
      log_data_unref);
  rcx_http_client_set_log_func (client->poll_http, log_trampoline, ld,
      log_data_unref);
}

/* ---- one call --------------------------------------------------------- */

typedef struct
{
  RcxSqsClient *client;
  gchar *target;
  gchar *payload_hash;
  GCancellable *cancellable;
} SignData;

static void
sign_data_free (gpointer data)
{
  SignData *sd = data;

  g_free (sd->target);
  g_free (sd->payload_hash);
  g_clear_object (&sd->cancellable);
  g_free (sd);
}

static gboolean
sqs_prepare (RcxHttpRequest * request, SoupMessage * msg, GDateTime * now,
    guint attempt, gpointer user_data, GError ** error)
{
  SignData *sd = user_data;
  SoupMessageHeaders *hdrs = soup_message_get_request_headers (msg);
  g_auto (RcxCredentials) creds = { 0, };
  g_autoptr (GError) creds_error = NULL;
  g_autofree gchar *amz_date = rcx_sigv4_amz_date (now);
  g_autofree gchar *authorization = NULL;
  RcxHeader headers[5];
  RcxSigv4Request req = { 0, };
  RcxSigv4Signer signer = { 0, };
  gsize n = 0;

  if (!rcx_credentials_provider_get (sd->client->credentials, &creds,
          sd->cancellable, &creds_error)) {
    if (g_error_matches (creds_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_propagate_error (error, g_steal_pointer (&creds_error));
    else
      set_sqs_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
          "no AWS credentials for SQS: %s", creds_error->message);
    return FALSE;
  }

  soup_message_headers_replace (hdrs, "Host", sd->client->host_header);
  soup_message_headers_replace (hdrs, "X-Amz-Date", amz_date);
  if (creds.session_token != NULL)
    soup_message_headers_replace (hdrs, "X-Amz-Security-Token",
        creds.session_token);
  else
    soup_message_headers_remove (hdrs, "X-Amz-Security-Token");

  /* sorted by name, as SignedHeaders lists them */
  headers[n++] = (RcxHeader) {
  "content-type", JSON_CONTENT_TYPE};
  headers[n++] = (RcxHeader) {
  "host", sd->client->host_header};
  headers[n++] = (RcxHeader) {
  "x-amz-date", amz_date};
  if (creds.session_token != NULL)
    headers[n++] = (RcxHeader) {
    "x-amz-security-token", creds.session_token};
  headers[n++] = (RcxHeader) {
  "x-amz-target", sd->target};

  req.method = "POST";
  req.path = g_uri_get_path (soup_message_get_uri (msg));
  if (req.path[0] == '\0')
    req.path = "/";
  req.headers = headers;
  req.n_headers = n;
  req.payload_hash = sd->payload_hash;
  req.normalize_path = TRUE;
  req.double_encode_path = TRUE;

  signer.access_key = creds.access_key;
  signer.secret_key = creds.secret_key;
  signer.session_token = creds.session_token;
  signer.region = sd->client->region;
  signer.service = "sqs";

  authorization = rcx_sigv4_authorization (&signer, now, &req);
  soup_message_headers_replace (hdrs, "Authorization", authorization);
  return TRUE;
}

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

  set_sqs_error (error, ecode, response->status, code ? code : qcode, qcode,
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
      set_sqs_error (error, RCX_SQS_ERROR_INVALID_REPLY, 200, NULL, NULL,
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
        set_sqs_error (error, RCX_SQS_ERROR_CONNECT, 200, NULL, NULL, NULL,
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
  SignData *sd;

  if (queue_url == NULL)
    queue_url = client->queue_url;
  if (queue_url == NULL || queue_url[0] == '\0') {
    set_sqs_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
        "SQS %s: no queue URL", op);
    return NULL;
  }
  if (!g_utf8_validate (queue_url, -1, NULL)) {
    set_sqs_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
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
    set_sqs_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
        "SQS %s: cannot build a request for %s", op, client->post_uri);
    return NULL;
  }
  sd = g_new0 (SignData, 1);
  sd->client = client;
  sd->target = g_strconcat ("AmazonSQS.", op, NULL);
  sd->payload_hash = rcx_sha256_hex ((const guint8 *) json, json_len);
  sd->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  rcx_http_request_set_header (request, "X-Amz-Target", sd->target);
  /* ask for query-compatible error codes in x-amzn-query-error, like the
   * SDKs of awsQueryCompatible services */
  rcx_http_request_set_header (request, "x-amzn-query-mode", "true");
  rcx_http_request_set_body (request, JSON_CONTENT_TYPE, body);
  rcx_http_request_set_prepare_func (request, sqs_prepare, sd, sign_data_free);
  rcx_http_request_set_classify_func (request, sqs_classify, client, NULL);

  response = rcx_http_client_send_streaming (long_poll ? client->poll_http :
      client->http, request, cancellable, &local_error);
  if (response == NULL) {
    if (local_error->domain == RCX_SQS_ERROR
        || g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_propagate_error (error, g_steal_pointer (&local_error));
    else
      set_sqs_error (error, RCX_SQS_ERROR_CONNECT, 0, NULL, NULL, NULL,
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
    set_sqs_error (error, RCX_SQS_ERROR_RECEIPT_HANDLE_INVALID, 0, NULL,
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
    set_sqs_error (error, RCX_SQS_ERROR_INVALID_PARAMETER, 0, NULL, NULL,
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
    set_sqs_error (error, RCX_SQS_ERROR_INVALID_PARAMETER, 0, NULL, NULL,
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
    set_sqs_error (error, RCX_SQS_ERROR_INVALID_PARAMETER, 0, NULL, NULL,
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
