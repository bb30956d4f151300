/*
 * ratelimit.h - client-side request limit per (connection, API action).
 *
 * A sliding one-second window, the same rule the clouds enforce ("N requests
 * per second"): request i+rate may start only one window after request i
 * *finished* (its reply arrived, so the cloud surely counted it before), never
 * merely after it was sent: the time a request spends connecting before the
 * cloud sees it varies, and a limiter keyed on send times overshoots by that
 * much. Slots are reserved under a lock and waited for outside it; no wait
 * passes the caller's deadline.
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
	uint64_t *ring; /* finish times of the last `rate` requests; RATELIMIT_PENDING in flight */
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
void ratelimit_done(struct ratelimit *rl, unsigned slot);

/* The cloud answered "too many requests": halve the rate (never below a
 * quarter of the documented one, nor 1/s) and
 * start nothing before retry_after_ns from now (at least one window). The
 * full rate comes back after RATELIMIT_RECOVER_NS without throttling. */
#define RATELIMIT_RECOVER_NS 10000000000ull
void ratelimit_throttled(struct ratelimit *rl, uint64_t retry_after_ns);

/* The rate in force now (requests per second). */
unsigned ratelimit_rate(struct ratelimit *rl);

#endif
