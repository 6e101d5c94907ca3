/* rcx-xml.c: XML from servers, parsed safely (see rcx-xml.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-xml.h"

#include <libxml/parser.h>

#include "rcx-sanitize.h"

xmlDoc *
rcx_xml_read (const gchar * data, gsize length)
{
  static gsize initialized = 0;
  xmlDoc *doc;

  if (g_once_init_enter (&initialized)) {
    xmlInitParser ();
    g_once_init_leave (&initialized, 1);
  }
  if (data == NULL || length == 0 || length > RCX_XML_MAX_SIZE)
    return NULL;
  doc = xmlReadMemory (data, (int) length, NULL, NULL,
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc != NULL && (doc->intSubset != NULL || doc->extSubset != NULL)) {
    xmlFreeDoc (doc);
    return NULL;
  }
  return doc;
}

gchar *
rcx_xml_child_text (xmlNode * parent, const gchar * name, gsize max)
{
  xmlNode *n;

  for (n = parent->children; n != NULL; n = n->next) {
    if (n->type == XML_ELEMENT_NODE
        && g_strcmp0 ((const gchar *) n->name, name) == 0) {
      xmlChar *content = xmlNodeGetContent (n);
      gchar *ret = rcx_sanitize_text ((const gchar *) content, -1, max);

      xmlFree (content);
      return ret;
    }
  }
  return NULL;
}
