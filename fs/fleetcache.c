/*
 * fleetcache.c - fleet mode wired into the daemon (see fleetcache.h).
 */
#include "fleetcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "collfetch.h"
#include "crypto.h"
#include "daemon.h"
#include "fetch.h"
#include "fleet.h"
#include "incremental.h"
#include "log.h"
#include "snapfile.h"

/* One refresh in flight with fleet mode on: what its requests need. */
struct fc_run {
	struct fc_run *next;
	struct fleetcache *fc;
	struct coll_rt *coll;
	struct coll_rt *m; /* coll's main collection: its limiter and rate */
	char rate_key[FLEET_NS_MAX];
	pthread_mutex_t mu; /* the page workers share the run: */
	struct fleet_lease lease;
	bool leased;
	uint64_t renewed_ns;
	/* Started without the lease because Redis was down: when Redis is back
	 * the run tries to take the lease (at most once a second, lead_ns), and
	 * stops (superseded) if another host holds it, rather than spend the
	 * fleet's budget on a second copy of the same listing. */
	const char *lead_ns;
	uint64_t lead_tried_ns;
	bool superseded;
};

/* The local pace used while Redis is down, per main collection. */
struct fc_pace {
	struct fc_pace *next;
	const struct coll_rt *m;
	uint64_t tat_ns; /* next free slot (clock_now_ns scale) */
};

struct fleetcache {
	struct fleet *fleet;
	pthread_mutex_t mu; /* guards runs and paces */
	struct fc_run *runs;
	struct fc_pace *paces;
	_Atomic uint64_t heartbeat_ns;
};

int fleetcache_open(struct daemon *d, struct gcf_error *err)
{
	const struct config *cfg = &d->cfg;
	struct fleet_config fc = {
	    .url = cfg->redis,
	    .user = cfg->redis_user,
	    .password_file = cfg->redis_password_file,
	    .prefix = cfg->redis_prefix,
	};
	struct fleetcache *c;
	int rc;

	d->fleet = NULL;
	if (!cfg->redis || !*cfg->redis)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	rc = fleet_new(&fc, &c->fleet, err);
	if (rc) {
		free(c);
		return rc;
	}
	pthread_mutex_init(&c->mu, NULL);
	d->fleet = c;
	log_info("fleet: sharing snapshots and the rate budget through redis (prefix '%s')",
		 cfg->redis_prefix ? cfg->redis_prefix : "gcf");
	return 0;
}

void fleetcache_close(struct daemon *d)
{
	struct fleetcache *c = d ? d->fleet : NULL;

	if (!c)
		return;
	while (c->paces) {
		struct fc_pace *p = c->paces;

		c->paces = p->next;
		free(p);
	}
	fleet_free(c->fleet);
	pthread_mutex_destroy(&c->mu);
	free(c);
	d->fleet = NULL;
}

/* ---- identity ---------------------------------------------------------- */

/* Hex SHA-256 over the connection's provider keys (name and value, length
 * prefixed, in table order). Secrets are hashed separately first, so that
 * only a hash of a hash of them ever leaves this function. 0 or -EIO. */
static int cred_hash(const struct conn *c, char out[65])
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int rc = 0;

	for (const struct provider_key *k = c->prov->key_table; !rc && k && k->key; k++) {
		const char *v;
		char h[65];

		if (!c->priv || k->offset + sizeof(char *) > c->prov->sizeof_priv)
			continue;
		v = *(char *const *)((const char *)c->priv + k->offset);
		if (!v)
			continue;
		if (k->secret) {
			rc = crypto_sha256_hex(v, strlen(v), h);
			v = h;
		}
		if (!rc)
			rc = buf_printf(&b, "%zu:%s=%zu:%s;", strlen(k->key), k->key, strlen(v), v);
	}
	if (!rc)
		rc = crypto_sha256_hex(b.p ? b.p : "", b.len, out);
	if (b.p)
		explicit_bzero(b.p, b.len);
	buf_release(&b);
	return rc ? -EIO : 0;
}

