/* rcx-store.c: local folder or S3 prefix as one destination.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-store.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

struct _RcxStore
{
  gint ref_count;
  gchar *location;              /* normalised */
  /* local */
  gchar *dir;
  /* s3 */
  RcxS3Client *client;
  gchar *bucket;
  gchar *prefix;                /* "" or ending with '/' */
};

gboolean
rcx_store_name_is_safe (const gchar * name)
{
  const gchar *p, *seg;

  if (name == NULL || name[0] == '\0' || name[0] == '/')
    return FALSE;
  if (!g_utf8_validate (name, -1, NULL))
    return FALSE;
  for (p = name; *p != '\0'; p++) {
    if ((guchar) * p < 0x20 || *p == 0x7f || *p == '\\')
      return FALSE;
  }
  seg = name;
  while (TRUE) {
    const gchar *end = strchr (seg, '/');
    gsize len = end ? (gsize) (end - seg) : strlen (seg);

    if (len == 0 || (len == 1 && seg[0] == '.') ||
        (len == 2 && seg[0] == '.' && seg[1] == '.'))
      return FALSE;
    if (end == NULL)
      break;
    seg = end + 1;
  }
  return TRUE;
}

static gboolean
check_name (const gchar * name, GError ** error)
{
  if (rcx_store_name_is_safe (name))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
      "Refusing unsafe output name \"%s\"", name ? name : "(null)");
  return FALSE;
}

static gboolean
init_s3 (RcxStore * store, const gchar * location, const RcxS3Config * s3,
    GError ** error)
{
  g_autofree gchar *key = NULL;
  RcxS3Config defaults;

  if (!rcx_s3_uri_parse (location, &store->bucket, &key, TRUE, error))
    return FALSE;
  if (key == NULL || key[0] == '\0')
    store->prefix = g_strdup ("");
  else if (g_str_has_suffix (key, "/"))
    store->prefix = g_steal_pointer (&key);
  else
    store->prefix = g_strconcat (key, "/", NULL);
  /* the prefix itself must be a safe key (checked with a dummy name) */
  if (store->prefix[0] != '\0') {
    g_autofree gchar *probe = g_strconcat (store->prefix, "x", NULL);

    if (!rcx_s3_key_is_safe (probe)) {
      g_set_error (error, RCX_S3_ERROR, RCX_S3_ERROR_SETTINGS,
          "Refusing unsafe S3 prefix \"%s\"", store->prefix);
      return FALSE;
    }
  }
  store->location = rcx_s3_uri_build (store->bucket, store->prefix);

  if (s3 == NULL) {
    rcx_s3_config_init (&defaults);
    s3 = &defaults;
  }
  store->client = rcx_s3_client_new (s3, error);
  if (s3 == &defaults)
    rcx_s3_config_clear (&defaults);
  return store->client != NULL;
}

static gboolean
init_local (RcxStore * store, const gchar * location, GError ** error)
{
  g_autofree gchar *path = NULL;

  if (g_str_has_prefix (location, "file:")) {
    path = g_filename_from_uri (location, NULL, error);
    if (path == NULL)
      return FALSE;
  } else if (strstr (location, "://") != NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "Unsupported output location \"%s\" (a folder, file:// or s3://)",
        location);
    return FALSE;
  } else {
    path = g_strdup (location);
  }
  store->dir = g_canonicalize_filename (path, NULL);
  if (g_mkdir_with_parents (store->dir, 0755) != 0) {
    int err = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "Could not create folder %s: %s", store->dir, g_strerror (err));
    return FALSE;
  }
  store->location = g_strdup (store->dir);
  return TRUE;
}

RcxStore *
rcx_store_new (const gchar * location, const RcxS3Config * s3, GError ** error)
{
  RcxStore *store;
  gboolean ok;

  if (location == NULL || location[0] == '\0') {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "No output location");
    return NULL;
  }
  store = g_new0 (RcxStore, 1);
  store->ref_count = 1;
  if (g_str_has_prefix (location, "s3://"))
    ok = init_s3 (store, location, s3, error);
  else
    ok = init_local (store, location, error);
  if (!ok) {
    rcx_store_unref (store);
    return NULL;
  }
  return store;
}

