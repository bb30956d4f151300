/*
 * daemon.h - the single daemon context: configuration, per-connection
 * runtime (HTTP client, collections, rate limiters), inodes, error status.
 * Built by main.c, reached by every FUSE operation through
 * fuse_req_userdata(); no other mutable global state exists.
 *
 * By job: daemon.c builds and releases it; collfetch.c is what each
 * collection's cache calls (fetch, failure record, kernel invalidation
 * through diff.c); views.c makes the filtered views; stats.c writes
 * stats.json. The daemon_* names below that only forward to those modules
 * are the ones ops.c and main.c call.
 */
#ifndef GCF_DAEMON_H
#define GCF_DAEMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cache.h"
#include "config.h"
#include "fetch.h"
#include "http.h"
#include "incremental.h"
#include "inode.h"
#include "notify.h"
#include "ratelimit.h"
#include "stats.h"
#include "status.h"
#include "views.h"
#include "warm.h"

struct daemon;
struct conn_rt;
struct fleetcache;

/*
 * One collection: (connection, kind), or a filtered view of one (views.h).
 * Name locals of this type coll (m for a main collection, sub for a view)
 * and keep cr for struct conn_rt, so that a name means one type.
 */
struct coll_rt {
	struct daemon *d;
	struct conn_rt *cr;
	const struct kind *kind;
	struct collection col;
	uint64_t ino; /* the kind directory (main collections) */

	/* main collections only: */
	struct ratelimit rl;
	struct fetch_stats fst;
	struct fetch_latency lat;
	struct incr_state incr; /* incremental refresh (incremental.h) */
	pthread_mutex_t subs_mu;
	struct coll_rt **subs; /* filtered views, created on first use */
	size_t nsubs;

	/* filtered views only: */
	struct coll_rt *main; /* NULL for a main collection */
	char *filter_name;
	char *filter_value;
	bool by_id; /* the filter is the kind's ID field */

	struct warm_coll warm; /* main collections: the disk store (warm.h) */
};

struct conn_rt {
	struct conn *conn;
	struct http *http;
	struct status *status; /* the daemon's, for retry lines */
	struct coll_rt *colls;
	size_t ncolls;
	uint64_t ino; /* the connection directory */
};

struct daemon {
	struct config cfg;
	struct conn_rt *conns;
	size_t nconns;
	struct inodes inodes;
	struct status status;
	uint64_t ctl_ino;
	uint64_t op_timeout_ns;
	time_t start_wall;
	struct notifier notifier; /* kernel cache invalidations */
	/* Injectable transport (tests); NULL = http_perform on the connection's client. */
	struct fetch_io io_override;
	struct fleetcache *fleet; /* fleet mode (fleetcache.h); NULL = off */
	struct warm warm;         /* snapshots on disk (warm.h) */
};

/* Takes ownership of *cfg (left zeroed). Builds every connection's HTTP
 * client, collections and rate limiters and the fixed inodes, and seeds the
 * collections from the disk store (warm.h; cfg->cache_dir).
 * Returns 0 or a negative errno with err set. */
int daemon_init(struct daemon *d, struct config *cfg, struct gcf_error *err);
void daemon_release(struct daemon *d);

/* Starts the daemon's threads, after fuse_daemonize (a fork keeps none):
 * the notifier that tells the kernel what each refresh changed (stopped by
 * daemon_release), which also carries the inode table's evictions
 * (cfg.max_nodes: inodes_set_cap), the disk store's writer (warm.h) and each
 * connection's reading of the CA certificates (http_preload). 0 or a
 * negative errno. */
int daemon_start_notifier(struct daemon *d, struct fuse_session *se);

/* Drops every snapshot's freshness (SIGHUP). */
void daemon_invalidate_all(struct daemon *d);

/* The runtime of connection `name`, or NULL. */
struct conn_rt *daemon_conn(struct daemon *d, const char *name);

#endif
