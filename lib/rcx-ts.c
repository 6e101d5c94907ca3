/* rcx-ts.c: MPEG-TS segment scanner (PAT/PMT, video PES, H.264 NAL types).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-ts.h"

#include <string.h>

#define PTS_WRAP (G_GINT64_CONSTANT (1) << 33)
#define PES_HEAD_MAX (64 * 1024)        /* enough for AUD, SPS, PPS, SEI */

#define STREAM_TYPE_AAC_ADTS 0x0f
#define STREAM_TYPE_H264 0x1b

G_DEFINE_QUARK (rcx-ts-error-quark, rcx_ts_error);

typedef struct
{
  gboolean active;
  guint64 offset;
  GByteArray *head;             /* the first PES_HEAD_MAX bytes of the PES */
} Pes;

typedef struct
{
  RcxTsInfo *info;
  Pes pes;
  gboolean have_ref;
  gint64 ref_pts;
  GArray *pts;                  /* gint64, unwrapped */
} Scan;

gint64
rcx_ts_pts_diff (gint64 a, gint64 b)
{
  gint64 d = (b - a) % PTS_WRAP;

  if (d < 0)
    d += PTS_WRAP;
  if (d >= PTS_WRAP / 2)
    d -= PTS_WRAP;
  return d;
}

void
rcx_ts_info_init (RcxTsInfo * info)
{
  memset (info, 0, sizeof (*info));
  info->iframes = g_array_new (FALSE, TRUE, sizeof (RcxTsIFrame));
}

void
rcx_ts_info_clear (RcxTsInfo * info)
{
  g_clear_pointer (&info->iframes, g_array_unref);
  memset (info, 0, sizeof (*info));
}

static const guint8 *
psi_section (const guint8 * payload, gsize len, gsize * section_len)
{
  guint pointer;
  const guint8 *s;
  gsize slen;

  if (len < 1)
    return NULL;
  pointer = payload[0];
  if (1 + pointer + 3 > len)
    return NULL;
  s = payload + 1 + pointer;
  slen = 3 + (((s[1] & 0x0f) << 8) | s[2]);
  if (s + slen > payload + len || slen < 12)
    return NULL;
  *section_len = slen;
  return s;
}

static void
parse_pat (RcxTsInfo * info, const guint8 * payload, gsize len)
{
  gsize slen, i;
  const guint8 *s = psi_section (payload, len, &slen);

  if (s == NULL || s[0] != 0x00)
    return;
  /* entries between the 8-byte header and the CRC */
  for (i = 8; i + 4 <= slen - 4; i += 4) {
    guint program = (s[i] << 8) | s[i + 1];
    guint pid = ((s[i + 2] & 0x1f) << 8) | s[i + 3];

    if (program != 0) {
      info->pmt_pid = pid;
      return;
    }
  }
}

static void
parse_pmt (RcxTsInfo * info, const guint8 * payload, gsize len)
{
  gsize slen, i, end;
  guint program_info_length;
  const guint8 *s = psi_section (payload, len, &slen);

  if (s == NULL || s[0] != 0x02)
    return;
  program_info_length = ((s[10] & 0x0f) << 8) | s[11];
  end = slen - 4;
  for (i = 12 + program_info_length; i + 5 <= end;) {
    guint type = s[i];
    guint pid = ((s[i + 1] & 0x1f) << 8) | s[i + 2];
    guint es_info_length = ((s[i + 3] & 0x0f) << 8) | s[i + 4];

    if (type == STREAM_TYPE_H264 && info->video_pid == 0) {
      info->video_pid = pid;
      info->video_stream_type = type;
    } else if (type == STREAM_TYPE_AAC_ADTS && info->audio_pid == 0) {
      info->audio_pid = pid;
      info->has_audio = TRUE;
    }
    i += 5 + es_info_length;
  }
}

static gint64
parse_pts (const guint8 * p)
{
  return ((gint64) ((p[0] >> 1) & 0x07) << 30) | ((gint64) p[1] << 22) |
      ((gint64) (p[2] >> 1) << 15) | ((gint64) p[3] << 7) | (p[4] >> 1);
}

/* Looks at the NAL units of an access unit up to its first slice. */
static void
parse_access_unit (Scan * scan, const guint8 * es, gsize len, gboolean * is_idr)
{
  RcxTsInfo *info = scan->info;
  gsize i = 0;

  *is_idr = FALSE;
  while (i + 3 < len) {
    guint type;

    if (es[i] != 0 || es[i + 1] != 0 || es[i + 2] != 1) {
      i++;
      continue;
    }
    i += 3;
    type = es[i] & 0x1f;
    if (type == 7 && i + 3 < len && !info->have_sps) {
      info->have_sps = TRUE;
      info->profile_idc = es[i + 1];
      info->constraint_flags = es[i + 2];
      info->level_idc = es[i + 3];
    } else if (type == 5) {
      *is_idr = TRUE;
      return;
    } else if (type == 1) {
      return;
    }
  }
}

