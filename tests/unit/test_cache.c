/*
 * test_cache.c - fs/cache.c: a collection answers from its snapshot while
 * it is younger than the TTL, fetches once when it is missing, expired or
 * invalidated, shares one fetch among concurrent callers (single-flight),
 * keeps and serves the previous snapshot when a refresh fails (stale), and
 * repeats an error for CACHE_ERROR_HOLD_NS before asking the cloud again.
 * A failed fetch is told to on_failure with its outcome (stale or failed)
 * before anyone gets the answer.
 *
 * Time is a fake monotonic clock (col.now_ns); the fetch function is a fake
 * that counts calls, fails on demand and can be held until released.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cache.h"
#include "clock.h"
#include "gcf_error.h"
#include "http.h"
#include "snapshot.h"

#define SEC   1000000000ull
#define TTL_S 60

/* The fake monotonic clock: function pointers carry no context. */
static _Atomic uint64_t fake_clock;

static uint64_t fake_now(void)
{
	return atomic_load(&fake_clock);
}

static void advance(uint64_t ns)
{
	atomic_fetch_add(&fake_clock, ns);
}

struct fake {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fetches;  /* calls to fake_fetch */
	int fail;     /* when set, fetches fail: 1 GCF_SERVER, 2 GCF_AUTH */
	bool hold;    /* fetches wait here until cleared */
	bool entered; /* a fetch is waiting in hold */
	int publishes;
	struct snapshot *pub_old, *pub_new;
	int failures;                  /* calls to fake_failed */
	enum cache_outcome outcome;    /* the last one told */
	enum gcf_class failed_cls;     /* its error's class */
	unsigned long failures_before; /* stats.failures when it was told */
	unsigned pages;                /* when set, fetches report that many pages of 10 */
	uint64_t deadline;             /* the deadline the last fetch was given */
	uint64_t preset;               /* when set, a fetch sets col->fetched_preset_ns */
	struct collection col;
};

static struct snapshot *new_snapshot(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	atomic_init(&s->refs, 1);
	return s;
}

static int fake_fetch(void *ctx, struct collection *col, uint64_t deadline_ns,
		      struct snapshot **out, struct gcf_error *err)
{
	struct fake *f = ctx;
	int fail;

	unsigned pages;

	pthread_mutex_lock(&f->mu);
	f->fetches++;
	f->deadline = deadline_ns;
	pages = f->pages;
	if (pages) { /* page 0 done, the rest after the hold */
		progress_page(&col->progress, 10);
		progress_total(&col->progress, pages, 10);
	}
	f->entered = true;
	pthread_cond_broadcast(&f->cv);
	while (f->hold)
		pthread_cond_wait(&f->cv, &f->mu);
	f->entered = false;
	fail = f->fail;
	pthread_mutex_unlock(&f->mu);
	for (unsigned i = 1; i < pages; i++)
		progress_page(&col->progress, 10);
	if (fail == 2) {
		gcf_error_set_code(err, "AuthFailure.SecretIdNotFound");
		return gcf_error_set(err, GCF_AUTH, "the key was revoked");
	}
	if (fail) {
		gcf_error_set_code(err, "InternalError");
		gcf_error_set_request_id(err, "req-42");
		err->http_status = 500;
		return gcf_error_set(err, GCF_SERVER, "the cloud broke");
	}
	*out = new_snapshot();
	pthread_mutex_lock(&f->mu);
	if (f->preset)
		col->fetched_preset_ns = f->preset;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static void fake_publish(void *ctx, struct collection *col, struct snapshot *old,
			 struct snapshot *fresh)
{
	struct fake *f = ctx;

