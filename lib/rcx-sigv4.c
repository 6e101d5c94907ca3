/* rcx-sigv4.c: AWS Signature Version 4 on GLib (GHmac, GDateTime), SHA-256
 * from rcx-digest (libcrypto).
 *
 * See
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 * for the algorithm. Nothing here logs: the inputs include secrets.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-sigv4.h"

#include <string.h>

#include "rcx-digest.h"

#define RCX_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

static gboolean
is_unreserved (guchar c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static void
append_encoded_byte (GString * out, guchar c)
{
  static const gchar hex[] = "0123456789ABCDEF";

  g_string_append_c (out, '%');
  g_string_append_c (out, hex[c >> 4]);
  g_string_append_c (out, hex[c & 0xf]);
}

static void
append_uri_encoded (GString * out, const gchar * s, gsize len,
    gboolean keep_slash)
{
  gsize i;

  for (i = 0; i < len; i++) {
    guchar c = (guchar) s[i];

    if (is_unreserved (c) || (keep_slash && c == '/'))
      g_string_append_c (out, c);
    else
      append_encoded_byte (out, c);
  }
}

gchar *
rcx_uri_encode (const gchar * s, gboolean keep_slash)
{
  GString *out;

  g_return_val_if_fail (s != NULL, NULL);

  out = g_string_sized_new (strlen (s) + 16);
  append_uri_encoded (out, s, strlen (s), keep_slash);
  return g_string_free (out, FALSE);
}

gchar *
rcx_sha256_hex (const guint8 * data, gsize len)
{
  g_autoptr (GError) error = NULL;
  RcxDigests digests;

  /* SHA-256 is always there: a failure is an allocation failure, fatal
   * in GLib too. */
  if (!rcx_digest_compute (data, len, RCX_DIGEST_SHA256, &digests, &error))
    g_error ("%s", error->message);
  return rcx_digest_to_hex (digests.sha256, sizeof (digests.sha256));
}

gchar *
rcx_sigv4_amz_date (GDateTime * time)
{
  g_autoptr (GDateTime) utc = NULL;

  g_return_val_if_fail (time != NULL, NULL);

  utc = g_date_time_to_utc (time);
  return g_date_time_format (utc, "%Y%m%dT%H%M%SZ");
}

static gchar *
sigv4_short_date (GDateTime * time)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (time);

  return g_date_time_format (utc, "%Y%m%d");
}

/* "." and ".." segments resolved, empty segments ("//") dropped; a
 * trailing slash is kept. */
static gchar *
normalize_path (const gchar * path)
{
  g_auto (GStrv) segments = g_strsplit (path, "/", -1);
  g_autoptr (GPtrArray) stack = g_ptr_array_new ();
  GString *out = g_string_new (NULL);
  gboolean trailing_slash = FALSE;
  guint i;

  for (i = 0; segments[i] != NULL; i++) {
    const gchar *seg = segments[i];
    gboolean last = segments[i + 1] == NULL;

    if (seg[0] == '\0' || strcmp (seg, ".") == 0) {
      if (last && i > 0)
        trailing_slash = TRUE;
    } else if (strcmp (seg, "..") == 0) {
      if (stack->len > 0)
        g_ptr_array_remove_index (stack, stack->len - 1);
      if (last)
        trailing_slash = TRUE;
    } else {
      g_ptr_array_add (stack, (gpointer) seg);
    }
  }

  for (i = 0; i < stack->len; i++) {
    g_string_append_c (out, '/');
    g_string_append (out, g_ptr_array_index (stack, i));
  }
  if (out->len == 0 || trailing_slash)
    g_string_append_c (out, '/');
  return g_string_free (out, FALSE);
}

static gchar *
canonical_path (const RcxSigv4Request * req)
{
  const gchar *path = (req->path && req->path[0]) ? req->path : "/";
  g_autofree gchar *normalized = NULL;
  GString *out;
  gsize i;

  if (req->normalize_path) {
    normalized = normalize_path (path);
    path = normalized;
  }

  if (req->double_encode_path)
    return rcx_uri_encode (path, TRUE);

  /* Already encoded as sent: keep '%XX' escapes, only encode what a
   * careless caller left raw. */
  out = g_string_sized_new (strlen (path) + 16);
  for (i = 0; path[i] != '\0'; i++) {
    guchar c = (guchar) path[i];

    if (is_unreserved (c) || c == '/' || c == '%')
      g_string_append_c (out, c);
    else
      append_encoded_byte (out, c);
  }
  return g_string_free (out, FALSE);
}

