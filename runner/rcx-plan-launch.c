/* rcx-plan-launch.c: a plan as a gst-launch-1.0 command line
 * (rcx-builder.h): each token quoted for gst-launch's parser and for a POSIX
 * shell, so the printed line runs as printed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-builder.h"

#include <string.h>

static gboolean
needs_quoting (const gchar * token)
{
  if (!*token)
    return TRUE;
  for (const gchar * p = token; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("_-./:=,%+@!", *p))
      return TRUE;
  }
  return FALSE;
}

static void
append_shell_word (GString * line, const gchar * token)
{
  g_string_append_c (line, ' ');
  if (needs_quoting (token)) {
    g_autofree gchar *quoted = g_shell_quote (token);
    g_string_append (line, quoted);
  } else {
    g_string_append (line, token);
  }
}

static void
append_escaped (GString * out, const gchar * value)
{
  for (const gchar * p = value; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (out, '\\');
    g_string_append_c (out, *p);
  }
}

/* Nothing in @value is special to gst-launch or to the deserializer. */
static gboolean
is_plain (const gchar * value)
{
  if (!*value || g_str_equal (value, "NULL"))
    return FALSE;
  for (const gchar * p = value; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("_-./:%+@", *p))
      return FALSE;
  }
  return TRUE;
}

gchar *
rcx_plan_launch_property (const gchar * property, const gchar * value)
{
  GString *token = g_string_new (property);
  gboolean wrap;

  if (is_plain (value)) {
    g_string_append_printf (token, "=%s", value);
    return g_string_free (token, FALSE);
  }

  /* Three readers, innermost first. The string deserializer takes "NULL"
   * as NULL and unwraps a value in double quotes: such values are wrapped
   * (escaped) once more for it. gst-launch's lexer and
   * gst_parse_unescape: the value in double quotes with '"' and '\'
   * backslash-escaped, so no '!', space, '=' or quote in it is syntax.
   * The shell: the caller quotes the whole token (single quotes). */
  wrap = g_str_equal (value, "NULL") || (value[0] == '"'
      && g_str_has_suffix (value, "\""));
  g_string_append (token, "=\"");
  if (wrap) {
    GString *inner = g_string_new ("\"");

    append_escaped (inner, value);
    g_string_append_c (inner, '"');
    append_escaped (token, inner->str);
    g_string_free (inner, TRUE);
  } else {
    append_escaped (token, value);
  }
  g_string_append_c (token, '"');
  return g_string_free (token, FALSE);
}

gchar *
rcx_plan_to_command_line (const RcxPlan * plan)
{
  GString *line = g_string_new ("gst-launch-1.0");
  guint next = 0;

  for (guint i = 0; i + 1 < plan->argv->len; i++) {
    append_shell_word (line, g_ptr_array_index (plan->argv, i));
    for (; next < plan->settings->len; next++) {
      const RcxPlanSetting *s = &g_array_index (plan->settings,
          RcxPlanSetting, next);
      g_autofree gchar *token = NULL;

      if (s->after != i)
        break;
      token = rcx_plan_launch_property (s->property, s->value);
      append_shell_word (line, token);
    }
  }
  return g_string_free (line, FALSE);
}
