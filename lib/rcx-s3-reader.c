/* rcx-s3-reader.c: RcxS3Reader, random-access reads of one object over
 * ranged GETs that keep one response body open between reads.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-s3-private.h"

#include <string.h>

/* a forward jump shorter than this is read through instead of reopening */
#define READ_THROUGH_MAX (512 * 1024)

struct _RcxS3Reader
{
  RcxS3Client *client;
  gchar *bucket;
  gchar *key;
  gboolean have_info;
  RcxS3ObjectInfo info;
  GInputStream *stream;         /* the open response body, or NULL */
  guint64 pos;                  /* object offset of the stream's next byte */
  guint opens;
  guint64 received;             /* body bytes read, read-throughs included */
};

RcxS3Reader *
rcx_s3_reader_new (RcxS3Client * client, const gchar * bucket,
    const gchar * key)
{
  RcxS3Reader *reader = g_new0 (RcxS3Reader, 1);

  reader->client = rcx_s3_client_ref (client);
  reader->bucket = g_strdup (bucket);
  reader->key = g_strdup (key);
  return reader;
}

void
rcx_s3_reader_close (RcxS3Reader * reader)
{
  if (reader->stream != NULL) {
    /* closing a half-read body drops the connection: nothing is drained */
    g_input_stream_close (reader->stream, NULL, NULL);
    g_clear_object (&reader->stream);
  }
}

void
rcx_s3_reader_free (RcxS3Reader * reader)
{
  if (reader == NULL)
    return;
  rcx_s3_reader_close (reader);
  rcx_s3_object_info_clear (&reader->info);
  g_free (reader->bucket);
  g_free (reader->key);
  rcx_s3_client_unref (reader->client);
  g_free (reader);
}

guint
rcx_s3_reader_get_open_count (RcxS3Reader * reader)
{
  return reader->opens;
}

guint64
rcx_s3_reader_get_received (RcxS3Reader * reader)
{
  return reader->received;
}

static void
info_copy (RcxS3ObjectInfo * dest, const RcxS3ObjectInfo * src)
{
  dest->size = src->size;
  dest->etag = g_strdup (src->etag);
  dest->content_type = g_strdup (src->content_type);
  dest->last_modified = src->last_modified;
}

gboolean
rcx_s3_reader_get_info (RcxS3Reader * reader, RcxS3ObjectInfo * info,
    GCancellable * cancellable, GError ** error)
{
  if (!reader->have_info) {
    if (!rcx_s3_head_object (reader->client, reader->bucket, reader->key,
            &reader->info, cancellable, error))
      return FALSE;
    reader->have_info = TRUE;
  }
  if (info != NULL) {
    rcx_s3_object_info_clear (info);
    info_copy (info, &reader->info);
  }
  return TRUE;
}

static gboolean
reader_open (RcxS3Reader * reader, guint64 offset, GCancellable * cancellable,
    GError ** error)
{
  g_auto (RcxS3ObjectInfo) info = { 0, };

  rcx_s3_reader_close (reader);
  reader->stream = rcx_s3_get_object (reader->client, reader->bucket,
      reader->key, offset, 0, reader->have_info ? reader->info.etag : NULL,
      &info, cancellable, error);
  if (reader->stream == NULL)
    return FALSE;
  reader->opens++;
  reader->pos = offset;
  if (reader->have_info && info.size != reader->info.size) {
    /* If-Match should have stopped this: another object, or a server that
     * ignores If-Match */
    rcx_s3_set_error (error, RCX_S3_ERROR_MISMATCH, 0, NULL, NULL,
        "S3 GET s3://%s/%s: the object has %" G_GUINT64_FORMAT " bytes, "
        "not %" G_GUINT64_FORMAT " as before", reader->bucket, reader->key,
        info.size, reader->info.size);
    rcx_s3_reader_close (reader);
    return FALSE;
  }
  if (!reader->have_info) {
    reader->info = info;
    memset (&info, 0, sizeof (info));
    reader->have_info = TRUE;
  }
  rcx_http_client_log (reader->client->http, G_LOG_LEVEL_DEBUG,
      "opened s3://%s/%s at %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
      " (open %u)", reader->bucket, reader->key, offset, reader->info.size,
      reader->opens);
  return TRUE;
}

