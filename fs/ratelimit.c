/*
 * ratelimit.c - sliding-window request limiter (see ratelimit.h).
 */
#include "ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

/* Clocks differ in rounding: keep this much more than a second between
 * the moment request i is keyed on and the start of request i+rate. */
#define RATELIMIT_MARGIN_NS 10000000ull

static int sleep_until_mono(uint64_t t_ns)
{
	struct timespec ts = {.tv_sec = t_ns / 1000000000ull, .tv_nsec = t_ns % 1000000000ull};
	int rc;

	do
		rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	while (rc == EINTR);
	return -rc;
}

/* The margin at now (rl->mu held): the extra halves every
 * RATELIMIT_DECAY_NS since the last throttling reply. */
static uint64_t margin_at(const struct ratelimit *rl, uint64_t now)
{
	uint64_t halvings, extra = rl->extra_ns;

	if (extra && now > rl->last_throttle_ns) {
		halvings = (now - rl->last_throttle_ns) / RATELIMIT_DECAY_NS;
		extra = halvings >= 64 ? 0 : extra >> halvings;
	}
	return RATELIMIT_SENT_MARGIN_NS + extra;
}

/* Records one send->reply time (rl->mu held) and returns the least over the
 * current and the previous span of RATELIMIT_RTT_SPAN_NS, rtt included. */
static uint64_t rtt_min_add(struct ratelimit *rl, uint64_t now, uint64_t rtt)
{
	if (now - rl->rtt_span_start >= RATELIMIT_RTT_SPAN_NS) {
		rl->rtt_min_prev = now - rl->rtt_span_start >= 2 * RATELIMIT_RTT_SPAN_NS
				       ? UINT64_MAX
				       : rl->rtt_min_cur;
		rl->rtt_min_cur = UINT64_MAX;
		rl->rtt_span_start = now;
	}
	if (rtt < rl->rtt_min_cur)
		rl->rtt_min_cur = rtt;
	return rl->rtt_min_cur < rl->rtt_min_prev ? rl->rtt_min_cur : rl->rtt_min_prev;
}

