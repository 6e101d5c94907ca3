/* rcx-s3.c: S3 operations on rcx-http (stub: being written). */
#include "rcx-s3.h"

#include <string.h>

typedef struct
{
  guint http_status;
  gchar *s3_code;
  gchar *request_id;
} RcxS3ErrorPrivate;

static void
rcx_s3_error_private_init (RcxS3ErrorPrivate * priv)
{
}

static void
rcx_s3_error_private_copy (const RcxS3ErrorPrivate * src,
    RcxS3ErrorPrivate * dest)
{
  dest->http_status = src->http_status;
  dest->s3_code = g_strdup (src->s3_code);
  dest->request_id = g_strdup (src->request_id);
}

static void
rcx_s3_error_private_clear (RcxS3ErrorPrivate * priv)
{
  g_clear_pointer (&priv->s3_code, g_free);
  g_clear_pointer (&priv->request_id, g_free);
}

G_DEFINE_EXTENDED_ERROR (RcxS3Error, rcx_s3_error);

guint
rcx_s3_error_get_http_status (const GError * error)
{
  if (error == NULL || error->domain != RCX_S3_ERROR)
    return 0;
  return rcx_s3_error_get_private (error)->http_status;
}

const gchar *
rcx_s3_error_get_s3_code (const GError * error)
{
  if (error == NULL || error->domain != RCX_S3_ERROR)
    return NULL;
  return rcx_s3_error_get_private (error)->s3_code;
}

const gchar *
rcx_s3_error_get_request_id (const GError * error)
{
  if (error == NULL || error->domain != RCX_S3_ERROR)
    return NULL;
  return rcx_s3_error_get_private (error)->request_id;
}

#define NOT_YET(error) g_set_error_literal (error, G_IO_ERROR, \
    G_IO_ERROR_NOT_SUPPORTED, "not implemented yet")

void
rcx_s3_config_init (RcxS3Config * config)
{
  memset (config, 0, sizeof (*config));
  config->retry_attempts = RCX_S3_DEFAULT_RETRY_ATTEMPTS;
  config->request_timeout = RCX_S3_DEFAULT_REQUEST_TIMEOUT;
}

void
rcx_s3_config_clear (RcxS3Config * config)
{
  g_clear_pointer (&config->endpoint_uri, g_free);
  g_clear_pointer (&config->region, g_free);
  g_clear_pointer (&config->access_key, g_free);
  g_clear_pointer (&config->secret_access_key, g_free);
  g_clear_pointer (&config->session_token, g_free);
  g_clear_pointer (&config->profile, g_free);
}

void
rcx_s3_config_copy (RcxS3Config * dest, const RcxS3Config * src)
{
  *dest = *src;
  dest->endpoint_uri = g_strdup (src->endpoint_uri);
  dest->region = g_strdup (src->region);
  dest->access_key = g_strdup (src->access_key);
  dest->secret_access_key = g_strdup (src->secret_access_key);
  dest->session_token = g_strdup (src->session_token);
  dest->profile = g_strdup (src->profile);
}

gboolean
rcx_s3_uri_parse (const gchar * uri, gchar ** bucket, gchar ** key,
    gboolean allow_empty_key, GError ** error)
{
  NOT_YET (error);
  return FALSE;
}

gboolean
rcx_s3_key_is_safe (const gchar * key)
{
  return FALSE;
}

RcxS3Client *
rcx_s3_client_new (const RcxS3Config * config, GError ** error)
{
  NOT_YET (error);
  return NULL;
}

RcxS3Client *
rcx_s3_client_ref (RcxS3Client * client)
{
  return client;
}

void
rcx_s3_client_unref (RcxS3Client * client)
{
}

guint64
rcx_s3_client_get_request_count (RcxS3Client * client)
{
  return 0;
}

void
rcx_s3_object_info_clear (RcxS3ObjectInfo * info)
{
  g_clear_pointer (&info->etag, g_free);
  g_clear_pointer (&info->content_type, g_free);
  info->size = 0;
  info->last_modified = 0;
}

