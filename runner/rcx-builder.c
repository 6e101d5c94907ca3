/* rcx-builder.c: checks a pipeline description against the GStreamer
 * registry (rcx_builder_check_desc in rcx-builder.h): elements, their
 * properties and values, caps. Planning and building are in rcx-plan.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-builder.h"

#include <string.h>

static gboolean
check_property (GObjectClass * klass, const gchar * element,
    const gchar * where, const RcxPropertyDesc * prop, GHashTable * vars,
    GString * report)
{
  GParamSpec *pspec = g_object_class_find_property (klass, prop->name);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *value = NULL;
  GValue v = G_VALUE_INIT;
  gboolean ok;

  if (!pspec) {
    g_string_append_printf (report, "%s.properties.%s: %s has no such "
        "property\n", where, prop->name, element);
    return FALSE;
  }
  if (!(pspec->flags & G_PARAM_WRITABLE)) {
    g_string_append_printf (report, "%s.properties.%s: read-only in %s\n",
        where, prop->name, element);
    return FALSE;
  }
  value = rcx_pipeline_desc_expand (prop->value, vars, &error);
  if (!value) {
    g_string_append_printf (report, "%s.properties.%s: %s\n", where,
        prop->name, error->message);
    return FALSE;
  }
  g_value_init (&v, G_PARAM_SPEC_VALUE_TYPE (pspec));
  ok = gst_value_deserialize_with_pspec (&v, value, pspec);
  if (ok && g_param_value_validate (pspec, &v))
    ok = FALSE;                 /* out of range: validate had to change it */
  g_value_unset (&v);
  if (!ok) {
    g_string_append_printf (report, "%s.properties.%s: \"%s\" is not a "
        "valid %s value for %s\n", where, prop->name, value,
        g_type_name (G_PARAM_SPEC_VALUE_TYPE (pspec)), element);
    return FALSE;
  }
  return TRUE;
}

static GObjectClass *
element_class (const gchar * name)
{
  g_autoptr (GstElementFactory) factory = gst_element_factory_find (name);
  GstPluginFeature *loaded;
  GType type;

  if (!factory)
    return NULL;
  loaded = gst_plugin_feature_load (GST_PLUGIN_FEATURE (factory));
  if (!loaded)
    return NULL;
  type = gst_element_factory_get_element_type (GST_ELEMENT_FACTORY (loaded));
  gst_object_unref (loaded);
  return type ? g_type_class_ref (type) : NULL;
}

static gboolean
check_element (const gchar * name, const gchar * where,
    const RcxPropertyDesc * props, guint n, GHashTable * vars, GString * report)
{
  GObjectClass *klass = element_class (name);
  gboolean ok = TRUE;

  if (!klass) {
    g_string_append_printf (report, "%s: %s is not available here (checked "
        "structurally only)\n", where, name);
    return TRUE;
  }
  for (guint i = 0; i < n; i++)
    ok &= check_property (klass, name, where, &props[i], vars, report);
  g_type_class_unref (klass);
  if (ok)
    g_string_append_printf (report, "%s: %s ok\n", where, name);
  return ok;
}

static gboolean
check_caps (const gchar * caps, const gchar * where, GString * report)
{
  g_autoptr (GstCaps) c = gst_caps_from_string (caps);

  if (!c) {
    g_string_append_printf (report, "%s: \"%s\" are not valid caps\n", where,
        caps);
    return FALSE;
  }
  return TRUE;
}

gboolean
rcx_builder_check_desc (const RcxPipelineDesc * desc, GString * report)
{
  gboolean ok = TRUE;
  g_autoptr (GHashTable) avars = rcx_pipeline_desc_audio_variables (desc);

  for (guint i = 0; i < desc->n_encoders; i++) {
    const RcxEncoderDesc *enc = &desc->encoders[i];
    g_autofree gchar *where = g_strdup_printf ("encoders[%u]", i);
    g_autofree gchar *w_dec = g_strdup_printf ("%s.decoder", where);
    g_autofree gchar *w_up = g_strdup_printf ("%s.upload", where);
    g_autofree gchar *w_sc = g_strdup_printf ("%s.scaler", where);
    g_autofree gchar *w_oc = g_strdup_printf ("%s.output-caps", where);
    g_autofree gchar *scaled = g_strdup_printf ("%s,width=1280,height=720",
        enc->scaler_caps);
    g_autoptr (GHashTable) vars = rcx_pipeline_desc_rung_variables (desc,
        &desc->ladder[0], 1920, 1080, 30, 1);

    ok &= check_element (enc->element, where, enc->properties,
        enc->n_properties, vars, report);
    ok &= check_element (enc->scaler, w_sc, NULL, 0, NULL, report);
    ok &= check_caps (scaled, w_sc, report);
    if (enc->decoder) {
      ok &= check_element (enc->decoder, w_dec, NULL, 0, NULL, report);
      ok &= check_caps (enc->decoder_input_caps, w_dec, report);
    }
    if (enc->upload)
      ok &= check_element (enc->upload, w_up, NULL, 0, NULL, report);
    if (enc->output_caps)
      ok &= check_caps (enc->output_caps, w_oc, report);
  }
  for (guint i = 0; i < desc->audio.n_encoders; i++) {
    const RcxAudioEncoderDesc *enc = &desc->audio.encoders[i];
    g_autofree gchar *where = g_strdup_printf ("audio.encoders[%u]", i);

    ok &= check_element (enc->element, where, enc->properties,
        enc->n_properties, avars, report);
  }
  if (rcx_builder_find_encoder (desc, 0) < 0) {
    g_string_append (report, "encoders: none of them is available here\n");
    ok = FALSE;
  }
  return ok;
}
