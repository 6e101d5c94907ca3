/* rcx-postgrest.c: a Supabase (PostgREST) client on rcx-http.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "rcx-postgrest"

#include "rcx-postgrest.h"

#include <string.h>

#include "rcx-json.h"
#include "rcx-sanitize.h"

G_DEFINE_QUARK (rcx-postgrest-error-quark, rcx_postgrest_error);

/* ---- queries ---------------------------------------------------------- */

struct _RcxPostgrestQuery
{
  gchar *table;
  GString *params;
};

RcxPostgrestQuery *
rcx_postgrest_query_new (const gchar * table)
{
  RcxPostgrestQuery *query = g_new0 (RcxPostgrestQuery, 1);

  g_return_val_if_fail (table != NULL && *table != '\0', NULL);
  query->table = g_strdup (table);
  query->params = g_string_new (NULL);
  return query;
}

void
rcx_postgrest_query_free (RcxPostgrestQuery * query)
{
  if (query == NULL)
    return;
  g_free (query->table);
  g_string_free (query->params, TRUE);
  g_free (query);
}

const gchar *
rcx_postgrest_query_get_table (RcxPostgrestQuery * query)
{
  return query->table;
}

static void
append_param (RcxPostgrestQuery * query, const gchar * name)
{
  if (query->params->len > 0)
    g_string_append_c (query->params, '&');
  g_string_append_uri_escaped (query->params, name, NULL, FALSE);
  g_string_append_c (query->params, '=');
}

void
rcx_postgrest_query_eq (RcxPostgrestQuery * query, const gchar * column,
    const gchar * value)
{
  append_param (query, column);
  g_string_append (query->params, "eq.");
  g_string_append_uri_escaped (query->params, value, NULL, FALSE);
}

/* PostgREST splits in.() on ',' after percent-decoding: values holding its
 * reserved characters are double-quoted, '"' and '\' escaped. */
static gchar *
quote_list_value (const gchar * value)
{
  GString *s;
  const gchar *p;

  if (strpbrk (value, ",.:()\"\\ ") == NULL && *value != '\0')
    return g_strdup (value);
  s = g_string_new ("\"");
  for (p = value; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (s, '\\');
    g_string_append_c (s, *p);
  }
  g_string_append_c (s, '"');
  return g_string_free (s, FALSE);
}

void
rcx_postgrest_query_in (RcxPostgrestQuery * query, const gchar * column,
    const gchar * const *values)
{
  guint i;

  append_param (query, column);
  g_string_append (query->params, "in.(");
  for (i = 0; values != NULL && values[i] != NULL; i++) {
    g_autofree gchar *quoted = quote_list_value (values[i]);

    if (i > 0)
      g_string_append_c (query->params, ',');
    g_string_append_uri_escaped (query->params, quoted, NULL, FALSE);
  }
  g_string_append_c (query->params, ')');
}

void
rcx_postgrest_query_select (RcxPostgrestQuery * query, const gchar * columns)
{
  append_param (query, "select");
  /* ',' is how PostgREST separates the columns: keep it literal */
  g_string_append_uri_escaped (query->params, columns, ",", FALSE);
}

gchar *
rcx_postgrest_query_to_string (RcxPostgrestQuery * query)
{
  g_autofree gchar *table = g_uri_escape_string (query->table, NULL, FALSE);

  if (query->params->len == 0)
    return g_steal_pointer (&table);
  return g_strconcat (table, "?", query->params->str, NULL);
}

/* ---- the client ------------------------------------------------------- */

struct _RcxPostgrest
{
  gint ref_count;
  gchar *base;                  /* ".../rest/v1/" */
  gchar *key;
  RcxHttpClient *http;
};

