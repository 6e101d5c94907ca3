/* rcx-credentials.c: the AWS credentials chain (see rcx-credentials.h).
 *
 * Static sources (explicit values, environment, shared credentials file)
 * are read once and kept; temporary ones (container endpoint, IMDS) are
 * kept until five minutes before their Expiration. Fetches happen under
 * the provider's lock, so concurrent callers wait for one fetch instead of
 * each making their own. Only the name of the source is ever logged.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "rcx-credentials"

#include "rcx-credentials.h"
#include "rcx-credentials-private.h"

#include <string.h>

#include "rcx-sanitize.h"

#define REFRESH_MARGIN ((gint64) 5 * 60 * G_USEC_PER_SEC)

struct _RcxCredentialsProvider
{
  gatomicrefcount ref_count;
  GMutex lock;

  /* Explicit values, immutable after _new(). */
  gchar *access_key;
  gchar *secret_key;
  gchar *session_token;
  gchar *profile;

  /* Protected by lock. */
  RcxCredentials cached;
  gboolean have_cached;
};

void
rcx_credentials_clear (RcxCredentials * creds)
{
  if (creds == NULL)
    return;
  /* Secrets: don't leave them in freed memory. */
  if (creds->secret_key != NULL)
    memset (creds->secret_key, 0, strlen (creds->secret_key));
  if (creds->session_token != NULL)
    memset (creds->session_token, 0, strlen (creds->session_token));
  g_clear_pointer (&creds->access_key, g_free);
  g_clear_pointer (&creds->secret_key, g_free);
  g_clear_pointer (&creds->session_token, g_free);
  creds->expiration = 0;
  creds->source = NULL;
}

static void
credentials_copy (RcxCredentials * dest, const RcxCredentials * src)
{
  dest->access_key = g_strdup (src->access_key);
  dest->secret_key = g_strdup (src->secret_key);
  dest->session_token = g_strdup (src->session_token);
  dest->expiration = src->expiration;
  dest->source = src->source;
}

gboolean
rcx_credentials_is_set (const gchar * s)
{
  return s != NULL && s[0] != '\0';
}

RcxCredentialsProvider *
rcx_credentials_provider_new (const gchar * access_key,
    const gchar * secret_key, const gchar * session_token,
    const gchar * profile)
{
  RcxCredentialsProvider *p = g_new0 (RcxCredentialsProvider, 1);

  g_atomic_ref_count_init (&p->ref_count);
  g_mutex_init (&p->lock);
  if (rcx_credentials_is_set (access_key)
      && rcx_credentials_is_set (secret_key)) {
    p->access_key = g_strdup (access_key);
    p->secret_key = g_strdup (secret_key);
    p->session_token = rcx_credentials_is_set (session_token) ?
        g_strdup (session_token) : NULL;
  } else if (rcx_credentials_is_set (access_key)
      || rcx_credentials_is_set (secret_key)) {
    g_warning ("Only one of access key and secret key given: ignored, "
        "using the credentials chain");
  }
  p->profile = rcx_credentials_is_set (profile) ? g_strdup (profile) : NULL;
  return p;
}

RcxCredentialsProvider *
rcx_credentials_provider_ref (RcxCredentialsProvider * p)
{
  g_return_val_if_fail (p != NULL, NULL);

  g_atomic_ref_count_inc (&p->ref_count);
  return p;
}

void
rcx_credentials_provider_unref (RcxCredentialsProvider * p)
{
  g_return_if_fail (p != NULL);

  if (!g_atomic_ref_count_dec (&p->ref_count))
    return;
  rcx_credentials_clear (&p->cached);
  g_free (p->access_key);
  if (p->secret_key != NULL)
    memset (p->secret_key, 0, strlen (p->secret_key));
  g_free (p->secret_key);
  g_free (p->session_token);
  g_free (p->profile);
  g_mutex_clear (&p->lock);
  g_free (p);
}

/* ---- environment ------------------------------------------------------ */

