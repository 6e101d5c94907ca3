/* test-util.h: helpers shared by the C tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Removes @path, a file or a folder with everything in it. */
void test_remove_tree (const gchar * path);

/* A TCP service on 127.0.0.1 (a free port) for tests that must send what
 * no HTTP library would: each connection runs @on_run (a
 * GThreadedSocketService::run handler, given @user_data) in a thread of
 * its own; the service accepts in a thread of its own. */
typedef struct _TestSocketServer TestSocketServer;

TestSocketServer *test_socket_server_new (GCallback on_run,
    gpointer user_data);
guint16 test_socket_server_get_port (TestSocketServer * server);
/* Stops accepting and waits for the accepting thread. */
void test_socket_server_free (TestSocketServer * server);

/* Reads an HTTP request head from @connection up to its empty line, with a
 * 5 s socket timeout (a client that stops reading or writing must not keep
 * the connection's thread for ever): its lines, the request line first,
 * without CR LF; NULL if the client sent nothing. */
gchar **test_http_read_head (GSocketConnection * connection);

G_END_DECLS