	pthread_mutex_lock(&f->mu);
	f->publishes++;
	f->pub_old = old;
	f->pub_new = fresh;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void fake_failed(void *ctx, struct collection *col, enum cache_outcome outcome,
			const struct gcf_error *err)
{
	struct fake *f = ctx;
	struct collection_stats st;

	cache_status(col, NULL, NULL, &st);
	pthread_mutex_lock(&f->mu);
	f->failures++;
	f->outcome = outcome;
	f->failed_cls = err->cls;
	f->failures_before = st.failures;
	pthread_mutex_unlock(&f->mu);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (cache_init(&f->col, TTL_S, fake_fetch, fake_publish, f))
		return -1;
	atomic_store(&fake_clock, 1000 * SEC);
	f->col.now_ns = fake_now;
	f->col.on_failure = fake_failed;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	pthread_mutex_lock(&f->mu); /* a test that failed may have left one held */
	f->hold = false;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	cache_release(&f->col);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return 0;
}

static int fetches(struct fake *f)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->fetches;
	pthread_mutex_unlock(&f->mu);
	return n;
}

static void set_fail(struct fake *f, int fail)
{
	pthread_mutex_lock(&f->mu);
	f->fail = fail;
	pthread_mutex_unlock(&f->mu);
}

/* Polls (bounded by 10 s of real time) until no fetch thread runs: the
 * fetch thread tells on_publish and drops its references after waking the
 * readers. */
static void wait_fetch_threads(struct fake *f)
{
	uint64_t until = clock_now_ns() + 10 * SEC;
	unsigned n;

	for (;;) {
		pthread_mutex_lock(&f->col.mu);
		n = f->col.bg_fetches;
		pthread_mutex_unlock(&f->col.mu);
		if (!n)
			break;
		if (clock_now_ns() > until)
			fail_msg("a fetch thread still runs");
		sched_yield();
	}
}

/* cache_get that must succeed; returns the snapshot (one reference). */
static struct snapshot *get_ok(struct fake *f)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *s = NULL;

	assert_int_equal(cache_get(&f->col, 0, &s, &err), 0);
	assert_non_null(s);
	assert_int_equal(err.errnum, 0);
	wait_fetch_threads(f); /* its references dropped too */
	return s;
}

static void test_cache_first_get_fetches(void **state)
{
	struct fake *f = *state;
	struct collection_stats st;
	struct snapshot *s;

	assert_null(cache_peek(&f->col));
	s = get_ok(f);
	assert_int_equal(fetches(f), 1);
	assert_ptr_equal(cache_peek(&f->col), s);
	snapshot_put(s); /* the peek's reference */
	assert_int_equal(s->fetched_ns, 1000 * SEC);
	cache_status(&f->col, NULL, NULL, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.fetches, 1);
	assert_int_equal(st.hits, 0);
	snapshot_put(s);
}

static void test_cache_hit_within_ttl_does_not_fetch(void **state)
{
	struct fake *f = *state;
	struct collection_stats st;
	struct snapshot *a = get_ok(f), *b;

	advance(TTL_S * SEC - 1);
	b = get_ok(f);
	assert_ptr_equal(a, b);
	assert_int_equal(fetches(f), 1);
	cache_status(&f->col, NULL, NULL, &st);
	assert_int_equal(st.hits, 1);
	snapshot_put(a);
	snapshot_put(b);
}

static void test_cache_refetch_after_ttl(void **state)
{
	struct fake *f = *state;
	struct snapshot *a = get_ok(f), *b;

	advance(TTL_S * SEC);
	b = get_ok(f);
	assert_int_equal(fetches(f), 2);
	assert_ptr_not_equal(a, b);
	assert_true(b->gen > a->gen);
	/* a reader of the old snapshot keeps a valid reference, and only it:
	 * the cache holds one snapshot, not the one it replaced too (a file's
	 * node keeps its own version of the bytes, inode.h) */
	assert_int_equal(atomic_load(&a->refs), 1);
	snapshot_put(a);
	snapshot_put(b);
}

/* A fetch callback that got an older snapshot (another host's, fleet mode)
 * dates it: its TTL runs from then, not from the install. The date is
 * never after now nor before the current snapshot's, and used once. */
