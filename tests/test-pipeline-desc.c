/* Unit tests of rcx-pipeline-desc: the shipped descriptions parse, and every
 * validation rule names the field it is about.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gio/gio.h>
#include <string.h>

#include "rcx-pipeline-desc.h"

static gchar *
source_path (const gchar * rel)
{
  const gchar *src = g_getenv ("RCX_SOURCE_DIR");

  g_assert_nonnull (src);
  return g_build_filename (src, rel, NULL);
}

static const RcxEncoderDesc *
find_encoder (const RcxPipelineDesc * desc, const gchar * element)
{
  for (guint i = 0; i < desc->n_encoders; i++) {
    if (strcmp (desc->encoders[i].element, element) == 0)
      return &desc->encoders[i];
  }
  return NULL;
}

static const gchar *
find_property (const RcxEncoderDesc * enc, const gchar * name)
{
  for (guint i = 0; i < enc->n_properties; i++) {
    if (strcmp (enc->properties[i].name, name) == 0)
      return enc->properties[i].value;
  }
  return NULL;
}

static void
test_default_description (void)
{
  g_autofree gchar *path = source_path ("pipelines/hls-ladder.json");
  g_autoptr (GError) error = NULL;
  g_autoptr (RcxPipelineDesc) desc =
      rcx_pipeline_desc_new_from_file (path, &error);
  const RcxEncoderDesc *nv, *sw;

  g_assert_no_error (error);
  g_assert_nonnull (desc);
  g_assert_cmpstr (desc->name, ==, "hls-ladder");
  g_assert_cmpfloat (desc->gop_seconds, ==, 2.0);
  g_assert_cmpfloat (desc->segment_seconds, ==, 6.0);

  g_assert_cmpuint (desc->n_rungs, ==, 3);
  g_assert_cmpstr (desc->ladder[0].name, ==, "1080p");
  g_assert_cmpuint (desc->ladder[0].height, ==, 1080);
  g_assert_cmpuint (desc->ladder[0].bitrate, ==, 6000);
  g_assert_cmpuint (desc->ladder[0].peak_bitrate, ==, 12000);
  g_assert_cmpuint (desc->ladder[1].height, ==, 720);
  g_assert_cmpuint (desc->ladder[1].bitrate, ==, 3000);
  g_assert_cmpuint (desc->ladder[2].height, ==, 480);
  g_assert_cmpuint (desc->ladder[2].bitrate, ==, 1200);
  for (guint i = 0; i < desc->n_rungs; i++)
    g_assert_cmpuint (desc->ladder[i].peak_bitrate, <=,
        2 * desc->ladder[i].bitrate);

  g_assert_cmpuint (desc->audio.bitrate, ==, 128);
  g_assert_cmpuint (desc->audio.rate, ==, 48000);
  g_assert_cmpuint (desc->audio.channels, ==, 2);
  g_assert_cmpuint (desc->audio.n_encoders, >=, 1);
  g_assert_cmpfloat (desc->thumbnail.position, ==, 0.10);

  /* GPU first, software fallback after it. */
  g_assert_cmpuint (desc->n_encoders, >=, 2);
  g_assert_cmpstr (desc->encoders[0].element, ==, "nvh264enc");
  nv = find_encoder (desc, "nvh264enc");
  sw = find_encoder (desc, "x264enc");
  g_assert_nonnull (nv);
  g_assert_nonnull (sw);
  g_assert_cmpstr (nv->hardware, ==, "nvidia");
  g_assert_cmpstr (nv->decoder, ==, "nvh264dec");
  g_assert_cmpstr (nv->scaler, ==, "cudascale");
  g_assert_nonnull (strstr (nv->scaler_caps, "memory:CUDAMemory"));
  g_assert_cmpstr (find_property (nv, "gop-size"), ==, "${gop-frames}");
  g_assert_cmpstr (find_property (nv, "zerolatency"), ==, "false");
  g_assert_null (find_property (nv, "bframes"));        /* conditional */
  g_assert_null (sw->hardware);
  g_assert_cmpstr (find_property (sw, "key-int-max"), ==, "${gop-frames}");
  g_assert_cmpstr (find_property (sw, "byte-stream"), ==, "true");
  g_assert_nonnull (strstr (find_property (sw, "option-string"), "scenecut=0"));

  g_assert_cmpstr (desc->output.master, ==, "master.m3u8");
  g_assert_cmpstr (desc->output.playlist, ==, "index.m3u8");
  g_assert_cmpstr (desc->output.iframe_playlist, ==, "iframes.m3u8");
  g_assert_true (desc->output.publish_live);
}

