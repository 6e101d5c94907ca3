/* rcx-concealment.c: collecting what a job concealed (see the header).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-concealment.h"

#include <string.h>

#define MAX_GROUPS 32
#define MAX_MESSAGE 200

typedef struct
{
  gchar *element;
  const gchar *kind;            /* static */
  guint count;
  GstClockTime first;
  GstClockTime last;
  gchar *message;
} Group;

/* Per tracked element, as qdata: where its input is. */
typedef struct
{
  gchar *name;                  /* the element's */
  GMutex lock;
  GstSegment segment;
  GstClockTime position;        /* stream time of the last buffer */
} Track;

struct _RcxConcealment
{
  GstElement *pipeline;
  gulong added_id;
  GMutex lock;                  /* a leaf lock: nothing is called under it */
  GPtrArray *groups;            /* Group */
  guint dropped;                /* reports of groups beyond MAX_GROUPS */
};

static GQuark track_quark;
/* The one collector the log function feeds. */
G_LOCK_DEFINE_STATIC (current);
static RcxConcealment *current;

static void
group_free (Group * g)
{
  g_free (g->element);
  g_free (g->message);
  g_free (g);
}

static void
track_clear (Track * t)
{
  g_free (t->name);
  g_mutex_clear (&t->lock);
}

static void
track_unref (Track * t)
{
  g_atomic_rc_box_release_full (t, (GDestroyNotify) track_clear);
}

/* The element whose streaming thread this is (its sink pad saw a buffer
 * here last): libav's messages come without an object, mostly from the
 * thread that called into it. A reference, as pool threads outlive
 * pipelines. */
static GPrivate thread_track = G_PRIVATE_INIT ((GDestroyNotify) track_unref);

static GstClockTime
track_position (Track * t)
{
  GstClockTime pos;

  g_mutex_lock (&t->lock);
  pos = t->position;
  g_mutex_unlock (&t->lock);
  return pos;
}

/* Outside text in a report: printable, bounded. */
static gchar *
clean_message (const gchar * text)
{
  g_autofree gchar *valid = g_utf8_make_valid (text ? text : "", -1);
  GString *s = g_string_new (NULL);
  const gchar *p;

  g_strstrip (valid);
  for (p = valid; *p != '\0' && s->len < MAX_MESSAGE; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (g_unichar_iscntrl (c))
      g_string_append_c (s, ' ');
    else
      g_string_append_unichar (s, c);
  }
  return g_string_free (s, FALSE);
}

static void
add_report (RcxConcealment * c, const gchar * element, const gchar * kind,
    GstClockTime position, const gchar * message)
{
  Group *g = NULL;

  g_mutex_lock (&c->lock);
  for (guint i = 0; i < c->groups->len; i++) {
    Group *x = c->groups->pdata[i];

    if (x->kind == kind && g_strcmp0 (x->element, element) == 0) {
      g = x;
      break;
    }
  }
  if (g == NULL && c->groups->len >= MAX_GROUPS) {
    c->dropped++;
    g_mutex_unlock (&c->lock);
    return;
  }
  if (g == NULL) {
    g = g_new0 (Group, 1);
    g->element = g_strdup (element);
    g->kind = kind;
    g->first = g->last = GST_CLOCK_TIME_NONE;
    g->message = clean_message (message);
    g_ptr_array_add (c->groups, g);
  }
  g->count++;
  if (GST_CLOCK_TIME_IS_VALID (position)) {
    if (!GST_CLOCK_TIME_IS_VALID (g->first) || position < g->first)
      g->first = position;
    if (!GST_CLOCK_TIME_IS_VALID (g->last) || position > g->last)
      g->last = position;
  }
  g_mutex_unlock (&c->lock);
}

/* ---- tracking where each decoder / demuxer is ------------------------- */

