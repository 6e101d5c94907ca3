/* rcx-sqs.h: an Amazon SQS client (JSON protocol) on rcx-http.
 *
 * - every call is `POST <endpoint>/` with `X-Amz-Target: AmazonSQS.<Op>`,
 *   `Content-Type: application/x-amz-json-1.0` and a JSON body holding
 *   the "QueueUrl"; signed with SigV4 (service "sqs") per attempt;
 * - credentials from the chain (rcx-credentials.h) unless given;
 * - the endpoint is, in this order: RcxSqsConfig.endpoint_uri,
 *   $AWS_ENDPOINT_URL_SQS, $AWS_ENDPOINT_URL (both ignored when
 *   $AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is "true", like the SDKs), else
 *   the scheme://host[:port] of the queue URL;
 * - the region is RcxSqsConfig.region, else the queue URL's host
 *   ("sqs.<region>.amazonaws.com", "<region>.queue.amazonaws.com"), else
 *   $AWS_REGION, $AWS_DEFAULT_REGION, else "us-east-1";
 * - transient failures (5xx, throttling such as RequestThrottled or
 *   ThrottlingException, ServiceUnavailable, connection errors, timeouts)
 *   are retried inside with the SDKs' standard mode (rcx-retry.h); a GError
 *   that comes out is final for this call;
 * - long polls: a ReceiveMessage that waits W seconds gets an HTTP timeout
 *   of W + request_timeout, so the wait never reads as a stall; every call
 *   stops at once when its GCancellable fires (G_IO_ERROR_CANCELLED);
 * - replies are read up to RCX_SQS_MAX_REPLY bytes and parsed with a
 *   nesting limit (no single quotes or comments, which SQS never sends and
 *   json-glib would read): a hostile or broken server gets
 *   RCX_SQS_ERROR_INVALID_REPLY, never a crash or an unbounded allocation;
 * - service errors carry the `__type` code ("QueueDoesNotExist", the part
 *   after '#'), the `x-amzn-query-error` code
 *   ("AWS.SimpleQueueService.NonExistentQueue"), the HTTP status and the
 *   request id (rcx_sqs_error_get_*());
 * - logs (through rcx-http) show the operation, status, attempt and request
 *   id, never credentials, receipt handles or bodies.
 *
 * Thread-safe: an RcxSqsClient is immutable once created and may be used
 * from several threads at once (a long poll in one, heartbeats in others).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RCX_SQS_DEFAULT_REGION "us-east-1"
#define RCX_SQS_DEFAULT_RETRY_ATTEMPTS 3
#define RCX_SQS_DEFAULT_REQUEST_TIMEOUT 20      /* seconds, besides the long poll */
#define RCX_SQS_MAX_WAIT_TIME 20        /* seconds: SQS's long-poll limit */
#define RCX_SQS_MAX_MESSAGES 10         /* per ReceiveMessage */
#define RCX_SQS_MAX_VISIBILITY_TIMEOUT 43200    /* seconds (12 h) */
#define RCX_SQS_MAX_DELAY_SECONDS 900
/* Largest reply body read: ten 1 MiB messages (SQS's maximum size) with
 * escaping, with room. */
#define RCX_SQS_MAX_REPLY (32 * 1024 * 1024)

/* ---- errors ----------------------------------------------------------- */

#define RCX_SQS_ERROR (rcx_sqs_error_quark ())
GQuark rcx_sqs_error_quark (void);

typedef enum {
  RCX_SQS_ERROR_FAILED,         /* any other service error (5xx after the
                                 * retries, unknown codes) */
  RCX_SQS_ERROR_SETTINGS,       /* bad queue URL / endpoint, no credentials */
  RCX_SQS_ERROR_CONNECT,        /* no response after the retries (refused,
                                 * reset, timed out) */
  RCX_SQS_ERROR_THROTTLED,      /* throttling still answered after the retries */
  RCX_SQS_ERROR_NOT_AUTHORIZED, /* AccessDenied, InvalidClientTokenId,
                                 * SignatureDoesNotMatch, ... (never retried) */
  RCX_SQS_ERROR_QUEUE_DOES_NOT_EXIST,   /* QueueDoesNotExist /
                                         * AWS.SimpleQueueService.NonExistentQueue */
  RCX_SQS_ERROR_RECEIPT_HANDLE_INVALID, /* ReceiptHandleIsInvalid: a handle
                                         * that is malformed or expired */
  RCX_SQS_ERROR_MESSAGE_NOT_INFLIGHT,   /* ChangeMessageVisibility on a
                                         * message not in flight under this
                                         * handle any more (see there) */
  RCX_SQS_ERROR_INVALID_PARAMETER,      /* other 4xx: InvalidParameterValue,
                                         * InvalidAddress, OverLimit, ... */
  RCX_SQS_ERROR_INVALID_REPLY,  /* a 2xx reply that is not what SQS sends
                                 * (too large, not JSON, too deep, wrong
                                 * types, MD5OfBody mismatch) */
} RcxSqsErrorCode;

