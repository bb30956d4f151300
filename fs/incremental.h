/*
 * incremental.h - a refresh that costs what changed (issue 10, part 2).
 *
 * For a kind whose API orders by update time (kind->update_field, both
 * TI-ONE APIs: OrderField UpdateTime, Order DESC) every listing comes most
 * recently updated first, and each snapshot keeps a watermark: the newest
 * update time on the first page its refresh read (page 0 is read before any
 * other, so whatever is updated after that has an update time at or past
 * the watermark, the same second included).
 *
 * A refresh of a snapshot that is past its TTL, not asked for, and whose
 * last full refresh is younger than conn->full_refresh_s is incremental:
 *   1. the active query: every object whose active_filter is one of
 *      active_values (the statuses in which fields change without the
 *      update time moving: a running task's RuntimeInSeconds), all pages;
 *   2. the delta: pages 0, 1, ... until a page holds an object updated
 *      strictly before the watermark (objects of the watermark's second
 *      are always read again);
 *   3. the merge by ID: the previous snapshot's objects (each re-read from
 *      its info.json, numbers exact), replaced by the active query's, then
 *      by the delta's (read last, so newest).
 * It falls back to a full refresh (one log line saying why) when page 0's
 * total differs from the merged count (a deletion, or an addition missed
 * while pages shifted), when an object of the previous snapshot that was in
 * an active status is in neither answer (deleted, or it left the active
 * statuses without its update time moving), or when the previous snapshot
 * cannot be merged by ID (an object without ID, an ID twice).
 *
 * A full refresh is the pager's listing (fetch_listing). Page 0 is read
 * first; an object updated while the other pages are read moves to page 0,
 * perhaps out of a page not yet read, and pushes one object of each page
 * between onto the next, where the pager drops it as a repeat: so when the
 * listing holds fewer objects than page 0's total, one more delta from its
 * own page 0's watermark is read and merged over it, which finds the moved
 * object. It runs when
 * the snapshot is the first, every full_refresh_s, whenever asked
 * (.gpucloudfs/refresh, SIGHUP: cache_invalidate), for filtered views, for
 * a collection of one page (a full refresh is then one request), and for
 * APIs without an update_field.
 *
 * What a user may see, and for how long (docs/architecture.md): an object
 * deleted while another was added within the same interval is listed until
 * the next full refresh (at most full_refresh_s); so is a change to an
 * object outside the active statuses that does not move its update time.
 * Everything else is seen after the next refresh past the TTL, or, when a
 * change lands on a page while the refresh reads it, after the one after.
 *
 * State: one struct incr_state per main collection, used only by that
 * collection's fetch (single-flight: one at a time), zeroed = no watermark.
 */
#ifndef GCF_INCREMENTAL_H
#define GCF_INCREMENTAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cache.h"
#include "fetch.h"
#include "snapshot.h"

/* Why a refresh was full, or that it was not (INCR_DELTA). */
enum incr_kind {
	INCR_FULL_FIRST,     /* no snapshot, or not one this module saw made */
	INCR_FULL_ASKED,     /* cache_invalidate: .gpucloudfs/refresh, SIGHUP */
	INCR_FULL_INTERVAL,  /* the last full refresh is full_refresh_s old */
	INCR_FULL_SMALL,     /* one page holds the collection */
	INCR_FULL_UNORDERED, /* the kind has no update_field, or a filtered view */
	INCR_FULL_FALLBACK,  /* an incremental refresh found it could not be trusted */
	INCR_DELTA,          /* incremental */
};

struct incr_counts {
	unsigned long full, delta, fallback; /* refreshes of each sort */
};

struct incr_state {
	/* the snapshot the watermark belongs to (compared, never dereferenced) */
	const struct snapshot *base;
	uint64_t base_hash;
	size_t base_n;
	uint64_t full_ns; /* clock_now_ns() of the last full refresh; 0 = none */
	time_t mark;      /* the watermark */
	bool have_mark;
	/* set by incr_fetch, made current by incr_commit */
	struct {
		bool full, have_mark;
		time_t mark;
	} next;
	enum incr_kind last; /* what the last refresh was */
	struct incr_counts counts;
};

/*
 * One listing of main collection col of (c, k): incremental when it may be
 * (above), else full. pages_req/total bookkeeping goes to st like any
 * listing. Returns 0 with *out filled (its items are what render_snapshot
 * takes; listing_release frees it), or a negative errno with err set.
 */
int incr_fetch(struct incr_state *s, struct collection *col, const struct fetch_io *io,
	       const struct conn *c, const struct kind *k, struct ratelimit *rl,
	       uint64_t deadline_ns, struct listing *out, struct fetch_stats *st,
	       struct gcf_error *err);

/* The listing incr_fetch returned became snapshot snap (rendered, times
 * carried over): its watermark is now the current one. */
void incr_commit(struct incr_state *s, const struct snapshot *snap);

/* The update time of object o (k->update_field), 0 or -EINVAL (absent or
 * not a time). */
int incr_update_time(const struct kind *k, const cJSON *o, time_t *out);

/* A short name for a refresh's sort: "full (asked)", "incremental" ... */
const char *incr_kind_name(enum incr_kind kind);

#endif
