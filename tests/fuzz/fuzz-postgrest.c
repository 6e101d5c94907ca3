/* fuzz-postgrest.c: a PostgREST answer's body through
 * rcx_postgrest_parse_rows, then read as the jobs code reads rows (string,
 * integer and number members of each object).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "rcx-postgrest.h"

static void
read_row (JsonNode * node)
{
  static const gchar *const columns[] = {
    "id", "state", "worker_id", "media_id", "status", "attempts", "progress",
    "updated_at", NULL
  };
  JsonObject *obj;
  guint i;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return;
  obj = json_node_get_object (node);
  for (i = 0; columns[i] != NULL; i++) {
    JsonNode *member = json_object_get_member (obj, columns[i]);

    if (member == NULL || !JSON_NODE_HOLDS_VALUE (member))
      continue;
    switch (json_node_get_value_type (member)) {
      case G_TYPE_STRING:
        g_assert (json_node_get_string (member) != NULL);
        break;
      case G_TYPE_INT64:
        (void) json_node_get_int (member);
        break;
      case G_TYPE_DOUBLE:
        (void) json_node_get_double (member);
        break;
      default:
        break;
    }
  }
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) rows = NULL;
  guint i;

  rows = rcx_postgrest_parse_rows ((const gchar *) data, size, &error);
  if (rows == NULL) {
    g_assert (error != NULL);
    return 0;
  }
  for (i = 0; i < json_array_get_length (rows); i++)
    read_row (json_array_get_element (rows, i));
  return 0;
}