static void test_cache_preset_fetched_ns(void **state)
{
	struct fake *f = *state;
	struct snapshot *a, *b, *c;

	f->preset = fake_now() - 20 * SEC;
	a = get_ok(f);
	assert_int_equal(a->fetched_ns, fake_now() - 20 * SEC);
	assert_int_equal(f->col.fetched_preset_ns, 0);
	advance((TTL_S - 20) * SEC - 1);
	snapshot_put(get_ok(f)); /* still fresh: a hit */
	assert_int_equal(fetches(f), 1);
	advance(1);
	/* expired 20 s early; a preset older than the current one is clamped */
	f->preset = a->fetched_ns - SEC;
	b = get_ok(f);
	assert_int_equal(fetches(f), 2);
	assert_int_equal(b->fetched_ns, a->fetched_ns + 1);
	/* no preset: now */
	f->preset = 0;
	advance(TTL_S * SEC);
	c = get_ok(f);
	assert_int_equal(fetches(f), 3);
	assert_int_equal(c->fetched_ns, fake_now());
	snapshot_put(a);
	snapshot_put(b);
	snapshot_put(c);
}

static void test_cache_invalidate_forces_refetch(void **state)
{
	struct fake *f = *state;
	struct snapshot *a = get_ok(f), *b, *c;

	cache_invalidate(&f->col);
	b = get_ok(f);
	assert_int_equal(fetches(f), 2);
	assert_ptr_not_equal(a, b);
	/* only once: the next get is a hit again */
	c = get_ok(f);
	assert_ptr_equal(b, c);
	assert_int_equal(fetches(f), 2);
	snapshot_put(a);
	snapshot_put(b);
	snapshot_put(c);
}

static void test_cache_failed_refresh_serves_stale(void **state)
{
	struct fake *f = *state;
	struct gcf_error last = GCF_ERROR_INIT;
	struct collection_stats st;
	struct snapshot *a = get_ok(f), *b, *c;
	bool stale = false;

	cache_status(&f->col, &stale, NULL, NULL);
	assert_false(stale);
	advance(TTL_S * SEC);
	set_fail(f, 1);
	b = get_ok(f);
	assert_ptr_equal(a, b);
	assert_int_equal(fetches(f), 2);
	cache_status(&f->col, &stale, &last, &st);
	assert_true(stale);
	assert_int_equal(last.errnum, EIO);
	assert_int_equal(last.cls, GCF_SERVER);
	assert_string_equal(last.code, "InternalError");
	assert_string_equal(last.request_id, "req-42");
	assert_int_equal(last.http_status, 500);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.stale_serves, 1);
	gcf_error_release(&last);

	/* within the hold the stale snapshot is served without asking again */
	advance(CACHE_ERROR_HOLD_NS / 2);
	c = get_ok(f);
	assert_ptr_equal(a, c);
	assert_int_equal(fetches(f), 2);
	snapshot_put(c);

	/* after it, a successful refresh clears stale and the error */
	advance(CACHE_ERROR_HOLD_NS);
	set_fail(f, 0);
	c = get_ok(f);
	assert_ptr_not_equal(a, c);
	assert_int_equal(fetches(f), 3);
	cache_status(&f->col, &stale, &last, NULL);
	assert_false(stale);
	assert_int_equal(last.errnum, 0);
	snapshot_put(a);
	snapshot_put(b);
	snapshot_put(c);
}

/* Revoked credentials are not a server error: EACCES at once, the previous
 * snapshot is not served (nor marked stale) whatever stale_if_error says. */
static void test_cache_auth_failure_not_served_stale(void **state)
{
	struct fake *f = *state;
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *a = get_ok(f), *s = NULL;
	bool stale = true;

	advance(TTL_S * SEC);
	set_fail(f, 2);
	assert_int_equal(cache_get(&f->col, 0, &s, &err), -EACCES);
	assert_null(s);
	assert_int_equal(err.cls, GCF_AUTH);
	assert_string_equal(err.code, "AuthFailure.SecretIdNotFound");
	cache_status(&f->col, &stale, NULL, NULL);
	assert_false(stale);
	assert_true(cache_error_serves_stale(GCF_SERVER));
	assert_true(cache_error_serves_stale(GCF_TIMEOUT));
	assert_false(cache_error_serves_stale(GCF_PARAM));
	gcf_error_release(&err);
	snapshot_put(a);
}

