/* GStreamer S3/Wasabi source
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-wasabisrc
 * @title: wasabisrc
 * @see_also: wasabisink, souphttpsrc
 *
 * Reads an object from S3-compatible storage (Wasabi, AWS S3, s3rver) as a
 * byte stream. One GET response is kept open and read sequentially; it is
 * re-opened with a `Range` only when the read position jumps (a seek, or a
 * demuxer in pull mode reading the `moov` at the end of an MP4), and after a
 * connection reset, a stall of `request-timeout` seconds or a retryable
 * error (500/502/503/504, SlowDown, throttling) it resumes from the byte it
 * reached, guarded by `If-Match` on the object's ETag. The element is
 * seekable and works in push and pull mode. In pull mode, whole 256 KiB
 * blocks are fetched through that one response and the 32 most recent are
 * cached (blocks a read jumps over, up to 4 MiB ahead, are kept too), so a demuxer reading interleaved samples back and forth (qtdemux
 * on an MP4 whose `moov` is at the end) costs a handful of GETs, not one
 * per sample.
 *
 * It handles `s3://bucket/key` URIs, so playbin, uridecodebin and
 * uritranscodebin pick it. Endpoint, region and credentials come from the
 * properties or, when these are unset, from the environment
 * (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, `AWS_REGION`,
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, the
 * shared credentials file, the ECS container endpoint, EC2 instance
 * metadata).
 *
 * Errors are posted in the RESOURCE domain: `NOT_AUTHORIZED` (403),
 * `NOT_FOUND` (404), `SETTINGS` (bad URI, missing credentials), `OPEN_READ`
 * (the object could not be opened), `READ` (the transfer failed after the
 * retries). Their details structure carries `http-status-code` (guint, 0
 * when no HTTP answer came), and when known `s3-error-code` and
 * `request-id` (strings). Retries and resumed responses are logged at
 * `GST_DEBUG=wasabisrc:5`. Secrets are never logged.
 *
 * ## Example launch lines
 * |[
 * AWS_ENDPOINT_URL_S3=https://s3.eu-central-1.wasabisys.com \
 *   gst-launch-1.0 wasabisrc uri=s3://matches/final.mp4 ! qtdemux ! \
 *   h264parse ! avdec_h264 ! fakesink
 * ]| Decodes the video of an MP4 (qtdemux reads it in pull mode).
 * |[
 * gst-launch-1.0 playbin uri=s3://matches/final.mp4
 * ]| Plays an object, the endpoint coming from the environment.
 * |[
 * gst-launch-1.0 wasabisrc uri=s3://matches/final.mp4 \
 *   endpoint-uri=http://127.0.0.1:4568 ! filesink location=final.mp4
 * ]| Downloads an object from a local S3 server.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwasabisrc.h"

#include <string.h>
#include "gstwasabicommon.h"
#include "gstrugbycodexelements.h"

GST_DEBUG_CATEGORY_STATIC (gst_wasabi_src_debug);
#define GST_CAT_DEFAULT gst_wasabi_src_debug

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS_ANY);

struct _GstWasabiSrc
{
  GstBaseSrc parent;

  /* properties, under the object lock */
  gchar *bucket;
  gchar *key;
  RcxS3Config config;

  /* under the object lock: replaced by unlock_stop() */
  GCancellable *cancellable;

  /* streaming state, from start() to stop() */
  gchar *uri;
  RcxS3Client *client;
  RcxS3Reader *reader;
  guint64 size;
  guint64 next_offset;
  guint64 requests_seen;
  guint opens_seen;

  /* pull mode: the most recently used blocks, most recent first */
  GQueue blocks;
  guint64 stream_block;         /* the block the open response is at */
};

/* In pull mode a demuxer reads interleaved samples: short jumps back and
 * forth around the read position. Whole aligned blocks are fetched through
 * the one sequential response and kept in a small LRU cache, so such jumps
 * never reopen the GET; only real seeks do. */
#define BLOCK_SIZE (256 * 1024)
#define MAX_BLOCKS 32
/* how far ahead of the open response a read may land and still be read
 * through with the blocks in between kept */
#define READ_AHEAD_BLOCKS 16

typedef struct
{
  guint64 index;
  gsize len;
  guint8 data[];
} Block;

enum
{
  PROP_0,
  PROP_URI,
  PROP_BUCKET,
  PROP_KEY,
};

#define DEFAULT_BLOCKSIZE (256 * 1024)

static void gst_wasabi_src_uri_handler_init (gpointer g_iface,
    gpointer iface_data);

