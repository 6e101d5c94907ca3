/* test-retry.c: the standard retry mode (classification, backoff, budget,
 * cancellable sleeps).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-retry.h"

static void
test_classify_status (void)
{
  guint retry_statuses[] = { 500, 502, 503, 504 };
  guint final_statuses[] = { 400, 401, 403, 404, 405, 409, 412, 416, 501 };
  gsize i;

  g_assert_cmpint (rcx_retry_classify (200, NULL, NULL), ==,
      RCX_RETRY_KIND_NONE);
  g_assert_cmpint (rcx_retry_classify (206, NULL, NULL), ==,
      RCX_RETRY_KIND_NONE);
  for (i = 0; i < G_N_ELEMENTS (retry_statuses); i++)
    g_assert_cmpint (rcx_retry_classify (retry_statuses[i], NULL, NULL), ==,
        RCX_RETRY_KIND_TRANSIENT);
  for (i = 0; i < G_N_ELEMENTS (final_statuses); i++)
    g_assert_cmpint (rcx_retry_classify (final_statuses[i], NULL, NULL), ==,
        RCX_RETRY_KIND_FATAL);
}

static void
test_classify_codes (void)
{
  const gchar *retry_codes[] = { "SlowDown", "RequestTimeout", "Throttling",
    "ThrottlingException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "com.amazonaws.sqs#ThrottlingException"
  };
  const gchar *never_codes[] = { "AccessDenied", "SignatureDoesNotMatch",
    "InvalidAccessKeyId"
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (retry_codes); i++) {
    g_assert_cmpint (rcx_retry_classify (400, retry_codes[i], NULL), ==,
        RCX_RETRY_KIND_TRANSIENT);
    g_assert_cmpint (rcx_retry_classify (503, retry_codes[i], NULL), ==,
        RCX_RETRY_KIND_TRANSIENT);
  }
  /* Wasabi's throttling comes with a 403 */
  g_assert_cmpint (rcx_retry_classify (403, "RequestRateLimitExceeded",
          NULL), ==, RCX_RETRY_KIND_TRANSIENT);
  /* bad credentials are never retried, even with a 5xx status */
  for (i = 0; i < G_N_ELEMENTS (never_codes); i++) {
    g_assert_cmpint (rcx_retry_classify (403, never_codes[i], NULL), ==,
        RCX_RETRY_KIND_FATAL);
    g_assert_cmpint (rcx_retry_classify (500, never_codes[i], NULL), ==,
        RCX_RETRY_KIND_FATAL);
    g_assert_true (rcx_retry_code_is_auth_failure (never_codes[i]));
  }
  g_assert_cmpint (rcx_retry_classify (404, "NoSuchKey", NULL), ==,
      RCX_RETRY_KIND_FATAL);
  g_assert_cmpint (rcx_retry_classify (403, "RequestTimeTooSkewed", NULL),
      ==, RCX_RETRY_KIND_CLOCK_SKEW);
}

static void
test_classify_transport (void)
{
  g_autoptr (GError) reset = g_error_new_literal (G_IO_ERROR,
      G_IO_ERROR_CONNECTION_CLOSED, "reset");
  g_autoptr (GError) refused = g_error_new_literal (G_IO_ERROR,
      G_IO_ERROR_CONNECTION_REFUSED, "refused");
  g_autoptr (GError) timeout = g_error_new_literal (G_IO_ERROR,
      G_IO_ERROR_TIMED_OUT, "timed out");
  g_autoptr (GError) cancelled = g_error_new_literal (G_IO_ERROR,
      G_IO_ERROR_CANCELLED, "cancelled");

  g_assert_cmpint (rcx_retry_classify (0, NULL, reset), ==,
      RCX_RETRY_KIND_TIMEOUT);
  g_assert_cmpint (rcx_retry_classify (0, NULL, refused), ==,
      RCX_RETRY_KIND_TIMEOUT);
  g_assert_cmpint (rcx_retry_classify (0, NULL, timeout), ==,
      RCX_RETRY_KIND_TIMEOUT);
  g_assert_cmpint (rcx_retry_classify (0, NULL, cancelled), ==,
      RCX_RETRY_KIND_FATAL);
}

