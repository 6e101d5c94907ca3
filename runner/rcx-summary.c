/* rcx-summary.c: the JSON summaries a transcode prints, on success and on
 * failure.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-transcode-private.h"

#include "rcx-schema.h"

JsonNode *
rcx_transcode_summary (Attempt * a, RcxStore * store,
    const gchar * fallback_reason, gboolean with_thumbnail, gint64 start_us)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const RcxPipelineDesc *desc = a->plan->desc;
  gdouble wall = (g_get_monotonic_time () - start_us) /
      (gdouble) G_USEC_PER_SEC;
  gdouble duration = 0;
  g_autofree gchar *master = rcx_store_get_uri (store, desc->output.master);
  g_autofree gchar *thumb = rcx_store_get_uri (store, desc->thumbnail.name);

  for (guint i = 0; i < a->plan->n_rungs; i++)
    duration = MAX (duration, get_double (a->rungs[i].report, "duration"));

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, "succeeded");
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, a->options->source);
  json_builder_set_member_name (b, "destination");
  json_builder_add_string_value (b, rcx_store_get_location (store));
  json_builder_set_member_name (b, "master");
  json_builder_add_string_value (b, master);
  json_builder_set_member_name (b, "thumbnail");
  if (with_thumbnail)
    json_builder_add_string_value (b, thumb);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, desc->name);
  json_builder_set_member_name (b, "encoder");
  json_builder_add_string_value (b, a->plan->encoder->name);
  json_builder_set_member_name (b, "encoder_element");
  json_builder_add_string_value (b, a->plan->encoder->element);
  json_builder_set_member_name (b, "fallback_reason");
  if (fallback_reason)
    json_builder_add_string_value (b, fallback_reason);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "duration");
  json_builder_add_double_value (b, duration);
  json_builder_set_member_name (b, "wall_time");
  json_builder_add_double_value (b, wall);
  json_builder_set_member_name (b, "speed");
  json_builder_add_double_value (b, wall > 0 ? duration / wall : 0);
  json_builder_set_member_name (b, "frame_rate");
  json_builder_add_double_value (b, (gdouble) a->plan->fps_n / a->plan->fps_d);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, a->frames);
  json_builder_set_member_name (b, "warnings_count");
  json_builder_add_int_value (b, rcx_concealment_get_count (a->concealment));
  json_builder_set_member_name (b, "warnings");
  json_builder_add_value (b, rcx_concealment_to_json (a->concealment));
  json_builder_set_member_name (b, "concealed");
  {
    g_autofree gchar *concealed = rcx_concealment_to_string (a->concealment);

    if (concealed)
      json_builder_add_string_value (b, concealed);
    else
      json_builder_add_null_value (b);
  }

  json_builder_set_member_name (b, "rungs");
  json_builder_begin_array (b);
  for (guint i = 0; i < a->plan->n_rungs; i++) {
    const RcxPlanRung *r = &a->plan->rungs[i];
    const GstStructure *s = a->rungs[i].report;
    g_autofree gchar *playlist = g_strdup_printf ("%s/%s", r->folder,
        get_string (s, RCX_FIELD_PLAYLIST));
    g_autofree gchar *location = rcx_store_get_uri (store, playlist);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, r->desc->name);
    json_builder_set_member_name (b, "width");
    json_builder_add_int_value (b, r->width);
    json_builder_set_member_name (b, "height");
    json_builder_add_int_value (b, r->height);
    json_builder_set_member_name (b, "playlist");
    json_builder_add_string_value (b, location);
    json_builder_set_member_name (b, "target_bitrate");
    json_builder_add_int_value (b, (gint64) r->desc->bitrate * 1000);
    json_builder_set_member_name (b, "target_peak_bitrate");
    json_builder_add_int_value (b, (gint64) r->desc->peak_bitrate * 1000);
    json_builder_set_member_name (b, "bandwidth");
    json_builder_add_int_value (b, get_uint (s, RCX_FIELD_BANDWIDTH));
    json_builder_set_member_name (b, "average_bandwidth");
    json_builder_add_int_value (b, get_uint (s, RCX_FIELD_AVERAGE_BANDWIDTH));
    json_builder_set_member_name (b, "codecs");
    json_builder_add_string_value (b, get_string (s, RCX_FIELD_CODECS));
    json_builder_set_member_name (b, "size");
    json_builder_add_int_value (b, a->rungs[i].size);
    json_builder_set_member_name (b, "segments");
    json_builder_add_int_value (b, get_uint (s, RCX_FIELD_SEGMENTS));
    json_builder_set_member_name (b, "duration");
    json_builder_add_double_value (b, get_double (s, RCX_FIELD_DURATION));
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
rcx_transcode_failure_summary (const RcxTranscodeOptions * options,
    const GError * error, const gchar * encoder, gint64 start_us)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gboolean interrupted = g_error_matches (error, RCX_TRANSCODE_ERROR,
      RCX_TRANSCODE_ERROR_INTERRUPTED);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, interrupted ? "interrupted" : "failed");
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, options->source);
  json_builder_set_member_name (b, "destination");
  json_builder_add_string_value (b, options->destination);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, error->message);
  json_builder_set_member_name (b, "encoder");
  if (encoder)
    json_builder_add_string_value (b, encoder);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "master");
  json_builder_add_null_value (b);
  json_builder_set_member_name (b, "wall_time");
  json_builder_add_double_value (b, (g_get_monotonic_time () - start_us) /
      (gdouble) G_USEC_PER_SEC);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
