/* gstwasabisrc.h: reads an object from S3-compatible storage.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstbasesrc.h>

G_BEGIN_DECLS

#define GST_TYPE_WASABI_SRC (gst_wasabi_src_get_type ())
G_DECLARE_FINAL_TYPE (GstWasabiSrc, gst_wasabi_src, GST, WASABI_SRC,
    GstBaseSrc)

G_END_DECLS
