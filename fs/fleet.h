/*
 * fleet.h - fleet mode: many hosts share snapshots, leases and one rate
 * budget through a Redis server (hiredis, synchronous API).
 *
 * Opt-in: fleet_new() with no URL gives *out = NULL, and every function
 * here accepts f == NULL and returns FLEET_DOWN at once, so a caller never
 * needs to ask whether fleet mode is on.
 *
 * Redis is a cache here. Nothing read from it is trusted: a blob is
 * returned only whole, with its length and SHA-256 checked, and every key
 * written carries a TTL. Redis failing never fails a caller: after an I/O
 * error or a timeout (connect and command timeouts, 200 ms by default) the
 * module is "down" for a back-off (1 s doubling to 5 s) during which every
 * call returns FLEET_DOWN without touching the network; then one call
 * probes, and sharing resumes by itself when it succeeds. One log line per
 * change of state. The caller's answer to FLEET_DOWN is its local
 * behaviour (fetch itself; take rate / fleet_last_size() locally).
 *
 * Thread-safe: connections come from a small mutex-guarded pool; no lock is
 * held across network I/O. The process must ignore SIGPIPE (libfuse's
 * fuse_set_signal_handlers() does).
 *
 * Key layout (P is the configured prefix, "gcf" by default; H is the hex
 * hash fleet_ns() makes from the caller's identity fields):
 *   P:H:m            blob metadata (FLEET_META_LEN bytes), written last
 *   P:H:c:<pub>:<i>  chunk i of publication <pub> (16 hex digits)
 *   P:H:lease        lease token; P:H:lease:last the last holder's token
 *   P:H:rate         GCRA theoretical arrival time (Redis microseconds)
 *   P:hosts          sorted set host id -> Redis time of its last heartbeat
 * See docs/fleet.md.
 */
#ifndef GCF_FLEET_H
#define GCF_FLEET_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "gcf_error.h"

/* Return codes besides 0 (every function returns 0 or a negative errno).
 * Any other negative value is a failed call: -EIO for an error reply
 * (NOPERM, OOM: the connection is fine, the breaker stays closed),
 * -ETIMEDOUT, -ECONNREFUSED, -ECONNRESET, -EACCES (AUTH refused) when the
 * call opened the breaker. Callers treat them all like FLEET_DOWN. */
#define FLEET_DOWN (-ENOTCONN) /* not configured, or circuit open: use local behaviour */
#define FLEET_MISS (-ENOENT)   /* no complete, valid blob (or lease not ours any more) */
#define FLEET_HELD (-EBUSY)    /* lease held by another host */
/* fleet_wait_publication's deadline passed. Distinct from -ETIMEDOUT (a
 * Redis command that timed out), which asks for the local behaviour. */
#define FLEET_DEADLINE (-ETIME)

/* "P:<32 hex>": the namespace of one collection or one limiter. */
#define FLEET_NS_MAX  96
#define FLEET_PUB_LEN 16 /* hex digits of a publication id */

struct fleet;

struct fleet_config {
	const char *url;             /* redis://[user@]host[:port][/db] or unix:/path; NULL or ""
					= fleet mode off */
	const char *user;            /* ACL user; NULL = the URL's, or none */
	const char *password_file;   /* first line is the password; NULL = no AUTH */
	const char *prefix;          /* key prefix, NULL = "gcf" ([A-Za-z0-9_.-], <= 32) */
	const char *host_id;         /* this host in P:hosts; NULL = hostname:pid */
	unsigned connect_timeout_ms; /* 0 = 200 */
	unsigned command_timeout_ms; /* 0 = 200 (per socket read or write) */
	unsigned bulk_timeout_ms;    /* 0 = 2000: per socket read or write while chunks
					move (a loaded Redis or host stalls on megabytes
					longer than on a small command) */
	unsigned backoff_min_ms;     /* 0 = 1000: first down period */
	unsigned backoff_max_ms;     /* 0 = 5000: doubling stops here (a probe costs one
					connect: sharing resumes within this of Redis's return) */
	size_t chunk_size;           /* 0 = 256 KiB */
	size_t max_blob;             /* 0 = 1 GiB: larger metadata is refused as garbage */
};

