/* rcx-digest.h: the digests of request bodies (SHA-256, MD5), on OpenSSL's
 * libcrypto.
 *
 * The one place librcx hashes data: x-amz-content-sha256 and the SigV4
 * canonical request (SHA-256), Content-MD5 and multipart ETags (MD5).
 * GLib's GChecksum SHA-256 is ~4x slower than libcrypto's (SHA-NI) and
 * was most of the CPU of an upload. HMAC stays on GHmac (rcx-sigv4.c):
 * a few short strings per request.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RCX_SHA256_LEN 32
#define RCX_MD5_LEN 16

typedef enum {
  RCX_DIGEST_SHA256 = 1 << 0,
  RCX_DIGEST_MD5 = 1 << 1,
} RcxDigestFlags;

typedef struct {
  guint8 sha256[RCX_SHA256_LEN];        /* set with RCX_DIGEST_SHA256 */
  guint8 md5[RCX_MD5_LEN];              /* set with RCX_DIGEST_MD5 */
} RcxDigests;

/* The digests in @which of @len bytes at @data (NULL when @len is 0), in
 * one pass: both are fed the same chunk while it is in the cache. Thread
 * safe. FALSE with a G_IO_ERROR_FAILED when libcrypto refuses (out of
 * memory, or MD5 on a FIPS-only configuration). */
gboolean rcx_digest_compute (const guint8 * data, gsize len,
    RcxDigestFlags which, RcxDigests * out, GError ** error);

/* Lower-case hex of @len bytes. */
gchar *rcx_digest_to_hex (const guint8 * digest, gsize len);

G_END_DECLS