#define gst_wasabi_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstWasabiSrc, gst_wasabi_src, GST_TYPE_BASE_SRC,
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_wasabi_src_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE (wasabisrc, "wasabisrc", GST_RANK_PRIMARY,
    GST_TYPE_WASABI_SRC);

/* ---- helpers ---------------------------------------------------------- */

static GCancellable *
get_cancellable (GstWasabiSrc * self)
{
  GCancellable *cancellable;

  GST_OBJECT_LOCK (self);
  cancellable = g_object_ref (self->cancellable);
  GST_OBJECT_UNLOCK (self);
  return cancellable;
}

/* Logs what the library did behind one read: failed attempts that were
 * retried and responses that were re-opened (resumes, jumps). */
static void
log_request_activity (GstWasabiSrc * self, guint64 offset, gboolean jumped)
{
  guint64 requests = rcx_s3_client_get_request_count (self->client);
  guint opens = rcx_s3_reader_get_open_count (self->reader);
  guint64 new_requests = requests - self->requests_seen;
  guint new_opens = opens - self->opens_seen;
  guint resumes = new_opens;

  if (jumped && resumes > 0)
    resumes--;
  if (new_requests > new_opens) {
    GST_DEBUG_OBJECT (self, "retry: %" G_GUINT64_FORMAT " failed attempt(s) "
        "retried while reading at offset %" G_GUINT64_FORMAT,
        new_requests - new_opens, offset);
  }
  if (resumes > 0) {
    GST_DEBUG_OBJECT (self, "retry: response resumed %u time(s) while "
        "reading at offset %" G_GUINT64_FORMAT " (GET #%u, If-Match)",
        resumes, offset, opens);
  } else if (new_opens > 0) {
    GST_DEBUG_OBJECT (self, "opened GET #%u at offset %" G_GUINT64_FORMAT,
        opens, offset);
  }
  self->requests_seen = requests;
  self->opens_seen = opens;
}

static void
clear_blocks (GstWasabiSrc * self)
{
  g_queue_clear_full (&self->blocks, g_free);
  self->stream_block = 0;
}

static Block *
find_block (GstWasabiSrc * self, guint64 index)
{
  for (GList * l = self->blocks.head; l != NULL; l = l->next) {
    Block *block = l->data;

    if (block->index == index) {
      g_queue_unlink (&self->blocks, l);
      g_queue_push_head_link (&self->blocks, l);
      return block;
    }
  }
  return NULL;
}

/* Reads block @index through the reader into the cache. */
static Block *
fetch_block (GstWasabiSrc * self, guint64 index, GCancellable * cancellable,
    GError ** error)
{
  guint64 start = index * BLOCK_SIZE;
  Block *block;
  gssize n;

  if (self->blocks.length >= MAX_BLOCKS)
    block = g_queue_pop_tail (&self->blocks);
  else
    block = g_malloc (sizeof (Block) + BLOCK_SIZE);
  block->index = index;
  n = rcx_s3_reader_read (self->reader, start, block->data,
      MIN (BLOCK_SIZE, self->size - start), cancellable, error);
  if (n < 0) {
    g_free (block);
    return NULL;
  }
  block->len = n;
  g_queue_push_head (&self->blocks, block);
  self->stream_block = index + 1;
  return block;
}

/* The block holding object offset @index * BLOCK_SIZE, from the cache or
 * read now. A demuxer that jumps a little ahead of the open response comes
 * back for what it jumped over (the other track's samples), so the blocks
 * in between are kept too, instead of being read through and dropped and
 * fetched again with a new GET. NULL with @error set on failure. */
static Block *
get_block (GstWasabiSrc * self, guint64 index, GCancellable * cancellable,
    GError ** error)
{
  Block *block = find_block (self, index);

  if (block != NULL)
    return block;
  if (index > self->stream_block
      && index - self->stream_block <= READ_AHEAD_BLOCKS) {
    for (guint64 i = self->stream_block; i < index; i++) {
      if (find_block (self, i) == NULL
          && fetch_block (self, i, cancellable, error) == NULL)
        return NULL;
    }
  }
  return fetch_block (self, index, cancellable, error);
}

/* Pull mode: @length bytes at @offset through the block cache. */
static gssize
read_cached (GstWasabiSrc * self, guint64 offset, guint8 * data,
    gsize length, GCancellable * cancellable, GError ** error)
{
  gsize done = 0;

  while (done < length && offset + done < self->size) {
    guint64 pos = offset + done;
    Block *block = get_block (self, pos / BLOCK_SIZE, cancellable, error);
    gsize skip, n;

    if (block == NULL)
      return -1;
    skip = pos - block->index * BLOCK_SIZE;
    if (skip >= block->len)
      break;                    /* the object ended early */
    n = MIN (block->len - skip, length - done);
    memcpy (data + done, block->data + skip, n);
    done += n;
  }
  return done;
}

