/* wasabihlssink into a local folder: files, playlists, messages, failures.
 * (S3 is covered by test_wasabihlssink_s3.py against s3rver.)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "rcx-schema.h"
#include "rcx-ts.h"
#include "test-util.h"

/* 14 s of 320x180 at 30 fps, 2 s GOP, 6 s segments (+ AAC audio) */
#define VIDEO_BRANCH \
  "videotestsrc num-buffers=420 ! " \
  "video/x-raw,width=320,height=180,framerate=30/1,format=I420 ! " \
  "x264enc key-int-max=60 speed-preset=superfast ! h264parse ! hls.video "
#define AUDIO_BRANCH \
  "audiotestsrc num-buffers=656 samplesperbuffer=1024 ! " \
  "audio/x-raw,rate=48000,channels=2 ! voaacenc ! aacparse ! hls.audio "

typedef struct
{
  gchar *dir;
  GstElement *pipeline;
  GPtrArray *messages;          /* element messages of wasabihlssink */
  GMutex lock;
  /* checked from the sync handler, when each segment message is posted */
  gchar *playlist;              /* relative to dir; default index.m3u8 */
  guint live_checks;
  guint no_playlist;            /* segments stored with no playlist yet */
  gchar *live_failure;
} Run;

static gchar *
read_text (const gchar * dir, const gchar * name)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  gchar *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

static guint
count_lines_with (const gchar * text, const gchar * needle)
{
  guint n = 0;
  const gchar *p = text;

  while ((p = strstr (p, needle)) != NULL) {
    n++;
    p += strlen (needle);
  }
  return n;
}

/* While the upload thread posts wasabihlssink-segment N, the playlist in
 * the folder must be the EVENT playlist listing exactly segments 0..N. */
static GstBusSyncReply
sync_handler (GstBus * bus, GstMessage * message, gpointer data)
{
  Run *run = data;
  const GstStructure *s;

  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ELEMENT)
    return GST_BUS_PASS;
  s = gst_message_get_structure (message);
  if (gst_structure_has_name (s, RCX_MSG_HLS_SEGMENT)) {
    guint index = 0;
    g_autofree gchar *text = NULL;
    g_autofree gchar *last = NULL;

    g_mutex_lock (&run->lock);
    text = read_text (run->dir, run->playlist);
    gst_structure_get_uint (s, RCX_FIELD_INDEX, &index);
    last = g_strdup_printf ("%05u.ts\n", index);
    if (text == NULL)
      run->no_playlist++;
    else if (strstr (text, "#EXT-X-PLAYLIST-TYPE:EVENT\n") == NULL ||
        strstr (text, "#EXT-X-ENDLIST") != NULL)
      run->live_failure = g_strdup_printf ("not a live playlist: %s", text);
    else if (!g_str_has_suffix (text, last) ||
        count_lines_with (text, "#EXTINF:") != index + 1)
      run->live_failure = g_strdup_printf ("segment %u: %s", index, text);
    else
      run->live_checks++;
    g_mutex_unlock (&run->lock);
  }
  if (g_str_has_prefix (gst_structure_get_name (s), "wasabihlssink-"))
    g_ptr_array_add (run->messages, gst_message_ref (message));
  return GST_BUS_PASS;
}

static Run *
run_new (const gchar * description_fmt)
{
  Run *run = g_new0 (Run, 1);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *description = NULL;
  g_autoptr (GstBus) bus = NULL;

  run->dir = g_dir_make_tmp ("rcx-test-hlssink-XXXXXX", &error);
  g_assert_no_error (error);
  g_mutex_init (&run->lock);
  run->playlist = g_strdup ("index.m3u8");
  run->messages = g_ptr_array_new_with_free_func (
      (GDestroyNotify) gst_message_unref);
  description = g_strdup_printf (description_fmt, run->dir);
  run->pipeline = gst_parse_launch (description, &error);
  g_assert_no_error (error);
  bus = gst_element_get_bus (run->pipeline);
  gst_bus_set_sync_handler (bus, sync_handler, run, NULL);
  return run;
}

static void
run_free (Run * run)
{
  gst_element_set_state (run->pipeline, GST_STATE_NULL);
  gst_object_unref (run->pipeline);
  g_ptr_array_unref (run->messages);
  test_remove_tree (run->dir);
  g_free (run->dir);
  g_free (run->live_failure);
  g_free (run->playlist);
  g_mutex_clear (&run->lock);
  g_free (run);
}

