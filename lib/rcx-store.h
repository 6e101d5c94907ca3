/* rcx-store.h: a destination for output files, a local folder or an S3
 * prefix, behind one small API.
 *
 * Locations: a path ("out/720p"), a file:// URI, or "s3://bucket/prefix/"
 * (the prefix is a folder: a missing trailing '/' is added). Names given to
 * the calls are relative to the location, '/'-separated, and must be safe:
 * no empty, "." or ".." segment, no leading '/', no backslash or control
 * character (G_IO_ERROR_INVALID_FILENAME otherwise, nothing is touched).
 *
 * Local puts write a temporary file beside the target and rename it, so a
 * reader never sees a partial file. S3 puts are single PutObject requests
 * (retried inside rcx-s3). All calls are synchronous, cancellable and safe
 * to call from several threads at once. Errors: G_IO_ERROR for local
 * folders, RCX_S3_ERROR (with HTTP status, S3 code, request id) for S3.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include "rcx-s3.h"

G_BEGIN_DECLS

typedef struct _RcxStore RcxStore;

/* @location: a folder, a file:// URI or an s3:// URI (RFC 3986:
 * percent-decoded, see rcx_s3_uri_parse). @s3: settings for s3://
 * locations (copied; NULL: defaults and the environment). A local folder is created when missing. */
RcxStore *rcx_store_new (const gchar * location, const RcxS3Config * s3,
    GError ** error);
RcxStore *rcx_store_ref (RcxStore * store);
void rcx_store_unref (RcxStore * store);

gboolean rcx_store_is_s3 (const RcxStore * store);

/* The location as normalised: "s3://bucket/prefix/" (percent-encoded)
 * or an absolute folder path. */
const gchar *rcx_store_get_location (const RcxStore * store);

/* Full location of @name: "s3://bucket/prefix/name" (percent-encoded)
 * or "/abs/dir/name".
 * NULL when @name is not safe. */
gchar *rcx_store_get_uri (const RcxStore * store, const gchar * name);

/* TRUE when @name is a safe relative name (see above). */
gboolean rcx_store_name_is_safe (const gchar * name);

/* Stores @data as @name (replacing it). @content_type and @cache_control
 * are sent to S3 (NULL: none); ignored for local folders. */
gboolean rcx_store_put (RcxStore * store, const gchar * name, GBytes * data,
    const gchar * content_type, const gchar * cache_control,
    GCancellable * cancellable, GError ** error);

/* TRUE when @name exists; FALSE with @error unset when it does not, FALSE
 * with @error set when that could not be found out. */
gboolean rcx_store_exists (RcxStore * store, const gchar * name,
    GCancellable * cancellable, GError ** error);

/* Removes @name; a missing one is not an error. */
gboolean rcx_store_delete (RcxStore * store, const gchar * name,
    GCancellable * cancellable, GError ** error);

/* The S3 client of an s3:// store (NULL for a local folder): for request
 * counters in tests and benchmarks. */
RcxS3Client *rcx_store_get_s3_client (const RcxStore * store);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxStore, rcx_store_unref)

G_END_DECLS
