/* test-job-message.c: the SQS job message parser and the keys made from a
 * message (lib/rcx-job-message).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "rcx-job-message.h"

#define JOB "3f2b8c1e-9d4a-4e7b-a1c2-0e5f6a7b8c9d"
#define MEDIA "0a0a0a0a-0000-4000-8000-000000000002"
#define ORG "0e0e0e0e-0000-4000-8000-000000000001"

static gint
parse_code (const gchar * body, gsize len)
{
  g_auto (RcxJobMessage) msg = { 0 };
  g_autoptr (GError) error = NULL;

  if (rcx_job_message_parse (body, len, &msg, &error))
    return -1;
  g_assert_nonnull (error);
  g_assert_true (error->domain == RCX_JOB_MESSAGE_ERROR);
  g_assert_null (msg.job_id);
  g_assert_null (strchr (error->message, '\n'));
  return error->code;
}

#define CODE(body) parse_code (body, strlen (body))

static void
test_good (void)
{
  const gchar *body = "{\"job_id\": \"" JOB "\", \"media_id\": \"" MEDIA
      "\", \"org_id\": \"" ORG "\", \"extra\": {\"a\": [1, -2.5e3, true, "
      "null, \"\\u00e9\\n\"]}, \"n\": 0}";
  g_auto (RcxJobMessage) msg = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (rcx_job_message_parse (body, strlen (body), &msg, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (msg.job_id, ==, JOB);
  g_assert_cmpstr (msg.media_id, ==, MEDIA);
  g_assert_cmpstr (msg.org_id, ==, ORG);
}

static void
test_hostile (void)
{
  g_autofree gchar *big = NULL;
  g_autofree gchar *deep = NULL;
  const gchar nul[] = "{\"job_id\": \"a\0b\", \"media_id\": \"m\", "
      "\"org_id\": \"o\"}";
  GString *s;

  /* size cap: 1 MiB of padding */
  s = g_string_new ("{\"job_id\":\"j\",\"media_id\":\"m\",\"org_id\":\"o\","
      "\"pad\":\"");
  while (s->len < 1024 * 1024)
    g_string_append_c (s, 'x');
  g_string_append (s, "\"}");
  big = g_string_free (s, FALSE);
  g_assert_cmpint (CODE (big), ==, RCX_JOB_MESSAGE_ERROR_TOO_LARGE);

  /* not JSON, or not strict JSON */
  g_assert_cmpint (CODE (""), ==, RCX_JOB_MESSAGE_ERROR_INVALID);
  g_assert_cmpint (CODE ("{"), ==, RCX_JOB_MESSAGE_ERROR_INVALID);
  g_assert_cmpint (CODE ("{\"job_id\": 'x'}"), ==,
      RCX_JOB_MESSAGE_ERROR_INVALID);
  g_assert_cmpint (CODE ("{\"job_id\":\"j\",\"media_id\":\"m\",\"org_id\":"
          "\"o\",}"), ==, RCX_JOB_MESSAGE_ERROR_INVALID);
  g_assert_cmpint (CODE ("{\"job_id\":\"j\",\"media_id\":\"m\",\"org_id\":"
          "\"o\"} x"), ==, RCX_JOB_MESSAGE_ERROR_INVALID);
  g_assert_cmpint (CODE ("{/* c */\"job_id\":\"j\"}"), ==,
      RCX_JOB_MESSAGE_ERROR_INVALID);
  g_assert_cmpint (CODE ("{\"a\": 01}"), ==, RCX_JOB_MESSAGE_ERROR_INVALID);
  g_assert_cmpint (CODE ("{\"job_id\":\"j\",\"job_id\":\"k\"}"), ==,
      RCX_JOB_MESSAGE_ERROR_INVALID);
  g_assert_cmpint (CODE ("{\"a\":\"\xff\"}"), ==,
      RCX_JOB_MESSAGE_ERROR_INVALID);
  g_assert_cmpint (parse_code (nul, sizeof nul - 1), ==,
      RCX_JOB_MESSAGE_ERROR_INVALID);
  g_assert_cmpint (CODE ("{\"job_id\":\"a\\u0000b\",\"media_id\":\"m\","
          "\"org_id\":\"o\"}"), ==, RCX_JOB_MESSAGE_ERROR_INVALID);
  deep = g_strnfill (2000, '[');
  g_assert_cmpint (CODE (deep), ==, RCX_JOB_MESSAGE_ERROR_TYPE);
  g_free (g_steal_pointer (&deep));
  {
    g_autofree gchar *brackets = g_strnfill (RCX_JOB_MESSAGE_MAX_DEPTH, '[');

    deep = g_strconcat ("{\"a\":", brackets, NULL);
    g_assert_cmpint (CODE (deep), ==, RCX_JOB_MESSAGE_ERROR_INVALID);
  }

  /* wrong types */
  g_assert_cmpint (CODE ("[]"), ==, RCX_JOB_MESSAGE_ERROR_TYPE);
  g_assert_cmpint (CODE ("\"x\""), ==, RCX_JOB_MESSAGE_ERROR_TYPE);
  g_assert_cmpint (CODE ("{\"job_id\": 12}"), ==, RCX_JOB_MESSAGE_ERROR_TYPE);
  g_assert_cmpint (CODE ("{\"job_id\": null}"), ==, RCX_JOB_MESSAGE_ERROR_TYPE);
  g_assert_cmpint (CODE ("{\"job_id\": [\"" JOB "\"]}"), ==,
      RCX_JOB_MESSAGE_ERROR_TYPE);
  g_assert_cmpint (CODE ("{\"job_id\": {}}"), ==, RCX_JOB_MESSAGE_ERROR_TYPE);

  /* missing ids; a nested job_id is not ours */
  g_assert_cmpint (CODE ("{}"), ==, RCX_JOB_MESSAGE_ERROR_MISSING);
  g_assert_cmpint (CODE ("{\"x\":{\"job_id\":\"j\",\"media_id\":\"m\","
          "\"org_id\":\"o\"}}"), ==, RCX_JOB_MESSAGE_ERROR_MISSING);

  /* ids off the allowlist */
  g_assert_cmpint (CODE ("{\"job_id\":\"../x\",\"media_id\":\"m\","
          "\"org_id\":\"o\"}"), ==, RCX_JOB_MESSAGE_ERROR_ID);
  g_assert_cmpint (CODE ("{\"job_id\":\"j\",\"media_id\":\"%2e%2e\","
          "\"org_id\":\"o\"}"), ==, RCX_JOB_MESSAGE_ERROR_ID);
  g_assert_cmpint (CODE ("{\"job_id\":\"j\",\"media_id\":\"m\","
          "\"org_id\":\"\"}"), ==, RCX_JOB_MESSAGE_ERROR_ID);
  /* an escape that spells an allowed character is refused all the same */
  g_assert_cmpint (CODE ("{\"job_id\":\"\\u0041\",\"media_id\":\"m\","
          "\"org_id\":\"o\"}"), ==, RCX_JOB_MESSAGE_ERROR_ID);
}