static void
test_backoff_bounds (void)
{
  g_autoptr (RcxRetryPolicy) policy = rcx_retry_policy_new (0, NULL);
  g_autoptr (RcxRetryPolicy) same = rcx_retry_policy_new (0, NULL);
  guint i, n;
  gint64 sum = 0;

  g_assert_cmpuint (rcx_retry_policy_get_max_attempts (policy), ==, 3);
  rcx_retry_policy_set_seed (policy, 42);
  rcx_retry_policy_set_seed (same, 42);
  for (i = 0; i < 40; i++) {
    gint64 ceiling = MIN ((gint64) G_USEC_PER_SEC << MIN (i, 30),
        RCX_RETRY_MAX_BACKOFF_US);
    for (n = 0; n < 50; n++) {
      gint64 d = rcx_retry_policy_backoff (policy, i);
      /* deterministic for a seed */
      g_assert_cmpint (d, ==, rcx_retry_policy_backoff (same, i));
      g_assert_cmpint (d, >=, 0);
      g_assert_cmpint (d, <=, ceiling);
      if (i == 0)
        sum += d;
    }
  }
  /* full jitter: the mean of the first retry's delay is about 0.5 s */
  g_assert_cmpint (sum / 50, >, G_USEC_PER_SEC / 4);
  g_assert_cmpint (sum / 50, <, 3 * G_USEC_PER_SEC / 4);
}

static void
test_should_retry (void)
{
  g_autoptr (RcxRetryPolicy) policy = rcx_retry_policy_new (3, NULL);
  RcxRetryBudget *budget = rcx_retry_policy_get_budget (policy);
  gint64 delay;
  guint cost = 0;
  const gchar *reason = NULL;

  g_assert_true (rcx_retry_policy_should_retry (policy,
          RCX_RETRY_KIND_TRANSIENT, 1, &delay, &cost, &reason));
  g_assert_cmpint (delay, <=, G_USEC_PER_SEC);
  g_assert_true (rcx_retry_policy_should_retry (policy,
          RCX_RETRY_KIND_TIMEOUT, 2, &delay, &cost, &reason));
  g_assert_cmpint (delay, <=, 2 * G_USEC_PER_SEC);
  g_assert_cmpuint (cost, ==, RCX_RETRY_COST + RCX_RETRY_TIMEOUT_COST);
  g_assert_cmpuint (rcx_retry_budget_get_available (budget), ==,
      RCX_RETRY_BUDGET_CAPACITY - cost);
  /* three attempts in all */
  g_assert_false (rcx_retry_policy_should_retry (policy,
          RCX_RETRY_KIND_TRANSIENT, 3, &delay, &cost, &reason));
  g_assert_cmpstr (reason, ==, "attempts exhausted");
  g_assert_false (rcx_retry_policy_should_retry (policy,
          RCX_RETRY_KIND_FATAL, 1, &delay, &cost, &reason));
  /* success refunds what the retries took */
  rcx_retry_policy_on_success (policy, cost);
  g_assert_cmpuint (rcx_retry_budget_get_available (budget), ==,
      RCX_RETRY_BUDGET_CAPACITY);
  /* clock skew: no cost, no delay */
  cost = 0;
  g_assert_true (rcx_retry_policy_should_retry (policy,
          RCX_RETRY_KIND_CLOCK_SKEW, 1, &delay, &cost, &reason));
  g_assert_cmpint (delay, ==, 0);
  g_assert_cmpuint (cost, ==, 0);
}

static void
test_budget_exhaustion (void)
{
  g_autoptr (RcxRetryBudget) budget = rcx_retry_budget_new (500);
  g_autoptr (RcxRetryPolicy) a = rcx_retry_policy_new (1000, budget);
  g_autoptr (RcxRetryPolicy) b = rcx_retry_policy_new (1000, budget);
  guint granted = 0, cost = 0, i;
  gint64 delay;
  const gchar *reason = NULL;

  rcx_retry_policy_set_backoff (a, 0, 0);
  rcx_retry_policy_set_backoff (b, 0, 0);
  /* two policies share one bucket: 500 / 5 = 100 retries in all */
  for (i = 0; i < 200; i++) {
    if (rcx_retry_policy_should_retry (i % 2 ? a : b,
            RCX_RETRY_KIND_TRANSIENT, 1, &delay, &cost, &reason))
      granted++;
  }
  g_assert_cmpuint (granted, ==, 100);
  g_assert_cmpstr (reason, ==, "retry budget exhausted");
  g_assert_cmpuint (rcx_retry_budget_get_available (budget), ==, 0);
  /* timeouts cost 10 */
  rcx_retry_budget_release (budget, 5);
  g_assert_false (rcx_retry_budget_acquire (budget, RCX_RETRY_KIND_TIMEOUT,
          &cost));
  g_assert_cmpuint (cost, ==, 0);
  g_assert_true (rcx_retry_budget_acquire (budget, RCX_RETRY_KIND_TRANSIENT,
          &cost));
  g_assert_cmpuint (cost, ==, 5);
  /* a first-attempt success gives one token back; never above capacity */
  rcx_retry_budget_release (budget, 0);
  g_assert_cmpuint (rcx_retry_budget_get_available (budget), ==, 1);
  for (i = 0; i < 200; i++)
    rcx_retry_budget_release (budget, 10);
  g_assert_cmpuint (rcx_retry_budget_get_available (budget), ==, 500);
}

static gboolean
cancel_cb (gpointer data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
  return G_SOURCE_REMOVE;
}

