/* rcx-s3-request.c: one S3 request on rcx-http, the layer under every
 * operation of rcx-s3.h.
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
#include "rcx-s3-private.h"

#include <string.h>

#include "rcx-digest.h"
#include "rcx-sigv4.h"
#include "rcx-sigv4-http.h"

#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

/* ---- one S3 request --------------------------------------------------- */

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
  rcx_s3_set_error (error, code, response->status, s3_code,
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
RcxHttpResponse *
rcx_s3_send (RcxS3Client * client, S3Call * call,
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
  g_autofree gchar *host = NULL;
  RcxSigv4Http *sign;
  guint i, round;
  gint64 started = g_get_monotonic_time ();

  if (call->key != NULL && call->key[0] != '\0'
      && !rcx_s3_key_is_safe (call->key)) {
    rcx_s3_set_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "refusing unsafe object key '%s'", call->key);
    return NULL;
  }
  if (!rcx_s3_bucket_is_valid (call->bucket)) {
    rcx_s3_set_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
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
      rcx_s3_set_error (error, RCX_S3_ERROR_FAILED, 0, NULL, NULL,
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
    rcx_s3_set_error (error, RCX_S3_ERROR_SETTINGS, 0, NULL, NULL,
        "%s: cannot build a request URI", what);
    return NULL;
  }

  host = host_header (client, call->bucket);
  sign = rcx_sigv4_http_new ("s3", client->credentials, client->region, host,
      payload_hash, cancellable);
  sign->s3 = TRUE;
  sign->error_domain = RCX_S3_ERROR;
  sign->error_code = RCX_S3_ERROR_SETTINGS;
  sign->error_prefix = "no S3 credentials";

  if (call->body != NULL)
    rcx_http_request_set_body (request, call->content_type, call->body);
  for (i = 0; call->headers != NULL && call->headers[i] != NULL; i += 2) {
    if (call->headers[i + 1] != NULL)
      rcx_http_request_set_header (request, call->headers[i],
          call->headers[i + 1]);
  }
  if (content_md5 != NULL)
    rcx_http_request_set_header (request, "Content-MD5", content_md5);
  rcx_http_request_set_prepare_func (request, rcx_sigv4_http_sign, sign,
      rcx_sigv4_http_free);
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
      rcx_s3_set_error (error, RCX_S3_ERROR_CONNECT, 0, NULL, NULL, "%s: %s",
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

void
rcx_s3_fill_info (RcxHttpResponse * response, RcxS3ObjectInfo * info)
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
