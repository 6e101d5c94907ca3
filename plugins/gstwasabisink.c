/* GStreamer S3/Wasabi sink
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-wasabisink
 * @title: wasabisink
 * @see_also: wasabisrc, wasabihlssink
 *
 * Writes a stream to an object in S3-compatible storage (Wasabi, AWS S3,
 * s3rver). A stream that ends below `part-size` goes up as one PutObject;
 * a larger one becomes a multipart upload whose parts are sent on worker
 * threads, at most `max-parallel-parts` at once, so memory stays around
 * `part-size` x (`max-parallel-parts` + 1) whatever the object's size.
 * Every request carries `Content-MD5`; transient errors are retried.
 *
 * The upload is completed while the EOS event is handled, so the EOS
 * message on the bus means the object exists. On an error, or when the
 * element stops before EOS, the multipart upload is aborted
 * (AbortMultipartUpload, also when no part was sent yet); a failure of the
 * abort itself is posted as a WARNING.
 *
 * It handles `s3://bucket/key` URIs (uritranscodebin, encodebin muxing
 * sinks). Endpoint, region and credentials come from the properties or the
 * environment, as for wasabisrc.
 *
 * Errors are posted in the RESOURCE domain: `NOT_AUTHORIZED` (403),
 * `NOT_FOUND` (404, e.g. no such bucket), `SETTINGS`, `OPEN_WRITE` (the
 * upload could not be started), `WRITE` (a part or the completion failed),
 * with the details `http-status-code` (guint), `s3-error-code` and
 * `request-id` (strings, when known).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=final.mp4 ! \
 *   wasabisink uri=s3://matches/final.mp4 content-type=video/mp4
 * ]| Uploads a file (the endpoint from `AWS_ENDPOINT_URL_S3`).
 * |[
 * gst-launch-1.0 wasabisrc uri=s3://matches/big.bin ! \
 *   wasabisink uri=s3://matches/copy.bin part-size=16777216 \
 *   max-parallel-parts=4
 * ]| Copies an object through the pipeline with 16 MiB parts.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwasabisink.h"
#include "gstwasabicommon.h"
#include "gstrugbycodexelements.h"

GST_DEBUG_CATEGORY_STATIC (gst_wasabi_sink_debug);
#define GST_CAT_DEFAULT gst_wasabi_sink_debug

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS_ANY);

struct _GstWasabiSink
{
  GstBaseSink parent;

  /* properties, under the object lock */
  gchar *bucket;
  gchar *key;
  gchar *content_type;
  gchar *cache_control;
  guint64 part_size;
  guint max_parallel_parts;
  RcxS3Config config;

  /* under the object lock: replaced by unlock_stop() */
  GCancellable *cancellable;

  /* streaming state, from start() to stop() */
  gchar *uri;
  RcxS3Client *client;
  RcxS3Upload *upload;
  gboolean finished;            /* completed, or failed and aborted */
  gboolean interrupted;         /* a flush cancelled a write: data lost */
};

enum
{
  PROP_0,
  PROP_URI,
  PROP_BUCKET,
  PROP_KEY,
  PROP_CONTENT_TYPE,
  PROP_CACHE_CONTROL,
  PROP_PART_SIZE,
  PROP_MAX_PARALLEL_PARTS,
};

#define DEFAULT_CONTENT_TYPE NULL
#define DEFAULT_CACHE_CONTROL NULL
#define DEFAULT_PART_SIZE RCX_S3_DEFAULT_PART_SIZE
#define MIN_PART_SIZE RCX_S3_MIN_PART_SIZE
#define MAX_PART_SIZE RCX_S3_MAX_PART_SIZE
#define DEFAULT_MAX_PARALLEL_PARTS RCX_S3_DEFAULT_MAX_PARALLEL_PARTS

static void gst_wasabi_sink_uri_handler_init (gpointer g_iface,
    gpointer iface_data);

#define gst_wasabi_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstWasabiSink, gst_wasabi_sink, GST_TYPE_BASE_SINK,
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_wasabi_sink_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE (wasabisink, "wasabisink", GST_RANK_PRIMARY,
    GST_TYPE_WASABI_SINK);

/* ---- helpers ---------------------------------------------------------- */

static GCancellable *
get_cancellable (GstWasabiSink * self)
{
  GCancellable *cancellable;

  GST_OBJECT_LOCK (self);
  cancellable = g_object_ref (self->cancellable);
  GST_OBJECT_UNLOCK (self);
  return cancellable;
}

