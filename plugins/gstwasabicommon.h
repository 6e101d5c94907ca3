/* gstwasabicommon.h: what the S3 elements (wasabisrc, wasabisink,
 * wasabihlssink) share: the connection properties and the mapping of
 * RCX_S3_ERROR errors onto GStreamer error messages with details.
 *
 * Usage in an element:
 *
 *   struct _GstFooSink { GstBaseSink parent; RcxS3Config config; ... };
 *
 *   init:         rcx_s3_config_init (&self->config);
 *   finalize:     rcx_s3_config_clear (&self->config);
 *   class_init:   gst_wasabi_install_connection_properties (gobject_class);
 *   set_property: if (gst_wasabi_connection_set_property (GST_ELEMENT (self),
 *                     &self->config, prop_id, value, pspec))
 *                   return;
 *   get_property: if (gst_wasabi_connection_get_property (GST_ELEMENT (self),
 *                     &self->config, prop_id, value))
 *                   return;
 *   start:        GST_OBJECT_LOCK; rcx_s3_config_copy (&copy, &self->config);
 *                 GST_OBJECT_UNLOCK; client = rcx_s3_client_new (&copy, &err);
 *   on error:     GST_WASABI_ELEMENT_ERROR (self, err, OPEN_WRITE,
 *                     "Could not upload %s", uri);
 *
 * The element's own property ids must stay below GST_WASABI_PROP_FIRST.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include "rcx-s3.h"

G_BEGIN_DECLS

/* GEnum over RcxS3PathStyle: "auto", "on", "off". */
#define GST_TYPE_WASABI_PATH_STYLE (gst_wasabi_path_style_get_type ())
GType gst_wasabi_path_style_get_type (void);

/* Property ids of the connection properties (element ids stay below). */
#define GST_WASABI_PROP_FIRST 1000
enum
{
  GST_WASABI_PROP_REGION = GST_WASABI_PROP_FIRST,
  GST_WASABI_PROP_ENDPOINT_URI,
  GST_WASABI_PROP_FORCE_PATH_STYLE,
  GST_WASABI_PROP_ACCESS_KEY,
  GST_WASABI_PROP_SECRET_ACCESS_KEY,
  GST_WASABI_PROP_SESSION_TOKEN,
  GST_WASABI_PROP_RETRY_ATTEMPTS,
  GST_WASABI_PROP_REQUEST_TIMEOUT,
  GST_WASABI_PROP_RETRY_TIMEOUT,
  GST_WASABI_PROP_LAST
};

/* Installs region, endpoint-uri, force-path-style, access-key,
 * secret-access-key (write-only), session-token (write-only),
 * retry-attempts and request-timeout, all GST_PARAM_MUTABLE_READY. */
void gst_wasabi_install_connection_properties (GObjectClass * klass);

/* Installs retry-timeout (the sinks': how long uploads ride out a storage
 * outage, RcxS3Config.retry_timeout), default RCX_S3_DEFAULT_RETRY_TIMEOUT;
 * the element's init sets config->retry_timeout to that default. */
void gst_wasabi_install_retry_timeout_property (GObjectClass * klass);

/* Stores a connection property in @config under the object lock. Returns
 * FALSE when @prop_id is not one of them. Changes after READY are refused
 * with a warning (and TRUE is returned: the property was handled). */
gboolean gst_wasabi_connection_set_property (GstElement * element,
    RcxS3Config * config, guint prop_id, const GValue * value,
    GParamSpec * pspec);

/* Reads a connection property (secrets read back as NULL). Returns FALSE
 * when @prop_id is not one of them. */
gboolean gst_wasabi_connection_get_property (GstElement * element,
    const RcxS3Config * config, guint prop_id, GValue * value);

/* Call with the object lock held: TRUE when settings may still change
 * (state NULL or READY, no transition to PAUSED under way); otherwise
 * logs a warning naming @what and returns FALSE. */
gboolean gst_wasabi_element_settings_mutable (GstElement * element,
    const gchar * what);

/* The URI handlers' get_uri: "s3://bucket/key" with the key
 * percent-encoded (rcx_s3_uri_build), so that set_uri of it reaches the
 * same object (NULL when bucket is NULL). */
gchar *gst_wasabi_make_uri (const gchar * bucket, const gchar * key);

/* The URI handler's set_uri and the "uri" property: parses @uri (NULL
 * clears; an RFC 3986 URI, percent-decoded by rcx_s3_uri_parse) into
 * *@bucket and *@key under the object lock, refusing with
 * GST_URI_ERROR_BAD_STATE once the element is past READY. */
gboolean gst_wasabi_set_object_uri (GstElement * element, const gchar * uri,
    gchar ** bucket, gchar ** key, GError ** error);

/* The GstResourceError for @error: RCX_S3_ERROR_NOT_AUTHORIZED ->
 * NOT_AUTHORIZED, NOT_FOUND -> NOT_FOUND, SETTINGS -> SETTINGS, anything
 * else -> @fallback (OPEN_READ/OPEN_WRITE when opening, READ/WRITE
 * mid-transfer). */
GstResourceError gst_wasabi_resource_error_from_gerror (const GError * error,
    GstResourceError fallback);

/* A "details" structure with http-status-code (G_TYPE_UINT, 0 when no
 * HTTP answer), and when known s3-error-code and request-id (strings). */
GstStructure *gst_wasabi_error_details (const GError * error);

/* Posts an ERROR (or WARNING) message in GST_RESOURCE_ERROR with the code
 * above, the text from @format and the details above. */
void gst_wasabi_element_message (GstElement * element, GstMessageType type,
    const GError * error, GstResourceError fallback, const gchar * file,
    const gchar * function, gint line, const gchar * format, ...)
    G_GNUC_PRINTF (8, 9);

#define GST_WASABI_ELEMENT_ERROR(el, error, fallback, ...)                  \
  gst_wasabi_element_message (GST_ELEMENT (el), GST_MESSAGE_ERROR, error,   \
      GST_RESOURCE_ERROR_ ## fallback, __FILE__, GST_FUNCTION, __LINE__,    \
      __VA_ARGS__)
#define GST_WASABI_ELEMENT_WARNING(el, error, fallback, ...)                \
  gst_wasabi_element_message (GST_ELEMENT (el), GST_MESSAGE_WARNING, error, \
      GST_RESOURCE_ERROR_ ## fallback, __FILE__, GST_FUNCTION, __LINE__,    \
      __VA_ARGS__)

/* Sends the client's log lines (one per request, retry and final failure)
 * to @category as @element: retries at DEBUG (level 5), each request at
 * LOG, final failures at WARNING. Call right after rcx_s3_client_new(). */
void gst_wasabi_client_log_to_category (RcxS3Client * client,
    GstElement * element, GstDebugCategory * category);

/* TRUE for G_IO_ERROR_CANCELLED (a flush, not a failure). */
gboolean gst_wasabi_error_is_cancelled (const GError * error);

G_END_DECLS