static void test_cache_error_without_snapshot_held_then_retried(void **state)
{
	struct fake *f = *state;
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *s = NULL;
	bool stale = true;

	set_fail(f, 1);
	assert_int_equal(cache_get(&f->col, 0, &s, &err), -EIO);
	assert_null(s);
	assert_int_equal(err.errnum, EIO);
	assert_string_equal(err.code, "InternalError");
	assert_int_equal(fetches(f), 1);
	cache_status(&f->col, &stale, NULL, NULL);
	assert_false(stale); /* nothing to be stale */
	gcf_error_release(&err);

	/* repeated, not refetched, during the hold */
	advance(CACHE_ERROR_HOLD_NS - 1);
	assert_int_equal(cache_get(&f->col, 0, &s, &err), -EIO);
	assert_null(s);
	assert_string_equal(err.code, "InternalError");
	assert_int_equal(fetches(f), 1);
	gcf_error_release(&err);

	/* retried once it has passed */
	advance(1);
	assert_int_equal(cache_get(&f->col, 0, &s, &err), -EIO);
	assert_int_equal(fetches(f), 2);
	gcf_error_release(&err);

	advance(CACHE_ERROR_HOLD_NS);
	set_fail(f, 0);
	s = get_ok(f);
	assert_int_equal(fetches(f), 3);
	snapshot_put(s);
}

static void test_cache_invalidate_skips_error_hold(void **state)
{
	struct fake *f = *state;
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *s = NULL;

	set_fail(f, 1);
	assert_int_equal(cache_get(&f->col, 0, &s, &err), -EIO);
	gcf_error_release(&err);
	set_fail(f, 0);
	cache_invalidate(&f->col);
	s = get_ok(f);
	assert_int_equal(fetches(f), 2);
	snapshot_put(s);
}

static void test_cache_on_publish_old_and_new(void **state)
{
	struct fake *f = *state;
	struct snapshot *a, *b;

	a = get_ok(f);
	wait_fetch_threads(f);
	assert_int_equal(f->publishes, 1);
	assert_null(f->pub_old);
	assert_ptr_equal(f->pub_new, a);
	advance(TTL_S * SEC);
	b = get_ok(f); /* a still referenced here: its address is not reused */
	wait_fetch_threads(f);
	assert_int_equal(f->publishes, 2);
	assert_ptr_equal(f->pub_old, a);
	assert_ptr_equal(f->pub_new, b);
	/* a failed refresh publishes nothing */
	advance(TTL_S * SEC);
	set_fail(f, 1);
	snapshot_put(get_ok(f));
	wait_fetch_threads(f);
	assert_int_equal(f->publishes, 2);
	snapshot_put(a);
	snapshot_put(b);
}

/* The outcome is decided once, in cache.c, and told before the answer:
 * failed without a snapshot, stale over one (server error), failed over
 * one for an error a snapshot may not cover (auth); never for a success. */
static void test_cache_on_failure_tells_outcome(void **state)
{
	struct fake *f = *state;
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *a, *s = NULL;
	bool stale = true;

	set_fail(f, 1);
	assert_int_equal(cache_get(&f->col, 0, &s, &err), -EIO);
	gcf_error_release(&err);
	assert_int_equal(f->failures, 1);
	assert_int_equal(f->outcome, CACHE_FAILED);
	assert_int_equal(f->failed_cls, GCF_SERVER);
	assert_int_equal(f->failures_before, 0); /* told before it was published */

	advance(CACHE_ERROR_HOLD_NS);
	set_fail(f, 0);
	a = get_ok(f);
	assert_int_equal(f->failures, 1);

	advance(TTL_S * SEC);
	set_fail(f, 1);
	snapshot_put(get_ok(f));
	assert_int_equal(f->failures, 2);
	assert_int_equal(f->outcome, CACHE_STALE);
	assert_int_equal(f->failures_before, 1);
	cache_status(&f->col, &stale, NULL, NULL);
	assert_true(stale);

	advance(CACHE_ERROR_HOLD_NS);
	set_fail(f, 2);
	assert_int_equal(cache_get(&f->col, 0, &s, &err), -EACCES);
	gcf_error_release(&err);
	assert_int_equal(f->failures, 3);
	assert_int_equal(f->outcome, CACHE_FAILED);
	assert_int_equal(f->failed_cls, GCF_AUTH);
	cache_status(&f->col, &stale, NULL, NULL);
	assert_false(stale);
	snapshot_put(a);
}