/* Every description shipped in pipelines/ is valid. */
static void
test_all_shipped_descriptions (void)
{
  g_autofree gchar *dir_path = source_path ("pipelines");
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const gchar *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir))) {
    g_autofree gchar *path = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (RcxPipelineDesc) desc = NULL;

    if (!g_str_has_suffix (name, ".json"))
      continue;
    path = g_build_filename (dir_path, name, NULL);
    desc = rcx_pipeline_desc_new_from_file (path, &error);
    g_assert_no_error (error);
    n++;
  }
  g_assert_cmpuint (n, >=, 1);
}

static void
test_variables (void)
{
  g_autofree gchar *path = source_path ("pipelines/hls-ladder.json");
  g_autoptr (RcxPipelineDesc) desc =
      rcx_pipeline_desc_new_from_file (path, NULL);
  g_autoptr (GHashTable) vars = NULL;
  g_autoptr (GHashTable) avars = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *s = NULL;
  g_autofree gchar *folder = NULL;

  g_assert_nonnull (desc);
  g_assert_cmpuint (rcx_pipeline_desc_gop_frames (desc, 30, 1), ==, 60);
  g_assert_cmpuint (rcx_pipeline_desc_gop_frames (desc, 25, 1), ==, 50);
  g_assert_cmpuint (rcx_pipeline_desc_gop_frames (desc, 30000, 1001), ==, 60);

  vars = rcx_pipeline_desc_rung_variables (desc, &desc->ladder[1], 1280, 720,
      30, 1);
  s = rcx_pipeline_desc_expand ("${bitrate}/${peak-bitrate}/${gop-frames}/"
      "${vbv-ms}/${width}x${height}", vars, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s, ==, "3000/6000/60/2000/1280x720");

  g_clear_pointer (&s, g_free);
  s = rcx_pipeline_desc_expand ("${nope}", vars, &error);
  g_assert_null (s);
  g_assert_error (error, RCX_PIPELINE_DESC_ERROR,
      RCX_PIPELINE_DESC_ERROR_INVALID);
  g_clear_error (&error);

  avars = rcx_pipeline_desc_audio_variables (desc);
  s = rcx_pipeline_desc_expand ("${bitrate-bps}", avars, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s, ==, "128000");

  folder = rcx_pipeline_desc_rung_folder (desc, &desc->ladder[2]);
  g_assert_cmpstr (folder, ==, "480p");
}

