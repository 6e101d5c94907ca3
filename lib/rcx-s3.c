/* rcx-s3.c: S3 (Wasabi, s3rver, AWS) operations on rcx-http.
 *
 * Requests are signed per attempt with SigV4 (x-amz-content-sha256 always,
 * host:port when the port is not the scheme's default), keys are
 * URI-encoded once keeping '/', PUT and UploadPart carry Content-MD5 (both
 * digests of a body computed in one pass by rcx-digest), and error bodies
 * are parsed (rcx-http) into RCX_S3_ERROR errors that carry the HTTP
 * status, the S3 Code and the request id.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-s3.h"

#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "rcx-digest.h"
#include "rcx-http.h"
#include "rcx-sigv4.h"
#include "rcx-xml.h"

#define STR_NULL(s) ((s) ? (s) : "(none)")
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define MAX_KEY_LENGTH 1024
/* a forward jump shorter than this is read through instead of reopening */
#define READ_THROUGH_MAX (512 * 1024)

typedef struct
{
  guint http_status;
  gchar *s3_code;
  gchar *request_id;
} RcxS3ErrorPrivate;

static void
rcx_s3_error_private_init (RcxS3ErrorPrivate * priv)
{
}

static void
rcx_s3_error_private_copy (const RcxS3ErrorPrivate * src,
    RcxS3ErrorPrivate * dest)
{
  dest->http_status = src->http_status;
  dest->s3_code = g_strdup (src->s3_code);
  dest->request_id = g_strdup (src->request_id);
}

static void
rcx_s3_error_private_clear (RcxS3ErrorPrivate * priv)
{
  g_clear_pointer (&priv->s3_code, g_free);
  g_clear_pointer (&priv->request_id, g_free);
}

G_DEFINE_EXTENDED_ERROR (RcxS3Error, rcx_s3_error);

guint
rcx_s3_error_get_http_status (const GError * error)
{
  if (error == NULL || error->domain != RCX_S3_ERROR)
    return 0;
  return rcx_s3_error_get_private (error)->http_status;
}

const gchar *
rcx_s3_error_get_s3_code (const GError * error)
{
  if (error == NULL || error->domain != RCX_S3_ERROR)
    return NULL;
  return rcx_s3_error_get_private (error)->s3_code;
}

const gchar *
rcx_s3_error_get_request_id (const GError * error)
{
  if (error == NULL || error->domain != RCX_S3_ERROR)
    return NULL;
  return rcx_s3_error_get_private (error)->request_id;
}

/* Builds an RCX_S3_ERROR. */
static void G_GNUC_PRINTF (6, 7)
set_s3_error (GError ** error, RcxS3ErrorCode code, guint http_status,
    const gchar * s3_code, const gchar * request_id, const gchar * format, ...)
{
  GError *err;
  RcxS3ErrorPrivate *priv;
  va_list args;

  if (error == NULL)
    return;
  va_start (args, format);
  err = g_error_new_valist (RCX_S3_ERROR, code, format, args);
  va_end (args);
  priv = rcx_s3_error_get_private (err);
  priv->http_status = http_status;
  priv->s3_code = g_strdup (s3_code);
  priv->request_id = g_strdup (request_id);
  g_propagate_error (error, err);
}

/* ---- configuration ---------------------------------------------------- */

void
rcx_s3_config_init (RcxS3Config * config)
{
  memset (config, 0, sizeof (*config));
  config->path_style = RCX_S3_PATH_STYLE_AUTO;
  config->retry_attempts = RCX_S3_DEFAULT_RETRY_ATTEMPTS;
  config->request_timeout = RCX_S3_DEFAULT_REQUEST_TIMEOUT;
}

void
rcx_s3_config_clear (RcxS3Config * config)
{
  g_clear_pointer (&config->endpoint_uri, g_free);
  g_clear_pointer (&config->region, g_free);
  g_clear_pointer (&config->access_key, g_free);
  g_clear_pointer (&config->secret_access_key, g_free);
  g_clear_pointer (&config->session_token, g_free);
  g_clear_pointer (&config->profile, g_free);
}

void
rcx_s3_config_copy (RcxS3Config * dest, const RcxS3Config * src)
{
  *dest = *src;
  dest->endpoint_uri = g_strdup (src->endpoint_uri);
  dest->region = g_strdup (src->region);
  dest->access_key = g_strdup (src->access_key);
  dest->secret_access_key = g_strdup (src->secret_access_key);
  dest->session_token = g_strdup (src->session_token);
  dest->profile = g_strdup (src->profile);
}

/* ---- URIs and keys ---------------------------------------------------- */

gboolean
rcx_s3_key_is_safe (const gchar * key)
{
  g_auto (GStrv) segments = NULL;
  gsize len, i;

  if (key == NULL || key[0] == '\0' || key[0] == '/')
    return FALSE;
  len = strlen (key);
  if (len > MAX_KEY_LENGTH || !g_utf8_validate (key, len, NULL))
    return FALSE;
  for (i = 0; i < len; i++) {
    if ((guchar) key[i] < 0x20 || key[i] == 0x7f || key[i] == '\\')
      return FALSE;
  }
  segments = g_strsplit (key, "/", -1);
  for (i = 0; segments[i] != NULL; i++) {
    if (g_str_equal (segments[i], ".") || g_str_equal (segments[i], ".."))
      return FALSE;
  }
  return TRUE;
}

static gboolean
bucket_is_valid (const gchar * bucket)
{
  gsize i, len = bucket ? strlen (bucket) : 0;

  /* S3 rules, relaxed for legacy buckets (capitals, underscores) */
  if (len < 3 || len > 255)
    return FALSE;
  for (i = 0; i < len; i++) {
    if (!g_ascii_isalnum (bucket[i]) && bucket[i] != '-' && bucket[i] != '.'
        && bucket[i] != '_')
      return FALSE;
  }
  return g_ascii_isalnum (bucket[0]) && strstr (bucket, "..") == NULL;
}

/* Splits "s3://bucket/rest" and checks both parts; with @decode, rest is
 * an RFC 3986 path (percent-decoded, no raw '?' or '#'), else a literal
 * key. */
static gboolean
split_location (const gchar * location, gboolean decode, gchar ** bucket,
    gchar ** key, gboolean allow_empty_key, GError ** error)
{
  const gchar *rest, *slash;
  g_autofree gchar *b = NULL;
  g_autofree gchar *k = NULL;

  if (location == NULL || g_ascii_strncasecmp (location, "s3://", 5) != 0) {
    set_s3_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "'%s' is not an s3://bucket/key URI", STR_NULL (location));
    return FALSE;
  }
  rest = location + 5;
  slash = strchr (rest, '/');
  b = slash ? g_strndup (rest, slash - rest) : g_strdup (rest);
  if (!bucket_is_valid (b)) {
    set_s3_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "'%s' has no valid bucket name", location);
    return FALSE;
  }
  rest = slash ? slash + 1 : "";
  if (decode && strpbrk (rest, "?#") != NULL) {
    /* a query or fragment is not part of the key: refused rather than
     * silently dropped (a key with '?' or '#' is written %3F, %23) */
    set_s3_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "'%s' has a query or fragment; percent-encode '?' and '#' in keys",
        location);
    return FALSE;
  }
  /* NULL for a '%' not followed by two hex digits, and for "%00" */
  k = decode ? g_uri_unescape_string (rest, NULL) : g_strdup (rest);
  if (k == NULL) {
    set_s3_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "'%s' is not a valid URI: a '%%' must start an escape such as %%20",
        location);
    return FALSE;
  }
  if (k[0] == '\0' ? !allow_empty_key : !rcx_s3_key_is_safe (k)) {
    set_s3_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "'%s' has no valid object key", location);
    return FALSE;
  }
  if (bucket)
    *bucket = g_steal_pointer (&b);
  if (key)
    *key = g_steal_pointer (&k);
  return TRUE;
}

