/* rcx-credentials-private.h: what rcx-credentials.c (the chain, the
 * static sources) and rcx-credentials-remote.c (container endpoint, IMDS)
 * share.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "rcx-credentials.h"

G_BEGIN_DECLS

/* non-NULL and not empty */
G_GNUC_INTERNAL
gboolean rcx_credentials_is_set (const gchar * s);

/* The container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI /
 * _FULL_URI): FALSE without an error when it is not configured, FALSE
 * with one when it is and fails. */
G_GNUC_INTERNAL
gboolean rcx_credentials_from_container (RcxCredentials * out,
    GCancellable * cancellable, GError ** error);

/* EC2 instance metadata (IMDSv2): FALSE with the reason when there is
 * none (or AWS_EC2_METADATA_DISABLED). */
G_GNUC_INTERNAL
gboolean rcx_credentials_from_imds (RcxCredentials * out,
    GCancellable * cancellable, GError ** error);

G_END_DECLS
