/* fuzz-ts.c: the MPEG-TS scanner (segments read back for the HLS checks)
 * on arbitrary bytes, and what it derives from a scan.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "rcx-ts.h"

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *codec = NULL;
  RcxTsInfo info;
  guint i;

  rcx_ts_info_init (&info);
  if (rcx_ts_scan (data, size, &info, &error)) {
    (void) rcx_ts_info_get_duration (&info, 0);
    (void) rcx_ts_info_get_duration (&info, 3003);
    codec = rcx_ts_info_get_avc_codec (&info);
    for (i = 0; info.iframes && i < info.iframes->len; i++) {
      RcxTsIFrame *f = &g_array_index (info.iframes, RcxTsIFrame, i);

      g_assert (f->offset <= size && f->length <= size - f->offset);
    }
  } else {
    g_assert (error != NULL);
  }
  rcx_ts_info_clear (&info);
  return 0;
}
