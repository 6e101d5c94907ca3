/* rcx-transcode-uri.c: the source and destination a transcode is given
 * (files, s3:// paths) as the URIs the elements take (see rcx-transcode.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-transcode.h"

#include <string.h>

#include "rcx-s3.h"

/* s3:// on the command line is the AWS CLI's form (the key literal, as
 * `aws s3 cp` takes it); inside, s3:// strings are URIs. */
static gchar *
s3_path_to_uri (const gchar * path, gboolean allow_empty_key, GError ** error)
{
  g_autoptr (GError) local = NULL;
  gchar *uri = rcx_s3_uri_from_path (path, allow_empty_key, &local);

  if (!uri)
    g_set_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_CONFIG,
        "%s", local->message);
  return uri;
}

gchar *
rcx_transcode_destination_uri (const gchar * destination, GError ** error)
{
  if (g_str_has_prefix (destination, "s3://"))
    return s3_path_to_uri (destination, TRUE, error);
  return g_strdup (destination);
}

gchar *
rcx_transcode_source_uri (const gchar * source, GError ** error)
{
  if (g_str_has_prefix (source, "s3://"))
    return s3_path_to_uri (source, FALSE, error);
  if (strstr (source, "://")) {
    g_set_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_CONFIG,
        "%s: only files and s3:// URIs are supported", source);
    return NULL;
  }
  if (!g_file_test (source, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_INPUT,
        "%s: no such file", source);
    return NULL;
  }
  return gst_filename_to_uri (source, error);
}