static gboolean
gst_wasabi_src_set_location (GstWasabiSrc * self, const gchar * uri,
    GError ** error)
{
  return gst_wasabi_set_object_uri (GST_ELEMENT (self), uri, &self->bucket,
      &self->key, error);
}

/* ---- GstURIHandler ---------------------------------------------------- */

static GstURIType
gst_wasabi_src_uri_get_type (GType type)
{
  return GST_URI_SRC;
}

static const gchar *const *
gst_wasabi_src_uri_get_protocols (GType type)
{
  static const gchar *protocols[] = { "s3", NULL };

  return protocols;
}

static gchar *
gst_wasabi_src_uri_get_uri (GstURIHandler * handler)
{
  GstWasabiSrc *self = GST_WASABI_SRC (handler);
  gchar *uri;

  GST_OBJECT_LOCK (self);
  uri = gst_wasabi_make_uri (self->bucket, self->key);
  GST_OBJECT_UNLOCK (self);
  return uri;
}

static gboolean
gst_wasabi_src_uri_set_uri (GstURIHandler * handler, const gchar * uri,
    GError ** error)
{
  return gst_wasabi_src_set_location (GST_WASABI_SRC (handler), uri, error);
}

static void
gst_wasabi_src_uri_handler_init (gpointer g_iface, gpointer iface_data)
{
  GstURIHandlerInterface *iface = (GstURIHandlerInterface *) g_iface;

  iface->get_type = gst_wasabi_src_uri_get_type;
  iface->get_protocols = gst_wasabi_src_uri_get_protocols;
  iface->get_uri = gst_wasabi_src_uri_get_uri;
  iface->set_uri = gst_wasabi_src_uri_set_uri;
}

/* ---- GstBaseSrc vfuncs ------------------------------------------------ */

static gboolean
gst_wasabi_src_start (GstBaseSrc * bsrc)
{
  GstWasabiSrc *self = GST_WASABI_SRC (bsrc);
  g_auto (RcxS3Config) config = { 0, };
  g_auto (RcxS3ObjectInfo) info = { 0, };
  g_autofree gchar *bucket = NULL;
  g_autofree gchar *key = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_autoptr (GError) error = NULL;

  GST_OBJECT_LOCK (self);
  rcx_s3_config_copy (&config, &self->config);
  bucket = g_strdup (self->bucket);
  key = g_strdup (self->key);
  GST_OBJECT_UNLOCK (self);

  if (bucket == NULL || key == NULL || *key == '\0') {
    GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, SETTINGS,
        ("No object to read: set uri (s3://bucket/key) or bucket and key"),
        (NULL), ("http-status-code", G_TYPE_UINT, 0, NULL));
    return FALSE;
  }
  self->uri = gst_wasabi_make_uri (bucket, key);
  if (!rcx_s3_key_is_safe (key)) {
    GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, SETTINGS,
        ("Refusing to read %s: unsafe object key", self->uri), (NULL),
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
  self->reader = rcx_s3_reader_new (self->client, bucket, key);

  cancellable = get_cancellable (self);
  if (!rcx_s3_reader_get_info (self->reader, &info, cancellable, &error)) {
    if (!gst_wasabi_error_is_cancelled (error))
      GST_WASABI_ELEMENT_ERROR (self, error, OPEN_READ,
          "Could not open %s", self->uri);
    return FALSE;
  }
  self->size = info.size;
  self->next_offset = 0;
  self->requests_seen = rcx_s3_client_get_request_count (self->client);
  self->opens_seen = 0;
  GST_INFO_OBJECT (self, "%s: %" G_GUINT64_FORMAT " bytes, ETag %s, "
      "type %s", self->uri, info.size, GST_STR_NULL (info.etag),
      GST_STR_NULL (info.content_type));
  return TRUE;
}

static gboolean
gst_wasabi_src_stop (GstBaseSrc * bsrc)
{
  GstWasabiSrc *self = GST_WASABI_SRC (bsrc);

  if (self->reader != NULL) {
    GST_DEBUG_OBJECT (self, "%u GET response(s) opened, %" G_GUINT64_FORMAT
        " request(s) sent, %" G_GUINT64_FORMAT " body bytes received",
        rcx_s3_reader_get_open_count (self->reader),
        rcx_s3_client_get_request_count (self->client),
        rcx_s3_reader_get_received (self->reader));
    rcx_s3_reader_close (self->reader);
  }
  clear_blocks (self);
  g_clear_pointer (&self->reader, rcx_s3_reader_free);
  g_clear_pointer (&self->client, rcx_s3_client_unref);
  g_clear_pointer (&self->uri, g_free);
  self->size = 0;
  return TRUE;
}

