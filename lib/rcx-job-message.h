/* rcx-job-message.h: the body of a job message on the SQS queue, and the
 * object keys the worker derives from it.
 *
 * The body is the seed's: {"job_id": ID, "media_id": ID, "org_id": ID}.
 * It comes from outside: it is read with a parser of our own that accepts
 * strict JSON only (RFC 8259: no comments, no single quotes, no trailing
 * commas, no duplicate keys among ours), with a size cap and a nesting
 * cap, never recursing and never allocating more than the three ids.
 * Members other than the three are checked for syntax and ignored. The ids
 * must be plain strings (no escapes) that pass rcx_id_is_valid(), so
 * "../", "%2e%2e", NUL bytes (raw or \u0000) never reach a key, a path or
 * a filter.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RCX_JOB_MESSAGE_ERROR (rcx_job_message_error_quark ())
GQuark rcx_job_message_error_quark (void);

typedef enum {
  RCX_JOB_MESSAGE_ERROR_TOO_LARGE,      /* over RCX_JOB_MESSAGE_MAX_SIZE */
  RCX_JOB_MESSAGE_ERROR_INVALID,        /* not strict JSON / not UTF-8 / NUL */
  RCX_JOB_MESSAGE_ERROR_TYPE,   /* not an object, or an id not a string */
  RCX_JOB_MESSAGE_ERROR_MISSING,        /* an id is missing */
  RCX_JOB_MESSAGE_ERROR_ID,     /* an id is not on the allowlist */
} RcxJobMessageError;

/* Our bodies are ~130 bytes; SQS allows 256 KiB. */
#define RCX_JOB_MESSAGE_MAX_SIZE 4096
/* Arrays/objects nested deeper than this (in ignored members) are refused. */
#define RCX_JOB_MESSAGE_MAX_DEPTH 16

typedef struct {
  gchar *job_id;
  gchar *media_id;
  gchar *org_id;
} RcxJobMessage;

void rcx_job_message_clear (RcxJobMessage * msg);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RcxJobMessage, rcx_job_message_clear);

/* Parses @length bytes at @data (NUL not required; a NUL inside is an
 * error). On failure @msg is left empty and @error says why, in one line
 * that quotes nothing of the body. */
gboolean rcx_job_message_parse (const gchar * data, gsize length,
    RcxJobMessage * msg, GError ** error);

/* TRUE when @key (a media asset's source_key, from the database) may be
 * used as an S3 object key: 1-1024 bytes of UTF-8 without control
 * characters or backslashes, not starting with '/', no "." or ".."
 * segment, no percent-encoded dot. */
gboolean rcx_job_source_key_is_valid (const gchar * key);

/* Checks a destination key template: text with {org_id}, {media_id},
 * {job_id} placeholders only (no other '{' or '}'), itself a valid key
 * once expanded, ending with '/'. */
gboolean rcx_job_key_template_check (const gchar * template, GError ** error);

/* @template (checked) with the message's ids in place of its
 * placeholders. */
gchar *rcx_job_key_template_expand (const gchar * template,
    const RcxJobMessage * msg);

G_END_DECLS