/* Percent-decodes @len bytes of @s ('+' is left as it is), then encodes
 * the result with the unreserved set. */
static gchar *
reencode_query_component (const gchar * s, gsize len)
{
  GString *decoded = g_string_sized_new (len);
  GString *out;
  gsize i;

  for (i = 0; i < len; i++) {
    if (s[i] == '%' && i + 2 < len && g_ascii_isxdigit (s[i + 1])
        && g_ascii_isxdigit (s[i + 2])) {
      g_string_append_c (decoded, (gchar) ((g_ascii_xdigit_value (s[i + 1])
                  << 4) | g_ascii_xdigit_value (s[i + 2])));
      i += 2;
    } else {
      g_string_append_c (decoded, s[i]);
    }
  }

  out = g_string_sized_new (decoded->len + 16);
  append_uri_encoded (out, decoded->str, decoded->len, FALSE);
  g_string_free (decoded, TRUE);
  return g_string_free (out, FALSE);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

typedef struct
{
  gchar *key;
  gchar *value;
} QueryParam;

static void
query_param_free (gpointer data)
{
  QueryParam *p = data;

  g_free (p->key);
  g_free (p->value);
  g_free (p);
}

static gint
query_param_compare (gconstpointer a, gconstpointer b)
{
  const QueryParam *pa = *(QueryParam * const *) a;
  const QueryParam *pb = *(QueryParam * const *) b;
  gint r = strcmp (pa->key, pb->key);

  return r != 0 ? r : strcmp (pa->value, pb->value);
}

static gchar *
canonical_query (const gchar * query)
{
  g_autoptr (GPtrArray) params = g_ptr_array_new_with_free_func
      (query_param_free);
  GString *out = g_string_new (NULL);
  const gchar *p = query;
  guint i;

  while (p != NULL && *p != '\0') {
    const gchar *end = strchr (p, '&');
    const gchar *eq;
    gsize len = end ? (gsize) (end - p) : strlen (p);
    QueryParam *param;

    if (len > 0) {
      eq = memchr (p, '=', len);
      param = g_new0 (QueryParam, 1);
      if (eq != NULL) {
        param->key = reencode_query_component (p, eq - p);
        param->value = reencode_query_component (eq + 1, len - (eq - p) - 1);
      } else {
        param->key = reencode_query_component (p, len);
        param->value = g_strdup ("");
      }
      g_ptr_array_add (params, param);
    }
    p = end ? end + 1 : NULL;
  }

  g_ptr_array_sort (params, query_param_compare);
  for (i = 0; i < params->len; i++) {
    QueryParam *param = g_ptr_array_index (params, i);

    if (i > 0)
      g_string_append_c (out, '&');
    g_string_append_printf (out, "%s=%s", param->key, param->value);
  }
  return g_string_free (out, FALSE);
}

typedef struct
{
  gchar *name;                  /* lower case */
  const gchar *value;
  guint index;                  /* keeps duplicates in their order */
} HeaderEntry;

static gint
header_entry_compare (gconstpointer a, gconstpointer b)
{
  const HeaderEntry *ha = a;
  const HeaderEntry *hb = b;
  gint r = strcmp (ha->name, hb->name);

  if (r != 0)
    return r;
  return ha->index < hb->index ? -1 : (ha->index > hb->index ? 1 : 0);
}

/* Trims and collapses inner runs of whitespace (multi-line values become
 * one line). */
static void
append_header_value (GString * out, const gchar * value)
{
  gboolean pending_space = FALSE;
  gboolean started = FALSE;
  const gchar *p;

  for (p = value; *p != '\0'; p++) {
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
      pending_space = started;
      continue;
    }
    if (pending_space)
      g_string_append_c (out, ' ');
    pending_space = FALSE;
    started = TRUE;
    g_string_append_c (out, *p);
  }
}

