/* rcx-sanitize.c: outside text made fit for logs (see rcx-sanitize.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-sanitize.h"

#include <string.h>

#define ELLIPSIS "..."

static gboolean
is_bidi_control (gunichar c)
{
  return c == 0x061C || c == 0x200E || c == 0x200F
      || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

gchar *
rcx_sanitize_text (const gchar * text, gssize length, gsize max_bytes)
{
  g_autofree gchar *valid = NULL;
  GString *out;
  const gchar *p;
  gboolean cut;

  if (text == NULL)
    return NULL;
  if (max_bytes == 0)
    max_bytes = RCX_SANITIZE_DEFAULT_MAX;
  max_bytes = MAX (max_bytes, sizeof (ELLIPSIS));
  if (length < 0)
    length = strlen (text);
  /* more input than this cannot fit in the cap: a kept character takes at
   * least as many bytes out as in (U+FFFD replaces 1 to 3 bytes) */
  cut = (gsize) length > 4 * max_bytes + 4;
  valid = g_utf8_make_valid (text, cut ? 4 * max_bytes + 4 : (gsize) length);

  out = g_string_sized_new (MIN (strlen (valid), max_bytes + 4));
  for (p = valid; *p != '\0' && out->len <= max_bytes; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (c == '\r' || c == '\n' || c == '\t' || c == 0x2028 || c == 0x2029)
      g_string_append_c (out, ' ');
    else if (!g_unichar_iscntrl (c) && !is_bidi_control (c))
      g_string_append_len (out, p, g_utf8_next_char (p) - p);
  }
  if (out->len > max_bytes || cut) {
    gsize keep = MIN (out->len, max_bytes - (sizeof (ELLIPSIS) - 1));

    /* back to a character boundary */
    while (keep > 0 && (out->str[keep] & 0xc0) == 0x80)
      keep--;
    g_string_truncate (out, keep);
    g_string_append (out, ELLIPSIS);
  }
  return g_string_free (out, FALSE);
}

gboolean
rcx_sanitize_is_header_safe (const gchar * value)
{
  const guchar *p;

  if (value == NULL)
    return TRUE;
  for (p = (const guchar *) value; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f)
      return FALSE;
  return TRUE;
}
