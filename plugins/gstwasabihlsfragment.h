/* GstWasabiHlsFragment: the in-memory output stream wasabihlssink hands
 * hlssink2 for each segment.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "gstwasabihlssink.h"

G_BEGIN_DECLS

/* An in-memory GOutputStream for one segment: the first flush() with data
 * hands the bytes to the sink's upload thread (hlssink2's giostreamsink
 * flushes when the fragment ends, before the playlist is written; the
 * stream itself is only closed later). Later flushes and close() do
 * nothing more. */
#define GST_TYPE_WASABI_HLS_FRAGMENT (gst_wasabi_hls_fragment_get_type ())
G_DECLARE_FINAL_TYPE (GstWasabiHlsFragment, gst_wasabi_hls_fragment, GST,
    WASABI_HLS_FRAGMENT, GOutputStream)

G_GNUC_INTERNAL
GOutputStream *gst_wasabi_hls_fragment_new (GstWasabiHlsSink * sink,
    guint generation, const gchar * name);

/* Defined in gstwasabihlssink.c: queues a finished segment's bytes for the
 * sink's upload thread (what the fragment's first flush calls). */
G_GNUC_INTERNAL
void gst_wasabi_hls_sink_queue_segment (GstWasabiHlsSink * self,
    guint generation, const gchar * name, GBytes * data);

G_END_DECLS
