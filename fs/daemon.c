/*
 * daemon.c - builds and releases the daemon context (see daemon.h): every
 * connection's HTTP client, its collections with their caches, rate
 * limiters and statistics, and the fixed inodes.
 */
#include "daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collfetch.h"
#include "fleetcache.h"
#include "log.h"

/* prefetch = yes: every collection of the connection is fetched in the
 * background now, each within its rate limit (cache_prefetch), so that a
 * mount made at boot is warm before anyone looks. */
static void prefetch(struct daemon *d)
{
	for (size_t i = 0; i < d->nconns; i++) {
		struct conn_rt *cr = &d->conns[i];

		if (!cr->conn->prefetch)
			continue;
		log_info("%s: prefetching %zu collection(s)", cr->conn->name, cr->ncolls);
		for (size_t k = 0; k < cr->ncolls; k++)
			if (cache_prefetch(&cr->colls[k].col))
				log_warn("%s/%s: prefetch not started (no thread)", cr->conn->name,
					 cr->colls[k].kind->dir);
	}
}

/* The inode table's cap asks the kernel, through the notifier, to drop a
 * file of an object directory (inodes_set_cap). */
static int evict_entry(void *arg, uint64_t parent, const char *name)
{
	return notify_evict(arg, parent, name);
}

int daemon_start_notifier(struct daemon *d, struct fuse_session *se)
{
	int rc;

	for (size_t i = 0; i < d->nconns; i++)
		http_preload(d->conns[i].http);
	warm_start(d); /* failure logged: snapshots are then saved at the end */
	rc = notify_start(&d->notifier, se);
	if (!rc) /* once the notifier runs: it carries the evictions */
		inodes_set_cap(&d->inodes, d->cfg.max_nodes, evict_entry, &d->notifier);
	if (!rc) /* after the notifier: a prefetch's publish may tell the kernel */
		prefetch(d);
	return rc;
}

/* The main collection of kind k on cr, its directory pinned. 0 or -errno. */
static int coll_init(struct daemon *d, struct conn_rt *cr, struct coll_rt *m, const struct kind *k)
{
	m->d = d;
	m->cr = cr;
	m->kind = k;
	if (collfetch_init(m) || ratelimit_init(&m->rl, collfetch_rate(cr->conn, k)))
		return -ENOMEM;
	fetch_latency_init(&m->lat);
	m->fst.lat = &m->lat;
	pthread_mutex_init(&m->subs_mu, NULL);
	cr->ncolls++;
	m->ino = inodes_pin(&d->inodes, cr->ino, k->dir, NODE_KIND, m);
	return m->ino ? 0 : -ENOMEM;
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
	cr->status = &d->status;
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
	for (size_t i = 0; i < nk; i++)
		if (coll_init(d, cr, &cr->colls[i], &c->prov->kinds[i]))
			return gcf_error_set(err, GCF_NOMEM, "out of memory");
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
	notify_init(&d->notifier);
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
	warm_open(d);
	return fleetcache_open(d, err);
}

void daemon_release(struct daemon *d)
{
	if (!d)
		return;
	notify_stop(&d->notifier);
	warm_close(d);
	for (size_t i = 0; i < d->nconns; i++) {
		struct conn_rt *cr = &d->conns[i];

		for (size_t k = 0; k < cr->ncolls; k++) {
			struct coll_rt *m = &cr->colls[k];

			views_release(m);
			pthread_mutex_destroy(&m->subs_mu);
			cache_release(&m->col);
			ratelimit_release(&m->rl);
		}
		free(cr->colls);
		http_free(cr->http);
	}
	fleetcache_close(d);
	warm_release(d);
	free(d->conns);
	inodes_release(&d->inodes);
	status_release(&d->status);
	config_release(&d->cfg);
	memset(d, 0, sizeof(*d));
}

void daemon_invalidate_all(struct daemon *d)
{
	for (size_t i = 0; i < d->nconns; i++)
		for (size_t k = 0; k < d->conns[i].ncolls; k++) {
			struct coll_rt *m = &d->conns[i].colls[k];

			cache_invalidate(&m->col);
			/* The kernel's cached listing too, or it would never ask. */
			notify_inode(&d->notifier, m->ino);
			views_invalidate(d, m);
		}
}

struct conn_rt *daemon_conn(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->nconns; i++)
		if (!strcmp(d->conns[i].conn->name, name))
			return &d->conns[i];
	return NULL;
}
