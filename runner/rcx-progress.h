/* rcx-progress.h: showing a job's progress on stderr.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum {
  RCX_PROGRESS_NONE,
  RCX_PROGRESS_BAR,             /* one line redrawn in place (a terminal) */
  RCX_PROGRESS_LINES,           /* a line every interval seconds (logs) */
} RcxProgressStyle;

typedef struct _RcxProgress RcxProgress;

RcxProgress *rcx_progress_new (RcxProgressStyle style, guint interval_s);
void rcx_progress_free (RcxProgress * progress);

/* @percent < 0, @speed <= 0, invalid @position / @eta: unknown. */
void rcx_progress_update (RcxProgress * progress, gdouble percent,
    GstClockTime position, gdouble speed, GstClockTime eta);

/* Ends the bar's line (before anything else is printed). */
void rcx_progress_finish (RcxProgress * progress);

/* "1:02:03" / "2:03" / "--:--". */
gchar *rcx_progress_format_time (GstClockTime t);

G_END_DECLS