static GstPadProbeReturn
track_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Track *t = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstClockTime ts = GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf) :
        GST_BUFFER_DTS (buf);

    if (g_private_get (&thread_track) != t)
      g_private_replace (&thread_track, g_atomic_rc_box_acquire (t));
    if (GST_CLOCK_TIME_IS_VALID (ts)) {
      g_mutex_lock (&t->lock);
      if (t->segment.format == GST_FORMAT_TIME)
        ts = gst_segment_to_stream_time (&t->segment, GST_FORMAT_TIME, ts);
      if (GST_CLOCK_TIME_IS_VALID (ts))
        t->position = ts;
      g_mutex_unlock (&t->lock);
    }
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT) {
      const GstSegment *seg;

      gst_event_parse_segment (ev, &seg);
      g_mutex_lock (&t->lock);
      gst_segment_copy_into (seg, &t->segment);
      g_mutex_unlock (&t->lock);
    }
  }
  return GST_PAD_PROBE_OK;
}

static void
on_deep_element_added (GstBin * bin, GstBin * sub_bin, GstElement * element,
    gpointer user_data)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  const gchar *klass;
  Track *t;
  g_autoptr (GstPad) pad = NULL;

  if (factory == NULL)
    return;
  klass = gst_element_factory_get_metadata (factory,
      GST_ELEMENT_METADATA_KLASS);
  if (klass == NULL || (!strstr (klass, "Decoder") && !strstr (klass, "Demux")))
    return;
  /* decoders have one static "sink" pad; demuxers too */
  pad = gst_element_get_static_pad (element, "sink");
  if (pad == NULL)
    return;
  t = g_atomic_rc_box_new0 (Track);
  t->name = g_strdup (GST_OBJECT_NAME (element));
  g_mutex_init (&t->lock);
  gst_segment_init (&t->segment, GST_FORMAT_UNDEFINED);
  t->position = GST_CLOCK_TIME_NONE;
  g_object_set_qdata_full (G_OBJECT (element), track_quark, t,
      (GDestroyNotify) track_unref);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, track_probe,
      g_atomic_rc_box_acquire (t), (GDestroyNotify) track_unref);
}

/* ---- the log function ------------------------------------------------- */

static void
log_func (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  const gchar *name = gst_debug_category_get_name (category);
  gboolean decoder_error, library;
  const gchar *text;
  RcxConcealment *c;

  decoder_error = level == GST_LEVEL_WARNING
      && (g_str_equal (name, "videodecoder")
      || g_str_equal (name, "audiodecoder"));
  library = level == GST_LEVEL_ERROR && g_str_equal (name, "libav");
  if (!decoder_error && !library)
    return;
  text = gst_debug_message_get (message);
  if (text == NULL)
    return;
  /* GstVideoDecoder / GstAudioDecoder's _error(): "error: <text>" */
  if (decoder_error) {
    if (!g_str_has_prefix (text, "error: "))
      return;
    text += strlen ("error: ");
  }

  G_LOCK (current);
  c = current;
  if (c == NULL) {
    G_UNLOCK (current);
    return;
  }
  if (GST_IS_ELEMENT (object)) {
    Track *t = g_object_get_qdata (object, track_quark);
    g_autofree gchar *element = g_strdup (GST_OBJECT_NAME (object));

    add_report (c, element, decoder_error ? "decode-error" : "decoder-log",
        t ? track_position (t) : GST_CLOCK_TIME_NONE, text);
  } else {
    Track *t = g_private_get (&thread_track);

    /* a libav worker thread of its own: which decoder is not known */
    add_report (c, t ? t->name : name, "decoder-log",
        t ? track_position (t) : GST_CLOCK_TIME_NONE, text);
  }
  G_UNLOCK (current);
}

static void
logging_init_once (void)
{
  static gsize done = 0;

  if (!g_once_init_enter (&done))
    return;
  track_quark = g_quark_from_static_string ("rcx-concealment-track");
  if (g_getenv ("GST_DEBUG") == NULL) {
    /* nothing was shown before: keep it so, and see what we need */
    gst_debug_remove_log_function (gst_debug_log_default);
    gst_debug_set_threshold_for_name ("videodecoder", GST_LEVEL_WARNING);
    gst_debug_set_threshold_for_name ("audiodecoder", GST_LEVEL_WARNING);
    gst_debug_set_threshold_for_name ("libav", GST_LEVEL_ERROR);
  }
  gst_debug_add_log_function (log_func, NULL, NULL);
  g_once_init_leave (&done, 1);
}

