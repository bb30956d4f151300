/*
 * progress.h - how far one collection's fetch has got, and the deadline it
 * moves: a fetch goes on as long as pages keep arriving.
 *
 * The cache starts a record when a fetch starts (progress_start) and ends it
 * when the fetch returns (progress_end); the pager (fetch.c) tells it the
 * number of pages once page 0 reveals it (progress_total) and each page it
 * completed (progress_page), from any worker thread. Each completed page
 * pushes the fetch's deadline to now + idle_ns, so a fetch is abandoned only
 * when no page completed for idle_ns (the mount's op_timeout), however long
 * the whole listing takes. Anybody may read it meanwhile (progress_read) for
 * .gpucloudfs/errors, stats.json, the user.gpucloudfs.progress xattr and a
 * timed-out reader's message; the estimate of the time left comes from the
 * rate observed so far.
 *
 * Log lines (when label is set): none for a fetch that is short; once a
 * fetch has PROGRESS_LOG_MIN_PAGES pages or has run PROGRESS_LOG_EVERY_NS,
 * one line at that point, then one each PROGRESS_LOG_EVERY_NS or quarter of
 * the pages, whichever comes first, and one at its end.
 *
 * Every field is read and written with atomic builtins: no lock.
 */
#ifndef GCF_PROGRESS_H
#define GCF_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

/* A fetch of this many pages or more is worth log lines from its start. */
#define PROGRESS_LOG_MIN_PAGES 100
/* A long fetch logs at least this often (and at each quarter). */
#define PROGRESS_LOG_EVERY_NS 10000000000ull

enum progress_state {
	PROGRESS_NONE,      /* no fetch yet */
	PROGRESS_RUNNING,   /* a fetch is under way */
	PROGRESS_DONE,      /* the last fetch completed */
	PROGRESS_FAILED,    /* the last fetch failed (an error, not a stall) */
	PROGRESS_ABANDONED, /* the last fetch stopped: no page for idle_ns, or shut down */
};

struct fetch_progress {
	/* set up by the owner before the first fetch: */
	uint64_t (*now_ns)(void); /* monotonic clock; the pager's deadlines use the same */
	char *label;              /* "tencent/tasks" for log lines; NULL = none. Owned: freed
				   * by the owner (cache_release) */

	/* atomic: */
	uint64_t idle_ns;                      /* 0 = the deadline does not move */
	uint64_t deadline_ns;                  /* the fetch in flight gives up past it; 0 = never */
	unsigned state;                        /* enum progress_state */
	unsigned long pages_done, pages_total; /* total 0 = not known yet */
	unsigned long objects;                 /* on the pages done */
	uint64_t started_ns, ended_ns, last_page_ns;
	uint64_t next_log_ns;         /* when a long fetch logs next */
	unsigned long logged_quarter; /* quarters already logged */
	bool logging;                 /* this fetch logs (it is long) */
	bool cancelled;               /* the owner stopped it (shutdown) */
};

/* A consistent-enough copy for display. */
struct progress_view {
	enum progress_state state;
	unsigned long pages_done, pages_total, objects;
	double elapsed_s; /* since the fetch started (until it ended, when over) */
	double eta_s;     /* time left at the rate observed; < 0 = not known */
	bool cancelled;   /* stopped by its owner (shutdown) */
};

/* A fetch starts: counters to zero, deadline at now + idle_ns (0 = none),
 * or at first_ns when that is sooner (not 0): the deadline of the reader
 * that started it, so that a fetch that gets no page at all ends with that
 * reader; each page then moves it to now + idle_ns. Returns the deadline. */
uint64_t progress_start(struct fetch_progress *p, uint64_t idle_ns, uint64_t first_ns);

/* Page 0 said the listing has `pages` pages (0 = not known: paging until a
 * short page), of which page 0 with `objects` objects is done. Called again
 * when the pager starts over (the total moved while paging). */
void progress_total(struct fetch_progress *p, unsigned long pages, unsigned long objects);

/* A page completed with `objects` objects: counts it and pushes the
 * deadline to now + idle_ns (never back). Thread-safe. */
void progress_page(struct fetch_progress *p, unsigned long objects);

/* The clock of p (p->now_ns, else clock_now_ns()). */
uint64_t progress_now(const struct fetch_progress *p);

/* The deadline the fetch in flight keeps to now (0 = none). */
uint64_t progress_deadline(const struct fetch_progress *p);

/* Stops the fetch in flight at its next wait (the deadline is put in the
 * past); it then ends as abandoned. */
void progress_cancel(struct fetch_progress *p);

/* The fetch returned rc (0, or a negative errno; stalled: it ran past its
 * deadline, so no page came for idle_ns). */
void progress_end(struct fetch_progress *p, int rc);

/* A copy of p now. */
void progress_read(const struct fetch_progress *p, struct progress_view *v);

/* "fetching, 640 of 2,000 pages, complete in about 68 s" (or "fetching,
 * 12 pages so far", "complete: 2,000 pages, 100,000 objects in 101 s",
 * "abandoned after 640 of 2,000 pages: no page for 30 s"...). Appends to out;
 * nothing for PROGRESS_NONE. 0 or -ENOMEM. */
int progress_format(const struct progress_view *v, uint64_t idle_ns, struct buf *out);

#endif
