/* rcx-job-message.c: job message bodies and the keys made from them (see
 * rcx-job-message.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-job-message.h"

#include <string.h>

#include "rcx-ids.h"

G_DEFINE_QUARK (rcx-job-message-error-quark, rcx_job_message_error);

static const gchar *const field_names[] = { "job_id", "media_id", "org_id" };

#define N_FIELDS G_N_ELEMENTS (field_names)

void
rcx_job_message_clear (RcxJobMessage * msg)
{
  g_clear_pointer (&msg->job_id, g_free);
  g_clear_pointer (&msg->media_id, g_free);
  g_clear_pointer (&msg->org_id, g_free);
}

static gchar **
field_slot (RcxJobMessage * msg, guint i)
{
  switch (i) {
    case 0:
      return &msg->job_id;
    case 1:
      return &msg->media_id;
    default:
      return &msg->org_id;
  }
}

/* ---- a strict, flat JSON scanner ---------------------------------------- */

typedef enum
{
  S_VALUE,
  S_VALUE_OR_END,               /* after '[' */
  S_KEY,
  S_KEY_OR_END,                 /* after '{' */
  S_COLON,
  S_NEXT,                       /* after a value inside a container */
  S_DONE,
} ScanState;

static gboolean
invalid (GError ** error, const gchar * start, const gchar * p,
    const gchar * what)
{
  g_set_error (error, RCX_JOB_MESSAGE_ERROR, RCX_JOB_MESSAGE_ERROR_INVALID,
      "not strict JSON: %s at byte %" G_GSIZE_FORMAT, what,
      (gsize) (p - start));
  return FALSE;
}

static gboolean
is_hex (gchar c)
{
  return g_ascii_isxdigit (c);
}

/* @p is at the opening quote. Sets *@after past the closing quote. */
static gboolean
scan_string (const gchar * start, const gchar * p, const gchar * end,
    const gchar ** after, gboolean * has_escape, GError ** error)
{
  *has_escape = FALSE;
  for (p++; p < end; p++) {
    guchar c = (guchar) * p;

    if (c == '"') {
      *after = p + 1;
      return TRUE;
    }
    if (c < 0x20)
      return invalid (error, start, p, "control character in a string");
    if (c != '\\')
      continue;
    *has_escape = TRUE;
    if (++p >= end)
      break;
    if (*p == 'u') {
      if (end - p < 5 || !is_hex (p[1]) || !is_hex (p[2]) || !is_hex (p[3])
          || !is_hex (p[4]))
        return invalid (error, start, p, "bad \\u escape");
      /* \u0000 would cut a C string short behind any check */
      if (strncmp (p + 1, "0000", 4) == 0)
        return invalid (error, start, p, "\\u0000 in a string");
      p += 4;
    } else if (!strchr ("\"\\/bfnrt", *p) || *p == '\0') {
      return invalid (error, start, p, "bad escape");
    }
  }
  return invalid (error, start, end, "unterminated string");
}

