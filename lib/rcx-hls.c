/* rcx-hls.c: rendition model, media / I-frame / multivariant playlists.
 *
 * Durations are kept in milliseconds, i.e. exactly as they are written
 * (EXTINF with 3 decimals), so sums, targets and bit rates agree with the
 * playlist text.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-hls.h"

#include <math.h>
#include <string.h>

#define HLS_VERSION 4

typedef struct
{
  guint64 offset;
  guint64 length;
  gint64 time_ms;               /* from the start of the rendition */
} IFrame;

typedef struct
{
  gchar *uri;
  gint64 duration_ms;
  gint64 start_ms;
  guint64 size;
} Segment;

struct _RcxHlsRung
{
  guint target_duration;
  GArray *segments;             /* Segment */
  GArray *iframes;              /* IFrame, with the index of their segment */
  GArray *iframe_segment;       /* guint */
  gint64 total_ms;
  guint64 total_size;
};

static void
segment_clear (gpointer data)
{
  Segment *s = data;

  g_free (s->uri);
}

RcxHlsRung *
rcx_hls_rung_new (guint target_duration)
{
  RcxHlsRung *rung = g_new0 (RcxHlsRung, 1);

  rung->target_duration = MAX (target_duration, 1);
  rung->segments = g_array_new (FALSE, TRUE, sizeof (Segment));
  g_array_set_clear_func (rung->segments, segment_clear);
  rung->iframes = g_array_new (FALSE, TRUE, sizeof (IFrame));
  rung->iframe_segment = g_array_new (FALSE, TRUE, sizeof (guint));
  return rung;
}

void
rcx_hls_rung_free (RcxHlsRung * rung)
{
  if (rung == NULL)
    return;
  g_array_unref (rung->segments);
  g_array_unref (rung->iframes);
  g_array_unref (rung->iframe_segment);
  g_free (rung);
}

static gint64
to_ms (gdouble seconds)
{
  if (!(seconds > 0.0))
    return 0;
  return (gint64) llround (seconds * 1000.0);
}

void
rcx_hls_rung_add_segment (RcxHlsRung * rung, const gchar * uri,
    gdouble duration, guint64 size, const RcxHlsIFrame * iframes,
    guint n_iframes)
{
  Segment s;
  guint i, index = rung->segments->len;

  g_return_if_fail (uri != NULL);

  s.uri = g_strdup (uri);
  s.duration_ms = to_ms (duration);
  s.start_ms = rung->total_ms;
  s.size = size;
  g_array_append_val (rung->segments, s);

  for (i = 0; i < n_iframes; i++) {
    IFrame f;
    gint64 t = to_ms (iframes[i].time);

    f.offset = iframes[i].offset;
    f.length = iframes[i].length;
    f.time_ms = s.start_ms + MIN (t, s.duration_ms);
    g_array_append_val (rung->iframes, f);
    g_array_append_val (rung->iframe_segment, index);
  }

  rung->total_ms += s.duration_ms;
  rung->total_size += size;
}

guint
rcx_hls_rung_get_n_segments (const RcxHlsRung * rung)
{
  return rung->segments->len;
}

gdouble
rcx_hls_rung_get_duration (const RcxHlsRung * rung)
{
  return rung->total_ms / 1000.0;
}

guint64
rcx_hls_rung_get_size (const RcxHlsRung * rung)
{
  return rung->total_size;
}

guint
rcx_hls_rung_get_n_iframes (const RcxHlsRung * rung)
{
  return rung->iframes->len;
}

/* EXTINF rounded to the nearest integer, as players and RFC 8216 4.3.3.1
 * compare it with the target */
static guint
round_ms (gint64 ms)
{
  return (guint) ((ms + 500) / 1000);
}

guint
rcx_hls_rung_get_target_duration (const RcxHlsRung * rung)
{
  guint target = rung->target_duration, i;

  for (i = 0; i < rung->segments->len; i++) {
    const Segment *s = &g_array_index (rung->segments, Segment, i);

    target = MAX (target, round_ms (s->duration_ms));
  }
  return target;
}

