/*
 * ratelimit.h - client-side request limit per (connection, API action).
 *
 * A sliding one-second window, the same rule the clouds enforce ("N requests
 * per second"): request i+rate may start only one window after the cloud
 * surely counted request i. When the cloud counts a request is not seen, only
 * that it lies between the moment the request went on the wire (after
 * connecting and TLS) and its reply. Keying on the reply alone costs a whole
 * latency per window (measured: 1.29x the ideal cold listing at 200 ms);
 * keying on "sent + a constant margin" is beaten by the jitter of a loaded
 * cloud, which may count a request long after it arrived (measured: 2
 * RequestLimitExceeded in a 120 s soak with a 50 ms margin).
 *
 * So the margin adapts to what is observed. The latency every recent request
 * had (the minimum send->reply time over the last 10-20 s) is latency that
 * follows the counting and is the same for each; a request whose reply came
 * later than that may have been counted that much later. Request i is keyed on
 *     reply_i - max(0, min_rtt - margin)
 *   = sent_i + margin + (rtt_i - min_rtt),  never later than reply_i,
 * so a request delayed by the cloud's queue is keyed later by the same amount
 * and a quiet link keeps the full saving. margin is RATELIMIT_SENT_MARGIN_NS
 * (room for a reply that follows its counting sooner than the fastest
 * request's did) plus an extra that each throttling reply doubles
 * (+ RATELIMIT_MARGIN_STEP_NS), bounded by RATELIMIT_MARGIN_MAX_NS, and that
 * halves every RATELIMIT_DECAY_NS without one. For RATELIMIT_RECOVER_NS after
 * a throttling reply it keys on replies only. Slots are reserved under a lock
 * and waited for outside it; no wait passes the caller's deadline.
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
	uint64_t extra_ns;                 /* margin added by throttling, as of last_throttle_ns */
	uint64_t rtt_min_cur;              /* least send->reply time in the current span */
	uint64_t rtt_min_prev;             /* ... in the span before it */
	uint64_t rtt_span_start;           /* when the current span began */
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
 * 0 if unknown or never: then the slot is keyed on now (the reply). Else on
 * now - max(0, min_rtt - ratelimit_margin()), min_rtt taken over the last
 * RATELIMIT_RTT_SPAN_NS to twice that, this request included. */
#define RATELIMIT_SENT_MARGIN_NS 20000000ull
#define RATELIMIT_MARGIN_STEP_NS 50000000ull
#define RATELIMIT_MARGIN_MAX_NS  1000000000ull
#define RATELIMIT_DECAY_NS       30000000000ull
#define RATELIMIT_RTT_SPAN_NS    10000000000ull
void ratelimit_done(struct ratelimit *rl, unsigned slot, uint64_t sent_ns);

/* The margin in force now: RATELIMIT_SENT_MARGIN_NS plus what throttling
 * added, decayed; at most RATELIMIT_MARGIN_MAX_NS. 0 for no limit. */
uint64_t ratelimit_margin(struct ratelimit *rl);

/* The cloud answered "too many requests": halve the rate (never below a
 * quarter of the documented one, nor 1/s), grow the margin (see above) and
 * start nothing before retry_after_ns from now (at least one window). The
 * full rate comes back after RATELIMIT_RECOVER_NS without throttling. Both
 * happen once per window, however many replies say so at once. */
#define RATELIMIT_RECOVER_NS 10000000000ull
void ratelimit_throttled(struct ratelimit *rl, uint64_t retry_after_ns);

/* The rate in force now (requests per second). */
unsigned ratelimit_rate(struct ratelimit *rl);

#endif
