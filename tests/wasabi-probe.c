/* wasabi-probe: runs a gst-launch style pipeline and prints every ERROR and
 * WARNING message with its domain, code and details structure, one per
 * line, so the Python integration tests can check what the elements
 * post (gst-launch-1.0 prints neither the code nor the details):
 *
 *   ERROR <domain> <code-nick> <element> <details structure>
 *   WARNING <domain> <code-nick> <element> <details structure>
 *   EOS
 *   INTERRUPTED
 *
 * SIGINT stops the pipeline (to NULL, no EOS), like gst-launch without -e.
 * Exit status: 0 after EOS or SIGINT, 1 after an ERROR, 2 on bad usage.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib-unix.h>
#include <gst/gst.h>

typedef struct
{
  GMainLoop *loop;
  GstElement *pipeline;
  gint status;
} Probe;

static const gchar *
code_nick (GQuark domain, gint code)
{
  GType type = G_TYPE_INVALID;
  GEnumValue *value;

  if (domain == GST_RESOURCE_ERROR)
    type = GST_TYPE_RESOURCE_ERROR;
  else if (domain == GST_STREAM_ERROR)
    type = GST_TYPE_STREAM_ERROR;
  else if (domain == GST_CORE_ERROR)
    type = GST_TYPE_CORE_ERROR;
  else if (domain == GST_LIBRARY_ERROR)
    type = GST_TYPE_LIBRARY_ERROR;
  if (type == G_TYPE_INVALID)
    return "unknown";
  value = g_enum_get_value (g_type_class_peek (type), code);
  return value ? value->value_nick : "unknown";
}

static void
print_message (GstMessage * msg)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *debug = NULL;
  g_autofree gchar *details_str = NULL;
  g_autofree gchar *src = gst_object_get_path_string (GST_MESSAGE_SRC (msg));
  const GstStructure *details = NULL;
  const gchar *kind;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    kind = "ERROR";
    gst_message_parse_error (msg, &error, &debug);
    gst_message_parse_error_details (msg, &details);
  } else {
    kind = "WARNING";
    gst_message_parse_warning (msg, &error, &debug);
    gst_message_parse_warning_details (msg, &details);
  }
  details_str = details ? gst_structure_to_string (details) : g_strdup ("-");
  g_print ("%s %s %s %s %s\n", kind, g_quark_to_string (error->domain),
      code_nick (error->domain, error->code), src, details_str);
  g_printerr ("%s: %s (%s)\n", kind, error->message, GST_STR_NULL (debug));
}

/* Prints errors and warnings as they are posted, from the posting thread:
 * also those posted while the pipeline stops. */
static GstBusSyncReply
on_sync_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR ||
      GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING)
    print_message (msg);
  return GST_BUS_PASS;
}

static gboolean
on_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  Probe *probe = data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      probe->status = 1;
      g_main_loop_quit (probe->loop);
      break;
    case GST_MESSAGE_EOS:
      g_print ("EOS\n");
      g_main_loop_quit (probe->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigint (gpointer data)
{
  Probe *probe = data;

  g_print ("INTERRUPTED\n");
  g_main_loop_quit (probe->loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autofree gchar *desc = NULL;
  Probe probe = { 0, };

  gst_init (&argc, &argv);
  if (argc < 2) {
    g_printerr ("usage: %s PIPELINE-DESCRIPTION...\n", argv[0]);
    return 2;
  }
  desc = g_strjoinv (" ", argv + 1);
  probe.pipeline = gst_parse_launch (desc, &error);
  if (probe.pipeline == NULL || error != NULL) {
    g_printerr ("bad pipeline: %s\n", error ? error->message : "?");
    return 2;
  }
  probe.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (probe.pipeline);
  gst_bus_set_sync_handler (bus, on_sync_message, NULL, NULL);
  gst_bus_add_watch (bus, on_message, &probe);
  g_unix_signal_add (SIGINT, on_sigint, &probe);

  gst_element_set_state (probe.pipeline, GST_STATE_PLAYING);
  g_main_loop_run (probe.loop);
  gst_element_set_state (probe.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (probe.pipeline);
  g_main_loop_unref (probe.loop);
  gst_deinit ();
  return probe.status;
}