gboolean
rcx_s3_uri_parse (const gchar * uri, gchar ** bucket, gchar ** key,
    gboolean allow_empty_key, GError ** error)
{
  return split_location (uri, TRUE, bucket, key, allow_empty_key, error);
}

gboolean
rcx_s3_path_parse (const gchar * path, gchar ** bucket, gchar ** key,
    gboolean allow_empty_key, GError ** error)
{
  return split_location (path, FALSE, bucket, key, allow_empty_key, error);
}

gchar *
rcx_s3_uri_build (const gchar * bucket, const gchar * key)
{
  /* Only unreserved characters and '/' stay as they are: the URI then
   * needs no quoting anywhere (shell, gst-launch, playlists, logs). */
  g_autofree gchar *escaped = g_uri_escape_string (key ? key : "", "/",
      FALSE);

  return g_strconcat ("s3://", bucket, "/", escaped, NULL);
}

gchar *
rcx_s3_uri_from_path (const gchar * path, gboolean allow_empty_key,
    GError ** error)
{
  g_autofree gchar *bucket = NULL;
  g_autofree gchar *key = NULL;

  if (!rcx_s3_path_parse (path, &bucket, &key, allow_empty_key, error))
    return NULL;
  return rcx_s3_uri_build (bucket, key);
}

/* ---- the client ------------------------------------------------------- */

struct _RcxS3Client
{
  gatomicrefcount ref;
  gchar *scheme;
  gchar *host;
  gint port;                    /* -1: the scheme's default */
  gchar *base_path;             /* endpoint path without trailing '/' */
  gchar *region;
  gboolean path_style;
  RcxCredentialsProvider *credentials;
  RcxHttpClient *http;
  RcxRetryWindow *window;       /* shared by every request of the client */
};

static const gchar *
getenv_nonempty (const gchar * name)
{
  const gchar *v = g_getenv (name);

  return v != NULL && v[0] != '\0' ? v : NULL;
}

RcxS3Client *
rcx_s3_client_new (const RcxS3Config * config, GError ** error)
{
  g_autoptr (RcxS3Client) client = NULL;
  RcxS3Config defaults;
  const gchar *endpoint, *region;
  g_autofree gchar *aws_endpoint = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) uri_error = NULL;
  RcxHttpClientOptions http_options = { 0, };
  gboolean custom_endpoint;

  if (config == NULL) {
    rcx_s3_config_init (&defaults);
    config = &defaults;
  }

  region = config->region;
  if (region == NULL || region[0] == '\0')
    region = getenv_nonempty ("AWS_REGION");
  if (region == NULL)
    region = getenv_nonempty ("AWS_DEFAULT_REGION");
  if (region == NULL)
    region = RCX_S3_DEFAULT_REGION;

  endpoint = config->endpoint_uri;
  if (endpoint == NULL || endpoint[0] == '\0')
    endpoint = getenv_nonempty ("AWS_ENDPOINT_URL_S3");
  if (endpoint == NULL)
    endpoint = getenv_nonempty ("AWS_ENDPOINT_URL");
  custom_endpoint = endpoint != NULL;
  if (endpoint == NULL)
    endpoint = aws_endpoint = g_strdup_printf ("https://s3.%s.amazonaws.com",
        region);

  uri = g_uri_parse (endpoint, SOUP_HTTP_URI_FLAGS, &uri_error);
  if (uri == NULL || g_uri_get_host (uri) == NULL
      || (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") != 0
          && g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0)) {
    set_s3_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "invalid S3 endpoint '%s'%s%s", endpoint, uri_error ? ": " : "",
        uri_error ? uri_error->message : "");
    return NULL;
  }

  client = g_new0 (RcxS3Client, 1);
  g_atomic_ref_count_init (&client->ref);
  client->scheme = g_ascii_strdown (g_uri_get_scheme (uri), -1);
  client->host = g_ascii_strdown (g_uri_get_host (uri), -1);
  client->port = g_uri_get_port (uri);
  if ((client->port == 80 && g_str_equal (client->scheme, "http"))
      || (client->port == 443 && g_str_equal (client->scheme, "https")))
    client->port = -1;
  client->base_path = g_strdup (g_uri_get_path (uri));
  while (client->base_path[0] != '\0'
      && g_str_has_suffix (client->base_path, "/"))
    client->base_path[strlen (client->base_path) - 1] = '\0';
  client->region = g_strdup (region);
  switch (config->path_style) {
    case RCX_S3_PATH_STYLE_ON:
      client->path_style = TRUE;
      break;
    case RCX_S3_PATH_STYLE_OFF:
      client->path_style = FALSE;
      break;
    default:
      client->path_style = custom_endpoint;
      break;
  }
  client->credentials = rcx_credentials_provider_new (config->access_key,
      config->secret_access_key, config->session_token, config->profile);

  http_options.timeout = config->request_timeout ? config->request_timeout :
      RCX_S3_DEFAULT_REQUEST_TIMEOUT;
  http_options.max_attempts = config->retry_attempts ? config->retry_attempts :
      RCX_S3_DEFAULT_RETRY_ATTEMPTS;
  client->http = rcx_http_client_new (&http_options);
  client->window = rcx_retry_window_new ((gint64) config->retry_timeout *
      G_USEC_PER_SEC);
  return g_steal_pointer (&client);
}

RcxS3Client *
rcx_s3_client_ref (RcxS3Client * client)
{
  g_atomic_ref_count_inc (&client->ref);
  return client;
}

void
rcx_s3_client_unref (RcxS3Client * client)
{
  if (client == NULL || !g_atomic_ref_count_dec (&client->ref))
    return;
  g_free (client->scheme);
  g_free (client->host);
  g_free (client->base_path);
  g_free (client->region);
  g_clear_pointer (&client->window, rcx_retry_window_unref);
  g_clear_pointer (&client->credentials, rcx_credentials_provider_unref);
  g_clear_pointer (&client->http, rcx_http_client_unref);
  g_free (client);
}

void
rcx_s3_client_set_log_func (RcxS3Client * client, RcxS3LogFunc func,
    gpointer user_data, GDestroyNotify notify)
{
  rcx_http_client_set_log_func (client->http, func, user_data, notify);
}

guint
rcx_s3_client_get_retry_timeout (RcxS3Client * client)
{
  return (guint) (rcx_retry_window_get_length (client->window) /
      G_USEC_PER_SEC);
}

guint64
rcx_s3_client_get_request_count (RcxS3Client * client)
{
  return rcx_http_client_get_request_count (client->http);
}

void
rcx_s3_object_info_clear (RcxS3ObjectInfo * info)
{
  g_clear_pointer (&info->etag, g_free);
  g_clear_pointer (&info->content_type, g_free);
  info->size = 0;
  info->last_modified = 0;
}

/* ---- one S3 request --------------------------------------------------- */

typedef struct
{
  RcxS3Client *client;
  gchar *host_header;
  gchar *payload_hash;
  GCancellable *cancellable;
} SignData;

