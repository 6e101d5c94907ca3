/* rcx-s3.h: S3 (Wasabi, s3rver, AWS) operations on libsoup 3.
 *
 * Every call is synchronous, safe to call from any thread (libsoup >= 3.2
 * sends from any thread) and cancellable. Transient failures are retried
 * inside with the SDKs' standard mode (rcx-retry.h); what comes out as a
 * GError is final. Errors are in the RCX_S3_ERROR domain and carry the
 * HTTP status, the S3 error Code and the request id (rcx_s3_error_*()).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include "rcx-credentials.h"

G_BEGIN_DECLS

/* ---- configuration ---------------------------------------------------- */

typedef enum {
  RCX_S3_PATH_STYLE_AUTO = 0,   /* path-style when a custom endpoint is set */
  RCX_S3_PATH_STYLE_ON,
  RCX_S3_PATH_STYLE_OFF,
} RcxS3PathStyle;

#define RCX_S3_DEFAULT_REGION "us-east-1"
#define RCX_S3_DEFAULT_RETRY_ATTEMPTS 3
#define RCX_S3_DEFAULT_REQUEST_TIMEOUT 30       /* seconds, per attempt / per read */
/* What the elements and the runner use for retry_timeout: a 2-minute
 * storage outage plus a round's worth of margin (3 attempts with their
 * backoff, one 20 s backoff cap, one request timeout). */
#define RCX_S3_DEFAULT_RETRY_TIMEOUT 240        /* seconds */

typedef struct {
  gchar *endpoint_uri;          /* NULL: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else https://s3.<region>.amazonaws.com */
  gchar *region;                /* NULL: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1 */
  RcxS3PathStyle path_style;
  gchar *access_key;            /* explicit credentials (else the chain) */
  gchar *secret_access_key;
  gchar *session_token;
  gchar *profile;
  guint retry_attempts;         /* total attempts, >= 1 */
  guint request_timeout;        /* seconds */
  guint retry_timeout;          /* seconds: how long idempotent requests
                                 * (GET, HEAD, PUT, DELETE) keep retrying
                                 * while the storage fails (rcx-retry.h's
                                 * RcxRetryWindow); 0 (the library's
                                 * default): retry_attempts only */
} RcxS3Config;

/* Defaults (all NULL / AUTO / DEFAULT_*). */
void rcx_s3_config_init (RcxS3Config * config);
void rcx_s3_config_clear (RcxS3Config * config);
void rcx_s3_config_copy (RcxS3Config * dest, const RcxS3Config * src);

/* ---- URIs and keys ---------------------------------------------------- */

/* An s3:// URI (RFC 3986, as GStreamer's URI handlers and awss3src take
 * them) -> bucket, key: "s3://media/up/a%20b%2Bc.mp4" is the key
 * "up/a b+c.mp4". Refuses bad escapes, "%00", and a raw '?' or '#' (a
 * query or fragment is not part of a key). The key may be empty (a
 * prefix) only when @allow_empty_key. */
gboolean rcx_s3_uri_parse (const gchar * uri, gchar ** bucket, gchar ** key,
    gboolean allow_empty_key, GError ** error);

/* The AWS CLI's form, "s3://bucket/key" with the key taken literally
 * (as `aws s3 cp` does): "s3://media/up/a%20b.mp4" is the key
 * "up/a%20b.mp4". Used only where people type keys (the runner's command
 * line); everything inside takes URIs. */
gboolean rcx_s3_path_parse (const gchar * path, gchar ** bucket,
    gchar ** key, gboolean allow_empty_key, GError ** error);

/* The URI of @key in @bucket: every byte but [A-Za-z0-9-._~/]
 * percent-encoded, so rcx_s3_uri_parse() gives @key back. */
gchar *rcx_s3_uri_build (const gchar * bucket, const gchar * key);

/* rcx_s3_path_parse() then rcx_s3_uri_build(). */
gchar *rcx_s3_uri_from_path (const gchar * path, gboolean allow_empty_key,
    GError ** error);

/* FALSE for keys with "." or ".." segments, control characters, a leading
 * '/', or longer than 1024 bytes: refused before anything is sent. */
gboolean rcx_s3_key_is_safe (const gchar * key);

/* ---- errors ----------------------------------------------------------- */

#define RCX_S3_ERROR (rcx_s3_error_quark ())
GQuark rcx_s3_error_quark (void);

