/* rcx-sqs-private.h: what the rcx-sqs*.c files share and no caller sees:
 * the client's fields and the error constructor.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef RCX_SQS_PRIVATE_H
#define RCX_SQS_PRIVATE_H

#include "rcx-sqs.h"
#include "rcx-credentials.h"
#include "rcx-http.h"

G_BEGIN_DECLS

#define STR_NULL(s) ((s) ? (s) : "(none)")

struct _RcxSqsClient
{
  gatomicrefcount ref;
  gchar *endpoint;              /* scheme://host[:port][/path], no trailing '/' */
  gchar *post_uri;              /* endpoint + "/" */
  gchar *host_header;           /* host[:port] as signed */
  gchar *region;
  gchar *queue_url;
  RcxCredentialsProvider *credentials;
  RcxHttpClient *http;          /* timeout: request_timeout */
  RcxHttpClient *poll_http;     /* timeout: request_timeout + 20 s */
};

G_GNUC_INTERNAL
void rcx_sqs_set_error (GError ** error, RcxSqsErrorCode code,
    guint http_status, const gchar * sqs_code, const gchar * query_code,
    const gchar * request_id, const gchar * format, ...) G_GNUC_PRINTF (7, 8);

G_END_DECLS

#endif /* RCX_SQS_PRIVATE_H */
