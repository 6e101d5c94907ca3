/* rcx-json.c: size and depth check before json-glib (see rcx-json.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-json.h"

#include "rcx-sanitize.h"

#include <string.h>

G_DEFINE_QUARK (rcx-json-error-quark, rcx_json_error);

typedef enum
{
  SCAN_VALUE,
  SCAN_DQ_STRING,
  SCAN_DQ_ESCAPE,
} ScanState;

/* Where the scan is in the top-level value */
typedef enum
{
  ROOT_NONE,                    /* not started */
  ROOT_SCALAR,                  /* in a number or literal */
  ROOT_DONE,                    /* ended: only space may follow */
} RootState;

static gint
hex4 (const gchar * p)
{
  gint v = 0, i;

  for (i = 0; i < 4; i++) {
    gint d = g_ascii_xdigit_value (p[i]);

    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* Length of the \u escape at @p (just after the backslash, @left bytes
 * left): 5, or 11 for a surrogate pair; 0 when malformed. json-glib 1.6
 * leaks its string buffer on a malformed one. */
static gsize
unicode_escape_length (const gchar * p, gsize left)
{
  gint unit;

  if (left < 5 || (unit = hex4 (p + 1)) < 0)
    return 0;
  if (unit >= 0xdc00 && unit <= 0xdfff)
    return 0;
  if (unit < 0xd800 || unit > 0xdbff)
    return 5;
  if (left < 11 || p[5] != '\\' || p[6] != 'u')
    return 0;
  unit = hex4 (p + 7);
  return unit >= 0xdc00 && unit <= 0xdfff ? 11 : 0;
}

static gboolean
invalid_at (GError ** error, const gchar * what, gsize offset)
{
  g_set_error (error, RCX_JSON_ERROR, RCX_JSON_ERROR_INVALID,
      "%s at byte %" G_GSIZE_FORMAT, what, offset);
  return FALSE;
}

gboolean
rcx_json_check (const gchar * data, gsize length, gsize max_size,
    guint max_depth, GError ** error)
{
  ScanState state = SCAN_VALUE;
  RootState root = ROOT_NONE;
  guint depth = 0;
  gsize i;

  if (max_size == 0)
    max_size = RCX_JSON_DEFAULT_MAX_SIZE;
  if (max_depth == 0)
    max_depth = RCX_JSON_MAX_DEPTH;
  if (length > max_size) {
    g_set_error (error, RCX_JSON_ERROR, RCX_JSON_ERROR_TOO_LARGE,
        "JSON document of %" G_GSIZE_FORMAT " bytes, more than the limit "
        "of %" G_GSIZE_FORMAT, length, max_size);
    return FALSE;
  }
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  for (i = 0; i < length; i++) {
    gchar c = data[i];

    switch (state) {
      case SCAN_VALUE:
        if (depth == 0) {
          gboolean space = c == ' ' || c == '\t' || c == '\r' || c == '\n';

          /* json-glib 1.6 leaks the first value when more follows it */
          if (root == ROOT_SCALAR && space)
            root = ROOT_DONE;
          else if ((root == ROOT_DONE && !space) || (root == ROOT_SCALAR
                  && strchr ("[]{}\",:", c) != NULL))
            return invalid_at (error, "data after the JSON document", i);
          else if (root == ROOT_NONE && !space && strchr ("[{\"", c) == NULL)
            root = ROOT_SCALAR;
        }
        if (c == '[' || c == '{') {
          if (++depth > max_depth) {
            g_set_error (error, RCX_JSON_ERROR, RCX_JSON_ERROR_TOO_DEEP,
                "JSON nested deeper than %u levels (at byte %" G_GSIZE_FORMAT
                ")", max_depth, i);
            return FALSE;
          }
        } else if (c == ']' || c == '}') {
          /* an unbalanced close is json-glib's error to report; it must
           * not lower the count for the brackets that follow */
          if (depth > 0 && --depth == 0)
            root = ROOT_DONE;
        } else if (c == '"') {
          state = SCAN_DQ_STRING;
        } else if (c == '\'' || c == '/') {
          /* GScanner's single-quoted strings and C comments: not JSON */
          return invalid_at (error, "not standard JSON (a single-quoted "
              "string or a comment)", i);
        }
        break;
      case SCAN_DQ_STRING:
        if (c == '\\')
          state = SCAN_DQ_ESCAPE;
        else if (c == '"') {
          state = SCAN_VALUE;
          if (depth == 0)
            root = ROOT_DONE;
        }
        break;
      case SCAN_DQ_ESCAPE:
        /* whatever is escaped (\", \\, octal digits) cannot end the
         * string; a \u escape must be whole */
        if (c == 'u') {
          gsize n = unicode_escape_length (data + i, length - i);

          if (n == 0)
            return invalid_at (error, "malformed \\u escape", i);
          i += n - 1;
        }
        state = SCAN_DQ_STRING;
        break;
    }
  }
  return TRUE;
}

JsonNode *
rcx_json_parse (const gchar * data, gsize length, gsize max_size,
    GError ** error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;
  JsonNode *root;

  if (!rcx_json_check (data, length, max_size, 0, error))
    return NULL;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, length ? data : "", length, &local)) {
    /* json-glib quotes the offending token: outside text */
    g_autofree gchar *message = rcx_sanitize_text (local->message, -1, 0);

    g_set_error (error, RCX_JSON_ERROR, RCX_JSON_ERROR_INVALID, "%s", message);
    return NULL;
  }
  root = json_parser_steal_root (parser);
  if (root == NULL) {
    /* an empty or all-whitespace document */
    g_set_error_literal (error, RCX_JSON_ERROR, RCX_JSON_ERROR_INVALID,
        "empty JSON document");
    return NULL;
  }
  return root;
}

gboolean
rcx_json_lookup_string (JsonObject * object, const gchar * name,
    const gchar ** out)
{
  JsonNode *node = json_object_get_member (object, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (node);
  return TRUE;
}

const gchar *
rcx_json_get_string (JsonObject * object, const gchar * name)
{
  const gchar *value;

  rcx_json_lookup_string (object, name, &value);
  return value;
}
