/* rcx-jobs-warnings.c: the jobs.warnings value of a succeeded job (see
 * rcx_jobs_warnings_new() in rcx-jobs.h): the summary's concealment
 * report cut to the bounds db/migrations/006_job_warnings.sql checks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-jobs.h"
#include "rcx-sanitize.h"

#include <string.h>

/* The database's bounds are 32 groups, 32 KiB (as jsonb prints it: a space
 * after every ':' and ',') and 2000 characters per text; ours stay well
 * inside, so a report that passes here always passes there. */
#define MAX_GROUPS 32
#define MAX_BYTES (24 * 1024)
#define MAX_TEXT 2000
#define MAX_NAME 200
#define MAX_MESSAGE 500

static void
copy_string (JsonObject * to, JsonObject * from, const gchar * name,
    gsize max)
{
  JsonNode *n = json_object_get_member (from, name);
  g_autofree gchar *text = NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    return;
  text = rcx_sanitize_text (json_node_get_string (n), -1, max);
  json_object_set_string_member (to, name, text);
}

static void
copy_number (JsonObject * to, JsonObject * from, const gchar * name)
{
  JsonNode *n = json_object_get_member (from, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)) {
    json_object_set_null_member (to, name);
    return;
  }
  switch (json_node_get_value_type (n)) {
    case G_TYPE_INT64:
      json_object_set_int_member (to, name, json_node_get_int (n));
      break;
    case G_TYPE_DOUBLE:
      json_object_set_double_member (to, name, json_node_get_double (n));
      break;
    default:
      json_object_set_null_member (to, name);
  }
}

static gsize
printed_size (JsonNode * node)
{
  g_autofree gchar *text = json_to_string (node, FALSE);

  return strlen (text);
}

JsonNode *
rcx_jobs_warnings_new (JsonNode * groups, const gchar * text)
{
  g_autoptr (JsonNode) node = NULL;
  g_autofree gchar *line = NULL;
  JsonObject *o;
  JsonArray *in, *out;
  guint n;

  if (text == NULL || *text == '\0')
    return NULL;
  line = rcx_sanitize_text (text, -1, MAX_TEXT);
  node = json_node_init_object (json_node_alloc (), json_object_new ());
  o = json_node_get_object (node);
  json_object_set_string_member (o, "text", line);
  out = json_array_new ();
  json_object_set_array_member (o, "groups", out);
  in = groups && JSON_NODE_HOLDS_ARRAY (groups) ?
      json_node_get_array (groups) : NULL;
  n = in ? MIN (json_array_get_length (in), MAX_GROUPS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonNode *g = json_array_get_element (in, i);
    JsonObject *from, *to;

    if (!JSON_NODE_HOLDS_OBJECT (g))
      continue;
    from = json_node_get_object (g);
    to = json_object_new ();
    copy_string (to, from, "element", MAX_NAME);
    copy_string (to, from, "kind", MAX_NAME);
    copy_number (to, from, "count");
    copy_number (to, from, "first");
    copy_number (to, from, "last");
    copy_string (to, from, "message", MAX_MESSAGE);
    json_array_add_object_element (out, to);
  }
  /* escapes can double a text: the last groups go first */
  while (json_array_get_length (out) > 0 && printed_size (node) > MAX_BYTES)
    json_array_remove_element (out, json_array_get_length (out) - 1);
  return g_steal_pointer (&node);
}
