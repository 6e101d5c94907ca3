/* test-s3-client.c: the parts of rcx-s3 / rcx-http that need no server
 * (keys, URIs, error parsing, errors before sending). The client against
 * s3rver and the fault proxy is tests/test_s3_client.py.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-http.h"
#include "rcx-s3.h"

#include <string.h>

static void
test_key_is_safe (void)
{
  g_autofree gchar *long_key = g_strnfill (1025, 'k');

  g_assert_true (rcx_s3_key_is_safe ("media/abc/hls/720p/seg_00001.ts"));
  g_assert_true (rcx_s3_key_is_safe ("a b+c=d&e/\xc3\xa9.mp4"));
  g_assert_true (rcx_s3_key_is_safe ("a..b/c.d"));
  g_assert_false (rcx_s3_key_is_safe (NULL));
  g_assert_false (rcx_s3_key_is_safe (""));
  g_assert_false (rcx_s3_key_is_safe ("../x"));
  g_assert_false (rcx_s3_key_is_safe ("a/../../x"));
  g_assert_false (rcx_s3_key_is_safe ("a/./x"));
  g_assert_false (rcx_s3_key_is_safe ("a/.."));
  g_assert_false (rcx_s3_key_is_safe ("/abs"));
  g_assert_false (rcx_s3_key_is_safe ("a\nb"));
  g_assert_false (rcx_s3_key_is_safe ("a\\..\\b"));
  g_assert_false (rcx_s3_key_is_safe ("bad\xff"));
  g_assert_false (rcx_s3_key_is_safe (long_key));
  long_key[1024] = '\0';
  g_assert_true (rcx_s3_key_is_safe (long_key));
}

static void
test_uri_parse (void)
{
  g_autofree gchar *bucket = NULL;
  g_autofree gchar *key = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (rcx_s3_uri_parse ("s3://my-bucket/a/b/c.mp4", &bucket, &key,
          FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (bucket, ==, "my-bucket");
  g_assert_cmpstr (key, ==, "a/b/c.mp4");
  g_clear_pointer (&bucket, g_free);
  g_clear_pointer (&key, g_free);

  g_assert_true (rcx_s3_uri_parse ("s3://my-bucket/", &bucket, &key, TRUE,
          &error));
  g_assert_cmpstr (key, ==, "");
  g_assert_true (rcx_s3_uri_parse ("s3://my-bucket", NULL, NULL, TRUE, &error));
  g_assert_no_error (error);

  g_assert_false (rcx_s3_uri_parse ("s3://my-bucket/", NULL, NULL, FALSE,
          &error));
  g_assert_error (error, RCX_S3_ERROR, RCX_S3_ERROR_SETTINGS);
  g_clear_error (&error);
  g_assert_false (rcx_s3_uri_parse ("s3://b/../../etc", NULL, NULL, FALSE,
          &error));
  g_assert_error (error, RCX_S3_ERROR, RCX_S3_ERROR_SETTINGS);
  g_clear_error (&error);
  g_assert_false (rcx_s3_uri_parse ("s3://my-bucket/../x", NULL, NULL, FALSE,
          &error));
  g_assert_error (error, RCX_S3_ERROR, RCX_S3_ERROR_SETTINGS);
  g_clear_error (&error);
  g_assert_false (rcx_s3_uri_parse ("http://my-bucket/x", NULL, NULL, FALSE,
          &error));
  g_assert_error (error, RCX_S3_ERROR, RCX_S3_ERROR_SETTINGS);
}

static RcxHttpResponse *
response_with (guint status, const gchar * body)
{
  g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));

  return rcx_http_response_new (status, NULL, bytes);
}

static void
test_parse_errors (void)
{
  g_autoptr (RcxHttpResponse) s3 = response_with (503,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
      "<Message>Please reduce your request rate.</Message>"
      "<RequestId>4442587FB7D0A2F9</RequestId></Error>");
  g_autoptr (RcxHttpResponse) query = response_with (400,
      "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameterValue"
      "</Code><Message>bad</Message></Error><RequestId>42</RequestId>"
      "</ErrorResponse>");
  g_autoptr (RcxHttpResponse) json = response_with (400,
      "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\","
      "\"message\":\"The specified queue does not exist.\"}");
  g_autoptr (RcxHttpResponse) header = response_with (400, "");
  g_autoptr (RcxHttpResponse) xxe = response_with (403,
      "<?xml version=\"1.0\"?><!DOCTYPE Error [<!ENTITY x SYSTEM "
      "\"file:///etc/hostname\">]><Error><Code>&x;</Code></Error>");
  g_autoptr (RcxHttpResponse) junk = response_with (500, "<html><body>oops");

  rcx_http_response_parse_error (s3);
  g_assert_cmpstr (s3->error_code, ==, "SlowDown");
  g_assert_cmpstr (s3->error_message, ==, "Please reduce your request rate.");
  g_assert_cmpstr (s3->request_id, ==, "4442587FB7D0A2F9");
  g_assert_cmpint (rcx_retry_classify (s3->status, s3->error_code, NULL), ==,
      RCX_RETRY_KIND_TRANSIENT);

  rcx_http_response_parse_error (query);
  g_assert_cmpstr (query->error_code, ==, "InvalidParameterValue");
  g_assert_cmpstr (query->request_id, ==, "42");

  rcx_http_response_parse_error (json);
  g_assert_cmpstr (json->error_code, ==, "QueueDoesNotExist");
  g_assert_cmpstr (json->error_message, ==,
      "The specified queue does not exist.");

  soup_message_headers_append (header->headers, "x-amzn-query-error",
      "AWS.SimpleQueueService.NonExistentQueue;Sender");
  soup_message_headers_append (header->headers, "x-amzn-RequestId", "rid");
  rcx_http_response_parse_error (header);
  g_assert_cmpstr (header->error_code, ==,
      "AWS.SimpleQueueService.NonExistentQueue");
  g_assert_cmpstr (header->request_id, ==, "rid");

  /* external entities are neither loaded nor substituted */
  rcx_http_response_parse_error (xxe);
  g_assert_true (xxe->error_code == NULL || xxe->error_code[0] == '\0');

  rcx_http_response_parse_error (junk);
  g_assert_null (junk->error_code);
  g_assert_cmpint (rcx_retry_classify (junk->status, junk->error_code, NULL),
      ==, RCX_RETRY_KIND_TRANSIENT);
}

