/* gstrugbycodexelements.h: every element of the rugbycodex plugin. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

void rugbycodex_element_init (GstPlugin * plugin);

G_END_DECLS
