/* fuzz-pipeline-desc.c: a pipeline description (users' JSON) through
 * rcx_pipeline_desc_new_from_data and, when it is accepted, the helpers
 * that turn it into element settings.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "rcx-pipeline-desc.h"

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RcxPipelineDesc) desc = NULL;
  g_autoptr (GHashTable) audio = NULL;
  guint i, j;

  desc = rcx_pipeline_desc_new_from_data ((const gchar *) data, size, &error);
  if (desc == NULL) {
    g_assert (error != NULL);
    return 0;
  }
  g_assert (rcx_pipeline_desc_gop_frames (desc, 30000, 1001) >= 1);
  g_assert (rcx_pipeline_desc_gop_frames (desc, 1, 0x7fffffff) >= 1);
  audio = rcx_pipeline_desc_audio_variables (desc);
  for (i = 0; i < desc->n_rungs; i++) {
    const RcxRungDesc *rung = &desc->ladder[i];
    g_autofree gchar *folder = rcx_pipeline_desc_rung_folder (desc, rung);
    g_autoptr (GHashTable) vars = rcx_pipeline_desc_rung_variables (desc,
        rung, 1920, rung->height, 60, 1);

    g_assert (folder != NULL);

    for (j = 0; j < desc->n_encoders; j++) {
      const RcxEncoderDesc *enc = &desc->encoders[j];
      guint k;

      for (k = 0; k < enc->n_properties; k++) {
        g_autoptr (GError) expand_error = NULL;
        g_autofree gchar *value =
            rcx_pipeline_desc_expand (enc->properties[k].value, vars,
            &expand_error);

        g_assert (value != NULL || expand_error != NULL);
      }
    }
  }
  return 0;
}
