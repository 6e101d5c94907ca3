/* The rugbycodex plugin: wasabisrc, wasabisink, wasabihlssink, jobstatus.
 * This file only registers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstrugbycodexelements.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  /* As gst-plugins-bad's plugins do: the plugin loads when any element
   * registered, so one broken element does not hide the others. */
  ret |= GST_ELEMENT_REGISTER (wasabisrc, plugin);
  ret |= GST_ELEMENT_REGISTER (wasabisink, plugin);
  ret |= GST_ELEMENT_REGISTER (wasabihlssink, plugin);
  ret |= GST_ELEMENT_REGISTER (jobstatus, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, rugbycodex,
    "Rugbycodex video infrastructure: S3/Wasabi source and sinks, HLS to storage, job status",
    plugin_init, PACKAGE_VERSION, "LGPL", PACKAGE, "https://rugbycodex.invalid/")