/* The namespace of coll's snapshots. 0 or -EIO. */
static int coll_ns(const struct fleetcache *fc, const struct coll_rt *coll, char ns[FLEET_NS_MAX])
{
	const struct conn *c = coll->cr->conn;
	char cred[65];
	const char *fields[7] = {"snapshot",      c->prov->name,     c->endpoint,       cred,
				 coll->kind->dir, coll->filter_name, coll->filter_value};

	if (cred_hash(c, cred))
		return -EIO;
	return fleet_ns(fc->fleet, fields, 7, ns);
}

/* The key of the fleet-wide limiter of main collection m. 0 or -EIO. */
static int rate_ns(const struct fleetcache *fc, const struct coll_rt *m, char ns[FLEET_NS_MAX])
{
	const struct conn *c = m->cr->conn;
	char cred[65];
	const char *fields[5] = {"rate", c->prov->name, c->endpoint, cred, m->kind->action};

	if (cred_hash(c, cred))
		return -EIO;
	return fleet_ns(fc->fleet, fields, 5, ns);
}

/* The collection key snapfile writes and checks: the same identity. */
static int coll_key(const struct coll_rt *coll, struct snapfile_key *key)
{
	const struct conn *c = coll->cr->conn;
	char cred[65];
	struct buf filter = BUF_INIT(BUF_NOLIMIT);
	struct snapfile_identity id = {c->prov->name, c->endpoint,     NULL,
				       cred,          coll->kind->dir, NULL};
	int rc;

	if (cred_hash(c, cred))
		return -EIO;
	if (coll->filter_name) {
		rc = buf_printf(&filter, "%s=%s", coll->filter_name,
				coll->filter_value ? coll->filter_value : "");
		if (rc) {
			buf_release(&filter);
			return rc;
		}
		id.filter = filter.p;
	}
	rc = snapfile_key_init(key, &id);
	buf_release(&filter);
	return rc;
}

/* ---- the rate budget --------------------------------------------------- */

static int sleep_until_ns(uint64_t t)
{
	uint64_t now = clock_now_ns();
	struct timespec ts;

	if (t <= now)
		return 0;
	ts.tv_sec = (time_t)((t - now) / 1000000000ull);
	ts.tv_nsec = (long)((t - now) % 1000000000ull);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return 0;
}

/* Redis is down: this host's share, rate / fleet size, paced locally. */
static int local_share(struct fc_run *run, double rate, uint64_t deadline_ns, struct gcf_error *err)
{
	struct fleetcache *fc = run->fc;
	unsigned size = fleet_last_size(fc->fleet);
	uint64_t interval, slot, now = clock_now_ns();
	struct fc_pace *p;

	if (size <= 1 || rate <= 0)
		return 0; /* the whole budget: the local limiter is enough */
	interval = (uint64_t)(1e9 * (double)size / rate);
	pthread_mutex_lock(&fc->mu);
	for (p = fc->paces; p && p->m != run->m; p = p->next)
		;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p) {
			pthread_mutex_unlock(&fc->mu);
			return gcf_error_set(err, GCF_NOMEM, "out of memory");
		}
		p->m = run->m;
		p->next = fc->paces;
		fc->paces = p;
	}
	slot = p->tat_ns > now ? p->tat_ns : now;
	if (deadline_ns && slot > deadline_ns) {
		pthread_mutex_unlock(&fc->mu);
		return gcf_error_set(err, GCF_TIMEOUT,
				     "operation deadline passed while waiting for the rate limit");
	}
	p->tat_ns = slot + interval;
	pthread_mutex_unlock(&fc->mu);
	return sleep_until_ns(slot);
}

/* Renews the run's lease when a third of its life has passed: one page
 * worker claims the renewal under the run's lock, then talks to Redis
 * without it. */
static void renew(struct fc_run *run)
{
	uint64_t now = clock_now_ns();
	struct fleet_lease lease;
	bool due = false;
	int rc;

	pthread_mutex_lock(&run->mu);
	if (run->leased && now - run->renewed_ns >= FLEETCACHE_LEASE_MS * 1000000ull / 3) {
		run->renewed_ns = now;
		lease = run->lease;
		due = true;
	}
	pthread_mutex_unlock(&run->mu);
	if (!due)
		return;
	rc = fleet_lease_renew(run->fc->fleet, &lease, FLEETCACHE_LEASE_MS);
	if (rc == FLEET_MISS) {
		log_warn("fleet: %s/%s: lease lost during the fetch (more than %u ms between "
			 "requests)",
			 run->coll->cr->conn->name, run->coll->kind->dir, FLEETCACHE_LEASE_MS);
		pthread_mutex_lock(&run->mu);
		run->leased = false;
		pthread_mutex_unlock(&run->mu);
	}
}

