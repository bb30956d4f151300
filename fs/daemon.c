/*
 * daemon.c - builds the daemon context and glues the engine together:
 * a collection's fetch = fetch_listing (pager) + render_snapshot, with every
 * failure recorded once, here, in the status ring and the log.
 */
#include "daemon.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "render.h"

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

static int collection_fetch(void *ctx, struct collection *col, uint64_t deadline_ns,
			    struct snapshot **out, struct gcf_error *err)
{
	struct coll_rt *cr = ctx;
	struct coll_rt *m = cr->main ? cr->main : cr;
	struct daemon *d = cr->d;
	struct conn *c = cr->cr->conn;
	struct fetch_io io = {retry_perform, cr->cr, wall_now, record_retry, d->cfg.max_body};
	struct listing l;
	time_t now = time(NULL);
	int rc;

	(void)col;
	if (d->io_override.perform)
		io = d->io_override;
	rc = fetch_listing(&io, c, cr->kind, cr->filter_name, cr->filter_value, &m->rl, deadline_ns,
			   &l, &m->fst, err);
	if (!rc) {
		rc = render_snapshot(cr->kind, l.items, l.nitems, now, out, err);
		if (!rc) {
			struct snapshot *prev = cache_peek(&cr->col);

			(*out)->json_bytes = l.json_bytes;
			snapshot_carry_times(prev, *out);
			snapshot_put(prev);
		} else
			gcf_error_set_context(err, c->name, cr->kind->action);
	}
	listing_release(&l);
	/* The reply trees were several times the snapshot: give the memory
	 * back now rather than keep it in the heaps of the fetch threads. */
	malloc_trim(0);
	if (rc) {
		struct snapshot *prev = cache_peek(&cr->col);

		status_record(&d->status, err,
			      prev && cache_error_serves_stale(err->cls) ? "served stale"
									 : "failed");
		snapshot_put(prev);
	} else {
		log_debug("%s/%s: %zu objects", c->name, cr->kind->dir, (*out)->nentries);
	}
	return rc;
}

int daemon_filter_dir(const char *filter, struct buf *out)
{
	int rc = buf_addstr(out, ".by-");

	return rc ? rc : names_snake(filter, out);
}

uint64_t daemon_coll_dir(struct daemon *d, struct coll_rt *cr)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	uint64_t fdir, ino = 0;

	if (!cr->main || cr->by_id)
		return cr->main ? cr->main->ino : cr->ino;
	if (daemon_filter_dir(cr->filter_name, &b))
		goto out;
	fdir = inodes_find(&d->inodes, cr->main->ino, b.p);
	buf_reset(&b);
	if (fdir && !names_from_id(cr->filter_value, strlen(cr->filter_value), &b))
		ino = inodes_find(&d->inodes, fdir, b.p);
out:
	buf_release(&b);
	return ino;
}

/* Tells the kernel exactly what changed between two snapshots of cr: the
 * names that came and went, the files whose bytes changed, the listing. */
static void collection_published(void *ctx, struct collection *col, struct snapshot *old,
				 struct snapshot *fresh)
{
	struct coll_rt *cr = ctx;
	struct daemon *d = cr->d;
	struct notifier *n = &d->notifier;
	uint64_t dir = daemon_coll_dir(d, cr);
	bool listing_changed = !old || old->nentries != fresh->nentries;

	(void)col;
	if (!n->running || !dir)
		return;
	for (size_t i = 0; old && i < old->nentries; i++) {
		const struct entry *eo = &old->entries[i];
		const struct entry *en = snapshot_find(fresh, eo->name);
		uint64_t eino = inodes_find(&d->inodes, dir, eo->name);

		if (!en) {
			listing_changed = true;
			if (eino)
				notify_entry(n, dir, eo->name);
			continue;
		}
		if (!eino)
			continue;
		if (eo->mtime != en->mtime || eo->nfiles != en->nfiles)
			notify_inode(n, eino);
		for (size_t f = 0; f < eo->nfiles; f++) {
			const struct file *fo = &eo->files[f];
			const struct file *fn = entry_file(en, fo->name);
			uint64_t fino;

			if (fn && fn->hash == fo->hash && fn->size == fo->size)
				continue;
			fino = inodes_find(&d->inodes, eino, fo->name);
			if (fino)
				notify_inode(n, fino);
			if (!fn)
				notify_entry(n, eino, fo->name);
		}
		for (size_t f = 0; f < en->nfiles; f++)
			if (!entry_file(eo, en->files[f].name))
				notify_entry(n, eino, en->files[f].name);
	}
	for (size_t i = 0; i < fresh->nentries; i++)
		if (!old || !snapshot_find(old, fresh->entries[i].name)) {
			listing_changed = true;
			notify_entry(n, dir, fresh->entries[i].name);
		}
	if (listing_changed)
		notify_inode(n, dir);
	if (!cr->main) { /* the .jsonl is made on use: always dropped */
		struct buf b = BUF_INIT(BUF_NOLIMIT);
		uint64_t jino;

		if (!buf_printf(&b, "%s.jsonl", cr->kind->dir)) {
			jino = inodes_find(&d->inodes, cr->cr->ino, b.p);
			if (jino)
				notify_inode(n, jino);
		}
		buf_release(&b);
	}
}