static gboolean
from_environment (RcxCredentials * out)
{
  const gchar *access_key = g_getenv ("AWS_ACCESS_KEY_ID");
  const gchar *secret_key = g_getenv ("AWS_SECRET_ACCESS_KEY");
  const gchar *token = g_getenv ("AWS_SESSION_TOKEN");

  if (!rcx_credentials_is_set (access_key)
      || !rcx_credentials_is_set (secret_key))
    return FALSE;
  out->access_key = g_strdup (access_key);
  out->secret_key = g_strdup (secret_key);
  out->session_token = rcx_credentials_is_set (token) ? g_strdup (token) : NULL;
  out->expiration = 0;
  out->source = "environment";
  return TRUE;
}

/* ---- shared credentials file ------------------------------------------ */

static gchar *
shared_credentials_path (void)
{
  const gchar *path = g_getenv ("AWS_SHARED_CREDENTIALS_FILE");

  if (rcx_credentials_is_set (path)) {
    if (path[0] == '~' && (path[1] == '/' || path[1] == '\0'))
      return g_build_filename (g_get_home_dir (), path + 1, NULL);
    return g_strdup (path);
  }
  return g_build_filename (g_get_home_dir (), ".aws", "credentials", NULL);
}

static void
replace_string (gchar ** dest, const gchar * value)
{
  g_free (*dest);
  *dest = g_strdup (value);
}

/* The AWS INI dialect: "[profile]" sections, "key = value" lines, '#' and
 * ';' comment lines. Only the three credential keys of @profile are
 * read. */
gboolean
rcx_credentials_parse_ini (const gchar * data, gsize length,
    const gchar * profile, RcxCredentials * out)
{
  g_autofree gchar *contents = g_strndup (data, length);
  g_auto (GStrv) lines = NULL;
  g_autofree gchar *access_key = NULL;
  g_autofree gchar *secret_key = NULL;
  g_autofree gchar *token = NULL;
  gboolean in_profile = FALSE;
  guint i;

  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i] != NULL; i++) {
    gchar *line = g_strstrip (lines[i]);
    gchar *eq;
    gchar *key;
    gchar *value;

    if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
      continue;
    if (line[0] == '[') {
      gchar *end = strchr (line, ']');

      if (end == NULL) {
        in_profile = FALSE;
        continue;
      }
      *end = '\0';
      in_profile = strcmp (g_strstrip (line + 1), profile) == 0;
      continue;
    }
    if (!in_profile || (eq = strchr (line, '=')) == NULL)
      continue;
    *eq = '\0';
    key = g_strstrip (line);
    value = g_strstrip (eq + 1);
    if (g_ascii_strcasecmp (key, "aws_access_key_id") == 0)
      replace_string (&access_key, value);
    else if (g_ascii_strcasecmp (key, "aws_secret_access_key") == 0)
      replace_string (&secret_key, value);
    else if (g_ascii_strcasecmp (key, "aws_session_token") == 0)
      replace_string (&token, value);
  }
  memset (contents, 0, strlen (contents));
  for (i = 0; lines[i] != NULL; i++)
    memset (lines[i], 0, strlen (lines[i]));

  if (!rcx_credentials_is_set (access_key)
      || !rcx_credentials_is_set (secret_key))
    return FALSE;
  out->access_key = g_steal_pointer (&access_key);
  out->secret_key = g_steal_pointer (&secret_key);
  out->session_token = rcx_credentials_is_set (token) ?
      g_steal_pointer (&token) : NULL;
  out->expiration = 0;
  out->source = "profile";
  return TRUE;
}

static gboolean
from_shared_file (const gchar * profile, RcxCredentials * out)
{
  g_autofree gchar *path = shared_credentials_path ();
  g_autofree gchar *contents = NULL;
  gsize length;
  gboolean found;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;
  found = rcx_credentials_parse_ini (contents, length, profile, out);
  memset (contents, 0, length);
  if (!found)
    g_debug ("No credentials for profile '%s' in %s", profile, path);
  return found;
}

/* ---- the chain -------------------------------------------------------- */