/* ---- single-flight -------------------------------------------------- */

#define NTHREADS 8

struct getter {
	struct fake *f;
	uint64_t deadline_ns;
	int rc;
	struct snapshot *s;
	struct gcf_error err;
	pthread_t tid;
};

static void *getter_run(void *arg)
{
	struct getter *g = arg;

	g->rc = cache_get(&g->f->col, g->deadline_ns, &g->s, &g->err);
	return NULL;
}

static void start_getter(struct getter *g, struct fake *f, uint64_t deadline_ns)
{
	memset(g, 0, sizeof(*g));
	g->f = f;
	g->deadline_ns = deadline_ns;
	gcf_error_init(&g->err);
	assert_int_equal(pthread_create(&g->tid, NULL, getter_run, g), 0);
}

static void hold_fetches(struct fake *f, bool on)
{
	pthread_mutex_lock(&f->mu);
	f->hold = on;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* Waits (condition variable, bounded by real time) for a fetch to sit in
 * the hold. */
static void wait_fetch_entered(struct fake *f)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&f->mu);
	while (!f->entered && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&f->cv, &f->mu, &ts);
	pthread_mutex_unlock(&f->mu);
	assert_int_not_equal(rc, ETIMEDOUT);
}

/* Waits (condition variable, bounded by real time) until n snapshots were
 * published. */
static void wait_published(struct fake *f, int n)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&f->mu);
	while (f->publishes < n && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&f->cv, &f->mu, &ts);
	pthread_mutex_unlock(&f->mu);
	assert_int_not_equal(rc, ETIMEDOUT);
}

/* Polls the cache's own counter until n callers wait on the fetch in
 * flight; bounded by 10 s of real time. A caller counted there holds the
 * collection mutex until it sleeps on the condition variable, so once
 * cache_status (which takes that mutex) sees n, all n are asleep. */
static void wait_coalesced(struct fake *f, unsigned long n)
{
	uint64_t until = clock_now_ns() + 10 * SEC;
	struct collection_stats st;

	for (;;) {
		cache_status(&f->col, NULL, NULL, &st);
		if (st.coalesced >= n)
			break;
		if (clock_now_ns() > until)
			fail_msg("only %lu of %lu callers waiting", st.coalesced, n);
		sched_yield();
	}
	assert_int_equal(st.coalesced, n);
}

static void test_cache_single_flight(void **state)
{
	struct fake *f = *state;
	struct getter g[NTHREADS];
	struct collection_stats st;

	hold_fetches(f, true);
	for (int i = 0; i < NTHREADS; i++)
		start_getter(&g[i], f, 0);
	wait_fetch_entered(f);
	wait_coalesced(f, NTHREADS - 1);
	hold_fetches(f, false);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(g[i].tid, NULL);
	wait_fetch_threads(f);

	assert_int_equal(fetches(f), 1);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(g[i].rc, 0);
		assert_ptr_equal(g[i].s, g[0].s);
	}
	/* the collection's reference plus one per caller */
	assert_int_equal(atomic_load(&g[0].s->refs), NTHREADS + 1);
	cache_status(&f->col, NULL, NULL, &st);
	assert_int_equal(st.fetches, 1);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.coalesced, NTHREADS - 1);
	for (int i = 0; i < NTHREADS; i++)
		snapshot_put(g[i].s);
}