/* A run without the lease (Redis was down when it started), Redis up
 * again: take the lease, or learn that another host holds it. true when
 * the run must stop (superseded). */
static bool lead_or_yield(struct fc_run *run)
{
	uint64_t now = clock_now_ns();
	struct fleet_lease lease;
	bool due = false;
	int rc;

	if (!fleet_is_up(run->fc->fleet))
		return false;
	pthread_mutex_lock(&run->mu);
	if (run->superseded) {
		pthread_mutex_unlock(&run->mu);
		return true;
	}
	if (run->lead_ns && !run->leased && now - run->lead_tried_ns >= 1000000000ull) {
		run->lead_tried_ns = now;
		due = true;
	}
	pthread_mutex_unlock(&run->mu);
	if (!due)
		return false;
	rc = fleet_lease_acquire(run->fc->fleet, run->lead_ns, FLEETCACHE_LEASE_MS, &lease);
	pthread_mutex_lock(&run->mu);
	if (!rc && !run->leased) {
		run->lease = lease;
		run->leased = true;
		run->renewed_ns = now;
	} else if (rc == FLEET_HELD) {
		run->superseded = true;
	}
	pthread_mutex_unlock(&run->mu);
	return rc == FLEET_HELD;
}

/* fetch_io.admit: one slot of the fleet's budget. */
static int admit(void *ctx, uint64_t deadline_ns, struct gcf_error *err)
{
	struct fc_run *run = ctx;
	const struct conn *c = run->m->cr->conn;
	unsigned cur = ratelimit_rate(&run->m->rl);
	unsigned base = collfetch_rate(c, run->m->kind);
	double rate = (double)(cur && cur < base ? cur : base);
	uint64_t wait;
	int rc;

	if (lead_or_yield(run)) /* a class fetch.c does not retry: the run stops */
		return gcf_error_set(err, GCF_CONFIG,
				     "another host of the fleet fetches this listing");
	renew(run);
	if (!rate)
		return 0;
	rate /= 1.0 + FLEETCACHE_RATE_MARGIN;
	for (;;) {
		rc = fleet_rate_acquire(run->fc->fleet, run->rate_key, rate, 1, &wait);
		if (rc)
			return local_share(run, rate, deadline_ns, err);
		if (!wait)
			return 0;
		if (deadline_ns && clock_now_ns() + wait > deadline_ns)
			return gcf_error_set(err, GCF_TIMEOUT,
					     "operation deadline passed while waiting for the "
					     "fleet's rate limit");
		sleep_until_ns(clock_now_ns() + wait);
	}
}

void fleetcache_io(struct coll_rt *coll, struct fetch_io *io)
{
	struct fleetcache *fc = coll->d->fleet;

	if (!fc)
		return;
	pthread_mutex_lock(&fc->mu);
	for (struct fc_run *r = fc->runs; r; r = r->next)
		if (r->coll == coll) {
			io->admit = admit;
			io->admit_ctx = r;
			break;
		}
	pthread_mutex_unlock(&fc->mu);
}

/* ---- snapshots --------------------------------------------------------- */

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000ull + (uint64_t)ts.tv_nsec / 1000000ull;
}

/* The clock_now_ns() time a publication of wall time published_ms was
 * made (its age on the wall clock, taken from now; never in the future,
 * never 0). */
static uint64_t published_mono_ns(uint64_t published_ms)
{
	uint64_t now = clock_now_ns(), wall = wall_ms();
	uint64_t age_ns = wall > published_ms ? (wall - published_ms) * 1000000ull : 0;

	return age_ns < now ? now - age_ns : 1;
}

