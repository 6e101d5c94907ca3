/* rcx-transcode-state.h: pipeline state changes with a time limit.
 *
 * A corrupt source once froze `transcode` inside gst_element_set_state ()
 * (a state change blocked under hlssink2 / splitmuxsink): the main thread
 * never came back, so neither the watchdog (a main-loop timer) nor SIGTERM
 * (a main-loop source) ever ran, and the job stayed running until its row
 * looked stale. rcx_transcode_set_state () runs the change on a helper
 * thread and waits for it at most a limit, dispatching the caller's
 * thread-default main context meanwhile (signals, cancellation, the bus),
 * so a stuck change ends as an error with a clear reason.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Sets @element to @state and waits at most @timeout_s seconds for
 * gst_element_set_state () to return (*@ret, may be NULL, gets what it
 * returned; TRUE). Past the limit: FALSE with RCX_TRANSCODE_ERROR_WATCHDOG
 * ("the pipeline's state change to NULL did not return within N s"); the
 * helper thread stays blocked in the change and holds a reference to
 * @element, which is lost: the caller must neither change its state again
 * nor free it, and the process should end once the outcome is recorded. */
gboolean rcx_transcode_set_state (GstElement * element, GstState state,
    guint timeout_s, GstStateChangeReturn * ret, GError ** error);

G_END_DECLS
