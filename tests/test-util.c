/* test-util.c: helpers shared by the C tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-util.h"

#include <glib/gstdio.h>

void
test_remove_tree (const gchar * path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (dir != NULL) {
    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);
      test_remove_tree (child);
    }
    g_dir_close (dir);
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

struct _TestSocketServer
{
  GSocketService *service;
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  guint16 port;
};

/* The service accepts in its thread's main context, run here. */
static gpointer
server_thread (gpointer data)
{
  TestSocketServer *server = data;

  g_main_context_push_thread_default (server->context);
  g_main_loop_run (server->loop);
  g_main_context_pop_thread_default (server->context);
  return NULL;
}

TestSocketServer *
test_socket_server_new (GCallback on_run, gpointer user_data)
{
  TestSocketServer *server = g_new0 (TestSocketServer, 1);
  g_autoptr (GInetAddress) loopback =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  server->context = g_main_context_new ();
  server->loop = g_main_loop_new (server->context, FALSE);
  g_main_context_push_thread_default (server->context);
  server->service = g_threaded_socket_service_new (4);
  g_socket_listener_add_address (G_SOCKET_LISTENER (server->service),
      address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound,
      &error);
  g_assert_no_error (error);
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (server->service, "run", on_run, user_data);
  g_socket_service_start (server->service);
  g_main_context_pop_thread_default (server->context);
  server->thread = g_thread_new ("test-socket-server", server_thread, server);
  return server;
}

guint16
test_socket_server_get_port (TestSocketServer * server)
{
  return server->port;
}

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

void
test_socket_server_free (TestSocketServer * server)
{
  g_socket_service_stop (server->service);
  g_socket_listener_close (G_SOCKET_LISTENER (server->service));
  /* a quit before the loop runs would be lost: quit from inside it */
  g_main_context_invoke (server->context, quit_loop, server->loop);
  g_thread_join (server->thread);
  g_object_unref (server->service);
  g_main_loop_unref (server->loop);
  g_main_context_unref (server->context);
  g_free (server);
}

gchar **
test_http_read_head (GSocketConnection * connection)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  g_autoptr (GDataInputStream) lines = g_data_input_stream_new (in);
  g_autoptr (GStrvBuilder) head = g_strv_builder_new ();
  guint n = 0;

  g_socket_set_timeout (g_socket_connection_get_socket (connection), 5);
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (lines),
      FALSE);
  for (;;) {
    g_autofree gchar *line = g_data_input_stream_read_line (lines, NULL,
        NULL, NULL);

    if (line == NULL)
      break;
    g_strchomp (line);
    if (line[0] == '\0')
      break;
    g_strv_builder_add (head, line);
    n++;
  }
  return n > 0 ? g_strv_builder_end (head) : NULL;
}
