/* test-util.h: helpers shared by the C tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes @path, a file or a folder with everything in it. */
void test_remove_tree (const gchar * path);

G_END_DECLS
