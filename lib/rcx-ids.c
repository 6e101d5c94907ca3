/* rcx-ids.c: the allowlist for outside identifiers, and the one check of
 * a segment name template (the HLS sink at run time, the description
 * loader for `pipeline --check`).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-ids.h"
#include "rcx-store.h"

#define RCX_ID_MAX_LENGTH 128

gboolean
rcx_id_is_valid (const gchar * id)
{
  gsize i;

  if (id == NULL || id[0] == '\0' || id[0] == '-')
    return FALSE;
  for (i = 0; id[i] != '\0'; i++) {
    if (i >= RCX_ID_MAX_LENGTH)
      return FALSE;
    if (!g_ascii_isalnum (id[i]) && id[i] != '_' && id[i] != '-')
      return FALSE;
  }
  return TRUE;
}

gboolean
rcx_segment_name_is_valid (const gchar * pattern)
{
  guint conversions = 0;
  g_autofree gchar *sample = NULL;

  if (pattern == NULL)
    return FALSE;
  for (const gchar * p = pattern; *p != '\0'; p++) {
    guint digits = 0;

    if (*p != '%')
      continue;
    p++;
    /* a width of at most two digits: the template goes to printf */
    while (g_ascii_isdigit (*p) && digits < 2) {
      p++;
      digits++;
    }
    if (*p != 'd' && *p != 'u')
      return FALSE;
    conversions++;
  }
  if (conversions != 1)
    return FALSE;
  sample = g_strdup_printf (pattern, 0);
  return rcx_store_name_is_safe (sample);
}
