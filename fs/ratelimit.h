/*
 * ratelimit.h - client-side request limit per (connection, API action).
 *
 * A sliding one-second window, the same rule the clouds enforce ("N requests
 * per second"): a request may start when fewer than `rate` requests started
 * in the last second (plus a small margin for network jitter). Slots are
 * reserved under a lock and waited for outside it; no wait passes the
 * caller's deadline.
 */
#ifndef GCF_RATELIMIT_H
#define GCF_RATELIMIT_H

#include <pthread.h>
#include <stdint.h>

struct ratelimit {
	pthread_mutex_t mu;
	unsigned rate;     /* requests per window; 0 = unlimited */
	uint64_t window_ns;
	uint64_t *ring;    /* start times of the last `rate` requests */
	unsigned head;
	uint64_t (*now_ns)(void); /* injectable clock (tests) */
	int (*sleep_until)(uint64_t t_ns); /* injectable wait (tests) */
};

/* rate = requests per second (0 = no limit). Returns 0 or -ENOMEM. */
int ratelimit_init(struct ratelimit *rl, unsigned rate);
void ratelimit_release(struct ratelimit *rl);

/* Waits for a slot. Returns 0, or -ETIMEDOUT (nothing reserved) when the
 * slot would start after deadline_ns (0 = no deadline). */
int ratelimit_acquire(struct ratelimit *rl, uint64_t deadline_ns);

#endif
