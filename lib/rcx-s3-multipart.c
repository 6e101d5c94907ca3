/* rcx-s3-multipart.c: the multipart upload calls of rcx-s3.h
 * (CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload) and the XML they send and read.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-s3-private.h"

#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "rcx-digest.h"
#include "rcx-sigv4.h"
#include "rcx-xml.h"

/* Text of the first <@name> element anywhere under the root. */
static gchar *
xml_find_text (GBytes * body, const gchar * name)
{
  gsize len = 0;
  const gchar *data = body ? g_bytes_get_data (body, &len) : NULL;
  xmlDoc *doc;
  xmlNode *node;
  gchar *ret = NULL;

  doc = rcx_xml_read (data, len);
  if (doc == NULL)
    return NULL;
  node = xmlDocGetRootElement (doc);
  node = node ? node->children : NULL;
  for (; node != NULL; node = node->next) {
    if (node->type == XML_ELEMENT_NODE
        && g_strcmp0 ((const gchar *) node->name, name) == 0) {
      xmlChar *content = xmlNodeGetContent (node);

      ret = g_strdup ((const gchar *) content);
      xmlFree (content);
      break;
    }
  }
  xmlFreeDoc (doc);
  return ret;
}

gchar *
rcx_s3_create_multipart_upload (RcxS3Client * client,
    const gchar * bucket, const gchar * key, const RcxS3PutOptions * options,
    GCancellable * cancellable, GError ** error)
{
  S3Call call = { "POST", bucket, key, "uploads=", };
  g_autoptr (RcxHttpResponse) response = NULL;
  const gchar *headers[5] = { NULL, };
  guint n = 0;
  gchar *upload_id;

  headers[n++] = "Content-Type";
  headers[n++] = options && options->content_type ?
      options->content_type : "application/octet-stream";
  if (options && options->cache_control) {
    headers[n++] = "Cache-Control";
    headers[n++] = options->cache_control;
  }
  call.headers = headers;

  response = rcx_s3_send (client, &call, cancellable, error);
  if (response == NULL)
    return NULL;
  upload_id = xml_find_text (response->body, "UploadId");
  if (upload_id == NULL || upload_id[0] == '\0') {
    g_free (upload_id);
    rcx_s3_set_error (error, RCX_S3_ERROR_FAILED, response->status, NULL,
        response->request_id, "S3 CreateMultipartUpload s3://%s/%s: no "
        "UploadId in the answer", bucket, key);
    return NULL;
  }
  return upload_id;
}

gchar *
rcx_s3_upload_part (RcxS3Client * client, const gchar * bucket,
    const gchar * key, const gchar * upload_id, guint part_number,
    GBytes * body, GCancellable * cancellable, GError ** error)
{
  S3Call call = { "PUT", bucket, key, };
  g_autofree gchar *eid = rcx_uri_encode (upload_id, FALSE);
  g_autofree gchar *query = NULL;
  g_autoptr (RcxHttpResponse) response = NULL;
  const gchar *etag;

  g_return_val_if_fail (part_number >= 1 && part_number <= 10000, NULL);
  query = g_strdup_printf ("partNumber=%u&uploadId=%s", part_number, eid);
  call.query = query;
  call.body = body;
  call.content_md5 = TRUE;

  response = rcx_s3_send (client, &call, cancellable, error);
  if (response == NULL)
    return NULL;
  etag = soup_message_headers_get_one (response->headers, "ETag");
  if (etag == NULL) {
    rcx_s3_set_error (error, RCX_S3_ERROR_FAILED, response->status, NULL,
        response->request_id, "S3 UploadPart %u s3://%s/%s: no ETag",
        part_number, bucket, key);
    return NULL;
  }
  return g_strdup (etag);
}

/* The ETag S3 gives an object made of these parts: "<md5 of the parts'
 * binary MD5s>-<n>" (NULL when a part's ETag is not an MD5, e.g. SSE-KMS). */
