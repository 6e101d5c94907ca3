/* gstwasabisink.h: writes a stream to an object in S3-compatible storage.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_WASABI_SINK (gst_wasabi_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstWasabiSink, gst_wasabi_sink, GST, WASABI_SINK,
    GstBaseSink)

G_END_DECLS
