/* rcx-progress.c: a progress bar on a terminal, periodic lines elsewhere.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-progress.h"

#include <stdio.h>

#define BAR_WIDTH 30

struct _RcxProgress
{
  RcxProgressStyle style;
  gint64 interval_us;
  gint64 last_line_us;
  gboolean bar_drawn;
};

RcxProgress *
rcx_progress_new (RcxProgressStyle style, guint interval_s)
{
  RcxProgress *p = g_new0 (RcxProgress, 1);

  p->style = style;
  p->interval_us = (gint64) MAX (interval_s, 1) * G_USEC_PER_SEC;
  p->last_line_us = g_get_monotonic_time ();
  return p;
}

void
rcx_progress_free (RcxProgress * progress)
{
  g_free (progress);
}

gchar *
rcx_progress_format_time (GstClockTime t)
{
  guint64 s;

  if (!GST_CLOCK_TIME_IS_VALID (t))
    return g_strdup ("--:--");
  s = t / GST_SECOND;
  if (s >= 3600)
    return g_strdup_printf ("%u:%02u:%02u", (guint) (s / 3600),
        (guint) (s / 60 % 60), (guint) (s % 60));
  return g_strdup_printf ("%u:%02u", (guint) (s / 60), (guint) (s % 60));
}

void
rcx_progress_update (RcxProgress * progress, gdouble percent,
    GstClockTime position, gdouble speed, GstClockTime eta)
{
  g_autofree gchar *eta_s = rcx_progress_format_time (eta);
  g_autofree gchar *pos_s = rcx_progress_format_time (position);
  g_autofree gchar *pct_s = percent >= 0 ?
      g_strdup_printf ("%5.1f%%", percent) : g_strdup ("  ?  %");
  g_autofree gchar *speed_s = speed > 0 ?
      g_strdup_printf ("%.2fx", speed) : g_strdup ("?x");
  gint64 now = g_get_monotonic_time ();

  switch (progress->style) {
    case RCX_PROGRESS_BAR:{
      gchar bar[BAR_WIDTH + 1];
      guint filled = percent > 0 ? (guint) (MIN (percent, 100.0)
          * BAR_WIDTH / 100.0) : 0;

      for (guint i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
      bar[BAR_WIDTH] = '\0';
      fprintf (stderr, "\r[%s] %s  %s  %s realtime  ETA %s \033[K", bar,
          pct_s, pos_s, speed_s, eta_s);
      fflush (stderr);
      progress->bar_drawn = TRUE;
      break;
    }
    case RCX_PROGRESS_LINES:
      if (now - progress->last_line_us < progress->interval_us)
        return;
      progress->last_line_us = now;
      fprintf (stderr, "progress: %s at %s, %s realtime, ETA %s\n",
          g_strstrip (pct_s), pos_s, speed_s, eta_s);
      fflush (stderr);
      break;
    case RCX_PROGRESS_NONE:
      break;
  }
}

void
rcx_progress_finish (RcxProgress * progress)
{
  if (progress->bar_drawn) {
    fputc ('\n', stderr);
    progress->bar_drawn = FALSE;
  }
}
