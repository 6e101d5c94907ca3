/* rcx-sigv4-http.c: SigV4 signing of an rcx-http request per attempt,
 * shared by the S3 (rcx-s3-request.c) and SQS (rcx-sqs-call.c) clients.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-sigv4-http.h"

#include "rcx-sigv4.h"

RcxSigv4Http *
rcx_sigv4_http_new (const gchar * service,
    RcxCredentialsProvider * credentials, const gchar * region,
    const gchar * host_header, const gchar * payload_hash,
    GCancellable * cancellable)
{
  RcxSigv4Http *sign = g_new0 (RcxSigv4Http, 1);

  sign->service = g_strdup (service);
  sign->region = g_strdup (region);
  sign->credentials = rcx_credentials_provider_ref (credentials);
  sign->host_header = g_strdup (host_header);
  sign->payload_hash = g_strdup (payload_hash);
  sign->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  sign->error_domain = G_IO_ERROR;
  sign->error_code = G_IO_ERROR_PERMISSION_DENIED;
  sign->error_prefix = "no AWS credentials";
  return sign;
}

void
rcx_sigv4_http_free (gpointer data)
{
  RcxSigv4Http *sign = data;

  g_free (sign->service);
  g_free (sign->region);
  rcx_credentials_provider_unref (sign->credentials);
  g_free (sign->host_header);
  g_free (sign->payload_hash);
  g_clear_object (&sign->cancellable);
  g_free (sign);
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

static void
collect_header (const char *name, const char *value, gpointer user_data)
{
  GArray *headers = user_data;  /* RcxHeader */
  RcxHeader h;

  if (!header_is_signed (name))
    return;
  h.name = name;
  h.value = value;
  g_array_append_val (headers, h);
}

gboolean
rcx_sigv4_http_sign (RcxHttpRequest * request, SoupMessage * msg,
    GDateTime * now, guint attempt, gpointer user_data, GError ** error)
{
  RcxSigv4Http *sign = user_data;
  SoupMessageHeaders *hdrs = soup_message_get_request_headers (msg);
  g_auto (RcxCredentials) creds = { 0, };
  g_autoptr (GError) creds_error = NULL;
  g_autofree gchar *amz_date = rcx_sigv4_amz_date (now);
  g_autofree gchar *authorization = NULL;
  g_autoptr (GArray) headers = g_array_new (FALSE, FALSE, sizeof (RcxHeader));
  RcxSigv4Request req = { 0, };
  RcxSigv4Signer signer = { 0, };
  GUri *uri = soup_message_get_uri (msg);
  RcxHeader host = { "host", sign->host_header };

  if (!rcx_credentials_provider_get (sign->credentials, &creds,
          sign->cancellable, &creds_error)) {
    if (g_error_matches (creds_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_propagate_error (error, g_steal_pointer (&creds_error));
    else
      g_set_error (error, sign->error_domain, sign->error_code, "%s: %s",
          sign->error_prefix, creds_error->message);
    return FALSE;
  }

  soup_message_headers_replace (hdrs, "Host", sign->host_header);
  soup_message_headers_replace (hdrs, "x-amz-date", amz_date);
  if (sign->s3)
    soup_message_headers_replace (hdrs, "x-amz-content-sha256",
        sign->payload_hash);
  if (creds.session_token != NULL)
    soup_message_headers_replace (hdrs, "x-amz-security-token",
        creds.session_token);
  else
    soup_message_headers_remove (hdrs, "x-amz-security-token");

  g_array_append_val (headers, host);
  soup_message_headers_foreach (hdrs, collect_header, headers);

  req.method = soup_message_get_method (msg);
  req.path = g_uri_get_path (uri)[0] ? g_uri_get_path (uri) : "/";
  req.query = g_uri_get_query (uri);
  req.headers = (const RcxHeader *) headers->data;
  req.n_headers = headers->len;
  req.payload_hash = sign->payload_hash;
  req.normalize_path = !sign->s3;
  req.double_encode_path = !sign->s3;

  signer.access_key = creds.access_key;
  signer.secret_key = creds.secret_key;
  signer.session_token = creds.session_token;
  signer.region = sign->region;
  signer.service = sign->service;

  authorization = rcx_sigv4_authorization (&signer, now, &req);
  soup_message_headers_replace (hdrs, "Authorization", authorization);
  return TRUE;
}
