/* Tests of the rendition model and the playlist writers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <locale.h>
#include <string.h>

#include "rcx-hls.h"

static RcxHlsRung *
make_rung (void)
{
  RcxHlsRung *rung = rcx_hls_rung_new (6);
  const RcxHlsIFrame a[] = { {0, 18800, 0.0}, {376000, 9400, 3.0} };
  const RcxHlsIFrame b[] = { {0, 37600, 0.0} };

  /* 1 Mbit/s, 2 Mbit/s, then a short 4 Mbit/s tail */
  rcx_hls_rung_add_segment (rung, "segment00000.ts", 6.0, 750000, a, 2);
  rcx_hls_rung_add_segment (rung, "segment00001.ts", 6.0, 1500000, b, 1);
  rcx_hls_rung_add_segment (rung, "segment00002.ts", 2.0, 1000000, NULL, 0);
  return rung;
}

static void
test_media_playlist (void)
{
  g_autoptr (RcxHlsRung) rung = make_rung ();
  g_autofree gchar *live = rcx_hls_rung_media_playlist (rung, FALSE);
  g_autofree gchar *vod = rcx_hls_rung_media_playlist (rung, TRUE);

  g_assert_cmpstr (live, ==,
      "#EXTM3U\n"
      "#EXT-X-VERSION:4\n"
      "#EXT-X-TARGETDURATION:6\n"
      "#EXT-X-MEDIA-SEQUENCE:0\n"
      "#EXT-X-PLAYLIST-TYPE:EVENT\n"
      "#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXTINF:6.000,\nsegment00000.ts\n"
      "#EXTINF:6.000,\nsegment00001.ts\n" "#EXTINF:2.000,\nsegment00002.ts\n");
  g_assert_cmpstr (vod, ==,
      "#EXTM3U\n"
      "#EXT-X-VERSION:4\n"
      "#EXT-X-TARGETDURATION:6\n"
      "#EXT-X-MEDIA-SEQUENCE:0\n"
      "#EXT-X-PLAYLIST-TYPE:VOD\n"
      "#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXTINF:6.000,\nsegment00000.ts\n"
      "#EXTINF:6.000,\nsegment00001.ts\n"
      "#EXTINF:2.000,\nsegment00002.ts\n" "#EXT-X-ENDLIST\n");
  g_assert_cmpuint (rcx_hls_rung_get_n_segments (rung), ==, 3);
  g_assert_cmpfloat (rcx_hls_rung_get_duration (rung), ==, 14.0);
  g_assert_cmpuint (rcx_hls_rung_get_size (rung), ==, 3250000);
}

static void
test_empty (void)
{
  g_autoptr (RcxHlsRung) rung = rcx_hls_rung_new (6);
  g_autofree gchar *vod = rcx_hls_rung_media_playlist (rung, TRUE);

  g_assert_true (g_str_has_suffix (vod, "#EXT-X-INDEPENDENT-SEGMENTS\n"
          "#EXT-X-ENDLIST\n"));
  g_assert_cmpuint (rcx_hls_rung_get_peak_bandwidth (rung), ==, 0);
  g_assert_cmpuint (rcx_hls_rung_get_average_bandwidth (rung), ==, 0);
  g_assert_cmpuint (rcx_hls_rung_get_iframe_bandwidth (rung), ==, 0);
}

static void
test_bandwidth (void)
{
  g_autoptr (RcxHlsRung) rung = make_rung ();
  g_autoptr (RcxHlsRung) short_rung = rcx_hls_rung_new (6);

  /* runs of 3-9 s: [0] 1 Mbit/s, [1] 2 Mbit/s, [1,2] 20 Mbit / 8 s;
   * [2] alone (2 s) is too short to count */
  g_assert_cmpuint (rcx_hls_rung_get_peak_bandwidth (rung), ==, 2500000);
  /* 26 Mbit / 14 s, rounded up */
  g_assert_cmpuint (rcx_hls_rung_get_average_bandwidth (rung), ==, 1857143);

  /* nothing lasts 3 s: the average */
  rcx_hls_rung_add_segment (short_rung, "a.ts", 1.0, 1000, NULL, 0);
  rcx_hls_rung_add_segment (short_rung, "b.ts", 1.0, 3000, NULL, 0);
  g_assert_cmpuint (rcx_hls_rung_get_peak_bandwidth (short_rung), ==, 16000);
  g_assert_cmpuint (rcx_hls_rung_get_average_bandwidth (short_rung), ==, 16000);
}

