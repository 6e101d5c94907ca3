/* rcx-xml.h: the one way XML from servers (S3 replies and error bodies)
 * is parsed.
 *
 * libxml2 without network access, without loading or substituting
 * entities, and with no document type at all: S3 never sends one, and an
 * internal subset is where entity expansion attacks ("billion laughs")
 * live. libxml2's own nesting limit (256 without XML_PARSE_HUGE) bounds
 * its recursion.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

/* The largest document parsed. */
#define RCX_XML_MAX_SIZE ((gsize) 8 * 1024 * 1024)

/* The parsed document (free with xmlFreeDoc), or NULL when @data is not
 * well-formed XML, is larger than RCX_XML_MAX_SIZE or has a DOCTYPE. */
xmlDoc *rcx_xml_read (const gchar * data, gsize length);

/* The text of the first element child of @parent named @name, sanitised
 * and capped at @max bytes (rcx_sanitize_text), or NULL. */
gchar *rcx_xml_child_text (xmlNode * parent, const gchar * name, gsize max);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

G_END_DECLS