static gboolean
gst_wasabi_src_get_size (GstBaseSrc * bsrc, guint64 * size)
{
  GstWasabiSrc *self = GST_WASABI_SRC (bsrc);

  if (self->reader == NULL)
    return FALSE;
  *size = self->size;
  return TRUE;
}

static gboolean
gst_wasabi_src_is_seekable (GstBaseSrc * bsrc)
{
  return TRUE;
}

/* GstBaseSrc answers a scheduling query before start() by starting and
 * stopping the source to learn whether it is random access. uridecodebin
 * asks as soon as it has made its source, before its source-setup signal
 * lets the application set endpoint-uri: that start sent a HEAD to the
 * default endpoint (AWS). An object in S3 is always random access (ranged
 * GETs; is_seekable is TRUE, the format bytes), so the answer a start
 * would give is known without a request. */
static gboolean
gst_wasabi_src_query (GstBaseSrc * bsrc, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_SCHEDULING
      && !GST_BASE_SRC_IS_STARTED (bsrc)) {
    gst_query_set_scheduling (query, GST_SCHEDULING_FLAG_SEEKABLE, 1, -1, 0);
    gst_query_add_scheduling_mode (query, GST_PAD_MODE_PULL);
    gst_query_add_scheduling_mode (query, GST_PAD_MODE_PUSH);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (bsrc, query);
}

static GstFlowReturn
gst_wasabi_src_fill (GstBaseSrc * bsrc, guint64 offset, guint length,
    GstBuffer * buf)
{
  GstWasabiSrc *self = GST_WASABI_SRC (bsrc);
  g_autoptr (GCancellable) cancellable = get_cancellable (self);
  g_autoptr (GError) error = NULL;
  gboolean jumped = offset != self->next_offset || self->opens_seen == 0;
  GstMapInfo map;
  gssize n;

  if (offset >= self->size)
    return GST_FLOW_EOS;

  if (!gst_buffer_map (buf, &map, GST_MAP_WRITE)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL),
        ("Could not map a buffer of %u bytes", length));
    return GST_FLOW_ERROR;
  }
  if (GST_PAD_MODE (GST_BASE_SRC_PAD (bsrc)) == GST_PAD_MODE_PULL)
    n = read_cached (self, offset, map.data, MIN (length, map.size),
        cancellable, &error);
  else
    n = rcx_s3_reader_read (self->reader, offset, map.data,
        MIN (length, map.size), cancellable, &error);
  gst_buffer_unmap (buf, &map);
  log_request_activity (self, offset, jumped);

  if (n < 0) {
    if (gst_wasabi_error_is_cancelled (error)) {
      GST_DEBUG_OBJECT (self, "read cancelled: flushing");
      return GST_FLOW_FLUSHING;
    }
    if (self->opens_seen == 0)
      GST_WASABI_ELEMENT_ERROR (self, error, OPEN_READ,
          "Could not open %s", self->uri);
    else
      GST_WASABI_ELEMENT_ERROR (self, error, READ,
          "Could not read %s at offset %" G_GUINT64_FORMAT, self->uri, offset);
    return GST_FLOW_ERROR;
  }
  if (n == 0) {
    GST_DEBUG_OBJECT (self, "end of object at %" G_GUINT64_FORMAT, offset);
    return GST_FLOW_EOS;
  }

  gst_buffer_set_size (buf, n);
  GST_BUFFER_OFFSET (buf) = offset;
  GST_BUFFER_OFFSET_END (buf) = offset + n;
  self->next_offset = offset + n;
  GST_LOG_OBJECT (self, "read %" G_GSSIZE_FORMAT " bytes at %"
      G_GUINT64_FORMAT, n, offset);
  return GST_FLOW_OK;
}

static gboolean
gst_wasabi_src_unlock (GstBaseSrc * bsrc)
{
  GstWasabiSrc *self = GST_WASABI_SRC (bsrc);
  g_autoptr (GCancellable) cancellable = get_cancellable (self);

  GST_DEBUG_OBJECT (self, "unlock: cancelling the request in flight");
  g_cancellable_cancel (cancellable);
  return TRUE;
}