static guint
bits_per_second (guint64 bytes, gint64 ms)
{
  gdouble rate;

  if (ms <= 0)
    return 0;
  rate = ceil ((gdouble) bytes * 8.0 * 1000.0 / (gdouble) ms);
  return rate >= G_MAXUINT ? G_MAXUINT : (guint) rate;
}

guint
rcx_hls_rung_get_average_bandwidth (const RcxHlsRung * rung)
{
  return bits_per_second (rung->total_size, rung->total_ms);
}

guint
rcx_hls_rung_get_peak_bandwidth (const RcxHlsRung * rung)
{
  gint64 target_ms = (gint64) rcx_hls_rung_get_target_duration (rung) * 1000;
  gint64 min_ms = target_ms / 2, max_ms = target_ms * 3 / 2;
  guint average = rcx_hls_rung_get_average_bandwidth (rung);
  guint peak = 0, i, j;

  for (i = 0; i < rung->segments->len; i++) {
    guint64 bytes = 0;
    gint64 ms = 0;

    for (j = i; j < rung->segments->len; j++) {
      const Segment *s = &g_array_index (rung->segments, Segment, j);

      bytes += s->size;
      ms += s->duration_ms;
      if (ms > max_ms)
        break;
      if (ms >= min_ms)
        peak = MAX (peak, bits_per_second (bytes, ms));
    }
  }
  return MAX (peak, average);
}

/* Time from I-frame @i to the next one (or to the end of the media). */
static gint64
iframe_duration_ms (const RcxHlsRung * rung, guint i)
{
  const IFrame *f = &g_array_index (rung->iframes, IFrame, i);
  gint64 end = rung->total_ms;

  if (i + 1 < rung->iframes->len)
    end = g_array_index (rung->iframes, IFrame, i + 1).time_ms;
  return MAX (end - f->time_ms, 0);
}

guint
rcx_hls_rung_get_iframe_bandwidth (const RcxHlsRung * rung)
{
  guint peak = 0, i;

  for (i = 0; i < rung->iframes->len; i++) {
    const IFrame *f = &g_array_index (rung->iframes, IFrame, i);

    peak = MAX (peak, bits_per_second (f->length, iframe_duration_ms (rung,
                i)));
  }
  return peak;
}

static void
append_decimal_ms (GString * out, gint64 ms)
{
  g_string_append_printf (out, "%" G_GINT64_FORMAT ".%03d", ms / 1000,
      (gint) (ms % 1000));
}

gchar *
rcx_hls_format_decimal (gdouble value)
{
  GString *out = g_string_new (NULL);
  gint64 ms = (gint64) llround (fabs (value) * 1000.0);

  if (value < 0 && ms > 0)
    g_string_append_c (out, '-');
  append_decimal_ms (out, ms);
  return g_string_free (out, FALSE);
}

static void
append_header (GString * out, guint target, const gchar * type)
{
  g_string_append_printf (out, "#EXTM3U\n#EXT-X-VERSION:%d\n"
      "#EXT-X-TARGETDURATION:%u\n#EXT-X-MEDIA-SEQUENCE:0\n"
      "#EXT-X-PLAYLIST-TYPE:%s\n#EXT-X-INDEPENDENT-SEGMENTS\n",
      HLS_VERSION, target, type);
}

gchar *
rcx_hls_rung_media_playlist (const RcxHlsRung * rung, gboolean final)
{
  GString *out = g_string_new (NULL);
  guint i;

  append_header (out, rcx_hls_rung_get_target_duration (rung),
      final ? "VOD" : "EVENT");
  for (i = 0; i < rung->segments->len; i++) {
    const Segment *s = &g_array_index (rung->segments, Segment, i);

    g_string_append (out, "#EXTINF:");
    append_decimal_ms (out, s->duration_ms);
    g_string_append_printf (out, ",\n%s\n", s->uri);
  }
  if (final)
    g_string_append (out, "#EXT-X-ENDLIST\n");
  return g_string_free (out, FALSE);
}

