/* gstwasabicommon.c: connection properties and error mapping shared by the
 * S3 elements. See gstwasabicommon.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwasabicommon.h"

GType
gst_wasabi_path_style_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {RCX_S3_PATH_STYLE_AUTO,
          "Path-style when a custom endpoint is set, virtual-hosted otherwise",
        "auto"},
    {RCX_S3_PATH_STYLE_ON, "Always path-style (endpoint/bucket/key)", "on"},
    {RCX_S3_PATH_STYLE_OFF, "Always virtual-hosted (bucket.endpoint/key)",
        "off"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstWasabiPathStyle", values);
    g_once_init_leave (&type, t);
  }
  return (GType) type;
}

void
gst_wasabi_install_connection_properties (GObjectClass * klass)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;
  const GParamFlags wo = G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /* The properties below are installed on wasabisrc, wasabisink and
   * wasabihlssink alike; like GStreamer's shared helpers (srt's
   * gst_srt_object_install_properties_helper) they are documented once,
   * under the first element. Unset, each falls back to the environment
   * through librcx (docs/wasabisrc.md). All are GST_PARAM_MUTABLE_READY:
   * set_property refuses changes in PAUSED or PLAYING. */
  /**
   * GstWasabiSrc:region:
   *
   * The region requests are signed for (SigV4). NULL: `$AWS_REGION`,
   * then `$AWS_DEFAULT_REGION`, else `us-east-1`. Wasabi's regional
   * endpoints take their own region, e.g. `eu-central-1`.
   * Also on wasabisink and wasabihlssink.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_WASABI_PROP_REGION,
      g_param_spec_string ("region", "Region",
          "Region to sign requests for (NULL: $AWS_REGION, "
          "$AWS_DEFAULT_REGION, else " RCX_S3_DEFAULT_REGION ")", NULL, rw));
  /**
   * GstWasabiSrc:endpoint-uri:
   *
   * The S3 endpoint, an http:// or https:// URI such as
   * `https://s3.eu-central-1.wasabisys.com` (a URI without a host or with
   * another scheme fails at start with RESOURCE/SETTINGS). NULL:
   * `$AWS_ENDPOINT_URL_S3`, then `$AWS_ENDPOINT_URL`, else AWS's endpoint of
   * the region. Also on wasabisink and wasabihlssink.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_WASABI_PROP_ENDPOINT_URI,
      g_param_spec_string ("endpoint-uri", "Endpoint URI",
          "S3 endpoint, e.g. https://s3.eu-central-1.wasabisys.com "
          "(NULL: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS)",
          NULL, rw));
  /**
   * GstWasabiSrc:force-path-style:
   *
   * How the bucket is addressed: `on` path-style (endpoint/bucket/key),
   * `off` virtual-hosted (bucket.endpoint/key), `auto` path-style when a
   * custom endpoint is set (Wasabi's recommendation) and virtual-hosted on
   * AWS. Also on wasabisink and wasabihlssink.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_WASABI_PROP_FORCE_PATH_STYLE,
      g_param_spec_enum ("force-path-style", "Force path style",
          "Addressing: path-style (endpoint/bucket/key) or virtual-hosted "
          "(bucket.endpoint/key)", GST_TYPE_WASABI_PATH_STYLE,
          RCX_S3_PATH_STYLE_AUTO, rw));
  /**
   * GstWasabiSrc:access-key:
   *
   * The access key id, used with #GstWasabiSrc:secret-access-key. NULL:
   * the credentials chain (environment, shared credentials file and
   * `$AWS_PROFILE`, the ECS container endpoint, EC2 instance metadata).
   * Also on wasabisink and wasabihlssink.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_WASABI_PROP_ACCESS_KEY,
      g_param_spec_string ("access-key", "Access key",
          "Access key id (NULL: the credentials chain: environment, "
          "shared credentials file, container, instance metadata)", NULL, rw));
  /**
   * GstWasabiSrc:secret-access-key:
   *
   * The secret access key that goes with #GstWasabiSrc:access-key.
   * Write-only. Also on wasabisink and wasabihlssink.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_WASABI_PROP_SECRET_ACCESS_KEY,
      g_param_spec_string ("secret-access-key", "Secret access key",
          "Secret access key, used with access-key (write-only)", NULL, wo));
  /**
   * GstWasabiSrc:session-token:
   *
   * The session token of temporary credentials (STS), used with
   * #GstWasabiSrc:access-key. Write-only. Also on wasabisink and
   * wasabihlssink.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_WASABI_PROP_SESSION_TOKEN,
      g_param_spec_string ("session-token", "Session token",
          "Session token of temporary credentials, used with access-key "
          "(write-only)", NULL, wo));
  /**
   * GstWasabiSrc:retry-attempts:
   *
   * Attempts per request, the first one included. Transient failures
   * (connection errors, timeouts, 5xx, throttling) are retried with
   * full-jitter exponential backoff within the client's retry budget (the
   * AWS SDKs' standard mode, lib/rcx-retry.h); 4xx answers such as
   * AccessDenied are not. Also on wasabisink and wasabihlssink.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_WASABI_PROP_RETRY_ATTEMPTS,
      g_param_spec_uint ("retry-attempts", "Retry attempts",
          "Attempts per request, the first one included (transient errors "
          "are retried with jittered exponential backoff)", 1, 100,
          RCX_S3_DEFAULT_RETRY_ATTEMPTS, rw));
  /**
   * GstWasabiSrc:request-timeout:
   *
   * Seconds without progress (connecting, waiting for the answer, or
   * between any two bytes of a transfer) after which an attempt is
   * abandoned and, within #GstWasabiSrc:retry-attempts, retried. A slow
   * but moving transfer is never cut. Also on wasabisink and wasabihlssink.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_WASABI_PROP_REQUEST_TIMEOUT,
      g_param_spec_uint ("request-timeout", "Request timeout",
          "Seconds without progress (connect, answer, or any byte of a "
          "transfer) after which an attempt is abandoned and retried",
          1, 3600, RCX_S3_DEFAULT_REQUEST_TIMEOUT, rw));
}

void
gst_wasabi_install_retry_timeout_property (GObjectClass * klass)
{
  /**
   * GstWasabiSink:retry-timeout:
   *
   * Seconds the storage may keep failing (5xx, throttling, connection
   * resets, refused connections) while idempotent requests keep retrying
   * with capped, jittered backoff once their #GstWasabiSink:retry-attempts
   * are spent. The window opens when the storage starts failing and closes
   * with any success; 0: retry-attempts only. Also on wasabihlssink.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_WASABI_PROP_RETRY_TIMEOUT,
      g_param_spec_uint ("retry-timeout", "Retry timeout",
          "Seconds the storage may keep failing (5xx, throttling, resets, "
          "refused connections) while idempotent requests keep retrying "
          "with capped, jittered backoff after their retry-attempts; the "
          "window starts when the storage starts failing and ends with any "
          "success (0: retry-attempts only)", 0, 86400,
          RCX_S3_DEFAULT_RETRY_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

gboolean
gst_wasabi_element_settings_mutable (GstElement * element, const gchar * what)
{
  if (GST_STATE (element) > GST_STATE_READY ||
      GST_STATE_NEXT (element) > GST_STATE_READY) {
    GST_WARNING_OBJECT (element, "%s can only be changed in the NULL or "
        "READY state (now %s)", what,
        gst_element_state_get_name (GST_STATE (element)));
    return FALSE;
  }
  return TRUE;
}

static void
replace_string (gchar ** field, const GValue * value)
{
  const gchar *s = g_value_get_string (value);

  g_free (*field);
  *field = (s != NULL && *s != '\0') ? g_strdup (s) : NULL;
}

gboolean
gst_wasabi_connection_set_property (GstElement * element,
    RcxS3Config * config, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  if (prop_id < GST_WASABI_PROP_FIRST || prop_id >= GST_WASABI_PROP_LAST)
    return FALSE;

  GST_OBJECT_LOCK (element);
  if (!gst_wasabi_element_settings_mutable (element, pspec->name)) {
    GST_OBJECT_UNLOCK (element);
    return TRUE;
  }
  switch (prop_id) {
    case GST_WASABI_PROP_REGION:
      replace_string (&config->region, value);
      break;
    case GST_WASABI_PROP_ENDPOINT_URI:
      replace_string (&config->endpoint_uri, value);
      break;
    case GST_WASABI_PROP_FORCE_PATH_STYLE:
      config->path_style = g_value_get_enum (value);
      break;
    case GST_WASABI_PROP_ACCESS_KEY:
      replace_string (&config->access_key, value);
      break;
    case GST_WASABI_PROP_SECRET_ACCESS_KEY:
      replace_string (&config->secret_access_key, value);
      break;
    case GST_WASABI_PROP_SESSION_TOKEN:
      replace_string (&config->session_token, value);
      break;
    case GST_WASABI_PROP_RETRY_ATTEMPTS:
      config->retry_attempts = g_value_get_uint (value);
      break;
    case GST_WASABI_PROP_REQUEST_TIMEOUT:
      config->request_timeout = g_value_get_uint (value);
      break;
    case GST_WASABI_PROP_RETRY_TIMEOUT:
      config->retry_timeout = g_value_get_uint (value);
      break;
    default:
      g_assert_not_reached ();
  }
  GST_OBJECT_UNLOCK (element);
  return TRUE;
}

gboolean
gst_wasabi_connection_get_property (GstElement * element,
    const RcxS3Config * config, guint prop_id, GValue * value)
{
  if (prop_id < GST_WASABI_PROP_FIRST || prop_id >= GST_WASABI_PROP_LAST)
    return FALSE;

  GST_OBJECT_LOCK (element);
  switch (prop_id) {
    case GST_WASABI_PROP_REGION:
      g_value_set_string (value, config->region);
      break;
    case GST_WASABI_PROP_ENDPOINT_URI:
      g_value_set_string (value, config->endpoint_uri);
      break;
    case GST_WASABI_PROP_FORCE_PATH_STYLE:
      g_value_set_enum (value, config->path_style);
      break;
    case GST_WASABI_PROP_ACCESS_KEY:
      g_value_set_string (value, config->access_key);
      break;
    case GST_WASABI_PROP_SECRET_ACCESS_KEY:
    case GST_WASABI_PROP_SESSION_TOKEN:
      /* write-only: never handed back */
      g_value_set_string (value, NULL);
      break;
    case GST_WASABI_PROP_RETRY_ATTEMPTS:
      g_value_set_uint (value, config->retry_attempts);
      break;
    case GST_WASABI_PROP_REQUEST_TIMEOUT:
      g_value_set_uint (value, config->request_timeout);
      break;
    case GST_WASABI_PROP_RETRY_TIMEOUT:
      g_value_set_uint (value, config->retry_timeout);
      break;
    default:
      g_assert_not_reached ();
  }
  GST_OBJECT_UNLOCK (element);
  return TRUE;
}

