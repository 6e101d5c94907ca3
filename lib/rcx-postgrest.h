/* rcx-postgrest.h: a small Supabase (PostgREST) client on rcx-http.
 *
 * - requests go to <url>/rest/v1/<table> with the `apikey` and
 *   `Authorization: Bearer <key>` headers (the service role key); the key
 *   is never logged, neither here nor by rcx-http (which logs the path
 *   only: no headers, no query string, no body);
 * - 5xx and connection errors are retried with the client's standard
 *   retry policy (rcx-retry.h), 4xx never;
 * - conditional updates: PATCH with filters and `Prefer:
 *   return=representation` returns the rows that matched, so an update
 *   guarded by `state=eq.queued` that returns no row changed nothing;
 * - PostgREST's error JSON ({"code","details","hint","message"}) becomes a
 *   GError in RCX_POSTGREST_ERROR whose message is
 *   "<METHOD> <table>: HTTP <status> <code>: <message>".
 *
 * Thread-safe: an RcxPostgrest is immutable once created.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>
#include "rcx-http.h"

G_BEGIN_DECLS

#define RCX_POSTGREST_ERROR (rcx_postgrest_error_quark ())
GQuark rcx_postgrest_error_quark (void);

typedef enum {
  RCX_POSTGREST_ERROR_AUTH,     /* 401 / 403: bad or missing key, no grant */
  RCX_POSTGREST_ERROR_CONFLICT, /* 409: unique / foreign key violation */
  RCX_POSTGREST_ERROR_REJECTED, /* other 4xx: constraint, trigger, filter */
  RCX_POSTGREST_ERROR_UNAVAILABLE,      /* 5xx after the retries */
  RCX_POSTGREST_ERROR_INVALID,  /* a 2xx answer that is not what we expect */
} RcxPostgrestError;

/* ---- queries ---------------------------------------------------------- */

/* A table and its URL filters ("col=eq.v", "col=in.(a,b)", "select=...").
 * Values are percent-encoded here; in.() values are double-quoted when
 * they hold PostgREST's reserved characters. */
typedef struct _RcxPostgrestQuery RcxPostgrestQuery;

RcxPostgrestQuery *rcx_postgrest_query_new (const gchar * table);
void rcx_postgrest_query_free (RcxPostgrestQuery * query);
const gchar *rcx_postgrest_query_get_table (RcxPostgrestQuery * query);
void rcx_postgrest_query_eq (RcxPostgrestQuery * query, const gchar * column,
    const gchar * value);
/* @values: NULL-terminated */
void rcx_postgrest_query_in (RcxPostgrestQuery * query, const gchar * column,
    const gchar * const *values);
void rcx_postgrest_query_select (RcxPostgrestQuery * query,
    const gchar * columns);
/* "table?col=eq.v&..." (what is appended to /rest/v1/) */
gchar *rcx_postgrest_query_to_string (RcxPostgrestQuery * query);

/* ---- the client ------------------------------------------------------- */

typedef struct _RcxPostgrest RcxPostgrest;

/* @url: the project URL ("https://xyz.supabase.co", or one that already
 * ends in /rest/v1). @key: the API key sent as `apikey` and bearer token.
 * @http: the HTTP client to use (ref taken), or NULL for a new one with
 * the default options. */
RcxPostgrest *rcx_postgrest_new (const gchar * url, const gchar * key,
    RcxHttpClient * http, GError ** error);
RcxPostgrest *rcx_postgrest_ref (RcxPostgrest * pg);
void rcx_postgrest_unref (RcxPostgrest * pg);
RcxHttpClient *rcx_postgrest_get_http_client (RcxPostgrest * pg);

/* GET: the matching rows (a new array). */
JsonArray *rcx_postgrest_select (RcxPostgrest * pg, RcxPostgrestQuery * query,
    GCancellable * cancellable, GError ** error);

/* POST @rows (an object or an array of objects) into @table, with
 * return=representation: the inserted rows. */
JsonArray *rcx_postgrest_insert (RcxPostgrest * pg, const gchar * table,
    JsonNode * rows, GCancellable * cancellable, GError ** error);

/* PATCH the rows matching @query with @patch. @representation: TRUE for
 * `Prefer: return=representation` (the updated rows come back; none when
 * the filters matched nothing), FALSE for return=minimal (an empty array
 * comes back on success). */
JsonArray *rcx_postgrest_update (RcxPostgrest * pg, RcxPostgrestQuery * query,
    JsonObject * patch, gboolean representation, GCancellable * cancellable,
    GError ** error);

/* POST /rpc/@function with @args (named arguments; NULL: none): the
 * function's result as PostgREST returns it (an object, an array, a
 * scalar; a JSON null node for a void function or a NULL result). Runs in
 * one transaction on the server: the way to change several rows
 * atomically. */
JsonNode *rcx_postgrest_rpc (RcxPostgrest * pg, const gchar * function,
    JsonObject * args, GCancellable * cancellable, GError ** error);

/* The rows of a 2xx answer's body: an array as it is, an object as one
 * row, an empty body as no rows. RCX_POSTGREST_ERROR_INVALID otherwise
 * (not JSON, too large or too deeply nested: rcx-json.h). */
JsonArray *rcx_postgrest_parse_rows (const gchar * data, gsize len,
    GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxPostgrestQuery, rcx_postgrest_query_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxPostgrest, rcx_postgrest_unref)

G_END_DECLS