/* ---- API -------------------------------------------------------------- */

RcxConcealment *
rcx_concealment_new (GstElement * pipeline)
{
  RcxConcealment *c = g_new0 (RcxConcealment, 1);

  logging_init_once ();
  g_mutex_init (&c->lock);
  c->groups = g_ptr_array_new_with_free_func ((GDestroyNotify) group_free);
  c->pipeline = gst_object_ref (pipeline);
  c->added_id = g_signal_connect (pipeline, "deep-element-added",
      G_CALLBACK (on_deep_element_added), c);
  G_LOCK (current);
  current = c;
  G_UNLOCK (current);
  return c;
}

void
rcx_concealment_free (RcxConcealment * c)
{
  if (c == NULL)
    return;
  G_LOCK (current);
  if (current == c)
    current = NULL;
  G_UNLOCK (current);
  g_signal_handler_disconnect (c->pipeline, c->added_id);
  gst_object_unref (c->pipeline);
  g_ptr_array_unref (c->groups);
  g_mutex_clear (&c->lock);
  g_free (c);
}

void
rcx_concealment_add_warning (RcxConcealment * c, GstMessage * msg)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;
  GstClockTime pos = GST_CLOCK_TIME_NONE;
  GstObject *src = GST_MESSAGE_SRC (msg);

  gst_message_parse_warning (msg, &err, &debug);
  if (src != NULL && GST_IS_ELEMENT (src)) {
    Track *t = g_object_get_qdata (G_OBJECT (src), track_quark);

    if (t != NULL)
      pos = track_position (t);
  }
  add_report (c, src ? GST_OBJECT_NAME (src) : "pipeline", "warning", pos,
      err ? err->message : NULL);
}

guint
rcx_concealment_get_count (RcxConcealment * c)
{
  guint n;

  g_mutex_lock (&c->lock);
  n = c->dropped;
  for (guint i = 0; i < c->groups->len; i++)
    n += ((Group *) c->groups->pdata[i])->count;
  g_mutex_unlock (&c->lock);
  return n;
}

static void
add_time (JsonBuilder * b, const gchar * name, GstClockTime t)
{
  json_builder_set_member_name (b, name);
  if (GST_CLOCK_TIME_IS_VALID (t))
    json_builder_add_double_value (b, (gdouble) (t / GST_MSECOND) / 1000.0);
  else
    json_builder_add_null_value (b);
}

JsonNode *
rcx_concealment_to_json (RcxConcealment * c)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  g_mutex_lock (&c->lock);
  for (guint i = 0; i < c->groups->len; i++) {
    Group *g = c->groups->pdata[i];

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "element");
    json_builder_add_string_value (b, g->element);
    json_builder_set_member_name (b, "kind");
    json_builder_add_string_value (b, g->kind);
    json_builder_set_member_name (b, "count");
    json_builder_add_int_value (b, g->count);
    add_time (b, "first", g->first);
    add_time (b, "last", g->last);
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, g->message);
    json_builder_end_object (b);
  }
  g_mutex_unlock (&c->lock);
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

gchar *
rcx_concealment_to_string (RcxConcealment * c)
{
  GString *s = g_string_new (NULL);

  g_mutex_lock (&c->lock);
  for (guint i = 0; i < c->groups->len; i++) {
    Group *g = c->groups->pdata[i];

    g_string_append_printf (s, "%s%u %s from %s", s->len ? "; " : "",
        g->count, g->kind, g->element);
    if (GST_CLOCK_TIME_IS_VALID (g->first))
      g_string_append_printf (s, " at %.1f-%.1f s",
          (gdouble) g->first / GST_SECOND, (gdouble) g->last / GST_SECOND);
    g_string_append_printf (s, " (%s)", g->message);
  }
  if (c->dropped)
    g_string_append_printf (s, "; %u more", c->dropped);
  g_mutex_unlock (&c->lock);
  if (s->len == 0) {
    g_string_free (s, TRUE);
    return NULL;
  }
  g_string_prepend (s, "concealed: ");
  return g_string_free (s, FALSE);
}
