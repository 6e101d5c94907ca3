/* Tests of the MPEG-TS segment scanner: on a hand-made stream (exact
 * offsets, PTS wrap) and on what x264enc ! h264parse ! mpegtsmux writes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <gst/gst.h>
#include <glib/gstdio.h>

#include "rcx-ts.h"

/* ---- a tiny TS writer ---------------------------------------------------- */

#define PMT_PID 0x1000
#define VIDEO_PID 0x100
#define AUDIO_PID 0x101

static void
put_packet (GByteArray * ts, guint pid, gboolean pusi, const guint8 * payload,
    gsize len, guint * cc)
{
  guint8 p[RCX_TS_PACKET_SIZE];
  gsize header = 4;

  g_assert_cmpuint (len, <=, RCX_TS_PACKET_SIZE - 4);
  p[0] = 0x47;
  p[1] = (pusi ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  p[2] = pid & 0xff;
  if (len < RCX_TS_PACKET_SIZE - 4) {
    /* stuffing in an adaptation field */
    gsize af_len = RCX_TS_PACKET_SIZE - 4 - len - 1;

    p[3] = 0x30 | (*cc & 0x0f);
    p[4] = af_len;
    if (af_len > 0) {
      p[5] = 0x00;
      memset (p + 6, 0xff, af_len - 1);
    }
    header = 5 + af_len;
  } else {
    p[3] = 0x10 | (*cc & 0x0f);
  }
  memcpy (p + header, payload, len);
  *cc = (*cc + 1) & 0x0f;
  g_byte_array_append (ts, p, sizeof (p));
}

static void
put_psi (GByteArray * ts, guint pid, const guint8 * section, gsize len)
{
  guint8 payload[RCX_TS_PACKET_SIZE - 4];
  guint cc = 0;

  payload[0] = 0;               /* pointer field */
  memcpy (payload + 1, section, len);
  memset (payload + 1 + len, 0xff, sizeof (payload) - 1 - len);
  put_packet (ts, pid, TRUE, payload, sizeof (payload), &cc);
}

static void
put_pat_pmt (GByteArray * ts, gboolean with_audio)
{
  /* CRCs are not checked by the scanner: zeros */
  const guint8 pat[] = { 0x00, 0xb0, 13, 0x00, 0x01, 0xc1, 0x00, 0x00,
    0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff, 0, 0, 0, 0
  };
  guint8 pmt[64] = { 0x02, 0xb0, 0, 0x00, 0x01, 0xc1, 0x00, 0x00,
    0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00
  };
  gsize n = 12;

  pmt[n++] = 0x1b;
  pmt[n++] = 0xe0 | (VIDEO_PID >> 8);
  pmt[n++] = VIDEO_PID & 0xff;
  pmt[n++] = 0xf0;
  pmt[n++] = 0x00;
  if (with_audio) {
    pmt[n++] = 0x0f;
    pmt[n++] = 0xe0 | (AUDIO_PID >> 8);
    pmt[n++] = AUDIO_PID & 0xff;
    pmt[n++] = 0xf0;
    pmt[n++] = 0x00;
  }
  n += 4;                       /* CRC */
  pmt[2] = n - 3;
  put_psi (ts, 0, pat, sizeof (pat));
  put_psi (ts, PMT_PID, pmt, n);
}

/* One video PES holding one access unit of @es_size bytes: an AUD, an SPS
 * (when @idr) and a slice of type 5 or 1. Returns its first offset. */
static guint64
put_video_pes (GByteArray * ts, gint64 pts, gboolean idr, gsize es_size,
    guint * cc)
{
  g_autoptr (GByteArray) pes = g_byte_array_new ();
  const guint8 aud[] = { 0, 0, 0, 1, 0x09, 0xf0 };
  const guint8 sps[] = { 0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1f, 0xac };
  guint8 head[14] = { 0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5 };
  guint8 slice[4] = { 0, 0, 1, idr ? 0x65 : 0x41 };
  guint64 start = ts->len;
  gsize off;

  pts &= (G_GINT64_CONSTANT (1) << 33) - 1;
  head[9] = 0x21 | ((pts >> 29) & 0x0e);
  head[10] = (pts >> 22) & 0xff;
  head[11] = 0x01 | ((pts >> 14) & 0xfe);
  head[12] = (pts >> 7) & 0xff;
  head[13] = 0x01 | ((pts << 1) & 0xfe);
  g_byte_array_append (pes, head, sizeof (head));
  g_byte_array_append (pes, aud, sizeof (aud));
  if (idr)
    g_byte_array_append (pes, sps, sizeof (sps));
  g_byte_array_append (pes, slice, sizeof (slice));
  while (pes->len < sizeof (head) + es_size) {
    guint8 filler = 0xaa;
    g_byte_array_append (pes, &filler, 1);
  }

  for (off = 0; off < pes->len; off += RCX_TS_PACKET_SIZE - 4) {
    gsize len = MIN (RCX_TS_PACKET_SIZE - 4, pes->len - off);
    put_packet (ts, VIDEO_PID, off == 0, pes->data + off, len, cc);
  }
  return start;
}

static void
put_audio_packet (GByteArray * ts, guint * cc)
{
  const guint8 pes[] = { 0, 0, 1, 0xc0, 0, 8, 0x80, 0x00, 0, 0xff, 0xf1,
    0x50, 0x80, 0x00, 0x1f
  };
  put_packet (ts, AUDIO_PID, TRUE, pes, sizeof (pes), cc);
}

static void
test_synthetic (void)
{
  g_autoptr (GByteArray) ts = g_byte_array_new ();
  g_auto (RcxTsInfo) info = { 0, };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *codec = NULL;
  guint vcc = 0, acc = 0;
  guint64 idr0, idr1 = 0, after0, after1 = 0;
  /* starts 1 s before the 33-bit PTS clock wraps */
  gint64 base = (G_GINT64_CONSTANT (1) << 33) - 90000;
  const RcxTsIFrame *f;
  gint i;

  put_pat_pmt (ts, TRUE);
  idr0 = put_video_pes (ts, base, TRUE, 1000, &vcc);
  put_audio_packet (ts, &acc);
  after0 = put_video_pes (ts, base + 3000, FALSE, 300, &vcc);
  for (i = 2; i < 60; i++) {
    if (i == 30)
      idr1 = put_video_pes (ts, base + i * 3000, TRUE, 800, &vcc);
    else if (i == 31)
      after1 = put_video_pes (ts, base + i * 3000, FALSE, 300, &vcc);
    else
      put_video_pes (ts, base + i * 3000, FALSE, 100, &vcc);
  }
  put_audio_packet (ts, &acc);

  g_assert_true (rcx_ts_scan (ts->data, ts->len, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.video_pid, ==, VIDEO_PID);
  g_assert_cmpuint (info.audio_pid, ==, AUDIO_PID);
  g_assert_true (info.has_audio);
  g_assert_cmpuint (info.n_frames, ==, 60);
  g_assert_true (info.starts_with_idr);
  g_assert_true (info.has_pts);
  g_assert_cmpint (info.first_pts, ==, base);
  g_assert_cmpint (info.last_pts, ==, base + 59 * 3000);
  g_assert_cmpint (info.frame_duration, ==, 3000);
  g_assert_cmpfloat_with_epsilon (rcx_ts_info_get_duration (&info, 0), 2.0,
      1e-9);

  g_assert_cmpuint (info.iframes->len, ==, 2);
  f = &g_array_index (info.iframes, RcxTsIFrame, 0);
  g_assert_cmpuint (f->offset, ==, idr0);
  /* up to the next video PES, the audio packet in between included */
  g_assert_cmpuint (f->length, ==, after0 - idr0);
  g_assert_cmpint (f->pts, ==, base);
  f = &g_array_index (info.iframes, RcxTsIFrame, 1);
  g_assert_cmpuint (f->offset, ==, idr1);
  g_assert_cmpuint (f->length, ==, after1 - idr1);
  g_assert_cmpint (f->pts - base, ==, 30 * 3000);

  codec = rcx_ts_info_get_avc_codec (&info);
  g_assert_cmpstr (codec, ==, "avc1.64001f");
}

static void
test_no_idr_first_and_no_audio (void)
{
  g_autoptr (GByteArray) ts = g_byte_array_new ();
  g_auto (RcxTsInfo) info = { 0, };
  guint vcc = 0;
  guint64 idr;
  guint64 end;

  put_pat_pmt (ts, FALSE);
  put_video_pes (ts, 1000, FALSE, 100, &vcc);
  idr = put_video_pes (ts, 4000, TRUE, 500, &vcc);
  end = ts->len;

  g_assert_true (rcx_ts_scan (ts->data, ts->len, &info, NULL));
  g_assert_false (info.starts_with_idr);
  g_assert_false (info.has_audio);
  g_assert_cmpuint (info.iframes->len, ==, 1);
  /* the last IDR runs to the end of the PID's last packet */
  g_assert_cmpuint (g_array_index (info.iframes, RcxTsIFrame, 0).offset, ==,
      idr);
  g_assert_cmpuint (g_array_index (info.iframes, RcxTsIFrame, 0).length, ==,
      end - idr);
}

static void
test_errors (void)
{
  g_auto (RcxTsInfo) info = { 0, };
  g_autoptr (GError) error = NULL;
  guint8 junk[RCX_TS_PACKET_SIZE * 2] = { 0x47, };
  g_autoptr (GByteArray) ts = g_byte_array_new ();

  g_assert_false (rcx_ts_scan (junk, 100, &info, &error));
  g_assert_error (error, RCX_TS_ERROR, RCX_TS_ERROR_SYNC);
  g_clear_error (&error);

  g_assert_false (rcx_ts_scan (junk, sizeof (junk), &info, &error));
  g_assert_error (error, RCX_TS_ERROR, RCX_TS_ERROR_SYNC);
  g_clear_error (&error);

  /* a PAT and nothing else */
  put_pat_pmt (ts, FALSE);
  g_byte_array_set_size (ts, RCX_TS_PACKET_SIZE);
  g_assert_false (rcx_ts_scan (ts->data, ts->len, &info, &error));
  g_assert_error (error, RCX_TS_ERROR, RCX_TS_ERROR_NO_VIDEO);
}

/* Garbage with valid sync bytes, on the PIDs the scanner looks at, must
 * never make it read out of bounds (run under ASan) nor report ranges
 * outside the data. */
static void
test_garbage (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261130);
  const guint pids[] = { 0, PMT_PID, VIDEO_PID, AUDIO_PID };
  guint round;

  for (round = 0; round < 200; round++) {
    g_autoptr (GByteArray) ts = g_byte_array_new ();
    g_auto (RcxTsInfo) info = { 0, };
    guint n = g_rand_int_range (rand, 1, 64), i, j;

    /* half the rounds start with a valid PAT/PMT */
    if (round % 2)
      put_pat_pmt (ts, round % 4 == 1);
    for (i = 0; i < n; i++) {
      guint8 p[RCX_TS_PACKET_SIZE];
      guint pid = pids[g_rand_int_range (rand, 0, G_N_ELEMENTS (pids))];

      for (j = 0; j < sizeof (p); j++)
        p[j] = g_rand_int_range (rand, 0, 256);
      /* runs of start codes and zeros make NAL and PES parsing busy */
      if (g_rand_boolean (rand))
        memset (p + 4, 0, g_rand_int_range (rand, 0, 40));
      p[0] = 0x47;
      p[1] = (p[1] & 0xe0) | ((pid >> 8) & 0x1f);
      p[2] = pid & 0xff;
      g_byte_array_append (ts, p, sizeof (p));
    }
    if (rcx_ts_scan (ts->data, ts->len, &info, NULL)) {
      g_assert_cmpuint (info.video_pid, !=, 0);
      for (j = 0; j < info.iframes->len; j++) {
        const RcxTsIFrame *f = &g_array_index (info.iframes, RcxTsIFrame, j);

        g_assert_cmpuint (f->offset % RCX_TS_PACKET_SIZE, ==, 0);
        g_assert_cmpuint (f->offset + f->length, <=, ts->len);
      }
      g_assert_cmpuint (info.iframes->len, <=, info.n_frames);
    }
  }
}

/* ---- a real segment ---------------------------------------------------- */

/* Runs @description (which ends in "filesink name=out") to EOS and returns
 * what the file sink wrote. */
static GByteArray *
run_pipeline (const gchar * description)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("rcx-test-ts-XXXXXX", &error);
  g_autofree gchar *path = g_build_filename (dir, "out.ts", NULL);
  g_autofree gchar *full = g_strdup_printf ("%s location=%s", description,
      path);
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) msg = NULL;
  gchar *contents = NULL;
  gsize len = 0;

  g_assert_no_error (error);
  pipeline = gst_parse_launch (full, &error);
  g_assert_no_error (error);
  bus = gst_element_get_bus (pipeline);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_unlink (path);
  g_rmdir (dir);
  return g_byte_array_new_take ((guint8 *) contents, len);
}