int daemon_start_notifier(struct daemon *d, struct fuse_session *se)
{
	for (size_t i = 0; i < d->nconns; i++)
		http_preload(d->conns[i].http);
	return notify_start(&d->notifier, se);
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
	for (size_t i = 0; i < nk; i++) {
		struct coll_rt *col = &cr->colls[i];
		const struct kind *k = &c->prov->kinds[i];
		unsigned rate = c->max_rps ? c->max_rps : (k->rate_per_sec ? k->rate_per_sec : 20);

		col->d = d;
		col->cr = cr;
		col->kind = k;
		if (cache_init(&col->col, c->ttl_s, collection_fetch, collection_published, col) ||
		    ratelimit_init(&col->rl, rate))
			return gcf_error_set(err, GCF_NOMEM, "out of memory");
		col->col.stale_if_error_ns = (uint64_t)c->stale_if_error_s * 1000000000ull;
		col->col.refresh_wait_ns = (uint64_t)c->refresh_wait_s * 1000000000ull;
		fetch_latency_init(&col->lat);
		col->fst.lat = &col->lat;
		pthread_mutex_init(&col->subs_mu, NULL);
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
	return 0;
}

void daemon_release(struct daemon *d)
{
	if (!d)
		return;
	notify_stop(&d->notifier);
	for (size_t i = 0; i < d->nconns; i++) {
		struct conn_rt *cr = &d->conns[i];

		for (size_t k = 0; k < cr->ncolls; k++) {
			struct coll_rt *m = &cr->colls[k];

			for (size_t j = 0; j < m->nsubs; j++) {
				cache_release(&m->subs[j]->col);
				free(m->subs[j]->filter_name);
				free(m->subs[j]->filter_value);
				free(m->subs[j]);
			}
			free(m->subs);
			pthread_mutex_destroy(&m->subs_mu);
			cache_release(&m->col);
			ratelimit_release(&m->rl);
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
		for (size_t k = 0; k < d->conns[i].ncolls; k++) {
			struct coll_rt *m = &d->conns[i].colls[k];

			cache_invalidate(&m->col);
			/* The kernel's cached listing too, or it would never ask. */
			notify_inode(&d->notifier, m->ino);
			pthread_mutex_lock(&m->subs_mu);
			for (size_t j = 0; j < m->nsubs; j++) {
				cache_invalidate(&m->subs[j]->col);
				notify_inode(&d->notifier, daemon_coll_dir(d, m->subs[j]));
			}
			pthread_mutex_unlock(&m->subs_mu);
		}
}

const char *daemon_id_filter(const struct kind *k)
{
	for (const char *const *f = k->filters; f && *f; f++)
		if (!strcmp(*f, k->id_field))
			return *f;
	return NULL;
}

struct coll_rt *daemon_sub(struct coll_rt *m, const char *filter, const char *value)
{
	struct coll_rt *sub = NULL, **v;

	pthread_mutex_lock(&m->subs_mu);
	for (size_t i = 0; i < m->nsubs; i++)
		if (!strcmp(m->subs[i]->filter_name, filter) &&
		    !strcmp(m->subs[i]->filter_value, value)) {
			sub = m->subs[i];
			goto out;
		}
	if (m->nsubs >= DAEMON_MAX_SUBS)
		goto out;
	v = realloc(m->subs, (m->nsubs + 1) * sizeof(*v));
	if (!v)
		goto out;
	m->subs = v;
	sub = calloc(1, sizeof(*sub));
	if (!sub)
		goto out;
	sub->d = m->d;
	sub->cr = m->cr;
	sub->kind = m->kind;
	sub->main = m;
	sub->ino = m->ino;
	sub->filter_name = strdup(filter);
	sub->filter_value = strdup(value);
	sub->by_id = !strcmp(filter, m->kind->id_field);
	if (!sub->filter_name || !sub->filter_value ||
	    cache_init(&sub->col, m->cr->conn->ttl_s, collection_fetch, collection_published,
		       sub)) {
		free(sub->filter_name);
		free(sub->filter_value);
		free(sub);
		sub = NULL;
		goto out;
	}
	sub->col.stale_if_error_ns = m->col.stale_if_error_ns;
	sub->col.refresh_wait_ns = m->col.refresh_wait_ns;
	m->subs[m->nsubs++] = sub;
out:
	pthread_mutex_unlock(&m->subs_mu);
	return sub;
}

static void add_coll_stats(cJSON *o, struct coll_rt *cr)
{
	struct collection_stats cs;
	struct gcf_error le = GCF_ERROR_INIT;
	struct snapshot *s = cache_peek(&cr->col);
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	bool stale = false;
	char when[32] = "";
	struct tm tm;

	cache_status(&cr->col, &stale, &le, &cs);
	if (s) {
		gmtime_r(&s->fetched_wall, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	cJSON_AddNumberToObject(o, "objects", s ? (double)s->nentries : 0);
	cJSON_AddNumberToObject(o, "json_bytes", s ? (double)s->json_bytes : 0);
	cJSON_AddNumberToObject(o, "cache_hits", (double)cs.hits);
	cJSON_AddNumberToObject(o, "cache_misses", (double)cs.misses);
	cJSON_AddNumberToObject(o, "coalesced_waits", (double)cs.coalesced);
	cJSON_AddNumberToObject(o, "fetches", (double)cs.fetches);
	cJSON_AddNumberToObject(o, "failed_fetches", (double)cs.failures);
	cJSON_AddNumberToObject(o, "stale_serves", (double)cs.stale_serves);
	cJSON_AddNumberToObject(o, "slow_refresh_serves", (double)cs.slow_refresh_serves);
	cJSON_AddBoolToObject(o, "stale", stale);
	if (*when)
		cJSON_AddStringToObject(o, "last_fetch", when);
	cJSON_AddNumberToObject(o, "last_fetch_duration_ms",
				(double)(cs.last_fetch_duration_ns / 1000000));
	if (le.errnum && !gcf_error_format(&le, &b))
		cJSON_AddStringToObject(o, "last_error", buf_str(&b));
	buf_release(&b);
	gcf_error_release(&le);
	snapshot_put(s);
}

int daemon_stats_json(struct daemon *d, struct buf *out)
{
	cJSON *root = cJSON_CreateObject();
	char *txt;
	int rc;

	if (!root)
		return -ENOMEM;
	for (size_t i = 0; i < d->nconns; i++) {
		struct conn_rt *c = &d->conns[i];
		cJSON *co = cJSON_AddObjectToObject(root, c->conn->name);

		for (size_t k = 0; co && k < c->ncolls; k++) {
			struct coll_rt *m = &c->colls[k];
			cJSON *ko = cJSON_AddObjectToObject(co, m->kind->dir);
			unsigned long f[6];

			if (!ko)
				break;
			cJSON_AddStringToObject(ko, "action", m->kind->action);
			f[0] = __atomic_load_n(&m->fst.requests, __ATOMIC_RELAXED);
			f[1] = __atomic_load_n(&m->fst.pages, __ATOMIC_RELAXED);
			f[2] = __atomic_load_n(&m->fst.retries, __ATOMIC_RELAXED);
			f[3] = __atomic_load_n(&m->fst.throttles, __ATOMIC_RELAXED);
			f[4] = __atomic_load_n(&m->fst.in_flight, __ATOMIC_RELAXED);
			f[5] = __atomic_load_n(&m->fst.bytes, __ATOMIC_RELAXED);
			cJSON_AddNumberToObject(ko, "api_requests", (double)f[0]);
			cJSON_AddNumberToObject(ko, "pages", (double)f[1]);
			cJSON_AddNumberToObject(ko, "retries", (double)f[2]);
			cJSON_AddNumberToObject(ko, "throttles", (double)f[3]);
			cJSON_AddNumberToObject(ko, "in_flight", (double)f[4]);
			cJSON_AddNumberToObject(ko, "bytes_received", (double)f[5]);
			cJSON_AddNumberToObject(ko, "rate_limit_per_s", ratelimit_rate(&m->rl));
			cJSON_AddNumberToObject(ko, "latency_p50_ms",
						fetch_latency_pct(&m->lat, 50) / 1000.0);
			cJSON_AddNumberToObject(ko, "latency_p99_ms",
						fetch_latency_pct(&m->lat, 99) / 1000.0);
			add_coll_stats(ko, m);
			pthread_mutex_lock(&m->subs_mu);
			cJSON_AddNumberToObject(ko, "filtered_views", (double)m->nsubs);
			pthread_mutex_unlock(&m->subs_mu);
		}
	}
	txt = cJSON_Print(root);
	cJSON_Delete(root);
	if (!txt)
		return -ENOMEM;
	rc = buf_addstr(out, txt);
	if (!rc)
		rc = buf_addch(out, '\n');
	cJSON_free(txt);
	return rc;
}

struct conn_rt *daemon_conn(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->nconns; i++)
		if (!strcmp(d->conns[i].conn->name, name))
			return &d->conns[i];
	return NULL;
}