static gboolean
gst_wasabi_sink_set_location (GstWasabiSink * self, const gchar * uri,
    GError ** error)
{
  return gst_wasabi_set_object_uri (GST_ELEMENT (self), uri, &self->bucket,
      &self->key, error);
}

/* Aborts an upload that did not complete; a failure of the abort request
 * is a warning (the upload is gone from our side anyway). */
static void
gst_wasabi_sink_abort (GstWasabiSink * self, const gchar * why)
{
  g_autoptr (GError) error = NULL;

  if (self->upload == NULL || self->finished)
    return;
  self->finished = TRUE;
  GST_INFO_OBJECT (self, "aborting the upload of %s (%s) after %"
      G_GUINT64_FORMAT " bytes", self->uri, why,
      rcx_s3_upload_get_bytes_written (self->upload));
  if (!rcx_s3_upload_abort (self->upload, &error)) {
    GST_WASABI_ELEMENT_WARNING (self, error, WRITE,
        "Could not abort the upload of %s", self->uri);
  }
}

/* ---- GstURIHandler ---------------------------------------------------- */

static GstURIType
gst_wasabi_sink_uri_get_type (GType type)
{
  return GST_URI_SINK;
}

static const gchar *const *
gst_wasabi_sink_uri_get_protocols (GType type)
{
  static const gchar *protocols[] = { "s3", NULL };

  return protocols;
}

static gchar *
gst_wasabi_sink_uri_get_uri (GstURIHandler * handler)
{
  GstWasabiSink *self = GST_WASABI_SINK (handler);
  gchar *uri;

  GST_OBJECT_LOCK (self);
  uri = gst_wasabi_make_uri (self->bucket, self->key);
  GST_OBJECT_UNLOCK (self);
  return uri;
}

static gboolean
gst_wasabi_sink_uri_set_uri (GstURIHandler * handler, const gchar * uri,
    GError ** error)
{
  return gst_wasabi_sink_set_location (GST_WASABI_SINK (handler), uri, error);
}

static void
gst_wasabi_sink_uri_handler_init (gpointer g_iface, gpointer iface_data)
{
  GstURIHandlerInterface *iface = (GstURIHandlerInterface *) g_iface;

  iface->get_type = gst_wasabi_sink_uri_get_type;
  iface->get_protocols = gst_wasabi_sink_uri_get_protocols;
  iface->get_uri = gst_wasabi_sink_uri_get_uri;
  iface->set_uri = gst_wasabi_sink_uri_set_uri;
}

/* ---- GstBaseSink vfuncs ----------------------------------------------- */

static gboolean
gst_wasabi_sink_start (GstBaseSink * bsink)
{
  GstWasabiSink *self = GST_WASABI_SINK (bsink);
  g_auto (RcxS3Config) config = { 0, };
  g_autofree gchar *bucket = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *content_type = NULL;
  g_autofree gchar *cache_control = NULL;
  g_autoptr (GError) error = NULL;
  RcxS3PutOptions options = { 0, };
  guint64 part_size;
  guint max_parallel;

  GST_OBJECT_LOCK (self);
  rcx_s3_config_copy (&config, &self->config);
  bucket = g_strdup (self->bucket);
  key = g_strdup (self->key);
  content_type = g_strdup (self->content_type);
  cache_control = g_strdup (self->cache_control);
  part_size = self->part_size;
  max_parallel = self->max_parallel_parts;
  GST_OBJECT_UNLOCK (self);

  if (bucket == NULL || key == NULL || *key == '\0') {
    GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, SETTINGS,
        ("No object to write: set uri (s3://bucket/key) or bucket and key"),
        (NULL), ("http-status-code", G_TYPE_UINT, 0, NULL));
    return FALSE;
  }
  self->uri = gst_wasabi_make_uri (bucket, key);
  if (!rcx_s3_key_is_safe (key)) {
    GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, SETTINGS,
        ("Refusing to write %s: unsafe object key", self->uri), (NULL),
        ("http-status-code", G_TYPE_UINT, 0, NULL));
    return FALSE;
  }

  self->client = rcx_s3_client_new (&config, &error);
  if (self->client == NULL) {
    GST_WASABI_ELEMENT_ERROR (self, error, SETTINGS,
        "Could not set up the S3 client for %s", self->uri);
    return FALSE;
  }
  gst_wasabi_client_log_to_category (self->client, GST_ELEMENT (self),
      GST_CAT_DEFAULT);
  options.content_type = content_type;
  options.cache_control = cache_control;
  self->upload = rcx_s3_upload_new (self->client, bucket, key, &options,
      part_size, max_parallel);
  self->finished = FALSE;
  self->interrupted = FALSE;
  GST_INFO_OBJECT (self, "uploading to %s, parts of %" G_GUINT64_FORMAT
      " bytes, %u at once", self->uri, part_size, max_parallel);
  return TRUE;
}

