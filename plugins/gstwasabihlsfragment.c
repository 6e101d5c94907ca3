/* GstWasabiHlsFragment: the in-memory GOutputStream wasabihlssink gives
 * hlssink2 for one segment (see gstwasabihlsfragment.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwasabihlsfragment.h"

struct _GstWasabiHlsFragment
{
  GOutputStream parent;

  GWeakRef sink;
  guint generation;
  gchar *name;
  GByteArray *data;
  gboolean handed_off;
};

G_DEFINE_TYPE (GstWasabiHlsFragment, gst_wasabi_hls_fragment,
    G_TYPE_OUTPUT_STREAM);

static gssize
gst_wasabi_hls_fragment_write (GOutputStream * stream, const void *buffer,
    gsize count, GCancellable * cancellable, GError ** error)
{
  GstWasabiHlsFragment *self = GST_WASABI_HLS_FRAGMENT (stream);

  if (self->handed_off) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
        "Segment %s was already handed to the uploader", self->name);
    return -1;
  }
  g_byte_array_append (self->data, buffer, count);
  return count;
}

static gboolean
gst_wasabi_hls_fragment_flush (GOutputStream * stream,
    GCancellable * cancellable, GError ** error)
{
  GstWasabiHlsFragment *self = GST_WASABI_HLS_FRAGMENT (stream);
  g_autoptr (GstWasabiHlsSink) sink = NULL;
  g_autoptr (GBytes) bytes = NULL;

  if (self->handed_off || self->data->len == 0)
    return TRUE;
  self->handed_off = TRUE;
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&self->data));
  self->data = g_byte_array_new ();
  sink = g_weak_ref_get (&self->sink);
  if (sink != NULL)
    gst_wasabi_hls_sink_queue_segment (sink, self->generation, self->name,
        bytes);
  return TRUE;
}

static void
gst_wasabi_hls_fragment_finalize (GObject * object)
{
  GstWasabiHlsFragment *self = GST_WASABI_HLS_FRAGMENT (object);

  g_weak_ref_clear (&self->sink);
  g_free (self->name);
  g_byte_array_unref (self->data);
  G_OBJECT_CLASS (gst_wasabi_hls_fragment_parent_class)->finalize (object);
}

static void
gst_wasabi_hls_fragment_init (GstWasabiHlsFragment * self)
{
  g_weak_ref_init (&self->sink, NULL);
  self->data = g_byte_array_new ();
}

static void
gst_wasabi_hls_fragment_class_init (GstWasabiHlsFragmentClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  gobject_class->finalize = gst_wasabi_hls_fragment_finalize;
  stream_class->write_fn = gst_wasabi_hls_fragment_write;
  stream_class->flush = gst_wasabi_hls_fragment_flush;
}

GOutputStream *
gst_wasabi_hls_fragment_new (GstWasabiHlsSink * sink, guint generation,
    const gchar * name)
{
  GstWasabiHlsFragment *stream =
      g_object_new (GST_TYPE_WASABI_HLS_FRAGMENT, NULL);

  g_weak_ref_set (&stream->sink, sink);
  stream->generation = generation;
  stream->name = g_strdup (name);
  return G_OUTPUT_STREAM (stream);
}
