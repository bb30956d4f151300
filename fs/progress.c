/*
 * progress.c - a fetch's progress and its moving deadline (see progress.h).
 */
#include "progress.h"
#include "clock.h"

#include <errno.h>
#include <stdio.h>

#include "log.h"

#define NS 1000000000ull

#define LOAD(x)     __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

static uint64_t now_of(const struct fetch_progress *p)
{
	return p->now_ns ? p->now_ns() : clock_now_ns();
}

/* Writes the one log line of p's present state. */
static void log_state(const struct fetch_progress *p)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct progress_view v;

	progress_read(p, &v);
	if (!progress_format(&v, LOAD(p->idle_ns), &b))
		log_info("%s: %s", p->label, buf_str(&b));
	buf_release(&b);
}

/* A fetch becomes worth log lines once it is long: by its page count or by
 * the time it has taken. The thread that makes it so logs the first line. */
static void maybe_start_logging(struct fetch_progress *p, uint64_t now)
{
	bool no = false;

	if (!p->label || LOAD(p->logging))
		return;
	if (LOAD(p->pages_total) < PROGRESS_LOG_MIN_PAGES &&
	    now - LOAD(p->started_ns) < PROGRESS_LOG_EVERY_NS)
		return;
	if (!__atomic_compare_exchange_n(&p->logging, &no, true, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	STORE(p->next_log_ns, now + PROGRESS_LOG_EVERY_NS);
	if (LOAD(p->pages_total))
		STORE(p->logged_quarter, LOAD(p->pages_done) * 4 / LOAD(p->pages_total));
	log_state(p);
}

uint64_t progress_start(struct fetch_progress *p, uint64_t idle_ns, uint64_t first_ns)
{
	uint64_t now = now_of(p), deadline = idle_ns ? now + idle_ns : 0;

	if (first_ns && (!deadline || first_ns < deadline))
		deadline = first_ns;
	STORE(p->pages_done, 0);
	STORE(p->pages_total, 0);
	STORE(p->objects, 0);
	STORE(p->started_ns, now);
	STORE(p->last_page_ns, now);
	STORE(p->ended_ns, 0);
	STORE(p->logging, false);
	STORE(p->logged_quarter, 0);
	STORE(p->next_log_ns, 0);
	STORE(p->cancelled, false);
	STORE(p->idle_ns, idle_ns);
	STORE(p->deadline_ns, deadline);
	STORE(p->state, PROGRESS_RUNNING);
	return deadline;
}

void progress_total(struct fetch_progress *p, unsigned long pages, unsigned long objects)
{
	STORE(p->pages_total, pages);
	STORE(p->pages_done, 1);
	STORE(p->objects, objects);
	maybe_start_logging(p, now_of(p));
}

/* Pushes the deadline to at least `to` (never back, never from 0 = none,
 * never once cancelled). Workers race here: compare-and-swap. */
static void push_deadline(struct fetch_progress *p, uint64_t to)
{
	uint64_t cur = LOAD(p->deadline_ns);

	while (cur && cur < to && !LOAD(p->cancelled))
		if (__atomic_compare_exchange_n(&p->deadline_ns, &cur, to, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			break;
}

void progress_page(struct fetch_progress *p, unsigned long objects)
{
	uint64_t now = now_of(p), idle = LOAD(p->idle_ns), next;
	unsigned long done = __atomic_add_fetch(&p->pages_done, 1, __ATOMIC_ACQ_REL);
	unsigned long total, q, was;

	__atomic_add_fetch(&p->objects, objects, __ATOMIC_ACQ_REL);
	STORE(p->last_page_ns, now);
	if (idle)
		push_deadline(p, now + idle);
	if (!p->label)
		return;
	if (!LOAD(p->logging)) {
		maybe_start_logging(p, now);
		return;
	}
	/* Each quarter once, else every PROGRESS_LOG_EVERY_NS: one thread each. */
	total = LOAD(p->pages_total);
	q = total ? done * 4 / total : 0;
	was = LOAD(p->logged_quarter);
	if (q > was && q < 4 &&
	    __atomic_compare_exchange_n(&p->logged_quarter, &was, q, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE)) {
		STORE(p->next_log_ns, now + PROGRESS_LOG_EVERY_NS);
		log_state(p);
		return;
	}
	next = LOAD(p->next_log_ns);
	if (now >= next &&
	    __atomic_compare_exchange_n(&p->next_log_ns, &next, now + PROGRESS_LOG_EVERY_NS, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		log_state(p);
}

uint64_t progress_now(const struct fetch_progress *p)
{
	return now_of(p);
}

uint64_t progress_deadline(const struct fetch_progress *p)
{
	return LOAD(p->deadline_ns);
}

void progress_cancel(struct fetch_progress *p)
{
	STORE(p->cancelled, true);
	STORE(p->deadline_ns, 1); /* long past, and not 0 (= none) */
}

void progress_end(struct fetch_progress *p, int rc)
{
	uint64_t now = now_of(p), deadline = LOAD(p->deadline_ns);
	enum progress_state st = PROGRESS_DONE;

	if (rc)
		st = LOAD(p->cancelled) || (deadline && now >= deadline) ? PROGRESS_ABANDONED
									 : PROGRESS_FAILED;
	STORE(p->ended_ns, now);
	STORE(p->state, st);
	if (p->label && (LOAD(p->logging) || st == PROGRESS_ABANDONED))
		log_state(p);
}

void progress_read(const struct fetch_progress *p, struct progress_view *v)
{
	uint64_t now = now_of(p), started = LOAD(p->started_ns), ended = LOAD(p->ended_ns);
	uint64_t elapsed;

	v->state = LOAD(p->state);
	v->pages_done = LOAD(p->pages_done);
	v->pages_total = LOAD(p->pages_total);
	v->objects = LOAD(p->objects);
	v->cancelled = LOAD(p->cancelled);
	elapsed = (v->state == PROGRESS_RUNNING || !ended ? now : ended) - started;
	v->elapsed_s = (double)elapsed / NS;
	v->eta_s = -1;
	if (v->state == PROGRESS_RUNNING && v->pages_total && v->pages_done &&
	    v->pages_done <= v->pages_total)
		v->eta_s =
		    v->elapsed_s * (double)(v->pages_total - v->pages_done) / (double)v->pages_done;
}

/* n with thousands separators: 100000 -> "100,000". */
static int add_count(struct buf *out, unsigned long n)
{
	char digits[32];
	int len = snprintf(digits, sizeof(digits), "%lu", n), rc = 0;

	for (int i = 0; i < len && !rc; i++) {
		if (i && (len - i) % 3 == 0)
			rc = buf_addch(out, ',');
		if (!rc)
			rc = buf_addch(out, digits[i]);
	}
	return rc;
}

/* "640 of 2,000 pages" or "640 pages" (total not known). */
static int add_pages(struct buf *out, const struct progress_view *v)
{
	int rc = add_count(out, v->pages_done);

	if (!rc && v->pages_total) {
		rc = buf_addstr(out, " of ");
		if (!rc)
			rc = add_count(out, v->pages_total);
	}
	return rc ? rc
		  : buf_addstr(out, v->pages_done == 1 && !v->pages_total ? " page" : " pages");
}

int progress_format(const struct progress_view *v, uint64_t idle_ns, struct buf *out)
{
	int rc = 0;

	switch (v->state) {
	case PROGRESS_NONE:
		return 0;
	case PROGRESS_RUNNING:
		rc = buf_addstr(out, "fetching, ");
		if (!rc)
			rc = add_pages(out, v);
		if (!rc && !v->pages_total)
			rc = buf_addstr(out, v->pages_done ? " so far" : "");
		if (!rc && v->eta_s >= 0)
			rc = buf_printf(out, ", complete in about %.0f s",
					v->eta_s > 1 ? v->eta_s : 1.0);
		return rc;
	case PROGRESS_DONE:
		rc = buf_addstr(out, "complete: ");
		if (!rc)
			rc = add_count(out, v->pages_done);
		if (!rc)
			rc = buf_addstr(out, v->pages_done == 1 ? " page, " : " pages, ");
		if (!rc)
			rc = add_count(out, v->objects);
		return rc ? rc : buf_printf(out, " objects in %.1f s", v->elapsed_s);
	case PROGRESS_FAILED:
	case PROGRESS_ABANDONED:
		rc = buf_addstr(out,
				v->state == PROGRESS_FAILED ? "failed after " : "abandoned after ");
		if (!rc)
			rc = add_pages(out, v);
		if (!rc && v->state == PROGRESS_ABANDONED && v->cancelled)
			rc = buf_addstr(out, ": stopped");
		else if (!rc && v->state == PROGRESS_ABANDONED && idle_ns)
			rc = buf_printf(out, ": no page for %.0f s", (double)idle_ns / NS);
		return rc;
	}
	return -EINVAL;
}
