/*
 * fetch.h - the generic pager: one complete listing of a (connection, kind).
 *
 * Page 0 first; when it reveals the total (offset paging with a total, or a
 * page count), pages 1..n-1 are fetched concurrently (conn->concurrency
 * workers) within the rate limit; otherwise page after page until a short
 * page. Every request is built by the kind, signed by the provider, sent
 * through io->perform, and judged by the provider's reply_error and the
 * kind's parse_page. Objects are returned in page order; an object whose ID
 * already appeared on an earlier page (the listing shifted while paging) is
 * dropped, while repeats within one page are kept (the cloud listed them).
 *
 * Transient failures (transport errors, timeouts of one request, HTTP 5xx,
 * the cloud's throttling replies, unusable replies) are retried up to
 * conn->retries times with exponential backoff and full jitter (base
 * FETCH_BACKOFF_NS, cap FETCH_BACKOFF_MAX_NS), honouring Retry-After; a
 * throttling reply also halves the rate limiter. Auth, parameter and
 * not-found errors are never retried. No retry starts past the deadline.
 *
 * With io->progress set, the deadline is the progress record's, which each
 * completed page pushes forward (progress.h): the listing goes on as long
 * as pages keep arriving, and is abandoned once none came for its idle time.
 * The record counts pages and objects as they complete.
 */
#ifndef GCF_FETCH_H
#define GCF_FETCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "gcf_error.h"
#include "http.h"
#include "progress.h"
#include "provider.h"
#include "ratelimit.h"

/* How requests leave the process; tests substitute a fake cloud. */
struct fetch_io {
	int (*perform)(void *ctx, const struct http_req *rq, struct http_resp *rs,
		       uint64_t deadline_ns, struct gcf_error *err);
	void *ctx;
	time_t (*wall_now)(void); /* for signatures; NULL = time(NULL) */
	/* Told of each failure that will be retried (may be NULL); err has the
	 * connection and action set. */
	void (*on_retry)(void *ctx, const struct gcf_error *err, unsigned attempt,
			 unsigned attempts, uint64_t wait_ns);
	size_t max_body; /* reply cap; 0 = 32 MiB */
	/* Called before each request once its local rate slot is taken (may be
	 * NULL): fleet mode's shared rate budget (fleetcache.h). 0, or a
	 * negative errno with err set and the request not sent. */
	int (*admit)(void *admit_ctx, uint64_t deadline_ns, struct gcf_error *err);
	void *admit_ctx;
	/* The listing's progress and moving deadline (NULL = none: the
	 * deadline_ns given to fetch_listing holds). Its clock (now_ns) is the
	 * one the deadlines are compared with. */
	struct fetch_progress *progress;
};

/* Counters one listing adds to (may be shared; updated atomically). */
struct fetch_stats {
	unsigned long requests, pages, objects, bytes;
	unsigned long retries, throttles, in_flight;
	struct fetch_latency *lat; /* optional latency samples (NULL = none) */
};

/* The latencies of the last FETCH_LAT_SAMPLES requests, for p50/p99. */
#define FETCH_LAT_SAMPLES 1024
struct fetch_latency {
	pthread_mutex_t mu;
	uint32_t us[FETCH_LAT_SAMPLES];
	size_t n, next;
};
void fetch_latency_init(struct fetch_latency *l);
/* Percentile p (0-100) of the samples in microseconds; 0 when none. */
uint32_t fetch_latency_pct(struct fetch_latency *l, unsigned p);

/* A listing: the reply trees it came from and the objects in order. */
struct entry;
struct snapshot;

struct listing {
	cJSON **trees;
	size_t ntrees;
	const cJSON **items; /* borrowed from trees */
	size_t nitems;
	size_t json_bytes; /* reply bytes received */
	/* NULL, or one per item: an entry of reuse_snap (a reference) taken as
	 * it is, not read again, where items[i] is NULL (an incremental
	 * refresh's unchanged objects: incremental.h). */
	const struct entry **reuse;
	struct snapshot *reuse_snap;
};

void listing_release(struct listing *l); /* NULL ok; leaves *l zeroed */

/*
 * Fetches every page of (c, k), or only what the filter selects when
 * filter_name is set. Returns 0 with *out filled (caller releases it), or a
 * negative errno with err filled (connection and action included). No wait
 * passes deadline_ns (or, with io->progress, the deadline it moves).
 */
int fetch_listing(const struct fetch_io *io, const struct conn *c, const struct kind *k,
		  const char *filter_name, const char *filter_value, struct ratelimit *rl,
		  uint64_t deadline_ns, struct listing *out, struct fetch_stats *st,
		  struct gcf_error *err);

/*
 * Pages 0, 1, 2 ... of (c, k) one after another, in the kind's own order
 * (newest first for a kind with an update_field), for as long as
 * more(arg, items of the page just read) says true and the listing has not
 * ended (a short page, or as many objects as page 0's total). Objects
 * repeated across pages (the listing shifted while paging) keep their first
 * copy. *total gets page 0's total (-1 unknown). Returns 0 with *out filled,
 * or a negative errno with err set.
 */
int fetch_pages_while(const struct fetch_io *io, const struct conn *c, const struct kind *k,
		      bool (*more)(void *arg, const cJSON *items), void *arg, struct ratelimit *rl,
		      uint64_t deadline_ns, struct listing *out, long *total,
		      struct fetch_stats *st, struct gcf_error *err);

#endif