gchar *
gst_wasabi_make_uri (const gchar * bucket, const gchar * key)
{
  if (bucket == NULL)
    return NULL;
  return rcx_s3_uri_build (bucket, key);
}

gboolean
gst_wasabi_set_object_uri (GstElement * element, const gchar * uri,
    gchar ** bucket, gchar ** key, GError ** error)
{
  g_autofree gchar *new_bucket = NULL;
  g_autofree gchar *new_key = NULL;

  if (uri != NULL && !rcx_s3_uri_parse (uri, &new_bucket, &new_key, FALSE,
          error))
    return FALSE;

  GST_OBJECT_LOCK (element);
  if (!gst_wasabi_element_settings_mutable (element, "uri")) {
    GST_OBJECT_UNLOCK (element);
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
        "Changing the URI of %s in PAUSED or PLAYING is not supported",
        GST_ELEMENT_NAME (element));
    return FALSE;
  }
  g_free (*bucket);
  *bucket = g_steal_pointer (&new_bucket);
  g_free (*key);
  *key = g_steal_pointer (&new_key);
  GST_OBJECT_UNLOCK (element);
  return TRUE;
}

GstResourceError
gst_wasabi_resource_error_from_gerror (const GError * error,
    GstResourceError fallback)
{
  if (error == NULL || error->domain != RCX_S3_ERROR)
    return fallback;

  switch ((RcxS3ErrorCode) error->code) {
    case RCX_S3_ERROR_NOT_AUTHORIZED:
      return GST_RESOURCE_ERROR_NOT_AUTHORIZED;
    case RCX_S3_ERROR_NOT_FOUND:
      return GST_RESOURCE_ERROR_NOT_FOUND;
    case RCX_S3_ERROR_SETTINGS:
      return GST_RESOURCE_ERROR_SETTINGS;
    case RCX_S3_ERROR_FAILED:
    case RCX_S3_ERROR_CONNECT:
    case RCX_S3_ERROR_PRECONDITION:
    case RCX_S3_ERROR_RANGE:
    case RCX_S3_ERROR_MISMATCH:
    default:
      return fallback;
  }
}

