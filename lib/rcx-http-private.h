/* rcx-http-private.h: what rcx-http.c and rcx-http-response.c share and no
 * caller sees.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef RCX_HTTP_PRIVATE_H
#define RCX_HTTP_PRIVATE_H

#include "rcx-http.h"

G_BEGIN_DECLS

/* caps on the service's error fields once sanitised */
#define ERROR_CODE_MAX 128
#define ERROR_MESSAGE_MAX 512

/* A response and the SoupMessage it came from, which lives as long as the
 * response does. */
typedef struct
{
  RcxHttpResponse pub;
  SoupMessage *msg;
} RcxHttpResponseReal;

G_END_DECLS

#endif /* RCX_HTTP_PRIVATE_H */
