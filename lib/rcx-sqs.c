/* rcx-sqs.c: an Amazon SQS client (JSON protocol) on rcx-http: RCX_SQS_ERROR
 * and its details, configuration and the client object. One call and the
 * operations on it are in rcx-sqs-call.c, the reply parsers in
 * rcx-sqs-reply.c; what they share is in rcx-sqs-private.h.
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

void
G_GNUC_PRINTF (7, 8)
rcx_sqs_set_error (GError ** error, RcxSqsErrorCode code, guint http_status,
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
      rcx_sqs_set_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
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
      rcx_sqs_set_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
          "invalid SQS endpoint '%s'", endpoint);
      return NULL;
    }
  } else if (queue_uri != NULL) {
    endpoint_uri = g_uri_build (G_URI_FLAGS_ENCODED,
        g_uri_get_scheme (queue_uri), NULL, g_uri_get_host (queue_uri),
        g_uri_get_port (queue_uri), "", NULL, NULL);
  } else {
    rcx_sqs_set_error (error, RCX_SQS_ERROR_SETTINGS, 0, NULL, NULL, NULL,
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
