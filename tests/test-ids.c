/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rcx-ids.h"

static void
test_valid_ids (void)
{
  g_assert_true (rcx_id_is_valid ("3f2b8c1e-9d4a-4e7b-a1c2-0e5f6a7b8c9d"));
  g_assert_true (rcx_id_is_valid ("media_42"));
  g_assert_true (rcx_id_is_valid ("A"));
}

static void
test_invalid_ids (void)
{
  g_autofree gchar *long_id = g_strnfill (129, 'a');

  g_assert_false (rcx_id_is_valid (NULL));
  g_assert_false (rcx_id_is_valid (""));
  g_assert_false (rcx_id_is_valid ("../etc"));
  g_assert_false (rcx_id_is_valid ("a/b"));
  g_assert_false (rcx_id_is_valid ("%2e%2e"));
  g_assert_false (rcx_id_is_valid ("-rf"));
  g_assert_false (rcx_id_is_valid ("a b"));
  g_assert_false (rcx_id_is_valid ("caf\xc3\xa9"));
  g_assert_false (rcx_id_is_valid (long_id));
  long_id[128] = '\0';
  g_assert_true (rcx_id_is_valid (long_id));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ids/valid", test_valid_ids);
  g_test_add_func ("/ids/invalid", test_invalid_ids);
  return g_test_run ();
}
