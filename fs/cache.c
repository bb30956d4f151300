/*
 * cache.c - TTL cache with single-flight fetches and stale-on-error
 * (see cache.h).
 */
#include "cache.h"
#include "clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

int cache_init(struct collection *col, unsigned ttl_s, collection_fetch_fn fetch,
	       collection_publish_fn on_publish, void *ctx)
{
	pthread_condattr_t ca;
	int rc;

	memset(col, 0, sizeof(*col));
	col->ttl_ns = (uint64_t)ttl_s * 1000000000ull;
	col->stale_if_error_ns = UINT64_MAX;
	col->refresh_wait_ns = UINT64_MAX;
	col->fetch_idle_ns = CACHE_FETCH_IDLE_NS;
	col->fetch = fetch;
	col->on_publish = on_publish;
	col->ctx = ctx;
	col->now_ns = clock_now_ns;
	gcf_error_init(&col->last_err);
	rc = pthread_condattr_init(&ca);
	if (!rc)
		rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(&col->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (!rc)
		rc = pthread_mutex_init(&col->mu, NULL);
	return -rc;
}

void cache_release(struct collection *col)
{
	if (!col)
		return;
	pthread_mutex_lock(&col->mu);
	col->closing = true; /* no fetch starts any more */
	if (col->fetching)   /* a long one stops at its next wait */
		progress_cancel(&col->progress);
	while (col->bg_fetches) /* a fetch thread still uses col */
		pthread_cond_wait(&col->cv, &col->mu);
	pthread_mutex_unlock(&col->mu);
	snapshot_put(col->cur);
	col->cur = NULL;
	gcf_error_release(&col->last_err);
	free(col->progress.label);
	col->progress.label = NULL;
	pthread_cond_destroy(&col->cv);
	pthread_mutex_destroy(&col->mu);
}

static bool fresh(const struct collection *col, uint64_t now)
{
	return col->cur && !col->invalidated && now - col->cur->fetched_ns < col->ttl_ns;
}

/* Waits (mu held) until the fetch numbered `target` has finished or the
 * deadline passes. Returns 0 or ETIMEDOUT. */
static int wait_done(struct collection *col, uint64_t target, uint64_t deadline_ns,
		     const struct cache_cancel *cancel)
{
	while (col->done < target) {
		uint64_t until = deadline_ns;
		struct timespec ts;
		int rc;

		if (cancel && cancel->cancelled(cancel->arg))
			return EINTR;
		/* With a cancel check, wake up every CACHE_CANCEL_POLL_NS to look. */
		if (cancel) {
			uint64_t poll = clock_now_ns() + CACHE_CANCEL_POLL_NS;

			if (!until || poll < until)
				until = poll;
		}
		ts.tv_sec = until / 1000000000ull;
		ts.tv_nsec = until % 1000000000ull;
		rc = until ? pthread_cond_timedwait(&col->cv, &col->mu, &ts)
			   : pthread_cond_wait(&col->cv, &col->mu);
		if (rc == ETIMEDOUT && col->done < target && until == deadline_ns)
			return ETIMEDOUT;
	}
	return 0;
}

/* mu held: may the current snapshot stand in for a failed refresh? */
static bool stale_ok(const struct collection *col)
{
	uint64_t age;

	if (!col->cur)
		return false;
	if (col->stale_if_error_ns == UINT64_MAX)
		return true;
	age = col->now_ns() - col->cur->fetched_ns;
	return age <= col->ttl_ns + col->stale_if_error_ns;
}

bool cache_error_serves_stale(enum gcf_class cls)
{
	switch (cls) {
	case GCF_AUTH:
	case GCF_NOTFOUND:
	case GCF_PARAM:
	case GCF_CONFIG:
		return false;
	default:
		return true;
	}
}

/* mu held: the outcome of a fetch that returned rc (ferr set when it failed).
 * The one place that decides fresh, stale or failed. */
static enum cache_outcome decide(const struct collection *col, int rc, const struct gcf_error *ferr)
{
	if (!rc)
		return CACHE_FRESH;
	return col->cur && cache_error_serves_stale(ferr->cls) ? CACHE_STALE : CACHE_FAILED;
}

/* mu held: the answer after a finished fetch. */
static int answer(struct collection *col, struct snapshot **out, struct gcf_error *err)
{
	if (col->outcome == CACHE_STALE && stale_ok(col)) {
		col->stats.stale_serves++;
		*out = snapshot_get(col->cur);
		return 0;
	}
	if (col->last_rc) {
		gcf_error_copy(err, &col->last_err);
		return col->last_rc;
	}
	*out = snapshot_get(col->cur);
	return 0;
}

/* Publishes the outcome of fetch number target (mu not held): a failure is
 * told to on_failure first; then swaps the snapshot in (the replaced one
 * lives on in the readers that hold it), wakes the waiters, then tells
 * on_publish. Takes over fresh_snap and ferr. */
static void publish(struct collection *col, uint64_t target, uint64_t started, int rc,
		    struct snapshot *fresh_snap, struct gcf_error *ferr)
{
	struct snapshot *old = NULL, *pub = NULL;
	enum cache_outcome outcome = CACHE_FRESH;
	uint64_t now;

	progress_end(&col->progress, rc);
	if (rc) { /* single-flight: cur changes only below, in this thread */
		pthread_mutex_lock(&col->mu);
		outcome = decide(col, rc, ferr);
		pthread_mutex_unlock(&col->mu);
		if (col->on_failure)
			col->on_failure(col->ctx, col, outcome, ferr);
	}
	now = col->now_ns();
	pthread_mutex_lock(&col->mu);
	col->outcome = outcome;
	col->stats.fetches++;
	col->stats.last_fetch_ns = now;
	col->stats.last_fetch_duration_ns = now - started;
	if (!rc) {
		fresh_snap->fetched_ns = now;
		if (col->fetched_preset_ns && col->fetched_preset_ns < now)
			fresh_snap->fetched_ns =
			    col->cur && col->cur->fetched_ns >= col->fetched_preset_ns
				? (col->cur->fetched_ns < now ? col->cur->fetched_ns + 1 : now)
				: col->fetched_preset_ns;
		fresh_snap->gen = target;
		old = col->cur;
		col->cur = fresh_snap;
		pub = snapshot_get(fresh_snap); /* kept alive for on_publish */
		gcf_error_release(&col->last_err);
	} else {
		col->stats.failures++;
		gcf_error_move(&col->last_err, ferr);
		col->last_err_ns = now;
	}
	col->last_rc = rc;
	col->fetched_preset_ns = 0;
	col->done = target;
	col->fetching = false;
	col->soft = false;
	col->overdue = false;
	pthread_cond_broadcast(&col->cv);
	pthread_mutex_unlock(&col->mu);

	if (pub && col->on_publish)
		col->on_publish(col->ctx, col, old, pub);
	snapshot_put(pub);
	snapshot_put(old);
	gcf_error_release(ferr);
}

struct fetch_job {
	struct collection *col;
	uint64_t target, deadline_ns;
};

/* A fetch on a thread of its own: the caller who started it may give up
 * (Ctrl-C) while the fetch finishes for everybody else. */
static void *fetch_main(void *arg)
{
	struct fetch_job *job = arg;
	struct collection *col = job->col;
	struct snapshot *fresh_snap = NULL;
	struct gcf_error ferr = GCF_ERROR_INIT;
	uint64_t started = col->now_ns();
	int rc = col->fetch(col->ctx, col, job->deadline_ns, &fresh_snap, &ferr);

	publish(col, job->target, started, rc, fresh_snap, &ferr);
	pthread_mutex_lock(&col->mu);
	col->bg_fetches--;
	pthread_cond_broadcast(&col->cv);
	pthread_mutex_unlock(&col->mu);
	free(job);
	return NULL;
}

/* A reader's deadline passed while the fetch goes on: ETIMEDOUT, saying
 * how far the fetch got ("fetching, 640 of 2,000 pages, complete in about
 * 68 s"). */
static int timed_out(struct collection *col, struct gcf_error *err)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct progress_view v;
	int rc;

	progress_read(&col->progress, &v);
	if (v.state == PROGRESS_RUNNING && !progress_format(&v, col->fetch_idle_ns, &b))
		rc = gcf_error_set(err, GCF_TIMEOUT,
				   "operation deadline passed while waiting for the listing: %s",
				   buf_str(&b));
	else
		rc = gcf_error_set(err, GCF_TIMEOUT,
				   "operation deadline passed while waiting for the listing");
	buf_release(&b);
	return rc;
}

