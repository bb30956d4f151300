/*
 * collfetch.c - a collection's fetch and what follows it (see collfetch.h):
 * fetch = fetch_listing (pager) + render_snapshot; every failure recorded
 * once, here, in the status ring and the log, with the outcome the cache
 * decided ("served stale" or "failed").
 */
#include "collfetch.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>

#include "daemon.h"
#include "diff.h"
#include "fleetcache.h"
#include "log.h"
#include "render.h"
#include "views.h"

static time_t wall_now(void)
{
	return time(NULL);
}

/* Retries are worth a line in .gpucloudfs/errors: they say why a listing
 * was slow. ctx is the connection's runtime. */
static void record_retry(void *ctx, const struct gcf_error *err, unsigned attempt,
			 unsigned attempts, uint64_t wait_ns)
{
	struct conn_rt *cr = ctx;
	char what[64];

	snprintf(what, sizeof(what), "retried in %.1f s, attempt %u of %u", (double)wait_ns / 1e9,
		 attempt, attempts);
	status_record(cr->status, err, what);
}

static int retry_perform(void *ctx, const struct http_req *rq, struct http_resp *rs,
			 uint64_t deadline_ns, struct gcf_error *err)
{
	struct conn_rt *cr = ctx;

	return http_perform(cr->http, rq, rs, deadline_ns, err);
}

/* One listing of coll, rendered, from the cloud (fleetcache_local_fn). */
static int coll_fetch_local(void *ctx, struct collection *col, uint64_t deadline_ns,
			    struct snapshot **out, struct gcf_error *err)
{
	struct coll_rt *coll = ctx;
	struct coll_rt *m = coll->main ? coll->main : coll;
	struct daemon *d = coll->d;
	struct conn *c = coll->cr->conn;
	struct fetch_io io = {.perform = retry_perform,
			      .ctx = coll->cr,
			      .wall_now = wall_now,
			      .on_retry = record_retry,
			      .max_body = d->cfg.max_body};
	struct listing l = {0};
	time_t now = time(NULL);
	int rc;

	if (d->io_override.perform)
		io = d->io_override;
	io.progress = &col->progress; /* the pager moves the deadline as pages arrive */
	fleetcache_io(coll, &io);
	if (!coll->main) /* a main collection: incremental where it may be (incremental.h) */
		rc = incr_fetch(&coll->incr, col, &io, c, coll->kind, &m->rl, deadline_ns, &l,
				&m->fst, err);
	else
		rc = fetch_listing(&io, c, coll->kind, coll->filter_name, coll->filter_value,
				   &m->rl, deadline_ns, &l, &m->fst, err);
	if (!rc) {
		rc = render_snapshot_reuse(coll->kind, l.items, l.reuse, l.nitems, now, out, err);
		if (!rc) {
			struct snapshot *prev = cache_peek(&coll->col);

			(*out)->json_bytes = l.json_bytes;
			snapshot_carry_times(prev, *out);
			snapshot_put(prev);
			if (!coll->main)
				incr_commit(&coll->incr, &coll->col, *out);
		} else
			gcf_error_set_context(err, c->name, coll->kind->action);
	}
	listing_release(&l);
	/* The reply trees were several times the snapshot: give the memory
	 * back now rather than keep it in the heaps of the fetch threads. */
	malloc_trim(0);
	if (!rc)
		log_debug("%s/%s: %zu objects", c->name, coll->kind->dir, (*out)->nentries);
	return rc;
}

/* collection_fetch_fn: one listing of coll, rendered: shared by the fleet
 * when fleet mode is on (fleetcache.h), else coll_fetch_local. */
static int coll_fetch(void *ctx, struct collection *col, uint64_t deadline_ns,
		      struct snapshot **out, struct gcf_error *err)
{
	(void)col;
	return fleetcache_fetch(ctx, deadline_ns, coll_fetch_local, out, err);
}

/* collection_failure_fn: the failure's line in .gpucloudfs/errors. */
static void coll_failed(void *ctx, struct collection *col, enum cache_outcome outcome,
			const struct gcf_error *err)
{
	struct coll_rt *coll = ctx;

	(void)col;
	status_record(&coll->d->status, err, outcome == CACHE_STALE ? "served stale" : "failed");
}

static void sink_inode(void *arg, uint64_t ino)
{
	notify_inode(arg, ino);
}

static void sink_entry(void *arg, uint64_t parent, const char *name)
{
	notify_entry(arg, parent, name);
}

/* collection_publish_fn: tells the kernel exactly what changed between two
 * snapshots of coll (diff.h), and drops its .jsonl, which is made on use. */
static void coll_published(void *ctx, struct collection *col, struct snapshot *old,
			   struct snapshot *fresh)
{
	struct coll_rt *coll = ctx;
	struct daemon *d = coll->d;
	struct notifier *n = &d->notifier;
	struct diff_sink sink = {sink_inode, sink_entry, n};
	uint64_t dir = views_dir(d, coll);

	(void)col;
	warm_published(coll, fresh); /* saved by the store's writer thread */
	if (!n->running || !dir)
		return;
	diff_notify(&d->inodes, dir, old, fresh, &sink);
	if (!coll->main) {
		struct buf b = BUF_INIT(BUF_NOLIMIT);
		uint64_t jino;

		if (!buf_printf(&b, "%s.jsonl", coll->kind->dir)) {
			jino = inodes_find(&d->inodes, coll->cr->ino, b.p);
			if (jino)
				notify_inode(n, jino);
		}
		buf_release(&b);
	}
}

int collfetch_init(struct coll_rt *coll)
{
	const struct conn *c = coll->cr->conn;
	int rc = cache_init(&coll->col, c->ttl_s, coll_fetch, coll_published, coll);

	if (rc)
		return rc;
	coll->col.on_failure = coll_failed;
	coll->col.stale_if_error_ns = (uint64_t)c->stale_if_error_s * 1000000000ull;
	coll->col.refresh_wait_ns = (uint64_t)c->refresh_wait_s * 1000000000ull;
	/* A fetch goes on while pages arrive; none for op_timeout: abandoned.
	 * A main collection's long fetch says how far it got in the log. */
	coll->col.fetch_idle_ns = coll->d->op_timeout_ns;
	if (!coll->main) {
		struct buf b = BUF_INIT(BUF_NOLIMIT);

		if (!buf_printf(&b, "%s/%s", c->name, coll->kind->dir))
			coll->col.progress.label = buf_detach(&b, NULL);
		buf_release(&b);
		if (!coll->col.progress.label)
			return -ENOMEM;
	}
	return 0;
}

unsigned collfetch_rate(const struct conn *c, const struct kind *k)
{
	if (c->max_rps)
		return c->max_rps;
	return k->rate_per_sec ? k->rate_per_sec : COLLFETCH_DEFAULT_RATE_PER_S;
}