static void
test_find (void)
{
  g_autofree gchar *dir = source_path ("pipelines");
  const gchar *dirs[] = { "/nonexistent", dir, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *found = NULL;
  g_autofree gchar *missing = NULL;

  g_unsetenv ("RCX_PIPELINES_DIR");
  found = rcx_pipeline_desc_find (NULL, dirs, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (found, "pipelines/hls-ladder.json"));

  missing = rcx_pipeline_desc_find ("no-such-profile", dirs, &error);
  g_assert_null (missing);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* A minimal valid description with one substitution applied. */
#define LADDER \
  "{\"name\": \"720p\", \"height\": 720, \"bitrate\": 3000}, " \
  "{\"name\": \"480p\", \"height\": 480, \"bitrate\": 1200}"
#define BASE \
  "{ \"gop-seconds\": 2, \"segment-seconds\": 6, " \
  "\"ladder\": [ " LADDER " ], " \
  "\"audio\": { \"encoders\": [ {\"element\": \"avenc_aac\"} ] }, " \
  "\"encoders\": [ {\"element\": \"x264enc\", " \
  "  \"scaler\": {\"element\": \"videoscale\", \"caps\": \"video/x-raw\"}, " \
  "  \"properties\": {\"key-int-max\": \"${gop-frames}\"} } ] }"

typedef struct
{
  const gchar *from;
  const gchar *to;
  const gchar *message;         /* expected error message prefix, NULL = valid */
} Case;

static const Case cases[] = {
  {NULL, NULL, NULL},
  {"\"height\": 480", "\"height\": 481",
      "ladder[1].height: must be a positive even number"},
  {"\"height\": 480", "\"height\": -2",
      "ladder[1].height: must be a positive even number"},
  {"\"height\": 480", "\"height\": \"480\"",
      "ladder[1].height: must be a positive even number"},
  {"\"height\": 480", "\"height\": 720",
      "ladder[1].height: must be lower than ladder[0].height"},
  {"\"name\": \"480p\"", "\"name\": \"720p\"",
      "ladder[1].name: \"720p\" is already ladder[0]"},
  {"\"name\": \"480p\"", "\"name\": \"../x\"", "ladder[1].name: must be"},
  {"\"bitrate\": 1200}", "\"bitrate\": 1200, \"peak-bitrate\": 600}",
      "ladder[1].peak-bitrate: must be at least the bitrate"},
  {"\"bitrate\": 1200}", "\"bitrate\": 0}", "ladder[1].bitrate: must be"},
  {"\"bitrate\": 1200}", "\"bitrate\": 1200, \"heigth\": 3}",
      "ladder[1].heigth: unknown field"},
  {"\"segment-seconds\": 6", "\"segment-seconds\": 5",
      "segment-seconds: must be a whole multiple of gop-seconds"},
  {"\"gop-seconds\": 2, ", "", "gop-seconds: missing"},
  {"\"gop-seconds\": 2", "\"gop-seconds\": 2, \"extra\": 1",
      "extra: unknown field"},
  {LADDER, "", "ladder: must not be empty"},
  {"\"${gop-frames}\"", "\"${gop-frame}\"",
      "encoders[0].properties.key-int-max: unknown variable ${gop-frame}"},
  {"\"key-int-max\"", "\"name\"",
      "encoders[0].properties.name: must not be set here"},
  {"\"${gop-frames}\"", "[1]",
      "encoders[0].properties.key-int-max: must be a string"},
  {"\"element\": \"x264enc\", ",
        "\"element\": \"nvh264enc\", \"hardware\": \"nvidia\", ",
      "encoders[0].scaler.caps: a hardware encoder needs device-memory caps"},
  {"\"element\": \"x264enc\", ", "\"element\": \"x264 enc\", ",
      "encoders[0].element: not an element factory name"},
  {"\"caps\": \"video/x-raw\"", "\"capz\": \"video/x-raw\"",
      "encoders[0].scaler.capz: unknown field"},
  {"\"audio\": {", "\"audio\": { \"channels\": 0, ",
      "audio.channels: must be a number of channels"},
  {"\"audio\": {", "\"thumbnail\": {\"position\": 1.5}, \"audio\": {",
      "thumbnail.position: must be a fraction"},
  {"\"audio\": {", "\"output\": {\"master\": \"../m.m3u8\"}, \"audio\": {",
      "output.master: must be a file name ending in .m3u8"},
  {"\"audio\": {", "\"output\": {\"rung-folder\": \"same\"}, \"audio\": {",
      "output.rung-folder: must contain {name} or {height}"},
  {"\"audio\": {", "\"output\": {\"segment\": \"seg.ts\"}, \"audio\": {",
      "output.segment: must be a file name ending in .ts with one %d"},
  {"\"audio\": {", "\"output\": {\"publish-live\": \"yes\"}, \"audio\": {",
      "output.publish-live: must be true or false"},
  {"{ \"gop", "[ \"gop", "not valid JSON"},
};

static void
test_validation (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GString *json = g_string_new (BASE);
    g_autoptr (GError) error = NULL;
    g_autoptr (RcxPipelineDesc) desc = NULL;

    if (cases[i].from)
      g_assert_cmpuint (g_string_replace (json, cases[i].from, cases[i].to,
              1), ==, 1);
    desc = rcx_pipeline_desc_new_from_data (json->str, -1, &error);
    if (!cases[i].message) {
      g_assert_no_error (error);
      g_assert_nonnull (desc);
      g_assert_cmpstr (desc->output.master, ==, "master.m3u8");
      g_assert_cmpuint (desc->ladder[0].peak_bitrate, ==, 3000);
      g_assert_true (desc->output.publish_live);        /* the default */
    } else {
      g_assert_null (desc);
      g_assert_nonnull (error);
      if (!g_str_has_prefix (error->message, cases[i].message))
        g_error ("case %u: expected \"%s...\", got \"%s\"", i,
            cases[i].message, error->message);
    }
    g_string_free (json, TRUE);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pipeline-desc/default", test_default_description);
  g_test_add_func ("/pipeline-desc/shipped", test_all_shipped_descriptions);
  g_test_add_func ("/pipeline-desc/variables", test_variables);
  g_test_add_func ("/pipeline-desc/find", test_find);
  g_test_add_func ("/pipeline-desc/validation", test_validation);
  return g_test_run ();
}
