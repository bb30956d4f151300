/*
 * collfetch.h - what a collection's cache calls back: its fetch (the pager,
 * fetch_listing, then render_snapshot), the record of a failed one in the
 * status ring (once, with the outcome cache.c decided), and the kernel told
 * what a new snapshot changed (diff.h).
 */
#ifndef GCF_COLLFETCH_H
#define GCF_COLLFETCH_H

#include "config.h"
#include "defaults.h"

struct coll_rt;

/* Sets up coll->col, the cache entry of coll (main collection or view;
 * coll->d, ->cr and ->kind set), with its connection's TTL, stale_if_error
 * and refresh_wait and the callbacks below. 0 or -errno. */
int collfetch_init(struct coll_rt *coll);

/* Requests per second to kind k of connection c: the connection's max_rps,
 * else the kind's documented rate, else COLLFETCH_DEFAULT_RATE_PER_S. */
unsigned collfetch_rate(const struct conn *c, const struct kind *k);

#endif
