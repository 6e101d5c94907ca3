/* rcx-pipeline-desc-private.h: what rcx-pipeline-desc.c and
 * rcx-pipeline-desc-parse.c share and no caller sees.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef RCX_PIPELINE_DESC_PRIVATE_H
#define RCX_PIPELINE_DESC_PRIVATE_H

#include <json-glib/json-glib.h>

#include "rcx-pipeline-desc.h"

G_BEGIN_DECLS

/* TRUE when @s is not empty and only ASCII letters, digits and the
 * characters of @extra. */
G_GNUC_INTERNAL
gboolean rcx_pipeline_desc_is_name (const gchar * s, const gchar * extra);

/* Fills @desc from the parsed JSON, every error naming its field. */
G_GNUC_INTERNAL
gboolean rcx_pipeline_desc_parse_root (RcxPipelineDesc * desc,
    JsonNode * root_node, GError ** error);

G_END_DECLS

#endif /* RCX_PIPELINE_DESC_PRIVATE_H */