static gboolean
gst_wasabi_sink_stop (GstBaseSink * bsink)
{
  GstWasabiSink *self = GST_WASABI_SINK (bsink);

  gst_wasabi_sink_abort (self, "stopped before EOS");
  g_clear_pointer (&self->upload, rcx_s3_upload_free);
  g_clear_pointer (&self->client, rcx_s3_client_unref);
  g_clear_pointer (&self->uri, g_free);
  return TRUE;
}

static GstFlowReturn
gst_wasabi_sink_render (GstBaseSink * bsink, GstBuffer * buffer)
{
  GstWasabiSink *self = GST_WASABI_SINK (bsink);
  g_autoptr (GCancellable) cancellable = NULL;
  g_autoptr (GError) error = NULL;
  GstMapInfo map;
  gboolean ok;

  if (self->interrupted) {
    GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, WRITE,
        ("A flush interrupted the upload of %s", self->uri), (NULL),
        ("http-status-code", G_TYPE_UINT, 0, NULL));
    gst_wasabi_sink_abort (self, "interrupted by a flush");
    return GST_FLOW_ERROR;
  }
  if (self->finished) {
    GST_WARNING_OBJECT (self, "buffer after the end of the upload: dropped");
    return GST_FLOW_EOS;
  }
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, (NULL),
        ("Could not map a buffer"));
    return GST_FLOW_ERROR;
  }
  cancellable = get_cancellable (self);
  ok = rcx_s3_upload_write (self->upload, map.data, map.size, cancellable,
      &error);
  gst_buffer_unmap (buffer, &map);

  if (!ok) {
    if (gst_wasabi_error_is_cancelled (error)) {
      /* What was being written may be lost: this upload cannot complete. */
      GST_DEBUG_OBJECT (self, "write cancelled: flushing");
      self->interrupted = TRUE;
      return GST_FLOW_FLUSHING;
    }
    GST_WASABI_ELEMENT_ERROR (self, error, WRITE, "Could not upload %s",
        self->uri);
    gst_wasabi_sink_abort (self, "write failed");
    return GST_FLOW_ERROR;
  }
  GST_LOG_OBJECT (self, "%" G_GSIZE_FORMAT " bytes buffered, %"
      G_GUINT64_FORMAT " in total", map.size,
      rcx_s3_upload_get_bytes_written (self->upload));
  return GST_FLOW_OK;
}

/* Completes the upload: the EOS message that follows means "uploaded". */
static gboolean
gst_wasabi_sink_finish (GstWasabiSink * self)
{
  g_autoptr (GCancellable) cancellable = get_cancellable (self);
  g_autoptr (GError) error = NULL;

  if (self->upload == NULL || self->finished)
    return self->upload != NULL;
  if (self->interrupted) {
    GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, WRITE,
        ("A flush interrupted the upload of %s", self->uri), (NULL),
        ("http-status-code", G_TYPE_UINT, 0, NULL));
    gst_wasabi_sink_abort (self, "interrupted by a flush");
    return FALSE;
  }

  GST_DEBUG_OBJECT (self, "EOS: completing the upload of %s (%"
      G_GUINT64_FORMAT " bytes)", self->uri,
      rcx_s3_upload_get_bytes_written (self->upload));
  if (!rcx_s3_upload_finish (self->upload, cancellable, &error)) {
    if (!gst_wasabi_error_is_cancelled (error))
      GST_WASABI_ELEMENT_ERROR (self, error, WRITE,
          "Could not complete the upload of %s", self->uri);
    gst_wasabi_sink_abort (self, "completion failed");
    return FALSE;
  }
  self->finished = TRUE;
  GST_INFO_OBJECT (self, "uploaded %s: %" G_GUINT64_FORMAT " bytes",
      self->uri, rcx_s3_upload_get_bytes_written (self->upload));
  return TRUE;
}

