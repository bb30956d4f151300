/*
 * stats.h - MOUNT/.gpucloudfs/stats.json: for each connection and kind, the
 * API traffic (requests, pages, retries, throttles, bytes, latency), the
 * rate limit, the cache (objects, hits, misses, fetches, stale serves, the
 * last fetch and error) and the number of filtered views.
 */
#ifndef GCF_STATS_H
#define GCF_STATS_H

#include "buf.h"

struct daemon;

/* The statistics of every collection of d as pretty-printed JSON text, with
 * a final newline, appended to out. 0 or -ENOMEM. */
int stats_json(struct daemon *d, struct buf *out);

#endif