static void test_cache_single_flight_failure_shared(void **state)
{
	struct fake *f = *state;
	struct getter g[NTHREADS];

	set_fail(f, 1);
	hold_fetches(f, true);
	for (int i = 0; i < NTHREADS; i++)
		start_getter(&g[i], f, 0);
	wait_fetch_entered(f);
	wait_coalesced(f, NTHREADS - 1);
	hold_fetches(f, false);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(g[i].tid, NULL);
	assert_int_equal(fetches(f), 1);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(g[i].rc, -EIO);
		assert_null(g[i].s);
		assert_string_equal(g[i].err.code, "InternalError");
		gcf_error_release(&g[i].err);
	}
}

static void test_cache_waiter_deadline_times_out(void **state)
{
	struct fake *f = *state;
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *s = NULL;
	struct getter fetcher;

	hold_fetches(f, true);
	start_getter(&fetcher, f, 0);
	wait_fetch_entered(f);
	/* deadline_ns is CLOCK_MONOTONIC; 1 ns after boot is long past */
	assert_int_equal(cache_get(&f->col, 1, &s, &err), -ETIMEDOUT);
	assert_null(s);
	assert_int_equal(err.errnum, ETIMEDOUT);
	assert_int_equal(err.cls, GCF_TIMEOUT);
	assert_non_null(err.message);
	gcf_error_release(&err);
	hold_fetches(f, false);
	pthread_join(fetcher.tid, NULL);
	assert_int_equal(fetcher.rc, 0);
	assert_non_null(fetcher.s);
	assert_int_equal(fetches(f), 1);
	snapshot_put(fetcher.s);
}

static void test_cache_waiter_deadline_served_previous(void **state)
{
	struct fake *f = *state;
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *a = get_ok(f), *s = NULL;
	struct getter fetcher;

	advance(TTL_S * SEC);
	hold_fetches(f, true);
	start_getter(&fetcher, f, 0);
	wait_fetch_entered(f);
	assert_int_equal(cache_get(&f->col, 1, &s, &err), 0);
	assert_ptr_equal(s, a);
	assert_int_equal(err.errnum, 0);
	hold_fetches(f, false);
	pthread_join(fetcher.tid, NULL);
	assert_int_equal(fetcher.rc, 0);
	assert_ptr_not_equal(fetcher.s, a);
	snapshot_put(s);
	snapshot_put(a);
	snapshot_put(fetcher.s);
}

/* A refresh of an expired snapshot holds readers for refresh_wait_ns at
 * most (0 here: not at all), the reader that started it included: they get
 * the old snapshot, marked stale, while the refresh goes on on its own
 * thread; its result then replaces it and clears the mark. */
static void test_cache_slow_refresh_serves_previous(void **state)
{
	struct fake *f = *state;
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *a = get_ok(f), *s = NULL, *b;
	struct collection_stats st;
	struct getter fetcher;
	bool stale = false;

	f->col.refresh_wait_ns = 0;
	advance(TTL_S * SEC);
	hold_fetches(f, true);
	start_getter(&fetcher, f, 0);
	wait_fetch_entered(f);
	pthread_join(fetcher.tid, NULL); /* answered while its fetch is held */
	assert_int_equal(fetcher.rc, 0);
	assert_ptr_equal(fetcher.s, a);
	assert_int_equal(cache_get(&f->col, 0, &s, &err), 0); /* no deadline: not the reason */
	assert_ptr_equal(s, a);
	cache_status(&f->col, &stale, NULL, &st);
	assert_true(stale);
	assert_int_equal(st.slow_refresh_serves, 2);
	hold_fetches(f, false);
	wait_published(f, 2);
	cache_status(&f->col, &stale, NULL, NULL);
	assert_false(stale);
	b = get_ok(f);
	assert_ptr_not_equal(b, a);
	assert_int_equal(fetches(f), 1 + 1);
	snapshot_put(b);
	snapshot_put(s);
	snapshot_put(a);
	snapshot_put(fetcher.s);
}

