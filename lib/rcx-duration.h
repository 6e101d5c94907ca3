/* rcx-duration.h: a duration given on the command line ("900", "90s",
 * "15m", "2h"), such as --stale-after.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whole seconds (no suffix or "s"), minutes ("m") or hours ("h"), digits
 * only before the unit, at most 30 days; FALSE with G_OPTION_ERROR_BAD_VALUE
 * naming @what for anything else. */
gboolean rcx_duration_parse (const gchar * what, const gchar * text,
    gint * seconds, GError ** error);

G_END_DECLS