/* mu held: marks a fetch started (flags, progress) by a reader whose
 * deadline is reader_ns (0: none, or no reader). Returns its number;
 * *fetch_deadline gets its first deadline, which each page moves
 * (progress.h). */
static uint64_t begin_fetch(struct collection *col, uint64_t reader_ns, uint64_t *fetch_deadline)
{
	col->fetching = true;
	col->soft = col->cur && !col->invalidated;
	col->fetch_started_ns = clock_now_ns();
	col->invalidated = false;
	*fetch_deadline = progress_start(&col->progress, col->fetch_idle_ns, reader_ns);
	return ++col->gen;
}

/* mu held: runs fetch number target on a thread of its own. 0 or -errno
 * (then nothing runs it). */
static int spawn_fetch(struct collection *col, uint64_t target, uint64_t fetch_deadline)
{
	struct fetch_job *job = malloc(sizeof(*job));
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	if (!job)
		return -ENOMEM;
	*job = (struct fetch_job){col, target, fetch_deadline};
	col->bg_fetches++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, fetch_main, job);
	pthread_attr_destroy(&attr);
	if (rc) {
		col->bg_fetches--;
		free(job);
	}
	return -rc;
}

/* mu held: waits for fetch number target, then answers. A refresh of an
 * expired snapshot is waited for refresh_wait_ns from its start at most,
 * if that snapshot is still young enough to stand in for a failed refresh. */
