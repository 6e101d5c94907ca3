/* rcx-pipeline-desc.c: loading pipelines/<name>.json (from bytes, a file or
 * a name on the search path), freeing it, and what callers ask of a loaded
 * description: rung folders, GOP frames, the ${variables} of a rung or of
 * the audio and their expansion. The JSON walker that validates it is
 * rcx-pipeline-desc-parse.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-pipeline-desc.h"
#include "rcx-pipeline-desc-private.h"
#include "rcx-ids.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "rcx-json.h"

G_DEFINE_QUARK (rcx-pipeline-desc-error-quark, rcx_pipeline_desc_error);

/* ---- public API -------------------------------------------------------- */

/* A description is a few KiB; this leaves room for comments. */
#define RCX_PIPELINE_DESC_MAX_SIZE ((gsize) 1024 * 1024)

RcxPipelineDesc *
rcx_pipeline_desc_new_from_data (const gchar * data, gssize length,
    GError ** error)
{
  g_autoptr (RcxPipelineDesc) desc = g_new0 (RcxPipelineDesc, 1);
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) root = NULL;

  if (length < 0)
    length = data ? strlen (data) : 0;
  /* size and depth checked before json-glib recurses into it */
  root = rcx_json_parse (data, length, RCX_PIPELINE_DESC_MAX_SIZE, &local);
  if (root == NULL) {
    g_set_error (error, RCX_PIPELINE_DESC_ERROR,
        RCX_PIPELINE_DESC_ERROR_PARSE, "not valid JSON: %s", local->message);
    return NULL;
  }
  if (!rcx_pipeline_desc_parse_root (desc, root, error))
    return NULL;
  return g_steal_pointer (&desc);
}

RcxPipelineDesc *
rcx_pipeline_desc_new_from_file (const gchar * path, GError ** error)
{
  g_autofree gchar *data = NULL;
  gsize length;
  g_autoptr (GError) local = NULL;
  RcxPipelineDesc *desc;

  if (!g_file_get_contents (path, &data, &length, &local)) {
    g_set_error (error, RCX_PIPELINE_DESC_ERROR,
        RCX_PIPELINE_DESC_ERROR_PARSE, "%s", local->message);
    return NULL;
  }
  desc = rcx_pipeline_desc_new_from_data (data, length, &local);
  if (!desc) {
    g_set_error (error, RCX_PIPELINE_DESC_ERROR, local->code, "%s: %s",
        path, local->message);
    return NULL;
  }
  if (!desc->name)
    desc->name = g_path_get_basename (path);
  return desc;
}

static void
properties_free (RcxPropertyDesc * props, guint n)
{
  for (guint i = 0; i < n; i++) {
    g_free (props[i].name);
    g_free (props[i].value);
  }
  g_free (props);
}

void
rcx_pipeline_desc_free (RcxPipelineDesc * desc)
{
  if (!desc)
    return;
  g_free (desc->name);
  g_free (desc->description);
  for (guint i = 0; i < desc->n_rungs; i++)
    g_free (desc->ladder[i].name);
  g_free (desc->ladder);
  for (guint i = 0; i < desc->audio.n_encoders; i++) {
    g_free (desc->audio.encoders[i].element);
    properties_free (desc->audio.encoders[i].properties,
        desc->audio.encoders[i].n_properties);
  }
  g_free (desc->audio.encoders);
  g_free (desc->thumbnail.name);
  for (guint i = 0; i < desc->n_encoders; i++) {
    RcxEncoderDesc *enc = &desc->encoders[i];
    g_free (enc->name);
    g_free (enc->hardware);
    g_free (enc->element);
    g_free (enc->decoder);
    g_free (enc->decoder_input_caps);
    g_free (enc->upload);
    g_free (enc->scaler);
    g_free (enc->scaler_caps);
    g_free (enc->output_caps);
    properties_free (enc->properties, enc->n_properties);
  }
  g_free (desc->encoders);
  g_free (desc->output.master);
  g_free (desc->output.rung_folder);
  g_free (desc->output.playlist);
  g_free (desc->output.iframe_playlist);
  g_free (desc->output.segment);
  g_free (desc);
}