/* Plays to EOS or ERROR (60 s deadline) and returns that message. */
static GstMessage *
run_to_end (Run * run)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (run->pipeline);
  GstMessage *msg;

  gst_element_set_state (run->pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no EOS or ERROR within 60 s");
  return msg;
}

static const GstStructure *
find_message (Run * run, const gchar * name, guint nth)
{
  guint i;

  for (i = 0; i < run->messages->len; i++) {
    const GstStructure *s =
        gst_message_get_structure (g_ptr_array_index (run->messages, i));
    if (gst_structure_has_name (s, name) && nth-- == 0)
      return s;
  }
  return NULL;
}

static guint64
file_size (const gchar * dir, const gchar * name)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    return 0;
  return st.st_size;
}

GST_START_TEST (test_local_rendition)
{
  Run *run = run_new (VIDEO_BRANCH AUDIO_BRANCH
      "wasabihlssink name=hls location=%s");
  g_autoptr (GstMessage) end = run_to_end (run);
  g_autofree gchar *playlist = read_text (run->dir, "index.m3u8");
  g_autofree gchar *iframes = read_text (run->dir, "iframes.m3u8");
  g_autofree gchar *expected_codec = NULL;
  const GstStructure *rung;
  guint64 total = 0;
  guint i, bandwidth = 0, average = 0, segments = 0, target = 0;
  gint width = 0, height = 0;
  gdouble duration = 0, frame_rate = 0;
  gboolean independent = FALSE;

  fail_unless_equals_int (GST_MESSAGE_TYPE (end), GST_MESSAGE_EOS);
  fail_unless (run->live_failure == NULL, "%s", run->live_failure);
  fail_unless_equals_int (run->live_checks, 3);
  fail_unless_equals_int (run->no_playlist, 0);

  fail_unless_equals_string (playlist,
      "#EXTM3U\n"
      "#EXT-X-VERSION:4\n"
      "#EXT-X-TARGETDURATION:6\n"
      "#EXT-X-MEDIA-SEQUENCE:0\n"
      "#EXT-X-PLAYLIST-TYPE:VOD\n"
      "#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXTINF:6.000,\nsegment00000.ts\n"
      "#EXTINF:6.000,\nsegment00001.ts\n"
      "#EXTINF:2.000,\nsegment00002.ts\n" "#EXT-X-ENDLIST\n");

  /* every segment: TS with an IDR first, video and audio; every I-frame
   * range starts on the IDR's PES */
  for (i = 0; i < 3; i++) {
    g_autofree gchar *name = g_strdup_printf ("segment%05u.ts", i);
    g_autofree gchar *path = g_build_filename (run->dir, name, NULL);
    g_autofree gchar *data = NULL;
    gsize len;
    g_auto (RcxTsInfo) info = { 0, };
    g_autoptr (GError) error = NULL;
    const GstStructure *seg = find_message (run, RCX_MSG_HLS_SEGMENT, i);
    guint index = 99;
    guint64 size = 0, running_time = 0;
    gdouble seg_duration = 0;
    g_autofree gchar *uri = NULL;
    guint j;

    fail_unless (g_file_get_contents (path, &data, &len, NULL));
    fail_unless (rcx_ts_scan ((guint8 *) data, len, &info, &error), "%s",
        error ? error->message : "");
    fail_unless (info.starts_with_idr);
    fail_unless (info.has_audio);
    fail_unless_equals_int (info.iframes->len, i < 2 ? 3 : 1);
    for (j = 0; j < info.iframes->len; j++) {
      const RcxTsIFrame *f = &g_array_index (info.iframes, RcxTsIFrame, j);
      g_autofree gchar *range = g_strdup_printf
          ("#EXT-X-BYTERANGE:%" G_GUINT64_FORMAT "@%" G_GUINT64_FORMAT
          "\n%s\n", f->length, f->offset, name);
      fail_unless (strstr (iframes, range) != NULL, "%s not in %s", range,
          iframes);
    }
    if (i == 0)
      expected_codec = rcx_ts_info_get_avc_codec (&info);
    total += len;

    fail_unless (seg != NULL);
    fail_unless (gst_structure_get (seg, RCX_FIELD_INDEX, G_TYPE_UINT, &index,
            RCX_FIELD_SIZE, G_TYPE_UINT64, &size, RCX_FIELD_DURATION,
            G_TYPE_DOUBLE, &seg_duration, RCX_FIELD_RUNNING_TIME, G_TYPE_UINT64,
            &running_time, RCX_FIELD_LOCATION, G_TYPE_STRING, &uri, NULL));
    fail_unless_equals_int (index, i);
    fail_unless_equals_uint64 (size, len);
    fail_unless_equals_float (seg_duration, i < 2 ? 6.0 : 2.0);
    fail_unless_equals_uint64 (running_time, i * 6 * GST_SECOND);
    fail_unless_equals_string (uri, path);
    fail_unless (g_str_has_suffix (gst_structure_get_string (seg,
                RCX_FIELD_CODECS), ",mp4a.40.2"));
  }
  fail_unless (find_message (run, RCX_MSG_HLS_SEGMENT, 3) == NULL);

  fail_unless (g_str_has_prefix (iframes, "#EXTM3U\n#EXT-X-VERSION:4\n"));
  fail_unless (strstr (iframes, "#EXT-X-I-FRAMES-ONLY\n") != NULL);
  fail_unless_equals_int (count_lines_with (iframes, "#EXTINF:2.000,\n"), 7);
  fail_unless (g_str_has_suffix (iframes, "#EXT-X-ENDLIST\n"));

  /* the rung message comes after the segments, before EOS */
  rung = find_message (run, RCX_MSG_HLS_RUNG, 0);
  fail_unless (rung != NULL);
  fail_unless (gst_message_get_structure (g_ptr_array_index (run->messages,
              run->messages->len - 1)) == rung);
  fail_unless (gst_structure_get (rung, RCX_FIELD_BANDWIDTH, G_TYPE_UINT,
          &bandwidth, RCX_FIELD_AVERAGE_BANDWIDTH, G_TYPE_UINT, &average,
          RCX_FIELD_SEGMENTS, G_TYPE_UINT, &segments, RCX_FIELD_TARGET_DURATION,
          G_TYPE_UINT, &target, RCX_FIELD_WIDTH, G_TYPE_INT, &width,
          RCX_FIELD_HEIGHT, G_TYPE_INT, &height, RCX_FIELD_DURATION,
          G_TYPE_DOUBLE, &duration, RCX_FIELD_FRAME_RATE, G_TYPE_DOUBLE,
          &frame_rate, RCX_FIELD_INDEPENDENT, G_TYPE_BOOLEAN, &independent,
          NULL));
  fail_unless_equals_string (gst_structure_get_string (rung,
          RCX_FIELD_LOCATION), run->dir);
  fail_unless_equals_string (gst_structure_get_string (rung,
          RCX_FIELD_PLAYLIST), "index.m3u8");
  fail_unless_equals_string (gst_structure_get_string (rung, "iframe-playlist"),
      "iframes.m3u8");
  fail_unless (g_str_has_prefix (expected_codec, "avc1.64"));
  fail_unless_equals_string (gst_structure_get_string (rung,
          RCX_FIELD_VIDEO_CODEC), expected_codec);
  {
    g_autofree gchar *codecs = g_strconcat (expected_codec, ",mp4a.40.2",
        NULL);
    fail_unless_equals_string (gst_structure_get_string (rung,
            RCX_FIELD_CODECS), codecs);
  }
  fail_unless_equals_int (width, 320);
  fail_unless_equals_int (height, 180);
  fail_unless_equals_float (frame_rate, 30.0);
  fail_unless_equals_float (duration, 14.0);
  fail_unless_equals_int (segments, 3);
  fail_unless_equals_int (target, 6);
  fail_unless (independent);
  /* average: every TS byte over the duration */
  fail_unless_equals_int (average, (guint) ((total * 8 + 13) / 14));
  fail_unless (bandwidth >= average);
  fail_unless (bandwidth <= 2 * average);
  fail_unless_equals_uint64 (total, file_size (run->dir, "segment00000.ts")
      + file_size (run->dir, "segment00001.ts")
      + file_size (run->dir, "segment00002.ts"));

  run_free (run);
}

