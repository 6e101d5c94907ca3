/* fuzz-sqs-reply: libFuzzer target for rcx-sqs's reply parsers (what an SQS
 * endpoint, or anything pretending to be one, sends back): ReceiveMessage,
 * GetQueueAttributes, SendMessage and error replies. Every input must end
 * in a result or an RCX_SQS_ERROR_INVALID_REPLY, never a crash, a leak or
 * an unbounded allocation. Seeds: tests/fuzz/corpus/sqs-reply/.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <rcx-sqs.h>

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const gchar *text = (const gchar *) data;
  GPtrArray *messages;
  GHashTable *attrs;
  GError *error = NULL;
  gchar *id, *code = NULL, *message = NULL;
  guint i;

  messages = rcx_sqs_parse_receive_reply (text, size, &error);
  g_assert ((messages == NULL) != (error == NULL));
  if (messages != NULL) {
    g_assert_cmpuint (messages->len, <=, RCX_SQS_MAX_MESSAGES);
    for (i = 0; i < messages->len; i++) {
      RcxSqsMessage *m = messages->pdata[i];

      g_assert_nonnull (m->message_id);
      g_assert_nonnull (m->receipt_handle);
      g_assert_cmpuint (strlen (m->body), ==, m->body_len);
    }
    g_ptr_array_unref (messages);
  } else {
    g_assert_true (g_error_matches (error, RCX_SQS_ERROR,
            RCX_SQS_ERROR_INVALID_REPLY));
  }
  g_clear_error (&error);

  attrs = rcx_sqs_parse_attributes_reply (text, size, &error);
  g_assert ((attrs == NULL) != (error == NULL));
  g_clear_pointer (&attrs, g_hash_table_unref);
  g_clear_error (&error);

  id = rcx_sqs_parse_send_reply (text, size, "hello", &error);
  g_assert ((id == NULL) != (error == NULL));
  g_free (id);
  g_clear_error (&error);

  if (rcx_sqs_parse_error_reply (text, size, &code, &message)) {
    g_assert (code != NULL || message != NULL);
    if (message != NULL)
      for (i = 0; message[i]; i++)
        g_assert ((guchar) message[i] >= 0x20);
  }
  g_free (code);
  g_free (message);
  return 0;
}
