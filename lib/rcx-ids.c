/* rcx-ids.c: the allowlist for outside identifiers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-ids.h"

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