GST_END_TEST;

GST_START_TEST (test_video_only_not_live)
{
  Run *run = run_new (VIDEO_BRANCH
      "wasabihlssink name=hls location=%s/sub/720p publish-live=false "
      "segment-name=v%%03u.ts playlist-name=video.m3u8 "
      "iframe-playlist-name=video-iframes.m3u8");
  g_autoptr (GstMessage) end = NULL;
  g_autofree gchar *sub = g_build_filename (run->dir, "sub", "720p", NULL);
  g_autofree gchar *playlist = NULL;
  g_autofree gchar *iframes = NULL;
  const GstStructure *rung;
  const gchar *codecs;

  g_free (run->playlist);
  run->playlist = g_build_filename ("sub", "720p", "video.m3u8", NULL);
  end = run_to_end (run);
  fail_unless_equals_int (GST_MESSAGE_TYPE (end), GST_MESSAGE_EOS);
  /* no live playlist was stored while segments were made */
  fail_unless_equals_int (run->no_playlist, 3);
  fail_unless_equals_int (run->live_checks, 0);
  playlist = read_text (sub, "video.m3u8");
  iframes = read_text (sub, "video-iframes.m3u8");
  fail_unless (playlist != NULL && iframes != NULL);
  fail_unless (strstr (playlist, "\nv000.ts\n") != NULL);
  fail_unless (g_str_has_suffix (playlist, "\nv002.ts\n#EXT-X-ENDLIST\n"));
  rung = find_message (run, RCX_MSG_HLS_RUNG, 0);
  fail_unless (rung != NULL);
  codecs = gst_structure_get_string (rung, RCX_FIELD_CODECS);
  fail_unless (g_str_has_prefix (codecs, "avc1.64"));
  fail_unless (strstr (codecs, "mp4a") == NULL);
  fail_unless_equals_string (gst_structure_get_string (rung,
          RCX_FIELD_LOCATION), sub);

  run_free (run);
}