static gboolean
gst_wasabi_sink_event (GstBaseSink * bsink, GstEvent * event)
{
  GstWasabiSink *self = GST_WASABI_SINK (bsink);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    if (!gst_wasabi_sink_finish (self)) {
      gst_event_unref (event);
      return FALSE;
    }
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (bsink, event);
}

static gboolean
gst_wasabi_sink_unlock (GstBaseSink * bsink)
{
  GstWasabiSink *self = GST_WASABI_SINK (bsink);
  g_autoptr (GCancellable) cancellable = get_cancellable (self);

  GST_DEBUG_OBJECT (self, "unlock: cancelling the transfer in flight");
  g_cancellable_cancel (cancellable);
  return TRUE;
}

static gboolean
gst_wasabi_sink_unlock_stop (GstBaseSink * bsink)
{
  GstWasabiSink *self = GST_WASABI_SINK (bsink);
  GCancellable *old;

  GST_OBJECT_LOCK (self);
  old = self->cancellable;
  self->cancellable = g_cancellable_new ();
  GST_OBJECT_UNLOCK (self);
  g_object_unref (old);
  return TRUE;
}

static gboolean
gst_wasabi_sink_query (GstBaseSink * bsink, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_SEEKING) {
    GstFormat format;

    /* A stream goes up in order: downstream seeks are impossible. */
    gst_query_parse_seeking (query, &format, NULL, NULL, NULL);
    gst_query_set_seeking (query, format, FALSE, 0, -1);
    return TRUE;
  }
  return GST_BASE_SINK_CLASS (parent_class)->query (bsink, query);
}

/* ---- GObject ---------------------------------------------------------- */

