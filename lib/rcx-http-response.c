/* rcx-http-response.c: RcxHttpResponse and the parser of a service's error
 * body (S3 XML <Error>, JSON __type / message, x-amzn-query-error), its
 * fields sanitised and capped.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-http.h"
#include "rcx-http-private.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include "rcx-json.h"
#include "rcx-sanitize.h"
#include "rcx-xml.h"

RcxHttpResponse *
rcx_http_response_new (guint status, SoupMessageHeaders * headers,
    GBytes * body)
{
  RcxHttpResponseReal *real = g_new0 (RcxHttpResponseReal, 1);

  real->pub.status = status;
  real->pub.headers = headers ? soup_message_headers_ref (headers) :
      soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  real->pub.body = body ? g_bytes_ref (body) : NULL;
  return &real->pub;
}

void
rcx_http_response_free (RcxHttpResponse * response)
{
  RcxHttpResponseReal *real = (RcxHttpResponseReal *) response;

  if (response == NULL)
    return;
  g_clear_pointer (&response->headers, soup_message_headers_unref);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_clear_object (&response->stream);
  g_free (response->error_code);
  g_free (response->error_message);
  g_free (response->request_id);
  g_clear_object (&real->msg);
  g_free (real);
}

static void
parse_xml_error (RcxHttpResponse * response, const gchar * data, gsize len)
{
  xmlDoc *doc;
  xmlNode *root;

  doc = rcx_xml_read (data, len);
  if (doc == NULL)
    return;
  root = xmlDocGetRootElement (doc);
  if (root != NULL) {
    /* S3: <Error>; other Query APIs: <ErrorResponse><Error> */
    if (g_strcmp0 ((const gchar *) root->name, "Error") != 0) {
      xmlNode *n;
      gchar *rid = rcx_xml_child_text (root, "RequestId", ERROR_CODE_MAX);

      if (response->request_id == NULL)
        response->request_id = rid;
      else
        g_free (rid);
      for (n = root->children; n != NULL; n = n->next)
        if (n->type == XML_ELEMENT_NODE
            && g_strcmp0 ((const gchar *) n->name, "Error") == 0)
          break;
      root = n;
    }
  }
  if (root != NULL) {
    if (response->error_code == NULL)
      response->error_code = rcx_xml_child_text (root, "Code", ERROR_CODE_MAX);
    if (response->error_message == NULL)
      response->error_message = rcx_xml_child_text (root, "Message",
          ERROR_MESSAGE_MAX);
    if (response->request_id == NULL)
      response->request_id = rcx_xml_child_text (root, "RequestId",
          ERROR_CODE_MAX);
  }
  xmlFreeDoc (doc);
}

static void
parse_json_error (RcxHttpResponse * response, const gchar * data, gsize len)
{
  g_autoptr (JsonNode) root = rcx_json_parse (data, len, 0, NULL);
  JsonObject *obj;
  const gchar *code = NULL, *message = NULL;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  obj = json_node_get_object (root);
  if (json_object_has_member (obj, "__type"))
    code = rcx_json_get_string (obj, "__type");
  else if (json_object_has_member (obj, "code"))
    code = rcx_json_get_string (obj, "code");
  if (json_object_has_member (obj, "message"))
    message = rcx_json_get_string (obj, "message");
  else if (json_object_has_member (obj, "Message"))
    message = rcx_json_get_string (obj, "Message");
  if (response->error_code == NULL && code != NULL) {
    const gchar *hash = strrchr (code, '#');

    response->error_code = rcx_sanitize_text (hash ? hash + 1 : code, -1,
        ERROR_CODE_MAX);
  }
  if (response->error_message == NULL)
    response->error_message = rcx_sanitize_text (message, -1,
        ERROR_MESSAGE_MAX);
}

void
rcx_http_response_parse_error (RcxHttpResponse * response)
{
  const gchar *data = NULL;
  gsize len = 0, i;

  if (response->headers != NULL) {
    const gchar *query_error;

    if (response->request_id == NULL) {
      const gchar *rid = soup_message_headers_get_one (response->headers,
          "x-amz-request-id");

      if (rid == NULL)
        rid = soup_message_headers_get_one (response->headers,
            "x-amzn-RequestId");
      response->request_id = rcx_sanitize_text (rid, -1, ERROR_CODE_MAX);
    }
    /* SQS JSON protocol: "AWS.SimpleQueueService.NonExistentQueue;Sender" */
    query_error = soup_message_headers_get_one (response->headers,
        "x-amzn-query-error");
    if (query_error != NULL && response->error_code == NULL)
      response->error_code = rcx_sanitize_text (query_error,
          strcspn (query_error, ";"), ERROR_CODE_MAX);
  }

  if (response->body != NULL)
    data = g_bytes_get_data (response->body, &len);
  if (data == NULL || len == 0)
    return;
  for (i = 0; i < len && g_ascii_isspace (data[i]); i++);
  if (i < len && data[i] == '<')
    parse_xml_error (response, data + i, len - i);
  else if (i < len && data[i] == '{')
    parse_json_error (response, data + i, len - i);
}