static void
test_x264_segment (void)
{
  g_autoptr (GByteArray) ts = run_pipeline ("videotestsrc num-buffers=60 ! "
      "video/x-raw,width=320,height=180,framerate=30/1 ! "
      "x264enc key-int-max=30 speed-preset=superfast "
      "bframes=2 ! video/x-h264,profile=high ! h264parse ! mux. "
      "audiotestsrc num-buffers=90 samplesperbuffer=1024 ! "
      "audio/x-raw,rate=48000,channels=2 ! voaacenc ! aacparse ! mux. "
      "mpegtsmux name=mux ! filesink name=out");
  g_auto (RcxTsInfo) info = { 0, };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *codec = NULL;
  guint i;

  g_assert_true (rcx_ts_scan (ts->data, ts->len, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.video_stream_type, ==, 0x1b);
  g_assert_true (info.has_audio);
  g_assert_cmpuint (info.n_frames, ==, 60);
  g_assert_true (info.starts_with_idr);
  g_assert_cmpint (info.frame_duration, ==, 3000);
  g_assert_cmpfloat_with_epsilon (rcx_ts_info_get_duration (&info, 0), 2.0,
      1e-4);
  g_assert_cmpuint (info.iframes->len, ==, 2);
  g_assert_cmpint (g_array_index (info.iframes, RcxTsIFrame, 1).pts -
      g_array_index (info.iframes, RcxTsIFrame, 0).pts, ==, 30 * 3000);
  for (i = 0; i < info.iframes->len; i++) {
    const RcxTsIFrame *f = &g_array_index (info.iframes, RcxTsIFrame, i);
    const guint8 *p = ts->data + f->offset;

    g_assert_cmpuint (f->offset % RCX_TS_PACKET_SIZE, ==, 0);
    g_assert_cmpuint (f->length % RCX_TS_PACKET_SIZE, ==, 0);
    g_assert_cmpuint (f->offset + f->length, <=, ts->len);
    g_assert_cmpuint (f->length, >, RCX_TS_PACKET_SIZE);
    /* a PES start on the video PID */
    g_assert_cmpuint (p[1] & 0x40, ==, 0x40);
    g_assert_cmpuint (((p[1] & 0x1f) << 8) | p[2], ==, info.video_pid);
  }
  codec = rcx_ts_info_get_avc_codec (&info);
  /* High (superfast keeps the 8x8 transform), level 2.0 for 320x180 */
  g_assert_true (g_str_has_prefix (codec, "avc1.6400"));
  g_assert_cmpuint (info.profile_idc, ==, 100);
  g_assert_cmpstr (codec, ==, "avc1.640014");
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/synthetic", test_synthetic);
  g_test_add_func ("/ts/no-idr-first", test_no_idr_first_and_no_audio);
  g_test_add_func ("/ts/errors", test_errors);
  g_test_add_func ("/ts/garbage", test_garbage);
  g_test_add_func ("/ts/x264-segment", test_x264_segment);
  return g_test_run ();
}