RcxPostgrest *
rcx_postgrest_new (const gchar * url, const gchar * key, RcxHttpClient * http,
    GError ** error)
{
  g_autoptr (GUri) uri = NULL;
  g_autofree gchar *trimmed = NULL;
  RcxPostgrest *pg;
  gsize len;

  if (url == NULL || *url == '\0') {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "no Supabase URL");
    return NULL;
  }
  if (key == NULL || *key == '\0') {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "no Supabase key");
    return NULL;
  }
  if (!rcx_sanitize_is_header_safe (key)) {
    /* libsoup would drop the header and send the request without it */
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "the Supabase key holds a control character (CR/LF?)");
    return NULL;
  }
  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0
          && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)
      || g_uri_get_host (uri) == NULL || g_uri_get_query (uri) != NULL
      || g_uri_get_userinfo (uri) != NULL) {
    /* the URL itself is not secret, but keep the message generic */
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "the Supabase URL must be http(s)://host[:port][/path], "
        "without user info or query");
    return NULL;
  }

  trimmed = g_strdup (url);
  len = strlen (trimmed);
  while (len > 0 && trimmed[len - 1] == '/')
    trimmed[--len] = '\0';

  pg = g_new0 (RcxPostgrest, 1);
  pg->ref_count = 1;
  if (g_str_has_suffix (trimmed, "/rest/v1"))
    pg->base = g_strconcat (trimmed, "/", NULL);
  else
    pg->base = g_strconcat (trimmed, "/rest/v1/", NULL);
  pg->key = g_strdup (key);
  pg->http = http ? rcx_http_client_ref (http) : rcx_http_client_new (NULL);
  return pg;
}

RcxPostgrest *
rcx_postgrest_ref (RcxPostgrest * pg)
{
  g_atomic_int_inc (&pg->ref_count);
  return pg;
}

void
rcx_postgrest_unref (RcxPostgrest * pg)
{
  if (pg == NULL || !g_atomic_int_dec_and_test (&pg->ref_count))
    return;
  g_free (pg->base);
  if (pg->key) {
    memset (pg->key, 0, strlen (pg->key));
    g_free (pg->key);
  }
  rcx_http_client_unref (pg->http);
  g_free (pg);
}

RcxHttpClient *
rcx_postgrest_get_http_client (RcxPostgrest * pg)
{
  return pg->http;
}

static RcxPostgrestError
error_for_status (guint status)
{
  if (status == 401 || status == 403)
    return RCX_POSTGREST_ERROR_AUTH;
  if (status == 409)
    return RCX_POSTGREST_ERROR_CONFLICT;
  if (status >= 500)
    return RCX_POSTGREST_ERROR_UNAVAILABLE;
  return RCX_POSTGREST_ERROR_REJECTED;
}

/* The rows in @root: an array as it is, an object as one row. */
static JsonArray *
rows_from_node (JsonNode * root, GError ** error)
{
  if (JSON_NODE_HOLDS_ARRAY (root))
    return json_array_ref (json_node_get_array (root));
  if (JSON_NODE_HOLDS_OBJECT (root)) {
    JsonArray *rows = json_array_new ();

    json_array_add_object_element (rows,
        json_object_ref (json_node_get_object (root)));
    return rows;
  }
  g_set_error_literal (error, RCX_POSTGREST_ERROR,
      RCX_POSTGREST_ERROR_INVALID,
      "the answer is neither an array nor an object");
  return NULL;
}

/* Size and depth are checked (rcx-json.h) before json-glib recurses. */
static JsonNode *
parse_answer (const gchar * data, gsize len, GError ** error)
{
  g_autoptr (GError) local = NULL;
  JsonNode *root = rcx_json_parse (data, len, 0, &local);

  if (root == NULL)
    g_set_error (error, RCX_POSTGREST_ERROR, RCX_POSTGREST_ERROR_INVALID,
        "the answer is not JSON: %s", local->message);
  return root;
}

JsonArray *
rcx_postgrest_parse_rows (const gchar * data, gsize len, GError ** error)
{
  g_autoptr (JsonNode) root = NULL;

  if (len == 0)
    return json_array_new ();
  root = parse_answer (data, len, error);
  return root ? rows_from_node (root, error) : NULL;
}

/* Sends one request; returns the JSON of a 2xx answer (NULL in
 * *@root for an empty body), or FALSE with @error. */