static void
test_refused_before_sending (void)
{
  RcxS3Config config;
  g_autoptr (RcxS3Client) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = g_bytes_new_static ("x", 1);

  rcx_s3_config_init (&config);
  config.endpoint_uri = g_strdup ("ftp://127.0.0.1:1");
  g_assert_null (rcx_s3_client_new (&config, &error));
  g_assert_error (error, RCX_S3_ERROR, RCX_S3_ERROR_SETTINGS);
  g_clear_error (&error);

  g_free (config.endpoint_uri);
  /* nothing listens there, and nothing must be sent anyway */
  config.endpoint_uri = g_strdup ("http://127.0.0.1:1");
  config.access_key = g_strdup ("AKIDEXAMPLE");
  config.secret_access_key = g_strdup ("secret");
  client = rcx_s3_client_new (&config, &error);
  g_assert_no_error (error);
  rcx_s3_config_clear (&config);

  g_assert_false (rcx_s3_put_object (client, "bucket", "../../escape", body,
          NULL, NULL, NULL, &error));
  g_assert_error (error, RCX_S3_ERROR, RCX_S3_ERROR_SETTINGS);
  g_assert_cmpuint (rcx_s3_error_get_http_status (error), ==, 0);
  g_assert_null (rcx_s3_error_get_s3_code (error));
  g_clear_error (&error);
  g_assert_false (rcx_s3_head_object (client, "b/../x", "key", NULL, NULL,
          &error));
  g_assert_error (error, RCX_S3_ERROR, RCX_S3_ERROR_SETTINGS);
  g_assert_cmpuint (rcx_s3_client_get_request_count (client), ==, 0);
}

static void
test_error_details_copy (void)
{
  RcxS3Config config;
  g_autoptr (RcxS3Client) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) copy = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  rcx_s3_config_init (&config);
  config.endpoint_uri = g_strdup ("http://127.0.0.1:1");
  config.access_key = g_strdup ("AKIDEXAMPLE");
  config.secret_access_key = g_strdup ("secret");
  client = rcx_s3_client_new (&config, &error);
  rcx_s3_config_clear (&config);
  g_assert_no_error (error);

  /* cancelled before anything is sent: G_IO_ERROR_CANCELLED */
  g_cancellable_cancel (cancellable);
  g_assert_false (rcx_s3_head_object (client, "bucket", "key", NULL,
          cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (rcx_s3_error_get_http_status (error), ==, 0);
  g_clear_error (&error);

  g_assert_false (rcx_s3_uri_parse ("s3://x", NULL, NULL, FALSE, &error));
  copy = g_error_copy (error);
  g_assert_error (copy, RCX_S3_ERROR, RCX_S3_ERROR_SETTINGS);
  g_assert_cmpstr (copy->message, ==, error->message);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/s3/key-is-safe", test_key_is_safe);
  g_test_add_func ("/s3/uri-parse", test_uri_parse);
  g_test_add_func ("/s3/parse-errors", test_parse_errors);
  g_test_add_func ("/s3/refused-before-sending", test_refused_before_sending);
  g_test_add_func ("/s3/error-details-copy", test_error_details_copy);
  return g_test_run ();
}
