/* rcx-s3-upload.c: RcxS3Upload, a streamed object written as a multipart
 * upload whose parts go out in parallel on a thread pool (or as one PUT
 * when it stays under a part).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-s3-private.h"

#include <string.h>

struct _RcxS3Upload
{
  RcxS3Client *client;
  gchar *bucket;
  gchar *key;
  gchar *content_type;
  gchar *cache_control;
  gsize part_size;
  guint max_parallel;

  GByteArray *buf;              /* the part being filled */
  guint64 bytes_written;
  gchar *upload_id;             /* set once CreateMultipartUpload answered */
  guint n_parts;                /* parts handed to the pool */
  GThreadPool *pool;
  GCancellable *parts_cancellable;      /* cancels parts in flight */

  GMutex lock;
  GCond cond;
  guint in_flight;              /* protected by lock */
  GPtrArray *etags;             /* protected by lock; [i] = part i + 1 */
  GError *part_error;           /* protected by lock; the first failure */

  gboolean done;                /* completed (or PutObject) */
  gboolean aborted;
};

typedef struct
{
  guint number;
  GBytes *data;
} UploadPart;

static void
upload_options (RcxS3Upload * upload, RcxS3PutOptions * options)
{
  options->content_type = upload->content_type;
  options->cache_control = upload->cache_control;
}

static void
upload_part_func (gpointer data, gpointer user_data)
{
  UploadPart *part = data;
  RcxS3Upload *upload = user_data;
  g_autoptr (GError) error = NULL;
  gchar *etag = NULL;

  if (!g_cancellable_is_cancelled (upload->parts_cancellable))
    etag = rcx_s3_upload_part (upload->client, upload->bucket, upload->key,
        upload->upload_id, part->number, part->data,
        upload->parts_cancellable, &error);
  else
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
        "upload aborted");

  g_mutex_lock (&upload->lock);
  if (etag != NULL) {
    if (upload->etags->len < part->number)
      g_ptr_array_set_size (upload->etags, part->number);
    upload->etags->pdata[part->number - 1] = etag;
  } else if (upload->part_error == NULL) {
    upload->part_error = g_steal_pointer (&error);
  }
  upload->in_flight--;
  g_cond_broadcast (&upload->cond);
  g_mutex_unlock (&upload->lock);

  g_bytes_unref (part->data);
  g_free (part);
}

RcxS3Upload *
rcx_s3_upload_new (RcxS3Client * client, const gchar * bucket,
    const gchar * key, const RcxS3PutOptions * options, gsize part_size,
    guint max_parallel)
{
  RcxS3Upload *upload = g_new0 (RcxS3Upload, 1);

  upload->client = rcx_s3_client_ref (client);
  upload->bucket = g_strdup (bucket);
  upload->key = g_strdup (key);
  if (options) {
    upload->content_type = g_strdup (options->content_type);
    upload->cache_control = g_strdup (options->cache_control);
  }
  if (part_size == 0)
    part_size = RCX_S3_DEFAULT_PART_SIZE;
  upload->part_size =
      CLAMP (part_size, RCX_S3_MIN_PART_SIZE, RCX_S3_MAX_PART_SIZE);
  upload->max_parallel = max_parallel ? max_parallel :
      RCX_S3_DEFAULT_MAX_PARALLEL_PARTS;
  upload->buf = g_byte_array_new ();
  upload->parts_cancellable = g_cancellable_new ();
  upload->etags = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&upload->lock);
  g_cond_init (&upload->cond);
  return upload;
}

static void
wake_upload (GCancellable * cancellable, gpointer data)
{
  RcxS3Upload *upload = data;

  g_mutex_lock (&upload->lock);
  g_cond_broadcast (&upload->cond);
  g_mutex_unlock (&upload->lock);
}

/* Waits until at most @max parts are in flight. FALSE with @error when a
 * part failed or @cancellable fired. */
static gboolean
wait_in_flight (RcxS3Upload * upload, guint max, GCancellable * cancellable,
    GError ** error)
{
  gulong handler = 0;
  gboolean ok = TRUE;

  if (cancellable)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_upload),
        upload, NULL);
  g_mutex_lock (&upload->lock);
  while (upload->in_flight > max && upload->part_error == NULL
      && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&upload->cond, &upload->lock);
  if (upload->part_error != NULL) {
    g_propagate_error (error, g_error_copy (upload->part_error));
    ok = FALSE;
  }
  g_mutex_unlock (&upload->lock);
  if (handler)
    g_cancellable_disconnect (cancellable, handler);
  if (ok && g_cancellable_set_error_if_cancelled (cancellable, error))
    ok = FALSE;
  return ok;
}

