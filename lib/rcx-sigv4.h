/* rcx-sigv4.h: AWS Signature Version 4, on GLib (GHmac) and rcx-digest.
 *
 * The request is described as it goes on the wire: the path and query are
 * already percent-encoded exactly as they will be sent. For S3 pass
 * normalize_path = FALSE and double_encode_path = FALSE (S3 signs the path
 * as sent); other services (and the generic AWS test suite) use TRUE/TRUE.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const gchar *name;
  const gchar *value;
} RcxHeader;

typedef struct {
  const gchar *method;          /* "GET", "PUT", ... */
  const gchar *path;            /* percent-encoded path as sent, "/" if empty */
  const gchar *query;           /* percent-encoded query as sent, without '?'; NULL or "" if none */
  const RcxHeader *headers;     /* headers to sign, as sent; must include "host" */
  gsize n_headers;
  const gchar *payload_hash;    /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
  gboolean normalize_path;      /* remove "." / ".." / "//" (FALSE for S3) */
  gboolean double_encode_path;  /* encode the path's '%' again (FALSE for S3) */
} RcxSigv4Request;

typedef struct {
  const gchar *access_key;
  const gchar *secret_key;
  const gchar *session_token;   /* NULL if none */
  const gchar *region;
  const gchar *service;         /* "s3", "sqs", ... */
} RcxSigv4Signer;

/* "20150830T123600Z" for @time (UTC). */
gchar *rcx_sigv4_amz_date (GDateTime * time);

/* Intermediate steps, exposed for the test suite. */
gchar *rcx_sigv4_canonical_request (const RcxSigv4Request * req,
    gchar ** signed_headers_out);
gchar *rcx_sigv4_string_to_sign (const RcxSigv4Signer * signer,
    GDateTime * time, const gchar * canonical_request);
gchar *rcx_sigv4_signature (const RcxSigv4Signer * signer, GDateTime * time,
    const gchar * string_to_sign);

/* The full "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
 * value. The caller must already have put x-amz-date (and, for S3,
 * x-amz-content-sha256, and x-amz-security-token when there is a session
 * token) among req->headers. */
gchar *rcx_sigv4_authorization (const RcxSigv4Signer * signer,
    GDateTime * time, const RcxSigv4Request * req);

/* Presigned URL: returns the query string to send (the request's own query
 * plus X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders,
 * [-Security-Token,] -Signature), percent-encoded. */
gchar *rcx_sigv4_presign_query (const RcxSigv4Signer * signer,
    GDateTime * time, const RcxSigv4Request * req, guint expires_seconds);

/* RFC 3986 unreserved-set encoding as SigV4 wants it; '/' kept when
 * @keep_slash (object keys). */
gchar *rcx_uri_encode (const gchar * s, gboolean keep_slash);

/* Hex SHA-256 of @data (rcx-digest; for a body's SHA-256 and MD5 at once,
 * rcx_digest_compute). */
gchar *rcx_sha256_hex (const guint8 * data, gsize len);

G_END_DECLS
