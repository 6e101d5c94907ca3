/* rcx-credentials-remote.c: the chain's temporary sources over HTTP: the
 * container endpoint (ECS task roles, EKS Pod Identity) and EC2 instance
 * metadata (IMDSv2), and the parsers of their replies, capped. The chain
 * itself and the static sources are rcx-credentials.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "rcx-credentials"

#include "rcx-credentials.h"
#include "rcx-credentials-private.h"

#include <string.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "rcx-http.h"
#include "rcx-json.h"
#include "rcx-sanitize.h"

#define CONTAINER_HOST_URI "http://169.254.170.2"
#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_TOKEN_TTL "21600"
#define IMDS_TIMEOUT_SECONDS 1
#define CONTAINER_TIMEOUT_SECONDS 2
#define MAX_RESPONSE_SIZE (64 * 1024)

/* ---- HTTP sources ----------------------------------------------------- */

static SoupSession *
new_session (guint timeout)
{
  SoupSession *session = soup_session_new_with_options ("timeout", timeout,
      "user-agent", "rugbycodex", NULL);

  /* Link-local metadata endpoints must never go through a proxy. */
  soup_session_set_proxy_resolver (session, NULL);
  return session;
}

/* Sends @msg; the body on a 2xx answer, otherwise an error. Neither the
 * body of an error answer (it may echo a token) nor the path (the
 * container's relative URI is a capability) goes into the message. */
static GBytes *
send_message (SoupSession * session, SoupMessage * msg,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GError) local_error = NULL;
  GBytes *body;
  guint status;

  in = soup_session_send (session, msg, cancellable, error);
  if (in == NULL)
    return NULL;
  status = soup_message_get_status (msg);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status)) {
    g_autofree gchar *reason =
        rcx_sanitize_text (soup_message_get_reason_phrase (msg), -1, 64);

    g_set_error (error, G_IO_ERROR, status == SOUP_STATUS_NOT_FOUND ?
        G_IO_ERROR_NOT_FOUND : G_IO_ERROR_FAILED, "HTTP %u %s", status, reason);
    return NULL;
  }
  /* read no more than an answer can hold, however much is sent */
  body = rcx_http_read_bytes (in, MAX_RESPONSE_SIZE, cancellable, &local_error);
  if (body == NULL) {
    g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
        "Credentials answer: ");
    return NULL;
  }
  return body;
}

/* 0 means "never expires" to the cache: an Expiration at or before 1970
 * (found by fuzz-credentials: it returned a negative time without an
 * error) is as invalid as one that does not parse. */
static gint64
parse_expiration (const gchar * iso8601, GError ** error)
{
  g_autoptr (GDateTime) dt = NULL;

  dt = g_date_time_new_from_iso8601 (iso8601, NULL);
  if (dt == NULL || g_date_time_to_unix (dt) <= 0) {
    g_autofree gchar *safe = rcx_sanitize_text (iso8601, -1, 64);

    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "Invalid Expiration '%s'", safe);
    return -1;
  }
  return g_date_time_to_unix (dt) * G_USEC_PER_SEC +
      g_date_time_get_microsecond (dt);
}

