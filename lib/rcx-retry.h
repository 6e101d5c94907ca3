/* rcx-retry.h: the AWS SDKs' "standard" retry mode.
 *
 * - classification of a failed attempt by HTTP status, service error code
 *   (S3 XML <Code>, JSON __type) and transport error;
 * - full-jitter exponential backoff: delay = random(0,1) x min(2^i, 20 s)
 *   for the i-th retry (i = 0 for the first retry);
 * - a retry budget (token bucket) shared by every request of one client:
 *   500 tokens, a retry costs 5 (10 after a timeout / connection error),
 *   a successful retried request gives its cost back, a request that
 *   succeeds at once gives 1 back (capped at the capacity);
 * - sleeps that a GCancellable interrupts;
 * - a retry window (RcxRetryWindow) for idempotent requests that must ride
 *   out a storage outage: see below.
 *
 * Plain GLib; thread-safe.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RCX_RETRY_DEFAULT_MAX_ATTEMPTS 3
#define RCX_RETRY_MAX_BACKOFF_US (20 * G_USEC_PER_SEC)
#define RCX_RETRY_BUDGET_CAPACITY 500
#define RCX_RETRY_COST 5
#define RCX_RETRY_TIMEOUT_COST 10
#define RCX_RETRY_NO_RETRY_INCREMENT 1

typedef enum {
  RCX_RETRY_KIND_NONE = 0,      /* success: nothing to retry */
  RCX_RETRY_KIND_FATAL,         /* final: 4xx, AccessDenied, cancelled, ... */
  RCX_RETRY_KIND_TRANSIENT,     /* 5xx, throttling: back off and retry */
  RCX_RETRY_KIND_TIMEOUT,       /* no response (connection error, timeout) */
  RCX_RETRY_KIND_CLOCK_SKEW,    /* RequestTimeTooSkewed (or expired credentials):
                                 * re-sign once, at once */
} RcxRetryKind;

const gchar *rcx_retry_kind_to_string (RcxRetryKind kind);

/* Classifies one attempt. @transport_error: the error when no response
 * came (then @http_status is ignored); @error_code: the service's error
 * code ("SlowDown", "com.amazonaws.sqs#QueueDoesNotExist" is reduced to
 * the part after '#'), NULL when unknown. */
RcxRetryKind rcx_retry_classify (guint http_status, const gchar * error_code,
    const GError * transport_error);

/* TRUE for the error codes that are retried whatever the status
 * (throttling, RequestTimeout, Wasabi's 403 RequestRateLimitExceeded). */
gboolean rcx_retry_code_is_throttling (const gchar * error_code);

/* TRUE for codes that must never be retried (bad credentials: Wasabi
 * locks the account after repeated attempts). */
gboolean rcx_retry_code_is_auth_failure (const gchar * error_code);

/* ---- the retry budget ------------------------------------------------- */

typedef struct _RcxRetryBudget RcxRetryBudget;

RcxRetryBudget *rcx_retry_budget_new (guint capacity);
RcxRetryBudget *rcx_retry_budget_ref (RcxRetryBudget * budget);
void rcx_retry_budget_unref (RcxRetryBudget * budget);
/* Takes the cost of one retry of @kind; FALSE (nothing taken) when the
 * bucket does not hold enough. *@cost_out gets what was taken. */
gboolean rcx_retry_budget_acquire (RcxRetryBudget * budget, RcxRetryKind kind,
    guint * cost_out);
/* After a success: @cost is what the request's retries took (0 when it
 * succeeded at the first attempt, which gives back
 * RCX_RETRY_NO_RETRY_INCREMENT). */
void rcx_retry_budget_release (RcxRetryBudget * budget, guint cost);
guint rcx_retry_budget_get_available (RcxRetryBudget * budget);

/* ---- the policy ------------------------------------------------------- */

typedef struct _RcxRetryPolicy RcxRetryPolicy;

/* @max_attempts: total attempts (>= 1; 0 means the default 3). @budget may
 * be NULL for a private default budget. */
RcxRetryPolicy *rcx_retry_policy_new (guint max_attempts,
    RcxRetryBudget * budget);
