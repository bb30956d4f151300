/*
 * ratelimit.c - sliding-window request limiter (see ratelimit.h).
 */
#include "ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "http.h"

/* Clocks differ in rounding: keep this much more than a second between
 * the end of request i and the start of request i+rate. */
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
	/* The oldest of the last `rate` requests is still in flight: wait. */
	while (rl->ring[rl->head] == RATELIMIT_PENDING) {
		int rc = deadline_ns ? pthread_cond_timedwait(&rl->cv, &rl->mu, &ts)
				     : pthread_cond_wait(&rl->cv, &rl->mu);

		if (rc == ETIMEDOUT && rl->ring[rl->head] == RATELIMIT_PENDING) {
			pthread_mutex_unlock(&rl->mu);
			return -ETIMEDOUT;
		}
	}
	now = rl->now_ns();
	t = rl->ring[rl->head] ? rl->ring[rl->head] + rl->window_ns : now;
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

void ratelimit_done(struct ratelimit *rl, unsigned slot)
{
	if (!rl || !rl->rate)
		return;
	pthread_mutex_lock(&rl->mu);
	rl->ring[slot] = rl->now_ns();
	pthread_cond_broadcast(&rl->cv);
	pthread_mutex_unlock(&rl->mu);
}
