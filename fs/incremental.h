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
 *   3. the merge by ID: the previous snapshot's objects (taken as they are:
 *      listing.reuse, render_snapshot_reuse; parsed from their JSON only
 *      when the entry does not know its active status, as after a restart),
 *      replaced by the active query's, then by the delta's (read last, so
 *      newest).
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
 * What a snapshot's bytes carry of it (incr_export, incr_adopt) is written
 * under the collection's lock, so that a publish callback may read it.
 *
 * The watermark travels with its snapshot (snapfile.h's meta: the same
 * bytes on disk, warm.h, and in Redis, fleetcache.h): wm_time_s is the
 * watermark, and the extra blob (INCR_WM_EXTRA_LEN bytes, below) says
 * whether it is valid, the wall time of the last full listing behind it,
 * and the content hash and entry count of exactly the snapshot it belongs
 * to. A daemon that installs a snapshot from its disk store after a
 * restart, or from the fleet, adopts its state with it: its next refresh
 * past the TTL is incremental from that watermark, and the interval full
 * refresh comes full_refresh_s after the last full listing of whoever
 * made it (neither postponed nor repeated by the restart or the change of
 * fetcher). A blob that does not belong to the snapshot (another content,
 * another count, an unknown layout) is ignored: the next refresh is full,
 * as with no watermark. The collection key is checked by snapfile_decode.
 *
 * Extra blob, layout 1, little-endian:
 *   0  8  magic "GCFINCR\0"
 *   8  4  layout (1)
 *  12  4  flags: 1 = wm_time_s is a watermark, 2 = the full time is set
 *  16  8  wall time of the last full listing behind it (seconds, signed)
 *  24  8  content_hash of the snapshot it belongs to (snapshot_seal)
 *  32  8  number of entries of that snapshot
 * wm_count is 0 and wm_total -1 (unused).
 */
#ifndef GCF_INCREMENTAL_H
#define GCF_INCREMENTAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cache.h"
#include "fetch.h"
#include "snapfile.h"
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
	/* clock_now_ns() of the last full refresh (modulo 2^64: an adopted one
	 * may predate this boot; only now - full_ns is used) */
	uint64_t full_ns;
	bool have_full;   /* full_ns and full_wall are set */
	time_t full_wall; /* wall time of the last full refresh */
	time_t mark;      /* the watermark */
	bool have_mark;
	/* set by incr_fetch, made current by incr_commit */
	struct {
		bool full, have_mark;
		time_t mark;
	} next;
	enum incr_kind last; /* what the last refresh was */
	struct incr_counts counts;
	unsigned long adopted; /* watermarks adopted with a snapshot (disk, fleet) */
};

#define INCR_WM_EXTRA_LEN 40

/* The part of a collection's state a snapshot carries (incr_export). */
struct incr_wm {
	bool valid; /* belongs to the snapshot it was exported for */
	bool have_mark, have_full;
	time_t mark, full_wall;
	uint64_t content_hash, nentries;
	unsigned char extra[INCR_WM_EXTRA_LEN]; /* encoded by incr_wm_meta */
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
 * carried over): its watermark is now the current one. Takes col->mu
 * (NULL: no lock, for tests). */
void incr_commit(struct incr_state *s, struct collection *col, const struct snapshot *snap);

/* What snapshot snap carries of s (under col->mu, NULL: none): out->valid
 * is false unless s's watermark is that of exactly snap (the same
 * snapshot, content and count) with a full listing behind it. Any thread. */
void incr_export(struct incr_state *s, struct collection *col, const struct snapshot *snap,
		 struct incr_wm *out);

/* Sets m's watermark fields (wm_time_s, wm_count, wm_total, extra) from w;
 * m->extra points into w (keep w alive while m is used). An invalid w
 * leaves them empty (no watermark). */
void incr_wm_meta(struct incr_wm *w, struct snapfile_meta *m);

/* Reads what m (from snapfile_decode with the collection's key) says
 * about the state behind snap, without adopting it. 0 with *out valid, or
 * -EINVAL with *why set (no watermark, another layout, another content). */
int incr_wm_read(const struct snapfile_meta *m, const struct snapshot *snap, struct incr_wm *out,
		 const char **why);

/* snap (decoded with m) is about to become col's current snapshot, in
 * place of a fetch: a restart's seed (before any fetch runs) or a fleet
 * publication (on the collection's fetch thread). Adopts its watermark and
 * the time of its last full listing (under col->mu, NULL: none) when m
 * carries valid ones for exactly snap, and returns 0; else forgets the
 * current watermark (the next refresh is full) and returns -EINVAL with
 * *why (may be NULL) set. */
int incr_adopt(struct incr_state *s, struct collection *col, const struct snapshot *snap,
	       const struct snapfile_meta *m, const char **why);

/* The update time of object o (k->update_field), 0 or -EINVAL (absent or
 * not a time). */
int incr_update_time(const struct kind *k, const cJSON *o, time_t *out);

/* A short name for a refresh's sort: "full (asked)", "incremental" ... */
const char *incr_kind_name(enum incr_kind kind);

#endif
