/*
 * stats.c - the statistics JSON (see stats.h).
 */
#include "stats.h"

#include <errno.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "daemon.h"
#include "fleetcache.h"

/* What the cache of coll knows. */
static void add_cache_stats(cJSON *o, struct coll_rt *coll)
{
	struct collection_stats cs;
	struct gcf_error le = GCF_ERROR_INIT;
	struct snapshot *s = cache_peek(&coll->col);
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	bool stale = false;
	char when[32] = "";

	cache_status(&coll->col, &stale, &le, &cs);
	if (s)
		clock_format_utc(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", s->fetched_wall);
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

/* The fetch in flight or the last one: "progress": {"state": "fetching",
 * "pages_done": 640, "pages_total": 2000, "objects": 32000, "elapsed_s":
 * 32.1, "eta_s": 68.2, "text": "fetching, 640 of 2,000 pages, complete in
 * about 68 s"}; pages_total 0 = not known yet, eta_s null = not known. */
static void add_progress(cJSON *o, struct coll_rt *coll)
{
	static const char *const states[] = {[PROGRESS_NONE] = "none",
					     [PROGRESS_RUNNING] = "fetching",
					     [PROGRESS_DONE] = "complete",
					     [PROGRESS_FAILED] = "failed",
					     [PROGRESS_ABANDONED] = "abandoned"};
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct progress_view v;
	cJSON *p = cJSON_AddObjectToObject(o, "progress");

	if (!p)
		return;
	cache_progress(&coll->col, &v);
	cJSON_AddStringToObject(p, "state", states[v.state]);
	cJSON_AddNumberToObject(p, "pages_done", (double)v.pages_done);
	cJSON_AddNumberToObject(p, "pages_total", (double)v.pages_total);
	cJSON_AddNumberToObject(p, "objects", (double)v.objects);
	cJSON_AddNumberToObject(p, "elapsed_s", (double)(long long)(v.elapsed_s * 10) / 10);
	if (v.eta_s >= 0)
		cJSON_AddNumberToObject(p, "eta_s", (double)(long long)(v.eta_s * 10) / 10);
	else
		cJSON_AddNullToObject(p, "eta_s");
	if (!progress_format(&v, coll->col.fetch_idle_ns, &b) && b.len)
		cJSON_AddStringToObject(p, "text", buf_str(&b));
	buf_release(&b);
}

static double load(unsigned long *counter)
{
	return (double)__atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* The API traffic of main collection m (its views included). */
static void add_fetch_stats(cJSON *o, struct coll_rt *m)
{
	cJSON_AddNumberToObject(o, "api_requests", load(&m->fst.requests));
	cJSON_AddNumberToObject(o, "pages", load(&m->fst.pages));
	cJSON_AddNumberToObject(o, "retries", load(&m->fst.retries));
	cJSON_AddNumberToObject(o, "throttles", load(&m->fst.throttles));
	cJSON_AddNumberToObject(o, "in_flight", load(&m->fst.in_flight));
	cJSON_AddNumberToObject(o, "bytes_received", load(&m->fst.bytes));
	cJSON_AddNumberToObject(o, "rate_limit_per_s", ratelimit_rate(&m->rl));
	cJSON_AddNumberToObject(o, "latency_p50_ms", fetch_latency_pct(&m->lat, 50) / 1000.0);
	cJSON_AddNumberToObject(o, "latency_p99_ms", fetch_latency_pct(&m->lat, 99) / 1000.0);
}

/* The inode table and its cap: ".inodes": {"nodes": 1234, "peak": 131072,
 * "max_nodes": 131072, "evictions": 50, "evicted_files": 950, "evicting":
 * 20}: evictions counts object directories, evicting the files asked for
 * and not yet forgotten. */
static void add_inode_stats(cJSON *root, struct daemon *d)
{
	struct inodes_cap_stats st;
	cJSON *o = cJSON_AddObjectToObject(root, ".inodes");

	if (!o)
		return;
	inodes_cap_stats(&d->inodes, &st);
	cJSON_AddNumberToObject(o, "nodes", (double)st.nodes);
	cJSON_AddNumberToObject(o, "peak", (double)st.peak);
	cJSON_AddNumberToObject(o, "max_nodes", (double)st.max_nodes);
	cJSON_AddNumberToObject(o, "evictions", (double)st.evictions);
	cJSON_AddNumberToObject(o, "evicted_files", (double)st.evicted_names);
	cJSON_AddNumberToObject(o, "evicting", (double)st.pending);
}

int stats_json(struct daemon *d, struct buf *out)
{
	cJSON *root = cJSON_CreateObject();
	char *txt;
	int rc;

	if (!root)
		return -ENOMEM;
	for (size_t i = 0; i < d->nconns; i++) {
		struct conn_rt *cr = &d->conns[i];
		cJSON *co = cJSON_AddObjectToObject(root, cr->conn->name);

		for (size_t k = 0; co && k < cr->ncolls; k++) {
			struct coll_rt *m = &cr->colls[k];
			cJSON *ko = cJSON_AddObjectToObject(co, m->kind->dir);

			if (!ko)
				break;
			cJSON_AddStringToObject(ko, "action", m->kind->action);
			add_fetch_stats(ko, m);
			add_cache_stats(ko, m);
			add_progress(ko, m);
			pthread_mutex_lock(&m->subs_mu);
			cJSON_AddNumberToObject(ko, "filtered_views", (double)m->nsubs);
			pthread_mutex_unlock(&m->subs_mu);
		}
	}
	add_inode_stats(root, d);
	if (fleetcache_stats_json(d, root)) {
		cJSON_Delete(root);
		return -ENOMEM;
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
