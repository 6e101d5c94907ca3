/* GStreamer jobstatus element
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-jobstatus
 * @title: jobstatus
 *
 * A pass-through element (any caps, buffers untouched) that reports how
 * far the stream has come. At most every #GstJobStatus:update-freq seconds
 * of the pipeline clock's running time, and once more at EOS, it posts an
 * element message named `progress` on the bus with these fields:
 *
 * - `percent` (G_TYPE_DOUBLE): position / duration x 100, 0-100; 100 in the
 *   message posted at EOS; -1 while the duration is unknown.
 * - `position` (G_TYPE_UINT64): stream time reached, in nanoseconds (the end
 *   of the last buffer seen).
 * - `duration` (G_TYPE_UINT64): the stream's duration in nanoseconds (from
 *   #GstJobStatus:duration, else an upstream duration query);
 *   GST_CLOCK_TIME_NONE (G_MAXUINT64) when unknown.
 * - `frames` (G_TYPE_UINT64): buffers seen so far.
 * - `speed` (G_TYPE_DOUBLE): stream time advanced / running time elapsed
 *   since the first buffer (x realtime: 1.0 for a live or synchronised
 *   pipeline, 6.0 for a transcode six times faster than realtime); 0 until
 *   some running time has elapsed.
 * - `eta` (G_TYPE_UINT64): running time left at the current speed, in
 *   nanoseconds; G_MAXUINT64 when unknown (no duration or no speed yet);
 *   0 at EOS.
 * - `job-id` (G_TYPE_STRING): #GstJobStatus:job-id, only when set.
 * - `eos` (G_TYPE_BOOLEAN): TRUE in the final message posted at EOS.
 *
 * Running time is the pipeline clock's time minus the element's base time,
 * so a #GstTestClock drives the throttling in tests. Without a clock the
 * monotonic system time is used.
 *
 * When #GstJobStatus:job-id, #GstJobStatus:supabase-url and
 * #GstJobStatus:supabase-key are all set (the URL and the key may also come
 * from the environment variables `SUPABASE_URL` and
 * `SUPABASE_SERVICE_KEY`), the progress is also written to the job's row
 * (`jobs.progress`, only while the job is `running`, through PostgREST) at
 * every #GstJobStatus:db-interval seconds and once at EOS, by the writer of
 * lib/rcx-job-progress.h on a thread of its own: the streaming thread
 * never waits for the database. Every write is also a heartbeat: it moves
 * jobs.updated_at even while the percent is unknown, so a healthy job never
 * looks stale to other workers. Failed writes are logged and retried later
 * with the newest value only; when the element stops, it keeps trying the
 * last value for at most #GstJobStatus:db-flush-timeout seconds. A slow or
 * unreachable database never fails the pipeline; with
 * #GstJobStatus:worker-id set, a write refused because another worker took
 * the job over is an error (the pipeline must stop). The key is never
 * logged.
 *
 * Without any configuration jobstatus only posts messages.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m filesrc location=match.mp4 ! decodebin ! jobstatus ! fakesink
 * ]| Prints the progress messages (`gst-launch-1.0 -m`).
 * |[
 * SUPABASE_URL=https://xyz.supabase.co SUPABASE_SERVICE_KEY=... \
 * gst-launch-1.0 filesrc location=match.mp4 ! decodebin ! \
 *     jobstatus job-id=0b6c... ! x264enc ! fakesink
 * ]| Also writes the job's progress to Supabase every 5 seconds.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstjobstatus.h"
#include "gstjobstatus-private.h"
#include "gstrugbycodexelements.h"

#include <rcx-job-progress.h>
#include <rcx-schema.h>
#include <string.h>

GST_DEBUG_CATEGORY (gst_job_status_debug);
#define GST_CAT_DEFAULT gst_job_status_debug

#define DEFAULT_UPDATE_FREQ 1.0
#define DEFAULT_DURATION GST_CLOCK_TIME_NONE
#define DEFAULT_JOB_ID NULL
#define DEFAULT_SUPABASE_URL NULL
#define DEFAULT_WORKER_ID NULL
#define DEFAULT_DB_INTERVAL 5.0
#define DEFAULT_DB_FLUSH_TIMEOUT 10.0

enum
{
  PROP_0,
  PROP_UPDATE_FREQ,
  PROP_DURATION,
  PROP_JOB_ID,
  PROP_SUPABASE_URL,
  PROP_SUPABASE_KEY,
  PROP_WORKER_ID,
  PROP_DB_INTERVAL,
  PROP_DB_FLUSH_TIMEOUT,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);


#define gst_job_status_parent_class parent_class
G_DEFINE_TYPE (GstJobStatus, gst_job_status, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (jobstatus, "jobstatus", GST_RANK_NONE,
    GST_TYPE_JOB_STATUS);

/* ---- progress ------------------------------------------------------------ */

