/* fuzz-common.h: what every libFuzzer target here shares.
 *
 * Its LLVMFuzzerInitialize makes GLib's criticals and warnings fatal (a
 * g_return_if_fail that trips is a bug the fuzzer should report) and
 * silences the rest of the log, which would otherwise slow the run down.
 * Include it from the target's one source file only.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <string.h>
#include <glib.h>

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags level, const GLogField * fields,
    gsize n_fields, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL
          | G_LOG_LEVEL_WARNING))
    return g_log_writer_standard_streams (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL
      | G_LOG_LEVEL_WARNING);
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
  return 0;
}

/* Splits @data at the first @n - 1 '\n' bytes into @n NUL-terminated
 * fields (missing ones are ""). Free with g_strfreev. */
static inline gchar **
fuzz_fields (const guint8 * data, size_t size, guint n)
{
  gchar **fields = g_new0 (gchar *, n + 1);
  const guint8 *p = data, *end = data + size;
  guint i;

  for (i = 0; i < n; i++) {
    const guint8 *nl = i + 1 < n ? memchr (p, '\n', end - p) : NULL;
    const guint8 *stop = nl ? nl : end;

    fields[i] = g_strndup ((const gchar *) p, stop - p);
    p = nl ? nl + 1 : end;
  }
  return fields;
}