static void
sign_data_free (gpointer data)
{
  SignData *sd = data;

  g_free (sd->host_header);
  g_free (sd->payload_hash);
  g_clear_object (&sd->cancellable);
  g_free (sd);
}

static gboolean
header_is_signed (const gchar * name)
{
  static const gchar *const signed_names[] = { "content-md5", "content-type",
    "range", "if-match", "if-none-match", "cache-control", NULL
  };
  g_autofree gchar *lower = g_ascii_strdown (name, -1);

  return g_str_has_prefix (lower, "x-amz-")
      || g_strv_contains (signed_names, lower);
}

typedef struct
{
  GArray *headers;              /* RcxHeader */
} CollectData;

static void
collect_header (const char *name, const char *value, gpointer user_data)
{
  CollectData *cd = user_data;
  RcxHeader h;

  if (!header_is_signed (name))
    return;
  h.name = name;
  h.value = value;
  g_array_append_val (cd->headers, h);
}

static gboolean
s3_prepare (RcxHttpRequest * request, SoupMessage * msg, GDateTime * now,
    guint attempt, gpointer user_data, GError ** error)
{
  SignData *sd = user_data;
  SoupMessageHeaders *hdrs = soup_message_get_request_headers (msg);
  g_auto (RcxCredentials) creds = { 0, };
  g_autoptr (GError) creds_error = NULL;
  g_autofree gchar *amz_date = rcx_sigv4_amz_date (now);
  g_autofree gchar *authorization = NULL;
  g_autoptr (GArray) headers = g_array_new (FALSE, FALSE, sizeof (RcxHeader));
  CollectData cd = { headers };
  RcxSigv4Request req = { 0, };
  RcxSigv4Signer signer = { 0, };
  GUri *uri = soup_message_get_uri (msg);
  RcxHeader host = { "host", sd->host_header };

  if (!rcx_credentials_provider_get (sd->client->credentials, &creds,
          sd->cancellable, &creds_error)) {
    if (g_error_matches (creds_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_propagate_error (error, g_steal_pointer (&creds_error));
    else
      set_s3_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
          "no S3 credentials: %s", creds_error->message);
    return FALSE;
  }

  soup_message_headers_replace (hdrs, "Host", sd->host_header);
  soup_message_headers_replace (hdrs, "x-amz-date", amz_date);
  soup_message_headers_replace (hdrs, "x-amz-content-sha256", sd->payload_hash);
  if (creds.session_token != NULL)
    soup_message_headers_replace (hdrs, "x-amz-security-token",
        creds.session_token);
  else
    soup_message_headers_remove (hdrs, "x-amz-security-token");

  g_array_append_val (headers, host);
  soup_message_headers_foreach (hdrs, collect_header, &cd);

  req.method = soup_message_get_method (msg);
  req.path = g_uri_get_path (uri)[0] ? g_uri_get_path (uri) : "/";
  req.query = g_uri_get_query (uri);
  req.headers = (const RcxHeader *) headers->data;
  req.n_headers = headers->len;
  req.payload_hash = sd->payload_hash;
  req.normalize_path = FALSE;
  req.double_encode_path = FALSE;

  signer.access_key = creds.access_key;
  signer.secret_key = creds.secret_key;
  signer.session_token = creds.session_token;
  signer.region = sd->client->region;
  signer.service = "s3";

  authorization = rcx_sigv4_authorization (&signer, now, &req);
  soup_message_headers_replace (hdrs, "Authorization", authorization);
  return TRUE;
}

/* S3 may answer 200 to CompleteMultipartUpload and put an <Error> in the
 * body: classify that as the error it is. Expired temporary credentials are
 * fetched again and the request re-signed once (like a clock skew). */
static RcxRetryKind
s3_classify (RcxHttpResponse * response, gpointer user_data)
{
  RcxS3Client *client = user_data;

  if (response->status >= 200 && response->status < 300
      && response->body != NULL && response->error_code == NULL) {
    gsize len;
    const gchar *data = g_bytes_get_data (response->body, &len);

    if (data != NULL && len > 0
        && g_strstr_len (data, MIN (len, 512), "<Error>") != NULL)
      rcx_http_response_parse_error (response);
    if (response->error_code != NULL)
      return rcx_retry_classify (500, response->error_code, NULL);
  }
  if (g_strcmp0 (response->error_code, "ExpiredToken") == 0
      || g_strcmp0 (response->error_code, "TokenRefreshRequired") == 0) {
    rcx_credentials_provider_invalidate (client->credentials);
    return RCX_RETRY_KIND_CLOCK_SKEW;
  }
  return rcx_retry_classify (response->status, response->error_code, NULL);
}

typedef struct
{
  const gchar *method;
  const gchar *bucket;
  const gchar *key;             /* NULL or "" for the bucket */
  const gchar *query;           /* encoded, NULL if none */
  GBytes *body;
  const gchar *content_type;
  gboolean content_md5;         /* send Content-MD5 of the body */
  gboolean streaming;
  /* extra headers, NULL-terminated name/value pairs */
  const gchar *const *headers;
  guint attempts;               /* out: attempts of the final answer */
} S3Call;

static gchar *
host_header (RcxS3Client * client, const gchar * bucket)
{
  g_autofree gchar *host = client->path_style ? g_strdup (client->host) :
      g_strdup_printf ("%s.%s", bucket, client->host);

  if (client->port > 0)
    return g_strdup_printf ("%s:%d", host, client->port);
  return g_steal_pointer (&host);
}

static gchar *
request_uri (RcxS3Client * client, const gchar * bucket, const gchar * key,
    const gchar * query, gchar ** path_out)
{
  g_autofree gchar *ekey = rcx_uri_encode (key ? key : "", TRUE);
  g_autofree gchar *ebucket = rcx_uri_encode (bucket, FALSE);
  g_autofree gchar *path = NULL;
  g_autofree gchar *host = host_header (client, bucket);

  if (client->path_style)
    path = g_strdup_printf ("%s/%s/%s", client->base_path, ebucket, ekey);
  else
    path = g_strdup_printf ("%s/%s", client->base_path, ekey);
  if (path_out)
    *path_out = g_strdup (path);
  return g_strdup_printf ("%s://%s%s%s%s", client->scheme, host, path,
      query ? "?" : "", query ? query : "");
}

/* Maps a final non-2xx response to an RCX_S3_ERROR. */
static void
response_to_error (RcxHttpResponse * response, const gchar * what,
    GError ** error)
{
  RcxS3ErrorCode code;
  const gchar *s3_code = response->error_code;

  switch (response->status) {
    case 404:
      code = RCX_S3_ERROR_NOT_FOUND;
      break;
    case 401:
    case 403:
      code = rcx_retry_code_is_throttling (s3_code) ?
          RCX_S3_ERROR_FAILED : RCX_S3_ERROR_NOT_AUTHORIZED;
      break;
    case 412:
      code = RCX_S3_ERROR_PRECONDITION;
      break;
    case 416:
      code = RCX_S3_ERROR_RANGE;
      break;
    case 301:
    case 307:
      /* PermanentRedirect: wrong region or endpoint */
      code = RCX_S3_ERROR_SETTINGS;
      break;
    default:
      code = RCX_S3_ERROR_FAILED;
      break;
  }
  if (s3_code == NULL && response->status == 404)
    s3_code = "NotFound";       /* HEAD has no body */
  set_s3_error (error, code, response->status, s3_code,
      response->request_id, "%s: HTTP %u %s%s%s (request id %s)", what,
      response->status, STR_NULL (s3_code),
      response->error_message ? ": " : "",
      response->error_message ? response->error_message : "",
      STR_NULL (response->request_id));
}

static gboolean
method_is_idempotent (const gchar * method)
{
  return g_str_equal (method, "GET") || g_str_equal (method, "HEAD")
      || g_str_equal (method, "PUT") || g_str_equal (method, "DELETE");
}

/* Sends one S3 call with retries. Returns the 2xx response, or NULL with
 * an RCX_S3_ERROR (or G_IO_ERROR_CANCELLED). */
static RcxHttpResponse *
s3_send (RcxS3Client * client, S3Call * call,
    GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *path = NULL;
  g_autofree gchar *uri = NULL;
  g_autofree gchar *what = NULL;
  g_autoptr (RcxHttpRequest) request = NULL;
  g_autoptr (RcxHttpResponse) response = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree gchar *payload_hash = NULL;
  g_autofree gchar *content_md5 = NULL;
  SignData *sd;
  guint i, round;
  gint64 started = g_get_monotonic_time ();

  if (call->key != NULL && call->key[0] != '\0'
      && !rcx_s3_key_is_safe (call->key)) {
    set_s3_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "refusing unsafe object key '%s'", call->key);
    return NULL;
  }
  if (!bucket_is_valid (call->bucket)) {
    set_s3_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "invalid bucket name '%s'", STR_NULL (call->bucket));
    return NULL;
  }

  uri = request_uri (client, call->bucket, call->key, call->query, &path);
  what = g_strdup_printf ("S3 %s s3://%s/%s", call->method, call->bucket,
      call->key ? call->key : "");

  if (call->body != NULL) {
    gsize size;
    const guint8 *data = g_bytes_get_data (call->body, &size);
    RcxDigests digests;
    RcxDigestFlags which = RCX_DIGEST_SHA256;

    if (call->content_md5)
      which |= RCX_DIGEST_MD5;
    if (!rcx_digest_compute (data, size, which, &digests, &local_error)) {
      set_s3_error (error, RCX_S3_ERROR_FAILED, 0, NULL, NULL,
          "%s: cannot hash the body: %s", what, local_error->message);
      return NULL;
    }
    payload_hash = rcx_digest_to_hex (digests.sha256, RCX_SHA256_LEN);
    if (call->content_md5)
      content_md5 = g_base64_encode (digests.md5, RCX_MD5_LEN);
  } else if (g_str_equal (call->method, "GET")
      || g_str_equal (call->method, "HEAD")) {
    payload_hash = g_strdup (UNSIGNED_PAYLOAD);
  } else {
    payload_hash = rcx_sha256_hex ((const guint8 *) "", 0);
  }

  request = rcx_http_request_new (call->method, uri);
  if (request == NULL) {
    set_s3_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "%s: cannot build a request URI", what);
    return NULL;
  }

  sd = g_new0 (SignData, 1);
  sd->client = client;
  sd->host_header = host_header (client, call->bucket);
  sd->payload_hash = g_steal_pointer (&payload_hash);
  sd->cancellable = cancellable ? g_object_ref (cancellable) : NULL;

  if (call->body != NULL)
    rcx_http_request_set_body (request, call->content_type, call->body);
  for (i = 0; call->headers != NULL && call->headers[i] != NULL; i += 2) {
    if (call->headers[i + 1] != NULL)
      rcx_http_request_set_header (request, call->headers[i],
          call->headers[i + 1]);
  }
  if (content_md5 != NULL)
    rcx_http_request_set_header (request, "Content-MD5", content_md5);
  rcx_http_request_set_prepare_func (request, s3_prepare, sd, sign_data_free);
  rcx_http_request_set_classify_func (request, s3_classify, client, NULL);

  for (round = 1;; round++) {
    RcxRetryKind kind;
    gint64 delay = 0;
    const gchar *reason = NULL;
    g_autofree gchar *failure = NULL;

    g_clear_error (&local_error);
    g_clear_pointer (&response, rcx_http_response_free);
    if (call->streaming)
      response = rcx_http_client_send_streaming (client->http, request,
          cancellable, &local_error);
    else
      response = rcx_http_client_send_and_read (client->http, request,
          cancellable, &local_error);

    if (response == NULL)
      kind = rcx_retry_classify (0, NULL, local_error);
    else if (response->status >= 200 && response->status < 300
        && response->error_code == NULL)
      kind = RCX_RETRY_KIND_NONE;
    else
      kind = rcx_retry_classify (response->status < 300 ? 500 :
          response->status, response->error_code, NULL);
    if (kind == RCX_RETRY_KIND_NONE) {
      rcx_retry_window_on_success (client->window);
      break;
    }
    /* POSTs (create / complete multipart) are not idempotent */
    if (!method_is_idempotent (call->method)
        || !rcx_retry_window_should_retry (client->window,
            rcx_http_client_get_retry_policy (client->http), kind, round,
            started, g_get_monotonic_time (), &delay, &reason))
      break;
    failure = response ? g_strdup_printf ("HTTP %u %s", response->status,
        STR_NULL (response->error_code)) : g_strdup (local_error->message);
    rcx_http_client_log (client->http, G_LOG_LEVEL_INFO,
        "%s: %s (storage failing for %" G_GINT64_FORMAT " s of a %u s "
        "window), round %u, retrying in %" G_GINT64_FORMAT " ms", what,
        failure, rcx_retry_window_get_outage (client->window,
            g_get_monotonic_time ()) / G_USEC_PER_SEC,
        rcx_s3_client_get_retry_timeout (client), round, delay / 1000);
    if (!rcx_retry_sleep (delay, cancellable, &local_error)) {
      g_clear_pointer (&response, rcx_http_response_free);
      break;
    }
  }

  if (response == NULL) {
    if (local_error->domain == RCX_S3_ERROR
        || g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_propagate_error (error, g_steal_pointer (&local_error));
    else
      set_s3_error (error, RCX_S3_ERROR_CONNECT, 0, NULL, NULL, "%s: %s",
          what, local_error->message);
    return NULL;
  }
  call->attempts = response->attempts;
  if (response->status < 200 || response->status >= 300
      || response->error_code != NULL) {
    response_to_error (response, what, error);
    return NULL;
  }
  return g_steal_pointer (&response);
}