static int await(struct collection *col, uint64_t target, uint64_t deadline_ns,
		 const struct cache_cancel *cancel, struct snapshot **out, struct gcf_error *err)
{
	uint64_t until = deadline_ns;
	int rc;

	if (col->soft && stale_ok(col) && col->refresh_wait_ns != UINT64_MAX &&
	    col->fetch_started_ns + col->refresh_wait_ns < (until ? until : UINT64_MAX))
		until = col->fetch_started_ns + col->refresh_wait_ns;
	rc = wait_done(col, target, until, cancel);
	if (rc == ETIMEDOUT && until != deadline_ns && col->cur) {
		col->overdue = true;
		col->stats.slow_refresh_serves++;
		*out = snapshot_get(col->cur);
		return 0;
	}
	if (rc == EINTR)
		return gcf_error_set(err, GCF_TIMEOUT, "interrupted while waiting for the listing"),
		       -EINTR;
	if (rc) {
		if (stale_ok(col)) { /* serve what we have rather than fail */
			col->stats.stale_serves++;
			*out = snapshot_get(col->cur);
			return 0;
		}
		return timed_out(col, err);
	}
	return answer(col, out, err);
}

/* mu held: serves the snapshot cache_seed installed, at once, and starts
 * its revalidation on a thread of its own unless one runs. false when that
 * thread cannot be started: the caller goes on as without a seed. */
static bool serve_seed(struct collection *col, uint64_t deadline_ns, struct snapshot **out)
{
	if (!col->fetching && !col->closing) {
		uint64_t fetch_deadline, target = begin_fetch(col, deadline_ns, &fetch_deadline);

		if (spawn_fetch(col, target, fetch_deadline)) {
			/* nothing runs it: undo, the caller fetches as usual */
			progress_end(&col->progress, -EAGAIN);
			col->fetching = col->soft = false;
			col->gen--;
			return false;
		}
		col->stats.misses++;
	}
	col->stats.stale_serves++;
	*out = snapshot_get(col->cur);
	return true;
}

void cache_seed(struct collection *col, struct snapshot *s)
{
	struct snapshot *old;
	uint64_t now;

	pthread_mutex_lock(&col->mu);
	now = col->now_ns();
	/* expired: as old as its TTL and a nanosecond */
	s->fetched_ns = now > col->ttl_ns ? now - col->ttl_ns - 1 : 0;
	old = col->cur;
	col->cur = s;
	col->seeded = true;
	col->overdue = true; /* stale until a fetch finishes */
	pthread_mutex_unlock(&col->mu);
	snapshot_put(old);
}

int cache_get(struct collection *col, uint64_t deadline_ns, struct snapshot **out,
	      struct gcf_error *err)
{
	return cache_get_cancel(col, deadline_ns, NULL, out, err);
}

