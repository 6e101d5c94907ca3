/* rcx-transcode-state.c: pipeline state changes with a time limit (see
 * rcx-transcode-state.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-transcode-state.h"

#include "rcx-transcode.h"

/* Shared by the caller and the helper thread; the last one frees it (the
 * helper may outlive the caller when the change never returns). */
typedef struct
{
  gint refs;
  GMutex lock;
  GCond cond;
  gboolean done;
  GstStateChangeReturn ret;
  GstElement *element;
  GstState state;
  GMainContext *context;        /* woken up when the change returns */
} Change;

static void
change_unref (Change * c)
{
  if (!g_atomic_int_dec_and_test (&c->refs))
    return;
  gst_object_unref (c->element);
  g_main_context_unref (c->context);
  g_cond_clear (&c->cond);
  g_mutex_clear (&c->lock);
  g_free (c);
}

static gpointer
change_thread (gpointer data)
{
  Change *c = data;
  GstStateChangeReturn ret = gst_element_set_state (c->element, c->state);

  g_mutex_lock (&c->lock);
  c->ret = ret;
  c->done = TRUE;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  g_main_context_wakeup (c->context);
  change_unref (c);
  return NULL;
}

static gboolean
wake (gpointer data)
{
  return G_SOURCE_REMOVE;
}

gboolean
rcx_transcode_set_state (GstElement * element, GstState state,
    guint timeout_s, GstStateChangeReturn * ret, GError ** error)
{
  Change *c = g_new0 (Change, 1);
  gint64 deadline;
  g_autoptr (GSource) timer = NULL;
  gboolean own_context, done;
  GThread *thread;

  timeout_s = MAX (timeout_s, 1);
  deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  timer = g_timeout_source_new (timeout_s * 1000);
  c->refs = 2;
  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->element = gst_object_ref (element);
  c->state = state;
  c->context = g_main_context_ref_thread_default ();
  thread = g_thread_new ("rcx-set-state", change_thread, c);
  g_thread_unref (thread);

  /* Wait where the caller would: its context keeps dispatching (SIGTERM
   * cancels the run from there). A context another thread owns is not
   * ours to run: then only wait. */
  own_context = g_main_context_acquire (c->context);
  if (own_context) {
    g_source_set_callback (timer, wake, NULL, NULL);
    g_source_attach (timer, c->context);
  }
  g_mutex_lock (&c->lock);
  while (!c->done && g_get_monotonic_time () < deadline) {
    if (own_context) {
      g_mutex_unlock (&c->lock);
      g_main_context_iteration (c->context, TRUE);
      g_mutex_lock (&c->lock);
    } else {
      g_cond_wait_until (&c->cond, &c->lock, deadline);
    }
  }
  done = c->done;
  if (done && ret)
    *ret = c->ret;
  g_mutex_unlock (&c->lock);
  g_source_destroy (timer);
  if (own_context)
    g_main_context_release (c->context);
  change_unref (c);
  if (!done)
    g_set_error (error, RCX_TRANSCODE_ERROR, RCX_TRANSCODE_ERROR_WATCHDOG,
        "the pipeline's state change to %s did not return within %u s "
        "(an element is stuck)", gst_element_state_get_name (state),
        timeout_s);
  return done;
}