gchar *
rcx_hls_rung_iframe_playlist (const RcxHlsRung * rung)
{
  GString *out = g_string_new (NULL);
  guint target = rcx_hls_rung_get_target_duration (rung), i;

  for (i = 0; i < rung->iframes->len; i++)
    target = MAX (target, round_ms (iframe_duration_ms (rung, i)));

  append_header (out, target, "VOD");
  g_string_append (out, "#EXT-X-I-FRAMES-ONLY\n");
  for (i = 0; i < rung->iframes->len; i++) {
    const IFrame *f = &g_array_index (rung->iframes, IFrame, i);
    guint seg = g_array_index (rung->iframe_segment, guint, i);

    g_string_append (out, "#EXTINF:");
    append_decimal_ms (out, iframe_duration_ms (rung, i));
    g_string_append_printf (out, ",\n#EXT-X-BYTERANGE:%" G_GUINT64_FORMAT
        "@%" G_GUINT64_FORMAT "\n%s\n", f->length, f->offset,
        g_array_index (rung->segments, Segment, seg).uri);
  }
  g_string_append (out, "#EXT-X-ENDLIST\n");
  return g_string_free (out, FALSE);
}

/* The avc1/avc3/hvc1/hev1 entry of a CODECS list. */
static gchar *
video_codec_of (const gchar * codecs)
{
  g_auto (GStrv) parts = NULL;
  guint i;

  if (codecs == NULL)
    return NULL;
  parts = g_strsplit (codecs, ",", -1);
  for (i = 0; parts[i] != NULL; i++) {
    const gchar *c = g_strstrip (parts[i]);

    if (g_str_has_prefix (c, "avc") || g_str_has_prefix (c, "hvc") ||
        g_str_has_prefix (c, "hev"))
      return g_strdup (c);
  }
  return NULL;
}

gchar *
rcx_hls_master_playlist (const RcxHlsVariant * variants, guint n)
{
  GString *out = g_string_new (NULL);
  guint i;

  g_string_append_printf (out, "#EXTM3U\n#EXT-X-VERSION:%d\n"
      "#EXT-X-INDEPENDENT-SEGMENTS\n", HLS_VERSION);

  for (i = 0; i < n; i++) {
    const RcxHlsVariant *v = &variants[i];

    g_string_append_printf (out, "#EXT-X-STREAM-INF:BANDWIDTH=%u",
        v->bandwidth);
    if (v->average_bandwidth > 0)
      g_string_append_printf (out, ",AVERAGE-BANDWIDTH=%u",
          v->average_bandwidth);
    if (v->codecs != NULL)
      g_string_append_printf (out, ",CODECS=\"%s\"", v->codecs);
    if (v->width > 0 && v->height > 0)
      g_string_append_printf (out, ",RESOLUTION=%dx%d", v->width, v->height);
    if (v->frame_rate > 0) {
      g_autofree gchar *rate = rcx_hls_format_decimal (v->frame_rate);

      g_string_append_printf (out, ",FRAME-RATE=%s", rate);
    }
    g_string_append_printf (out, "\n%s\n", v->uri);
  }

  for (i = 0; i < n; i++) {
    const RcxHlsVariant *v = &variants[i];
    g_autofree gchar *video = NULL;

    if (v->iframe_uri == NULL)
      continue;
    video = v->video_codec ? g_strdup (v->video_codec) :
        video_codec_of (v->codecs);
    g_string_append_printf (out, "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=%u",
        v->iframe_bandwidth > 0 ? v->iframe_bandwidth : v->bandwidth);
    if (video != NULL)
      g_string_append_printf (out, ",CODECS=\"%s\"", video);
    if (v->width > 0 && v->height > 0)
      g_string_append_printf (out, ",RESOLUTION=%dx%d", v->width, v->height);
    g_string_append_printf (out, ",URI=\"%s\"\n", v->iframe_uri);
  }
  return g_string_free (out, FALSE);
}