static void
test_target_duration (void)
{
  g_autoptr (RcxHlsRung) rung = rcx_hls_rung_new (6);
  g_autofree gchar *text = NULL;

  rcx_hls_rung_add_segment (rung, "a.ts", 6.4996, 100, NULL, 0);
  /* 6.4996 is written 6.500, which rounds to 7 */
  g_assert_cmpuint (rcx_hls_rung_get_target_duration (rung), ==, 7);
  text = rcx_hls_rung_media_playlist (rung, TRUE);
  g_assert_nonnull (strstr (text, "#EXT-X-TARGETDURATION:7\n"));
  g_assert_nonnull (strstr (text, "#EXTINF:6.500,\n"));
  g_clear_pointer (&rung, rcx_hls_rung_free);

  rung = rcx_hls_rung_new (6);
  rcx_hls_rung_add_segment (rung, "a.ts", 6.4994, 100, NULL, 0);
  g_assert_cmpuint (rcx_hls_rung_get_target_duration (rung), ==, 6);
}

static void
test_iframe_playlist (void)
{
  g_autoptr (RcxHlsRung) rung = make_rung ();
  g_autofree gchar *text = rcx_hls_rung_iframe_playlist (rung);

  /* the last I-frame lasts until the end of the media (8 s) */
  g_assert_cmpstr (text, ==,
      "#EXTM3U\n"
      "#EXT-X-VERSION:4\n"
      "#EXT-X-TARGETDURATION:8\n"
      "#EXT-X-MEDIA-SEQUENCE:0\n"
      "#EXT-X-PLAYLIST-TYPE:VOD\n"
      "#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-I-FRAMES-ONLY\n"
      "#EXTINF:3.000,\n#EXT-X-BYTERANGE:18800@0\nsegment00000.ts\n"
      "#EXTINF:3.000,\n#EXT-X-BYTERANGE:9400@376000\nsegment00000.ts\n"
      "#EXTINF:8.000,\n#EXT-X-BYTERANGE:37600@0\nsegment00001.ts\n"
      "#EXT-X-ENDLIST\n");
  g_assert_cmpuint (rcx_hls_rung_get_n_iframes (rung), ==, 3);
  /* 18800 bytes over 3 s */
  g_assert_cmpuint (rcx_hls_rung_get_iframe_bandwidth (rung), ==, 50134);
}

static void
test_master_playlist (void)
{
  const RcxHlsVariant variants[] = {
    {"720p/index.m3u8", "720p/iframes.m3u8", 3300000, 3000000, 400000,
        "avc1.64001f,mp4a.40.2", NULL, 1280, 720, 30000.0 / 1001},
    {"480p/index.m3u8", NULL, 1300000, 1200000, 0,
        "avc1.64001e", NULL, 854, 480, 25.0},
  };
  g_autofree gchar *text = rcx_hls_master_playlist (variants, 2);

  g_assert_cmpstr (text, ==,
      "#EXTM3U\n"
      "#EXT-X-VERSION:4\n"
      "#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=3300000,AVERAGE-BANDWIDTH=3000000,"
      "CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,"
      "FRAME-RATE=29.970\n720p/index.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1300000,AVERAGE-BANDWIDTH=1200000,"
      "CODECS=\"avc1.64001e\",RESOLUTION=854x480,FRAME-RATE=25.000\n"
      "480p/index.m3u8\n"
      "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=400000,CODECS=\"avc1.64001f\","
      "RESOLUTION=1280x720,URI=\"720p/iframes.m3u8\"\n");
}

static void
test_decimal_locale (void)
{
  g_autofree gchar *a = NULL;
  g_autofree gchar *b = NULL;

  /* a comma-decimal locale must not leak into playlists (if installed) */
  setlocale (LC_NUMERIC, "de_DE.UTF-8");
  a = rcx_hls_format_decimal (29.97002997);
  b = rcx_hls_format_decimal (0.0004);
  setlocale (LC_NUMERIC, "C");
  g_assert_cmpstr (a, ==, "29.970");
  g_assert_cmpstr (b, ==, "0.000");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hls/media-playlist", test_media_playlist);
  g_test_add_func ("/hls/empty", test_empty);
  g_test_add_func ("/hls/bandwidth", test_bandwidth);
  g_test_add_func ("/hls/target-duration", test_target_duration);
  g_test_add_func ("/hls/iframe-playlist", test_iframe_playlist);
  g_test_add_func ("/hls/master-playlist", test_master_playlist);
  g_test_add_func ("/hls/decimal-locale", test_decimal_locale);
  return g_test_run ();
}