/* Hands the current buffer to the pool as the next part. */
static gboolean
send_part (RcxS3Upload * upload, GCancellable * cancellable, GError ** error)
{
  UploadPart *part;
  GError *pool_error = NULL;

  if (upload->upload_id == NULL) {
    RcxS3PutOptions options;

    upload_options (upload, &options);
    upload->upload_id = rcx_s3_create_multipart_upload (upload->client,
        upload->bucket, upload->key, &options, cancellable, error);
    if (upload->upload_id == NULL)
      return FALSE;
    upload->pool = g_thread_pool_new (upload_part_func, upload,
        (gint) upload->max_parallel, FALSE, NULL);
  }
  if (upload->n_parts >= 10000) {
    rcx_s3_set_error (error, RCX_S3_ERROR_FAILED, 0, NULL, NULL,
        "S3 upload s3://%s/%s: more than 10000 parts (part size %"
        G_GSIZE_FORMAT ")", upload->bucket, upload->key, upload->part_size);
    return FALSE;
  }
  /* bound the memory: at most max_parallel parts in flight */
  if (!wait_in_flight (upload, upload->max_parallel - 1, cancellable, error))
    return FALSE;

  part = g_new0 (UploadPart, 1);
  part->number = ++upload->n_parts;
  part->data = g_byte_array_free_to_bytes (upload->buf);
  upload->buf = g_byte_array_new ();
  g_mutex_lock (&upload->lock);
  upload->in_flight++;
  g_mutex_unlock (&upload->lock);
  if (!g_thread_pool_push (upload->pool, part, &pool_error)) {
    g_mutex_lock (&upload->lock);
    upload->in_flight--;
    g_mutex_unlock (&upload->lock);
    g_bytes_unref (part->data);
    g_free (part);
    g_propagate_error (error, pool_error);
    return FALSE;
  }
  return TRUE;
}

gboolean
rcx_s3_upload_write (RcxS3Upload * upload, const guint8 * data, gsize len,
    GCancellable * cancellable, GError ** error)
{
  g_return_val_if_fail (!upload->done && !upload->aborted, FALSE);

  while (len > 0) {
    gsize n = MIN (len, upload->part_size - upload->buf->len);

    g_byte_array_append (upload->buf, data, (guint) n);
    upload->bytes_written += n;
    data += n;
    len -= n;
    if (upload->buf->len >= upload->part_size
        && !send_part (upload, cancellable, error))
      return FALSE;
  }
  return TRUE;
}

gboolean
rcx_s3_upload_finish (RcxS3Upload * upload, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (GPtrArray) etags = NULL;
  guint i;

  if (upload->done)
    return TRUE;
  g_return_val_if_fail (!upload->aborted, FALSE);

  if (upload->upload_id == NULL) {
    RcxS3PutOptions options;
    g_autoptr (GBytes) body = g_byte_array_free_to_bytes (upload->buf);

    upload->buf = g_byte_array_new ();
    upload_options (upload, &options);
    if (!rcx_s3_put_object (upload->client, upload->bucket, upload->key,
            body, &options, NULL, cancellable, error))
      return FALSE;
    upload->done = TRUE;
    return TRUE;
  }

  if (upload->buf->len > 0 && !send_part (upload, cancellable, error))
    return FALSE;
  if (!wait_in_flight (upload, 0, cancellable, error))
    return FALSE;

  etags = g_ptr_array_new ();
  g_mutex_lock (&upload->lock);
  for (i = 0; i < upload->n_parts; i++)
    g_ptr_array_add (etags, i < upload->etags->len ?
        upload->etags->pdata[i] : NULL);
  g_mutex_unlock (&upload->lock);
  for (i = 0; i < etags->len; i++) {
    if (etags->pdata[i] == NULL) {
      rcx_s3_set_error (error, RCX_S3_ERROR_FAILED, 0, NULL, NULL,
          "S3 upload s3://%s/%s: part %u has no ETag", upload->bucket,
          upload->key, i + 1);
      return FALSE;
    }
  }
  if (!rcx_s3_complete_multipart_upload (upload->client, upload->bucket,
          upload->key, upload->upload_id,
          (const gchar * const *) etags->pdata, etags->len, cancellable, error))
    return FALSE;
  upload->done = TRUE;
  return TRUE;
}

gboolean
rcx_s3_upload_abort (RcxS3Upload * upload, GError ** error)
{
  gboolean ok = TRUE;

  if (upload->done || upload->aborted)
    return TRUE;
  upload->aborted = TRUE;
  g_cancellable_cancel (upload->parts_cancellable);
  if (upload->pool != NULL) {
    /* parts in flight end (cancelled) before the abort goes out */
    g_thread_pool_free (upload->pool, FALSE, TRUE);
    upload->pool = NULL;
  }
  if (upload->upload_id != NULL) {
    ok = rcx_s3_abort_multipart_upload (upload->client, upload->bucket,
        upload->key, upload->upload_id, NULL, error);
  }
  g_byte_array_set_size (upload->buf, 0);
  return ok;
}

void
rcx_s3_upload_free (RcxS3Upload * upload)
{
  if (upload == NULL)
    return;
  if (!upload->done && !upload->aborted && upload->upload_id != NULL) {
    g_autoptr (GError) error = NULL;

    if (!rcx_s3_upload_abort (upload, &error))
      rcx_http_client_log (upload->client->http, G_LOG_LEVEL_WARNING,
          "aborting the upload of s3://%s/%s: %s", upload->bucket,
          upload->key, error->message);
  }
  if (upload->pool != NULL)
    g_thread_pool_free (upload->pool, FALSE, TRUE);
  g_object_unref (upload->parts_cancellable);
  g_byte_array_unref (upload->buf);
  g_ptr_array_unref (upload->etags);
  g_free (upload->upload_id);
  g_free (upload->bucket);
  g_free (upload->key);
  g_free (upload->content_type);
  g_free (upload->cache_control);
  g_mutex_clear (&upload->lock);
  g_cond_clear (&upload->cond);
  rcx_s3_client_unref (upload->client);
  g_free (upload);
}

guint64
rcx_s3_upload_get_bytes_written (RcxS3Upload * upload)
{
  return upload->bytes_written;
}