/* Bytes read from Redis -> *out, as coll_fetch would have made it, dated
 * from its publication: a shared copy is fresh for the TTL from when its
 * host fetched it, not from when this host read it. */
static int install(struct coll_rt *coll, const struct snapfile_key *key, const struct buf *b,
		   const struct fleet_meta *meta, struct snapshot **out)
{
	struct gcf_error derr = GCF_ERROR_INIT;
	struct snapshot *s = NULL, *prev;
	struct snapfile_meta sm;
	const char *why = NULL;
	int rc;

	snapfile_meta_init(&sm);
	rc = snapfile_decode(b->p, b->len, key, &s, &sm, &derr);
	if (rc) {
		/* fleet.c checked the SHA-256: only another version or a hash
		 * collision of identities gets here. Fetch locally. */
		log_warn("fleet: %s/%s: shared snapshot refused: %s", coll->cr->conn->name,
			 coll->kind->dir, derr.message ? derr.message : "?");
		gcf_error_release(&derr);
		return rc;
	}
	prev = cache_peek(&coll->col);
	snapshot_carry_times(prev, s);
	snapshot_put(prev);
	/* A main collection adopts the publisher's watermark with its
	 * snapshot (the fetch of this collection is ours: single-flight), so
	 * that whoever refreshes it next does so incrementally. */
	if (!coll->main && incr_adopt(&coll->incr, &coll->col, s, &sm, &why))
		log_debug("%s/%s: shared snapshot without a usable watermark (%s): the next "
			  "refresh is full",
			  coll->cr->conn->name, coll->kind->dir, why ? why : "?");
	snapfile_meta_release(&sm);
	coll->col.fetched_preset_ns = published_mono_ns(meta->published_ms);
	*out = s;
	log_debug("%s/%s: %zu objects from the fleet", coll->cr->conn->name, coll->kind->dir,
		  s->nentries);
	return 0;
}

/* Encodes *s and publishes it under ns. Errors are the fleet's business. */
static void publish(struct fleetcache *fc, struct coll_rt *coll, const char *ns,
		    const struct snapfile_key *key, const struct snapshot *s)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct snapfile_meta m;
	struct incr_wm wm;
	uint64_t ttl_ms = (uint64_t)coll->cr->conn->ttl_s * 1000ull;

	snapfile_meta_init(&m);
	m.key = *key;
	m.kind = (char *)coll->kind->dir;
	/* the watermark of exactly this snapshot, for whoever fetches next */
	if (!coll->main)
		incr_export(&coll->incr, &coll->col, s, &wm);
	else
		memset(&wm, 0, sizeof(wm));
	incr_wm_meta(&wm, &m);
	if (!snapfile_encode(s, &m, &b))
		fleet_publish(fc->fleet, ns, b.p, b.len, 2 * ttl_ms + 5000, 0, NULL);
	buf_release(&b);
}

/* fleet_fetch, tried again (FLEETCACHE_STALL_TRIES in all) while its chunks
 * stall with Redis up (answering, but slowly: a loaded host): a shared copy
 * is worth more than a local fetch that costs the fleet's rate budget. */
static int shared_get(struct fleetcache *fc, const char *ns, struct buf *b, struct fleet_meta *meta)
{
	int rc = fleet_fetch(fc->fleet, ns, b, meta);

	for (int i = 1; i < FLEETCACHE_STALL_TRIES && rc == -ETIMEDOUT && fleet_is_up(fc->fleet);
	     i++)
		rc = fleet_fetch(fc->fleet, ns, b, meta);
	return rc;
}

static void run_register(struct fleetcache *fc, struct fc_run *run)
{
	pthread_mutex_lock(&fc->mu);
	run->next = fc->runs;
	fc->runs = run;
	pthread_mutex_unlock(&fc->mu);
}

static void run_unregister(struct fleetcache *fc, struct fc_run *run)
{
	pthread_mutex_lock(&fc->mu);
	for (struct fc_run **pp = &fc->runs; *pp; pp = &(*pp)->next)
		if (*pp == run) {
			*pp = run->next;
			break;
		}
	pthread_mutex_unlock(&fc->mu);
}

/* The local fetch, with the run's limiter and lease; publishes on success
 * when publish_ns is set, then releases the lease. */