/* Details of an RCX_SQS_ERROR (0 / NULL when unknown or another domain). */
guint rcx_sqs_error_get_http_status (const GError * error);
/* The `__type` code without its "com.amazonaws.sqs#" prefix
 * ("QueueDoesNotExist"), else the query code. */
const gchar *rcx_sqs_error_get_code (const GError * error);
/* The code part of `x-amzn-query-error`
 * ("AWS.SimpleQueueService.NonExistentQueue"). */
const gchar *rcx_sqs_error_get_query_code (const GError * error);
const gchar *rcx_sqs_error_get_request_id (const GError * error);

/* TRUE when trying again later may succeed: RCX_SQS_ERROR_CONNECT,
 * _THROTTLED, _FAILED with a 5xx status, G_IO_ERROR_TIMED_OUT. FALSE for
 * cancellation and for every definite answer (missing queue, bad handle,
 * bad credentials, bad reply). */
gboolean rcx_sqs_error_is_transient (const GError * error);

/* ---- configuration ---------------------------------------------------- */

typedef struct {
  gchar *queue_url;             /* the default queue (calls may pass NULL);
                                 * also gives the endpoint and region */
  gchar *endpoint_uri;          /* NULL: see the top of this file */
  gchar *region;                /* NULL: see the top of this file */
  gchar *access_key;            /* explicit credentials (else the chain) */
  gchar *secret_access_key;
  gchar *session_token;
  gchar *profile;
  guint retry_attempts;         /* total attempts per call, >= 1; 0: default */
  guint request_timeout;        /* seconds per attempt (a long poll adds its
                                 * wait); 0: default */
} RcxSqsConfig;

/* Defaults (NULLs, RCX_SQS_DEFAULT_*). */
void rcx_sqs_config_init (RcxSqsConfig * config);
void rcx_sqs_config_clear (RcxSqsConfig * config);

/* ---- the client ------------------------------------------------------- */

typedef struct _RcxSqsClient RcxSqsClient;

/* Needs a queue URL or an endpoint (from the config or the environment).
 * RCX_SQS_ERROR_SETTINGS for an invalid URL. Credentials are looked up at
 * the first call (so a missing one is an RCX_SQS_ERROR_SETTINGS there). */
RcxSqsClient *rcx_sqs_client_new (const RcxSqsConfig * config,
    GError ** error);
RcxSqsClient *rcx_sqs_client_ref (RcxSqsClient * client);
void rcx_sqs_client_unref (RcxSqsClient * client);

/* What the client resolved: "http(s)://host[:port]" (plus a path, if the
 * endpoint has one), the signing region, the default queue URL (may be
 * NULL). */
const gchar *rcx_sqs_client_get_endpoint (RcxSqsClient * client);
const gchar *rcx_sqs_client_get_region (RcxSqsClient * client);
const gchar *rcx_sqs_client_get_queue_url (RcxSqsClient * client);

/* HTTP requests sent so far (every attempt counts): tests, benchmarks. */
guint64 rcx_sqs_client_get_request_count (RcxSqsClient * client);

/* One line per retry / final failure / request (INFO / WARNING / DEBUG).
 * Never holds secrets, receipt handles or bodies. Set before the client is
 * shared between threads. (Same signature as RcxHttpLogFunc.) */
typedef void (*RcxSqsLogFunc) (GLogLevelFlags level, const gchar * message,
    gpointer user_data);
void rcx_sqs_client_set_log_func (RcxSqsClient * client, RcxSqsLogFunc func,
    gpointer user_data, GDestroyNotify notify);

/* ---- messages --------------------------------------------------------- */

typedef struct {
  gchar *message_id;
  gchar *receipt_handle;        /* the handle of THIS receive: the one that
                                 * deletes / changes visibility */
  gchar *body;                  /* UTF-8 as SQS holds it (never NULL) */
  gsize body_len;               /* strlen (body) */
  gchar *md5_of_body;           /* checked against body on receive */
  guint receive_count;          /* ApproximateReceiveCount (1 on the first
                                 * delivery); 0 if the reply lacked it */
  gint64 sent_timestamp;        /* SentTimestamp, ms since the epoch; 0 unknown */
  gint64 first_receive_timestamp;       /* ApproximateFirstReceiveTimestamp, ms; 0 unknown */
} RcxSqsMessage;

