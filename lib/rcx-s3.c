/* rcx-s3.c: S3 (Wasabi, s3rver, AWS) client on rcx-http: RCX_S3_ERROR and
 * its details, configuration, s3:// URIs and keys, the client object and
 * the simple operations (HEAD, GET, PUT, DELETE).
 *
 * The rest of the public rcx-s3.h lives beside it, one file per seam:
 * rcx-s3-request.c (one signed request with retries and error mapping),
 * rcx-s3-multipart.c (multipart calls and their XML), rcx-s3-reader.c (the
 * streaming reader) and rcx-s3-upload.c (the parallel upload); what they
 * share is in rcx-s3-private.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-s3.h"
#include "rcx-s3-private.h"

#include <string.h>

#define MAX_KEY_LENGTH 1024

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
void
rcx_s3_set_error (GError ** error, RcxS3ErrorCode code, guint http_status,
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

gboolean
rcx_s3_bucket_is_valid (const gchar * bucket)
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
    rcx_s3_set_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "'%s' is not an s3://bucket/key URI", STR_NULL (location));
    return FALSE;
  }
  rest = location + 5;
  slash = strchr (rest, '/');
  b = slash ? g_strndup (rest, slash - rest) : g_strdup (rest);
  if (!rcx_s3_bucket_is_valid (b)) {
    rcx_s3_set_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "'%s' has no valid bucket name", location);
    return FALSE;
  }
  rest = slash ? slash + 1 : "";
  if (decode && strpbrk (rest, "?#") != NULL) {
    /* a query or fragment is not part of the key: refused rather than
     * silently dropped (a key with '?' or '#' is written %3F, %23) */
    rcx_s3_set_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "'%s' has a query or fragment; percent-encode '?' and '#' in keys",
        location);
    return FALSE;
  }
  /* NULL for a '%' not followed by two hex digits, and for "%00" */
  k = decode ? g_uri_unescape_string (rest, NULL) : g_strdup (rest);
  if (k == NULL) {
    rcx_s3_set_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "'%s' is not a valid URI: a '%%' must start an escape such as %%20",
        location);
    return FALSE;
  }
  if (k[0] == '\0' ? !allow_empty_key : !rcx_s3_key_is_safe (k)) {
    rcx_s3_set_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
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
    rcx_s3_set_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
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

  response = rcx_s3_send (client, &call, cancellable, &local_error);
  if (response == NULL && rcx_s3_error_get_http_status (local_error) == 403
      && rcx_s3_error_get_s3_code (local_error) == NULL) {
    /* see the header: a ranged GET says what the bodyless 403 was */
    rcx_http_client_log (client->http, G_LOG_LEVEL_INFO,
        "S3 HEAD s3://%s/%s: 403 without a body, asking with a ranged GET "
        "for the error code", bucket, key);
    g_clear_error (&local_error);
    get.headers = range;
    response = rcx_s3_send (client, &get, cancellable, &local_error);
    if (response == NULL && g_error_matches (local_error, RCX_S3_ERROR,
            RCX_S3_ERROR_RANGE)) {
      /* 416: an empty object, readable: HEAD it again for its info */
      g_clear_error (&local_error);
      response = rcx_s3_send (client, &call, cancellable, &local_error);
    }
  }
  if (response == NULL) {
    g_propagate_error (error, g_steal_pointer (&local_error));
    return FALSE;
  }
  rcx_s3_fill_info (response, info);
  return TRUE;
}

/* The body a 2xx answer to a GET of [offset, offset + length) (length 0:
 * to the end) must carry, from its status, Content-Range and
 * Content-Length: how many bytes to skip first (a 200 that ignored the
 * Range) and how many are the range. A server whose answer disagrees with
 * the request (another range, a length that is not the range's, no length
 * at all) gets an RCX_S3_ERROR_MISMATCH: its bytes are not the ones asked
 * for, whatever they are. */