typedef enum {
  RCX_S3_ERROR_FAILED,          /* anything else (5xx after retries, bad XML, ...) */
  RCX_S3_ERROR_SETTINGS,        /* bad configuration, missing credentials, unsafe key */
  RCX_S3_ERROR_NOT_FOUND,       /* 404 NoSuchKey / NoSuchBucket / NoSuchUpload */
  RCX_S3_ERROR_NOT_AUTHORIZED,  /* 403 AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId */
  RCX_S3_ERROR_CONNECT,         /* no connection could be made after retries */
  RCX_S3_ERROR_PRECONDITION,    /* 412: the object changed (If-Match) */
  RCX_S3_ERROR_RANGE,           /* 416: range outside the object */
  RCX_S3_ERROR_MISMATCH,        /* a GET answered with another range or
                                 * length than asked (rcx_s3_get_object);
                                 * RcxS3Reader resumes after it */
} RcxS3ErrorCode;

/* Details of an RCX_S3_ERROR (0 / NULL when unknown). */
guint rcx_s3_error_get_http_status (const GError * error);
const gchar *rcx_s3_error_get_s3_code (const GError * error);
const gchar *rcx_s3_error_get_request_id (const GError * error);

/* ---- the client ------------------------------------------------------- */

typedef struct _RcxS3Client RcxS3Client;

RcxS3Client *rcx_s3_client_new (const RcxS3Config * config, GError ** error);
RcxS3Client *rcx_s3_client_ref (RcxS3Client * client);
void rcx_s3_client_unref (RcxS3Client * client);

/* The configured retry window, in seconds (0: none). */
guint rcx_s3_client_get_retry_timeout (RcxS3Client * client);

/* Number of HTTP requests sent so far (all attempts): for tests and
 * benchmarks. */
guint64 rcx_s3_client_get_request_count (RcxS3Client * client);

/* One line per retry / final failure / request (level INFO / WARNING /
 * DEBUG), e.g. for an element's debug category. Never holds secrets. Set
 * before the client is shared between threads. (Same signature as
 * rcx-http.h's RcxHttpLogFunc.) */
typedef void (*RcxS3LogFunc) (GLogLevelFlags level, const gchar * message,
    gpointer user_data);
void rcx_s3_client_set_log_func (RcxS3Client * client, RcxS3LogFunc func,
    gpointer user_data, GDestroyNotify notify);

typedef struct {
  guint64 size;                 /* whole object size */
  gchar *etag;
  gchar *content_type;
  gint64 last_modified;         /* unix seconds, 0 unknown */
} RcxS3ObjectInfo;

void rcx_s3_object_info_clear (RcxS3ObjectInfo * info);

typedef struct {
  const gchar *content_type;    /* NULL: application/octet-stream */
  const gchar *cache_control;   /* NULL: none */
} RcxS3PutOptions;

/* A 403 answer to HEAD has no body, so it cannot tell Wasabi's rate limit
 * (403 RequestRateLimitExceeded, to be retried) from AccessDenied. Such a
 * bodyless 403 is asked again as a one-byte ranged GET, whose error body
 * carries the code: a throttled GET is retried like any other request and
 * gives the object's info when it succeeds; a real AccessDenied fails with
 * its code. */
gboolean rcx_s3_head_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, RcxS3ObjectInfo * info, GCancellable * cancellable,
    GError ** error);

/* Opens a streaming GET of [offset, offset + length) (length 0: to the end),
 * guarded by If-Match when @if_match is set. @info gets the whole object's
 * size and ETag. The answer must be that range: a 206 whose Content-Range
 * or Content-Length is another, or a 200 without a Content-Length, is
 * RCX_S3_ERROR_MISMATCH (a 200 that ignored the Range is skipped to the
 * offset). The stream gives exactly the range's bytes, however many the
 * server sends (rcx_http_limit_stream_new(): a read past them fails if the
 * body goes on, and so does a body that ends early); reading it blocks at
 * most request_timeout seconds per read. */
GInputStream *rcx_s3_get_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, guint64 offset, guint64 length, const gchar * if_match,
    RcxS3ObjectInfo * info, GCancellable * cancellable, GError ** error);

/* Single PUT with Content-MD5 and x-amz-content-sha256. @etag_out may be NULL. */
gboolean rcx_s3_put_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, GBytes * body, const RcxS3PutOptions * options,
    gchar ** etag_out, GCancellable * cancellable, GError ** error);

gboolean rcx_s3_delete_object (RcxS3Client * client, const gchar * bucket,
    const gchar * key, GCancellable * cancellable, GError ** error);

/* Multipart: returns the UploadId. */
gchar *rcx_s3_create_multipart_upload (RcxS3Client * client,
    const gchar * bucket, const gchar * key, const RcxS3PutOptions * options,
    GCancellable * cancellable, GError ** error);
