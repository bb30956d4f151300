/*
 * cache.h - one collection per (connection, kind [, filter]): TTL,
 * single-flight, stale-on-error, snapshot references.
 *
 * cache_get() returns the current snapshot when it is younger than the TTL.
 * Otherwise the first caller becomes the fetcher: it calls col->fetch with no
 * lock held while the others wait on the collection's condition variable,
 * each until its own deadline, and all then share the one result. A new
 * snapshot is published by swapping a pointer under the mutex; the old one is
 * freed when its last reader drops it. A refresh that fails keeps the
 * previous snapshot, which is then served and marked stale; the error is
 * kept (col->last_err) for the status files; once the snapshot is older
 * than TTL + stale_if_error_ns the error surfaces instead. Without any
 * snapshot the error is returned, and repeated for ERROR_HOLD before the cloud is asked again.
 * A refresh of a snapshot past its TTL (but within stale_if_error_ns of it)
 * holds readers back for at most refresh_wait_ns from its start: then they
 * get that snapshot, marked stale, while the refresh goes on (a refresh
 * asked for with cache_invalidate is always waited for).
 *
 * A fetch always runs on a thread of its own and is not bounded by the
 * deadline of the reader that started it: it goes on as long as pages keep
 * arriving, and is abandoned once none came for fetch_idle_ns (progress.h);
 * only its first page must come before that reader's deadline.
 * Readers still wait until their own deadline only; one that times out
 * while a long fetch progresses gets ETIMEDOUT (or the previous snapshot,
 * marked stale, when it may stand in), with the fetch's progress in the
 * message, and the first reader after the fetch completes is answered from
 * memory. col->progress says how far the fetch in flight (or the last one)
 * got, for the status files.
 */
#ifndef GCF_CACHE_H
#define GCF_CACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "defaults.h" /* CACHE_ERROR_HOLD_NS, CACHE_CANCEL_POLL_NS */
#include "gcf_error.h"
#include "progress.h"
#include "snapshot.h"

/* A fetch with no page completed for this long is abandoned, unless the
 * owner sets col->fetch_idle_ns (the mount's op_timeout). */
#define CACHE_FETCH_IDLE_NS 30000000000ull

struct collection;

/* Produces a fresh snapshot (one reference) or a negative errno with err set. */
typedef int (*collection_fetch_fn)(void *ctx, struct collection *col, uint64_t deadline_ns,
				   struct snapshot **out, struct gcf_error *err);
/* Told after a new snapshot replaced old (old may be NULL); runs with no
 * lock held, in the fetching thread. */
typedef void (*collection_publish_fn)(void *ctx, struct collection *col, struct snapshot *old,
				      struct snapshot *fresh);

/*
 * The outcome of the last finished fetch, decided in one place (cache.c):
 * CACHE_FRESH  a new snapshot was published;
 * CACHE_STALE  it failed, and the error is one the previous snapshot may
 *              cover (cache_error_serves_stale): readers get that snapshot,
 *              marked stale, while it is within stale_if_error_ns past its TTL;
 * CACHE_FAILED it failed and nothing stands in (no snapshot, or an error no
 *              snapshot may cover): readers get the error.
 */
enum cache_outcome { CACHE_FRESH, CACHE_STALE, CACHE_FAILED };

/* Told that a fetch failed with err, and its outcome (CACHE_STALE or
 * CACHE_FAILED), before any reader is given the answer: what it records is
 * in place when a reader sees the failure. No lock held, fetching thread. */
typedef void (*collection_failure_fn)(void *ctx, struct collection *col, enum cache_outcome outcome,
				      const struct gcf_error *err);

struct collection_stats {
	unsigned long hits, misses, coalesced, fetches, failures, stale_serves;
	unsigned long slow_refresh_serves; /* old snapshot served: its refresh took too long */
	uint64_t last_fetch_ns, last_fetch_duration_ns;
};

