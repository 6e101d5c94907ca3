/* fuzz-s3-error.c: an error answer (S3 XML <Error>, Query API
 * <ErrorResponse>, AWS JSON __type/message) through
 * rcx_http_response_parse_error, and an S3 2xx XML reply through rcx-xml
 * (as CreateMultipartUpload's UploadId is read). The first input byte picks
 * the status; the fields found must come out sanitised.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "rcx-http.h"
#include "rcx-xml.h"

static void
assert_clean (const gchar * s)
{
  const guchar *p;

  if (s == NULL)
    return;
  g_assert (g_utf8_validate (s, -1, NULL));
  g_assert (strlen (s) <= 512);
  for (p = (const guchar *) s; *p; p++)
    g_assert (*p >= 0x20 && *p != 0x7f);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  static const guint statuses[] = { 400, 403, 404, 409, 500, 503, 200, 301 };
  g_autoptr (SoupMessageHeaders) headers = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (RcxHttpResponse) response = NULL;
  xmlDoc *doc;

  if (size < 1)
    return 0;
  headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  if (data[0] & 0x80)
    soup_message_headers_append (headers, "x-amzn-query-error",
        "AWS.SimpleQueueService.NonExistentQueue;Sender");
  body = g_bytes_new (data + 1, size - 1);
  response = rcx_http_response_new (statuses[data[0] & 7], headers, body);
  rcx_http_response_parse_error (response);
  assert_clean (response->error_code);
  assert_clean (response->error_message);
  assert_clean (response->request_id);

  doc = rcx_xml_read ((const gchar *) data + 1, size - 1);
  if (doc != NULL) {
    xmlNode *root = xmlDocGetRootElement (doc);

    if (root != NULL) {
      g_autofree gchar *upload_id = rcx_xml_child_text (root, "UploadId", 0);

      assert_clean (upload_id);
    }
    xmlFreeDoc (doc);
  }
  return 0;
}