gssize
rcx_s3_reader_read (RcxS3Reader * reader, guint64 offset, guint8 * buffer,
    gsize size, GCancellable * cancellable, GError ** error)
{
  RcxRetryPolicy *policy =
      rcx_http_client_get_retry_policy (reader->client->http);
  guint max_attempts = rcx_retry_policy_get_max_attempts (policy);
  guint failures = 0, cost = 0;
  gsize filled = 0;

  size = MIN (size, (gsize) G_MAXSSIZE);
  if (reader->have_info && offset >= reader->info.size)
    return 0;

  /* a short jump forward is read through; anything else reopens */
  if (reader->stream != NULL && reader->pos != offset
      && (offset < reader->pos || offset - reader->pos > READ_THROUGH_MAX))
    rcx_s3_reader_close (reader);

  while (filled < size) {
    g_autoptr (GError) read_error = NULL;
    guint64 want = offset + filled;
    gssize n;

    if (reader->have_info && want >= reader->info.size)
      break;

    if (reader->stream == NULL) {
      if (failures > 1) {
        gint64 delay = rcx_retry_policy_backoff (policy, failures - 2);

        rcx_http_client_log (reader->client->http, G_LOG_LEVEL_INFO,
            "resuming s3://%s/%s at %" G_GUINT64_FORMAT " in %"
            G_GINT64_FORMAT " ms", reader->bucket, reader->key, want,
            delay / 1000);
        if (!rcx_retry_sleep (delay, cancellable, error))
          return -1;
      }
      if (!reader_open (reader, want, cancellable, &read_error)) {
        /* an answer that is not the range asked for is not data: resumed
         * like a broken body; any other error is final (rcx_s3_send has
         * retried it) */
        if (!g_error_matches (read_error, RCX_S3_ERROR, RCX_S3_ERROR_MISMATCH)) {
          g_propagate_error (error, g_steal_pointer (&read_error));
          return -1;
        }
      }
    }

    if (reader->stream == NULL) {
      n = -1;
    } else if (reader->pos < want) {
      /* read through a short jump */
      guint8 scratch[16 * 1024];

      n = g_input_stream_read (reader->stream, scratch,
          MIN (sizeof (scratch), want - reader->pos), cancellable, &read_error);
      if (n > 0) {
        reader->pos += n;
        reader->received += n;
        continue;
      }
    } else {
      n = g_input_stream_read (reader->stream, buffer + filled, size - filled,
          cancellable, &read_error);
      if (n > 0) {
        reader->pos += n;
        reader->received += n;
        filled += n;
        if (failures > 0) {
          /* the resume worked: give the budget back */
          rcx_retry_policy_on_success (policy, cost);
          failures = 0;
          cost = 0;
        }
        continue;
      }
    }
    if (n == 0 && reader->have_info && reader->pos >= reader->info.size)
      break;
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return -1;

    /* reset, stall or a body that ended early: resume from reader->pos */
    failures++;
    rcx_s3_reader_close (reader);
    if (failures >= max_attempts) {
      rcx_s3_set_error (error, RCX_S3_ERROR_FAILED, 0, NULL, NULL,
          "S3 GET s3://%s/%s: reading at %" G_GUINT64_FORMAT " failed %u "
          "times: %s", reader->bucket, reader->key, want, failures,
          read_error ? read_error->message : "the body ended early");
      return -1;
    }
    {
      guint c = 0;

      if (!rcx_retry_budget_acquire (rcx_retry_policy_get_budget (policy),
              RCX_RETRY_KIND_TIMEOUT, &c)) {
        rcx_s3_set_error (error, RCX_S3_ERROR_FAILED, 0, NULL, NULL,
            "S3 GET s3://%s/%s: reading at %" G_GUINT64_FORMAT " failed (%s)"
            " and the retry budget is exhausted", reader->bucket, reader->key,
            want, read_error ? read_error->message : "the body ended early");
        return -1;
      }
      cost += c;
    }
    rcx_http_client_log (reader->client->http, G_LOG_LEVEL_INFO,
        "S3 GET s3://%s/%s: %s at %" G_GUINT64_FORMAT ", resuming (attempt "
        "%u of %u)", reader->bucket, reader->key,
        read_error ? read_error->message : "the body ended early",
        reader->pos, failures + 1, max_attempts);
  }
  return (gssize) filled;
}