/* With a refresh of a (refresh_wait 0) collection held in flight, a second
 * reader waits for it and gets its result, not the snapshot `a` it replaces. */
static void check_reader_waits_for_refresh(struct fake *f, struct snapshot *a)
{
	struct getter fetcher, reader;

	hold_fetches(f, true);
	start_getter(&fetcher, f, 0);
	wait_fetch_entered(f);
	start_getter(&reader, f, 0);
	wait_coalesced(f, 1);
	hold_fetches(f, false);
	pthread_join(fetcher.tid, NULL);
	pthread_join(reader.tid, NULL);
	assert_int_equal(reader.rc, 0);
	assert_ptr_not_equal(reader.s, a);
	assert_ptr_equal(reader.s, fetcher.s);
	snapshot_put(fetcher.s);
	snapshot_put(reader.s);
}

/* A snapshot too old to stand in for a failed refresh (past TTL +
 * stale_if_error) does not stand in for a slow one either: it is waited for. */
static void test_cache_slow_refresh_of_too_old_snapshot_is_waited_for(void **state)
{
	struct fake *f = *state;
	struct snapshot *a = get_ok(f);

	f->col.refresh_wait_ns = 0;
	f->col.stale_if_error_ns = 0;
	advance(TTL_S * SEC + 1);
	check_reader_waits_for_refresh(f, a);
	snapshot_put(a);
}

/* A refresh someone asked for (invalidate: SIGHUP, .gpucloudfs/refresh) is
 * waited for, whatever refresh_wait_ns says. */
static void test_cache_invalidated_refresh_is_waited_for(void **state)
{
	struct fake *f = *state;
	struct snapshot *a = get_ok(f);

	f->col.refresh_wait_ns = 0;
	advance(TTL_S * SEC); /* else the reader is answered from the unexpired one */
	cache_invalidate(&f->col);
	check_reader_waits_for_refresh(f, a);
	snapshot_put(a);
}

/* ---- a fetch longer than op_timeout ----------------------------------- */

/* A reader whose deadline passes while the fetch it started goes on gets
 * ETIMEDOUT saying how far the fetch got; the fetch, not bounded by that
 * deadline, completes on its own thread, and the next reader is answered
 * from memory without another fetch. */
static void test_cache_fetch_outlives_reader_deadline(void **state)
{
	struct fake *f = *state;
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *s = NULL, *b;
	struct collection_stats st;
	struct progress_view v;
	uint64_t reader_deadline = clock_now_ns() + 50000000ull; /* 50 ms */

	f->pages = 4;
	hold_fetches(f, true);
	assert_int_equal(cache_get(&f->col, reader_deadline, &s, &err), -ETIMEDOUT);
	assert_null(s);
	assert_int_equal(err.cls, GCF_TIMEOUT);
	assert_non_null(strstr(err.message, "fetching, 1 of 4 pages"));
	gcf_error_release(&err);
	/* the fetch began with the reader's deadline; its first page moved it
	 * to op_timeout (default) from then */
	assert_int_equal(f->deadline, reader_deadline);
	assert_true(progress_deadline(&f->col.progress) >
		    reader_deadline + CACHE_FETCH_IDLE_NS / 2);
	cache_progress(&f->col, &v);
	assert_int_equal(v.state, PROGRESS_RUNNING);
	assert_int_equal(v.pages_done, 1);

	hold_fetches(f, false);
	wait_published(f, 1);
	wait_fetch_threads(f);
	cache_progress(&f->col, &v);
	assert_int_equal(v.state, PROGRESS_DONE);
	assert_int_equal(v.pages_done, 4);
	assert_int_equal(v.objects, 40);
	b = get_ok(f);
	assert_ptr_equal(b, f->pub_new);
	assert_int_equal(fetches(f), 1);
	cache_status(&f->col, NULL, NULL, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.fetches, 1);
	snapshot_put(b);
}

