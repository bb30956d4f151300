/*
 * test_ratelimit.c - fs/ratelimit.c: a sliding window of `rate` requests
 * per second, keyed on when requests finished. The first `rate` requests
 * start at once; request i+rate starts one window after request i called
 * ratelimit_done; no wait passes the caller's deadline; rate 0 never waits.
 *
 * The clock and the sleep are injected: the fake sleep records the time it
 * was asked to wait for and moves the fake clock there.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"

#define MS  1000000ull
#define SEC 1000000000ull
#define T0  (1 * SEC) /* fake boot + 1 s: a deadline there is long past on the real clock */

static uint64_t clock_ns;
static unsigned sleeps;
static uint64_t slept_until;

static uint64_t fake_now(void)
{
	return __atomic_load_n(&clock_ns, __ATOMIC_SEQ_CST);
}

static int fake_sleep_until(uint64_t t)
{
	__atomic_add_fetch(&sleeps, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&slept_until, t, __ATOMIC_SEQ_CST);
	if (t > fake_now())
		__atomic_store_n(&clock_ns, t, __ATOMIC_SEQ_CST);
	return 0;
}

static void advance(uint64_t ns)
{
	__atomic_add_fetch(&clock_ns, ns, __ATOMIC_SEQ_CST);
}

static int setup_rate(void **state, unsigned rate)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (!rl || ratelimit_init(rl, rate))
		return -1;
	rl->now_ns = fake_now;
	rl->sleep_until = fake_sleep_until;
	clock_ns = T0;
	sleeps = 0;
	slept_until = 0;
	*state = rl;
	return 0;
}

static int setup20(void **state)
{
	return setup_rate(state, 20);
}

static int setup0(void **state)
{
	return setup_rate(state, 0);
}

static int teardown(void **state)
{
	ratelimit_release(*state);
	free(*state);
	return 0;
}

/* Acquires n slots, finishing each request 1 ms after it started; returns
 * the finish time of the first. None may wait. */
static uint64_t run_requests(struct ratelimit *rl, unsigned n)
{
	uint64_t first_done = 0;
	unsigned slot;

	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(ratelimit_acquire(rl, 0, &slot), 0);
		advance(1 * MS);
		ratelimit_done(rl, slot, 0);
		if (i == 0)
			first_done = fake_now();
	}
	return first_done;
}

static void test_ratelimit_first_rate_requests_do_not_wait(void **state)
{
	struct ratelimit *rl = *state;

	run_requests(rl, 20);
	assert_int_equal(sleeps, 0);
	assert_int_equal(fake_now(), T0 + 20 * MS);
}

static void test_ratelimit_next_waits_one_window_after_first_done(void **state)
{
	struct ratelimit *rl = *state;
	uint64_t first_done = run_requests(rl, 20);
	unsigned slot = 99;

	assert_true(rl->window_ns >= SEC);
	assert_true(rl->window_ns <= SEC + 100 * MS);
	assert_int_equal(ratelimit_acquire(rl, 0, &slot), 0);
	assert_int_equal(sleeps, 1);
	assert_int_equal(slept_until, first_done + rl->window_ns);
	ratelimit_done(rl, slot, 0);
	/* the 22nd is due one window after the 2nd finished, 1 ms later */
	assert_int_equal(ratelimit_acquire(rl, 0, &slot), 0);
	assert_int_equal(sleeps, 2);
	assert_int_equal(slept_until, first_done + 1 * MS + rl->window_ns);
	ratelimit_done(rl, slot, 0);
}

static void test_ratelimit_window_keyed_on_completion(void **state)
{
	struct ratelimit *rl = *state;
	unsigned slots[20], slot;
	uint64_t first_done;

	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(ratelimit_acquire(rl, 0, &slots[i]), 0);
	assert_int_equal(sleeps, 0);
	advance(500 * MS); /* the first request is slow to finish */
	for (unsigned i = 0; i < 20; i++)
		ratelimit_done(rl, slots[i], 0);
	first_done = T0 + 500 * MS;
	assert_int_equal(ratelimit_acquire(rl, 0, &slot), 0);
	assert_int_equal(sleeps, 1);
	/* not one window after it was sent */
	assert_int_equal(slept_until, first_done + rl->window_ns);
	ratelimit_done(rl, slot, 0);
}

/* Connecting took 100 ms, the reply 400 ms more: request 21 is due one
 * window after the request went on the wire (plus the jitter margin), not a
 * whole latency later. */
static void test_ratelimit_window_keyed_on_sent_plus_margin(void **state)
{
	struct ratelimit *rl = *state;
	unsigned slots[20], slot;
	uint64_t sent = T0 + 100 * MS;

	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(ratelimit_acquire(rl, 0, &slots[i]), 0);
	advance(500 * MS);
	for (unsigned i = 0; i < 20; i++)
		ratelimit_done(rl, slots[i], sent);
	assert_int_equal(ratelimit_acquire(rl, 0, &slot), 0);
	assert_int_equal(sleeps, 1);
	assert_int_equal(slept_until, sent + RATELIMIT_SENT_MARGIN_NS + rl->window_ns);
	assert_true(slept_until < T0 + 500 * MS + rl->window_ns);
	ratelimit_done(rl, slot, 0);
}

/* A reply sooner than the margin keys the slot itself. */
static void test_ratelimit_quick_reply_keys_on_reply(void **state)
{
	struct ratelimit *rl = *state;
	unsigned slot;

	assert_int_equal(ratelimit_acquire(rl, 0, &slot), 0);
	advance(20 * MS);
	ratelimit_done(rl, slot, T0 + 5 * MS);
	assert_int_equal(rl->ring[slot], T0 + 20 * MS);
}