GST_END_TEST;

static void
expect_settings_error (const gchar * description)
{
  Run *run = run_new (description);
  g_autoptr (GstMessage) end = run_to_end (run);
  g_autoptr (GError) error = NULL;

  fail_unless_equals_int (GST_MESSAGE_TYPE (end), GST_MESSAGE_ERROR);
  gst_message_parse_error (end, &error, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS), "%s", error->message);
  run_free (run);
}

GST_START_TEST (test_settings_errors)
{
  /* %s of run_new is consumed by a harmless property */
  expect_settings_error (VIDEO_BRANCH "wasabihlssink name=hls "
      "playlist-name=%s/x.m3u8");
  expect_settings_error (VIDEO_BRANCH "wasabihlssink name=hls location=%s "
      "segment-name=seg%%s.ts");
  expect_settings_error (VIDEO_BRANCH "wasabihlssink name=hls location=%s "
      "segment-name=../seg%%d.ts");
  expect_settings_error (VIDEO_BRANCH "wasabihlssink name=hls location=%s "
      "playlist-name=../index.m3u8");
}

GST_END_TEST;

GST_START_TEST (test_store_failure_no_vod)
{
  Run *run = run_new (VIDEO_BRANCH "wasabihlssink name=hls location=%s");
  g_autofree gchar *blocker = g_build_filename (run->dir, "segment00001.ts",
      NULL);
  g_autofree gchar *inside = g_build_filename (blocker, "x", NULL);
  g_autoptr (GstMessage) end = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *playlist = NULL;
  const GstStructure *details = NULL;

  /* a non-empty folder where the second segment goes: rename() fails */
  fail_unless (g_mkdir (blocker, 0755) == 0);
  fail_unless (g_file_set_contents (inside, "x", 1, NULL));

  end = run_to_end (run);
  fail_unless_equals_int (GST_MESSAGE_TYPE (end), GST_MESSAGE_ERROR);
  gst_message_parse_error (end, &error, NULL);
  fail_unless (error->domain == GST_RESOURCE_ERROR, "%s", error->message);
  gst_message_parse_error_details (end, &details);
  fail_unless (details != NULL);
  fail_unless (gst_structure_has_field (details, "http-status-code"));

  /* the live playlist lists the first segment only, and never ENDLIST */
  playlist = read_text (run->dir, "index.m3u8");
  fail_unless (playlist != NULL);
  fail_unless (strstr (playlist, "#EXT-X-ENDLIST") == NULL);
  fail_unless (strstr (playlist, "segment00001.ts") == NULL);
  fail_unless (strstr (playlist, "segment00000.ts") != NULL);
  fail_unless (find_message (run, RCX_MSG_HLS_RUNG, 0) == NULL);
  fail_unless (read_text (run->dir, "iframes.m3u8") == NULL);

  run_free (run);
}