static gboolean
check_get_answer (RcxHttpResponse * response, const gchar * what,
    guint64 offset, guint64 length, guint64 * skip, guint64 * body,
    GError ** error)
{
  SoupMessageHeaders *h = response->headers;
  gboolean has_length = soup_message_headers_get_encoding (h) ==
      SOUP_ENCODING_CONTENT_LENGTH;
  guint64 content_length = has_length ? (guint64)
      soup_message_headers_get_content_length (h) : 0;
  goffset start = 0, end = 0, total = -1;
  guint64 last;

  if (response->status == 206) {
    if (!soup_message_headers_get_content_range (h, &start, &end, &total)
        || start < 0 || end < start || total <= end) {
      rcx_s3_set_error (error, RCX_S3_ERROR_MISMATCH, 206, NULL,
          response->request_id, "%s: 206 without a usable Content-Range "
          "(\"%s\")", what, STR_NULL (soup_message_headers_get_one (h,
                  "Content-Range")));
      return FALSE;
    }
    last = length > 0 ? MIN (offset + length - 1, (guint64) total - 1) :
        (guint64) total - 1;
    if ((guint64) start != offset || (guint64) end != last
        || (has_length && content_length != (guint64) (end - start + 1))) {
      rcx_s3_set_error (error, RCX_S3_ERROR_MISMATCH, 206, NULL,
          response->request_id, "%s: asked for bytes %" G_GUINT64_FORMAT
          "-%" G_GUINT64_FORMAT ", the answer is bytes %" G_GOFFSET_FORMAT
          "-%" G_GOFFSET_FORMAT "/%" G_GOFFSET_FORMAT " with %s%"
          G_GUINT64_FORMAT " bytes of body", what, offset, last, start, end,
          total, has_length ? "" : "(chunked) ", content_length);
      return FALSE;
    }
    *skip = 0;
    *body = (guint64) (end - start + 1);
    return TRUE;
  }
  /* a 200 (or another 2xx): the whole object, the Range ignored */
  if (!has_length) {
    rcx_s3_set_error (error, RCX_S3_ERROR_MISMATCH, response->status, NULL,
        response->request_id, "%s: %u without a Content-Length: the "
        "object's size is unknown", what, response->status);
    return FALSE;
  }
  if (offset > content_length) {
    rcx_s3_set_error (error, RCX_S3_ERROR_RANGE, response->status, NULL,
        response->request_id, "%s: offset %" G_GUINT64_FORMAT " beyond the "
        "end", what, offset);
    return FALSE;
  }
  *skip = offset;
  *body = content_length - offset;
  if (length > 0)
    *body = MIN (*body, length);
  return TRUE;
}

GInputStream *
rcx_s3_get_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, guint64 offset, guint64 length, const gchar * if_match,
    RcxS3ObjectInfo * info, GCancellable * cancellable, GError ** error)
{
  S3Call call = { "GET", bucket, key, };
  g_autofree gchar *range = NULL;
  g_autofree gchar *what = NULL;
  const gchar *headers[5] = { NULL, };
  guint n = 0;
  g_autoptr (RcxHttpResponse) response = NULL;
  g_autoptr (GInputStream) body = NULL;
  RcxS3ObjectInfo local_info = { 0, };
  guint64 skip = 0, body_length = 0;

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

  response = rcx_s3_send (client, &call, cancellable, error);
  if (response == NULL)
    return NULL;
  what = g_strdup_printf ("S3 GET s3://%s/%s", bucket, key);
  if (!check_get_answer (response, what, offset, length, &skip, &body_length,
          error))
    return NULL;
  rcx_s3_fill_info (response, info ? info : &local_info);
  rcx_s3_object_info_clear (&local_info);
  /* the range and no byte more, whatever the server sends after it */
  body = rcx_http_limit_stream_new (response->stream, skip + body_length);
  /* the server ignored the Range: skip to the offset */
  while (skip > 0) {
    g_autoptr (GError) local = NULL;
    gssize skipped = g_input_stream_skip (body, MIN (skip, G_MAXSSIZE),
        cancellable, &local);

    if (skipped <= 0) {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local));
      else
        rcx_s3_set_error (error, RCX_S3_ERROR_MISMATCH, response->status,
            NULL, response->request_id, "%s: skipping to offset %"
            G_GUINT64_FORMAT " (the server ignored the Range): %s", what,
            offset, local ? local->message : "the body ended");
      return NULL;
    }
    skip -= skipped;
  }
  return g_steal_pointer (&body);
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

  response = rcx_s3_send (client, &call, cancellable, error);
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

  response = rcx_s3_send (client, &call, cancellable, error);
  return response != NULL;
}
