/* rcx-retry.c: the AWS SDKs' "standard" retry mode.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-retry.h"

#include <string.h>

struct _RcxRetryBudget
{
  gatomicrefcount ref;
  GMutex lock;
  guint capacity;
  guint available;
};

struct _RcxRetryPolicy
{
  gatomicrefcount ref;
  guint max_attempts;
  RcxRetryBudget *budget;
  GMutex lock;                  /* protects rand */
  GRand *rand;
  gint64 base_us;
  gint64 max_us;
};

struct _RcxRetryWindow
{
  gatomicrefcount ref;
  gint64 length;
  gint64 outage_start;          /* atomic: monotonic us, 0 when none */
};

const gchar *
rcx_retry_kind_to_string (RcxRetryKind kind)
{
  switch (kind) {
    case RCX_RETRY_KIND_NONE:
      return "none";
    case RCX_RETRY_KIND_FATAL:
      return "fatal";
    case RCX_RETRY_KIND_TRANSIENT:
      return "transient";
    case RCX_RETRY_KIND_TIMEOUT:
      return "timeout";
    case RCX_RETRY_KIND_CLOCK_SKEW:
      return "clock-skew";
  }
  return "unknown";
}

/* "com.amazonaws.sqs#QueueDoesNotExist" -> "QueueDoesNotExist";
 * "Code:Message" (x-amzn-query-error style) -> "Code". */
static gchar *
normalize_code (const gchar * code)
{
  const gchar *hash;

  if (code == NULL || code[0] == '\0')
    return NULL;
  hash = strrchr (code, '#');
  if (hash != NULL)
    code = hash + 1;
  return g_strndup (code, strcspn (code, ":;"));
}

static const gchar *const throttling_codes[] = {
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "TransactionInProgressException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "RequestThrottled",
  "SlowDown",
  "PriorRequestNotComplete",
  "EC2ThrottledException",
  "RequestRateLimitExceeded",   /* Wasabi, with HTTP 403 */
  NULL
};

static const gchar *const transient_codes[] = {
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalError",
  "ServiceUnavailable",
  NULL
};

static const gchar *const auth_codes[] = {
  "AccessDenied",
  "AccessDeniedException",
  "SignatureDoesNotMatch",
  "InvalidAccessKeyId",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "AuthenticationLockout",
  "AccountProblem",
  "InvalidSecurity",
  "MissingSecurityHeader",
  NULL
};

static gboolean
code_in (const gchar * error_code, const gchar * const *list)
{
  g_autofree gchar *code = normalize_code (error_code);

  if (code == NULL)
    return FALSE;
  if (list == throttling_codes && g_str_has_prefix (code, "Throttling"))
    return TRUE;
  return g_strv_contains (list, code);
}

gboolean
rcx_retry_code_is_throttling (const gchar * error_code)
{
  return code_in (error_code, throttling_codes)
      || code_in (error_code, transient_codes);
}

gboolean
rcx_retry_code_is_auth_failure (const gchar * error_code)
{
  return code_in (error_code, auth_codes);
}

static gboolean
is_skew_code (const gchar * error_code)
{
  static const gchar *const skew_codes[] = {
    "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture",
    "InvalidSignatureException", NULL
  };
  g_autofree gchar *code = normalize_code (error_code);

  /* InvalidSignatureException is what JSON services answer for skew; it is
   * re-signed once only, so a real signature bug still ends quickly. */
  return code != NULL && g_strv_contains (skew_codes, code);
}

