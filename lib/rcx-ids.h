/* rcx-ids.h: identifiers that come from outside (queue messages, command
 * lines) and end up in object keys, paths and SQL filters.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when @id is 1-128 characters of [A-Za-z0-9_-], not starting with '-'
 * (UUIDs and the seed's ids pass; "../x", "a/b", "" and "%2e" do not). */
gboolean rcx_id_is_valid (const gchar * id);

/* TRUE when @pattern is a segment name template wasabihlssink can use:
 * exactly one integer conversion (%d or %u, a width of at most two digits
 * such as %05d, no other '%'), and the name it gives is a safe relative
 * name (rcx_store_name_is_safe). The sink checks it at start and the
 * description loader (so `pipeline --check`) with it. */
gboolean rcx_segment_name_is_valid (const gchar * pattern);

G_END_DECLS