gboolean
rcx_s3_head_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, RcxS3ObjectInfo * info, GCancellable * cancellable,
    GError ** error)
{
  NOT_YET (error);
  return FALSE;
}

GInputStream *
rcx_s3_get_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, guint64 offset, guint64 length, const gchar * if_match,
    RcxS3ObjectInfo * info, GCancellable * cancellable, GError ** error)
{
  NOT_YET (error);
  return NULL;
}

gboolean
rcx_s3_put_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, GBytes * body, const RcxS3PutOptions * options,
    gchar ** etag_out, GCancellable * cancellable, GError ** error)
{
  NOT_YET (error);
  return FALSE;
}

gboolean
rcx_s3_delete_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, GCancellable * cancellable, GError ** error)
{
  NOT_YET (error);
  return FALSE;
}

gchar *
rcx_s3_create_multipart_upload (RcxS3Client * client,
    const gchar * bucket, const gchar * key, const RcxS3PutOptions * options,
    GCancellable * cancellable, GError ** error)
{
  NOT_YET (error);
  return NULL;
}

gchar *
rcx_s3_upload_part (RcxS3Client * client, const gchar * bucket,
    const gchar * key, const gchar * upload_id, guint part_number,
    GBytes * body, GCancellable * cancellable, GError ** error)
{
  NOT_YET (error);
  return NULL;
}

gboolean
rcx_s3_complete_multipart_upload (RcxS3Client * client,
    const gchar * bucket, const gchar * key, const gchar * upload_id,
    const gchar * const *etags, guint n_parts, GCancellable * cancellable,
    GError ** error)
{
  NOT_YET (error);
  return FALSE;
}

gboolean
rcx_s3_abort_multipart_upload (RcxS3Client * client,
    const gchar * bucket, const gchar * key, const gchar * upload_id,
    GCancellable * cancellable, GError ** error)
{
  NOT_YET (error);
  return FALSE;
}

RcxS3Reader *
rcx_s3_reader_new (RcxS3Client * client, const gchar * bucket,
    const gchar * key)
{
  return NULL;
}

void
rcx_s3_reader_free (RcxS3Reader * reader)
{
}

gboolean
rcx_s3_reader_get_info (RcxS3Reader * reader, RcxS3ObjectInfo * info,
    GCancellable * cancellable, GError ** error)
{
  NOT_YET (error);
  return FALSE;
}

gssize
rcx_s3_reader_read (RcxS3Reader * reader, guint64 offset,
    guint8 * buffer, gsize size, GCancellable * cancellable, GError ** error)
{
  NOT_YET (error);
  return -1;
}

guint
rcx_s3_reader_get_open_count (RcxS3Reader * reader)
{
  return 0;
}

void
rcx_s3_reader_close (RcxS3Reader * reader)
{
}

RcxS3Upload *
rcx_s3_upload_new (RcxS3Client * client, const gchar * bucket,
    const gchar * key, const RcxS3PutOptions * options, gsize part_size,
    guint max_parallel)
{
  return NULL;
}

gboolean
rcx_s3_upload_write (RcxS3Upload * upload, const guint8 * data,
    gsize len, GCancellable * cancellable, GError ** error)
{
  NOT_YET (error);
  return FALSE;
}

gboolean
rcx_s3_upload_finish (RcxS3Upload * upload,
    GCancellable * cancellable, GError ** error)
{
  NOT_YET (error);
  return FALSE;
}

gboolean
rcx_s3_upload_abort (RcxS3Upload * upload, GError ** error)
{
  NOT_YET (error);
  return FALSE;
}

void
rcx_s3_upload_free (RcxS3Upload * upload)
{
}

guint64
rcx_s3_upload_get_bytes_written (RcxS3Upload * upload)
{
  return 0;
}

void
rcx_s3_client_set_log_func (RcxS3Client * client, RcxS3LogFunc func,
    gpointer user_data, GDestroyNotify notify)
{
}
