/* rcx-sqs-reply.c: parsers of SQS JSON replies (rcx-sqs.h): ReceiveMessage,
 * GetQueueAttributes, SendMessage and error bodies, each bounded before
 * json-glib sees the bytes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "rcx-sqs"

#include "rcx-sqs.h"
#include "rcx-sqs-private.h"
#include "rcx-json.h"

#include <string.h>
#include <json-glib/json-glib.h>

/* a service's error message goes into our GError message: keep it short */
#define MAX_SERVICE_MESSAGE 256

/* ---- bounded JSON ----------------------------------------------------- */

/* The reply's root object, or NULL: size and nesting are checked before
 * json-glib, which recurses once per level, sees the bytes (rcx-json.h).
 * The returned node owns *@root. */
static JsonNode *
parse_object (const gchar * data, gsize len, JsonObject ** root,
    GError ** error)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) local_error = NULL;

  node = rcx_json_parse (data, len, RCX_SQS_MAX_REPLY, &local_error);
  if (node == NULL) {
    rcx_sqs_set_error (error, RCX_SQS_ERROR_INVALID_REPLY, 0, NULL, NULL, NULL,
        "SQS reply is not usable JSON: %s", local_error->message);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    rcx_sqs_set_error (error, RCX_SQS_ERROR_INVALID_REPLY, 0, NULL, NULL, NULL,
        "SQS reply is not a JSON object");
    return NULL;
  }
  *root = json_node_get_object (node);
  return g_steal_pointer (&node);
}

/* An object member (NULL when absent or null); FALSE when not an object. */
static gboolean
member_object (JsonObject * obj, const gchar * name, JsonObject ** out)
{
  JsonNode *node = json_object_get_member (obj, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  *out = json_node_get_object (node);
  return TRUE;
}

static gboolean
parse_uint64 (const gchar * s, guint64 max, guint64 * out)
{
  return s != NULL && g_ascii_string_to_unsigned (s, 10, 0, max, out, NULL);
}

static gboolean
md5_matches (const gchar * data, gsize len, const gchar * md5_hex)
{
  g_autofree gchar *md5 = NULL;

  if (md5_hex == NULL)
    return TRUE;
  md5 = g_compute_checksum_for_data (G_CHECKSUM_MD5, (const guchar *) data,
      len);
  return g_ascii_strcasecmp (md5, md5_hex) == 0;
}

/* ---- reply parsers ---------------------------------------------------- */

void
rcx_sqs_message_free (RcxSqsMessage * message)
{
  if (message == NULL)
    return;
  g_free (message->message_id);
  g_free (message->receipt_handle);
  g_free (message->body);
  g_free (message->md5_of_body);
  g_free (message);
}

static gboolean
invalid_reply (GError ** error, const gchar * what)
{
  rcx_sqs_set_error (error, RCX_SQS_ERROR_INVALID_REPLY, 0, NULL, NULL, NULL,
      "SQS reply: %s", what);
  return FALSE;
}

static RcxSqsMessage *
parse_message (JsonNode * node, GError ** error)
{
  g_autoptr (RcxSqsMessage) msg = g_new0 (RcxSqsMessage, 1);
  JsonObject *obj, *attrs;
  const gchar *id, *handle, *body, *md5, *count, *sent, *first;
  guint64 v;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    invalid_reply (error, "a message is not an object");
    return NULL;
  }
  obj = json_node_get_object (node);
  if (!rcx_json_lookup_string (obj, "MessageId", &id)
      || !rcx_json_lookup_string (obj, "ReceiptHandle", &handle)
      || !rcx_json_lookup_string (obj, "Body", &body)
      || !rcx_json_lookup_string (obj, "MD5OfBody", &md5)
      || !member_object (obj, "Attributes", &attrs)) {
    invalid_reply (error, "a message member has the wrong type");
    return NULL;
  }
  if (id == NULL || handle == NULL || body == NULL || *handle == '\0') {
    invalid_reply (error, "a message lacks MessageId, ReceiptHandle or Body");
    return NULL;
  }
  msg->body_len = strlen (body);
  if (!md5_matches (body, msg->body_len, md5)) {
    rcx_sqs_set_error (error, RCX_SQS_ERROR_INVALID_REPLY, 0, NULL, NULL, NULL,
        "SQS reply: MD5OfBody of message %s does not match its body", id);
    return NULL;
  }
  msg->message_id = g_strdup (id);
  msg->receipt_handle = g_strdup (handle);
  msg->body = g_strdup (body);
  msg->md5_of_body = g_strdup (md5);
  if (attrs != NULL) {
    if (!rcx_json_lookup_string (attrs, "ApproximateReceiveCount", &count)
        || !rcx_json_lookup_string (attrs, "SentTimestamp", &sent)
        || !rcx_json_lookup_string (attrs,
            "ApproximateFirstReceiveTimestamp", &first)) {
      invalid_reply (error, "a message attribute is not a string");
      return NULL;
    }
    if (count != NULL) {
      if (!parse_uint64 (count, G_MAXUINT, &v)) {
        invalid_reply (error, "ApproximateReceiveCount is not a count");
        return NULL;
      }
      msg->receive_count = (guint) v;
    }
    if (sent != NULL && parse_uint64 (sent, G_MAXINT64, &v))
      msg->sent_timestamp = (gint64) v;
    if (first != NULL && parse_uint64 (first, G_MAXINT64, &v))
      msg->first_receive_timestamp = (gint64) v;
  }
  return g_steal_pointer (&msg);
}

