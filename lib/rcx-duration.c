/* rcx-duration.c: durations on the command line (see rcx-duration.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-duration.h"

#define MAX_SECONDS (30 * 24 * 3600)

gboolean
rcx_duration_parse (const gchar * what, const gchar * text, gint * seconds,
    GError ** error)
{
  guint64 n = 0, unit = 1;
  const gchar *p = text;

  while (p && g_ascii_isdigit (*p) && n <= MAX_SECONDS)
    n = n * 10 + (guint64) (*p++ - '0');
  if (p && p != text && n <= MAX_SECONDS) {
    if (*p == 's')
      p++;
    else if (*p == 'm' && p++)
      unit = 60;
    else if (*p == 'h' && p++)
      unit = 3600;
    if (*p == '\0' && n * unit <= MAX_SECONDS) {
      *seconds = (gint) (n * unit);
      return TRUE;
    }
  }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
      "%s: a duration like 900, 90s, 15m or 2h (at most 30 days)", what);
  return FALSE;
}
