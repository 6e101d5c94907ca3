/* fuzz-json.c: rcx_json_parse (the depth/size scan, then json-glib) on
 * arbitrary bytes. Whatever the scan lets through must parse or fail
 * without a crash, and what parses must serialise again.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "rcx-json.h"

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;

  root = rcx_json_parse ((const gchar *) data, size, 0, &error);
  if (root != NULL) {
    g_autofree gchar *text = json_to_string (root, FALSE);

    g_assert (text != NULL);
  } else {
    g_assert (error != NULL && error->domain == RCX_JSON_ERROR);
  }
  return 0;
}