void rcx_sqs_message_free (RcxSqsMessage * message);

typedef struct {
  guint max_messages;           /* 1..10; 0 means 1 */
  gint wait_time_seconds;       /* 0..20; -1: the queue's ReceiveMessageWaitTimeSeconds */
  gint visibility_timeout;      /* 0..43200; -1: the queue's VisibilityTimeout */
} RcxSqsReceiveOptions;

/* max_messages 1, wait_time_seconds 20 (a long poll), visibility_timeout -1. */
void rcx_sqs_receive_options_init (RcxSqsReceiveOptions * options);

/* ---- operations ------------------------------------------------------- */
/* @queue_url: NULL for the config's queue_url. Each returns FALSE / NULL
 * with @error set (RCX_SQS_ERROR, or G_IO_ERROR_CANCELLED) on failure. */

/* ReceiveMessage with MessageSystemAttributeNames ApproximateReceiveCount,
 * SentTimestamp and ApproximateFirstReceiveTimestamp. @options NULL: the
 * defaults above. Returns the messages (RcxSqsMessage *, owned by the
 * array): empty when the wait ended with none. Cancelling @cancellable
 * ends a long poll at once (the server may still count a receive of a
 * message it was about to hand over; it comes back after its visibility
 * timeout). */
GPtrArray *rcx_sqs_receive_message (RcxSqsClient * client,
    const gchar * queue_url, const RcxSqsReceiveOptions * options,
    GCancellable * cancellable, GError ** error);

/* ChangeMessageVisibility: the message becomes visible @visibility_timeout
 * seconds (0..43200) from now. 0 hands it back at once. A message that is
 * no longer ours to extend (deleted, visible again, or received again by
 * someone else: SQS answers MessageNotInflight, or InvalidParameterValue
 * "... ReceiptHandle is invalid. Reason: Message does not exist or is not
 * available for visibility timeout change.") gives
 * RCX_SQS_ERROR_MESSAGE_NOT_INFLIGHT: stop the job's heartbeat, another
 * worker may have it. Beyond 12 h after the receive:
 * RCX_SQS_ERROR_INVALID_PARAMETER. */
gboolean rcx_sqs_change_message_visibility (RcxSqsClient * client,
    const gchar * queue_url, const gchar * receipt_handle,
    guint visibility_timeout, GCancellable * cancellable, GError ** error);

/* DeleteMessage with the receipt handle of the latest receive. SQS
 * answers success for a message already deleted, and also for an older
 * handle of a message received again since (without deleting it). */
gboolean rcx_sqs_delete_message (RcxSqsClient * client,
    const gchar * queue_url, const gchar * receipt_handle,
    GCancellable * cancellable, GError ** error);

/* SendMessage; @delay_seconds 0..900. Returns the MessageId (the reply's
 * MD5OfMessageBody is checked). */
gchar *rcx_sqs_send_message (RcxSqsClient * client, const gchar * queue_url,
    const gchar * body, guint delay_seconds, GCancellable * cancellable,
    GError ** error);

/* GetQueueAttributes of @names (NULL-terminated; NULL means "All").
 * Returns name -> value (both strings, as SQS sends them: numbers are
 * decimal strings, RedrivePolicy is a JSON string). */
GHashTable *rcx_sqs_get_queue_attributes (RcxSqsClient * client,
    const gchar * queue_url, const gchar * const *names,
    GCancellable * cancellable, GError ** error);

/* ---- reply parsers (exposed for the fuzzer and the tests) -------------- */

/* A ReceiveMessage reply body -> RcxSqsMessage array; the MD5 of each body
 * is checked. RCX_SQS_ERROR_INVALID_REPLY on anything else. */
GPtrArray *rcx_sqs_parse_receive_reply (const gchar * data, gsize len,
    GError ** error);
/* A GetQueueAttributes reply body -> name -> value. */
GHashTable *rcx_sqs_parse_attributes_reply (const gchar * data, gsize len,
    GError ** error);
/* A SendMessage reply body: the MessageId; @body, when not NULL, is
 * checked against MD5OfMessageBody. */
gchar *rcx_sqs_parse_send_reply (const gchar * data, gsize len,
    const gchar * body, GError ** error);
/* An error reply: fills *@code (the `__type` part after '#', or "code")
 * and *@message from the body; FALSE when it holds neither. */
gboolean rcx_sqs_parse_error_reply (const gchar * data, gsize len,
    gchar ** code, gchar ** message);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxSqsMessage, rcx_sqs_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxSqsClient, rcx_sqs_client_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RcxSqsConfig, rcx_sqs_config_clear)

G_END_DECLS
