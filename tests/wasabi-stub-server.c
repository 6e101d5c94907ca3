/* wasabi-stub-server.c: see wasabi-stub-server.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "wasabi-stub-server.h"

#include <string.h>
#include <libsoup/soup.h>

typedef struct
{
  gchar *method;
  gchar *path;
  gchar *query;
  SoupMessageHeaders *headers;
} Record;

typedef struct
{
  gchar *method;
  guint status;
  gchar *code;
  gchar *request_id;
} Failure;

struct _StubServer
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *soup;
  gchar *endpoint;

  GMutex lock;
  GCond cond;
  GHashTable *objects;          /* path -> GBytes */
  GHashTable *uploads;          /* upload id -> GPtrArray of GBytes (index = part - 1) */
  GHashTable *failures;         /* path -> Failure */
  GHashTable *stalls;           /* path set */
  GPtrArray *records;
  GPtrArray *paused;            /* stalled SoupServerMessages */
  guint next_upload;
};

static void
record_free (gpointer data)
{
  Record *r = data;

  g_free (r->method);
  g_free (r->path);
  g_free (r->query);
  soup_message_headers_unref (r->headers);
  g_free (r);
}

static void
failure_free (gpointer data)
{
  Failure *f = data;

  g_free (f->method);
  g_free (f->code);
  g_free (f->request_id);
  g_free (f);
}

static void
set_xml (SoupServerMessage * msg, guint status, const gchar * xml)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_COPY,
      xml, strlen (xml));
}

static gboolean
parse_range (const gchar * range, guint64 size, guint64 * first, guint64 * last)
{
  guint64 a, b;
  gchar *end;

  if (range == NULL || !g_str_has_prefix (range, "bytes="))
    return FALSE;
  a = g_ascii_strtoull (range + 6, &end, 10);
  if (*end != '-')
    return FALSE;
  b = end[1] ? g_ascii_strtoull (end + 1, NULL, 10) : size - 1;
  *first = a;
  *last = MIN (b, size - 1);
  return TRUE;
}

