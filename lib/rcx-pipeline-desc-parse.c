/* rcx-pipeline-desc-parse.c: parsing and validating pipelines/<name>.json
 * (rcx-pipeline-desc.h).
 *
 * The parser walks the JSON once, object by object, with a path string
 * ("ladder[1]") so that every error names the field it is about.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-pipeline-desc.h"
#include "rcx-pipeline-desc-private.h"
#include "rcx-ids.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static const gchar *const rung_variables[] = {
  "bitrate", "peak-bitrate", "bitrate-bps", "peak-bitrate-bps", "vbv-ms",
  "gop-frames", "gop-seconds", "width", "height", NULL
};

static const gchar *const audio_variables[] = {
  "bitrate", "bitrate-bps", "rate", "channels", NULL
};

/* ---- small helpers ----------------------------------------------------- */

/* Sets an INVALID error "<path>.<key>: <why>" and returns FALSE. */
static gboolean
invalid (GError ** error, const gchar * path, const gchar * key,
    const gchar * format, ...)
{
  va_list args;
  g_autofree gchar *why = NULL;
  g_autofree gchar *field = NULL;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);

  if (path && *path && key)
    field = g_strdup_printf ("%s.%s", path, key);
  else
    field = g_strdup (key ? key : (path && *path ? path : "(top level)"));

  g_set_error (error, RCX_PIPELINE_DESC_ERROR,
      RCX_PIPELINE_DESC_ERROR_INVALID, "%s: %s", field, why);
  return FALSE;
}

/* Refuses members of @object that are not in @known. */
static gboolean
check_fields (JsonObject * object, const gchar * path,
    const gchar * const *known, GError ** error)
{
  g_autoptr (GList) members = json_object_get_members (object);

  for (GList * l = members; l; l = l->next) {
    if (!g_strv_contains (known, l->data))
      return invalid (error, path, l->data, "unknown field");
  }
  return TRUE;
}

gboolean
rcx_pipeline_desc_is_name (const gchar * s, const gchar * extra)
{
  if (!s || !*s)
    return FALSE;
  for (const gchar * p = s; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr (extra, *p))
      return FALSE;
  }
  return TRUE;
}

/* A file name inside the destination: no '/', no "." / "..". */
static gboolean
is_file_name (const gchar * s)
{
  return rcx_pipeline_desc_is_name (s, "._-") && strcmp (s, ".") != 0
      && strcmp (s, "..") != 0;
}

static JsonNode *
get_member (JsonObject * object, const gchar * key)
{
  JsonNode *node = json_object_get_member (object, key);

  if (node && JSON_NODE_HOLDS_NULL (node))
    return NULL;
  return node;
}

