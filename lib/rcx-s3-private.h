/* rcx-s3-private.h: what the rcx-s3*.c files share and no caller sees:
 * the client's fields, one S3 call, and the request layer's entry points.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef RCX_S3_PRIVATE_H
#define RCX_S3_PRIVATE_H

#include "rcx-s3.h"
#include "rcx-credentials.h"
#include "rcx-http.h"
#include "rcx-retry.h"

G_BEGIN_DECLS

#define STR_NULL(s) ((s) ? (s) : "(none)")

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

G_GNUC_INTERNAL
void rcx_s3_set_error (GError ** error, RcxS3ErrorCode code, guint http_status,
    const gchar * s3_code, const gchar * request_id, const gchar * format, ...)
    G_GNUC_PRINTF (6, 7);

G_GNUC_INTERNAL
gboolean rcx_s3_bucket_is_valid (const gchar * bucket);

G_GNUC_INTERNAL
RcxHttpResponse *rcx_s3_send (RcxS3Client * client, S3Call * call,
    GCancellable * cancellable, GError ** error);

G_GNUC_INTERNAL
void rcx_s3_fill_info (RcxHttpResponse * response, RcxS3ObjectInfo * info);

G_END_DECLS

#endif /* RCX_S3_PRIVATE_H */