static void
test_keys (void)
{
  RcxJobMessage msg = {.job_id = (gchar *) "j1",.media_id = (gchar *) "m1",
    .org_id = (gchar *) "o1"
  };
  g_autofree gchar *key = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (rcx_job_source_key_is_valid ("o1/m1/source.mp4"));
  g_assert_true (rcx_job_source_key_is_valid ("in/a b (1).mov"));
  g_assert_false (rcx_job_source_key_is_valid (""));
  g_assert_false (rcx_job_source_key_is_valid ("/abs"));
  g_assert_false (rcx_job_source_key_is_valid ("a/../b"));
  g_assert_false (rcx_job_source_key_is_valid (".."));
  g_assert_false (rcx_job_source_key_is_valid ("a/./b"));
  g_assert_false (rcx_job_source_key_is_valid ("a/%2E%2e/b"));
  g_assert_false (rcx_job_source_key_is_valid ("a\\b"));
  g_assert_false (rcx_job_source_key_is_valid ("a\nb"));

  g_assert_true (rcx_job_key_template_check ("{org_id}/{media_id}/hls/",
          &error));
  g_assert_no_error (error);
  key = rcx_job_key_template_expand ("{org_id}/{media_id}/hls/", &msg);
  g_assert_cmpstr (key, ==, "o1/m1/hls/");
  g_free (g_steal_pointer (&key));
  key = rcx_job_key_template_expand ("out/{job_id}-{media_id}/", &msg);
  g_assert_cmpstr (key, ==, "out/j1-m1/");

  g_assert_false (rcx_job_key_template_check ("{bucket}/", &error));
  g_clear_error (&error);
  g_assert_false (rcx_job_key_template_check ("{org_id/", &error));
  g_clear_error (&error);
  g_assert_false (rcx_job_key_template_check ("{org_id}/hls", &error));
  g_clear_error (&error);
  g_assert_false (rcx_job_key_template_check ("/{org_id}/", &error));
  g_clear_error (&error);
  g_assert_false (rcx_job_key_template_check ("../{org_id}/", &error));
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/job-message/good", test_good);
  g_test_add_func ("/job-message/hostile", test_hostile);
  g_test_add_func ("/job-message/keys", test_keys);
  return g_test_run ();
}