/* Called with the lock held. */
static void
handle (StubServer * self, SoupServerMessage * msg, const gchar * method,
    const gchar * path, const gchar * query)
{
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  Failure *failure = g_hash_table_lookup (self->failures, path);
  GBytes *object;

  soup_message_headers_replace (resp, "x-amz-request-id", "STUBREQ");

  if (failure != NULL && (failure->method == NULL ||
          g_str_equal (failure->method, method))) {
    g_autofree gchar *xml = g_strdup_printf ("<?xml version=\"1.0\" "
        "encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>stub "
        "failure</Message><RequestId>%s</RequestId></Error>",
        failure->code, failure->request_id);

    soup_message_headers_replace (resp, "x-amz-request-id",
        failure->request_id);
    if (g_str_equal (method, "HEAD"))
      soup_server_message_set_status (msg, failure->status, NULL);
    else
      set_xml (msg, failure->status, xml);
    return;
  }

  if (g_str_equal (method, "GET") && g_hash_table_contains (self->stalls, path)) {
    soup_server_message_pause (msg);
    g_ptr_array_add (self->paused, g_object_ref (msg));
    return;
  }

  if (g_str_equal (method, "HEAD") || g_str_equal (method, "GET")) {
    guint64 first, last, size;

    object = g_hash_table_lookup (self->objects, path);
    if (object == NULL) {
      if (g_str_equal (method, "HEAD"))
        soup_server_message_set_status (msg, 404, NULL);
      else
        set_xml (msg, 404, "<Error><Code>NoSuchKey</Code>"
            "<RequestId>STUBREQ</RequestId></Error>");
      return;
    }
    size = g_bytes_get_size (object);
    soup_message_headers_replace (resp, "ETag", "\"stub-etag\"");
    if (g_str_equal (method, "HEAD")) {
      soup_server_message_set_status (msg, 200, NULL);
      soup_message_headers_set_content_length (resp, size);
      return;
    }
    if (parse_range (soup_message_headers_get_one (req, "Range"), size,
            &first, &last)) {
      g_autofree gchar *cr = NULL;

      if (first >= size) {
        set_xml (msg, 416, "<Error><Code>InvalidRange</Code></Error>");
        return;
      }
      cr = g_strdup_printf ("bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
          "/%" G_GUINT64_FORMAT, first, last, size);
      soup_message_headers_replace (resp, "Content-Range", cr);
      soup_server_message_set_status (msg, 206, NULL);
    } else {
      first = 0;
      last = size - 1;
      soup_server_message_set_status (msg, 200, NULL);
    }
    soup_server_message_set_response (msg, "application/octet-stream",
        SOUP_MEMORY_COPY, (const gchar *) g_bytes_get_data (object, NULL) +
        first, size ? last - first + 1 : 0);
    return;
  }

  if (g_str_equal (method, "POST") && query && g_str_has_prefix (query,
          "uploads")) {
    g_autofree gchar *id = g_strdup_printf ("stub-upload-%u",
        ++self->next_upload);
    g_autofree gchar *xml = g_strdup_printf ("<?xml version=\"1.0\"?>\n"
        "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
        "<UploadId>%s</UploadId></InitiateMultipartUploadResult>", id);

    g_hash_table_insert (self->uploads, g_strdup (id),
        g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref));
    set_xml (msg, 200, xml);
    return;
  }

  if (g_str_equal (method, "PUT") && query && strstr (query, "partNumber=")) {
    g_autoptr (GHashTable) params = g_uri_parse_params (query, -1, "&",
        G_URI_PARAMS_NONE, NULL);
    GPtrArray *parts = g_hash_table_lookup (self->uploads,
        g_hash_table_lookup (params, "uploadId"));
    guint n = atoi (g_hash_table_lookup (params, "partNumber"));
    g_autofree gchar *etag = g_strdup_printf ("\"part-%u\"", n);

    if (parts == NULL || n < 1) {
      set_xml (msg, 404, "<Error><Code>NoSuchUpload</Code></Error>");
      return;
    }
    if (parts->len < n)
      g_ptr_array_set_size (parts, n);
    g_clear_pointer (&g_ptr_array_index (parts, n - 1), g_bytes_unref);
    g_ptr_array_index (parts, n - 1) = g_bytes_new (body->data, body->length);
    soup_message_headers_replace (resp, "ETag", etag);
    soup_server_message_set_status (msg, 200, NULL);
    return;
  }

  if ((g_str_equal (method, "POST") || g_str_equal (method, "DELETE")) &&
      query && strstr (query, "uploadId=")) {
    g_autoptr (GHashTable) params = g_uri_parse_params (query, -1, "&",
        G_URI_PARAMS_NONE, NULL);
    const gchar *id = g_hash_table_lookup (params, "uploadId");
    GPtrArray *parts = g_hash_table_lookup (self->uploads, id);
    g_autoptr (GByteArray) all = g_byte_array_new ();

    if (parts == NULL) {
      set_xml (msg, 404, "<Error><Code>NoSuchUpload</Code></Error>");
      return;
    }
    if (g_str_equal (method, "DELETE")) {
      g_hash_table_remove (self->uploads, id);
      soup_server_message_set_status (msg, 204, NULL);
      return;
    }
    for (guint i = 0; i < parts->len; i++) {
      GBytes *part = g_ptr_array_index (parts, i);

      if (part != NULL)
        g_byte_array_append (all, g_bytes_get_data (part, NULL),
            g_bytes_get_size (part));
    }
    g_hash_table_insert (self->objects, g_strdup (path),
        g_byte_array_free_to_bytes (g_steal_pointer (&all)));
    g_hash_table_remove (self->uploads, id);
    set_xml (msg, 200, "<?xml version=\"1.0\"?>\n"
        "<CompleteMultipartUploadResult><ETag>\"stub-mp\"</ETag>"
        "</CompleteMultipartUploadResult>");
    return;
  }

  if (g_str_equal (method, "PUT")) {
    g_hash_table_insert (self->objects, g_strdup (path),
        g_bytes_new (body->data, body->length));
    soup_message_headers_replace (resp, "ETag", "\"stub-put\"");
    soup_server_message_set_status (msg, 200, NULL);
    return;
  }

  set_xml (msg, 405, "<Error><Code>MethodNotAllowed</Code></Error>");
}

static void
server_callback (SoupServer * soup, SoupServerMessage * msg,
    const char *path, GHashTable * query_table, gpointer user_data)
{
  StubServer *self = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  const gchar *method = soup_server_message_get_method (msg);
  Record *r = g_new0 (Record, 1);

  r->method = g_strdup (method);
  r->path = g_uri_unescape_string (g_uri_get_path (uri), NULL);
  r->query = g_strdup (g_uri_get_query (uri));
  r->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  {
    SoupMessageHeadersIter iter;
    const char *name, *value;

    soup_message_headers_iter_init (&iter,
        soup_server_message_get_request_headers (msg));
    while (soup_message_headers_iter_next (&iter, &name, &value))
      soup_message_headers_append (r->headers, name, value);
  }

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->records, r);
  handle (self, msg, method, r->path, r->query);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static gpointer