int ratelimit_init(struct ratelimit *rl, unsigned rate)
{
	pthread_condattr_t ca;

	rl->rate = rate;
	rl->cur_rate = rate;
	rl->pause_until_ns = 0;
	rl->last_throttle_ns = 0;
	rl->extra_ns = 0;
	rl->rtt_min_cur = UINT64_MAX;
	rl->rtt_min_prev = UINT64_MAX;
	rl->rtt_span_start = 0;
	rl->window_ns = 1000000000ull + RATELIMIT_MARGIN_NS;
	rl->head = 0;
	rl->now_ns = clock_now_ns;
	rl->sleep_until = sleep_until_mono;
	rl->ring = NULL;
	if (rate) {
		rl->ring = calloc(rate, sizeof(*rl->ring));
		if (!rl->ring)
			return -ENOMEM;
	}
	pthread_mutex_init(&rl->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rl->cv, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

void ratelimit_release(struct ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->ring);
	rl->ring = NULL;
	pthread_cond_destroy(&rl->cv);
	pthread_mutex_destroy(&rl->mu);
}

int ratelimit_acquire(struct ratelimit *rl, uint64_t deadline_ns, unsigned *slot)
{
	struct timespec ts = {.tv_sec = deadline_ns / 1000000000ull,
			      .tv_nsec = deadline_ns % 1000000000ull};
	uint64_t now, t;

	*slot = 0;
	if (!rl || !rl->rate)
		return 0;
	pthread_mutex_lock(&rl->mu);
	now = rl->now_ns();
	if (rl->cur_rate < rl->rate && now - rl->last_throttle_ns >= RATELIMIT_RECOVER_NS)
		rl->cur_rate = rl->rate;
	/* The request cur_rate places back is still in flight: wait for it. */
	for (;;) {
		unsigned back = (rl->head + rl->rate - rl->cur_rate) % rl->rate;
		int rc;

		if (rl->ring[back] != RATELIMIT_PENDING) {
			t = rl->ring[back] ? rl->ring[back] + rl->window_ns : 0;
			break;
		}
		rc = deadline_ns ? pthread_cond_timedwait(&rl->cv, &rl->mu, &ts)
				 : pthread_cond_wait(&rl->cv, &rl->mu);
		if (rc == ETIMEDOUT && rl->ring[back] == RATELIMIT_PENDING) {
			pthread_mutex_unlock(&rl->mu);
			return -ETIMEDOUT;
		}
	}
	now = rl->now_ns();
	if (t < rl->pause_until_ns)
		t = rl->pause_until_ns;
	if (t < now)
		t = now;
	if (deadline_ns && t > deadline_ns) {
		pthread_mutex_unlock(&rl->mu);
		return -ETIMEDOUT;
	}
	*slot = rl->head;
	rl->ring[rl->head] = RATELIMIT_PENDING;
	rl->head = (rl->head + 1) % rl->rate;
	pthread_mutex_unlock(&rl->mu);
	if (t > now)
		rl->sleep_until(t);
	return 0;
}

void ratelimit_throttled(struct ratelimit *rl, uint64_t retry_after_ns)
{
	uint64_t now;

	if (!rl || !rl->rate)
		return;
	pthread_mutex_lock(&rl->mu);
	now = rl->now_ns();
	if (retry_after_ns < rl->window_ns)
		retry_after_ns = rl->window_ns;
	if (rl->pause_until_ns < now + retry_after_ns)
		rl->pause_until_ns = now + retry_after_ns;
	/* Halve once per window, however many replies say so at once. */
	if (now - rl->last_throttle_ns >= rl->window_ns || !rl->last_throttle_ns) {
		uint64_t extra = margin_at(rl, now) - RATELIMIT_SENT_MARGIN_NS;

		rl->cur_rate = rl->cur_rate / 2 > rl->rate / 4 ? rl->cur_rate / 2
							       : (rl->rate / 4 ? rl->rate / 4 : 1);
		extra = 2 * extra + RATELIMIT_MARGIN_STEP_NS;
		if (extra > RATELIMIT_MARGIN_MAX_NS - RATELIMIT_SENT_MARGIN_NS)
			extra = RATELIMIT_MARGIN_MAX_NS - RATELIMIT_SENT_MARGIN_NS;
		rl->extra_ns = extra;
	}
	rl->last_throttle_ns = now;
	pthread_mutex_unlock(&rl->mu);
}

unsigned ratelimit_rate(struct ratelimit *rl)
{
	unsigned r;

	if (!rl || !rl->rate)
		return 0;
	pthread_mutex_lock(&rl->mu);
	r = rl->cur_rate;
	pthread_mutex_unlock(&rl->mu);
	return r;
}

void ratelimit_done(struct ratelimit *rl, unsigned slot, uint64_t sent_ns)
{
	uint64_t now, key;

	if (!rl || !rl->rate)
		return;
	pthread_mutex_lock(&rl->mu);
	now = rl->now_ns();
	key = now;
	if (sent_ns && sent_ns <= now) {
		uint64_t min_rtt = rtt_min_add(rl, now, now - sent_ns);
		uint64_t margin = margin_at(rl, now);

		/* The latency every recent request had follows the counting; the
		 * rest of this one's may precede it. min_rtt <= now - sent_ns, so
		 * the key is never before sent_ns + margin, nor after the reply. */
		if (min_rtt > margin &&
		    (!rl->last_throttle_ns || now - rl->last_throttle_ns >= RATELIMIT_RECOVER_NS))
			key = now - (min_rtt - margin);
	}
	rl->ring[slot] = key;
	pthread_cond_broadcast(&rl->cv);
	pthread_mutex_unlock(&rl->mu);
}

uint64_t ratelimit_margin(struct ratelimit *rl)
{
	uint64_t m;

	if (!rl || !rl->rate)
		return 0;
	pthread_mutex_lock(&rl->mu);
	m = margin_at(rl, rl->now_ns());
	pthread_mutex_unlock(&rl->mu);
	return m;
}
