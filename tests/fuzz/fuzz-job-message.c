/* fuzz-job-message.c: libFuzzer target for the SQS job message parser
 * (lib/rcx-job-message.c): whatever the bytes, no crash, no leak, no read
 * outside them, and a parsed message holds three ids on the allowlist.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
 *     $(pkg-config --cflags glib-2.0) tests/fuzz/fuzz-job-message.c \
 *     lib/rcx-job-message.c lib/rcx-ids.c $(pkg-config --libs glib-2.0) \
 *     -o fuzz-job-message
 *   ./fuzz-job-message -max_total_time=60 tests/fuzz/corpus/job-message
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdint.h>
#include <string.h>

#include "rcx-ids.h"
#include "rcx-job-message.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  RcxJobMessage msg = { 0 };
  GError *error = NULL;
  /* a copy of exactly @size bytes: ASan catches a read past the end */
  gchar *copy = g_memdup2 (data, size);

  if (rcx_job_message_parse (copy, size, &msg, &error)) {
    g_assert (error == NULL);
    g_assert (rcx_id_is_valid (msg.job_id));
    g_assert (rcx_id_is_valid (msg.media_id));
    g_assert (rcx_id_is_valid (msg.org_id));
    g_assert (size <= RCX_JOB_MESSAGE_MAX_SIZE);
  } else {
    g_assert (error != NULL && msg.job_id == NULL && msg.media_id == NULL
        && msg.org_id == NULL);
    g_assert (strchr (error->message, '\n') == NULL);
    g_error_free (error);
  }
  rcx_job_message_clear (&msg);
  g_free (copy);
  return 0;
}
