/* test-ids.c: outside identifiers, segment name templates, and s3://
 * URIs (percent-decoded keys) against the AWS CLI's literal form.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-ids.h"
#include "rcx-s3.h"

#include <string.h>

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

static void
test_segment_names (void)
{
  g_assert_true (rcx_segment_name_is_valid ("segment%05d.ts"));
  g_assert_true (rcx_segment_name_is_valid ("seg%d.ts"));
  g_assert_true (rcx_segment_name_is_valid ("seg%u.ts"));
  g_assert_true (rcx_segment_name_is_valid ("a b'\"!=#?+\xc3\xa9-%03d.ts"));
  g_assert_false (rcx_segment_name_is_valid (NULL));
  g_assert_false (rcx_segment_name_is_valid ("seg.ts"));
  g_assert_false (rcx_segment_name_is_valid ("seg%d%d.ts"));
  g_assert_false (rcx_segment_name_is_valid ("seg%123d.ts"));
  g_assert_false (rcx_segment_name_is_valid ("seg%s.ts"));
  g_assert_false (rcx_segment_name_is_valid ("seg%%%d.ts"));
  g_assert_false (rcx_segment_name_is_valid ("seg%-5d.ts"));
  g_assert_false (rcx_segment_name_is_valid ("../seg%d.ts"));
  g_assert_false (rcx_segment_name_is_valid ("/seg%d.ts"));
  g_assert_false (rcx_segment_name_is_valid ("seg\\%d.ts"));
  g_assert_false (rcx_segment_name_is_valid ("seg\n%d.ts"));
}

static void
assert_uri_key (const gchar * uri, const gchar * want)
{
  g_autofree gchar *bucket = NULL;
  g_autofree gchar *key = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (rcx_s3_uri_parse (uri, &bucket, &key, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (bucket, ==, "media");
  g_assert_cmpstr (key, ==, want);
}

static void
assert_uri_refused (const gchar * uri)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (rcx_s3_uri_parse (uri, NULL, NULL, FALSE, &error));
  g_assert_error (error, RCX_S3_ERROR, RCX_S3_ERROR_SETTINGS);
}

static void
test_s3_uris (void)
{
  const gchar *keys[] = { "up/a b+c.mp4", "up/it's \"#1\"? 100% ! = ok",
    "\xe6\x97\xa5\xe6\x9c\xac/\xc3\xa9.mp4", "a%20b", "~a-b_c.d/e", NULL
  };
  g_autofree gchar *uri = NULL;
  g_autofree gchar *long_key = g_strnfill (1024, 'k');
  g_autoptr (GError) error = NULL;

  /* decoding, as GStreamer's URI handlers and awss3src */
  assert_uri_key ("s3://media/up/a%20b%2Bc.mp4", "up/a b+c.mp4");
  assert_uri_key ("s3://media/up/a+b.mp4", "up/a+b.mp4");
  assert_uri_key ("s3://media/a%25b", "a%b");
  assert_uri_key ("s3://media/%E6%97%A5", "\xe6\x97\xa5");
  assert_uri_refused ("s3://media/a%zz");
  assert_uri_refused ("s3://media/a%2");
  assert_uri_refused ("s3://media/a%00b");
  assert_uri_refused ("s3://media/a%0Ab");
  assert_uri_refused ("s3://media/%2E%2E/x");
  assert_uri_refused ("s3://media/a/%2e/b");
  assert_uri_refused ("s3://media/a?x=1");
  assert_uri_refused ("s3://media/a#f");
  assert_uri_refused ("s3://media/%FF");

  /* encoding: only unreserved characters and '/' stay; round trip */
  uri = rcx_s3_uri_build ("media", "up/a b+c.mp4");
  g_assert_cmpstr (uri, ==, "s3://media/up/a%20b%2Bc.mp4");
  g_clear_pointer (&uri, g_free);
  for (guint i = 0; keys[i]; i++) {
    uri = rcx_s3_uri_build ("media", keys[i]);
    for (const gchar * p = uri + 5; *p; p++)
      g_assert_true (g_ascii_isalnum (*p) || strchr ("-._~/%", *p));
    assert_uri_key (uri, keys[i]);
    g_clear_pointer (&uri, g_free);
  }
  uri = rcx_s3_uri_build ("media", long_key);
  assert_uri_key (uri, long_key);
  g_clear_pointer (&uri, g_free);

  /* the AWS CLI's form: literal */
  uri = rcx_s3_uri_from_path ("s3://media/up/a%20b.mp4", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (uri, ==, "s3://media/up/a%2520b.mp4");
  g_clear_pointer (&uri, g_free);
  uri = rcx_s3_uri_from_path ("s3://media/up/a b?#.mp4", FALSE, &error);
  g_assert_no_error (error);
  assert_uri_key (uri, "up/a b?#.mp4");
  g_clear_pointer (&uri, g_free);
  uri = rcx_s3_uri_from_path ("s3://media/o p/", TRUE, &error);
  g_assert_cmpstr (uri, ==, "s3://media/o%20p/");
  g_clear_pointer (&uri, g_free);
  g_assert_null (rcx_s3_uri_from_path ("s3://media/a/../b", FALSE, &error));
  g_assert_error (error, RCX_S3_ERROR, RCX_S3_ERROR_SETTINGS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ids/valid", test_valid_ids);
  g_test_add_func ("/ids/invalid", test_invalid_ids);
  g_test_add_func ("/ids/segment-names", test_segment_names);
  g_test_add_func ("/ids/s3-uris", test_s3_uris);
  return g_test_run ();
}