GST_END_TEST;

GST_START_TEST (test_stop_without_eos)
{
  /* far longer than the test waits: stopped after the first segment */
  Run *run = run_new ("videotestsrc num-buffers=100000 ! "
      "video/x-raw,width=160,height=90,framerate=30/1,format=I420 ! "
      "x264enc key-int-max=60 speed-preset=ultrafast ! h264parse ! "
      "wasabihlssink name=hls location=%s");
  g_autoptr (GstBus) bus = gst_element_get_bus (run->pipeline);
  g_autofree gchar *playlist = NULL;
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;

  gst_element_set_state (run->pipeline, GST_STATE_PLAYING);
  while (TRUE) {
    g_autoptr (GstMessage) msg = gst_bus_timed_pop_filtered (bus,
        GST_SECOND, GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
    if (msg != NULL) {
      fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR);
      if (gst_structure_has_name (gst_message_get_structure (msg),
              RCX_MSG_HLS_SEGMENT))
        break;
    }
    fail_unless (g_get_monotonic_time () < deadline, "no segment in 60 s");
  }
  gst_element_set_state (run->pipeline, GST_STATE_NULL);

  playlist = read_text (run->dir, "index.m3u8");
  fail_unless (playlist != NULL);
  fail_unless (strstr (playlist, "#EXT-X-PLAYLIST-TYPE:EVENT\n") != NULL);
  fail_unless (strstr (playlist, "#EXT-X-ENDLIST") == NULL);
  fail_unless (read_text (run->dir, "iframes.m3u8") == NULL);
  fail_unless (find_message (run, RCX_MSG_HLS_RUNG, 0) == NULL);

  run_free (run);
}

GST_END_TEST;

GST_START_TEST (test_properties)
{
  g_autoptr (GstElement) sink = gst_element_factory_make ("wasabihlssink",
      NULL);
  g_autofree gchar *segment_name = NULL;
  g_autofree gchar *playlist_name = NULL;
  g_autofree gchar *iframe_name = NULL;
  g_autofree gchar *location = NULL;
  guint target = 0, pending = 0;
  gboolean live = FALSE;
  GstPad *video, *audio;

  fail_unless (sink != NULL);
  g_object_get (sink, "segment-name", &segment_name, "playlist-name",
      &playlist_name, "iframe-playlist-name", &iframe_name,
      "target-duration", &target, "publish-live", &live,
      "max-pending-uploads", &pending, "location", &location, NULL);
  fail_unless_equals_string (segment_name, "segment%05d.ts");
  fail_unless_equals_string (playlist_name, "index.m3u8");
  fail_unless_equals_string (iframe_name, "iframes.m3u8");
  fail_unless_equals_int (target, 6);
  fail_unless (live);
  fail_unless_equals_int (pending, 4);
  fail_unless (location == NULL);

  video = gst_element_request_pad_simple (sink, "video");
  audio = gst_element_request_pad_simple (sink, "audio");
  fail_unless (video != NULL && audio != NULL);
  fail_unless_equals_string (GST_PAD_NAME (video), "video");
  fail_unless_equals_string (GST_PAD_NAME (audio), "audio");
  gst_element_release_request_pad (sink, video);
  gst_element_release_request_pad (sink, audio);
  gst_object_unref (video);
  gst_object_unref (audio);
}

GST_END_TEST;

static Suite *
wasabihlssink_suite (void)
{
  Suite *s = suite_create ("wasabihlssink");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_local_rendition);
  tcase_add_test (tc, test_video_only_not_live);
  tcase_add_test (tc, test_settings_errors);
  tcase_add_test (tc, test_store_failure_no_vod);
  tcase_add_test (tc, test_stop_without_eos);
  return s;
}

GST_CHECK_MAIN (wasabihlssink);