static void
fill_info (RcxHttpResponse * response, RcxS3ObjectInfo * info)
{
  SoupMessageHeaders *h = response->headers;
  const gchar *v;
  goffset start = 0, end = 0, total = -1;

  if (info == NULL)
    return;
  rcx_s3_object_info_clear (info);
  if (response->status == 206
      && soup_message_headers_get_content_range (h, &start, &end, &total)
      && total >= 0)
    info->size = (guint64) total;
  else
    info->size = (guint64) MAX (soup_message_headers_get_content_length (h), 0);
  info->etag = g_strdup (soup_message_headers_get_one (h, "ETag"));
  info->content_type =
      g_strdup (soup_message_headers_get_content_type (h, NULL));
  v = soup_message_headers_get_one (h, "Last-Modified");
  if (v != NULL) {
    g_autoptr (GDateTime) dt = soup_date_time_new_from_http_string (v);

    if (dt != NULL)
      info->last_modified = g_date_time_to_unix (dt);
  }
}

/* ---- simple operations ------------------------------------------------ */

gboolean
rcx_s3_head_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, RcxS3ObjectInfo * info, GCancellable * cancellable,
    GError ** error)
{
  S3Call call = { "HEAD", bucket, key, };
  S3Call get = { "GET", bucket, key, };
  const gchar *range[] = { "Range", "bytes=0-0", NULL };
  g_autoptr (RcxHttpResponse) response = NULL;
  g_autoptr (GError) local_error = NULL;

  response = s3_send (client, &call, cancellable, &local_error);
  if (response == NULL && rcx_s3_error_get_http_status (local_error) == 403
      && rcx_s3_error_get_s3_code (local_error) == NULL) {
    /* see the header: a ranged GET says what the bodyless 403 was */
    rcx_http_client_log (client->http, G_LOG_LEVEL_INFO,
        "S3 HEAD s3://%s/%s: 403 without a body, asking with a ranged GET "
        "for the error code", bucket, key);
    g_clear_error (&local_error);
    get.headers = range;
    response = s3_send (client, &get, cancellable, &local_error);
    if (response == NULL && g_error_matches (local_error, RCX_S3_ERROR,
            RCX_S3_ERROR_RANGE)) {
      /* 416: an empty object, readable: HEAD it again for its info */
      g_clear_error (&local_error);
      response = s3_send (client, &call, cancellable, &local_error);
    }
  }
  if (response == NULL) {
    g_propagate_error (error, g_steal_pointer (&local_error));
    return FALSE;
  }
  fill_info (response, info);
  return TRUE;
}

