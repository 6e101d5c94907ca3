/* rcx-json.h: the one way JSON from outside (servers, users' pipeline
 * descriptions, credential endpoints) is parsed.
 *
 * json-glib 1.6's parser recurses once per nesting level: JSON nested
 * 120,000 deep (240 KB of '[') overflows the stack. rcx_json_parse()
 * measures size and nesting with a flat scan first and hands json-glib
 * only what it can parse safely. Only standard JSON gets through:
 * json-glib 1.6's lexer (GScanner) also takes single-quoted strings and C
 * comments, and leaks on some of them (found by the fuzzers), so a single
 * quote or a '/' outside a string refuses the document; none of our peers
 * or descriptions uses either. A bracket inside a string is not structure.
 * Where it is unsure the scan counts a bracket, so a mistake can only refuse
 * a document, never let a deep one through.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define RCX_JSON_ERROR (rcx_json_error_quark ())
GQuark rcx_json_error_quark (void);

typedef enum {
  RCX_JSON_ERROR_TOO_LARGE,     /* more than the size limit */
  RCX_JSON_ERROR_TOO_DEEP,      /* nested deeper than RCX_JSON_MAX_DEPTH */
  RCX_JSON_ERROR_INVALID,       /* not JSON (json-glib's message) */
} RcxJsonError;

/* Arrays/objects nested deeper than this are refused. Our documents are
 * under 10 levels deep (a PostgREST row holding a renditions array of
 * objects is 4). */
#define RCX_JSON_MAX_DEPTH 64
/* The size limit when a caller passes 0: a PostgREST page of rows, an SQS
 * batch of ten 256 KiB bodies escaped. */
#define RCX_JSON_DEFAULT_MAX_SIZE ((gsize) 8 * 1024 * 1024)

/* FALSE with RCX_JSON_ERROR_TOO_LARGE / _TOO_DEEP when @data (@length
 * bytes, NUL not required) is larger than @max_size (0: the default) or
 * nested deeper than @max_depth (0: RCX_JSON_MAX_DEPTH), and with
 * RCX_JSON_ERROR_INVALID for the two invalid inputs that make json-glib
 * 1.6 leak (found by tests/fuzz/fuzz-json): a malformed \u escape (not 4
 * hex digits, a lone surrogate) and data after the top-level value. Says nothing about validity otherwise. */
gboolean rcx_json_check (const gchar * data, gsize length, gsize max_size,
    guint max_depth, GError ** error);

/* Checks @data with rcx_json_check() and parses it: the root node (owned
 * by the caller), or NULL with an RCX_JSON_ERROR. */
JsonNode *rcx_json_parse (const gchar * data, gsize length, gsize max_size,
    GError ** error);

/* The string held by @object's member @name; NULL when the member is
 * absent or holds anything but a string (json-glib's own getters are
 * g_return_if_fail'ed on the member's type, which outside bytes choose). */
const gchar *rcx_json_get_string (JsonObject * object, const gchar * name);

/* Strict form for replies whose schema is fixed: @out is the string held
 * by @object's member @name, or NULL when the member is absent or null;
 * FALSE (and @out NULL) when it holds anything else. */
gboolean rcx_json_lookup_string (JsonObject * object, const gchar * name,
    const gchar ** out);

G_END_DECLS
