/* rcx-jobs.h: the job records the runner keeps in Supabase (tables jobs
 * and media_assets, db/migrations), as the state machine of
 * docs/database.md:
 *
 *   claim    jobs queued -> running (worker id; the database counts the
 *            attempt), media_assets uploaded -> transcoding; a running
 *            job whose worker stopped updating it is taken over
 *   progress jobs.progress while running (only the claiming worker)
 *   succeed  media_assets transcoding -> transcoded (duration, renditions)
 *            -> complete (streaming URL, thumbnail URL); jobs -> succeeded
 *   fail     jobs running -> failed (reason); media_assets -> failed
 *   release  jobs running -> queued; media_assets transcoding -> uploaded
 *
 * Every step is one database function (db/migrations/005_job_functions.sql,
 * called through PostgREST's /rpc) that moves the job and its media asset
 * together, in one transaction, only while the job is running under this
 * worker id: a worker whose job was taken over changes nothing, a step
 * repeated after an at-least-once redelivery or a lost answer changes
 * nothing twice (a claim sent again is recognised as ours), and of two
 * workers claiming one job exactly one wins. A claim of a job that used up
 * jobs_max_attempts() fails it instead (RCX_JOB_EXHAUSTED).
 * succeed / fail / release / give_up keep retrying transient failures (5xx,
 * connection errors) until the persistence deadline, so the final state
 * lands once the database is back. Every answer is checked before it is
 * used: a hostile or broken server gets RCX_POSTGREST_ERROR_INVALID.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "rcx-postgrest.h"

G_BEGIN_DECLS

#define RCX_JOBS_ERROR (rcx_jobs_error_quark ())
GQuark rcx_jobs_error_quark (void);

typedef enum {
  RCX_JOBS_ERROR_NOT_FOUND,     /* no such job / media asset */
  RCX_JOBS_ERROR_WRONG_STATE,   /* the row is in a state the step can't leave */
  RCX_JOBS_ERROR_NOT_OURS,      /* the job is not running under this worker
                                 * (taken over, released, finished) */
} RcxJobsError;

/* A failure reason as stored and printed: one line of valid UTF-8, no
 * control characters, at most this many bytes. */
#define RCX_JOBS_REASON_MAX 500

gchar *rcx_jobs_reason_sanitize (const gchar * reason);

/* A worker id: 1-128 of A-Z a-z 0-9 _ - . : / (the SQS worker passes
 * "<worker-id>/<slot>"), not starting with '-'. It only ever travels in
 * JSON bodies. */
gboolean rcx_jobs_worker_id_is_valid (const gchar * worker_id);

/* TRUE for what may pass if tried again later (5xx after the retries, a
 * connection error); FALSE for cancellation and every answer. */
gboolean rcx_jobs_error_is_transient (const GError * error);

typedef enum {
  RCX_JOB_CLAIMED,              /* ours now (maybe taken over): run it */
  RCX_JOB_BUSY,                 /* running elsewhere: leave the message */
  RCX_JOB_DONE,                 /* succeeded already: a duplicate, delete it */
  RCX_JOB_FAILED,               /* failed: only an explicit retry requeues it */
  RCX_JOB_EXHAUSTED,            /* failed now: its attempts were used up */
} RcxJobClaim;

const gchar *rcx_job_claim_to_string (RcxJobClaim claim);

typedef struct {
  gchar *id;
  gchar *media_id;
  gchar *org_id;
  gchar *state;
  gchar *worker_id;
  gint attempts;
  gdouble progress;
  gchar *updated_at;            /* as the database wrote it (ISO 8601) */
  gchar *error_reason;          /* failed: why */
} RcxJob;

void rcx_job_free (RcxJob * job);

typedef struct _RcxJobs RcxJobs;

/* @worker_id: who claims (host / task id); shown in jobs.worker_id, and
 * progress / succeed / fail / release only touch rows it claimed. NULL
 * (progress writers that did not claim): no claims, and no check of who
 * claimed. */
RcxJobs *rcx_jobs_new (RcxPostgrest * pg, const gchar * worker_id);
void rcx_jobs_free (RcxJobs * jobs);
/* How long succeed / fail / release keep retrying transient failures
 * (default 120 s; 0: once, with the HTTP client's own retries only). */
void rcx_jobs_set_persistence (RcxJobs * jobs, guint seconds);
/* A running job whose row has not moved for this long is taken over by a
 * claim (its worker died without releasing it), and given up on by
 * rcx_jobs_give_up; the database raises anything shorter to 10 s
 * (db/migrations/007_claim_stale_after.sql). Default 900 s; 0: never. */
void rcx_jobs_set_stale_after (RcxJobs * jobs, guint seconds);

/* Reads one job (NULL with RCX_JOBS_ERROR_NOT_FOUND when there is none). */
RcxJob *rcx_jobs_get (RcxJobs * jobs, const gchar * job_id,
    GCancellable * cancellable, GError ** error);