int cache_get_cancel(struct collection *col, uint64_t deadline_ns,
		     const struct cache_cancel *cancel, struct snapshot **out,
		     struct gcf_error *err)
{
	struct snapshot *fresh_snap = NULL;
	struct gcf_error ferr = GCF_ERROR_INIT;
	uint64_t now, target, started, fetch_deadline;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&col->mu);
	now = col->now_ns();
	if (col->seeded && !col->done && !col->invalidated && serve_seed(col, deadline_ns, out)) {
		pthread_mutex_unlock(&col->mu);
		return 0;
	}
	if (fresh(col, now)) {
		col->stats.hits++;
		*out = snapshot_get(col->cur);
		pthread_mutex_unlock(&col->mu);
		return 0;
	}
	/* A recent failure is repeated (or the stale snapshot served) rather
	 * than asking the cloud again at once. */
	if (col->done && col->last_rc && !col->invalidated && !col->fetching &&
	    now - col->last_err_ns < CACHE_ERROR_HOLD_NS) {
		rc = answer(col, out, err);
		pthread_mutex_unlock(&col->mu);
		return rc;
	}
	if (col->fetching) {
		col->stats.coalesced++;
		rc = await(col, col->gen, deadline_ns, cancel, out, err);
		pthread_mutex_unlock(&col->mu);
		return rc;
	}

	/* This caller starts the fetch, on a thread of its own: it outlives
	 * the caller, and its deadline is not the caller's. */
	col->stats.misses++;
	target = begin_fetch(col, deadline_ns, &fetch_deadline);
	if (!spawn_fetch(col, target, fetch_deadline)) {
		rc = await(col, target, deadline_ns, cancel, out, err);
		pthread_mutex_unlock(&col->mu);
		return rc;
	}
	pthread_mutex_unlock(&col->mu);

	/* No thread: fetch in this one. */
	started = col->now_ns();
	rc = col->fetch(col->ctx, col, fetch_deadline, &fresh_snap, &ferr);
	publish(col, target, started, rc, fresh_snap, &ferr);
	pthread_mutex_lock(&col->mu);
	rc = col->done == target ? answer(col, out, err)
				 : await(col, target, deadline_ns, NULL, out, err);
	pthread_mutex_unlock(&col->mu);
	return rc;
}

int cache_prefetch(struct collection *col)
{
	struct gcf_error ferr = GCF_ERROR_INIT;
	uint64_t target, fetch_deadline;
	int rc;

	pthread_mutex_lock(&col->mu);
	if (col->closing || col->fetching || fresh(col, col->now_ns())) {
		pthread_mutex_unlock(&col->mu);
		return 0;
	}
	target = begin_fetch(col, 0, &fetch_deadline);
	rc = spawn_fetch(col, target, fetch_deadline);
	pthread_mutex_unlock(&col->mu);
	if (rc) { /* the fetch that could not start fails, for whoever waits */
		gcf_error_set(&ferr, GCF_NOMEM, "no thread for the prefetch");
		publish(col, target, col->now_ns(), rc, NULL, &ferr);
	}
	return rc;
}

void cache_progress(struct collection *col, struct progress_view *v)
{
	progress_read(&col->progress, v);
}

struct snapshot *cache_peek(struct collection *col)
{
	struct snapshot *s;

	pthread_mutex_lock(&col->mu);
	s = snapshot_get(col->cur);
	pthread_mutex_unlock(&col->mu);
	return s;
}

struct snapshot *cache_peek_fresh(struct collection *col)
{
	struct snapshot *s = NULL;

	pthread_mutex_lock(&col->mu);
	if (fresh(col, col->now_ns()))
		s = snapshot_get(col->cur);
	pthread_mutex_unlock(&col->mu);
	return s;
}

void cache_invalidate(struct collection *col)
{
	pthread_mutex_lock(&col->mu);
	col->invalidated = true;
	pthread_mutex_unlock(&col->mu);
}

void cache_status(struct collection *col, bool *stale, struct gcf_error *last_err,
		  struct collection_stats *st)
{
	pthread_mutex_lock(&col->mu);
	if (stale)
		*stale = col->outcome == CACHE_STALE || col->overdue;
	if (last_err)
		gcf_error_copy(last_err, &col->last_err);
	if (st)
		*st = col->stats;
	pthread_mutex_unlock(&col->mu);
}
