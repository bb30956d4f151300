/*
 * daemon.h - the single daemon context: configuration, per-connection
 * runtime (HTTP client, collections, rate limiters), inodes, error status.
 * Built by main.c, reached by every FUSE operation through
 * fuse_req_userdata(); no other mutable global state exists.
 */
#ifndef GCF_DAEMON_H
#define GCF_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cache.h"
#include "config.h"
#include "fetch.h"
#include "http.h"
#include "inode.h"
#include "ratelimit.h"
#include "status.h"

struct daemon;
struct conn_rt;

/* One collection: (connection, kind). */
struct coll_rt {
	struct daemon *d;
	struct conn_rt *cr;
	const struct kind *kind;
	struct collection col;
	struct ratelimit rl;
	struct fetch_stats fst;
	struct fetch_latency lat;
	uint64_t ino; /* the kind directory */
};

struct conn_rt {
	struct conn *conn;
	struct http *http;
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
	/* Injectable transport (tests); NULL = http_perform on the connection's client. */
	struct fetch_io io_override;
};

/* Takes ownership of *cfg (left zeroed). Builds every connection's HTTP
 * client, collections and rate limiters and the fixed inodes.
 * Returns 0 or a negative errno with err set. */
int daemon_init(struct daemon *d, struct config *cfg, struct gcf_error *err);
void daemon_release(struct daemon *d);

/* Drops every snapshot's freshness (SIGHUP). */
void daemon_invalidate_all(struct daemon *d);

/* The runtime of connection `name`, or NULL. */
struct conn_rt *daemon_conn(struct daemon *d, const char *name);

#endif