/* The JSON both the container endpoint and IMDS answer with. */
gboolean
rcx_credentials_parse_json (const gchar * data, gsize length,
    const gchar * source, RcxCredentials * out, GError ** error)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *obj;
  const gchar *access_key;
  const gchar *secret_key;
  const gchar *token;
  const gchar *expiration;
  const gchar *code;
  gint64 expires = 0;

  /* size and depth checked before json-glib recurses into it */
  root = rcx_json_parse (data, length, MAX_RESPONSE_SIZE, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "Invalid credentials JSON from the %s source", source);
    return FALSE;
  }
  obj = json_node_get_object (root);
  code = rcx_json_get_string (obj, "Code");
  if (code != NULL && strcmp (code, "Success") != 0) {
    g_autofree gchar *safe = rcx_sanitize_text (code, -1, 64);

    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "The %s source answered Code '%s'", source, safe);
    return FALSE;
  }
  access_key = rcx_json_get_string (obj,
      "AccessKeyId");
  secret_key = rcx_json_get_string (obj,
      "SecretAccessKey");
  token = rcx_json_get_string (obj, "Token");
  expiration = rcx_json_get_string (obj,
      "Expiration");
  if (!rcx_credentials_is_set (access_key)
      || !rcx_credentials_is_set (secret_key)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "No AccessKeyId/SecretAccessKey from the %s source", source);
    return FALSE;
  }
  if (rcx_credentials_is_set (expiration)) {
    expires = parse_expiration (expiration, error);
    if (expires < 0)
      return FALSE;
  }
  out->access_key = g_strdup (access_key);
  out->secret_key = g_strdup (secret_key);
  out->session_token = rcx_credentials_is_set (token) ? g_strdup (token) : NULL;
  out->expiration = expires;
  out->source = source;
  return TRUE;
}

/* ---- container endpoint ----------------------------------------------- */

/* A full URI over plain http must stay on this machine or on the ECS/EKS
 * agent addresses, as the SDKs require. */
static gboolean
container_uri_allowed (GUri * uri)
{
  static const gchar *const allowed_hosts[] = {
    "localhost", "169.254.170.2", "169.254.170.23", "fd00:ec2::23", NULL
  };
  const gchar *host = g_uri_get_host (uri);
  g_autoptr (GInetAddress) addr = NULL;

  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0)
    return TRUE;
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") != 0 || host == NULL)
    return FALSE;
  if (g_strv_contains (allowed_hosts, host))
    return TRUE;
  addr = g_inet_address_new_from_string (host);
  return addr != NULL && g_inet_address_get_is_loopback (addr);
}

static gchar *
container_authorization (GError ** error)
{
  const gchar *token = g_getenv ("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  const gchar *token_file = g_getenv ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  gchar *contents = NULL;

  if (rcx_credentials_is_set (token_file)) {
    if (!g_file_get_contents (token_file, &contents, NULL, error))
      return NULL;
    return g_strstrip (contents);
  }
  return g_strdup (rcx_credentials_is_set (token) ? token : "");
}

/* TRUE with @out filled, FALSE with @error NULL when not configured,
 * FALSE with @error set when configured but failing. */
gboolean
rcx_credentials_from_container (RcxCredentials * out,
    GCancellable * cancellable, GError ** error)
{
  const gchar *relative = g_getenv ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const gchar *full = g_getenv ("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  g_autofree gchar *uri_string = NULL;
  g_autofree gchar *authorization = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) local_error = NULL;

  if (rcx_credentials_is_set (relative))
    uri_string = g_strconcat (CONTAINER_HOST_URI,
        relative[0] == '/' ? "" : "/", relative, NULL);
  else if (rcx_credentials_is_set (full))
    uri_string = g_strdup (full);
  else
    return FALSE;

  uri = g_uri_parse (uri_string, SOUP_HTTP_URI_FLAGS, NULL);
  if (uri == NULL || !container_uri_allowed (uri)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Container credentials URI not allowed (https, loopback or the "
        "ECS/EKS agent addresses only)");
    return FALSE;
  }
  authorization = container_authorization (&local_error);
  if (authorization == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "Container authorization token file: %s", local_error->message);
    return FALSE;
  }

  session = new_session (CONTAINER_TIMEOUT_SECONDS);
  msg = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  soup_message_headers_append (soup_message_get_request_headers (msg),
      "Accept", "application/json");
  if (authorization[0] != '\0')
    soup_message_headers_append (soup_message_get_request_headers (msg),
        "Authorization", authorization);
  body = send_message (session, msg, cancellable, &local_error);
  if (body == NULL) {
    g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
        "Container credentials endpoint: ");
    return FALSE;
  }
  return rcx_credentials_parse_json (g_bytes_get_data (body, NULL),
      g_bytes_get_size (body), "container", out, error);
}

/* ---- EC2 instance metadata (IMDSv2) ----------------------------------- */

