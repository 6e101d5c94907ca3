/* wasabi-stub-server.h: a tiny in-process S3 for the element tests.
 *
 * Runs a SoupServer on 127.0.0.1 (random port) in its own thread. It keeps
 * objects in memory, answers HEAD, ranged GET, PUT, the multipart calls
 * and Abort, records every request, and can be told to fail a key with a
 * status and an S3 error code, or to never answer GETs of a key.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _StubServer StubServer;

StubServer *stub_server_new (void);
void stub_server_free (StubServer * server);
/* "http://127.0.0.1:PORT" */
const gchar *stub_server_get_endpoint (StubServer * server);

void stub_server_put (StubServer * server, const gchar * path,
    GBytes * data);
/* Body of an object, or NULL. @path is "/bucket/key". */
GBytes *stub_server_get (StubServer * server, const gchar * path);

/* Every request to @path answers @status with <Code>@code</Code> (HEAD:
 * no body) and x-amz-request-id @request_id. @method NULL: any method. */
void stub_server_fail (StubServer * server, const gchar * method,
    const gchar * path, guint status, const gchar * code,
    const gchar * request_id);
/* GETs of @path get no answer until the server is freed. */
void stub_server_stall (StubServer * server, const gchar * path);

/* Number of requests recorded with @method ("GET", "DELETE", ...) whose
 * path is @path and whose query contains @query_part (NULL: any). */
guint stub_server_count (StubServer * server, const gchar * method,
    const gchar * path, const gchar * query_part);
/* Header @name of the last request with @method on @path (a copy). */
gchar *stub_server_last_header (StubServer * server, const gchar * method,
    const gchar * path, const gchar * name);

G_END_DECLS
