/*
 * fleetcache.h - fleet mode wired into the daemon: the shared-snapshot step
 * around a collection's local fetch, and the shared rate budget before each
 * request (fleet.h does the Redis side, snapfile.h the bytes).
 *
 * With no `redis` setting d->fleet is NULL, nothing connects, and every
 * function here goes straight to today's local behaviour.
 *
 * A collection's refresh (fleetcache_fetch), with fleet mode on:
 *   1. a fresh publication under the collection's namespace (fetched by any
 *      host within the TTL) is decoded and installed: 0 API requests;
 *   2. else the host takes the collection's lease, fetches locally (the
 *      lease renewed every few requests, see fleetcache_admit), encodes the
 *      snapshot, publishes it and releases the lease;
 *   3. a host that finds the lease held waits for the publication until its
 *      reader's deadline (the cache serves the old snapshot, stale-marked,
 *      after refresh_wait), and takes over when the lease expires without a
 *      publication (its holder died);
 *   4. any Redis error, at any step: today's local fetch.
 * Before each request (fleetcache_admit): one slot of the fleet-wide GCRA
 * budget per (credential hash, region, action); when Redis is down, a local
 * pace at rate / fleet_last_size().
 *
 * The namespace of a collection hashes (provider, endpoint, a SHA-256 of
 * the connection's provider keys - region, access key ID and, hashed, the
 * secrets - kind, filter): two configurations with different credentials
 * never share a key, and no secret goes to Redis.
 */
#ifndef GCF_FLEETCACHE_H
#define GCF_FLEETCACHE_H

#include <stdint.h>

#include "buf.h"
#include "gcf_error.h"
#include "snapshot.h"

struct daemon;
struct coll_rt;
struct collection;
struct fetch_io;

/* How long a lease lives without renewal; a dead holder's is taken over
 * this long after its last renewal. Renewed after a third of it. */
#define FLEETCACHE_LEASE_MS 10000u
/* Rate budget margin, as RATELIMIT_SENT_MARGIN_NS: the fleet's slots are
 * 1 s / rate + margin / rate apart, so that jitter between the hosts and the
 * cloud never puts rate + 1 requests into one second the cloud counts. */
#define FLEETCACHE_RATE_MARGIN 0.05
/* Reads of a shared snapshot whose chunks stalled (fleet.h's bulk timeout)
 * before this host gives up on it. */
#define FLEETCACHE_STALL_TRIES 3
/* Local fetches one refresh may start after yielding to another host whose
 * publication then did not come (Redis failed again, or that host died). */
#define FLEETCACHE_YIELDS_MAX 3

/* Opens fleet mode from d->cfg (redis, redis_user, redis_password_file,
 * redis_prefix): d->fleet stays NULL when redis is unset. Connects to
 * nothing yet. 0 or a negative errno with err set (bad URL, password file). */
int fleetcache_open(struct daemon *d, struct gcf_error *err);
/* Frees d->fleet (after every fetch finished). NULL ok. */
void fleetcache_close(struct daemon *d);

/* The local fetch: the signature of collection_fetch_fn (cache.h). */
typedef int (*fleetcache_local_fn)(void *ctx, struct collection *col, uint64_t deadline_ns,
				   struct snapshot **out, struct gcf_error *err);

/* The refresh of coll (main collection or view) as described above; local
 * is called with (coll, &coll->col, ...) when this host must fetch itself.
 * Same contract as collection_fetch_fn. */
int fleetcache_fetch(struct coll_rt *coll, uint64_t deadline_ns, fleetcache_local_fn local,
		     struct snapshot **out, struct gcf_error *err);

/* Called by the local fetch of coll on its fetch_io: sets io->admit to the
 * shared limiter (and lease renewal) of the refresh in flight, or leaves it
 * alone when fleet mode is off. */
void fleetcache_io(struct coll_rt *coll, struct fetch_io *io);

/* The ".fleet" object of stats.json: {"state": "off" | "up" | "down", and
 * the counters of struct fleet_stats}. 0 or -ENOMEM. */
struct cJSON;
int fleetcache_stats_json(struct daemon *d, struct cJSON *root);

#endif