/* The running time now: the element's clock minus its base time, or
 * GST_CLOCK_TIME_NONE before PLAYING (prerolling: no clock, no base time
 * yet). A PLAYING pipeline without a clock uses the monotonic time. */
static GstClockTime
get_running_time (GstJobStatus * self)
{
  GstClock *clock;
  GstClockTime now, base;
  GstState state;

  GST_OBJECT_LOCK (self);
  state = GST_STATE (self);
  clock = GST_ELEMENT_CLOCK (self) ? gst_object_ref (GST_ELEMENT_CLOCK (self))
      : NULL;
  base = GST_ELEMENT_CAST (self)->base_time;
  GST_OBJECT_UNLOCK (self);

  if (state != GST_STATE_PLAYING) {
    if (clock)
      gst_object_unref (clock);
    return GST_CLOCK_TIME_NONE;
  }
  if (clock == NULL)
    return g_get_monotonic_time () * GST_USECOND;
  now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  return now > base ? now - base : 0;
}

/* Builds the `progress` message; called with the object lock. */
static GstMessage *
build_message (GstJobStatus * self, GstClockTime now_rt, gdouble * percent_out)
{
  GstStructure *s;
  GstClockTime position = self->position;
  GstClockTime duration = self->duration;
  RcxProgressEstimate e;

  /* GST_CLOCK_TIME_NONE is RCX_PROGRESS_NONE: the same G_MAXUINT64 */
  rcx_progress_estimate (position, duration, self->start_pos,
      GST_CLOCK_TIME_IS_VALID (self->start_rt)
      && GST_CLOCK_TIME_IS_VALID (now_rt) && now_rt > self->start_rt ?
      now_rt - self->start_rt : GST_CLOCK_TIME_NONE, self->eos, &e);
  if (self->eos && GST_CLOCK_TIME_IS_VALID (duration))
    position = GST_CLOCK_TIME_IS_VALID (position) ? MAX (position, duration)
        : duration;
  s = gst_structure_new (RCX_MSG_PROGRESS,
      RCX_FIELD_PERCENT, G_TYPE_DOUBLE, e.percent,
      RCX_FIELD_POSITION, G_TYPE_UINT64, (guint64) position,
      RCX_FIELD_DURATION, G_TYPE_UINT64, (guint64) duration,
      RCX_FIELD_FRAMES, G_TYPE_UINT64, self->frames,
      RCX_FIELD_SPEED, G_TYPE_DOUBLE, e.speed,
      RCX_FIELD_ETA, G_TYPE_UINT64, e.eta,
      RCX_FIELD_EOS, G_TYPE_BOOLEAN, self->eos, NULL);
  if (self->job_id)
    gst_structure_set (s, RCX_FIELD_JOB_ID, G_TYPE_STRING, self->job_id, NULL);

  *percent_out = e.percent;
  self->last_post_rt = now_rt;
  return gst_message_new_element (GST_OBJECT (self), s);
}

/* Asks upstream for the duration until it is known (streaming thread,
 * no lock held). */
static void
update_duration (GstJobStatus * self)
{
  GstClockTime prop;
  gint64 dur = -1;
  gboolean known;

  GST_OBJECT_LOCK (self);
  prop = self->duration_prop;
  known = GST_CLOCK_TIME_IS_VALID (self->duration);
  GST_OBJECT_UNLOCK (self);

  if (GST_CLOCK_TIME_IS_VALID (prop)) {
    if (!known) {
      GST_OBJECT_LOCK (self);
      self->duration = prop;
      GST_OBJECT_UNLOCK (self);
    }
    return;
  }
  if (known)
    return;
  if (gst_pad_peer_query_duration (GST_BASE_TRANSFORM_SINK_PAD (self),
          GST_FORMAT_TIME, &dur) && dur > 0) {
    GST_DEBUG_OBJECT (self, "upstream duration %" GST_TIME_FORMAT,
        GST_TIME_ARGS (dur));
    GST_OBJECT_LOCK (self);
    self->duration = dur;
    GST_OBJECT_UNLOCK (self);
  }
}