static gpointer
cancel_thread (gpointer data)
{
  GMainContext *ctx = g_main_context_new ();
  GSource *source = g_timeout_source_new (50);

  g_source_set_callback (source, cancel_cb, data, NULL);
  g_source_attach (source, ctx);
  g_main_context_iteration (ctx, TRUE);
  g_source_unref (source);
  g_main_context_unref (ctx);
  return NULL;
}

static void
test_sleep_cancel (void)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  GThread *thread;
  gint64 start = g_get_monotonic_time ();

  g_assert_true (rcx_retry_sleep (20 * 1000, cancellable, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20 * 1000);

  start = g_get_monotonic_time ();
  thread = g_thread_new ("cancel", cancel_thread, cancellable);
  g_assert_false (rcx_retry_sleep (30 * G_USEC_PER_SEC, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_thread_join (thread);
}

/* The window: rounds until the outage is window long, whatever the budget
 * holds; the first failure opens the outage, a success closes it; a last
 * round starts at the window's end; FATAL never retries. */
static void
test_window (void)
{
  g_autoptr (RcxRetryBudget) budget = rcx_retry_budget_new (10);
  g_autoptr (RcxRetryPolicy) policy = rcx_retry_policy_new (3, budget);
  g_autoptr (RcxRetryWindow) window = rcx_retry_window_new (120 *
      G_USEC_PER_SEC);
  const gint64 t0 = 1000 * G_USEC_PER_SEC;
  gint64 delay, now = t0;
  const gchar *reason = NULL;
  guint cost = 0, round;

  /* an empty bucket: no retry inside a request any more... */
  g_assert_true (rcx_retry_budget_acquire (budget, RCX_RETRY_KIND_TIMEOUT,
          &cost));
  g_assert_false (rcx_retry_policy_should_retry (policy,
          RCX_RETRY_KIND_TIMEOUT, 1, &delay, NULL, &reason));
  g_assert_cmpstr (reason, ==, "retry budget exhausted");
  /* ...but rounds go on for the whole window, backoff capped at 20 s */
  /* the first request's first attempt opens the outage, not its round */
  now = t0 + 3 * G_USEC_PER_SEC;
  for (round = 1; now < t0 + 120 * G_USEC_PER_SEC; round++) {
    g_assert_true (rcx_retry_window_should_retry (window, policy,
            RCX_RETRY_KIND_TIMEOUT, round, t0, now, &delay, &reason));
    g_assert_cmpint (delay, >=, 0);
    g_assert_cmpint (delay, <=, RCX_RETRY_MAX_BACKOFF_US);
    g_assert_cmpint (now + delay, <=, t0 + 120 * G_USEC_PER_SEC);
    g_assert_cmpint (rcx_retry_window_get_outage (window, now), ==, now - t0);
    /* the request itself takes a while too */
    now += delay + G_USEC_PER_SEC;
  }
  g_assert_cmpuint (round, >, 6);
  g_assert_false (rcx_retry_window_should_retry (window, policy,
          RCX_RETRY_KIND_TRANSIENT, round, t0, now, &delay, &reason));
  g_assert_cmpstr (reason, ==, "retry window over");
  /* another request queued behind the outage gets no fresh window */
  g_assert_false (rcx_retry_window_should_retry (window, policy,
          RCX_RETRY_KIND_TRANSIENT, 1, now, now, &delay, NULL));
  /* a success ends the outage: a new one has a full window */
  rcx_retry_window_on_success (window);
  g_assert_cmpint (rcx_retry_window_get_outage (window, now), ==, 0);
  g_assert_true (rcx_retry_window_should_retry (window, policy,
          RCX_RETRY_KIND_TRANSIENT, 1, now, now, &delay, NULL));
  /* 403 AccessDenied, 404, cancellation: at once */
  g_assert_false (rcx_retry_window_should_retry (window, policy,
          RCX_RETRY_KIND_FATAL, 1, now, now, &delay, &reason));
  g_assert_cmpstr (reason, ==, "not retryable");
  /* no window: no rounds */
  {
    g_autoptr (RcxRetryWindow) none = rcx_retry_window_new (0);

    g_assert_false (rcx_retry_window_should_retry (none, policy,
            RCX_RETRY_KIND_TRANSIENT, 1, now, now, &delay, NULL));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/retry/classify/status", test_classify_status);
  g_test_add_func ("/retry/classify/codes", test_classify_codes);
  g_test_add_func ("/retry/classify/transport", test_classify_transport);
  g_test_add_func ("/retry/backoff-bounds", test_backoff_bounds);
  g_test_add_func ("/retry/should-retry", test_should_retry);
  g_test_add_func ("/retry/budget-exhaustion", test_budget_exhaustion);
  g_test_add_func ("/retry/sleep-cancel", test_sleep_cancel);
  g_test_add_func ("/retry/window", test_window);
  return g_test_run ();
}