struct collection {
	uint64_t ttl_ns;
	uint64_t stale_if_error_ns; /* how long past the TTL a failed refresh may serve
				     * the previous snapshot; UINT64_MAX (default) = always */
	uint64_t refresh_wait_ns;   /* how long a refresh of an expired snapshot may hold
				     * readers back; UINT64_MAX (default) = their deadline */
	collection_fetch_fn fetch;
	collection_publish_fn on_publish; /* may be NULL */
	collection_failure_fn on_failure; /* may be NULL; set after cache_init */
	void *ctx;
	uint64_t (*now_ns)(void); /* injectable monotonic clock */
	uint64_t fetch_idle_ns;   /* a fetch with no page for this long is abandoned;
				   * 0 = never; default CACHE_FETCH_IDLE_NS */
	/* Set by a fetch callback (on the fetch's own thread, before it
	 * returns 0) whose snapshot is older than the fetch, e.g. one another
	 * host fetched (fleetcache.c): its now_ns time of fetching. The
	 * installed snapshot then keeps it as fetched_ns (clamped to now and
	 * after the current one's) so its TTL runs from there. 0 = now; reset
	 * at every install. */
	uint64_t fetched_preset_ns;
	/* the fetch in flight or the last one (atomics; its now_ns is the
	 * clock of the fetch's deadlines, clock_now_ns unless injected) */
	struct fetch_progress progress;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* guarded by mu: */
	struct snapshot *cur;
	bool fetching;
	bool invalidated;          /* next access refetches whatever the TTL says */
	bool soft;                 /* the fetch in flight refreshes an expired snapshot */
	bool overdue;              /* cur was served past its TTL: its refresh is slow */
	uint64_t fetch_started_ns; /* clock_now_ns() when the fetch in flight began */
	unsigned bg_fetches;       /* fetch threads running (cache_release waits) */
	bool closing;              /* cache_release: no fetch starts any more */
	bool seeded;               /* cur came from cache_seed: served at once until a
				    * fetch finishes (done > 0) */
	uint64_t gen;              /* fetches started */
	uint64_t done;             /* fetches finished */
	int last_rc;               /* result of the last finished fetch */
	/* and its outcome (CACHE_STALE: cur is older than a failed refresh) */
	enum cache_outcome outcome;
	struct gcf_error last_err;
	uint64_t last_err_ns;
	struct collection_stats stats;
};

/* Sets up col; fetch and ctx as given, TTL in seconds. 0 or -errno. */
int cache_init(struct collection *col, unsigned ttl_s, collection_fetch_fn fetch,
	       collection_publish_fn on_publish, void *ctx);
/* Drops the snapshot and frees what col holds; a fetch in flight is
 * stopped at its next wait and waited for. NULL ok. */
void cache_release(struct collection *col);

/*
 * The current snapshot of col, fetching it when missing or expired.
 * Returns 0 with *out holding one reference (snapshot_put it), or a negative
 * errno with err filled (ETIMEDOUT when deadline_ns passed while waiting for
 * another caller's fetch). Never holds a lock while fetching.
 */
int cache_get(struct collection *col, uint64_t deadline_ns, struct snapshot **out,
	      struct gcf_error *err);

/* A caller that may give up: cancelled(arg) is polled every
 * CACHE_CANCEL_POLL_NS while it waits (FUSE: the request was interrupted). */
struct cache_cancel {
	bool (*cancelled)(void *arg);
	void *arg;
};

/* cache_get for a caller that may give up: the fetch runs on a thread of
 * its own (so it finishes, and is shared, whatever the caller does), and
 * its wait returns -EINTR once cancelled() says so. */
int cache_get_cancel(struct collection *col, uint64_t deadline_ns,
		     const struct cache_cancel *cancel, struct snapshot **out,
		     struct gcf_error *err);

/* Starts a fetch of col in the background unless its snapshot is fresh or
 * a fetch is already in flight; returns at once (prefetch at mount time).
 * 0 or a negative errno (no thread). */
int cache_prefetch(struct collection *col);

/* How far the fetch in flight (or the last one) got. */
void cache_progress(struct collection *col, struct progress_view *v);

/* The current snapshot without fetching (NULL when none). One reference. */
struct snapshot *cache_peek(struct collection *col);

/* The current snapshot only if it is fresh (younger than the TTL and not
 * invalidated); NULL otherwise. One reference. Never fetches. */
struct snapshot *cache_peek_fresh(struct collection *col);

/*
 * Installs s (a snapshot loaded from disk after a restart; the cache takes
 * over the caller's reference) as col's current snapshot, already expired
 * and marked stale (cache_status). Until a fetch of col finishes, every
 * cache_get is answered with it at once, and the first one starts its
 * revalidation on a thread of its own; a refresh asked for (cache_invalidate)
 * is waited for as usual. Once that fetch finishes, the cache's usual rules
 * apply: a fresh snapshot replaces it; a failure serves it stale (it counts
 * as just past its TTL) or surfaces, as for any refresh. Call before the
 * collection is used.
 */
void cache_seed(struct collection *col, struct snapshot *s);

/* Marks col so that the next cache_get refetches. */
void cache_invalidate(struct collection *col);

/* May a refresh that failed this way be covered by the previous snapshot?
 * As RFC 5861's stale-if-error (server errors only): yes for what the cloud
 * or the network may get over by itself (5xx, timeouts, throttling, resets,
 * broken replies); no for an answer about us - credentials (EACCES),
 * configuration, parameters, a missing resource - which surfaces at once. */
bool cache_error_serves_stale(enum gcf_class cls);

/* Copies of the status: stale flag, last error, statistics. */
void cache_status(struct collection *col, bool *stale, struct gcf_error *last_err,
		  struct collection_stats *st);

#endif