GInputStream *
rcx_s3_get_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, guint64 offset, guint64 length, const gchar * if_match,
    RcxS3ObjectInfo * info, GCancellable * cancellable, GError ** error)
{
  S3Call call = { "GET", bucket, key, };
  g_autofree gchar *range = NULL;
  const gchar *headers[5] = { NULL, };
  guint n = 0;
  g_autoptr (RcxHttpResponse) response = NULL;
  RcxS3ObjectInfo local_info = { 0, };

  if (length > 0)
    range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT,
        offset, offset + length - 1);
  else if (offset > 0)
    range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-", offset);
  if (range) {
    headers[n++] = "Range";
    headers[n++] = range;
  }
  if (if_match) {
    headers[n++] = "If-Match";
    headers[n++] = if_match;
  }
  call.headers = headers;
  call.streaming = TRUE;

  response = s3_send (client, &call, cancellable, error);
  if (response == NULL)
    return NULL;
  fill_info (response, info ? info : &local_info);
  rcx_s3_object_info_clear (&local_info);
  if (offset > 0 && response->status == 200) {
    /* the server ignored the Range: skip to the offset */
    if (g_input_stream_skip (response->stream, offset, cancellable,
            error) != (gssize) offset) {
      if (error && *error == NULL)
        set_s3_error (error, RCX_S3_ERROR_RANGE, 200, NULL, NULL,
            "S3 GET s3://%s/%s: offset %" G_GUINT64_FORMAT " beyond the end",
            bucket, key, offset);
      return NULL;
    }
  }
  return g_steal_pointer (&response->stream);
}

gboolean
rcx_s3_put_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, GBytes * body, const RcxS3PutOptions * options,
    gchar ** etag_out, GCancellable * cancellable, GError ** error)
{
  S3Call call = { "PUT", bucket, key, };
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr (RcxHttpResponse) response = NULL;
  const gchar *headers[3] = { NULL, };
  guint n = 0;

  call.body = body ? body : empty;
  call.content_type = options && options->content_type ?
      options->content_type : "application/octet-stream";
  call.content_md5 = TRUE;
  if (options && options->cache_control) {
    headers[n++] = "Cache-Control";
    headers[n++] = options->cache_control;
  }
  call.headers = headers;

  response = s3_send (client, &call, cancellable, error);
  if (response == NULL)
    return FALSE;
  if (etag_out)
    *etag_out = g_strdup (soup_message_headers_get_one (response->headers,
            "ETag"));
  return TRUE;
}

gboolean
rcx_s3_delete_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, GCancellable * cancellable, GError ** error)
{
  S3Call call = { "DELETE", bucket, key, };
  g_autoptr (RcxHttpResponse) response = NULL;

  response = s3_send (client, &call, cancellable, error);
  return response != NULL;
}

/* Text of the first <@name> element anywhere under the root. */
static gchar *
xml_find_text (GBytes * body, const gchar * name)
{
  gsize len = 0;
  const gchar *data = body ? g_bytes_get_data (body, &len) : NULL;
  xmlDoc *doc;
  xmlNode *node;
  gchar *ret = NULL;

  doc = rcx_xml_read (data, len);
  if (doc == NULL)
    return NULL;
  node = xmlDocGetRootElement (doc);
  node = node ? node->children : NULL;
  for (; node != NULL; node = node->next) {
    if (node->type == XML_ELEMENT_NODE
        && g_strcmp0 ((const gchar *) node->name, name) == 0) {
      xmlChar *content = xmlNodeGetContent (node);

      ret = g_strdup ((const gchar *) content);
      xmlFree (content);
      break;
    }
  }
  xmlFreeDoc (doc);
  return ret;
}

gchar *
rcx_s3_create_multipart_upload (RcxS3Client * client,
    const gchar * bucket, const gchar * key, const RcxS3PutOptions * options,
    GCancellable * cancellable, GError ** error)
{
  S3Call call = { "POST", bucket, key, "uploads=", };
  g_autoptr (RcxHttpResponse) response = NULL;
  const gchar *headers[5] = { NULL, };
  guint n = 0;
  gchar *upload_id;

  headers[n++] = "Content-Type";
  headers[n++] = options && options->content_type ?
      options->content_type : "application/octet-stream";
  if (options && options->cache_control) {
    headers[n++] = "Cache-Control";
    headers[n++] = options->cache_control;
  }
  call.headers = headers;

  response = s3_send (client, &call, cancellable, error);
  if (response == NULL)
    return NULL;
  upload_id = xml_find_text (response->body, "UploadId");
  if (upload_id == NULL || upload_id[0] == '\0') {
    g_free (upload_id);
    set_s3_error (error, RCX_S3_ERROR_FAILED, response->status, NULL,
        response->request_id, "S3 CreateMultipartUpload s3://%s/%s: no "
        "UploadId in the answer", bucket, key);
    return NULL;
  }
  return upload_id;
}

gchar *
rcx_s3_upload_part (RcxS3Client * client, const gchar * bucket,
    const gchar * key, const gchar * upload_id, guint part_number,
    GBytes * body, GCancellable * cancellable, GError ** error)
{
  S3Call call = { "PUT", bucket, key, };
  g_autofree gchar *eid = rcx_uri_encode (upload_id, FALSE);
  g_autofree gchar *query = NULL;
  g_autoptr (RcxHttpResponse) response = NULL;
  const gchar *etag;

  g_return_val_if_fail (part_number >= 1 && part_number <= 10000, NULL);
  query = g_strdup_printf ("partNumber=%u&uploadId=%s", part_number, eid);
  call.query = query;
  call.body = body;
  call.content_md5 = TRUE;

  response = s3_send (client, &call, cancellable, error);
  if (response == NULL)
    return NULL;
  etag = soup_message_headers_get_one (response->headers, "ETag");
  if (etag == NULL) {
    set_s3_error (error, RCX_S3_ERROR_FAILED, response->status, NULL,
        response->request_id, "S3 UploadPart %u s3://%s/%s: no ETag",
        part_number, bucket, key);
    return NULL;
  }
  return g_strdup (etag);
}

