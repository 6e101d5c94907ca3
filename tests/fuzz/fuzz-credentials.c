/* fuzz-credentials.c: the credential sources' answers: the container
 * endpoint's / IMDS's JSON, IMDS's role listing, and the shared credentials
 * file (INI). The first input byte picks the parser.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "rcx-credentials.h"

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  const gchar *text = (const gchar *) data + 1;
  g_auto (RcxCredentials) creds = { 0, };
  g_autoptr (GError) error = NULL;

  if (size < 1)
    return 0;
  switch (data[0] % 3) {
    case 0:
      if (rcx_credentials_parse_json (text, size - 1, "container", &creds,
              &error))
        g_assert (creds.access_key != NULL && creds.secret_key != NULL);
      else
        g_assert (error != NULL);
      break;
    case 1:{
      g_autofree gchar *role = rcx_credentials_parse_imds_role (text,
          size - 1);

      g_assert (role == NULL || (role[0] != '\0' && !strchr (role, '/')));
      break;
    }
    default:
      if (rcx_credentials_parse_ini (text, size - 1, "default", &creds))
        g_assert (creds.access_key != NULL && creds.secret_key != NULL);
      break;
  }
  return 0;
}