static gboolean
gst_wasabi_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstWasabiSrc *self = GST_WASABI_SRC (bsrc);
  GCancellable *old;

  GST_DEBUG_OBJECT (self, "unlock_stop: fresh cancellable");
  GST_OBJECT_LOCK (self);
  old = self->cancellable;
  self->cancellable = g_cancellable_new ();
  GST_OBJECT_UNLOCK (self);
  g_object_unref (old);
  return TRUE;
}

/* ---- GObject ---------------------------------------------------------- */

static void
gst_wasabi_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWasabiSrc *self = GST_WASABI_SRC (object);
  g_autoptr (GError) error = NULL;

  if (gst_wasabi_connection_set_property (GST_ELEMENT (self), &self->config,
          prop_id, value, pspec))
    return;

  switch (prop_id) {
    case PROP_URI:
      if (!gst_wasabi_src_set_location (self, g_value_get_string (value),
              &error))
        GST_WARNING_OBJECT (self, "uri not set: %s", error->message);
      break;
    case PROP_BUCKET:
    case PROP_KEY:
      GST_OBJECT_LOCK (self);
      if (gst_wasabi_element_settings_mutable (GST_ELEMENT (self), pspec->name)) {
        gchar **field = prop_id == PROP_BUCKET ? &self->bucket : &self->key;

        g_free (*field);
        *field = g_value_dup_string (value);
      }
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_wasabi_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstWasabiSrc *self = GST_WASABI_SRC (object);

  if (gst_wasabi_connection_get_property (GST_ELEMENT (self), &self->config,
          prop_id, value))
    return;

  switch (prop_id) {
    case PROP_URI:
      g_value_take_string (value,
          gst_wasabi_src_uri_get_uri (GST_URI_HANDLER (self)));
      break;
    case PROP_BUCKET:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->bucket);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_KEY:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->key);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_wasabi_src_finalize (GObject * object)
{
  GstWasabiSrc *self = GST_WASABI_SRC (object);

  g_free (self->bucket);
  g_free (self->key);
  rcx_s3_config_clear (&self->config);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_wasabi_src_init (GstWasabiSrc * self)
{
  rcx_s3_config_init (&self->config);
  self->cancellable = g_cancellable_new ();
  g_queue_init (&self->blocks);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_BYTES);
  gst_base_src_set_blocksize (GST_BASE_SRC (self), DEFAULT_BLOCKSIZE);
}

static void
gst_wasabi_src_class_init (GstWasabiSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  GST_DEBUG_CATEGORY_INIT (gst_wasabi_src_debug, "wasabisrc", 0,
      "S3/Wasabi source");

  gobject_class->set_property = gst_wasabi_src_set_property;
  gobject_class->get_property = gst_wasabi_src_get_property;
  gobject_class->finalize = gst_wasabi_src_finalize;

  /**
   * GstWasabiSrc:uri:
   *
   * The object to read, `s3://bucket/key`: an RFC 3986 URI, the key
   * percent-decoded (`s3://media/up/a%20b%2Bc.mp4` is the key
   * `up/a b+c.mp4`; a raw '?' or '#' is refused). Setting it sets bucket
   * and key; reading it gives the key percent-encoded. The `key` property
   * takes a key as it is.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_URI,
      g_param_spec_string ("uri", "URI",
          "Object to read: s3://bucket/key, percent-encoded (sets bucket "
          "and key)", NULL, flags));
  /**
   * GstWasabiSrc:bucket:
   *
   * The bucket of the object.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_BUCKET,
      g_param_spec_string ("bucket", "Bucket", "Bucket of the object", NULL,
          flags));
  /**
   * GstWasabiSrc:key:
   *
   * The key of the object in its bucket.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_KEY,
      g_param_spec_string ("key", "Key", "Key of the object in the bucket",
          NULL, flags));
  gst_wasabi_install_connection_properties (gobject_class);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "S3/Wasabi source", "Source/Network",
      "Reads an object from S3-compatible storage with resumed, ranged GETs",
      "Rugbycodex <dev@rugbycodex.invalid>");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_wasabi_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_wasabi_src_stop);
  basesrc_class->get_size = GST_DEBUG_FUNCPTR (gst_wasabi_src_get_size);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR (gst_wasabi_src_is_seekable);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_wasabi_src_query);
  basesrc_class->fill = GST_DEBUG_FUNCPTR (gst_wasabi_src_fill);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_wasabi_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_wasabi_src_unlock_stop);

  gst_type_mark_as_plugin_api (GST_TYPE_WASABI_PATH_STYLE, 0);
}