static gboolean
pg_send_node (RcxPostgrest * pg, const gchar * method, const gchar * table,
    const gchar * path_and_query, const gchar * prefer, JsonNode * body,
    JsonNode ** root_out, GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *uri = g_strconcat (pg->base, path_and_query, NULL);
  g_autofree gchar *bearer = g_strconcat ("Bearer ", pg->key, NULL);
  g_autoptr (RcxHttpRequest) request = rcx_http_request_new (method, uri);
  g_autoptr (RcxHttpResponse) response = NULL;
  g_autoptr (GError) local = NULL;
  const gchar *data = NULL;
  gsize len = 0;

  *root_out = NULL;
  if (request == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s %s: invalid request URI", method, table);
    return FALSE;
  }
  rcx_http_request_set_header (request, "apikey", pg->key);
  rcx_http_request_set_header (request, "Authorization", bearer);
  rcx_http_request_set_header (request, "Accept", "application/json");
  if (prefer)
    rcx_http_request_set_header (request, "Prefer", prefer);
  if (body) {
    g_autofree gchar *text = json_to_string (body, FALSE);
    gsize text_len = strlen (text);
    g_autoptr (GBytes) bytes =
        g_bytes_new_take (g_steal_pointer (&text), text_len);

    rcx_http_request_set_body (request, "application/json", bytes);
  }

  response = rcx_http_client_send_and_read (pg->http, request, cancellable,
      &local);
  if (response == NULL) {
    g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s %s: ",
        method, table);
    return FALSE;
  }

  if (response->status < 200 || response->status >= 300) {
    g_set_error (error, RCX_POSTGREST_ERROR,
        error_for_status (response->status), "%s %s: HTTP %u %s: %s", method,
        table, response->status,
        response->error_code ? response->error_code : "-",
        response->error_message ? response->error_message : "no message");
    g_debug ("%s %s: HTTP %u %s after %u attempts", method, table,
        response->status, response->error_code ? response->error_code : "-",
        response->attempts);
    return FALSE;
  }

  if (response->body)
    data = g_bytes_get_data (response->body, &len);
  if (len == 0)
    return TRUE;
  *root_out = parse_answer (data, len, &local);
  if (*root_out == NULL) {
    g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s %s: ",
        method, table);
    return FALSE;
  }
  return TRUE;
}

/* Sends one request; returns the rows of a 2xx answer (an empty array for
 * an empty body), or NULL with @error. */
static JsonArray *
pg_send (RcxPostgrest * pg, const gchar * method, const gchar * table,
    const gchar * path_and_query, const gchar * prefer, JsonNode * body,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) local = NULL;
  JsonArray *rows;

  if (!pg_send_node (pg, method, table, path_and_query, prefer, body, &root,
          cancellable, error))
    return NULL;
  if (root == NULL)
    return json_array_new ();
  rows = rows_from_node (root, &local);
  if (rows == NULL)
    g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s %s: ",
        method, table);
  return rows;
}

JsonArray *
rcx_postgrest_select (RcxPostgrest * pg, RcxPostgrestQuery * query,
    GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *pq = rcx_postgrest_query_to_string (query);

  return pg_send (pg, "GET", query->table, pq, NULL, NULL, cancellable, error);
}

JsonArray *
rcx_postgrest_insert (RcxPostgrest * pg, const gchar * table,
    JsonNode * rows, GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *pq = g_uri_escape_string (table, NULL, FALSE);

  return pg_send (pg, "POST", table, pq, "return=representation", rows,
      cancellable, error);
}

JsonArray *
rcx_postgrest_update (RcxPostgrest * pg, RcxPostgrestQuery * query,
    JsonObject * patch, gboolean representation, GCancellable * cancellable,
    GError ** error)
{
  g_autofree gchar *pq = rcx_postgrest_query_to_string (query);
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  JsonArray *rows;

  json_node_set_object (body, patch);
  rows = pg_send (pg, "PATCH", query->table, pq,
      representation ? "return=representation" : "return=minimal", body,
      cancellable, error);
  if (rows != NULL && !representation && json_array_get_length (rows) > 0) {
    json_array_unref (rows);
    rows = json_array_new ();
  }
  return rows;
}

JsonNode *
rcx_postgrest_rpc (RcxPostgrest * pg, const gchar * function,
    JsonObject * args, GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *name = g_uri_escape_string (function, NULL, FALSE);
  g_autofree gchar *pq = g_strconcat ("rpc/", name, NULL);
  g_autofree gchar *what = g_strconcat ("rpc/", function, NULL);
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonObject) empty = json_object_new ();
  JsonNode *root = NULL;

  json_node_set_object (body, args ? args : empty);
  if (!pg_send_node (pg, "POST", what, pq, NULL, body, &root, cancellable,
          error))
    return NULL;
  /* a void function answers 204 without a body */
  return root ? root : json_node_new (JSON_NODE_NULL);
}