static gchar *
multipart_etag (const gchar * const *etags, guint n_parts)
{
  g_autofree guint8 *part_md5s = g_new (guint8, RCX_MD5_LEN * n_parts + 1);
  g_autofree gchar *hex = NULL;
  RcxDigests digests;
  guint i, j;

  for (i = 0; i < n_parts; i++) {
    const gchar *e = etags[i];
    guint8 *digest = part_md5s + RCX_MD5_LEN * i;

    if (e[0] == '"')
      e++;
    if (strlen (e) < 32 || (e[32] != '\0' && e[32] != '"'))
      return NULL;
    for (j = 0; j < 16; j++) {
      gint hi = g_ascii_xdigit_value (e[2 * j]);
      gint lo = g_ascii_xdigit_value (e[2 * j + 1]);

      if (hi < 0 || lo < 0)
        return NULL;
      digest[j] = (guint8) (hi << 4 | lo);
    }
  }
  if (!rcx_digest_compute (part_md5s, RCX_MD5_LEN * n_parts, RCX_DIGEST_MD5,
          &digests, NULL))
    return NULL;
  hex = rcx_digest_to_hex (digests.md5, RCX_MD5_LEN);
  return g_strdup_printf ("\"%s-%u\"", hex, n_parts);
}

gboolean
rcx_s3_complete_multipart_upload (RcxS3Client * client,
    const gchar * bucket, const gchar * key, const gchar * upload_id,
    const gchar * const *etags, guint n_parts, GCancellable * cancellable,
    GError ** error)
{
  S3Call call = { "POST", bucket, key, };
  g_autofree gchar *eid = rcx_uri_encode (upload_id, FALSE);
  g_autofree gchar *query = g_strdup_printf ("uploadId=%s", eid);
  g_autoptr (GString) xml = g_string_new ("<?xml version=\"1.0\" "
      "encoding=\"UTF-8\"?>\n<CompleteMultipartUpload "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
  g_autoptr (GBytes) body = NULL;
  g_autoptr (RcxHttpResponse) response = NULL;
  g_autoptr (GError) local_error = NULL;
  guint i;

  for (i = 0; i < n_parts; i++) {
    g_autofree gchar *etag = g_markup_escape_text (etags[i], -1);

    g_string_append_printf (xml, "<Part><PartNumber>%u</PartNumber>"
        "<ETag>%s</ETag></Part>", i + 1, etag);
  }
  g_string_append (xml, "</CompleteMultipartUpload>");
  body = g_string_free_to_bytes (g_steal_pointer (&xml));
  call.query = query;
  call.body = body;
  call.content_type = "application/xml";

  response = rcx_s3_send (client, &call, cancellable, &local_error);
  if (response != NULL)
    return TRUE;
  /* an attempt whose answer got lost may have completed the upload: the
   * retry then finds no upload, and the object is there with the ETag of
   * exactly these parts */
  if (call.attempts > 1
      && g_error_matches (local_error, RCX_S3_ERROR, RCX_S3_ERROR_NOT_FOUND)
      && g_strcmp0 (rcx_s3_error_get_s3_code (local_error),
          "NoSuchUpload") == 0) {
    g_auto (RcxS3ObjectInfo) info = { 0, };
    g_autofree gchar *expected = multipart_etag (etags, n_parts);

    if (expected != NULL
        && rcx_s3_head_object (client, bucket, key, &info, cancellable, NULL)
        && g_strcmp0 (info.etag, expected) == 0) {
      rcx_http_client_log (client->http, G_LOG_LEVEL_INFO,
          "S3 CompleteMultipartUpload s3://%s/%s: completed by an earlier "
          "attempt (ETag %s)", bucket, key, info.etag);
      return TRUE;
    }
  }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

gboolean
rcx_s3_abort_multipart_upload (RcxS3Client * client,
    const gchar * bucket, const gchar * key, const gchar * upload_id,
    GCancellable * cancellable, GError ** error)
{
  S3Call call = { "DELETE", bucket, key, };
  g_autofree gchar *eid = rcx_uri_encode (upload_id, FALSE);
  g_autofree gchar *query = g_strdup_printf ("uploadId=%s", eid);
  g_autoptr (RcxHttpResponse) response = NULL;

  call.query = query;
  response = rcx_s3_send (client, &call, cancellable, error);
  return response != NULL;
}