/* Returns the part's ETag. @part_number 1..10000. */
gchar *rcx_s3_upload_part (RcxS3Client * client, const gchar * bucket,
    const gchar * key, const gchar * upload_id, guint part_number,
    GBytes * body, GCancellable * cancellable, GError ** error);
/* @etags[i] is part i + 1's ETag. */
gboolean rcx_s3_complete_multipart_upload (RcxS3Client * client,
    const gchar * bucket, const gchar * key, const gchar * upload_id,
    const gchar * const *etags, guint n_parts, GCancellable * cancellable,
    GError ** error);
gboolean rcx_s3_abort_multipart_upload (RcxS3Client * client,
    const gchar * bucket, const gchar * key, const gchar * upload_id,
    GCancellable * cancellable, GError ** error);

/* ---- RcxS3Reader: one streaming GET, resumed and re-ranged ------------- */

/* Keeps ONE response open and reads it sequentially; reopens with a Range
 * only when the read position jumps; after a reset, a stall (no byte for
 * request_timeout) or a retryable error it resumes from the byte it reached,
 * guarded by If-Match on the first response's ETag, with the retry
 * policy's backoff. */
typedef struct _RcxS3Reader RcxS3Reader;

RcxS3Reader *rcx_s3_reader_new (RcxS3Client * client, const gchar * bucket,
    const gchar * key);
void rcx_s3_reader_free (RcxS3Reader * reader);
/* HEAD (once) for size and ETag. */
gboolean rcx_s3_reader_get_info (RcxS3Reader * reader, RcxS3ObjectInfo * info,
    GCancellable * cancellable, GError ** error);
/* Reads up to @size bytes at @offset into @buffer; returns the number read,
 * 0 at the end of the object, -1 on error (G_IO_ERROR_CANCELLED when
 * cancelled). Fills @buffer completely unless the object ends. */
gssize rcx_s3_reader_read (RcxS3Reader * reader, guint64 offset,
    guint8 * buffer, gsize size, GCancellable * cancellable, GError ** error);
/* Number of GET responses opened so far (first open, jumps, resumes). */
guint rcx_s3_reader_get_open_count (RcxS3Reader * reader);
/* Body bytes read from the network so far: what a server sent that the
 * socket's buffers still held when a response was closed is not counted. */
guint64 rcx_s3_reader_get_received (RcxS3Reader * reader);
/* Close the open response (e.g. when the element stops). */
void rcx_s3_reader_close (RcxS3Reader * reader);

/* ---- RcxS3Upload: a streamed object, multipart when it is large -------- */

#define RCX_S3_DEFAULT_PART_SIZE (8 * 1024 * 1024)
#define RCX_S3_MIN_PART_SIZE (5 * 1024 * 1024)
/* S3 allows 5 GiB parts; a part is buffered in a GByteArray, whose length is
 * a guint, so ours stop just below 4 GiB. */
#define RCX_S3_MAX_PART_SIZE (G_GUINT64_CONSTANT (4095) * 1024 * 1024)
#define RCX_S3_DEFAULT_MAX_PARALLEL_PARTS 4

/* Buffers written data; a stream that ends below @part_size becomes one
 * PutObject, a larger one a multipart upload whose parts go up on worker
 * threads, at most @max_parallel at once (write() blocks beyond that, which
 * bounds memory to about part_size x (max_parallel + 1)). */
typedef struct _RcxS3Upload RcxS3Upload;

RcxS3Upload *rcx_s3_upload_new (RcxS3Client * client, const gchar * bucket,
    const gchar * key, const RcxS3PutOptions * options, gsize part_size,
    guint max_parallel);
gboolean rcx_s3_upload_write (RcxS3Upload * upload, const guint8 * data,
    gsize len, GCancellable * cancellable, GError ** error);
/* Sends what is buffered, waits for every part, completes. */
gboolean rcx_s3_upload_finish (RcxS3Upload * upload,
    GCancellable * cancellable, GError ** error);
/* Cancels parts in flight and sends AbortMultipartUpload if one was created
 * (also when no part was sent yet). Safe to call after a failed write or
 * finish; a no-op after a successful finish. Returns FALSE with @error if
 * the abort request itself failed. */
gboolean rcx_s3_upload_abort (RcxS3Upload * upload, GError ** error);
void rcx_s3_upload_free (RcxS3Upload * upload);
guint64 rcx_s3_upload_get_bytes_written (RcxS3Upload * upload);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxS3Client, rcx_s3_client_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxS3Reader, rcx_s3_reader_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxS3Upload, rcx_s3_upload_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RcxS3ObjectInfo, rcx_s3_object_info_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RcxS3Config, rcx_s3_config_clear)

G_END_DECLS