/* Posts the message and feeds the writer, outside the lock. */
static void
post_progress (GstJobStatus * self, GstMessage * msg, gdouble percent,
    gboolean final)
{
  GST_LOG_OBJECT (self, "posting %" GST_PTR_FORMAT,
      gst_message_get_structure (msg));
  gst_element_post_message (GST_ELEMENT (self), msg);
  if (self->db && (percent >= 0 || final)) {
    self->db_last_percent = percent;
    rcx_job_progress_set (self->db, percent, final);
  }
}

static GstFlowReturn
gst_job_status_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstJobStatus *self = GST_JOB_STATUS (trans);
  GstClockTime ts = GST_BUFFER_PTS (buf);
  if (!GST_CLOCK_TIME_IS_VALID (ts))
    ts = GST_BUFFER_DTS (buf);
  GstClockTime now_rt, pos = GST_CLOCK_TIME_NONE;
  GstMessage *msg = NULL;
  gdouble percent = -1.0;
  gboolean first;

  if (GST_CLOCK_TIME_IS_VALID (ts)) {
    if (GST_BUFFER_DURATION_IS_VALID (buf))
      ts += GST_BUFFER_DURATION (buf);
    if (trans->segment.format == GST_FORMAT_TIME)
      pos = gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME, ts);
    else
      pos = ts;
  }

  GST_OBJECT_LOCK (self);
  first = !GST_CLOCK_TIME_IS_VALID (self->start_rt);
  GST_OBJECT_UNLOCK (self);
  if (first)
    update_duration (self);

  now_rt = get_running_time (self);

  GST_LOG_OBJECT (self, "buffer %" GST_TIME_FORMAT " at running time %"
      GST_TIME_FORMAT, GST_TIME_ARGS (pos), GST_TIME_ARGS (now_rt));

  GST_OBJECT_LOCK (self);
  self->frames++;
  if (GST_CLOCK_TIME_IS_VALID (pos)
      && (!GST_CLOCK_TIME_IS_VALID (self->position) || pos > self->position))
    self->position = pos;
  if (!GST_CLOCK_TIME_IS_VALID (now_rt)) {
    /* prerolling: counted, but no running time to measure against */
  } else if (!GST_CLOCK_TIME_IS_VALID (self->start_rt)) {
    self->start_rt = now_rt;
    self->start_pos = GST_CLOCK_TIME_IS_VALID (pos) ? pos : 0;
    self->last_post_rt = now_rt;
    /* the first buffer's start, not its end, is where we began */
    if (GST_CLOCK_TIME_IS_VALID (pos) && GST_BUFFER_DURATION_IS_VALID (buf)
        && pos >= GST_BUFFER_DURATION (buf))
      self->start_pos = pos - GST_BUFFER_DURATION (buf);
  } else if (now_rt < self->last_post_rt) {
    /* a new base time (PAUSED -> PLAYING): count from here */
    self->last_post_rt = now_rt;
  } else if (now_rt - self->last_post_rt >=
      (GstClockTime) (self->update_freq * GST_SECOND)) {
    msg = build_message (self, now_rt, &percent);
  }
  if (!msg && self->db) {
    RcxProgressEstimate e;

    rcx_progress_estimate (self->position, self->duration, self->start_pos,
        GST_CLOCK_TIME_NONE, FALSE, &e);
    percent = e.percent;
  }
  GST_OBJECT_UNLOCK (self);

  if (msg) {
    if (!GST_CLOCK_TIME_IS_VALID (self->duration))
      update_duration (self);
    post_progress (self, msg, percent, FALSE);
  } else if (percent >= 0 && percent - self->db_last_percent >= 0.1) {
    /* the database has its own pace (db-interval): hand over every 0.1 %
     * step, the writer keeps only the newest */
    self->db_last_percent = percent;
    rcx_job_progress_set (self->db, percent, FALSE);
  }
  return GST_FLOW_OK;
}