static void
gst_wasabi_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWasabiSink *self = GST_WASABI_SINK (object);
  g_autoptr (GError) error = NULL;

  if (gst_wasabi_connection_set_property (GST_ELEMENT (self), &self->config,
          prop_id, value, pspec))
    return;

  if (prop_id == PROP_URI) {
    if (!gst_wasabi_sink_set_location (self, g_value_get_string (value),
            &error))
      GST_WARNING_OBJECT (self, "uri not set: %s", error->message);
    return;
  }

  GST_OBJECT_LOCK (self);
  if (!gst_wasabi_element_settings_mutable (GST_ELEMENT (self), pspec->name)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_BUCKET:
      g_free (self->bucket);
      self->bucket = g_value_dup_string (value);
      break;
    case PROP_KEY:
      g_free (self->key);
      self->key = g_value_dup_string (value);
      break;
    case PROP_CONTENT_TYPE:
      g_free (self->content_type);
      self->content_type = g_value_dup_string (value);
      break;
    case PROP_CACHE_CONTROL:
      g_free (self->cache_control);
      self->cache_control = g_value_dup_string (value);
      break;
    case PROP_PART_SIZE:
      self->part_size = g_value_get_uint64 (value);
      break;
    case PROP_MAX_PARALLEL_PARTS:
      self->max_parallel_parts = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_wasabi_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstWasabiSink *self = GST_WASABI_SINK (object);

  if (gst_wasabi_connection_get_property (GST_ELEMENT (self), &self->config,
          prop_id, value))
    return;

  if (prop_id == PROP_URI) {
    g_value_take_string (value,
        gst_wasabi_sink_uri_get_uri (GST_URI_HANDLER (self)));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_BUCKET:
      g_value_set_string (value, self->bucket);
      break;
    case PROP_KEY:
      g_value_set_string (value, self->key);
      break;
    case PROP_CONTENT_TYPE:
      g_value_set_string (value, self->content_type);
      break;
    case PROP_CACHE_CONTROL:
      g_value_set_string (value, self->cache_control);
      break;
    case PROP_PART_SIZE:
      g_value_set_uint64 (value, self->part_size);
      break;
    case PROP_MAX_PARALLEL_PARTS:
      g_value_set_uint (value, self->max_parallel_parts);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_wasabi_sink_finalize (GObject * object)
{
  GstWasabiSink *self = GST_WASABI_SINK (object);

  g_free (self->bucket);
  g_free (self->key);
  g_free (self->content_type);
  g_free (self->cache_control);
  rcx_s3_config_clear (&self->config);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_wasabi_sink_init (GstWasabiSink * self)
{
  rcx_s3_config_init (&self->config);
  self->config.retry_timeout = RCX_S3_DEFAULT_RETRY_TIMEOUT;
  self->content_type = g_strdup (DEFAULT_CONTENT_TYPE);
  self->cache_control = g_strdup (DEFAULT_CACHE_CONTROL);
  self->part_size = DEFAULT_PART_SIZE;
  self->max_parallel_parts = DEFAULT_MAX_PARALLEL_PARTS;
  self->cancellable = g_cancellable_new ();
  /* a byte stream: nothing to synchronise against the clock */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

static void
gst_wasabi_sink_class_init (GstWasabiSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  GST_DEBUG_CATEGORY_INIT (gst_wasabi_sink_debug, "wasabisink", 0,
      "S3/Wasabi sink");

  gobject_class->set_property = gst_wasabi_sink_set_property;
  gobject_class->get_property = gst_wasabi_sink_get_property;
  gobject_class->finalize = gst_wasabi_sink_finalize;

  /**
   * GstWasabiSink:uri:
   *
   * The object to write, `s3://bucket/key`: an RFC 3986 URI, the key
   * percent-decoded (`s3://media/up/a%20b%2Bc.mp4` is the key
   * `up/a b+c.mp4`; a raw '?' or '#' is refused). Setting it sets bucket
   * and key; reading it gives the key percent-encoded. The `key` property
   * takes a key as it is.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_URI,
      g_param_spec_string ("uri", "URI",
          "Object to write: s3://bucket/key, percent-encoded (sets bucket "
          "and key)", NULL, flags));
  /**
   * GstWasabiSink:bucket:
   *
   * The bucket to write to.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_BUCKET,
      g_param_spec_string ("bucket", "Bucket", "Bucket to write to", NULL,
          flags));
  /**
   * GstWasabiSink:key:
   *
   * The key of the object written.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_KEY,
      g_param_spec_string ("key", "Key", "Key of the object in the bucket",
          NULL, flags));
  /**
   * GstWasabiSink:content-type:
   *
   * The Content-Type stored with the object (NULL:
   * application/octet-stream).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CONTENT_TYPE,
      g_param_spec_string ("content-type", "Content type",
          "Content-Type stored with the object (NULL: "
          "application/octet-stream)", DEFAULT_CONTENT_TYPE, flags));
  /**
   * GstWasabiSink:cache-control:
   *
   * The Cache-Control header stored with the object (NULL: none).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CACHE_CONTROL,
      g_param_spec_string ("cache-control", "Cache control",
          "Cache-Control stored with the object (NULL: none)",
          DEFAULT_CACHE_CONTROL, flags));
  /**
   * GstWasabiSink:part-size:
   *
   * Size of the parts of a multipart upload, 5 MiB to 5 GiB. A stream
   * shorter than one part is sent as a single PutObject.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PART_SIZE,
      g_param_spec_uint64 ("part-size", "Part size",
          "Bytes per part of a multipart upload (a shorter stream is one "
          "PutObject)", MIN_PART_SIZE, MAX_PART_SIZE, DEFAULT_PART_SIZE,
          flags));
  /**
   * GstWasabiSink:max-parallel-parts:
   *
   * Parts uploaded at once; the streaming thread blocks beyond that, which
   * bounds memory to about part-size x (max-parallel-parts + 1).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MAX_PARALLEL_PARTS,
      g_param_spec_uint ("max-parallel-parts", "Max parallel parts",
          "Parts uploaded at once (memory is about part-size x "
          "(max-parallel-parts + 1))", 1, 64, DEFAULT_MAX_PARALLEL_PARTS,
          flags));
  gst_wasabi_install_connection_properties (gobject_class);
  gst_wasabi_install_retry_timeout_property (gobject_class);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "S3/Wasabi sink", "Sink/Network",
      "Writes a stream to an object in S3-compatible storage, with parallel "
      "multipart uploads", "Rugbycodex <dev@rugbycodex.invalid>");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_wasabi_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_wasabi_sink_stop);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_wasabi_sink_render);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_wasabi_sink_event);
  basesink_class->query = GST_DEBUG_FUNCPTR (gst_wasabi_sink_query);
  basesink_class->unlock = GST_DEBUG_FUNCPTR (gst_wasabi_sink_unlock);
  basesink_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_wasabi_sink_unlock_stop);

  gst_type_mark_as_plugin_api (GST_TYPE_WASABI_PATH_STYLE, 0);
}