static const gchar *
scan_digits (const gchar * p, const gchar * end)
{
  while (p < end && g_ascii_isdigit (*p))
    p++;
  return p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static gboolean
scan_number (const gchar * start, const gchar * p, const gchar * end,
    const gchar ** after, GError ** error)
{
  const gchar *q;

  if (p < end && *p == '-')
    p++;
  if (p >= end || !g_ascii_isdigit (*p))
    return invalid (error, start, p, "bad number");
  if (*p == '0')
    p++;
  else
    p = scan_digits (p, end);
  if (p < end && *p == '.') {
    q = scan_digits (p + 1, end);
    if (q == p + 1)
      return invalid (error, start, p, "bad number");
    p = q;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    q = scan_digits (p, end);
    if (q == p)
      return invalid (error, start, p, "bad number");
    p = q;
  }
  *after = p;
  return TRUE;
}

static gboolean
scan_literal (const gchar * start, const gchar * p, const gchar * end,
    const gchar ** after, GError ** error)
{
  static const gchar *const literals[] = { "true", "false", "null" };

  for (guint i = 0; i < G_N_ELEMENTS (literals); i++) {
    gsize n = strlen (literals[i]);

    if ((gsize) (end - p) >= n && memcmp (p, literals[i], n) == 0) {
      *after = p + n;
      return TRUE;
    }
  }
  return invalid (error, start, p, "unexpected character");
}

static gint
field_index (const gchar * key, gsize len)
{
  for (guint i = 0; i < N_FIELDS; i++) {
    if (strlen (field_names[i]) == len && memcmp (key, field_names[i],
            len) == 0)
      return (gint) i;
  }
  return -1;
}

static gboolean
wrong_type (GError ** error, gint field)
{
  g_set_error (error, RCX_JOB_MESSAGE_ERROR, RCX_JOB_MESSAGE_ERROR_TYPE,
      "%s is not a string", field_names[field]);
  return FALSE;
}

static gboolean
parse_body (const gchar * data, const gchar * end, RcxJobMessage * msg,
    GError ** error)
{
  gchar stack[RCX_JOB_MESSAGE_MAX_DEPTH];
  guint depth = 0;
  ScanState state = S_VALUE;
  gint pending_key = -1;        /* one of ours, read at depth 1 */
  gint capture = -1;            /* the value being read belongs to it */
  const gchar *p = data;
  gboolean escaped;
  const gchar *after;

  for (;;) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
      p++;
    if (p >= end) {
      if (state == S_DONE)
        return TRUE;
      return invalid (error, data, p, "truncated");
    }

    switch (state) {
      case S_DONE:
        return invalid (error, data, p, "text after the object");

      case S_KEY_OR_END:
        if (*p == '}')
          goto close;
        /* fall through */
      case S_KEY:
        if (*p != '"')
          return invalid (error, data, p, "expected a member name");
        if (!scan_string (data, p, end, &after, &escaped, error))
          return FALSE;
        pending_key = depth == 1 && !escaped ?
            field_index (p + 1, after - p - 2) : -1;
        if (pending_key >= 0 && *field_slot (msg, pending_key)) {
          g_set_error (error, RCX_JOB_MESSAGE_ERROR,
              RCX_JOB_MESSAGE_ERROR_INVALID, "%s appears twice",
              field_names[pending_key]);
          return FALSE;
        }
        p = after;
        state = S_COLON;
        break;

      case S_COLON:
        if (*p != ':')
          return invalid (error, data, p, "expected ':'");
        p++;
        capture = pending_key;
        pending_key = -1;
        state = S_VALUE;
        break;

      case S_VALUE_OR_END:
        if (*p == ']')
          goto close;
        /* fall through */
      case S_VALUE:
        if (depth == 0 && *p != '{') {
          g_set_error_literal (error, RCX_JOB_MESSAGE_ERROR,
              RCX_JOB_MESSAGE_ERROR_TYPE, "the body is not a JSON object");
          return FALSE;
        }
        if (*p == '{' || *p == '[') {
          if (capture >= 0)
            return wrong_type (error, capture);
          if (depth == RCX_JOB_MESSAGE_MAX_DEPTH)
            return invalid (error, data, p, "nested too deep");
          stack[depth++] = *p;
          state = *p == '{' ? S_KEY_OR_END : S_VALUE_OR_END;
          p++;
          break;
        }
        if (*p == '"') {
          if (!scan_string (data, p, end, &after, &escaped, error))
            return FALSE;
          if (capture >= 0) {
            g_autofree gchar *value = g_strndup (p + 1, after - p - 2);

            if (escaped || !rcx_id_is_valid (value)) {
              g_set_error (error, RCX_JOB_MESSAGE_ERROR,
                  RCX_JOB_MESSAGE_ERROR_ID, "%s is not a valid id (allowed: "
                  "1-128 of A-Z a-z 0-9 _ -)", field_names[capture]);
              return FALSE;
            }
            *field_slot (msg, capture) = g_steal_pointer (&value);
          }
          p = after;
        } else if (*p == '-' || g_ascii_isdigit (*p)) {
          if (capture >= 0)
            return wrong_type (error, capture);
          if (!scan_number (data, p, end, &p, error))
            return FALSE;
        } else {
          if (capture >= 0 && (*p == 't' || *p == 'f' || *p == 'n'))
            return wrong_type (error, capture);
          if (!scan_literal (data, p, end, &p, error))
            return FALSE;
        }
        capture = -1;
        state = S_NEXT;
        break;

      case S_NEXT:
        if (*p == ',') {
          state = stack[depth - 1] == '{' ? S_KEY : S_VALUE;
          p++;
          break;
        }
        if (*p == (stack[depth - 1] == '{' ? '}' : ']'))
          goto close;
        return invalid (error, data, p, "expected ',' or the end of a "
            "container");
    }
    continue;

  close:
    depth--;
    p++;
    state = depth == 0 ? S_DONE : S_NEXT;
  }
}