gchar *
rcx_sigv4_canonical_request (const RcxSigv4Request * req,
    gchar ** signed_headers_out)
{
  g_autofree HeaderEntry *entries = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *query = NULL;
  GString *out;
  GString *signed_headers;
  gsize i;

  g_return_val_if_fail (req != NULL, NULL);
  g_return_val_if_fail (req->method != NULL, NULL);
  g_return_val_if_fail (req->payload_hash != NULL, NULL);
  g_return_val_if_fail (req->n_headers == 0 || req->headers != NULL, NULL);

  entries = g_new0 (HeaderEntry, req->n_headers + 1);
  for (i = 0; i < req->n_headers; i++) {
    entries[i].name = g_ascii_strdown (req->headers[i].name, -1);
    entries[i].value = req->headers[i].value ? req->headers[i].value : "";
    entries[i].index = i;
  }
  qsort (entries, req->n_headers, sizeof (HeaderEntry), header_entry_compare);

  path = canonical_path (req);
  query = canonical_query (req->query);

  out = g_string_sized_new (512);
  signed_headers = g_string_new (NULL);
  g_string_append_printf (out, "%s\n%s\n%s\n", req->method, path, query);

  for (i = 0; i < req->n_headers; i++) {
    gboolean same_as_previous = i > 0
        && strcmp (entries[i].name, entries[i - 1].name) == 0;

    if (same_as_previous) {
      g_string_append_c (out, ',');
    } else {
      if (i > 0) {
        g_string_append_c (out, '\n');
        g_string_append_c (signed_headers, ';');
      }
      g_string_append_printf (out, "%s:", entries[i].name);
      g_string_append (signed_headers, entries[i].name);
    }
    append_header_value (out, entries[i].value);
  }
  if (req->n_headers > 0)
    g_string_append_c (out, '\n');
  g_string_append_printf (out, "\n%s\n%s", signed_headers->str,
      req->payload_hash);

  for (i = 0; i < req->n_headers; i++)
    g_free (entries[i].name);

  if (signed_headers_out)
    *signed_headers_out = g_string_free (signed_headers, FALSE);
  else
    g_string_free (signed_headers, TRUE);
  return g_string_free (out, FALSE);
}

static gchar *
credential_scope (const RcxSigv4Signer * signer, GDateTime * time)
{
  g_autofree gchar *date = sigv4_short_date (time);

  return g_strdup_printf ("%s/%s/%s/aws4_request", date, signer->region,
      signer->service);
}

gchar *
rcx_sigv4_string_to_sign (const RcxSigv4Signer * signer, GDateTime * time,
    const gchar * canonical_request)
{
  g_autofree gchar *amz_date = NULL;
  g_autofree gchar *scope = NULL;
  g_autofree gchar *hash = NULL;

  g_return_val_if_fail (signer != NULL && time != NULL, NULL);
  g_return_val_if_fail (canonical_request != NULL, NULL);

  amz_date = rcx_sigv4_amz_date (time);
  scope = credential_scope (signer, time);
  hash = rcx_sha256_hex ((const guint8 *) canonical_request,
      strlen (canonical_request));
  return g_strdup_printf (RCX_SIGV4_ALGORITHM "\n%s\n%s\n%s", amz_date, scope,
      hash);
}

/* HMAC-SHA256(@key, @data) into @digest (32 bytes). */
static void
hmac_sha256 (const guint8 * key, gsize key_len, const gchar * data,
    guint8 * digest)
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  gsize len = 32;

  g_hmac_update (hmac, (const guchar *) data, strlen (data));
  g_hmac_get_digest (hmac, digest, &len);
}

gchar *
rcx_sigv4_signature (const RcxSigv4Signer * signer, GDateTime * time,
    const gchar * string_to_sign)
{
  g_autofree gchar *date = NULL;
  g_autofree gchar *secret = NULL;
  guint8 key[32];
  guint8 next[32];
  GString *out;
  guint i;

  g_return_val_if_fail (signer != NULL && time != NULL, NULL);
  g_return_val_if_fail (signer->secret_key != NULL, NULL);
  g_return_val_if_fail (string_to_sign != NULL, NULL);

  date = sigv4_short_date (time);
  secret = g_strconcat ("AWS4", signer->secret_key, NULL);

  hmac_sha256 ((const guint8 *) secret, strlen (secret), date, key);
  hmac_sha256 (key, sizeof (key), signer->region, next);
  hmac_sha256 (next, sizeof (next), signer->service, key);
  hmac_sha256 (key, sizeof (key), "aws4_request", next);
  hmac_sha256 (next, sizeof (next), string_to_sign, key);

  out = g_string_sized_new (64);
  for (i = 0; i < sizeof (key); i++)
    g_string_append_printf (out, "%02x", key[i]);

  /* The derived keys are secrets too. */
  memset (key, 0, sizeof (key));
  memset (next, 0, sizeof (next));
  memset (secret, 0, strlen (secret));
  return g_string_free (out, FALSE);
}

