/*
 * daemon.c - builds the daemon context and glues the engine together:
 * a collection's fetch = fetch_listing (pager) + render_snapshot, with every
 * failure recorded once, here, in the status ring and the log.
 */
#include "daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "render.h"

static time_t wall_now(void)
{
	return time(NULL);
}

static int perform_http(void *ctx, const struct http_req *rq, struct http_resp *rs,
			uint64_t deadline_ns, struct gcf_error *err)
{
	return http_perform(ctx, rq, rs, deadline_ns, err);
}

static int collection_fetch(void *ctx, struct collection *col, uint64_t deadline_ns,
			    struct snapshot **out, struct gcf_error *err)
{
	struct coll_rt *cr = ctx;
	struct daemon *d = cr->d;
	struct conn *c = cr->cr->conn;
	struct fetch_io io = {perform_http, cr->cr->http, wall_now, d->cfg.max_body};
	struct listing l;
	time_t now = time(NULL);
	int rc;

	(void)col;
	if (d->io_override.perform)
		io = d->io_override;
	rc = fetch_listing(&io, c, cr->kind, NULL, NULL, &cr->rl, deadline_ns, &l, &cr->fst, err);
	if (!rc) {
		rc = render_snapshot(cr->kind, l.items, l.nitems, now, out, err);
		if (!rc)
			(*out)->json_bytes = l.json_bytes;
		else
			gcf_error_set_context(err, c->name, cr->kind->action);
	}
	listing_release(&l);
	if (rc) {
		struct snapshot *prev = cache_peek(&cr->col);

		status_record(&d->status, err, prev ? "served stale" : "failed");
		snapshot_put(prev);
	} else {
		log_debug("%s/%s: %zu objects", c->name, cr->kind->dir, (*out)->nentries);
	}
	return rc;
}

static int conn_init(struct daemon *d, struct conn_rt *cr, struct conn *c, struct gcf_error *err)
{
	struct http_opts o = {
		.connect_timeout_ms = c->connect_timeout_s * 1000,
		.timeout_ms = c->timeout_s * 1000,
		.ca_file = c->ca_file,
		.max_body = d->cfg.max_body,
	};
	size_t nk = 0;

	cr->conn = c;
	cr->http = http_new(&o);
	if (!cr->http)
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	for (const struct kind *k = c->prov->kinds; k->dir; k++)
		nk++;
	cr->colls = calloc(nk ? nk : 1, sizeof(*cr->colls));
	if (!cr->colls)
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	cr->ino = inodes_pin(&d->inodes, INODE_ROOT, c->name, NODE_CONN, cr);
	if (!cr->ino)
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	for (size_t i = 0; i < nk; i++) {
		struct coll_rt *col = &cr->colls[i];
		const struct kind *k = &c->prov->kinds[i];
		unsigned rate = c->max_rps ? c->max_rps : (k->rate_per_sec ? k->rate_per_sec : 20);

		col->d = d;
		col->cr = cr;
		col->kind = k;
		if (cache_init(&col->col, c->ttl_s, collection_fetch, NULL, col) ||
		    ratelimit_init(&col->rl, rate))
			return gcf_error_set(err, GCF_NOMEM, "out of memory");
		col->col.stale_if_error_ns = (uint64_t)c->stale_if_error_s * 1000000000ull;
		fetch_latency_init(&col->lat);
		col->fst.lat = &col->lat;
		cr->ncolls++;
		col->ino = inodes_pin(&d->inodes, cr->ino, k->dir, NODE_KIND, col);
		if (!col->ino)
			return gcf_error_set(err, GCF_NOMEM, "out of memory");
	}
	return 0;
}

int daemon_init(struct daemon *d, struct config *cfg, struct gcf_error *err)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	d->op_timeout_ns = (uint64_t)d->cfg.op_timeout_s * 1000000000ull;
	d->start_wall = time(NULL);
	status_init(&d->status);
	rc = inodes_init(&d->inodes);
	if (rc)
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	d->ctl_ino = inodes_pin(&d->inodes, INODE_ROOT, ".gpucloudfs", NODE_CTLDIR, NULL);
	d->conns = calloc(d->cfg.nconns ? d->cfg.nconns : 1, sizeof(*d->conns));
	if (!d->ctl_ino || !d->conns)
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	for (size_t i = 0; i < d->cfg.nconns; i++) {
		d->nconns++;
		rc = conn_init(d, &d->conns[i], d->cfg.conns[i], err);
		if (rc)
			return rc;
	}
	return 0;
}

void daemon_release(struct daemon *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nconns; i++) {
		struct conn_rt *cr = &d->conns[i];

		for (size_t k = 0; k < cr->ncolls; k++) {
			cache_release(&cr->colls[k].col);
			ratelimit_release(&cr->colls[k].rl);
		}
		free(cr->colls);
		http_free(cr->http);
	}
	free(d->conns);
	inodes_release(&d->inodes);
	status_release(&d->status);
	config_release(&d->cfg);
	memset(d, 0, sizeof(*d));
}

void daemon_invalidate_all(struct daemon *d)
{
	for (size_t i = 0; i < d->nconns; i++)
		for (size_t k = 0; k < d->conns[i].ncolls; k++)
			cache_invalidate(&d->conns[i].colls[k].col);
}

struct conn_rt *daemon_conn(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->nconns; i++)
		if (!strcmp(d->conns[i].conn->name, name))
			return &d->conns[i];
	return NULL;
}