static int local_run(struct fc_run *run, const char *publish_ns, const struct snapfile_key *key,
		     uint64_t deadline_ns, fleetcache_local_fn local, struct snapshot **out,
		     struct gcf_error *err)
{
	struct fleetcache *fc = run->fc;
	struct coll_rt *coll = run->coll;
	int rc;

	run_register(fc, run);
	rc = local(coll, &coll->col, deadline_ns, out, err);
	run_unregister(fc, run);
	if (!rc && publish_ns)
		publish(fc, coll, publish_ns, key, *out);
	if (run->leased)
		fleet_lease_release(fc->fleet, &run->lease);
	return rc;
}

static void heartbeat(struct fleetcache *fc)
{
	uint64_t now = clock_now_ns(), last = atomic_load(&fc->heartbeat_ns);

	if (now - last < 2000000000ull ||
	    !atomic_compare_exchange_strong(&fc->heartbeat_ns, &last, now))
		return;
	fleet_heartbeat(fc->fleet);
}

int fleetcache_fetch(struct coll_rt *coll, uint64_t deadline_ns, fleetcache_local_fn local,
		     struct snapshot **out, struct gcf_error *err)
{
	struct fleetcache *fc = coll->d->fleet;
	uint64_t ttl_ms = (uint64_t)coll->cr->conn->ttl_s * 1000ull;
	struct fc_run run;
	struct snapfile_key key;
	struct fleet_meta meta;
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	char ns[FLEET_NS_MAX], since[FLEET_PUB_LEN + 1] = "";
	int rc;

