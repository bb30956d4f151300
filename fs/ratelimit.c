/*
 * ratelimit.c - sliding-window request limiter (see ratelimit.h).
 */
#include "ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "http.h"

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

int ratelimit_init(struct ratelimit *rl, unsigned rate)
{
	pthread_condattr_t ca;

	rl->rate = rate;
	rl->cur_rate = rate;
	rl->pause_until_ns = 0;
	rl->last_throttle_ns = 0;
	rl->window_ns = 1000000000ull + RATELIMIT_MARGIN_NS;
	rl->head = 0;
	rl->now_ns = http_now_ns;
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
	if (now - rl->last_throttle_ns >= rl->window_ns || !rl->last_throttle_ns)
		rl->cur_rate = rl->cur_rate / 2 > rl->rate / 4 ? rl->cur_rate / 2
							       : (rl->rate / 4 ? rl->rate / 4 : 1);
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
	uint64_t key;

	if (!rl || !rl->rate)
		return;
	pthread_mutex_lock(&rl->mu);
	key = rl->now_ns();
	if (sent_ns && sent_ns + RATELIMIT_SENT_MARGIN_NS < key &&
	    (!rl->last_throttle_ns || key - rl->last_throttle_ns >= RATELIMIT_RECOVER_NS))
		key = sent_ns + RATELIMIT_SENT_MARGIN_NS;
	rl->ring[slot] = key;
	pthread_cond_broadcast(&rl->cv);
	pthread_mutex_unlock(&rl->mu);
}
