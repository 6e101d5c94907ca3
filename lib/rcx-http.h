/* rcx-http.h: a small synchronous HTTP client on libsoup 3 for the AWS-style
 * services we talk to (S3/Wasabi, SQS, PostgREST).
 *
 * - one SoupSession per client, shared by every thread (libsoup >= 3.2);
 *   the client is configured when created, in the creating thread;
 * - a per-attempt I/O timeout (SoupSession:timeout): a connect, a response
 *   or a body read that stalls longer fails with G_IO_ERROR_TIMED_OUT;
 * - each attempt is prepared by a hook (so SigV4 is computed per attempt
 *   with the clock corrected from the server's Date header) and classified
 *   by a hook (S3 XML <Code>, JSON __type by default);
 * - retries with rcx-retry's standard mode, a retry budget per client,
 *   cancellable backoff sleeps; one re-sign on RequestTimeTooSkewed;
 * - a request counter (every attempt) for tests and benchmarks;
 * - logs (domain "rcx-http" and an optional RcxHttpLogFunc) show the
 *   method, the URI path, status, attempt, request id and delay, never
 *   headers, query strings or bodies (no secrets);
 * - every body read into memory is capped (64-bit counts): a 2xx body at
 *   the request's limit (RCX_HTTP_DEFAULT_MAX_BODY unless set), an error
 *   body at RCX_HTTP_ERROR_BODY_MAX (kept truncated); the service's error
 *   code, message and request id are sanitised (rcx-sanitize.h);
 * - a header value with a control character (a key or token holding
 *   CR/LF, which libsoup would drop, sending the request unauthenticated)
 *   refuses the request; credentials sent over plain http:// to a host
 *   that is not loopback draw one warning per host.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>
#include "rcx-retry.h"

G_BEGIN_DECLS

#define RCX_HTTP_LOG_DOMAIN "rcx-http"
#define RCX_HTTP_DEFAULT_TIMEOUT 30     /* seconds */
#define RCX_HTTP_DEFAULT_MAX_CONNS 16
/* The most a successful body read into memory may hold unless the request
 * says otherwise: S3 and SQS XML/JSON replies, a PostgREST page of rows. */
#define RCX_HTTP_DEFAULT_MAX_BODY ((gsize) 8 * 1024 * 1024)
/* An error body is read up to this and kept truncated. */
#define RCX_HTTP_ERROR_BODY_MAX ((gsize) 64 * 1024)

/* ---- requests --------------------------------------------------------- */

typedef struct _RcxHttpRequest RcxHttpRequest;

/* @uri: absolute, percent-encoded exactly as it is to be sent. NULL when it
 * is not a valid URI. */
RcxHttpRequest *rcx_http_request_new (const gchar * method, const gchar * uri);
RcxHttpRequest *rcx_http_request_ref (RcxHttpRequest * request);
void rcx_http_request_unref (RcxHttpRequest * request);

const gchar *rcx_http_request_get_method (RcxHttpRequest * request);
/* The parsed URI (G_URI_FLAGS_ENCODED: path and query as sent). */
GUri *rcx_http_request_get_uri (RcxHttpRequest * request);
/* Replaces a header of that name (added to every attempt). */
void rcx_http_request_set_header (RcxHttpRequest * request,
    const gchar * name, const gchar * value);
const gchar *rcx_http_request_get_header (RcxHttpRequest * request,
    const gchar * name);
/* The body sent with every attempt (may be NULL). */
void rcx_http_request_set_body (RcxHttpRequest * request,
    const gchar * content_type, GBytes * body);
GBytes *rcx_http_request_get_body (RcxHttpRequest * request);
/* The most bytes a 2xx body read by rcx_http_client_send_and_read() may
 * hold; 0 (the default): RCX_HTTP_DEFAULT_MAX_BODY. A larger body ends the
 * request with G_IO_ERROR_MESSAGE_TOO_LARGE (not retried). */
void rcx_http_request_set_max_body (RcxHttpRequest * request, gsize max);

/* Called before each attempt with the message about to be sent (its
 * request headers already hold the request's headers and the body's
 * Content-Type/Length), the current time corrected by the client's clock
 * offset and the attempt number (1-based). Sign here. Returning FALSE
 * (with @error) ends the request without sending. */
typedef gboolean (*RcxHttpPrepareFunc) (RcxHttpRequest * request,
    SoupMessage * msg, GDateTime * now, guint attempt, gpointer user_data,
    GError ** error);
void rcx_http_request_set_prepare_func (RcxHttpRequest * request,
    RcxHttpPrepareFunc func, gpointer user_data, GDestroyNotify notify);

/* ---- responses -------------------------------------------------------- */

typedef struct {
  guint status;
  SoupMessageHeaders *headers;  /* response headers */
  GBytes *body;                 /* whole body (send_and_read), or the error
                                 * body of a non-2xx streaming response */
  GInputStream *stream;         /* streaming 2xx only: the body */
  gchar *error_code;            /* service error code, NULL if none */
  gchar *error_message;         /* service error message, NULL if none */
  gchar *request_id;            /* x-amz-request-id / x-amzn-RequestId / body */
  guint attempts;               /* attempts made */
} RcxHttpResponse;

/* A response built by hand (tests, fakes); @headers and @body may be NULL. */
RcxHttpResponse *rcx_http_response_new (guint status,
    SoupMessageHeaders * headers, GBytes * body);