server_thread (gpointer data)
{
  StubServer *self = data;
  g_autoptr (GError) error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (self->context);
  self->soup = g_object_new (SOUP_TYPE_SERVER, NULL);
  soup_server_add_handler (self->soup, NULL, server_callback, self, NULL);
  if (!soup_server_listen_local (self->soup, 0, SOUP_SERVER_LISTEN_IPV4_ONLY,
          &error))
    g_error ("stub server: %s", error->message);
  uris = soup_server_get_uris (self->soup);
  g_mutex_lock (&self->lock);
  self->endpoint = g_strdup_printf ("http://127.0.0.1:%d",
      g_uri_get_port (uris->data));
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_main_loop_run (self->loop);

  g_ptr_array_set_size (self->paused, 0);
  soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);
  while (g_main_context_iteration (self->context, FALSE));
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

StubServer *
stub_server_new (void)
{
  StubServer *self = g_new0 (StubServer, 1);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->objects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_bytes_unref);
  self->uploads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_ptr_array_unref);
  self->failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      failure_free);
  self->stalls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->records = g_ptr_array_new_with_free_func (record_free);
  self->paused = g_ptr_array_new_with_free_func (g_object_unref);
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->thread = g_thread_new ("stub-s3", server_thread, self);

  g_mutex_lock (&self->lock);
  while (self->endpoint == NULL)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
  return self;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
stub_server_free (StubServer * self)
{
  g_main_context_invoke (self->context, quit_loop, self->loop);
  g_thread_join (self->thread);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_hash_table_unref (self->objects);
  g_hash_table_unref (self->uploads);
  g_hash_table_unref (self->failures);
  g_hash_table_unref (self->stalls);
  g_ptr_array_unref (self->records);
  g_ptr_array_unref (self->paused);
  g_free (self->endpoint);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

const gchar *
stub_server_get_endpoint (StubServer * self)
{
  return self->endpoint;
}

void
stub_server_put (StubServer * self, const gchar * path, GBytes * data)
{
  g_mutex_lock (&self->lock);
  g_hash_table_insert (self->objects, g_strdup (path), g_bytes_ref (data));
  g_mutex_unlock (&self->lock);
}

GBytes *
stub_server_get (StubServer * self, const gchar * path)
{
  GBytes *data;

  g_mutex_lock (&self->lock);
  data = g_hash_table_lookup (self->objects, path);
  if (data != NULL)
    g_bytes_ref (data);
  g_mutex_unlock (&self->lock);
  return data;
}

void
stub_server_fail (StubServer * self, const gchar * method,
    const gchar * path, guint status, const gchar * code,
    const gchar * request_id)
{
  Failure *f = g_new0 (Failure, 1);

  f->method = g_strdup (method);
  f->status = status;
  f->code = g_strdup (code);
  f->request_id = g_strdup (request_id);
  g_mutex_lock (&self->lock);
  g_hash_table_insert (self->failures, g_strdup (path), f);
  g_mutex_unlock (&self->lock);
}

void
stub_server_stall (StubServer * self, const gchar * path)
{
  g_mutex_lock (&self->lock);
  g_hash_table_add (self->stalls, g_strdup (path));
  g_mutex_unlock (&self->lock);
}

static gboolean
record_matches (Record * r, const gchar * method, const gchar * path,
    const gchar * query_part)
{
  return g_str_equal (r->method, method) && g_str_equal (r->path, path) &&
      (query_part == NULL || (r->query && strstr (r->query, query_part)));
}

guint
stub_server_count (StubServer * self, const gchar * method,
    const gchar * path, const gchar * query_part)
{
  guint n = 0;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->records->len; i++)
    n += record_matches (g_ptr_array_index (self->records, i), method, path,
        query_part);
  g_mutex_unlock (&self->lock);
  return n;
}

gchar *
stub_server_last_header (StubServer * self, const gchar * method,
    const gchar * path, const gchar * name)
{
  gchar *value = NULL;

  g_mutex_lock (&self->lock);
  for (guint i = self->records->len; i > 0; i--) {
    Record *r = g_ptr_array_index (self->records, i - 1);

    if (record_matches (r, method, path, NULL)) {
      value = g_strdup (soup_message_headers_get_one (r->headers, name));
      break;
    }
  }
  g_mutex_unlock (&self->lock);
  return value;
}
