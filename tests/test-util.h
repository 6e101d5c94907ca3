/* test-util.h: helpers shared by the C tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes @path, a file or a folder with everything in it. */
void test_remove_tree (const gchar * path);

G_END_DECLS
