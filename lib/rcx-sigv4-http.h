/* rcx-sigv4-http.h: SigV4 signing of an rcx-http request, once per
 * attempt (fresh credentials, x-amz-date, Authorization), as the S3 and
 * SQS clients do it: an RcxSigv4Http is the prepare function's data.
 *
 *   RcxSigv4Http *sign = rcx_sigv4_http_new ("sqs", creds, region,
 *       host_header, payload_hash, cancellable);
 *   rcx_http_request_set_prepare_func (request, rcx_sigv4_http_sign, sign,
 *       rcx_sigv4_http_free);
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "rcx-credentials.h"
#include "rcx-http.h"

G_BEGIN_DECLS

typedef struct
{
  gchar *service;               /* "s3", "sqs" */
  gchar *region;
  RcxCredentialsProvider *credentials;
  gchar *host_header;           /* the Host header sent and signed */
  gchar *payload_hash;          /* hex SHA-256 of the body, or UNSIGNED-PAYLOAD */
  GCancellable *cancellable;    /* for fetching credentials; may be NULL */
  /* S3's rules: the path signed as sent (no normalising, no second
   * encoding) and x-amz-content-sha256 sent; FALSE: the other services' */
  gboolean s3;
  /* the error when no credentials can be had (a G_IO_ERROR_CANCELLED
   * from the provider is passed on as it is) */
  GQuark error_domain;
  gint error_code;
  const gchar *error_prefix;    /* static, e.g. "no S3 credentials" */
} RcxSigv4Http;

/* Takes references on @credentials and @cancellable and copies the
 * strings; the error fields and @s3 are the caller's to set. */
RcxSigv4Http *rcx_sigv4_http_new (const gchar * service,
    RcxCredentialsProvider * credentials, const gchar * region,
    const gchar * host_header, const gchar * payload_hash,
    GCancellable * cancellable);
void rcx_sigv4_http_free (gpointer sign);

/* An RcxHttpPrepareFunc (@user_data an RcxSigv4Http): gets credentials,
 * sets Host, x-amz-date, x-amz-security-token (or removes it), with @s3
 * x-amz-content-sha256, then Authorization over host, content-type,
 * content-md5, range, if-match, if-none-match, cache-control and every
 * x-amz-* header the message carries. */
gboolean rcx_sigv4_http_sign (RcxHttpRequest * request, SoupMessage * msg,
    GDateTime * now, guint attempt, gpointer user_data, GError ** error);

G_END_DECLS