/* Once the cloud has throttled us, keying on send times is not trusted:
 * replies only, until the rate recovers. */
static void test_ratelimit_after_throttle_keys_on_reply(void **state)
{
	struct ratelimit *rl = *state;
	unsigned slot;
	uint64_t sent;

	ratelimit_throttled(rl, 0);
	assert_int_equal(ratelimit_acquire(rl, 0, &slot), 0);
	sent = fake_now() + 10 * MS;
	advance(300 * MS);
	ratelimit_done(rl, slot, sent);
	assert_int_equal(rl->ring[slot], fake_now());
	/* after RATELIMIT_RECOVER_NS without throttling, send times count again */
	advance(RATELIMIT_RECOVER_NS);
	assert_int_equal(ratelimit_acquire(rl, 0, &slot), 0);
	sent = fake_now() + 10 * MS;
	advance(300 * MS);
	ratelimit_done(rl, slot, sent);
	assert_int_equal(rl->ring[slot], sent + RATELIMIT_SENT_MARGIN_NS);
}

static void test_ratelimit_no_wait_once_window_passed(void **state)
{
	struct ratelimit *rl = *state;
	uint64_t first_done = run_requests(rl, 20);
	unsigned slot;

	__atomic_store_n(&clock_ns, first_done + rl->window_ns, __ATOMIC_SEQ_CST);
	assert_int_equal(ratelimit_acquire(rl, 0, &slot), 0);
	assert_int_equal(sleeps, 0);
	ratelimit_done(rl, slot, 0);
}

static void test_ratelimit_deadline_before_slot_times_out(void **state)
{
	struct ratelimit *rl = *state;
	uint64_t first_done = run_requests(rl, 20);
	uint64_t due = first_done + rl->window_ns;
	unsigned slot = 99;

	assert_int_equal(ratelimit_acquire(rl, due - 1, &slot), -ETIMEDOUT);
	assert_int_equal(sleeps, 0); /* it did not wait to find out */
	/* nothing was reserved: a deadline exactly at the slot gets that slot */
	assert_int_equal(ratelimit_acquire(rl, due, &slot), 0);
	assert_int_equal(slot, 0);
	assert_int_equal(sleeps, 1);
	assert_int_equal(slept_until, due);
	ratelimit_done(rl, slot, 0);
}

static void test_ratelimit_oldest_in_flight_deadline_times_out(void **state)
{
	struct ratelimit *rl = *state;
	unsigned slots[20], slot;

	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(ratelimit_acquire(rl, 0, &slots[i]), 0);
	/* request 1 has not finished: request 21 cannot be placed yet, and
	 * its deadline (CLOCK_MONOTONIC 1 s) is long past */
	assert_int_equal(ratelimit_acquire(rl, T0, &slot), -ETIMEDOUT);
	assert_int_equal(sleeps, 0);
	for (unsigned i = 0; i < 20; i++)
		ratelimit_done(rl, slots[i], 0);
}

struct acquirer {
	struct ratelimit *rl;
	unsigned slot;
	int rc;
};

static void *acquire_run(void *arg)
{
	struct acquirer *a = arg;

	a->rc = ratelimit_acquire(a->rl, 0, &a->slot);
	return NULL;
}

static void test_ratelimit_waits_for_oldest_to_finish(void **state)
{
	struct ratelimit *rl = *state;
	struct acquirer a = {rl, 99, -1};
	unsigned slots[20];
	pthread_t tid;

	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(ratelimit_acquire(rl, 0, &slots[i]), 0);
	assert_int_equal(pthread_create(&tid, NULL, acquire_run, &a), 0);
	/* whether or not it is asleep yet, its slot depends on this done */
	advance(300 * MS);
	ratelimit_done(rl, slots[0], 0);
	pthread_join(tid, NULL);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.slot, slots[0]);
	assert_int_equal(slept_until, T0 + 300 * MS + rl->window_ns);
	ratelimit_done(rl, a.slot, 0);
	for (unsigned i = 1; i < 20; i++)
		ratelimit_done(rl, slots[i], 0);
}

static void test_ratelimit_rate_zero_never_waits(void **state)
{
	struct ratelimit *rl = *state;
	unsigned slot = 99;

	for (unsigned i = 0; i < 1000; i++) {
		assert_int_equal(ratelimit_acquire(rl, T0, &slot), 0);
		assert_int_equal(slot, 0);
		ratelimit_done(rl, slot, 0);
	}
	assert_int_equal(sleeps, 0);
	assert_int_equal(fake_now(), T0);
}

static void test_ratelimit_null_never_waits(void **state)
{
	unsigned slot = 99;

	assert_int_equal(ratelimit_acquire(NULL, 1, &slot), 0);
	assert_int_equal(slot, 0);
	ratelimit_done(NULL, 0, 0);
	ratelimit_release(NULL);
}

#define T20(fn) cmocka_unit_test_setup_teardown(fn, setup20, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T20(test_ratelimit_first_rate_requests_do_not_wait),
	    T20(test_ratelimit_next_waits_one_window_after_first_done),
	    T20(test_ratelimit_window_keyed_on_completion),
	    T20(test_ratelimit_window_keyed_on_sent_plus_margin),
	    T20(test_ratelimit_quick_reply_keys_on_reply),
	    T20(test_ratelimit_after_throttle_keys_on_reply),
	    T20(test_ratelimit_no_wait_once_window_passed),
	    T20(test_ratelimit_deadline_before_slot_times_out),
	    T20(test_ratelimit_oldest_in_flight_deadline_times_out),
	    T20(test_ratelimit_waits_for_oldest_to_finish),
	    cmocka_unit_test_setup_teardown(test_ratelimit_rate_zero_never_waits, setup0, teardown),
	    cmocka_unit_test(test_ratelimit_null_never_waits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
