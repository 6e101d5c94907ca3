/* rcx-json.c: size and depth check before json-glib (see rcx-json.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-json.h"

#include "rcx-sanitize.h"

G_DEFINE_QUARK (rcx-json-error-quark, rcx_json_error);

typedef enum
{
  SCAN_VALUE,
  SCAN_DQ_STRING,
  SCAN_DQ_ESCAPE,
  SCAN_SQ_STRING,
  SCAN_COMMENT,
  SCAN_COMMENT_STAR,
} ScanState;

gboolean
rcx_json_check (const gchar * data, gsize length, gsize max_size,
    guint max_depth, GError ** error)
{
  ScanState state = SCAN_VALUE;
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
          if (depth > 0)
            depth--;
        } else if (c == '"') {
          state = SCAN_DQ_STRING;
        } else if (c == '\'') {
          /* json-glib 1.6 (GScanner) takes single-quoted strings */
          state = SCAN_SQ_STRING;
        } else if (c == '/' && i + 1 < length && data[i + 1] == '*') {
          /* ... and C comments */
          state = SCAN_COMMENT;
          i++;
        }
        break;
      case SCAN_DQ_STRING:
        if (c == '\\')
          state = SCAN_DQ_ESCAPE;
        else if (c == '"')
          state = SCAN_VALUE;
        break;
      case SCAN_DQ_ESCAPE:
        /* whatever is escaped (\", \\, \u, octal digits) cannot end the
         * string */
        state = SCAN_DQ_STRING;
        break;
      case SCAN_SQ_STRING:
        /* GScanner's single-quoted strings have no escapes */
        if (c == '\'')
          state = SCAN_VALUE;
        break;
      case SCAN_COMMENT:
        if (c == '*')
          state = SCAN_COMMENT_STAR;
        break;
      case SCAN_COMMENT_STAR:
        if (c == '/')
          state = SCAN_VALUE;
        else if (c != '*')
          state = SCAN_COMMENT;
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
