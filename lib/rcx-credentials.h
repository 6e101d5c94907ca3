/* rcx-credentials.h: the AWS credentials chain.
 *
 * Order: explicit values -> environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) -> shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE or
 * "default") -> ECS container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 * on 169.254.170.2, or AWS_CONTAINER_CREDENTIALS_FULL_URI) -> EC2 IMDSv2
 * (AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the address,
 * AWS_EC2_METADATA_DISABLED=true skips it).
 * Temporary credentials are refreshed 5 minutes before they expire.
 * Secrets are never logged. Thread-safe.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  gchar *access_key;
  gchar *secret_key;
  gchar *session_token;         /* NULL if none */
  gint64 expiration;            /* g_get_real_time() microseconds; 0 = never */
  const gchar *source;          /* "properties", "environment", "profile", "container", "imds" */
} RcxCredentials;

void rcx_credentials_clear (RcxCredentials * creds);

typedef struct _RcxCredentialsProvider RcxCredentialsProvider;

/* Any argument may be NULL. @access_key and @secret_key given together win
 * over everything else. @profile NULL means $AWS_PROFILE or "default". */
RcxCredentialsProvider *rcx_credentials_provider_new (const gchar * access_key,
    const gchar * secret_key, const gchar * session_token,
    const gchar * profile);
RcxCredentialsProvider *rcx_credentials_provider_ref (RcxCredentialsProvider * p);
void rcx_credentials_provider_unref (RcxCredentialsProvider * p);

/* Fills @out with a copy of current credentials (cached; fetched or
 * refreshed when needed). G_IO_ERROR_NOT_FOUND when no source has any. */
gboolean rcx_credentials_provider_get (RcxCredentialsProvider * p,
    RcxCredentials * out, GCancellable * cancellable, GError ** error);

/* Forget cached temporary credentials (after an ExpiredToken answer). */
void rcx_credentials_provider_invalidate (RcxCredentialsProvider * p);

/* ---- parsers of outside bytes (used by the chain; public for tests and
 * fuzzing) ---- */

/* The container endpoint's / IMDS's JSON answer (at most 64 KiB, depth
 * checked: rcx-json.h). Fills @out (its source is @source, a static
 * string). */
gboolean rcx_credentials_parse_json (const gchar * data, gsize length,
    const gchar * source, RcxCredentials * out, GError ** error);

/* The shared credentials file's text: TRUE with @out filled when
 * @profile has both keys. */
gboolean rcx_credentials_parse_ini (const gchar * data, gsize length,
    const gchar * profile, RcxCredentials * out);

/* IMDS's role listing: the first role name, or NULL when there is none or
 * it holds characters an IAM role name cannot. */
gchar *rcx_credentials_parse_imds_role (const gchar * data, gsize length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxCredentialsProvider,
    rcx_credentials_provider_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RcxCredentials, rcx_credentials_clear)

G_END_DECLS