RcxRetryPolicy *rcx_retry_policy_ref (RcxRetryPolicy * policy);
void rcx_retry_policy_unref (RcxRetryPolicy * policy);
guint rcx_retry_policy_get_max_attempts (RcxRetryPolicy * policy);
RcxRetryBudget *rcx_retry_policy_get_budget (RcxRetryPolicy * policy);
/* Makes the jitter deterministic (tests). */
void rcx_retry_policy_set_seed (RcxRetryPolicy * policy, guint32 seed);
/* Overrides the backoff base (1 s) and cap (20 s), e.g. for tests. */
void rcx_retry_policy_set_backoff (RcxRetryPolicy * policy, gint64 base_us,
    gint64 max_us);

/* Delay before retry number @retry_index (0 for the first retry), in
 * microseconds: random(0,1) x min(base x 2^retry_index, max). */
gint64 rcx_retry_policy_backoff (RcxRetryPolicy * policy, guint retry_index);

/* Decides after attempt number @attempt (1-based) failed with @kind:
 * TRUE to retry, with the delay in *@delay_us and the budget cost added to
 * *@cost_acc. FALSE when @kind is not retryable, the attempts are used up
 * or the budget is empty (then *@reason, if given, says which; static
 * string). CLOCK_SKEW retries once with no delay and no cost. */
gboolean rcx_retry_policy_should_retry (RcxRetryPolicy * policy,
    RcxRetryKind kind, guint attempt, gint64 * delay_us, guint * cost_acc,
    const gchar ** reason);

/* After a request ended well: gives the budget back (see
 * rcx_retry_budget_release). */
void rcx_retry_policy_on_success (RcxRetryPolicy * policy, guint cost_acc);

/* Sleeps @delay_us unless @cancellable fires first (then FALSE with
 * G_IO_ERROR_CANCELLED). */
gboolean rcx_retry_sleep (gint64 delay_us, GCancellable * cancellable,
    GError ** error);

/* ---- the retry window: riding out an outage --------------------------- */

/* A request whose attempts (max_attempts, limited by the budget) are used
 * up is a failed "round". For idempotent requests (GET, HEAD, PUT, DELETE
 * of one object) another round starts after the policy's backoff (full
 * jitter, capped, continuing the growth of the attempts' backoff) for as
 * long as the window allows. The window is measured from when the storage
 * started failing, shared by every request of one client: the first failed
 * round opens an outage (from that request's first attempt), any success
 * closes it. So a 2-minute outage is
 * ridden out by every request queued behind it, and once the storage has
 * been failing for longer than the window each request fails after one
 * round (a dead storage does not cost the window once per request).
 *
 * Rounds take nothing from the retry budget: the budget bounds the retries
 * inside rounds (the storm protection when many requests fail at once), an
 * empty bucket makes a round one attempt long, and a long outage can never
 * starve a request of its window. Non-retryable kinds (FATAL: 403
 * AccessDenied, 404, cancellation) end at once. Thread-safe. */
typedef struct _RcxRetryWindow RcxRetryWindow;

/* @window_us: how long the storage may fail before requests give up
 * (0: no rounds after the first). */
RcxRetryWindow *rcx_retry_window_new (gint64 window_us);
RcxRetryWindow *rcx_retry_window_ref (RcxRetryWindow * window);
void rcx_retry_window_unref (RcxRetryWindow * window);
gint64 rcx_retry_window_get_length (RcxRetryWindow * window);

/* After round number @round (1-based) of a request that started at
 * monotonic time @started_us failed with @kind, at @now_us: TRUE to start
 * another round after *@delay_us (at most the time left in the window, so
 * a last round starts at the window's end). FALSE when @kind is not
 * retryable or the window is over (*@reason says which; static string).
 * An outage opened here starts at @started_us: the storage has been
 * failing since that request's first attempt. */
gboolean rcx_retry_window_should_retry (RcxRetryWindow * window,
    RcxRetryPolicy * policy, RcxRetryKind kind, guint round,
    gint64 started_us, gint64 now_us, gint64 * delay_us,
    const gchar ** reason);

/* A request succeeded: the outage (if any) is over. */
void rcx_retry_window_on_success (RcxRetryWindow * window);

/* Microseconds the storage has been failing at @now_us (0: it is not). */
gint64 rcx_retry_window_get_outage (RcxRetryWindow * window, gint64 now_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxRetryWindow, rcx_retry_window_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxRetryBudget, rcx_retry_budget_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxRetryPolicy, rcx_retry_policy_unref)

G_END_DECLS