static gboolean
get_string (JsonObject * object, const gchar * path, const gchar * key,
    gboolean required, gchar ** out, GError ** error)
{
  JsonNode *node = get_member (object, key);

  if (!node) {
    if (required)
      return invalid (error, path, key, "missing (a string)");
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return invalid (error, path, key, "must be a string");
  if (*json_node_get_string (node) == '\0')
    return invalid (error, path, key, "must not be empty");

  g_free (*out);
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

static gboolean
get_number (JsonObject * object, const gchar * path, const gchar * key,
    gboolean required, gdouble * out, GError ** error)
{
  JsonNode *node = get_member (object, key);
  GType type;

  if (!node) {
    if (required)
      return invalid (error, path, key, "missing (a number)");
    return TRUE;
  }
  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : 0;
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return invalid (error, path, key, "must be a number");
  *out = json_node_get_double (node);
  return TRUE;
}

/* An integer in [min, max]; @why describes the range in the error. */
static gboolean
get_uint (JsonObject * object, const gchar * path, const gchar * key,
    gboolean required, guint min, guint max, const gchar * why,
    guint * out, GError ** error)
{
  JsonNode *node = get_member (object, key);
  gint64 v;

  if (!node) {
    if (required)
      return invalid (error, path, key, "missing (%s)", why);
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return invalid (error, path, key, "must be %s", why);
  v = json_node_get_int (node);
  if (v < min || v > max)
    return invalid (error, path, key, "must be %s", why);
  *out = v;
  return TRUE;
}

static gboolean
get_boolean (JsonObject * object, const gchar * path, const gchar * key,
    gboolean * out, GError ** error)
{
  JsonNode *node = get_member (object, key);

  if (!node)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return invalid (error, path, key, "must be true or false");
  *out = json_node_get_boolean (node);
  return TRUE;
}

static JsonObject *
get_object (JsonObject * object, const gchar * path, const gchar * key,
    gboolean required, GError ** error)
{
  JsonNode *node = get_member (object, key);

  if (!node) {
    /* Absent and optional: NULL without an error. */
    if (required)
      invalid (error, path, key, "missing (an object)");
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    invalid (error, path, key, "must be an object");
    return NULL;
  }
  return json_node_get_object (node);
}

static JsonArray *
get_array (JsonObject * object, const gchar * path, const gchar * key,
    GError ** error)
{
  JsonNode *node = get_member (object, key);

  if (!node) {
    invalid (error, path, key, "missing (an array)");
    return NULL;
  }
  if (!JSON_NODE_HOLDS_ARRAY (node)) {
    invalid (error, path, key, "must be an array");
    return NULL;
  }
  if (json_array_get_length (json_node_get_array (node)) == 0) {
    invalid (error, path, key, "must not be empty");
    return NULL;
  }
  return json_node_get_array (node);
}

/* Checks that every ${name} in @value is one of @known. */
static gboolean
check_references (const gchar * value, const gchar * const *known,
    const gchar * path, const gchar * key, GError ** error)
{
  const gchar *p = value;

  while ((p = strstr (p, "${"))) {
    const gchar *end = strchr (p + 2, '}');
    g_autofree gchar *name = NULL;

    if (!end)
      return invalid (error, path, key, "unterminated ${ reference");
    name = g_strndup (p + 2, end - p - 2);
    if (!g_strv_contains (known, name)) {
      g_autofree gchar *list = g_strjoinv (", ", (gchar **) known);
      return invalid (error, path, key,
          "unknown variable ${%s} (known: %s)", name, list);
    }
    p = end + 1;
  }
  return TRUE;
}

/* "properties": { "name": scalar, ... } -> RcxPropertyDesc[] in order. */
static gboolean
parse_properties (JsonObject * parent, const gchar * path,
    const gchar * const *variables, RcxPropertyDesc ** out, guint * n_out,
    GError ** error)
{
  JsonNode *node = get_member (parent, "properties");
  g_autofree gchar *ppath = g_strdup_printf ("%s.properties", path);
  JsonObject *object;
  g_autoptr (GList) members = NULL;
  guint i = 0;

  *out = NULL;
  *n_out = 0;
  if (!node)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, path, "properties", "must be an object");

  object = json_node_get_object (node);
  members = json_object_get_members (object);
  *out = g_new0 (RcxPropertyDesc, g_list_length (members));
  for (GList * l = members; l; l = l->next, i++) {
    const gchar *name = l->data;
    JsonNode *value = json_object_get_member (object, name);
    RcxPropertyDesc *prop = &(*out)[i];
    GType type;

    *n_out = i + 1;
    prop->name = g_strdup (name);
    if (!rcx_pipeline_desc_is_name (name, "-_") || !g_ascii_isalpha (name[0]))
      return invalid (error, ppath, name, "not a property name");
    if (strcmp (name, "name") == 0 || strcmp (name, "parent") == 0)
      return invalid (error, ppath, name, "must not be set here");
    if (!JSON_NODE_HOLDS_VALUE (value))
      return invalid (error, ppath, name,
          "must be a string, a number or true/false");

    type = json_node_get_value_type (value);
    if (type == G_TYPE_STRING) {
      prop->value = g_strdup (json_node_get_string (value));
      if (!check_references (prop->value, variables, ppath, name, error))
        return FALSE;
    } else if (type == G_TYPE_INT64) {
      prop->value = g_strdup_printf ("%" G_GINT64_FORMAT,
          json_node_get_int (value));
    } else if (type == G_TYPE_BOOLEAN) {
      prop->value = g_strdup (json_node_get_boolean (value) ? "true" : "false");
    } else {
      gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
      prop->value = g_strdup (g_ascii_dtostr (buf, sizeof buf,
              json_node_get_double (value)));
    }
  }
  return TRUE;
}

/* ---- sections ---------------------------------------------------------- */

static gboolean
parse_ladder (RcxPipelineDesc * desc, JsonObject * root, GError ** error)
{
  static const gchar *const fields[] = {
    "name", "height", "bitrate", "peak-bitrate", NULL
  };
  JsonArray *array = get_array (root, NULL, "ladder", error);

  if (!array)
    return FALSE;

  desc->ladder = g_new0 (RcxRungDesc, json_array_get_length (array));
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *node = json_array_get_element (array, i);
    g_autofree gchar *path = g_strdup_printf ("ladder[%u]", i);
    RcxRungDesc *rung = &desc->ladder[i];
    JsonObject *object;

    desc->n_rungs = i + 1;
    if (!JSON_NODE_HOLDS_OBJECT (node))
      return invalid (error, path, NULL, "must be an object");
    object = json_node_get_object (node);
    if (!check_fields (object, path, fields, error))
      return FALSE;

    if (!get_string (object, path, "name", TRUE, &rung->name, error))
      return FALSE;
    if (!rcx_pipeline_desc_is_name (rung->name, "_-"))
      return invalid (error, path, "name",
          "must be letters, digits, '_' or '-' (it names a folder)");
    for (guint j = 0; j < i; j++) {
      if (strcmp (desc->ladder[j].name, rung->name) == 0)
        return invalid (error, path, "name", "\"%s\" is already ladder[%u]",
            rung->name, j);
    }

    if (!get_uint (object, path, "height", TRUE, 2, 4320,
            "a positive even number", &rung->height, error))
      return FALSE;
    if (rung->height % 2 != 0)
      return invalid (error, path, "height", "must be a positive even number");
    if (i > 0 && rung->height >= desc->ladder[i - 1].height)
      return invalid (error, path, "height",
          "must be lower than ladder[%u].height (%u): rungs go from the "
          "highest to the lowest", i - 1, desc->ladder[i - 1].height);

    if (!get_uint (object, path, "bitrate", TRUE, 1, 500000,
            "a positive number of kbit/s", &rung->bitrate, error))
      return FALSE;
    rung->peak_bitrate = rung->bitrate;
    if (!get_uint (object, path, "peak-bitrate", FALSE, 1, 1000000,
            "a positive number of kbit/s", &rung->peak_bitrate, error))
      return FALSE;
    if (rung->peak_bitrate < rung->bitrate)
      return invalid (error, path, "peak-bitrate",
          "must be at least the bitrate (%u)", rung->bitrate);
  }
  return TRUE;
}

static gboolean
parse_audio (RcxPipelineDesc * desc, JsonObject * root, GError ** error)
{
  static const gchar *const fields[] = {
    "bitrate", "rate", "channels", "encoders", NULL
  };
  static const gchar *const encoder_fields[] = {
    "element", "properties", NULL
  };
  JsonObject *audio = get_object (root, NULL, "audio", TRUE, error);
  JsonArray *array;

  if (!audio)
    return FALSE;
  if (!check_fields (audio, "audio", fields, error))
    return FALSE;

  desc->audio.bitrate = 128;
  desc->audio.rate = 48000;
  desc->audio.channels = 2;
  if (!get_uint (audio, "audio", "bitrate", FALSE, 8, 1024,
          "a number of kbit/s in 8..1024", &desc->audio.bitrate, error)
      || !get_uint (audio, "audio", "rate", FALSE, 8000, 96000,
          "a sample rate in 8000..96000", &desc->audio.rate, error)
      || !get_uint (audio, "audio", "channels", FALSE, 1, 8,
          "a number of channels in 1..8", &desc->audio.channels, error))
    return FALSE;

  if (!(array = get_array (audio, "audio", "encoders", error)))
    return FALSE;
  desc->audio.encoders = g_new0 (RcxAudioEncoderDesc,
      json_array_get_length (array));
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *node = json_array_get_element (array, i);
    g_autofree gchar *path = g_strdup_printf ("audio.encoders[%u]", i);
    RcxAudioEncoderDesc *enc = &desc->audio.encoders[i];
    JsonObject *object;

    desc->audio.n_encoders = i + 1;
    if (!JSON_NODE_HOLDS_OBJECT (node))
      return invalid (error, path, NULL, "must be an object");
    object = json_node_get_object (node);
    if (!check_fields (object, path, encoder_fields, error)
        || !get_string (object, path, "element", TRUE, &enc->element, error))
      return FALSE;
    if (!rcx_pipeline_desc_is_name (enc->element, "_-"))
      return invalid (error, path, "element", "not an element factory name");
    if (!parse_properties (object, path, audio_variables, &enc->properties,
            &enc->n_properties, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
parse_thumbnail (RcxPipelineDesc * desc, JsonObject * root, GError ** error)
{
  static const gchar *const fields[] = { "position", "width", "name", NULL };
  JsonObject *thumb;
  g_autoptr (GError) local = NULL;

  desc->thumbnail.position = 0.10;
  desc->thumbnail.width = 640;
  desc->thumbnail.name = g_strdup ("thumbnail.jpg");

  thumb = get_object (root, NULL, "thumbnail", FALSE, &local);
  if (!thumb) {
    if (local) {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
    return TRUE;
  }
  if (!check_fields (thumb, "thumbnail", fields, error))
    return FALSE;
  if (!get_number (thumb, "thumbnail", "position", FALSE,
          &desc->thumbnail.position, error))
    return FALSE;
  if (!(desc->thumbnail.position >= 0.0 && desc->thumbnail.position < 1.0))
    return invalid (error, "thumbnail", "position",
        "must be a fraction of the duration in [0, 1)");
  if (!get_uint (thumb, "thumbnail", "width", FALSE, 2, 7680,
          "a positive even number", &desc->thumbnail.width, error))
    return FALSE;
  if (desc->thumbnail.width % 2 != 0)
    return invalid (error, "thumbnail", "width",
        "must be a positive even number");
  if (!get_string (thumb, "thumbnail", "name", FALSE, &desc->thumbnail.name,
          error))
    return FALSE;
  if (!is_file_name (desc->thumbnail.name))
    return invalid (error, "thumbnail", "name",
        "must be a file name (letters, digits, '.', '_', '-')");
  return TRUE;
}

/* "decoder"/"scaler": { "element": ..., "<caps_key>": ... } */
static gboolean
parse_element_ref (JsonObject * object, const gchar * path,
    const gchar * key, const gchar * caps_key, gboolean required,
    gchar ** element, gchar ** caps, GError ** error)
{
  const gchar *fields[] = { "element", caps_key, NULL };
  g_autofree gchar *epath = g_strdup_printf ("%s.%s", path, key);
  g_autoptr (GError) local = NULL;
  JsonObject *ref = get_object (object, path, key, required, &local);

  if (!ref) {
    if (local) {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
    return TRUE;
  }
  if (!check_fields (ref, epath, fields, error)
      || !get_string (ref, epath, "element", TRUE, element, error)
      || !get_string (ref, epath, caps_key, TRUE, caps, error))
    return FALSE;
  if (!rcx_pipeline_desc_is_name (*element, "_-"))
    return invalid (error, epath, "element", "not an element factory name");
  return TRUE;
}

static gboolean
parse_encoders (RcxPipelineDesc * desc, JsonObject * root, GError ** error)
{
  static const gchar *const fields[] = {
    "name", "hardware", "element", "decoder", "upload", "scaler",
    "output-caps", "properties", NULL
  };
  JsonArray *array = get_array (root, NULL, "encoders", error);

  if (!array)
    return FALSE;

  desc->encoders = g_new0 (RcxEncoderDesc, json_array_get_length (array));
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *node = json_array_get_element (array, i);
    g_autofree gchar *path = g_strdup_printf ("encoders[%u]", i);
    RcxEncoderDesc *enc = &desc->encoders[i];
    JsonObject *object;

    desc->n_encoders = i + 1;
    if (!JSON_NODE_HOLDS_OBJECT (node))
      return invalid (error, path, NULL, "must be an object");
    object = json_node_get_object (node);
    if (!check_fields (object, path, fields, error))
      return FALSE;

    if (!get_string (object, path, "element", TRUE, &enc->element, error))
      return FALSE;
    if (!rcx_pipeline_desc_is_name (enc->element, "_-"))
      return invalid (error, path, "element", "not an element factory name");
    enc->name = g_strdup (enc->element);
    if (!get_string (object, path, "name", FALSE, &enc->name, error))
      return FALSE;
    if (!rcx_pipeline_desc_is_name (enc->name, "_-"))
      return invalid (error, path, "name",
          "must be letters, digits, '_' or '-'");
    for (guint j = 0; j < i; j++) {
      if (strcmp (desc->encoders[j].name, enc->name) == 0)
        return invalid (error, path, "name", "\"%s\" is already encoders[%u]",
            enc->name, j);
    }

    if (!get_string (object, path, "hardware", FALSE, &enc->hardware, error))
      return FALSE;
    if (enc->hardware && strcmp (enc->hardware, "nvidia") != 0)
      return invalid (error, path, "hardware",
          "must be \"nvidia\" (or absent for software)");

    if (!parse_element_ref (object, path, "decoder", "input-caps", FALSE,
            &enc->decoder, &enc->decoder_input_caps, error)
        || !parse_element_ref (object, path, "scaler", "caps", TRUE,
            &enc->scaler, &enc->scaler_caps, error))
      return FALSE;
    if (!get_string (object, path, "upload", FALSE, &enc->upload, error))
      return FALSE;
    if (enc->upload && !rcx_pipeline_desc_is_name (enc->upload, "_-"))
      return invalid (error, path, "upload", "not an element factory name");
    if (!get_string (object, path, "output-caps", FALSE, &enc->output_caps,
            error))
      return FALSE;

    if (enc->hardware) {
      /* The full-GPU path keeps frames in device memory from the decoder to
       * the encoder: the scaler must say so in its caps. */
      if (!strstr (enc->scaler_caps, "(memory:"))
        return invalid (error, path, "scaler.caps",
            "a hardware encoder needs device-memory caps, e.g. "
            "video/x-raw(memory:CUDAMemory)");
      if (!enc->upload)
        return invalid (error, path, "upload",
            "a hardware encoder needs an upload element for frames that a "
            "software decoder produced, e.g. cudaupload");
    }

    if (!parse_properties (object, path, rung_variables, &enc->properties,
            &enc->n_properties, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
parse_output (RcxPipelineDesc * desc, JsonObject * root, GError ** error)
{
  static const gchar *const fields[] = {
    "master", "rung-folder", "playlist", "iframe-playlist", "segment",
    "publish-live", NULL
  };
  JsonObject *output;
  g_autoptr (GError) local = NULL;

  desc->output.master = g_strdup ("master.m3u8");
  desc->output.rung_folder = g_strdup ("{name}");
  desc->output.playlist = g_strdup ("index.m3u8");
  desc->output.iframe_playlist = g_strdup ("iframes.m3u8");
  desc->output.segment = g_strdup ("segment%05d.ts");
  desc->output.publish_live = TRUE;

  output = get_object (root, NULL, "output", FALSE, &local);
  if (!output) {
    if (local) {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
    return TRUE;
  }
  if (!check_fields (output, "output", fields, error)
      || !get_string (output, "output", "master", FALSE, &desc->output.master,
          error)
      || !get_string (output, "output", "rung-folder", FALSE,
          &desc->output.rung_folder, error)
      || !get_string (output, "output", "playlist", FALSE,
          &desc->output.playlist, error)
      || !get_string (output, "output", "iframe-playlist", FALSE,
          &desc->output.iframe_playlist, error)
      || !get_string (output, "output", "segment", FALSE,
          &desc->output.segment, error)
      || !get_boolean (output, "output", "publish-live",
          &desc->output.publish_live, error))
    return FALSE;

  if (!is_file_name (desc->output.master)
      || !g_str_has_suffix (desc->output.master, ".m3u8"))
    return invalid (error, "output", "master",
        "must be a file name ending in .m3u8");
  if (!is_file_name (desc->output.playlist)
      || !g_str_has_suffix (desc->output.playlist, ".m3u8"))
    return invalid (error, "output", "playlist",
        "must be a file name ending in .m3u8");
  if (!is_file_name (desc->output.iframe_playlist)
      || !g_str_has_suffix (desc->output.iframe_playlist, ".m3u8"))
    return invalid (error, "output", "iframe-playlist",
        "must be a file name ending in .m3u8");
  if (strcmp (desc->output.playlist, desc->output.iframe_playlist) == 0)
    return invalid (error, "output", "iframe-playlist",
        "must differ from output.playlist");

  if (!strstr (desc->output.rung_folder, "{name}")
      && !strstr (desc->output.rung_folder, "{height}"))
    return invalid (error, "output", "rung-folder",
        "must contain {name} or {height} (one folder per rung)");
  {
    g_autofree gchar *probe = NULL;
    GString *s = g_string_new (desc->output.rung_folder);

    g_string_replace (s, "{name}", "x", 0);
    g_string_replace (s, "{height}", "1", 0);
    probe = g_string_free (s, FALSE);
    if (!is_file_name (probe))
      return invalid (error, "output", "rung-folder",
          "must be one folder name (letters, digits, '.', '_', '-', "
          "{name}, {height})");
  }

  /* The sink's own check (rcx-ids.c), and a file name ending in .ts. */
  if (!rcx_segment_name_is_valid (desc->output.segment)
      || strchr (desc->output.segment, '/')
      || !g_str_has_suffix (desc->output.segment, ".ts"))
    return invalid (error, "output", "segment",
        "must be a file name ending in .ts with one %%d or %%05d "
        "(the segment index)");
  return TRUE;
}

gboolean
rcx_pipeline_desc_parse_root (RcxPipelineDesc * desc, JsonNode * root_node,
    GError ** error)
{
  static const gchar *const fields[] = {
    "name", "description", "gop-seconds", "segment-seconds",
    "max-frame-rate", "ladder", "audio", "thumbnail", "encoders", "output",
    NULL
  };
  JsonObject *root;
  gdouble ratio;

  if (!root_node || !JSON_NODE_HOLDS_OBJECT (root_node))
    return invalid (error, NULL, NULL, "must be a JSON object");
  root = json_node_get_object (root_node);
  if (!check_fields (root, NULL, fields, error))
    return FALSE;

  if (!get_string (root, NULL, "name", FALSE, &desc->name, error)
      || !get_string (root, NULL, "description", FALSE, &desc->description,
          error))
    return FALSE;

  if (!get_number (root, NULL, "gop-seconds", TRUE, &desc->gop_seconds, error))
    return FALSE;
  if (!(desc->gop_seconds >= 0.1 && desc->gop_seconds <= 20.0))
    return invalid (error, NULL, "gop-seconds",
        "must be a number of seconds in 0.1..20");
  if (!get_number (root, NULL, "segment-seconds", TRUE,
          &desc->segment_seconds, error))
    return FALSE;
  if (!(desc->segment_seconds >= 1.0 && desc->segment_seconds <= 60.0))
    return invalid (error, NULL, "segment-seconds",
        "must be a number of seconds in 1..60");
  ratio = desc->segment_seconds / desc->gop_seconds;
  if (ratio < 1.0 - 1e-9 || fabs (ratio - round (ratio)) > 1e-6)
    return invalid (error, NULL, "segment-seconds",
        "must be a whole multiple of gop-seconds (%g), so that every "
        "segment starts on a keyframe", desc->gop_seconds);

  desc->max_frame_rate = 60;
  if (!get_uint (root, NULL, "max-frame-rate", FALSE, 1, 240,
          "a number of frames per second in 1..240", &desc->max_frame_rate,
          error))
    return FALSE;

  return parse_ladder (desc, root, error)
      && parse_audio (desc, root, error)
      && parse_thumbnail (desc, root, error)
      && parse_encoders (desc, root, error)
      && parse_output (desc, root, error);
}