/*
 * Reads the password file (kept in memory, wiped by fleet_free, never
 * logged) and checks the URL. Connects to nothing: the first call does.
 * *out = NULL when cfg->url is NULL or empty (fleet mode off; returns 0).
 * Returns 0, -EINVAL (bad URL, prefix, or a password file that is missing,
 * empty or readable by group/others: err says which, never the password),
 * -ENOMEM.
 */
int fleet_new(const struct fleet_config *cfg, struct fleet **out, struct gcf_error *err);
/* Closes every connection and wipes the password. NULL ok. */
void fleet_free(struct fleet *f);

/*
 * The namespace for a list of identity fields, e.g. (provider, endpoint,
 * region, access key ID, kind, filter) for a collection or (provider,
 * endpoint, region, access key ID, action) for a limiter: "P:" + the first
 * 128 bits of SHA-256 over the length-prefixed fields, in hex. Never pass
 * a secret. NULL fields hash as empty. Works with f == NULL (prefix "gcf").
 * Returns 0 or -EIO.
 */
int fleet_ns(const struct fleet *f, const char *const *fields, size_t n, char out[FLEET_NS_MAX]);

/* What the metadata key says about a blob. */
struct fleet_meta {
	uint64_t length;             /* bytes of the blob */
	uint32_t chunk_size;         /* bytes per chunk (the last may be shorter) */
	uint32_t chunks;             /* ceil(length / chunk_size) */
	uint64_t published_ms;       /* wall clock (ms since the epoch) the publisher gave */
	uint8_t sha256[32];          /* of the whole blob */
	char pub[FLEET_PUB_LEN + 1]; /* publication id, hex */
};

/*
 * Publishes len bytes under ns: the chunks first (each SET ... PX ttl_ms,
 * under keys that hold a fresh publication id, pipelined), then the
 * metadata LAST, so that a reader sees either the previous complete
 * publication or this one. The previous publication's chunks are given a
 * short grace TTL (5 s) so readers in flight finish. published_ms = 0
 * means now. meta_out (may be NULL) gets what was written.
 * Returns 0, FLEET_DOWN, -EINVAL (ttl_ms 0, len > max_blob), -EIO (Redis
 * refused: OOM, NOPERM...), -ETIMEDOUT/-ECONNRESET (the breaker opened).
 */
int fleet_publish(struct fleet *f, const char *ns, const void *data, size_t len, uint64_t ttl_ms,
		  uint64_t published_ms, struct fleet_meta *meta_out);

/*
 * Fetches the blob under ns into out (appended; out is reset first). On
 * success out holds exactly meta->length bytes whose SHA-256 matches.
 * A missing metadata key, a missing chunk (evicted or expired), a chunk of
 * the wrong length, a wrong checksum or garbage metadata are all
 * FLEET_MISS, and out is left empty: never a partial blob. -EFBIG when
 * out's ceiling is below the length. meta may be NULL. When the metadata
 * came back but the chunks stalled past the bulk timeout, the connection
 * is dropped and -ETIMEDOUT returned without opening the breaker (Redis
 * answered: it is slow, not down; fleet_is_up() stays true).
 */
int fleet_fetch(struct fleet *f, const char *ns, struct buf *out, struct fleet_meta *meta);

/*
 * Waits for a publication newer than since_pub (NULL or "" = any), polling
 * every poll_ms (0 = 50) until deadline_ns (clock_now_ns() scale), while
 * the lease on ns is held by someone. Returns 0 with out/meta filled,
 * -EAGAIN when the lease is free and nothing new was published (its holder
 * died or gave up: try fleet_lease_acquire, a takeover), FLEET_DEADLINE at
 * the deadline, FLEET_DOWN or another error (-ETIMEDOUT: a Redis command
 * timed out). Counts one lease wait.
 */
int fleet_wait_publication(struct fleet *f, const char *ns, const char *since_pub,
			   uint64_t deadline_ns, unsigned poll_ms, struct buf *out,
			   struct fleet_meta *meta);

/* A lease on one collection; caller-owned, plain data. */
struct fleet_lease {
	char key[FLEET_NS_MAX + 8]; /* ns + ":lease" */
	char token[33];             /* random, hex */
	bool takeover; /* set by acquire: the previous holder never released (it died) */
};