/* Claims @job_id. Returns FALSE only on an error; *@claim says what
 * happened and *@job_out (may be NULL) gets the row as it is now. */
gboolean rcx_jobs_claim (RcxJobs * jobs, const gchar * job_id,
    RcxJobClaim * claim, RcxJob ** job_out, GCancellable * cancellable,
    GError ** error);

/* Writes the progress (0-100; < 0: unknown, a heartbeat only) of a job
 * this worker runs. FALSE with RCX_JOBS_ERROR_NOT_OURS when the job is no
 * longer ours / running (taken over: stop at once). Every write moves
 * jobs.updated_at: a worker must write (lib/rcx-job-progress.h does) more
 * often than the stale threshold, or another worker that receives the
 * job's message again takes the job over. */
gboolean rcx_jobs_progress (RcxJobs * jobs, const gchar * job_id,
    gdouble percent, GCancellable * cancellable, GError ** error);

typedef struct {
  const gchar *streaming_url;   /* required: the master playlist */
  const gchar *thumbnail_url;   /* may be NULL */
  gdouble duration_s;           /* < 0: unknown */
  JsonNode *renditions;         /* a JSON array, may be NULL */
  JsonNode *warnings;           /* jobs.warnings: rcx_jobs_warnings_new(),
                                 * NULL for a clean source */
} RcxJobOutputs;

/* jobs.warnings for a job that concealed damage (db/migrations/
 * 006_job_warnings.sql): {"text": @text, "groups": @groups} with only the
 * known members of each group (element, kind, count, first, last,
 * message), texts sanitized (rcx_sanitize_text) and cut, at most 32 groups
 * and 24 KiB printed, inside the database's bounds (32 groups, 32 KiB, 2000
 * characters a text). NULL when @text is NULL or empty (nothing concealed).
 * @groups: the transcode summary's "warnings", @text its "concealed". */
JsonNode *rcx_jobs_warnings_new (JsonNode * groups, const gchar * text);

/* The queue gave up on the job's message (poison message): a queued job,
 * or a running one whose row did not move for the stale threshold, is
 * failed with @reason, its media asset too; a job running live, done or
 * failed is left alone. *@state_out (may be NULL) gets the job's state
 * afterwards ("failed" when it is failed now, by this call or before).
 * FALSE with RCX_JOBS_ERROR_NOT_FOUND when there is no such job. Needs no
 * worker id. */
gboolean rcx_jobs_give_up (RcxJobs * jobs, const gchar * job_id,
    const gchar * reason, gchar ** state_out, GCancellable * cancellable,
    GError ** error);

/* succeed / fail: the job and its media asset together, only while the
 * job runs under this worker (else FALSE with RCX_JOBS_ERROR_NOT_OURS,
 * nothing changed). @media_id is not used: the database takes the job's
 * own media asset. release: a job that is not ours (taken over, already
 * released) is left alone and that is TRUE. */
gboolean rcx_jobs_succeed (RcxJobs * jobs, const gchar * job_id,
    const gchar * media_id, const RcxJobOutputs * outputs,
    GCancellable * cancellable, GError ** error);
gboolean rcx_jobs_fail (RcxJobs * jobs, const gchar * job_id,
    const gchar * media_id, const gchar * reason, GCancellable * cancellable,
    GError ** error);
gboolean rcx_jobs_release (RcxJobs * jobs, const gchar * job_id,
    const gchar * media_id, GCancellable * cancellable, GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxJob, rcx_job_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxJobs, rcx_jobs_free)

/* ---- lookup for the SQS worker ------------------------------------------ */

/* What the worker reads before it spawns a job: the job row and its media
 * asset. Only reads; the claim (in the child) decides who runs it. */
typedef struct {
  gchar *job_id;
  gchar *media_id;              /* jobs.media_id */
  gchar *org_id;                /* jobs.org_id */
  gchar *state;                 /* jobs.state */
  gchar *worker_id;             /* jobs.worker_id (NULL when none) */
  gchar *media_org_id;          /* media_assets.org_id (NULL: no such row) */
  gchar *source_key;            /* media_assets.source_key (may be NULL) */
} RcxJobLookup;

void rcx_job_lookup_free (RcxJobLookup * lookup);

/* The job and its media asset; NULL with RCX_JOBS_ERROR_NOT_FOUND when
 * there is no such job (a missing media asset leaves media_org_id NULL). */
RcxJobLookup *rcx_jobs_lookup (RcxJobs * jobs, const gchar * job_id,
    GCancellable * cancellable, GError ** error);

/* TRUE when the message's @media_id and @org_id are the job's and the
 * organisation owns the media; else FALSE with RCX_JOBS_ERROR_NOT_FOUND
 * and a reason that names no id. */
gboolean rcx_job_lookup_matches (const RcxJobLookup * lookup,
    const gchar * media_id, const gchar * org_id, GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RcxJobLookup, rcx_job_lookup_free)

G_END_DECLS