/* A fetch that made no progress for fetch_idle_ns and failed is abandoned
 * (not merely failed); one that kept getting pages past the first
 * deadline is not. Progress runs on the fake clock here. */
static void test_cache_stalled_fetch_abandoned(void **state)
{
	struct fake *f = *state;
	struct progress_view v;
	struct getter g;

	f->col.progress.now_ns = fake_now;
	f->col.fetch_idle_ns = 10 * SEC;
	set_fail(f, 1);
	hold_fetches(f, true);
	start_getter(&g, f, 0);
	wait_fetch_entered(f);
	advance(11 * SEC); /* no page for longer than the idle limit */
	hold_fetches(f, false);
	pthread_join(g.tid, NULL); /* no deadline: it waits for the outcome */
	assert_int_equal(g.rc, -EIO);
	gcf_error_release(&g.err);
	cache_progress(&f->col, &v);
	assert_int_equal(v.state, PROGRESS_ABANDONED);
	wait_fetch_threads(f);

	/* pages every 4 s for 40 s: the deadline moves, nothing is abandoned */
	assert_int_equal(progress_start(&f->col.progress, 10 * SEC, 0), fake_now() + 10 * SEC);
	for (int i = 0; i < 10; i++) {
		advance(4 * SEC);
		progress_page(&f->col.progress, 1);
	}
	assert_int_equal(progress_deadline(&f->col.progress), fake_now() + 10 * SEC);
	progress_end(&f->col.progress, -EIO);
	cache_progress(&f->col, &v);
	assert_int_equal(v.state, PROGRESS_FAILED);
}

/* cache_prefetch starts a fetch and returns at once; a reader then shares
 * it, and a prefetch of a fresh collection does nothing. */
static void test_cache_prefetch(void **state)
{
	struct fake *f = *state;
	struct getter reader;
	struct snapshot *s;

	hold_fetches(f, true);
	assert_int_equal(cache_prefetch(&f->col), 0);
	wait_fetch_entered(f);
	assert_int_equal(cache_prefetch(&f->col), 0); /* one in flight: nothing more */
	start_getter(&reader, f, 0);
	wait_coalesced(f, 1);
	hold_fetches(f, false);
	pthread_join(reader.tid, NULL);
	assert_int_equal(reader.rc, 0);
	wait_fetch_threads(f);
	assert_int_equal(fetches(f), 1);
	assert_int_equal(cache_prefetch(&f->col), 0); /* fresh: nothing */
	wait_fetch_threads(f);
	s = get_ok(f);
	assert_ptr_equal(s, reader.s);
	assert_int_equal(fetches(f), 1);
	snapshot_put(s);
	snapshot_put(reader.s);
}

static void test_cache_release_null_ok(void **state)
{
	cache_release(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_cache_first_get_fetches),
	    T(test_cache_hit_within_ttl_does_not_fetch),
	    T(test_cache_refetch_after_ttl),
	    T(test_cache_preset_fetched_ns),
	    T(test_cache_invalidate_forces_refetch),
	    T(test_cache_failed_refresh_serves_stale),
	    T(test_cache_error_without_snapshot_held_then_retried),
	    T(test_cache_invalidate_skips_error_hold),
	    T(test_cache_on_publish_old_and_new),
	    T(test_cache_on_failure_tells_outcome),
	    T(test_cache_single_flight),
	    T(test_cache_single_flight_failure_shared),
	    T(test_cache_waiter_deadline_times_out),
	    T(test_cache_waiter_deadline_served_previous),
	    T(test_cache_auth_failure_not_served_stale),
	    T(test_cache_slow_refresh_serves_previous),
	    T(test_cache_invalidated_refresh_is_waited_for),
	    T(test_cache_slow_refresh_of_too_old_snapshot_is_waited_for),
	    T(test_cache_fetch_outlives_reader_deadline),
	    T(test_cache_stalled_fetch_abandoned),
	    T(test_cache_prefetch),
	    cmocka_unit_test(test_cache_release_null_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