static gboolean
gst_job_status_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstJobStatus *self = GST_JOB_STATUS (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:{
      GstMessage *msg;
      gdouble percent;
      GstClockTime now_rt;

      update_duration (self);
      now_rt = get_running_time (self);
      GST_OBJECT_LOCK (self);
      self->eos = TRUE;
      msg = build_message (self, now_rt, &percent);
      GST_OBJECT_UNLOCK (self);
      post_progress (self, msg, percent, TRUE);
      break;
    }
    case GST_EVENT_FLUSH_STOP:
      /* a seek: measure the speed from the new position */
      GST_OBJECT_LOCK (self);
      self->start_rt = GST_CLOCK_TIME_NONE;
      self->position = GST_CLOCK_TIME_NONE;
      self->eos = FALSE;
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_job_status_start (GstBaseTransform * trans)
{
  GstJobStatus *self = GST_JOB_STATUS (trans);

  GST_OBJECT_LOCK (self);
  self->start_rt = GST_CLOCK_TIME_NONE;
  self->start_pos = 0;
  self->last_post_rt = GST_CLOCK_TIME_NONE;
  self->position = GST_CLOCK_TIME_NONE;
  self->duration = GST_CLOCK_TIME_NONE;
  self->frames = 0;
  self->eos = FALSE;
  self->db_last_percent = -1.0;
  GST_OBJECT_UNLOCK (self);

  return gst_job_status_db_start (self);
}

static gboolean
gst_job_status_stop (GstBaseTransform * trans)
{
  GstJobStatus *self = GST_JOB_STATUS (trans);
  gdouble timeout;

  GST_OBJECT_LOCK (self);
  timeout = self->db_flush_timeout;
  GST_OBJECT_UNLOCK (self);
  gst_job_status_db_stop (self, timeout);
  return TRUE;
}

/* ---- properties ---------------------------------------------------------- */

static void
gst_job_status_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstJobStatus *self = GST_JOB_STATUS (object);

  GST_OBJECT_LOCK (self);
  if (prop_id != PROP_UPDATE_FREQ && GST_STATE (self) > GST_STATE_READY) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self, "%s can only be changed in NULL or READY",
        pspec->name);
    return;
  }
  switch (prop_id) {
    case PROP_UPDATE_FREQ:
      self->update_freq = g_value_get_double (value);
      break;
    case PROP_DURATION:
      self->duration_prop = g_value_get_uint64 (value);
      break;
    case PROP_JOB_ID:
      g_free (self->job_id);
      self->job_id = g_value_dup_string (value);
      break;
    case PROP_SUPABASE_URL:
      g_free (self->supabase_url);
      self->supabase_url = g_value_dup_string (value);
      break;
    case PROP_SUPABASE_KEY:
      if (self->supabase_key) {
        memset (self->supabase_key, 0, strlen (self->supabase_key));
        g_free (self->supabase_key);
      }
      self->supabase_key = g_value_dup_string (value);
      break;
    case PROP_WORKER_ID:
      g_free (self->worker_id);
      self->worker_id = g_value_dup_string (value);
      break;
    case PROP_DB_INTERVAL:
      self->db_interval = g_value_get_double (value);
      break;
    case PROP_DB_FLUSH_TIMEOUT:
      self->db_flush_timeout = g_value_get_double (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_job_status_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstJobStatus *self = GST_JOB_STATUS (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_UPDATE_FREQ:
      g_value_set_double (value, self->update_freq);
      break;
    case PROP_DURATION:
      g_value_set_uint64 (value, self->duration_prop);
      break;
    case PROP_JOB_ID:
      g_value_set_string (value, self->job_id);
      break;
    case PROP_SUPABASE_URL:
      g_value_set_string (value, self->supabase_url);
      break;
    case PROP_WORKER_ID:
      g_value_set_string (value, self->worker_id);
      break;
    case PROP_DB_INTERVAL:
      g_value_set_double (value, self->db_interval);
      break;
    case PROP_DB_FLUSH_TIMEOUT:
      g_value_set_double (value, self->db_flush_timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_job_status_finalize (GObject * object)
{
  GstJobStatus *self = GST_JOB_STATUS (object);

  g_free (self->job_id);
  g_free (self->supabase_url);
  if (self->supabase_key) {
    memset (self->supabase_key, 0, strlen (self->supabase_key));
    g_free (self->supabase_key);
  }
  g_free (self->worker_id);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_job_status_init (GstJobStatus * self)
{
  self->update_freq = DEFAULT_UPDATE_FREQ;
  self->duration_prop = DEFAULT_DURATION;
  self->job_id = DEFAULT_JOB_ID;
  self->supabase_url = DEFAULT_SUPABASE_URL;
  self->worker_id = DEFAULT_WORKER_ID;
  self->db_interval = DEFAULT_DB_INTERVAL;
  self->db_flush_timeout = DEFAULT_DB_FLUSH_TIMEOUT;
  self->start_rt = GST_CLOCK_TIME_NONE;
  self->position = GST_CLOCK_TIME_NONE;
  self->duration = GST_CLOCK_TIME_NONE;

  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_gap_aware (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_job_status_class_init (GstJobStatusClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = gst_job_status_set_property;
  gobject_class->get_property = gst_job_status_get_property;
  gobject_class->finalize = gst_job_status_finalize;

  /**
   * GstJobStatus:update-freq:
   *
   * Seconds of running time between two `progress` messages (0: one per
   * buffer).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_UPDATE_FREQ,
      g_param_spec_double ("update-freq", "Update frequency",
          "Seconds of running time between two progress messages "
          "(0: every buffer)", 0.0, G_MAXDOUBLE, DEFAULT_UPDATE_FREQ,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstJobStatus:duration:
   *
   * The stream's duration in nanoseconds when upstream cannot tell
   * (GST_CLOCK_TIME_NONE: ask upstream).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_DURATION,
      g_param_spec_uint64 ("duration", "Duration",
          "Stream duration in nanoseconds (-1: query upstream)", 0,
          G_MAXUINT64, DEFAULT_DURATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstJobStatus:job-id:
   *
   * The job this stream belongs to: copied into every message, and the
   * row whose progress is written when Supabase is configured.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_JOB_ID,
      g_param_spec_string ("job-id", "Job id",
          "The job (jobs.id) this stream belongs to", DEFAULT_JOB_ID,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstJobStatus:supabase-url:
   *
   * The Supabase project URL (`https://xyz.supabase.co`); NULL: the
   * environment variable `SUPABASE_URL`.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SUPABASE_URL,
      g_param_spec_string ("supabase-url", "Supabase URL",
          "Supabase project URL (NULL: $SUPABASE_URL)", DEFAULT_SUPABASE_URL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstJobStatus:supabase-key:
   *
   * The service role key (write-only, never logged); NULL: the
   * environment variable `SUPABASE_SERVICE_KEY`.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SUPABASE_KEY,
      g_param_spec_string ("supabase-key", "Supabase key",
          "Supabase service role key (write-only; NULL: "
          "$SUPABASE_SERVICE_KEY)", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  /**
   * GstJobStatus:worker-id:
   *
   * When set, progress is written only while jobs.worker_id is this
   * worker (the one that claimed the job).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_WORKER_ID,
      g_param_spec_string ("worker-id", "Worker id",
          "Write progress only while the job is claimed by this worker "
          "(NULL: whoever runs it)", DEFAULT_WORKER_ID,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstJobStatus:db-interval:
   *
   * Seconds between two progress writes to the database; every write is
   * also a heartbeat (it moves jobs.updated_at even while no percent is
   * known). Values under 0.05 count as 0.05.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_DB_INTERVAL,
      g_param_spec_double ("db-interval", "Database interval",
          "Seconds between two progress writes (heartbeats) to the database "
          "(at least 0.05)",
          0.0, 3600.0, DEFAULT_DB_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstJobStatus:db-flush-timeout:
   *
   * When the element stops, how long it keeps trying to store the last
   * progress value before giving up.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_DB_FLUSH_TIMEOUT,
      g_param_spec_double ("db-flush-timeout", "Database flush timeout",
          "Seconds to keep trying the last progress write when stopping",
          0.0, 3600.0, DEFAULT_DB_FLUSH_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Job status",
      "Util", "Posts progress messages (percent, speed, ETA) and writes a "
      "job's progress to Supabase", "Rugbycodex <dev@rugbycodex.invalid>");

  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_job_status_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_job_status_sink_event);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_job_status_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_job_status_stop);
  trans_class->passthrough_on_same_caps = TRUE;

  GST_DEBUG_CATEGORY_INIT (gst_job_status_debug, "jobstatus", 0,
      "job progress messages and Supabase progress");
}