gboolean
rcx_job_message_parse (const gchar * data, gsize length, RcxJobMessage * msg,
    GError ** error)
{
  g_return_val_if_fail (msg != NULL, FALSE);

  memset (msg, 0, sizeof *msg);
  if (length > RCX_JOB_MESSAGE_MAX_SIZE) {
    g_set_error (error, RCX_JOB_MESSAGE_ERROR,
        RCX_JOB_MESSAGE_ERROR_TOO_LARGE, "the body is %" G_GSIZE_FORMAT
        " bytes (at most %d)", length, RCX_JOB_MESSAGE_MAX_SIZE);
    return FALSE;
  }
  if (data == NULL || memchr (data, '\0', length)) {
    g_set_error_literal (error, RCX_JOB_MESSAGE_ERROR,
        RCX_JOB_MESSAGE_ERROR_INVALID, "the body holds a NUL byte");
    return FALSE;
  }
  if (!g_utf8_validate_len (data, length, NULL)) {
    g_set_error_literal (error, RCX_JOB_MESSAGE_ERROR,
        RCX_JOB_MESSAGE_ERROR_INVALID, "the body is not UTF-8");
    return FALSE;
  }
  if (!parse_body (data, data + length, msg, error)) {
    rcx_job_message_clear (msg);
    return FALSE;
  }
  for (guint i = 0; i < N_FIELDS; i++) {
    if (*field_slot (msg, i) == NULL) {
      g_set_error (error, RCX_JOB_MESSAGE_ERROR,
          RCX_JOB_MESSAGE_ERROR_MISSING, "%s is missing", field_names[i]);
      rcx_job_message_clear (msg);
      return FALSE;
    }
  }
  return TRUE;
}

/* ---- keys ---------------------------------------------------------------- */

gboolean
rcx_job_source_key_is_valid (const gchar * key)
{
  gsize len;
  g_auto (GStrv) segments = NULL;

  if (key == NULL || (len = strlen (key)) == 0 || len > 1024
      || !g_utf8_validate (key, -1, NULL) || key[0] == '/')
    return FALSE;
  for (const gchar * p = key; *p; p++) {
    if ((guchar) * p < 0x20 || *p == 0x7f || *p == '\\')
      return FALSE;
    if (*p == '%' && p[1] == '2' && (p[2] == 'e' || p[2] == 'E'))
      return FALSE;
  }
  segments = g_strsplit (key, "/", -1);
  for (guint i = 0; segments[i]; i++) {
    if (strcmp (segments[i], ".") == 0 || strcmp (segments[i], "..") == 0)
      return FALSE;
  }
  return TRUE;
}

/* Appends @template to @out (NULL: only check it) with @msg's ids in place
 * of the placeholders; FALSE on a stray brace or an unknown placeholder. */
static gboolean
walk_template (const gchar * template, GString * out, const RcxJobMessage * msg)
{
  const gchar *p = template;

  while (*p) {
    const gchar *brace = strpbrk (p, "{}");
    const gchar *close;
    gint field;

    if (brace == NULL) {
      if (out)
        g_string_append (out, p);
      break;
    }
    if (out)
      g_string_append_len (out, p, brace - p);
    if (*brace == '}' || (close = strchr (brace, '}')) == NULL)
      return FALSE;
    field = field_index (brace + 1, close - brace - 1);
    if (field < 0)
      return FALSE;
    if (out)
      g_string_append (out, *field_slot ((RcxJobMessage *) msg, field));
    p = close + 1;
  }
  return TRUE;
}

gboolean
rcx_job_key_template_check (const gchar * template, GError ** error)
{
  RcxJobMessage sample = {.job_id = (gchar *) "j",.media_id = (gchar *) "m",
    .org_id = (gchar *) "o"
  };
  g_autoptr (GString) out = g_string_new (NULL);

  if (template == NULL || !walk_template (template, out, &sample)) {
    g_set_error_literal (error, RCX_JOB_MESSAGE_ERROR,
        RCX_JOB_MESSAGE_ERROR_INVALID, "the key template may only hold "
        "{org_id}, {media_id} and {job_id} placeholders");
    return FALSE;
  }
  if (!rcx_job_source_key_is_valid (out->str)
      || !g_str_has_suffix (out->str, "/")) {
    g_set_error_literal (error, RCX_JOB_MESSAGE_ERROR,
        RCX_JOB_MESSAGE_ERROR_INVALID, "the key template must make a key "
        "prefix ending with '/' (no leading '/', no '.' or '..' segment)");
    return FALSE;
  }
  return TRUE;
}

gchar *
rcx_job_key_template_expand (const gchar * template, const RcxJobMessage * msg)
{
  GString *out = g_string_new (NULL);

  if (!walk_template (template, out, msg))
    g_return_val_if_reached ((g_string_free (out, TRUE), NULL));
  return g_string_free (out, FALSE);
}
