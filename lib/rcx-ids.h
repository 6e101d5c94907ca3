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

G_END_DECLS