/* The ETag S3 gives an object made of these parts: "<md5 of the parts'
 * binary MD5s>-<n>" (NULL when a part's ETag is not an MD5, e.g. SSE-KMS). */
static gchar *
multipart_etag (const gchar * const *etags, guint n_parts)
{
  g_autofree guint8 *part_md5s = g_new (guint8, RCX_MD5_LEN * n_parts + 1);
  g_autofree gchar *hex = NULL;
  RcxDigests digests;
  guint i, j;

  for (i = 0; i < n_parts; i++) {
    const gchar *e = etags[i];
    guint8 *digest = part_md5s + RCX_MD5_LEN * i;

    if (e[0] == '"')
      e++;
    if (strlen (e) < 32 || (e[32] != '\0' && e[32] != '"'))
      return NULL;
    for (j = 0; j < 16; j++) {
      gint hi = g_ascii_xdigit_value (e[2 * j]);
      gint lo = g_ascii_xdigit_value (e[2 * j + 1]);

      if (hi < 0 || lo < 0)
        return NULL;
      digest[j] = (guint8) (hi << 4 | lo);
    }
  }
  if (!rcx_digest_compute (part_md5s, RCX_MD5_LEN * n_parts, RCX_DIGEST_MD5,
          &digests, NULL))
    return NULL;
  hex = rcx_digest_to_hex (digests.md5, RCX_MD5_LEN);
  return g_strdup_printf ("\"%s-%u\"", hex, n_parts);
}

