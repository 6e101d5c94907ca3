/* test-sigv4.c: the signer against the AWS SigV4 test suite (read at test
 * time from $RCX_SHARED_TESTDATA/aws-sigv4-test-suite) and against S3
 * requests signed offline by botocore (tests/tools/gen-s3-sigv4-cases.py).
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "rcx-sigv4.h"

/* Every case folder the suite ships; a missing one fails the test. */
#define SUITE_N_CASES 38

#define EMPTY_SHA256 \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Cases of the suite that do not apply to this signer, with the reason.
 * None so far: every case is checked in both modes. */
static const struct
{
  const gchar *name;
  const gchar *reason;
} not_applicable[] = {
  {NULL, NULL}
};

typedef struct
{
  gchar *method;
  gchar *path;
  gchar *query;
  GPtrArray *names;
  GPtrArray *values;
  GBytes *body;
} ParsedRequest;

static void
parsed_request_free (ParsedRequest * r)
{
  g_free (r->method);
  g_free (r->path);
  g_free (r->query);
  g_ptr_array_unref (r->names);
  g_ptr_array_unref (r->values);
  g_bytes_unref (r->body);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ParsedRequest, parsed_request_free);

/* The raw request as the suite writes it: request line (the target may
 * contain spaces), headers (continuation lines start with whitespace,
 * duplicate names kept in order), a blank line, the body. */
static ParsedRequest *
parse_request (const gchar * text)
{
  ParsedRequest *r = g_new0 (ParsedRequest, 1);
  const gchar *body_start = strstr (text, "\n\n");
  g_autofree gchar *head = NULL;
  g_auto (GStrv) lines = NULL;
  const gchar *line;
  const gchar *sp;
  const gchar *last_sp;
  g_autofree gchar *target = NULL;
  gchar *q;
  guint i;

  if (body_start != NULL) {
    head = g_strndup (text, body_start - text);
    r->body = g_bytes_new (body_start + 2, strlen (body_start + 2));
  } else {
    head = g_strdup (text);
    r->body = g_bytes_new (NULL, 0);
  }
  lines = g_strsplit (head, "\n", -1);
  r->names = g_ptr_array_new_with_free_func (g_free);
  r->values = g_ptr_array_new_with_free_func (g_free);

  line = lines[0];
  sp = strchr (line, ' ');
  last_sp = strrchr (line, ' ');
  g_assert_nonnull (sp);
  g_assert_true (last_sp > sp);
  g_assert_true (g_str_has_prefix (last_sp, " HTTP/"));
  r->method = g_strndup (line, sp - line);
  target = g_strndup (sp + 1, last_sp - sp - 1);
  q = strchr (target, '?');
  if (q != NULL) {
    *q = '\0';
    r->query = g_strdup (q + 1);
  }
  r->path = g_strdup (target);

  for (i = 1; lines[i] != NULL; i++) {
    const gchar *colon;

    line = lines[i];
    if (line[0] == '\0')
      continue;
    if (line[0] == ' ' || line[0] == '\t') {
      gchar **value;

      g_assert_cmpuint (r->values->len, >, 0);
      value = (gchar **) & g_ptr_array_index (r->values, r->values->len - 1);
      {
        gchar *joined = g_strconcat (*value, "\n", line, NULL);

        g_free (*value);
        *value = joined;
      }
      continue;
    }
    colon = strchr (line, ':');
    g_assert_nonnull (colon);
    g_ptr_array_add (r->names, g_strndup (line, colon - line));
    g_ptr_array_add (r->values, g_strdup (colon + 1));
  }
  return r;
}

static gchar *
suite_dir (void)
{
  const gchar *shared = g_getenv ("RCX_SHARED_TESTDATA");

  g_assert_nonnull (shared);
  return g_build_filename (shared, "aws-sigv4-test-suite", NULL);
}