static void
finish_pes (Scan * scan, guint64 end_offset)
{
  RcxTsInfo *info = scan->info;
  const guint8 *d;
  gsize len, header_len;
  gboolean is_idr = FALSE;
  gint64 pts = 0;
  gboolean has_pts = FALSE;

  if (!scan->pes.active)
    return;
  scan->pes.active = FALSE;

  d = scan->pes.head->data;
  len = scan->pes.head->len;
  if (len < 9 || d[0] != 0 || d[1] != 0 || d[2] != 1)
    return;
  header_len = 9 + d[8];
  if ((d[7] & 0x80) && len >= 14) {
    gint64 raw = parse_pts (d + 9);

    if (!scan->have_ref) {
      scan->have_ref = TRUE;
      scan->ref_pts = raw;
    }
    pts = scan->ref_pts + rcx_ts_pts_diff (scan->ref_pts, raw);
    has_pts = TRUE;
    g_array_append_val (scan->pts, pts);
  }
  if (header_len < len)
    parse_access_unit (scan, d + header_len, len - header_len, &is_idr);

  if (info->n_frames == 0)
    info->starts_with_idr = is_idr;
  info->n_frames++;

  if (is_idr) {
    RcxTsIFrame iframe = { scan->pes.offset, end_offset - scan->pes.offset,
      has_pts ? pts : 0
    };
    g_array_append_val (info->iframes, iframe);
  }
}

static gint
cmp_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : (x > y ? 1 : 0);
}

static void
finish_scan (Scan * scan, guint64 last_video_end)
{
  RcxTsInfo *info = scan->info;
  guint i;

  finish_pes (scan, last_video_end);

  if (scan->pts->len == 0)
    return;

  g_array_sort (scan->pts, cmp_gint64);
  info->has_pts = TRUE;
  info->first_pts = g_array_index (scan->pts, gint64, 0);
  info->last_pts = g_array_index (scan->pts, gint64, scan->pts->len - 1);
  /* the mean step: PTS are rounded to 90 kHz ticks, so single steps of a
   * 30000/1001 or 30/1 stream differ by one tick */
  if (scan->pts->len > 1)
    info->frame_duration = (info->last_pts - info->first_pts +
        (scan->pts->len - 1) / 2) / (scan->pts->len - 1);

  /* keep first_pts in [0, 2^33) */
  if (info->first_pts < 0 || info->first_pts >= PTS_WRAP) {
    gint64 shift = info->first_pts < 0 ? PTS_WRAP : -PTS_WRAP;

    info->first_pts += shift;
    info->last_pts += shift;
    for (i = 0; i < info->iframes->len; i++)
      g_array_index (info->iframes, RcxTsIFrame, i).pts += shift;
  }
}

gboolean
rcx_ts_scan (const guint8 * data, gsize size, RcxTsInfo * info, GError ** error)
{
  Scan scan = { 0, };
  guint64 offset, last_video_end = 0;
  gboolean ok = TRUE;

  if (info->iframes != NULL)
    rcx_ts_info_clear (info);
  rcx_ts_info_init (info);

  if (size == 0 || size % RCX_TS_PACKET_SIZE != 0) {
    g_set_error (error, RCX_TS_ERROR, RCX_TS_ERROR_SYNC,
        "%" G_GSIZE_FORMAT " bytes is not a whole number of TS packets", size);
    return FALSE;
  }

  scan.info = info;
  scan.pes.head = g_byte_array_new ();
  scan.pts = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (offset = 0; offset < size; offset += RCX_TS_PACKET_SIZE) {
    const guint8 *p = data + offset;
    gboolean pusi;
    guint pid, afc;
    gsize start = 4;

    if (p[0] != 0x47) {
      g_set_error (error, RCX_TS_ERROR, RCX_TS_ERROR_SYNC,
          "no sync byte at offset %" G_GUINT64_FORMAT, offset);
      ok = FALSE;
      break;
    }
    pusi = (p[1] & 0x40) != 0;
    pid = ((p[1] & 0x1f) << 8) | p[2];
    afc = (p[3] >> 4) & 0x03;
    if (afc & 0x02)
      start = 5 + p[4];
    if (!(afc & 0x01) || start >= RCX_TS_PACKET_SIZE)
      continue;

    if (pid == 0 && pusi) {
      parse_pat (info, p + start, RCX_TS_PACKET_SIZE - start);
    } else if (info->pmt_pid != 0 && pid == info->pmt_pid && pusi) {
      parse_pmt (info, p + start, RCX_TS_PACKET_SIZE - start);
    } else if (info->video_pid != 0 && pid == info->video_pid) {
      if (pusi) {
        finish_pes (&scan, offset);
        scan.pes.active = TRUE;
        scan.pes.offset = offset;
        g_byte_array_set_size (scan.pes.head, 0);
      }
      if (scan.pes.active && scan.pes.head->len < PES_HEAD_MAX)
        g_byte_array_append (scan.pes.head, p + start,
            RCX_TS_PACKET_SIZE - start);
      last_video_end = offset + RCX_TS_PACKET_SIZE;
    }
  }

  if (ok) {
    finish_scan (&scan, last_video_end);
    if (info->video_pid == 0) {
      g_set_error (error, RCX_TS_ERROR, RCX_TS_ERROR_NO_VIDEO,
          "no H.264 stream in the programme (PMT PID %u)", info->pmt_pid);
      ok = FALSE;
    }
  }

  g_byte_array_unref (scan.pes.head);
  g_array_unref (scan.pts);
  return ok;
}

gdouble
rcx_ts_info_get_duration (const RcxTsInfo * info, gint64 frame_duration)
{
  if (!info->has_pts)
    return 0.0;
  if (frame_duration <= 0)
    frame_duration = info->frame_duration;
  return (gdouble) (info->last_pts - info->first_pts + frame_duration) /
      RCX_TS_CLOCK;
}

gchar *
rcx_ts_info_get_avc_codec (const RcxTsInfo * info)
{
  if (!info->have_sps)
    return NULL;
  return g_strdup_printf ("avc1.%02x%02x%02x", info->profile_idc,
      info->constraint_flags, info->level_idc);
}