RcxRetryKind
rcx_retry_classify (guint http_status, const gchar * error_code,
    const GError * transport_error)
{
  if (transport_error != NULL) {
    if (g_error_matches (transport_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return RCX_RETRY_KIND_FATAL;
    /* TLS certificate problems, bad URIs: retrying does not help. */
    if (transport_error->domain == G_TLS_ERROR
        && transport_error->code == G_TLS_ERROR_BAD_CERTIFICATE)
      return RCX_RETRY_KIND_FATAL;
    if (g_error_matches (transport_error, G_IO_ERROR,
            G_IO_ERROR_INVALID_ARGUMENT)
        || g_error_matches (transport_error, G_IO_ERROR,
            G_IO_ERROR_NOT_SUPPORTED))
      return RCX_RETRY_KIND_FATAL;
    /* connection refused / reset / closed, timeouts, resolver and
     * protocol errors: no (complete) response came. */
    return RCX_RETRY_KIND_TIMEOUT;
  }

  if (http_status >= 200 && http_status < 400)
    return RCX_RETRY_KIND_NONE;

  if (rcx_retry_code_is_auth_failure (error_code))
    return RCX_RETRY_KIND_FATAL;
  if (is_skew_code (error_code))
    return RCX_RETRY_KIND_CLOCK_SKEW;
  if (rcx_retry_code_is_throttling (error_code))
    return RCX_RETRY_KIND_TRANSIENT;

  switch (http_status) {
    case 429:                  /* Too Many Requests */
    case 500:
    case 502:
    case 503:
    case 504:
      return RCX_RETRY_KIND_TRANSIENT;
    default:
      break;
  }
  return RCX_RETRY_KIND_FATAL;
}

/* ---- budget ----------------------------------------------------------- */

RcxRetryBudget *
rcx_retry_budget_new (guint capacity)
{
  RcxRetryBudget *budget = g_new0 (RcxRetryBudget, 1);

  g_atomic_ref_count_init (&budget->ref);
  g_mutex_init (&budget->lock);
  budget->capacity = capacity;
  budget->available = capacity;
  return budget;
}

RcxRetryBudget *
rcx_retry_budget_ref (RcxRetryBudget * budget)
{
  g_atomic_ref_count_inc (&budget->ref);
  return budget;
}

void
rcx_retry_budget_unref (RcxRetryBudget * budget)
{
  if (budget == NULL || !g_atomic_ref_count_dec (&budget->ref))
    return;
  g_mutex_clear (&budget->lock);
  g_free (budget);
}

gboolean
rcx_retry_budget_acquire (RcxRetryBudget * budget, RcxRetryKind kind,
    guint * cost_out)
{
  guint cost = kind == RCX_RETRY_KIND_TIMEOUT ?
      RCX_RETRY_TIMEOUT_COST : RCX_RETRY_COST;
  gboolean ok;

  g_mutex_lock (&budget->lock);
  ok = budget->available >= cost;
  if (ok)
    budget->available -= cost;
  g_mutex_unlock (&budget->lock);
  if (cost_out)
    *cost_out = ok ? cost : 0;
  return ok;
}

void
rcx_retry_budget_release (RcxRetryBudget * budget, guint cost)
{
  g_mutex_lock (&budget->lock);
  budget->available += cost > 0 ? cost : RCX_RETRY_NO_RETRY_INCREMENT;
  budget->available = MIN (budget->available, budget->capacity);
  g_mutex_unlock (&budget->lock);
}

guint
rcx_retry_budget_get_available (RcxRetryBudget * budget)
{
  guint available;

  g_mutex_lock (&budget->lock);
  available = budget->available;
  g_mutex_unlock (&budget->lock);
  return available;
}

/* ---- policy ----------------------------------------------------------- */

RcxRetryPolicy *
rcx_retry_policy_new (guint max_attempts, RcxRetryBudget * budget)
{
  RcxRetryPolicy *policy = g_new0 (RcxRetryPolicy, 1);

  g_atomic_ref_count_init (&policy->ref);
  g_mutex_init (&policy->lock);
  policy->max_attempts = max_attempts > 0 ? max_attempts :
      RCX_RETRY_DEFAULT_MAX_ATTEMPTS;
  policy->budget = budget ? rcx_retry_budget_ref (budget) :
      rcx_retry_budget_new (RCX_RETRY_BUDGET_CAPACITY);
  policy->rand = g_rand_new ();
  policy->base_us = G_USEC_PER_SEC;
  policy->max_us = RCX_RETRY_MAX_BACKOFF_US;
  return policy;
}

RcxRetryPolicy *
rcx_retry_policy_ref (RcxRetryPolicy * policy)
{
  g_atomic_ref_count_inc (&policy->ref);
  return policy;
}

void
rcx_retry_policy_unref (RcxRetryPolicy * policy)
{
  if (policy == NULL || !g_atomic_ref_count_dec (&policy->ref))
    return;
  rcx_retry_budget_unref (policy->budget);
  g_rand_free (policy->rand);
  g_mutex_clear (&policy->lock);
  g_free (policy);
}

guint
rcx_retry_policy_get_max_attempts (RcxRetryPolicy * policy)
{
  return policy->max_attempts;
}

RcxRetryBudget *
rcx_retry_policy_get_budget (RcxRetryPolicy * policy)
{
  return policy->budget;
}

void
rcx_retry_policy_set_seed (RcxRetryPolicy * policy, guint32 seed)
{
  g_mutex_lock (&policy->lock);
  g_rand_set_seed (policy->rand, seed);
  g_mutex_unlock (&policy->lock);
}

void
rcx_retry_policy_set_backoff (RcxRetryPolicy * policy, gint64 base_us,
    gint64 max_us)
{
  g_mutex_lock (&policy->lock);
  policy->base_us = MAX (base_us, 0);
  policy->max_us = MAX (max_us, 0);
  g_mutex_unlock (&policy->lock);
}

gint64
rcx_retry_policy_backoff (RcxRetryPolicy * policy, guint retry_index)
{
  gint64 ceiling;
  gdouble r;

  g_mutex_lock (&policy->lock);
  ceiling = policy->base_us;
  /* min (base x 2^i, max) without overflowing */
  while (retry_index-- > 0 && ceiling < policy->max_us)
    ceiling *= 2;
  ceiling = MIN (ceiling, policy->max_us);
  r = g_rand_double (policy->rand);
  g_mutex_unlock (&policy->lock);
  return (gint64) (r * (gdouble) ceiling);
}

gboolean
rcx_retry_policy_should_retry (RcxRetryPolicy * policy, RcxRetryKind kind,
    guint attempt, gint64 * delay_us, guint * cost_acc, const gchar ** reason)
{
  guint cost = 0;
  const gchar *dummy;

  if (reason == NULL)
    reason = &dummy;
  *delay_us = 0;

  switch (kind) {
    case RCX_RETRY_KIND_NONE:
      *reason = "success";
      return FALSE;
    case RCX_RETRY_KIND_FATAL:
      *reason = "not retryable";
      return FALSE;
    default:
      break;
  }
  if (attempt >= policy->max_attempts) {
    *reason = "attempts exhausted";
    return FALSE;
  }
  if (kind == RCX_RETRY_KIND_CLOCK_SKEW) {
    /* re-signed at once with the corrected clock; the caller makes sure it
     * happens once only */
    *reason = "clock skew";
    return TRUE;
  }
  if (!rcx_retry_budget_acquire (policy->budget, kind, &cost)) {
    *reason = "retry budget exhausted";
    return FALSE;
  }
  if (cost_acc)
    *cost_acc += cost;
  *delay_us = rcx_retry_policy_backoff (policy, attempt - 1);
  *reason = rcx_retry_kind_to_string (kind);
  return TRUE;
}

void
rcx_retry_policy_on_success (RcxRetryPolicy * policy, guint cost_acc)
{
  rcx_retry_budget_release (policy->budget, cost_acc);
}

gboolean
rcx_retry_sleep (gint64 delay_us, GCancellable * cancellable, GError ** error)
{
  gint64 deadline = g_get_monotonic_time () + MAX (delay_us, 0);
  GPollFD pollfd;
  gboolean have_fd;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  have_fd = cancellable != NULL
      && g_cancellable_make_pollfd (cancellable, &pollfd);

  for (;;) {
    gint64 now = g_get_monotonic_time ();
    gint timeout_ms;

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      break;
    if (now >= deadline) {
      if (have_fd)
        g_cancellable_release_fd (cancellable);
      return TRUE;
    }
    timeout_ms = (gint) MIN ((deadline - now + 999) / 1000, G_MAXINT);
    if (have_fd)
      g_poll (&pollfd, 1, timeout_ms);
    else
      g_usleep (deadline - now);
  }
  if (have_fd)
    g_cancellable_release_fd (cancellable);
  return FALSE;
}

/* ---- the retry window ------------------------------------------------- */

RcxRetryWindow *
rcx_retry_window_new (gint64 window_us)
{
  RcxRetryWindow *window = g_new0 (RcxRetryWindow, 1);

  g_atomic_ref_count_init (&window->ref);
  window->length = MAX (window_us, 0);
  return window;
}

RcxRetryWindow *
rcx_retry_window_ref (RcxRetryWindow * window)
{
  g_atomic_ref_count_inc (&window->ref);
  return window;
}

void
rcx_retry_window_unref (RcxRetryWindow * window)
{
  if (window == NULL || !g_atomic_ref_count_dec (&window->ref))
    return;
  g_free (window);
}

gint64
rcx_retry_window_get_length (RcxRetryWindow * window)
{
  return window->length;
}

gboolean
rcx_retry_window_should_retry (RcxRetryWindow * window,
    RcxRetryPolicy * policy, RcxRetryKind kind, guint round,
    gint64 started_us, gint64 now_us, gint64 * delay_us, const gchar ** reason)
{
  gint64 start, end, backoff;
  const gchar *dummy;

  if (reason == NULL)
    reason = &dummy;
  *delay_us = 0;
  if (kind != RCX_RETRY_KIND_TRANSIENT && kind != RCX_RETRY_KIND_TIMEOUT) {
    *reason = kind == RCX_RETRY_KIND_NONE ? "success" : "not retryable";
    return FALSE;
  }
  if (window->length <= 0) {
    *reason = "no retry window";
    return FALSE;
  }
  /* the first failed round opens the outage; 0 is never a monotonic time
   * worth keeping apart from "none" */
  started_us = CLAMP (started_us, 1, MAX (now_us, 1));
  start = 0;
  if (!__atomic_compare_exchange_n (&window->outage_start, &start,
          started_us, FALSE, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    now_us = MAX (now_us, start);
  else
    start = started_us;
  end = start + window->length;
  if (now_us >= end) {
    *reason = "retry window over";
    return FALSE;
  }
  /* round 1 followed max_attempts attempts: continue their backoff */
  backoff = rcx_retry_policy_backoff (policy,
      rcx_retry_policy_get_max_attempts (policy) + MAX (round, 1) - 2);
  *delay_us = MIN (backoff, end - now_us);
  *reason = rcx_retry_kind_to_string (kind);
  return TRUE;
}

void
rcx_retry_window_on_success (RcxRetryWindow * window)
{
  __atomic_store_n (&window->outage_start, 0, __ATOMIC_SEQ_CST);
}

gint64
rcx_retry_window_get_outage (RcxRetryWindow * window, gint64 now_us)
{
  gint64 start = __atomic_load_n (&window->outage_start, __ATOMIC_SEQ_CST);

  return start == 0 ? 0 : MAX (now_us - start, 0);
}