static gchar *
read_case_file (const gchar * case_name, const gchar * file)
{
  g_autofree gchar *dir = suite_dir ();
  g_autofree gchar *path = g_build_filename (dir, case_name, file, NULL);
  g_autoptr (GError) error = NULL;
  gchar *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

typedef struct
{
  gchar *access_key;
  gchar *secret_key;
  gchar *token;
  gchar *region;
  gchar *service;
  GDateTime *time;
  gboolean normalize;
  gboolean sign_body;
  gboolean omit_session_token;
  guint expires;
} CaseContext;

static void
case_context_clear (CaseContext * c)
{
  g_free (c->access_key);
  g_free (c->secret_key);
  g_free (c->token);
  g_free (c->region);
  g_free (c->service);
  g_clear_pointer (&c->time, g_date_time_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CaseContext, case_context_clear);

static void
load_context (const gchar * case_name, CaseContext * c)
{
  g_autofree gchar *text = read_case_file (case_name, "context.json");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *root;
  JsonObject *creds;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  creds = json_object_get_object_member (root, "credentials");

  c->access_key = g_strdup (json_object_get_string_member (creds,
          "access_key_id"));
  c->secret_key = g_strdup (json_object_get_string_member (creds,
          "secret_access_key"));
  c->token = g_strdup (json_object_get_string_member_with_default (creds,
          "token", NULL));
  c->region = g_strdup (json_object_get_string_member (root, "region"));
  c->service = g_strdup (json_object_get_string_member (root, "service"));
  c->time = g_date_time_new_from_iso8601 (json_object_get_string_member (root,
          "timestamp"), NULL);
  g_assert_nonnull (c->time);
  c->normalize = json_object_get_boolean_member_with_default (root,
      "normalize", TRUE);
  c->sign_body = json_object_get_boolean_member_with_default (root,
      "sign_body", FALSE);
  c->omit_session_token = json_object_get_boolean_member_with_default (root,
      "omit_session_token", FALSE);
  c->expires = json_object_get_int_member_with_default (root,
      "expiration_in_seconds", 3600);
}

static void
check_steps (const gchar * case_name, const gchar * mode,
    const RcxSigv4Signer * signer, GDateTime * time,
    const RcxSigv4Request * req)
{
  g_autofree gchar *cr_file = g_strdup_printf ("%s-canonical-request.txt",
      mode);
  g_autofree gchar *sts_file = g_strdup_printf ("%s-string-to-sign.txt", mode);
  g_autofree gchar *sig_file = g_strdup_printf ("%s-signature.txt", mode);
  g_autofree gchar *want_cr = read_case_file (case_name, cr_file);
  g_autofree gchar *want_sts = read_case_file (case_name, sts_file);
  g_autofree gchar *want_sig = read_case_file (case_name, sig_file);
  g_autofree gchar *cr = rcx_sigv4_canonical_request (req, NULL);
  g_autofree gchar *sts = rcx_sigv4_string_to_sign (signer, time, cr);
  g_autofree gchar *sig = rcx_sigv4_signature (signer, time, sts);

  g_strchomp (want_sig);
  g_assert_cmpstr (cr, ==, want_cr);
  g_assert_cmpstr (sts, ==, want_sts);
  g_assert_cmpstr (sig, ==, want_sig);
}

static void
build_headers (ParsedRequest * parsed, GArray * headers)
{
  guint i;

  for (i = 0; i < parsed->names->len; i++) {
    RcxHeader h = { g_ptr_array_index (parsed->names, i),
      g_ptr_array_index (parsed->values, i)
    };
    g_array_append_val (headers, h);
  }
}

static void
test_suite_case (gconstpointer data)
{
  const gchar *case_name = data;
  g_auto (CaseContext) ctx = { 0, };
  g_autofree gchar *text = read_case_file (case_name, "request.txt");
  g_autoptr (ParsedRequest) parsed = parse_request (text);
  g_autoptr (GArray) headers = g_array_new (FALSE, FALSE, sizeof (RcxHeader));
  g_autofree gchar *amz_date = NULL;
  g_autofree gchar *payload_hash = NULL;
  g_autofree gchar *authorization = NULL;
  g_autofree gchar *want_sig = NULL;
  g_autofree gchar *want_auth_tail = NULL;
  RcxSigv4Signer signer = { 0, };
  RcxSigv4Request req = { 0, };
  gsize body_len;
  const guint8 *body;

  load_context (case_name, &ctx);
  amz_date = rcx_sigv4_amz_date (ctx.time);
  body = g_bytes_get_data (parsed->body, &body_len);
  payload_hash = rcx_sha256_hex (body, body_len);

  signer.access_key = ctx.access_key;
  signer.secret_key = ctx.secret_key;
  signer.region = ctx.region;
  signer.service = ctx.service;

  req.method = parsed->method;
  req.path = parsed->path;
  req.payload_hash = payload_hash;
  req.normalize_path = ctx.normalize;
  req.double_encode_path = TRUE;

  /* Authorization header: the signer's caller adds X-Amz-Date, the
   * session token unless the case signs without it, and the body hash
   * when the body is signed. */
  build_headers (parsed, headers);
  {
    RcxHeader date = { "X-Amz-Date", amz_date };
    RcxHeader token = { "X-Amz-Security-Token", ctx.token };
    RcxHeader sha = { "X-Amz-Content-Sha256", payload_hash };

    g_array_append_val (headers, date);
    if (ctx.token != NULL && !ctx.omit_session_token)
      g_array_append_val (headers, token);
    if (ctx.sign_body)
      g_array_append_val (headers, sha);
  }
  req.query = parsed->query;
  req.headers = (const RcxHeader *) headers->data;
  req.n_headers = headers->len;
  check_steps (case_name, "header", &signer, ctx.time, &req);

  authorization = rcx_sigv4_authorization (&signer, ctx.time, &req);
  want_sig = read_case_file (case_name, "header-signature.txt");
  g_strchomp (want_sig);
  want_auth_tail = g_strdup_printf (", Signature=%s", want_sig);
  g_assert_true (g_str_has_prefix (authorization,
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
          "service/aws4_request, SignedHeaders="));
  g_assert_true (g_str_has_suffix (authorization, want_auth_tail));

  /* Query (presigned): the request's own headers only, X-Amz-* in the
   * query. */
  g_array_set_size (headers, 0);
  build_headers (parsed, headers);
  req.headers = (const RcxHeader *) headers->data;
  req.n_headers = headers->len;
  if (ctx.omit_session_token)
    signer.session_token = NULL;
  else
    signer.session_token = ctx.token;
  {
    g_autofree gchar *want_cr = read_case_file (case_name,
        "query-canonical-request.txt");
    g_autofree gchar *want_qsig = read_case_file (case_name,
        "query-signature.txt");
    g_auto (GStrv) cr_lines = g_strsplit (want_cr, "\n", 4);
    g_autofree gchar *presigned = NULL;
    g_autofree gchar *want_query = NULL;
    g_autofree gchar *full_query = NULL;

    g_strchomp (want_qsig);
    g_assert_cmpuint (g_strv_length (cr_lines), ==, 4);

    /* The intermediate steps from the query the suite signs... */
    full_query = g_strdup (cr_lines[2]);
    req.query = full_query;
    check_steps (case_name, "query", &signer, ctx.time, &req);

    /* ...and the same query built by the presigner. */
    req.query = parsed->query;
    presigned = rcx_sigv4_presign_query (&signer, ctx.time, &req, ctx.expires);
    want_query = g_strdup_printf ("%s&X-Amz-Signature=%s", cr_lines[2],
        want_qsig);
    g_assert_cmpstr (presigned, ==, want_query);
  }
}

static void
test_suite_present (gconstpointer data)
{
  guint n_cases = GPOINTER_TO_UINT (data);
  g_autofree gchar *dir = suite_dir ();

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    g_test_message ("AWS SigV4 test suite missing: %s", dir);
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  g_assert_cmpuint (n_cases, ==, SUITE_N_CASES);
}

static gboolean
is_not_applicable (const gchar * name)
{
  guint i;

  for (i = 0; not_applicable[i].name != NULL; i++) {
    if (strcmp (not_applicable[i].name, name) == 0) {
      g_test_message ("%s not applicable: %s", name, not_applicable[i].reason);
      return TRUE;
    }
  }
  return FALSE;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* Registers one test per case folder; returns how many folders there are. */
static guint
add_suite_cases (void)
{
  g_autofree gchar *dir_path = suite_dir ();
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  const gchar *name;
  guint i;

  if (dir == NULL)
    return 0;
  while ((name = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *ctx = g_build_filename (dir_path, name, "context.json",
        NULL);

    if (g_file_test (ctx, G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add (names, g_strdup (name));
  }
  g_ptr_array_sort (names, compare_names);
  for (i = 0; i < names->len; i++) {
    const gchar *case_name = g_ptr_array_index (names, i);
    g_autofree gchar *test_path = NULL;

    if (is_not_applicable (case_name))
      continue;
    test_path = g_strdup_printf ("/sigv4/suite/%s", case_name);
    /* The name lives as long as the process. */
    g_test_add_data_func (test_path, case_name, test_suite_case);
  }
  return names->len;
}

int
main (int argc, char **argv)
{
  guint n_cases;

  g_test_init (&argc, &argv, NULL);
  n_cases = add_suite_cases ();
  g_test_add_data_func ("/sigv4/suite-present", GUINT_TO_POINTER (n_cases),
      test_suite_present);
  return g_test_run ();
}
