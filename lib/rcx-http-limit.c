/* rcx-http-limit.c: a response body bounded to the bytes that were asked
 * for. A streamed body (an S3 GET of a range) is never read into memory
 * whole, so the cap of read_capped() does not apply to it; this filter
 * gives the reader exactly @length bytes and no more: a server that sends
 * more (a chunked body without end, or a Content-Length larger than the
 * range) gets an error at the first read past the range, and a body that
 * ends early gets one too, so neither is ever taken as data.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rcx-http.h"

struct _RcxHttpLimitStream
{
  GFilterInputStream parent;
  guint64 length;
  guint64 done;
};

G_DECLARE_FINAL_TYPE (RcxHttpLimitStream, rcx_http_limit_stream, RCX,
    HTTP_LIMIT_STREAM, GFilterInputStream);
G_DEFINE_TYPE (RcxHttpLimitStream, rcx_http_limit_stream,
    G_TYPE_FILTER_INPUT_STREAM);

static gssize
limit_read (GInputStream * stream, void *buffer, gsize count,
    GCancellable * cancellable, GError ** error)
{
  RcxHttpLimitStream *self = RCX_HTTP_LIMIT_STREAM (stream);
  GInputStream *base = g_filter_input_stream_get_base_stream
      (G_FILTER_INPUT_STREAM (stream));
  guint8 probe;
  gssize n;

  if (count == 0)
    return 0;
  if (self->done >= self->length) {
    /* asked past the range: the body must end here; one byte tells */
    n = g_input_stream_read (base, &probe, 1, cancellable, error);
    if (n < 0)
      return -1;
    if (n > 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "the response body is longer than the %" G_GUINT64_FORMAT
          " bytes asked for", self->length);
      return -1;
    }
    return 0;
  }
  n = g_input_stream_read (base, buffer, MIN (count, self->length -
          self->done), cancellable, error);
  if (n == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
        "the response body ended after %" G_GUINT64_FORMAT " of the %"
        G_GUINT64_FORMAT " bytes asked for", self->done, self->length);
    return -1;
  }
  if (n > 0)
    self->done += n;
  return n;
}

/* GFilterInputStream skips on the base stream, past the bound: skip by
 * reading instead, so a skip counts like a read. */
static gssize
limit_skip (GInputStream * stream, gsize count, GCancellable * cancellable,
    GError ** error)
{
  guint8 scratch[8192];

  return limit_read (stream, scratch, MIN (count, sizeof (scratch)),
      cancellable, error);
}

static void
rcx_http_limit_stream_init (RcxHttpLimitStream * self)
{
}

static void
rcx_http_limit_stream_class_init (RcxHttpLimitStreamClass * klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  stream_class->read_fn = limit_read;
  stream_class->skip = limit_skip;
}

GInputStream *
rcx_http_limit_stream_new (GInputStream * base, guint64 length)
{
  RcxHttpLimitStream *self;

  g_return_val_if_fail (G_IS_INPUT_STREAM (base), NULL);
  self = g_object_new (rcx_http_limit_stream_get_type (), "base-stream",
      base, "close-base-stream", TRUE, NULL);
  self->length = length;
  return G_INPUT_STREAM (self);
}
