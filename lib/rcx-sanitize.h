/* rcx-sanitize.h: outside text made fit for a log line or a stored reason.
 *
 * Text that servers, object keys or files supply (an S3 <Message>, a
 * PostgREST message, a key in an error) goes through rcx_sanitize_text()
 * before it enters a log line, stderr or a job's error_reason, so that it
 * cannot forge log lines (CR, LF), drive a terminal (ESC), reorder what is
 * shown (bidirectional overrides) or grow without bound.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The cap when a caller passes 0, in bytes. */
#define RCX_SANITIZE_DEFAULT_MAX 512

/* A copy of @text (@length bytes, or up to its NUL when -1) that is valid
 * UTF-8 (invalid bytes become U+FFFD), where CR, LF, TAB and the Unicode
 * line/paragraph separators become a space, every other control character
 * (C0, DEL, C1) and the bidirectional formatting characters are dropped,
 * and which is at most @max_bytes long (0: RCX_SANITIZE_DEFAULT_MAX; cut on
 * a character boundary, ending in "..." when cut). NULL for NULL. */
gchar *rcx_sanitize_text (const gchar * text, gssize length, gsize max_bytes);

/* TRUE when @value holds no control character (C0 or DEL): what an HTTP
 * header value, and so a key or token sent in one, may hold. */
gboolean rcx_sanitize_is_header_safe (const gchar * value);

G_END_DECLS