GPtrArray *
rcx_sqs_parse_receive_reply (const gchar * data, gsize len, GError ** error)
{
  g_autoptr (JsonNode) parser = NULL;
  g_autoptr (GPtrArray) messages =
      g_ptr_array_new_with_free_func ((GDestroyNotify) rcx_sqs_message_free);
  JsonObject *root = NULL;
  JsonNode *list;
  JsonArray *array;
  guint i, n;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  /* SQS answers an empty receive with "{}"; tolerate an empty body too */
  if (len == 0)
    return g_steal_pointer (&messages);
  parser = parse_object (data, len, &root, error);
  if (parser == NULL)
    return NULL;
  list = json_object_get_member (root, "Messages");
  if (list == NULL || JSON_NODE_HOLDS_NULL (list))
    return g_steal_pointer (&messages);
  if (!JSON_NODE_HOLDS_ARRAY (list)) {
    invalid_reply (error, "Messages is not an array");
    return NULL;
  }
  array = json_node_get_array (list);
  n = json_array_get_length (array);
  if (n > RCX_SQS_MAX_MESSAGES) {
    invalid_reply (error, "more than 10 messages");
    return NULL;
  }
  for (i = 0; i < n; i++) {
    RcxSqsMessage *msg = parse_message (json_array_get_element (array, i),
        error);

    if (msg == NULL)
      return NULL;
    g_ptr_array_add (messages, msg);
  }
  return g_steal_pointer (&messages);
}

GHashTable *
rcx_sqs_parse_attributes_reply (const gchar * data, gsize len, GError ** error)
{
  g_autoptr (JsonNode) parser = NULL;
  g_autoptr (GHashTable) table = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, g_free);
  JsonObject *root = NULL, *attrs;
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *value;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len == 0)
    return g_steal_pointer (&table);
  parser = parse_object (data, len, &root, error);
  if (parser == NULL)
    return NULL;
  if (!member_object (root, "Attributes", &attrs)) {
    invalid_reply (error, "Attributes is not an object");
    return NULL;
  }
  if (attrs == NULL)
    return g_steal_pointer (&table);
  json_object_iter_init (&iter, attrs);
  while (json_object_iter_next (&iter, &name, &value)) {
    if (!JSON_NODE_HOLDS_VALUE (value)
        || json_node_get_value_type (value) != G_TYPE_STRING) {
      invalid_reply (error, "an attribute value is not a string");
      return NULL;
    }
    g_hash_table_replace (table, g_strdup (name),
        g_strdup (json_node_get_string (value)));
  }
  return g_steal_pointer (&table);
}

gchar *
rcx_sqs_parse_send_reply (const gchar * data, gsize len, const gchar * body,
    GError ** error)
{
  g_autoptr (JsonNode) parser = NULL;
  JsonObject *root = NULL;
  const gchar *id, *md5;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  parser = parse_object (data, len, &root, error);
  if (parser == NULL)
    return NULL;
  if (!rcx_json_lookup_string (root, "MessageId", &id)
      || !rcx_json_lookup_string (root, "MD5OfMessageBody", &md5)
      || id == NULL) {
    invalid_reply (error, "no MessageId");
    return NULL;
  }
  if (body != NULL && !md5_matches (body, strlen (body), md5)) {
    invalid_reply (error, "MD5OfMessageBody does not match the body sent");
    return NULL;
  }
  return g_strdup (id);
}

gboolean
rcx_sqs_parse_error_reply (const gchar * data, gsize len, gchar ** code,
    gchar ** message)
{
  g_autoptr (JsonNode) parser = NULL;
  JsonObject *root = NULL;
  const gchar *type = NULL, *msg = NULL;

  *code = NULL;
  *message = NULL;
  if (data == NULL)
    return FALSE;
  parser = parse_object (data, len, &root, NULL);
  if (parser == NULL)
    return FALSE;
  if (!rcx_json_lookup_string (root, "__type", &type) || type == NULL)
    rcx_json_lookup_string (root, "code", &type);
  if (!rcx_json_lookup_string (root, "message", &msg) || msg == NULL)
    rcx_json_lookup_string (root, "Message", &msg);
  if (type != NULL && *type != '\0') {
    const gchar *hash = strrchr (type, '#');

    if (hash != NULL)
      type = hash + 1;
    /* some services append ":http://internal.amazon.com/..." */
    *code = g_strndup (type, strcspn (type, ":"));
  }
  if (msg != NULL) {
    gchar *p;

    /* it lands in a GError message and logs: one line, bounded */
    *message = g_utf8_substring (msg, 0, MIN (g_utf8_strlen (msg, -1),
            MAX_SERVICE_MESSAGE));
    for (p = *message; *p; p++)
      if ((guchar) * p < 0x20 || *p == 0x7f)
        *p = ' ';
  }
  return *code != NULL || *message != NULL;
}