gboolean
rcx_s3_complete_multipart_upload (RcxS3Client * client,
    const gchar * bucket, const gchar * key, const gchar * upload_id,
    const gchar * const *etags, guint n_parts, GCancellable * cancellable,
    GError ** error)
{
  S3Call call = { "POST", bucket, key, };
  g_autofree gchar *eid = rcx_uri_encode (upload_id, FALSE);
  g_autofree gchar *query = g_strdup_printf ("uploadId=%s", eid);
  g_autoptr (GString) xml = g_string_new ("<?xml version=\"1.0\" "
      "encoding=\"UTF-8\"?>\n<CompleteMultipartUpload "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
  g_autoptr (GBytes) body = NULL;
  g_autoptr (RcxHttpResponse) response = NULL;
  g_autoptr (GError) local_error = NULL;
  guint i;

  for (i = 0; i < n_parts; i++) {
    g_autofree gchar *etag = g_markup_escape_text (etags[i], -1);

    g_string_append_printf (xml, "<Part><PartNumber>%u</PartNumber>"
        "<ETag>%s</ETag></Part>", i + 1, etag);
  }
  g_string_append (xml, "</CompleteMultipartUpload>");
  body = g_string_free_to_bytes (g_steal_pointer (&xml));
  call.query = query;
  call.body = body;
  call.content_type = "application/xml";

  response = s3_send (client, &call, cancellable, &local_error);
  if (response != NULL)
    return TRUE;
  /* an attempt whose answer got lost may have completed the upload: the
   * retry then finds no upload, and the object is there with the ETag of
   * exactly these parts */
  if (call.attempts > 1
      && g_error_matches (local_error, RCX_S3_ERROR, RCX_S3_ERROR_NOT_FOUND)
      && g_strcmp0 (rcx_s3_error_get_s3_code (local_error),
          "NoSuchUpload") == 0) {
    g_auto (RcxS3ObjectInfo) info = { 0, };
    g_autofree gchar *expected = multipart_etag (etags, n_parts);

    if (expected != NULL
        && rcx_s3_head_object (client, bucket, key, &info, cancellable, NULL)
        && g_strcmp0 (info.etag, expected) == 0) {
      rcx_http_client_log (client->http, G_LOG_LEVEL_INFO,
          "S3 CompleteMultipartUpload s3://%s/%s: completed by an earlier "
          "attempt (ETag %s)", bucket, key, info.etag);
      return TRUE;
    }
  }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

gboolean
rcx_s3_abort_multipart_upload (RcxS3Client * client,
    const gchar * bucket, const gchar * key, const gchar * upload_id,
    GCancellable * cancellable, GError ** error)
{
  S3Call call = { "DELETE", bucket, key, };
  g_autofree gchar *eid = rcx_uri_encode (upload_id, FALSE);
  g_autofree gchar *query = g_strdup_printf ("uploadId=%s", eid);
  g_autoptr (RcxHttpResponse) response = NULL;

  call.query = query;
  response = s3_send (client, &call, cancellable, error);
  return response != NULL;
}

/* ---- RcxS3Reader ------------------------------------------------------ */

struct _RcxS3Reader
{
  RcxS3Client *client;
  gchar *bucket;
  gchar *key;
  gboolean have_info;
  RcxS3ObjectInfo info;
  GInputStream *stream;         /* the open response body, or NULL */
  guint64 pos;                  /* object offset of the stream's next byte */
  guint opens;
};

RcxS3Reader *
rcx_s3_reader_new (RcxS3Client * client, const gchar * bucket,
    const gchar * key)
{
  RcxS3Reader *reader = g_new0 (RcxS3Reader, 1);

  reader->client = rcx_s3_client_ref (client);
  reader->bucket = g_strdup (bucket);
  reader->key = g_strdup (key);
  return reader;
}

void
rcx_s3_reader_close (RcxS3Reader * reader)
{
  if (reader->stream != NULL) {
    /* closing a half-read body drops the connection: nothing is drained */
    g_input_stream_close (reader->stream, NULL, NULL);
    g_clear_object (&reader->stream);
  }
}

void
rcx_s3_reader_free (RcxS3Reader * reader)
{
  if (reader == NULL)
    return;
  rcx_s3_reader_close (reader);
  rcx_s3_object_info_clear (&reader->info);
  g_free (reader->bucket);
  g_free (reader->key);
  rcx_s3_client_unref (reader->client);
  g_free (reader);
}

guint
rcx_s3_reader_get_open_count (RcxS3Reader * reader)
{
  return reader->opens;
}

static void
info_copy (RcxS3ObjectInfo * dest, const RcxS3ObjectInfo * src)
{
  dest->size = src->size;
  dest->etag = g_strdup (src->etag);
  dest->content_type = g_strdup (src->content_type);
  dest->last_modified = src->last_modified;
}

gboolean
rcx_s3_reader_get_info (RcxS3Reader * reader, RcxS3ObjectInfo * info,
    GCancellable * cancellable, GError ** error)
{
  if (!reader->have_info) {
    if (!rcx_s3_head_object (reader->client, reader->bucket, reader->key,
            &reader->info, cancellable, error))
      return FALSE;
    reader->have_info = TRUE;
  }
  if (info != NULL) {
    rcx_s3_object_info_clear (info);
    info_copy (info, &reader->info);
  }
  return TRUE;
}

static gboolean
reader_open (RcxS3Reader * reader, guint64 offset, GCancellable * cancellable,
    GError ** error)
{
  g_auto (RcxS3ObjectInfo) info = { 0, };

  rcx_s3_reader_close (reader);
  reader->stream = rcx_s3_get_object (reader->client, reader->bucket,
      reader->key, offset, 0, reader->have_info ? reader->info.etag : NULL,
      &info, cancellable, error);
  if (reader->stream == NULL)
    return FALSE;
  reader->opens++;
  reader->pos = offset;
  if (!reader->have_info) {
    reader->info = info;
    memset (&info, 0, sizeof (info));
    reader->have_info = TRUE;
  }
  rcx_http_client_log (reader->client->http, G_LOG_LEVEL_DEBUG,
      "opened s3://%s/%s at %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
      " (open %u)", reader->bucket, reader->key, offset, reader->info.size,
      reader->opens);
  return TRUE;
}

gssize
rcx_s3_reader_read (RcxS3Reader * reader, guint64 offset, guint8 * buffer,
    gsize size, GCancellable * cancellable, GError ** error)
{
  RcxRetryPolicy *policy =
      rcx_http_client_get_retry_policy (reader->client->http);
  guint max_attempts = rcx_retry_policy_get_max_attempts (policy);
  guint failures = 0, cost = 0;
  gsize filled = 0;

  size = MIN (size, (gsize) G_MAXSSIZE);
  if (reader->have_info && offset >= reader->info.size)
    return 0;

  /* a short jump forward is read through; anything else reopens */
  if (reader->stream != NULL && reader->pos != offset
      && (offset < reader->pos || offset - reader->pos > READ_THROUGH_MAX))
    rcx_s3_reader_close (reader);

  while (filled < size) {
    g_autoptr (GError) read_error = NULL;
    guint64 want = offset + filled;
    gssize n;

    if (reader->have_info && want >= reader->info.size)
      break;

    if (reader->stream == NULL) {
      if (failures > 1) {
        gint64 delay = rcx_retry_policy_backoff (policy, failures - 2);

        rcx_http_client_log (reader->client->http, G_LOG_LEVEL_INFO,
            "resuming s3://%s/%s at %" G_GUINT64_FORMAT " in %"
            G_GINT64_FORMAT " ms", reader->bucket, reader->key, want,
            delay / 1000);
        if (!rcx_retry_sleep (delay, cancellable, error))
          return -1;
      }
      if (!reader_open (reader, want, cancellable, error))
        return -1;
    }

    if (reader->pos < want) {
      /* read through a short jump */
      guint8 scratch[16 * 1024];

      n = g_input_stream_read (reader->stream, scratch,
          MIN (sizeof (scratch), want - reader->pos), cancellable, &read_error);
      if (n > 0) {
        reader->pos += n;
        continue;
      }
    } else {
      n = g_input_stream_read (reader->stream, buffer + filled, size - filled,
          cancellable, &read_error);
      if (n > 0) {
        reader->pos += n;
        filled += n;
        if (failures > 0) {
          /* the resume worked: give the budget back */
          rcx_retry_policy_on_success (policy, cost);
          failures = 0;
          cost = 0;
        }
        continue;
      }
    }
    if (n == 0 && reader->have_info && reader->pos >= reader->info.size)
      break;
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return -1;

    /* reset, stall or a body that ended early: resume from reader->pos */
    failures++;
    rcx_s3_reader_close (reader);
    if (failures >= max_attempts) {
      set_s3_error (error, RCX_S3_ERROR_FAILED, 0, NULL, NULL,
          "S3 GET s3://%s/%s: reading at %" G_GUINT64_FORMAT " failed %u "
          "times: %s", reader->bucket, reader->key, want, failures,
          read_error ? read_error->message : "the body ended early");
      return -1;
    }
    {
      guint c = 0;

      if (!rcx_retry_budget_acquire (rcx_retry_policy_get_budget (policy),
              RCX_RETRY_KIND_TIMEOUT, &c)) {
        set_s3_error (error, RCX_S3_ERROR_FAILED, 0, NULL, NULL,
            "S3 GET s3://%s/%s: reading at %" G_GUINT64_FORMAT " failed (%s)"
            " and the retry budget is exhausted", reader->bucket, reader->key,
            want, read_error ? read_error->message : "the body ended early");
        return -1;
      }
      cost += c;
    }
    rcx_http_client_log (reader->client->http, G_LOG_LEVEL_INFO,
        "S3 GET s3://%s/%s: %s at %" G_GUINT64_FORMAT ", resuming (attempt "
        "%u of %u)", reader->bucket, reader->key,
        read_error ? read_error->message : "the body ended early",
        reader->pos, failures + 1, max_attempts);
  }
  return (gssize) filled;
}

/* ---- RcxS3Upload ------------------------------------------------------ */

struct _RcxS3Upload
{
  RcxS3Client *client;
  gchar *bucket;
  gchar *key;
  gchar *content_type;
  gchar *cache_control;
  gsize part_size;
  guint max_parallel;

  GByteArray *buf;              /* the part being filled */
  guint64 bytes_written;
  gchar *upload_id;             /* set once CreateMultipartUpload answered */
  guint n_parts;                /* parts handed to the pool */
  GThreadPool *pool;
  GCancellable *parts_cancellable;      /* cancels parts in flight */

  GMutex lock;
  GCond cond;
  guint in_flight;              /* protected by lock */
  GPtrArray *etags;             /* protected by lock; [i] = part i + 1 */
  GError *part_error;           /* protected by lock; the first failure */

  gboolean done;                /* completed (or PutObject) */
  gboolean aborted;
};

typedef struct
{
  guint number;
  GBytes *data;
} UploadPart;

static void
upload_options (RcxS3Upload * upload, RcxS3PutOptions * options)
{
  options->content_type = upload->content_type;
  options->cache_control = upload->cache_control;
}

static void
upload_part_func (gpointer data, gpointer user_data)
{
  UploadPart *part = data;
  RcxS3Upload *upload = user_data;
  g_autoptr (GError) error = NULL;
  gchar *etag = NULL;

  if (!g_cancellable_is_cancelled (upload->parts_cancellable))
    etag = rcx_s3_upload_part (upload->client, upload->bucket, upload->key,
        upload->upload_id, part->number, part->data,
        upload->parts_cancellable, &error);
  else
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
        "upload aborted");

  g_mutex_lock (&upload->lock);
  if (etag != NULL) {
    if (upload->etags->len < part->number)
      g_ptr_array_set_size (upload->etags, part->number);
    upload->etags->pdata[part->number - 1] = etag;
  } else if (upload->part_error == NULL) {
    upload->part_error = g_steal_pointer (&error);
  }
  upload->in_flight--;
  g_cond_broadcast (&upload->cond);
  g_mutex_unlock (&upload->lock);

  g_bytes_unref (part->data);
  g_free (part);
}

RcxS3Upload *
rcx_s3_upload_new (RcxS3Client * client, const gchar * bucket,
    const gchar * key, const RcxS3PutOptions * options, gsize part_size,
    guint max_parallel)
{
  RcxS3Upload *upload = g_new0 (RcxS3Upload, 1);

  upload->client = rcx_s3_client_ref (client);
  upload->bucket = g_strdup (bucket);
  upload->key = g_strdup (key);
  if (options) {
    upload->content_type = g_strdup (options->content_type);
    upload->cache_control = g_strdup (options->cache_control);
  }
  if (part_size == 0)
    part_size = RCX_S3_DEFAULT_PART_SIZE;
  upload->part_size =
      CLAMP (part_size, RCX_S3_MIN_PART_SIZE, RCX_S3_MAX_PART_SIZE);
  upload->max_parallel = max_parallel ? max_parallel :
      RCX_S3_DEFAULT_MAX_PARALLEL_PARTS;
  upload->buf = g_byte_array_new ();
  upload->parts_cancellable = g_cancellable_new ();
  upload->etags = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&upload->lock);
  g_cond_init (&upload->cond);
  return upload;
}