/* The first line of the role listing; a role name is a path segment of the
 * next request, so only IAM's role-name characters pass. */
gchar *
rcx_credentials_parse_imds_role (const gchar * data, gsize length)
{
  g_autofree gchar *role = g_strndup (data, length);
  gchar *newline = strchr (role, '\n');
  const gchar *p;

  if (newline != NULL)
    *newline = '\0';
  g_strstrip (role);
  if (role[0] == '\0' || strlen (role) > 64)
    return NULL;
  for (p = role; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("+=,.@_-", *p) == NULL)
      return NULL;
  return g_steal_pointer (&role);
}

static gchar *
imds_endpoint (void)
{
  const gchar *endpoint = g_getenv ("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  gsize len;

  if (!rcx_credentials_is_set (endpoint))
    endpoint = IMDS_DEFAULT_ENDPOINT;
  len = strlen (endpoint);
  while (len > 0 && endpoint[len - 1] == '/')
    len--;
  return g_strndup (endpoint, len);
}

static GBytes *
imds_request (SoupSession * session, const gchar * method,
    const gchar * endpoint, const gchar * path, const gchar * token,
    GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *uri = g_strconcat (endpoint, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, uri);
  SoupMessageHeaders *headers;

  if (msg == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Invalid instance metadata endpoint '%s'", endpoint);
    return NULL;
  }
  headers = soup_message_get_request_headers (msg);
  if (token == NULL) {
    g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);

    soup_message_headers_append (headers,
        "X-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL);
    soup_message_set_request_body_from_bytes (msg, NULL, empty);
  } else {
    soup_message_headers_append (headers, "X-aws-ec2-metadata-token", token);
  }
  return send_message (session, msg, cancellable, error);
}

gboolean
rcx_credentials_from_imds (RcxCredentials * out, GCancellable * cancellable,
    GError ** error)
{
  const gchar *disabled = g_getenv ("AWS_EC2_METADATA_DISABLED");
  g_autofree gchar *endpoint = NULL;
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (GBytes) token_bytes = NULL;
  g_autoptr (GBytes) roles = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree gchar *token = NULL;
  g_autofree gchar *role = NULL;
  g_autofree gchar *path = NULL;

  if (disabled != NULL && g_ascii_strcasecmp (disabled, "true") == 0) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "Instance metadata disabled (AWS_EC2_METADATA_DISABLED)");
    return FALSE;
  }

  endpoint = imds_endpoint ();
  session = new_session (IMDS_TIMEOUT_SECONDS);
  token_bytes = imds_request (session, SOUP_METHOD_PUT, endpoint,
      "/latest/api/token", NULL, cancellable, error);
  if (token_bytes == NULL) {
    g_prefix_error (error, "Instance metadata token: ");
    return FALSE;
  }
  token = g_strndup (g_bytes_get_data (token_bytes, NULL),
      g_bytes_get_size (token_bytes));
  g_strstrip (token);
  if (token[0] == '\0' || !rcx_sanitize_is_header_safe (token)) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "Instance metadata token: empty or holding control characters");
    return FALSE;
  }

  roles = imds_request (session, SOUP_METHOD_GET, endpoint,
      "/latest/meta-data/iam/security-credentials/", token, cancellable, error);
  if (roles == NULL) {
    g_prefix_error (error, "Instance metadata role: ");
    return FALSE;
  }
  role = rcx_credentials_parse_imds_role (g_bytes_get_data (roles, NULL),
      g_bytes_get_size (roles));
  if (role == NULL) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "No IAM role attached to the instance");
    return FALSE;
  }

  path = g_strconcat ("/latest/meta-data/iam/security-credentials/", role,
      NULL);
  body = imds_request (session, SOUP_METHOD_GET, endpoint, path, token,
      cancellable, error);
  if (body == NULL) {
    g_prefix_error (error, "Instance metadata role credentials: ");
    return FALSE;
  }
  return rcx_credentials_parse_json (g_bytes_get_data (body, NULL),
      g_bytes_get_size (body), "imds", out, error);
}
