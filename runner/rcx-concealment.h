/* rcx-concealment.h: what a job concealed from a damaged source.
 *
 * A damaged but decodable source (garbage in the middle of its media data)
 * goes through: the decoders drop or conceal what they cannot decode and
 * carry on. GStreamer's decoders report such recovered errors only in the
 * debug log (GstVideoDecoder / GstAudioDecoder "error: ..." at WARNING,
 * libav's own messages at ERROR), never on the bus, so the collector
 * listens to both: bus WARNING messages (fed by the runner) and those log
 * lines (a GStreamer log function installed while a collector exists).
 *
 * Each report is placed in the timeline: the stream time of the last
 * buffer that reached the reporting element (tracked by a probe on the
 * sink pad of every decoder and demuxer added to the pipeline); libav's
 * messages come without an element and are given to the element whose
 * streaming thread logged them (those from libav's own worker threads stay
 * "libav", without a time). Reports are grouped by element and kind, with a
 * count, the first and last stream time and the first message (control
 * characters replaced, at most 200 bytes); at most 32 groups, so a source
 * that is garbage from end to end costs no more memory than a slightly
 * damaged one.
 *
 * Without GST_DEBUG in the environment the debug log is otherwise silent:
 * the collector raises only the thresholds of "videodecoder",
 * "audiodecoder" (WARNING) and "libav" (ERROR) and takes the default log
 * function out, so nothing new reaches stderr. With GST_DEBUG set, the
 * user's thresholds are left alone (and decide what is collected).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _RcxConcealment RcxConcealment;

/* Starts collecting for @pipeline (the decoders and demuxers it will
 * create are tracked). One collector at a time per process. */
RcxConcealment *rcx_concealment_new (GstElement * pipeline);
/* Stops collecting (the log function is removed) and frees. */
void rcx_concealment_free (RcxConcealment * c);

/* A bus WARNING message. */
void rcx_concealment_add_warning (RcxConcealment * c, GstMessage * msg);

/* Reports collected so far (every group's count added up). */
guint rcx_concealment_get_count (RcxConcealment * c);

/* The summary's "warnings" array: objects {"element", "kind"
 * ("decode-error": a decoder error recovered from, "decoder-log": a
 * decoder library's error message, "warning": a bus WARNING), "count",
 * "first", "last" (stream time in seconds, null when unknown), "message"}. */
JsonNode *rcx_concealment_to_json (RcxConcealment * c);

/* One line for logs and the job row, e.g. "concealed: 167 decode-error
 * from avdec_h264-0 at 7.3-12.9 s (Invalid input packet); ...", NULL when
 * nothing was collected. */
gchar *rcx_concealment_to_string (RcxConcealment * c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxConcealment, rcx_concealment_free)

G_END_DECLS