gchar *
rcx_pipeline_desc_find (const gchar * name_or_path,
    const gchar * const *search_dirs, GError ** error)
{
  g_autofree gchar *file = NULL;
  const gchar *env;

  if (!name_or_path)
    name_or_path = RCX_PIPELINE_DESC_DEFAULT_NAME;

  if (strchr (name_or_path, '/') || g_str_has_suffix (name_or_path, ".json")) {
    if (g_file_test (name_or_path, G_FILE_TEST_IS_REGULAR))
      return g_strdup (name_or_path);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "%s: no such pipeline description file", name_or_path);
    return NULL;
  }

  if (!rcx_pipeline_desc_is_name (name_or_path, "_-.")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "%s: not a pipeline description name", name_or_path);
    return NULL;
  }

  file = g_strconcat (name_or_path, ".json", NULL);
  env = g_getenv ("RCX_PIPELINES_DIR");
  if (env && *env) {
    g_autofree gchar *path = g_build_filename (env, file, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
      return g_steal_pointer (&path);
  }
  for (guint i = 0; search_dirs && search_dirs[i]; i++) {
    g_autofree gchar *path = g_build_filename (search_dirs[i], file, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
      return g_steal_pointer (&path);
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
      "no pipeline description named \"%s\" (looked in $RCX_PIPELINES_DIR "
      "and the installed pipelines folder)", name_or_path);
  return NULL;
}

gchar *
rcx_pipeline_desc_rung_folder (const RcxPipelineDesc * desc,
    const RcxRungDesc * rung)
{
  GString *s = g_string_new (desc->output.rung_folder);
  g_autofree gchar *height = g_strdup_printf ("%u", rung->height);

  g_string_replace (s, "{name}", rung->name, 0);
  g_string_replace (s, "{height}", height, 0);
  return g_string_free (s, FALSE);
}

guint
rcx_pipeline_desc_gop_frames (const RcxPipelineDesc * desc, gint fps_n,
    gint fps_d)
{
  gdouble frames;

  if (fps_n <= 0 || fps_d <= 0)
    return MAX (1, (guint) round (desc->gop_seconds * 30));
  frames = round (desc->gop_seconds * fps_n / fps_d);
  return MAX (1, (guint) frames);
}

static void
set_uint (GHashTable * vars, const gchar * name, guint64 value)
{
  g_hash_table_insert (vars, g_strdup (name),
      g_strdup_printf ("%" G_GUINT64_FORMAT, value));
}

GHashTable *
rcx_pipeline_desc_rung_variables (const RcxPipelineDesc * desc,
    const RcxRungDesc * rung, guint width, guint height, gint fps_n, gint fps_d)
{
  GHashTable *vars = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  guint64 vbv_ms;

  vbv_ms = (guint64) round (1000.0 * desc->gop_seconds *
      (rung->peak_bitrate - rung->bitrate) / rung->bitrate);

  set_uint (vars, "bitrate", rung->bitrate);
  set_uint (vars, "peak-bitrate", rung->peak_bitrate);
  set_uint (vars, "bitrate-bps", (guint64) rung->bitrate * 1000);
  set_uint (vars, "peak-bitrate-bps", (guint64) rung->peak_bitrate * 1000);
  set_uint (vars, "vbv-ms", MAX (vbv_ms, 1));
  set_uint (vars, "gop-frames", rcx_pipeline_desc_gop_frames (desc, fps_n,
          fps_d));
  g_hash_table_insert (vars, g_strdup ("gop-seconds"),
      g_strdup (g_ascii_dtostr (buf, sizeof buf, desc->gop_seconds)));
  set_uint (vars, "width", width);
  set_uint (vars, "height", height);
  return vars;
}

GHashTable *
rcx_pipeline_desc_audio_variables (const RcxPipelineDesc * desc)
{
  GHashTable *vars = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);

  set_uint (vars, "bitrate", desc->audio.bitrate);
  set_uint (vars, "bitrate-bps", (guint64) desc->audio.bitrate * 1000);
  set_uint (vars, "rate", desc->audio.rate);
  set_uint (vars, "channels", desc->audio.channels);
  return vars;
}

gchar *
rcx_pipeline_desc_expand (const gchar * value, GHashTable * variables,
    GError ** error)
{
  GString *out = g_string_new (NULL);
  const gchar *p = value;
  const gchar *ref;

  while ((ref = strstr (p, "${"))) {
    const gchar *end = strchr (ref + 2, '}');
    g_autofree gchar *name = NULL;
    const gchar *v;

    if (!end) {
      g_set_error (error, RCX_PIPELINE_DESC_ERROR,
          RCX_PIPELINE_DESC_ERROR_INVALID, "%s: unterminated ${ reference",
          value);
      g_string_free (out, TRUE);
      return NULL;
    }
    name = g_strndup (ref + 2, end - ref - 2);
    v = variables ? g_hash_table_lookup (variables, name) : NULL;
    if (!v) {
      g_set_error (error, RCX_PIPELINE_DESC_ERROR,
          RCX_PIPELINE_DESC_ERROR_INVALID, "%s: unknown variable ${%s}",
          value, name);
      g_string_free (out, TRUE);
      return NULL;
    }
    g_string_append_len (out, p, ref - p);
    g_string_append (out, v);
    p = end + 1;
  }
  g_string_append (out, p);
  return g_string_free (out, FALSE);
}
