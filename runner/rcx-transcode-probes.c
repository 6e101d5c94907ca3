/* rcx-transcode-probes.c: the pad probes on a running attempt: the video
 * tee's (progress, frames, the thumbnail frame, a truncated source) and the
 * watchdog's activity probes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-transcode-private.h"

#include <gst/video/video.h>

/* A source is "truncated" when the video stops this far before the probed
 * duration: a fraction of it, plus a little slack for streams whose audio
 * outlasts the video. */
#define TRUNCATED_FRACTION 0.95
#define TRUNCATED_SLACK (GST_SECOND / 2)

static GstClockTime
stream_time_of (GstPad * pad, GstClockTime ts)
{
  g_autoptr (GstEvent) ev = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT,
      0);
  const GstSegment *segment;

  if (!ev || !GST_CLOCK_TIME_IS_VALID (ts))
    return ts;
  gst_event_parse_segment (ev, &segment);
  return gst_segment_to_stream_time (segment, GST_FORMAT_TIME, ts);
}

/* The thumbnail frame, scaled to the thumbnail's size at once into system
 * memory (device memory is downloaded by the map): the sample is held until
 * the pipeline ends, and a full frame of a 4K source is 12 MB of the job's
 * peak memory. Turned into a JPEG after the pipeline. */
static GstSample *
capture_thumbnail (GstPad * pad, GstBuffer * buf, const RcxPlan * plan)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  g_autoptr (GstCaps) out_caps = NULL;
  g_autoptr (GstBuffer) out = NULL;
  GstVideoInfo in_info, out_info;
  GstVideoFrame in_frame, out_frame;
  GstVideoConverter *convert;

  if (!caps || !gst_video_info_from_caps (&in_info, caps))
    return NULL;
  /* only the size changes: the converter scales, nothing else */
  gst_video_info_set_interlaced_format (&out_info,
      GST_VIDEO_INFO_FORMAT (&in_info), GST_VIDEO_INFO_INTERLACE_MODE (&in_info),
      plan->thumb_width, plan->thumb_height);
  out_info.fps_n = in_info.fps_n;
  out_info.fps_d = in_info.fps_d;
  out_info.colorimetry = in_info.colorimetry;
  out_info.chroma_site = in_info.chroma_site;
  convert = gst_video_converter_new (&in_info, &out_info, NULL);
  if (!convert)
    return NULL;
  out = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&out_info), NULL);
  if (!gst_video_frame_map (&in_frame, &in_info, buf, GST_MAP_READ)) {
    gst_video_converter_free (convert);
    return NULL;
  }
  gst_video_frame_map (&out_frame, &out_info, out, GST_MAP_WRITE);
  gst_video_converter_frame (convert, &in_frame, &out_frame);
  gst_video_frame_unmap (&out_frame);
  gst_video_frame_unmap (&in_frame);
  gst_video_converter_free (convert);
  gst_buffer_copy_into (out, buf, GST_BUFFER_COPY_FLAGS |
      GST_BUFFER_COPY_TIMESTAMPS, 0, -1);
  out_caps = gst_video_info_to_caps (&out_info);
  return gst_sample_new (out, out_caps, NULL, NULL);
}

/* On the tee's sink pad: how far the video got, and EOS before the end of a
 * truncated source is turned into an error (the sinks never see EOS, so
 * nothing is published as complete). */
GstPadProbeReturn
rcx_attempt_tee_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Attempt *a = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstClockTime end = GST_BUFFER_PTS (buf);

    if (GST_CLOCK_TIME_IS_VALID (end) && GST_BUFFER_DURATION_IS_VALID (buf))
      end += GST_BUFFER_DURATION (buf);
    end = stream_time_of (pad, end);
    GstClockTime start = stream_time_of (pad, GST_BUFFER_PTS (buf));
    gboolean take_thumbnail;

    g_mutex_lock (&a->lock);
    if (GST_CLOCK_TIME_IS_VALID (end)
        && (!GST_CLOCK_TIME_IS_VALID (a->reached) || end > a->reached))
      a->reached = end;
    a->frames++;
    take_thumbnail = !a->thumbnail && (!GST_CLOCK_TIME_IS_VALID (start)
        || start >= a->plan->thumb_position);
    g_mutex_unlock (&a->lock);
    if (take_thumbnail) {
      GstSample *sample = capture_thumbnail (pad, buf, a->plan);

      g_mutex_lock (&a->lock);
      a->thumbnail = sample;
      g_mutex_unlock (&a->lock);
    }
    g_atomic_int_inc (&a->activity);
    return GST_PAD_PROBE_OK;
  }

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS
      && GST_CLOCK_TIME_IS_VALID (a->duration)) {
    GstClockTime reached, expected;

    g_mutex_lock (&a->lock);
    reached = GST_CLOCK_TIME_IS_VALID (a->reached) ? a->reached : 0;
    g_mutex_unlock (&a->lock);
    expected = a->duration * TRUNCATED_FRACTION;
    if (reached + TRUNCATED_SLACK < expected) {
      GstElement *tee = gst_pad_get_parent_element (pad);
      GError *err = g_error_new (GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
          "the source ends at %.1f s of %.1f s: truncated or damaged",
          (gdouble) reached / GST_SECOND, (gdouble) a->duration / GST_SECOND);

      gst_element_post_message (tee, gst_message_new_error (GST_OBJECT (tee),
              err, "video EOS long before the probed duration"));
      g_error_free (err);
      gst_object_unref (tee);
      return GST_PAD_PROBE_DROP;
    }
  }
  return GST_PAD_PROBE_OK;
}

/* Encoded output of a rung: the watchdog's heartbeat. */
GstPadProbeReturn
rcx_attempt_activity_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  Attempt *a = user_data;

  g_atomic_int_inc (&a->activity);
  return GST_PAD_PROBE_OK;
}

gboolean
rcx_attempt_add_pad_probe (GstElement * pipeline, const gchar * element,
    const gchar * pad_name, GstPadProbeType type, GstPadProbeCallback cb,
    gpointer data)
{
  g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (pipeline), element);
  g_autoptr (GstPad) pad = e ? gst_element_get_static_pad (e, pad_name) : NULL;

  if (!pad)
    return FALSE;
  gst_pad_add_probe (pad, type, cb, data, NULL);
  return TRUE;
}