	if (!fc)
		return local(coll, &coll->col, deadline_ns, out, err);
	if (!deadline_ns)
		deadline_ns = clock_now_ns() + coll->d->op_timeout_ns;
	memset(&run, 0, sizeof(run));
	run.fc = fc;
	run.coll = coll;
	run.m = coll->main ? coll->main : coll;
	if (rate_ns(fc, run.m, run.rate_key))
		return local(coll, &coll->col, deadline_ns, out, err);
	pthread_mutex_init(&run.mu, NULL);
	heartbeat(fc);
	/* ttl = 0: every read refetches; nothing to share but the budget. */
	if (!ttl_ms || coll_ns(fc, coll, ns) || coll_key(coll, &key)) {
		rc = local_run(&run, NULL, NULL, deadline_ns, local, out, err);
		goto done;
	}
	rc = shared_get(fc, ns, &b, &meta);
	if (!rc) {
		uint64_t now = wall_ms();

		if (meta.published_ms + ttl_ms > now && !install(coll, &key, &b, &meta, out))
			goto done; /* shared hit: fresh, fetched by some host */
		memcpy(since, meta.pub, sizeof(since));
	} else if (rc != FLEET_MISS && !fleet_is_up(fc->fleet)) {
		run.lead_ns = ns;
		rc = local_run(&run, ns, &key, deadline_ns, local, out, err);
		goto superseded;
	} /* else a miss, or chunks that stalled with Redis up: one fetcher still */
	for (;;) {
		rc = fleet_lease_acquire(fc->fleet, ns, FLEETCACHE_LEASE_MS, &run.lease);
		if (!rc) {
			run.leased = true;
			run.renewed_ns = clock_now_ns();
			if (run.lease.takeover)
				log_info("fleet: %s/%s: took over the fetch of a host that died",
					 coll->cr->conn->name, coll->kind->dir);
			rc = local_run(&run, ns, &key, deadline_ns, local, out, err);
			break;
		}
		if (rc != FLEET_HELD) {
			run.lead_ns = ns;
			rc = local_run(&run, ns, &key, deadline_ns, local, out, err);
			goto superseded;
		}
		/* Another host fetches it: wait for its publication. */
		rc = fleet_wait_publication(fc->fleet, ns, since, deadline_ns, 0, &b, &meta);
		if (rc == -ETIMEDOUT && fleet_is_up(fc->fleet)) /* a new one, chunks stalled */
			rc = shared_get(fc, ns, &b, &meta);
		if (!rc && !install(coll, &key, &b, &meta, out))
			break;
		if (!rc) { /* refused bytes: fetch ourselves */
			memcpy(since, meta.pub, sizeof(since));
			rc = -EAGAIN;
		}
		if (rc == -EAGAIN)
			continue; /* the lease is free: take it over */
		if (rc == FLEET_DEADLINE) {
			rc = gcf_error_set(err, GCF_TIMEOUT,
					   "operation deadline passed while another host of the "
					   "fleet fetched this listing");
			gcf_error_set_context(err, coll->cr->conn->name, coll->kind->action);
			break;
		}
		run.lead_ns = ns;
		rc = local_run(&run, ns, &key, deadline_ns, local, out, err);
		goto superseded;
	}
	goto done;
superseded:
	/* Redis came back during a leaderless local fetch and another host
	 * holds the lease: its publication, within the reader's deadline; when
	 * Redis fails again or the lease goes without one, fetch locally again
	 * (FLEETCACHE_YIELDS_MAX times at most). */
	for (int yields = 0; rc && run.superseded; yields++) {
		struct gcf_error werr = GCF_ERROR_INIT;
		int wrc = FLEET_MISS;

		for (int i = 0; i < 2; i++) { /* a publication older than the TTL: the next */
			wrc =
			    fleet_wait_publication(fc->fleet, ns, since, deadline_ns, 0, &b, &meta);
			if (wrc == -ETIMEDOUT && fleet_is_up(fc->fleet))
				wrc = shared_get(fc, ns, &b, &meta);
			if (wrc || meta.published_ms + ttl_ms > wall_ms())
				break;
			memcpy(since, meta.pub, sizeof(since));
			wrc = FLEET_MISS;
		}
		if (!wrc && !install(coll, &key, &b, &meta, out)) {
			gcf_error_release(err);
			rc = 0;
			break;
		}
		if (wrc != FLEET_DEADLINE && yields + 1 < FLEETCACHE_YIELDS_MAX &&
		    clock_now_ns() < deadline_ns) {
			gcf_error_release(err);
			run.superseded = false;
			run.leased = false;
			run.lead_tried_ns = 0;
			rc = local_run(&run, ns, &key, deadline_ns, local, out, err);
			continue;
		}
		gcf_error_set(&werr, GCF_TIMEOUT,
			      "another host of the fleet fetched this listing, and its "
			      "publication did not come in time");
		gcf_error_set_context(&werr, coll->cr->conn->name, coll->kind->action);
		gcf_error_release(err);
		gcf_error_move(err, &werr);
		rc = -ETIMEDOUT;
		break;
	}
done:
	buf_release(&b);
	pthread_mutex_destroy(&run.mu);
	return rc;
}

/* ---- stats -------------------------------------------------------------- */

int fleetcache_stats_json(struct daemon *d, struct cJSON *root)
{
	struct fleet_stats st;
	cJSON *o = cJSON_AddObjectToObject(root, ".fleet");

	if (!o)
		return -ENOMEM;
	if (!d->fleet) {
		cJSON_AddStringToObject(o, "state", "off");
		return 0;
	}
	fleet_stats_get(d->fleet->fleet, &st);
	cJSON_AddStringToObject(o, "state", st.up ? "up" : "down");
	cJSON_AddNumberToObject(o, "shared_hits", (double)st.hits);
	cJSON_AddNumberToObject(o, "shared_misses", (double)st.misses);
	cJSON_AddNumberToObject(o, "publications", (double)st.publications);
	cJSON_AddNumberToObject(o, "lease_waits", (double)st.lease_waits);
	cJSON_AddNumberToObject(o, "takeovers", (double)st.takeovers);
	cJSON_AddNumberToObject(o, "errors", (double)st.errors);
	cJSON_AddNumberToObject(o, "fallbacks", (double)st.fallbacks);
	cJSON_AddNumberToObject(o, "state_changes", (double)st.state_changes);
	cJSON_AddNumberToObject(o, "rate_waits", (double)st.rate_waits);
	cJSON_AddNumberToObject(o, "bulk_stalls", (double)st.bulk_stalls);
	cJSON_AddNumberToObject(o, "fleet_size", (double)st.fleet_size);
	return 0;
}
