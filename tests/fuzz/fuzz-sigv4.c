/* fuzz-sigv4.c: SigV4 canonicalisation of what outside names reach: object
 * keys (paths), queries and header values. The input is split at newlines
 * into method, path, query, a header value and a key; the first byte's bits
 * choose the path options.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "rcx-sigv4.h"

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  g_auto (GStrv) f = NULL;
  g_autofree gchar *canonical = NULL;
  g_autofree gchar *signed_headers = NULL;
  g_autofree gchar *encoded = NULL;
  g_autofree gchar *encoded_slash = NULL;
  g_autofree gchar *auth = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_utc (2026, 12, 4, 12, 0, 0);
  RcxHeader headers[3];
  RcxSigv4Request req = { 0, };
  RcxSigv4Signer signer = { "AKIDEXAMPLE", "secret", NULL, "us-east-1",
    "s3"
  };

  if (size < 1)
    return 0;
  f = fuzz_fields (data + 1, size - 1, 5);
  headers[0] = (RcxHeader) {
  "host", "s3.example.com"};
  headers[1] = (RcxHeader) {
  "x-amz-meta-name", f[3]};
  headers[2] = (RcxHeader) {
  "X-Amz-Date", "20261204T120000Z"};
  req.method = f[0][0] ? f[0] : "GET";
  req.path = f[1][0] ? f[1] : "/";
  req.query = f[2];
  req.headers = headers;
  req.n_headers = 3;
  req.payload_hash = "UNSIGNED-PAYLOAD";
  req.normalize_path = data[0] & 1;
  req.double_encode_path = (data[0] >> 1) & 1;

  canonical = rcx_sigv4_canonical_request (&req, &signed_headers);
  g_assert (canonical != NULL && signed_headers != NULL);
  auth = rcx_sigv4_authorization (&signer, now, &req);
  g_assert (auth != NULL);

  encoded = rcx_uri_encode (f[4], FALSE);
  encoded_slash = rcx_uri_encode (f[4], TRUE);
  /* unreserved characters only (and '/' when kept) */
  g_assert (strspn (encoded, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
          "vwxyz0123456789-_.~%") == strlen (encoded));
  g_assert (strspn (encoded_slash, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"
          "pqrstuvwxyz0123456789-_.~%/") == strlen (encoded_slash));
  return 0;
}
