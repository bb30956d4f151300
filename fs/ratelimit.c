/*
 * ratelimit.c - sliding-window request limiter (see ratelimit.h).
 */
#include "ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "http.h"

/* Requests leave us a little before the cloud sees them; keep this much
 * more than a second between request i and request i+rate. */
#define RATELIMIT_MARGIN_NS 30000000ull

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
	return 0;
}

void ratelimit_release(struct ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->ring);
	rl->ring = NULL;
	pthread_mutex_destroy(&rl->mu);
}

int ratelimit_acquire(struct ratelimit *rl, uint64_t deadline_ns)
{
	uint64_t now, t;

	if (!rl || !rl->rate)
		return 0;
	pthread_mutex_lock(&rl->mu);
	now = rl->now_ns();
	t = rl->ring[rl->head] ? rl->ring[rl->head] + rl->window_ns : now;
	if (t < now)
		t = now;
	if (deadline_ns && t > deadline_ns) {
		pthread_mutex_unlock(&rl->mu);
		return -ETIMEDOUT;
	}
	rl->ring[rl->head] = t;
	rl->head = (rl->head + 1) % rl->rate;
	pthread_mutex_unlock(&rl->mu);
	if (t > now)
		return rl->sleep_until(t);
	return 0;
}