/*
 * SET ns:lease token NX PX ttl_ms with a fresh random token. Returns 0
 * (acquired: l filled), FLEET_HELD (another host holds it), FLEET_DOWN or
 * another error.
 */
int fleet_lease_acquire(struct fleet *f, const char *ns, uint64_t ttl_ms, struct fleet_lease *l);
/* Extends the lease to ttl_ms if it is still ours. 0, FLEET_MISS (lost:
 * expired and maybe taken), FLEET_DOWN or another error. */
int fleet_lease_renew(struct fleet *f, const struct fleet_lease *l, uint64_t ttl_ms);
/* Deletes the lease if it is still ours. 0, FLEET_MISS (not ours any more),
 * FLEET_DOWN or another error. */
int fleet_lease_release(struct fleet *f, const struct fleet_lease *l);

/*
 * One slot of the fleet-wide budget under key (from fleet_ns over
 * credential hash fields, region and action): GCRA on Redis's clock, at
 * most burst at once and rate_per_s after, so that the fleet never makes
 * more than rate_per_s + burst - 1 calls in any 1 s window. Returns 0 with
 * *wait_ns = 0 (go now: the slot is taken) or > 0 (nothing taken: wait
 * that long, then ask again); FLEET_DOWN (use a local limiter at
 * rate_per_s / fleet_last_size()); another error. Refreshes this host's
 * heartbeat in P:hosts every 2 s as a side effect.
 */
int fleet_rate_acquire(struct fleet *f, const char *key, double rate_per_s, unsigned burst,
		       uint64_t *wait_ns);

/* Refreshes this host in P:hosts (10 s TTL per member) and counts the
 * hosts seen. 0 or an error. */
int fleet_heartbeat(struct fleet *f);
/* The last fleet size seen (>= 1; 1 before any heartbeat or when f NULL). */
unsigned fleet_last_size(const struct fleet *f);

/* True when the breaker is closed (calls go to Redis). False when f NULL. */
bool fleet_is_up(const struct fleet *f);

/* Counters since fleet_new (atomics; for stats.json). */
struct fleet_stats {
	uint64_t hits;          /* fleet_fetch returned a blob */
	uint64_t misses;        /* fleet_fetch found nothing valid */
	uint64_t publications;  /* fleet_publish completed */
	uint64_t lease_waits;   /* lease found held / fleet_wait_publication calls */
	uint64_t takeovers;     /* leases acquired from a holder that never released */
	uint64_t errors;        /* I/O errors, timeouts and error replies */
	uint64_t fallbacks;     /* calls answered FLEET_DOWN by the open breaker */
	uint64_t state_changes; /* up -> down and down -> up */
	uint64_t rate_waits;    /* fleet_rate_acquire answered "wait" */
	uint64_t bulk_stalls;   /* chunk transfers that stalled past the bulk timeout
				   (also counted in errors; the breaker stayed closed) */
	unsigned fleet_size;    /* fleet_last_size() */
	bool up;                /* fleet_is_up() */
};
/* Zeroes *out when f is NULL. */
void fleet_stats_get(const struct fleet *f, struct fleet_stats *out);

/* --- pure helpers, exposed for tests and the fuzz target --- */

#define FLEET_META_LEN 72

/* Encodes m into exactly FLEET_META_LEN bytes (little endian). */
void fleet_meta_encode(const struct fleet_meta *m, uint8_t out[FLEET_META_LEN]);
/* Decodes bytes read from Redis. 0, or -EINVAL for anything but a
 * consistent record of this version with length <= max_blob (then *m is
 * zeroed). Never reads past n. */
int fleet_meta_decode(const void *p, size_t n, uint64_t max_blob, struct fleet_meta *m);
/* Checks an assembled blob against m (length and SHA-256). 0 or FLEET_MISS. */
int fleet_blob_verify(const struct fleet_meta *m, const void *p, size_t n);
/* Length chunk i of m must have (0 when i >= m->chunks). */
size_t fleet_chunk_len(const struct fleet_meta *m, uint32_t i);

#endif