static void
wake_upload (GCancellable * cancellable, gpointer data)
{
  RcxS3Upload *upload = data;

  g_mutex_lock (&upload->lock);
  g_cond_broadcast (&upload->cond);
  g_mutex_unlock (&upload->lock);
}

/* Waits until at most @max parts are in flight. FALSE with @error when a
 * part failed or @cancellable fired. */
static gboolean
wait_in_flight (RcxS3Upload * upload, guint max, GCancellable * cancellable,
    GError ** error)
{
  gulong handler = 0;
  gboolean ok = TRUE;

  if (cancellable)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_upload),
        upload, NULL);
  g_mutex_lock (&upload->lock);
  while (upload->in_flight > max && upload->part_error == NULL
      && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&upload->cond, &upload->lock);
  if (upload->part_error != NULL) {
    g_propagate_error (error, g_error_copy (upload->part_error));
    ok = FALSE;
  }
  g_mutex_unlock (&upload->lock);
  if (handler)
    g_cancellable_disconnect (cancellable, handler);
  if (ok && g_cancellable_set_error_if_cancelled (cancellable, error))
    ok = FALSE;
  return ok;
}

/* Hands the current buffer to the pool as the next part. */
static gboolean
send_part (RcxS3Upload * upload, GCancellable * cancellable, GError ** error)
{
  UploadPart *part;
  GError *pool_error = NULL;

  if (upload->upload_id == NULL) {
    RcxS3PutOptions options;

    upload_options (upload, &options);
    upload->upload_id = rcx_s3_create_multipart_upload (upload->client,
        upload->bucket, upload->key, &options, cancellable, error);
    if (upload->upload_id == NULL)
      return FALSE;
    upload->pool = g_thread_pool_new (upload_part_func, upload,
        (gint) upload->max_parallel, FALSE, NULL);
  }
  if (upload->n_parts >= 10000) {
    set_s3_error (error, RCX_S3_ERROR_FAILED, 0, NULL, NULL,
        "S3 upload s3://%s/%s: more than 10000 parts (part size %"
        G_GSIZE_FORMAT ")", upload->bucket, upload->key, upload->part_size);
    return FALSE;
  }
  /* bound the memory: at most max_parallel parts in flight */
  if (!wait_in_flight (upload, upload->max_parallel - 1, cancellable, error))
    return FALSE;

  part = g_new0 (UploadPart, 1);
  part->number = ++upload->n_parts;
  part->data = g_byte_array_free_to_bytes (upload->buf);
  upload->buf = g_byte_array_new ();
  g_mutex_lock (&upload->lock);
  upload->in_flight++;
  g_mutex_unlock (&upload->lock);
  if (!g_thread_pool_push (upload->pool, part, &pool_error)) {
    g_mutex_lock (&upload->lock);
    upload->in_flight--;
    g_mutex_unlock (&upload->lock);
    g_bytes_unref (part->data);
    g_free (part);
    g_propagate_error (error, pool_error);
    return FALSE;
  }
  return TRUE;
}

gboolean
rcx_s3_upload_write (RcxS3Upload * upload, const guint8 * data, gsize len,
    GCancellable * cancellable, GError ** error)
{
  g_return_val_if_fail (!upload->done && !upload->aborted, FALSE);

  while (len > 0) {
    gsize n = MIN (len, upload->part_size - upload->buf->len);

    g_byte_array_append (upload->buf, data, (guint) n);
    upload->bytes_written += n;
    data += n;
    len -= n;
    if (upload->buf->len >= upload->part_size
        && !send_part (upload, cancellable, error))
      return FALSE;
  }
  return TRUE;
}

gboolean
rcx_s3_upload_finish (RcxS3Upload * upload, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (GPtrArray) etags = NULL;
  guint i;

  if (upload->done)
    return TRUE;
  g_return_val_if_fail (!upload->aborted, FALSE);

  if (upload->upload_id == NULL) {
    RcxS3PutOptions options;
    g_autoptr (GBytes) body = g_byte_array_free_to_bytes (upload->buf);

    upload->buf = g_byte_array_new ();
    upload_options (upload, &options);
    if (!rcx_s3_put_object (upload->client, upload->bucket, upload->key,
            body, &options, NULL, cancellable, error))
      return FALSE;
    upload->done = TRUE;
    return TRUE;
  }

  if (upload->buf->len > 0 && !send_part (upload, cancellable, error))
    return FALSE;
  if (!wait_in_flight (upload, 0, cancellable, error))
    return FALSE;

  etags = g_ptr_array_new ();
  g_mutex_lock (&upload->lock);
  for (i = 0; i < upload->n_parts; i++)
    g_ptr_array_add (etags, i < upload->etags->len ?
        upload->etags->pdata[i] : NULL);
  g_mutex_unlock (&upload->lock);
  for (i = 0; i < etags->len; i++) {
    if (etags->pdata[i] == NULL) {
      set_s3_error (error, RCX_S3_ERROR_FAILED, 0, NULL, NULL,
          "S3 upload s3://%s/%s: part %u has no ETag", upload->bucket,
          upload->key, i + 1);
      return FALSE;
    }
  }
  if (!rcx_s3_complete_multipart_upload (upload->client, upload->bucket,
          upload->key, upload->upload_id,
          (const gchar * const *) etags->pdata, etags->len, cancellable, error))
    return FALSE;
  upload->done = TRUE;
  return TRUE;
}

gboolean
rcx_s3_upload_abort (RcxS3Upload * upload, GError ** error)
{
  gboolean ok = TRUE;

  if (upload->done || upload->aborted)
    return TRUE;
  upload->aborted = TRUE;
  g_cancellable_cancel (upload->parts_cancellable);
  if (upload->pool != NULL) {
    /* parts in flight end (cancelled) before the abort goes out */
    g_thread_pool_free (upload->pool, FALSE, TRUE);
    upload->pool = NULL;
  }
  if (upload->upload_id != NULL) {
    ok = rcx_s3_abort_multipart_upload (upload->client, upload->bucket,
        upload->key, upload->upload_id, NULL, error);
  }
  g_byte_array_set_size (upload->buf, 0);
  return ok;
}

void
rcx_s3_upload_free (RcxS3Upload * upload)
{
  if (upload == NULL)
    return;
  if (!upload->done && !upload->aborted && upload->upload_id != NULL) {
    g_autoptr (GError) error = NULL;

    if (!rcx_s3_upload_abort (upload, &error))
      rcx_http_client_log (upload->client->http, G_LOG_LEVEL_WARNING,
          "aborting the upload of s3://%s/%s: %s", upload->bucket,
          upload->key, error->message);
  }
  if (upload->pool != NULL)
    g_thread_pool_free (upload->pool, FALSE, TRUE);
  g_object_unref (upload->parts_cancellable);
  g_byte_array_unref (upload->buf);
  g_ptr_array_unref (upload->etags);
  g_free (upload->upload_id);
  g_free (upload->bucket);
  g_free (upload->key);
  g_free (upload->content_type);
  g_free (upload->cache_control);
  g_mutex_clear (&upload->lock);
  g_cond_clear (&upload->cond);
  rcx_s3_client_unref (upload->client);
  g_free (upload);
}

guint64
rcx_s3_upload_get_bytes_written (RcxS3Upload * upload)
{
  return upload->bytes_written;
}
