/* gstrugbycodexelements.h: every element of the rugbycodex plugin.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE (wasabisrc);
GST_ELEMENT_REGISTER_DECLARE (wasabisink);
GST_ELEMENT_REGISTER_DECLARE (wasabihlssink);
GST_ELEMENT_REGISTER_DECLARE (jobstatus);

G_END_DECLS
