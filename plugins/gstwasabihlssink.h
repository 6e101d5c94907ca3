/* GStreamer HLS rendition sink to a local folder or S3/Wasabi
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_WASABI_HLS_SINK (gst_wasabi_hls_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstWasabiHlsSink, gst_wasabi_hls_sink, GST,
    WASABI_HLS_SINK, GstBin)

G_END_DECLS