void rcx_http_response_free (RcxHttpResponse * response);

/* Fills @response's error_code / error_message / request_id (when unset)
 * from its headers and body: S3 XML <Error><Code>, <Message>,
 * <RequestId>; JSON "__type" (part after '#'), "code", "message"/"Message"
 * and the x-amzn-query-error header. Parsed without network or entities. */
void rcx_http_response_parse_error (RcxHttpResponse * response);

/* Classifies an attempt that got a response; @response->error_code is
 * already parsed. The default is rcx_retry_classify (status, code, NULL). */
typedef RcxRetryKind (*RcxHttpClassifyFunc) (RcxHttpResponse * response,
    gpointer user_data);
void rcx_http_request_set_classify_func (RcxHttpRequest * request,
    RcxHttpClassifyFunc func, gpointer user_data, GDestroyNotify notify);

/* ---- the client ------------------------------------------------------- */

/* One log line per attempt outcome worth seeing (retries at INFO, the
 * final failure at WARNING, each request at DEBUG). Never holds secrets. */
typedef void (*RcxHttpLogFunc) (GLogLevelFlags level, const gchar * message,
    gpointer user_data);

typedef struct {
  guint timeout;                /* seconds per attempt / per read; 0: default */
  guint max_attempts;           /* 0: RCX_RETRY_DEFAULT_MAX_ATTEMPTS */
  guint max_conns;              /* per host; 0: RCX_HTTP_DEFAULT_MAX_CONNS */
  const gchar *user_agent;      /* NULL: "rugbycodex/VERSION" */
} RcxHttpClientOptions;

typedef struct _RcxHttpClient RcxHttpClient;

/* @options may be NULL for the defaults. */
RcxHttpClient *rcx_http_client_new (const RcxHttpClientOptions * options);
RcxHttpClient *rcx_http_client_ref (RcxHttpClient * client);
void rcx_http_client_unref (RcxHttpClient * client);

/* Set before the client is shared between threads. */
void rcx_http_client_set_log_func (RcxHttpClient * client,
    RcxHttpLogFunc func, gpointer user_data, GDestroyNotify notify);

SoupSession *rcx_http_client_get_session (RcxHttpClient * client);
RcxRetryPolicy *rcx_http_client_get_retry_policy (RcxHttpClient * client);
guint rcx_http_client_get_timeout (RcxHttpClient * client);
/* Attempts sent so far (every retry counts). */
guint64 rcx_http_client_get_request_count (RcxHttpClient * client);
/* Server time minus local time, learnt from a RequestTimeTooSkewed answer. */
gint64 rcx_http_client_get_clock_offset (RcxHttpClient * client);
void rcx_http_client_set_clock_offset (RcxHttpClient * client,
    gint64 offset_us);
/* Local UTC time corrected by the clock offset. */
GDateTime *rcx_http_client_now (RcxHttpClient * client);

/* Sends @request with retries and reads the whole body. Returns NULL only
 * when no response came at all after the retries (connection errors,
 * timeouts: G_IO_ERROR_*; cancelled: G_IO_ERROR_CANCELLED) or the prepare
 * hook failed; otherwise the final response, whatever its status (the
 * caller maps a non-2xx status to its own error). */
RcxHttpResponse *rcx_http_client_send_and_read (RcxHttpClient * client,
    RcxHttpRequest * request, GCancellable * cancellable, GError ** error);

/* Same, but a 2xx response's body is left in response->stream for the
 * caller to read (every read is bounded by the timeout); retries happen
 * only before the body starts. A non-2xx body is read into response->body. */
RcxHttpResponse *rcx_http_client_send_streaming (RcxHttpClient * client,
    RcxHttpRequest * request, GCancellable * cancellable, GError ** error);

/* A streamed body bounded to @length bytes (rcx-http-limit.c): reads give
 * at most the @length bytes; a read past them fails with
 * G_IO_ERROR_INVALID_DATA if @base has more, and @base ending before them
 * fails with G_IO_ERROR_PARTIAL_INPUT. Takes a reference on @base and
 * closes it when closed. For streamed bodies, which no cap bounds
 * otherwise: the caller says how many bytes it asked for. */
GInputStream *rcx_http_limit_stream_new (GInputStream * base, guint64 length);

/* Reads @in to its end into memory. More than @max bytes: NULL with
 * G_IO_ERROR_MESSAGE_TOO_LARGE (having read at most @max + 1 bytes). For
 * bodies read outside rcx_http_client_send_and_read(). */
GBytes *rcx_http_read_bytes (GInputStream * in, gsize max,
    GCancellable * cancellable, GError ** error);

/* TRUE when @uri is plain http:// to a host that is not loopback
 * (localhost, 127.0.0.0/8, ::1): what a key or token must not cross. */
gboolean rcx_http_uri_is_cleartext_remote (GUri * uri);

/* Logs through the client's log func and the "rcx-http" domain. */
void rcx_http_client_log (RcxHttpClient * client, GLogLevelFlags level,
    const gchar * format, ...) G_GNUC_PRINTF (3, 4);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxHttpRequest, rcx_http_request_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxHttpResponse, rcx_http_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxHttpClient, rcx_http_client_unref)

G_END_DECLS