GstStructure *
gst_wasabi_error_details (const GError * error)
{
  guint status = 0;
  const gchar *code = NULL, *request_id = NULL;
  GstStructure *details;

  if (error != NULL && error->domain == RCX_S3_ERROR) {
    status = rcx_s3_error_get_http_status (error);
    code = rcx_s3_error_get_s3_code (error);
    request_id = rcx_s3_error_get_request_id (error);
  }

  details = gst_structure_new ("details", "http-status-code", G_TYPE_UINT,
      status, NULL);
  if (code != NULL)
    gst_structure_set (details, "s3-error-code", G_TYPE_STRING, code, NULL);
  if (request_id != NULL)
    gst_structure_set (details, "request-id", G_TYPE_STRING, request_id, NULL);
  return details;
}

void
gst_wasabi_element_message (GstElement * element, GstMessageType type,
    const GError * error, GstResourceError fallback, const gchar * file,
    const gchar * function, gint line, const gchar * format, ...)
{
  GstResourceError code;
  gchar *text, *debug;
  va_list args;

  code = gst_wasabi_resource_error_from_gerror (error, fallback);

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  if (error != NULL)
    debug = g_strdup_printf ("%s (%s %d)", error->message,
        g_quark_to_string (error->domain), error->code);
  else
    debug = NULL;

  GST_WARNING_OBJECT (element, "%s: %s", text, debug ? debug : "");
  /* takes text and debug */
  gst_element_message_full_with_details (element, type, GST_RESOURCE_ERROR,
      code, text, debug, file, function, line,
      gst_wasabi_error_details (error));
}

gboolean
gst_wasabi_error_is_cancelled (const GError * error)
{
  return error != NULL && g_error_matches (error, G_IO_ERROR,
      G_IO_ERROR_CANCELLED);
}

typedef struct
{
  GstElement *element;
  GstDebugCategory *category;
} LogTarget;

static void
log_target_free (gpointer data)
{
  LogTarget *target = data;

  gst_object_unref (target->element);
  g_free (target);
}

static void
log_to_category (GLogLevelFlags level, const gchar * message,
    gpointer user_data)
{
  LogTarget *target = user_data;
  GstDebugLevel gst_level;

  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    gst_level = GST_LEVEL_WARNING;
  else if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    gst_level = GST_LEVEL_DEBUG;
  else
    gst_level = GST_LEVEL_LOG;

  gst_debug_log (target->category, gst_level, "rcx-s3", "", 0,
      G_OBJECT (target->element), "%s", message);
}

void
gst_wasabi_client_log_to_category (RcxS3Client * client,
    GstElement * element, GstDebugCategory * category)
{
  LogTarget *target = g_new0 (LogTarget, 1);

  target->element = gst_object_ref (element);
  target->category = category;
  rcx_s3_client_set_log_func (client, log_to_category, target, log_target_free);
}