RcxStore *
rcx_store_ref (RcxStore * store)
{
  g_atomic_int_inc (&store->ref_count);
  return store;
}

void
rcx_store_unref (RcxStore * store)
{
  if (store == NULL || !g_atomic_int_dec_and_test (&store->ref_count))
    return;
  g_free (store->location);
  g_free (store->dir);
  g_clear_pointer (&store->client, rcx_s3_client_unref);
  g_free (store->bucket);
  g_free (store->prefix);
  g_free (store);
}

gboolean
rcx_store_is_s3 (const RcxStore * store)
{
  return store->client != NULL;
}

const gchar *
rcx_store_get_location (const RcxStore * store)
{
  return store->location;
}

RcxS3Client *
rcx_store_get_s3_client (const RcxStore * store)
{
  return store->client;
}

static gchar *
s3_key (const RcxStore * store, const gchar * name)
{
  return g_strconcat (store->prefix, name, NULL);
}

gchar *
rcx_store_get_uri (const RcxStore * store, const gchar * name)
{
  if (!rcx_store_name_is_safe (name))
    return NULL;
  if (store->client != NULL) {
    g_autofree gchar *key = s3_key (store, name);

    return rcx_s3_uri_build (store->bucket, key);
  }
  return g_build_filename (store->dir, name, NULL);
}

static gboolean
put_local (RcxStore * store, const gchar * name, GBytes * data, GError ** error)
{
  g_autofree gchar *path = g_build_filename (store->dir, name, NULL);
  g_autofree gchar *parent = g_path_get_dirname (path);
  gsize size;
  const gchar *bytes = g_bytes_get_data (data, &size);

  if (g_mkdir_with_parents (parent, 0755) != 0) {
    int err = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "Could not create folder %s: %s", parent, g_strerror (err));
    return FALSE;
  }
  /* temporary file beside it, then rename(): readers never see half a file */
  return g_file_set_contents_full (path, bytes ? bytes : "", size,
      G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

gboolean
rcx_store_put (RcxStore * store, const gchar * name, GBytes * data,
    const gchar * content_type, const gchar * cache_control,
    GCancellable * cancellable, GError ** error)
{
  g_return_val_if_fail (store != NULL && data != NULL, FALSE);

  if (!check_name (name, error))
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  if (store->client != NULL) {
    g_autofree gchar *key = s3_key (store, name);
    RcxS3PutOptions options = { content_type, cache_control };

    return rcx_s3_put_object (store->client, store->bucket, key, data,
        &options, NULL, cancellable, error);
  }
  return put_local (store, name, data, error);
}

gboolean
rcx_store_exists (RcxStore * store, const gchar * name,
    GCancellable * cancellable, GError ** error)
{
  if (!check_name (name, error))
    return FALSE;

  if (store->client != NULL) {
    g_autofree gchar *key = s3_key (store, name);
    g_auto (RcxS3ObjectInfo) info = { 0, };
    g_autoptr (GError) local_error = NULL;

    if (rcx_s3_head_object (store->client, store->bucket, key, &info,
            cancellable, &local_error))
      return TRUE;
    if (!g_error_matches (local_error, RCX_S3_ERROR, RCX_S3_ERROR_NOT_FOUND))
      g_propagate_error (error, g_steal_pointer (&local_error));
    return FALSE;
  } else {
    g_autofree gchar *path = g_build_filename (store->dir, name, NULL);

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    return g_file_test (path, G_FILE_TEST_EXISTS);
  }
}

gboolean
rcx_store_delete (RcxStore * store, const gchar * name,
    GCancellable * cancellable, GError ** error)
{
  if (!check_name (name, error))
    return FALSE;

  if (store->client != NULL) {
    g_autofree gchar *key = s3_key (store, name);

    /* S3 answers 204 for a missing key as well */
    return rcx_s3_delete_object (store->client, store->bucket, key,
        cancellable, error);
  } else {
    g_autofree gchar *path = g_build_filename (store->dir, name, NULL);

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    if (g_unlink (path) != 0 && errno != ENOENT) {
      int err = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
          "Could not delete %s: %s", path, g_strerror (err));
      return FALSE;
    }
    return TRUE;
  }
}
