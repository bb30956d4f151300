/*
 * ratelimit.h - client-side request limit per (connection, API action).
 *
 * A sliding one-second window, the same rule the clouds enforce ("N requests
 * per second"): request i+rate may start only one window after the cloud
 * surely counted request i. That moment is keyed on when request i went on
 * the wire - after connecting and TLS, whose time varies a lot between a new
 * and a reused connection - plus RATELIMIT_SENT_MARGIN_NS for the network's
 * jitter, or on when its reply arrived if that came sooner. Keying on the
 * reply alone would cost a whole latency per window (measured: 1.29x the
 * ideal cold listing at 200 ms); keying on the moment the request was
 * started, before connecting, overshoots. After a throttling reply it keys
 * on replies only, until RATELIMIT_RECOVER_NS pass without one. Slots are
 * reserved under a lock and waited for outside it; no wait passes the
 * caller's deadline.
 */
#ifndef GCF_RATELIMIT_H
#define GCF_RATELIMIT_H

#include <pthread.h>
#include <stdint.h>

struct ratelimit {
	pthread_mutex_t mu;
	unsigned rate; /* requests per window; 0 = unlimited */
	uint64_t window_ns;
	pthread_cond_t cv; /* a pending slot finished */
	uint64_t *ring; /* count times of the last `rate` requests; RATELIMIT_PENDING in flight */
	unsigned head;
	unsigned cur_rate;       /* <= rate: lowered while the cloud throttles us */
	uint64_t pause_until_ns; /* no request starts before this (Retry-After) */
	uint64_t last_throttle_ns;
	uint64_t (*now_ns)(void);          /* injectable clock (tests) */
	int (*sleep_until)(uint64_t t_ns); /* injectable wait (tests) */
};

/* rate = requests per second (0 = no limit). Returns 0 or -ENOMEM. */
int ratelimit_init(struct ratelimit *rl, unsigned rate);
void ratelimit_release(struct ratelimit *rl);

#define RATELIMIT_PENDING UINT64_MAX

/* Waits for a slot and stores its number in *slot. Returns 0, or -ETIMEDOUT
 * (nothing reserved) when the request could not start before deadline_ns
 * (0 = no deadline). Every successful acquire must be followed by
 * ratelimit_done(rl, *slot) once the request has finished or failed. */
int ratelimit_acquire(struct ratelimit *rl, uint64_t deadline_ns, unsigned *slot);

/* sent_ns: when the request went on the wire (struct http_resp.sent_ns), or
 * 0 if unknown or never: then the slot is keyed on now. */
#define RATELIMIT_SENT_MARGIN_NS 50000000ull
void ratelimit_done(struct ratelimit *rl, unsigned slot, uint64_t sent_ns);

/* The cloud answered "too many requests": halve the rate (never below a
 * quarter of the documented one, nor 1/s) and
 * start nothing before retry_after_ns from now (at least one window). The
 * full rate comes back after RATELIMIT_RECOVER_NS without throttling. */
#define RATELIMIT_RECOVER_NS 10000000000ull
void ratelimit_throttled(struct ratelimit *rl, uint64_t retry_after_ns);

/* The rate in force now (requests per second). */
unsigned ratelimit_rate(struct ratelimit *rl);

#endif