gchar *
rcx_sigv4_authorization (const RcxSigv4Signer * signer, GDateTime * time,
    const RcxSigv4Request * req)
{
  g_autofree gchar *signed_headers = NULL;
  g_autofree gchar *canonical = NULL;
  g_autofree gchar *sts = NULL;
  g_autofree gchar *signature = NULL;
  g_autofree gchar *scope = NULL;

  g_return_val_if_fail (signer != NULL && signer->access_key != NULL, NULL);
  g_return_val_if_fail (req != NULL && time != NULL, NULL);

  canonical = rcx_sigv4_canonical_request (req, &signed_headers);
  sts = rcx_sigv4_string_to_sign (signer, time, canonical);
  signature = rcx_sigv4_signature (signer, time, sts);
  scope = credential_scope (signer, time);

  return g_strdup_printf (RCX_SIGV4_ALGORITHM " Credential=%s/%s, "
      "SignedHeaders=%s, Signature=%s", signer->access_key, scope,
      signed_headers, signature);
}

/* "host;x-amz-date": the lower-case names, sorted, without duplicates. */
static gchar *
signed_header_names (const RcxSigv4Request * req)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GString *out = g_string_new (NULL);
  gsize i;

  for (i = 0; i < req->n_headers; i++)
    g_ptr_array_add (names, g_ascii_strdown (req->headers[i].name, -1));
  g_ptr_array_sort (names, compare_strings);
  for (i = 0; i < names->len; i++) {
    const gchar *name = g_ptr_array_index (names, i);

    if (i > 0 && strcmp (name, g_ptr_array_index (names, i - 1)) == 0)
      continue;
    if (out->len > 0)
      g_string_append_c (out, ';');
    g_string_append (out, name);
  }
  return g_string_free (out, FALSE);
}

gchar *
rcx_sigv4_presign_query (const RcxSigv4Signer * signer, GDateTime * time,
    const RcxSigv4Request * req, guint expires_seconds)
{
  RcxSigv4Request presign;
  GString *query;
  g_autofree gchar *scope = NULL;
  g_autofree gchar *credential = NULL;
  g_autofree gchar *amz_date = NULL;
  g_autofree gchar *signed_headers = NULL;
  g_autofree gchar *canonical = NULL;
  g_autofree gchar *sts = NULL;
  g_autofree gchar *signature = NULL;

  g_return_val_if_fail (signer != NULL && signer->access_key != NULL, NULL);
  g_return_val_if_fail (req != NULL && time != NULL, NULL);

  signed_headers = signed_header_names (req);
  scope = credential_scope (signer, time);
  credential = g_strdup_printf ("%s/%s", signer->access_key, scope);
  amz_date = rcx_sigv4_amz_date (time);

  /* The request's own query as sent, then the authentication parameters
   * in the order botocore writes them. */
  query = g_string_new (req->query ? req->query : "");
  if (query->len > 0)
    g_string_append_c (query, '&');
  g_string_append (query, "X-Amz-Algorithm=" RCX_SIGV4_ALGORITHM
      "&X-Amz-Credential=");
  append_uri_encoded (query, credential, strlen (credential), FALSE);
  g_string_append_printf (query, "&X-Amz-Date=%s&X-Amz-Expires=%u"
      "&X-Amz-SignedHeaders=", amz_date, expires_seconds);
  append_uri_encoded (query, signed_headers, strlen (signed_headers), FALSE);
  if (signer->session_token != NULL) {
    g_string_append (query, "&X-Amz-Security-Token=");
    append_uri_encoded (query, signer->session_token,
        strlen (signer->session_token), FALSE);
  }

  presign = *req;
  presign.query = query->str;
  canonical = rcx_sigv4_canonical_request (&presign, NULL);
  sts = rcx_sigv4_string_to_sign (signer, time, canonical);
  signature = rcx_sigv4_signature (signer, time, sts);

  g_string_append_printf (query, "&X-Amz-Signature=%s", signature);
  return g_string_free (query, FALSE);
}