static gboolean
resolve_chain (RcxCredentialsProvider * p, RcxCredentials * out,
    GCancellable * cancellable, GError ** error)
{
  const gchar *profile = p->profile;
  g_autoptr (GError) local_error = NULL;

  if (profile == NULL)
    profile = g_getenv ("AWS_PROFILE");
  if (!rcx_credentials_is_set (profile))
    profile = "default";

  if (from_environment (out))
    return TRUE;
  if (from_shared_file (profile, out))
    return TRUE;
  if (rcx_credentials_from_container (out, cancellable, &local_error))
    return TRUE;
  if (local_error != NULL) {
    g_propagate_error (error, g_steal_pointer (&local_error));
    return FALSE;
  }
  if (rcx_credentials_from_imds (out, cancellable, &local_error))
    return TRUE;

  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_propagate_error (error, g_steal_pointer (&local_error));
    return FALSE;
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
      "No AWS credentials found (environment, profile '%s', container "
      "endpoint, instance metadata: %s)", profile, local_error->message);
  return FALSE;
}

/* A key or token with a control character would be dropped from its
 * header by libsoup (and the request sent unsigned): a configuration
 * error, named without the value. */
static gboolean
check_credentials (const RcxCredentials * creds, GError ** error)
{
  const gchar *bad = NULL;

  if (!rcx_sanitize_is_header_safe (creds->access_key))
    bad = "access key";
  else if (!rcx_sanitize_is_header_safe (creds->secret_key))
    bad = "secret key";
  else if (!rcx_sanitize_is_header_safe (creds->session_token))
    bad = "session token";
  if (bad == NULL)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
      "configuration error: the %s from the %s source holds a control "
      "character (CR/LF?)", bad, creds->source);
  return FALSE;
}

static gboolean
cached_is_fresh (RcxCredentialsProvider * p, gint64 now)
{
  return p->have_cached && (p->cached.expiration == 0
      || now < p->cached.expiration - REFRESH_MARGIN);
}

gboolean
rcx_credentials_provider_get (RcxCredentialsProvider * p,
    RcxCredentials * out, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GError) local_error = NULL;
  RcxCredentials fetched = { 0, };
  gint64 now;

  g_return_val_if_fail (p != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (out, 0, sizeof (*out));
  if (p->access_key != NULL) {
    out->access_key = g_strdup (p->access_key);
    out->secret_key = g_strdup (p->secret_key);
    out->session_token = g_strdup (p->session_token);
    out->source = "properties";
    if (!check_credentials (out, error)) {
      rcx_credentials_clear (out);
      return FALSE;
    }
    return TRUE;
  }

  g_mutex_lock (&p->lock);
  now = g_get_real_time ();
  if (cached_is_fresh (p, now)) {
    credentials_copy (out, &p->cached);
    g_mutex_unlock (&p->lock);
    return TRUE;
  }

  if (!resolve_chain (p, &fetched, cancellable, &local_error)
      || !check_credentials (&fetched, &local_error)) {
    rcx_credentials_clear (&fetched);
    /* A failed refresh keeps using credentials that have not expired
     * yet. */
    if (p->have_cached && now < p->cached.expiration
        && !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_debug ("Refreshing %s credentials failed (%s); the current ones "
          "are still valid", p->cached.source, local_error->message);
      credentials_copy (out, &p->cached);
      g_mutex_unlock (&p->lock);
      return TRUE;
    }
    g_mutex_unlock (&p->lock);
    g_propagate_error (error, g_steal_pointer (&local_error));
    return FALSE;
  }

  if (fetched.expiration != 0 && fetched.expiration - REFRESH_MARGIN <= now)
    g_debug ("Credentials from %s expire in less than the refresh margin",
        fetched.source);
  g_debug ("Using AWS credentials from the %s source", fetched.source);
  rcx_credentials_clear (&p->cached);
  p->cached = fetched;
  p->have_cached = TRUE;
  credentials_copy (out, &p->cached);
  g_mutex_unlock (&p->lock);
  return TRUE;
}

void
rcx_credentials_provider_invalidate (RcxCredentialsProvider * p)
{
  g_return_if_fail (p != NULL);

  g_mutex_lock (&p->lock);
  rcx_credentials_clear (&p->cached);
  p->have_cached = FALSE;
  g_mutex_unlock (&p->lock);
}
