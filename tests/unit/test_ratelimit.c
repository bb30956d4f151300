/*
 * test_ratelimit.c - fs/ratelimit.c: a sliding window of `rate` requests
 * per second. The first `rate` requests start at once; request i+rate starts
 * one window after request i's key: its reply, less the latency every recent
 * request had, less the adaptive margin (throttles grow it, bounded, and it
 * decays). No wait passes the caller's deadline; rate 0 never waits. A
 * simulated cloud that counts requests late checks that no second ever holds
 * more than `rate` counted requests, and that the rate stays at the limit.
 *
 * The clock and the sleep are injected: the fake sleep records the time it
 * was asked to wait for and moves the fake clock there.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
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
	/* after RATELIMIT_RECOVER_NS without throttling, send times count
	 * again, with the margin the throttle grew */
	advance(RATELIMIT_RECOVER_NS);
	assert_int_equal(ratelimit_acquire(rl, 0, &slot), 0);
	sent = fake_now() + 10 * MS;
	advance(300 * MS);
	ratelimit_done(rl, slot, sent);
	assert_int_equal(ratelimit_margin(rl), RATELIMIT_SENT_MARGIN_NS + RATELIMIT_MARGIN_STEP_NS);
	assert_int_equal(rl->ring[slot],
			 sent + RATELIMIT_SENT_MARGIN_NS + RATELIMIT_MARGIN_STEP_NS);
}

/* One request: acquired now, on the wire connect_ns later, its reply rtt_ns
 * after that. Returns its key. */
static uint64_t one_request(struct ratelimit *rl, uint64_t connect_ns, uint64_t rtt_ns)
{
	unsigned slot;
	uint64_t sent;

	assert_int_equal(ratelimit_acquire(rl, 0, &slot), 0);
	sent = fake_now() + connect_ns;
	advance(connect_ns + rtt_ns);
	ratelimit_done(rl, slot, sent);
	return rl->ring[slot];
}

/* A reply later than the recent ones keys its request later by as much: the
 * cloud may have counted it that late (the jitter that throttled a constant
 * margin). Never after its reply, never before sent + margin. */
static void test_ratelimit_late_reply_grows_key(void **state)
{
	struct ratelimit *rl = *state;
	uint64_t sent, key;

	for (unsigned i = 0; i < 5; i++) {
		sent = fake_now() + 10 * MS;
		assert_int_equal(one_request(rl, 10 * MS, 200 * MS),
				 sent + RATELIMIT_SENT_MARGIN_NS);
	}
	sent = fake_now() + 10 * MS;
	key = one_request(rl, 10 * MS, 500 * MS); /* 300 ms later than the others */
	assert_int_equal(key, sent + RATELIMIT_SENT_MARGIN_NS + 300 * MS);
	assert_true(key <= fake_now());
	/* one slow reply does not make the next quick one key later */
	sent = fake_now() + 10 * MS;
	assert_int_equal(one_request(rl, 10 * MS, 200 * MS), sent + RATELIMIT_SENT_MARGIN_NS);
	/* a reply quicker than margin: keyed on the reply itself */
	key = one_request(rl, 10 * MS, 20 * MS);
	assert_int_equal(key, fake_now());
	/* and so, now that a 20 ms round trip was seen, is a 200 ms one */
	key = one_request(rl, 10 * MS, 200 * MS);
	assert_int_equal(key, fake_now());
}

/* The least round trip is forgotten after two spans: a latency that rose for
 * good gets its saving back. */
static void test_ratelimit_min_rtt_forgotten(void **state)
{
	struct ratelimit *rl = *state;
	uint64_t sent, key;

	one_request(rl, 0, 5 * MS);
	key = one_request(rl, 0, 200 * MS);
	assert_int_equal(key, fake_now());
	advance(RATELIMIT_RTT_SPAN_NS);
	key = one_request(rl, 0, 200 * MS); /* the 5 ms is in the previous span */
	assert_int_equal(key, fake_now());
	advance(RATELIMIT_RTT_SPAN_NS);
	sent = fake_now();
	assert_int_equal(one_request(rl, 0, 200 * MS), sent + RATELIMIT_SENT_MARGIN_NS);
}

/* Each throttle doubles the extra margin (+ a step), once per window, up to
 * RATELIMIT_MARGIN_MAX_NS in all. */
static void test_ratelimit_margin_grows_on_throttle_bounded(void **state)
{
	struct ratelimit *rl = *state;
	const uint64_t b = RATELIMIT_SENT_MARGIN_NS, st = RATELIMIT_MARGIN_STEP_NS;
	uint64_t want, prev, key;

	assert_int_equal(ratelimit_margin(rl), b);
	ratelimit_throttled(rl, 0);
	assert_int_equal(ratelimit_margin(rl), b + st);
	ratelimit_throttled(rl, 0); /* the same window: no growth */
	assert_int_equal(ratelimit_margin(rl), b + st);
	for (unsigned i = 0; i < 12; i++) {
		prev = ratelimit_margin(rl);
		advance(rl->window_ns);
		ratelimit_throttled(rl, 0);
		want = b + 2 * (prev - b) + st;
		if (want > RATELIMIT_MARGIN_MAX_NS)
			want = RATELIMIT_MARGIN_MAX_NS;
		assert_int_equal(ratelimit_margin(rl), want);
	}
	assert_int_equal(ratelimit_margin(rl), RATELIMIT_MARGIN_MAX_NS);
	/* bounded in effect too: at most RATELIMIT_MARGIN_MAX_NS after sending
	 * for the least round trip, and never after the reply */
	advance(RATELIMIT_RECOVER_NS);
	key = one_request(rl, 0, 3 * SEC);
	assert_int_equal(key, fake_now() - (3 * SEC - RATELIMIT_MARGIN_MAX_NS));
	key = one_request(rl, 0, 2 * SEC); /* 2 s < the 3 s seen */
	assert_int_equal(key, fake_now() - (2 * SEC - RATELIMIT_MARGIN_MAX_NS));
	key = one_request(rl, 0, 500 * MS); /* shorter than the margin */
	assert_int_equal(key, fake_now());
}

/* Without throttling the extra halves every RATELIMIT_DECAY_NS, down to the
 * base margin. */
static void test_ratelimit_margin_decays(void **state)
{
	struct ratelimit *rl = *state;
	const uint64_t b = RATELIMIT_SENT_MARGIN_NS, st = RATELIMIT_MARGIN_STEP_NS;
	uint64_t sent;

	ratelimit_throttled(rl, 0);
	advance(rl->window_ns);
	ratelimit_throttled(rl, 0);
	assert_int_equal(ratelimit_margin(rl), b + 3 * st);
	advance(RATELIMIT_DECAY_NS - 1);
	assert_int_equal(ratelimit_margin(rl), b + 3 * st);
	advance(1);
	assert_int_equal(ratelimit_margin(rl), b + 3 * st / 2);
	sent = fake_now();
	assert_int_equal(one_request(rl, 0, 400 * MS), sent + b + 3 * st / 2);
	advance(RATELIMIT_DECAY_NS);
	assert_int_equal(ratelimit_margin(rl), b + 3 * st / 4);
	advance(70 * RATELIMIT_DECAY_NS);
	assert_int_equal(ratelimit_margin(rl), b);
	/* a throttle after the decay grows from what is left */
	ratelimit_throttled(rl, 0);
	assert_int_equal(ratelimit_margin(rl), b + st);
}

/* A cloud counting each request pre_ns after it went on the wire and replying
 * post_ns after counting. Requests are issued as soon as the limiter lets
 * them (no concurrency bound); replies are delivered in time order, each
 * before any request that starts later. counted[] gets the count times in
 * request order. Returns when the last request started. */
#define SIM_N 400
static uint64_t simulate(struct ratelimit *rl, uint64_t (*pre_ns)(unsigned),
			 uint64_t (*post_ns)(unsigned), uint64_t *counted)
{
	uint64_t reply[SIM_N], sent[SIM_N], last_start = 0;
	unsigned slot[SIM_N], done = 0;
	bool finished[SIM_N] = {false};

	for (unsigned n = 0; n <= SIM_N; n++) {
		/* deliver every reply due before request n can start */
		for (;;) {
			unsigned next = SIM_N;
			uint64_t start;

			for (unsigned j = 0; j < n; j++)
				if (!finished[j] && (next == SIM_N || reply[j] < reply[next]))
					next = j;
			if (next == SIM_N)
				break;
			start = rl->ring[rl->head] == RATELIMIT_PENDING ? UINT64_MAX
				: rl->ring[rl->head] ? rl->ring[rl->head] + rl->window_ns
						     : 0;
			if (start < fake_now())
				start = fake_now();
			if (n < SIM_N && reply[next] > start)
				break;
			if (reply[next] > fake_now())
				__atomic_store_n(&clock_ns, reply[next], __ATOMIC_SEQ_CST);
			ratelimit_done(rl, slot[next], sent[next]);
			finished[next] = true;
			done++;
		}
		if (n == SIM_N)
			break;
		assert_int_equal(ratelimit_acquire(rl, 0, &slot[n]), 0);
		last_start = sent[n] = fake_now();
		counted[n] = sent[n] + pre_ns(n);
		reply[n] = counted[n] + post_ns(n);
	}
	assert_int_equal(done, SIM_N);
	return last_start;
}

/* The most requests counted within any one second (the cloud's rule). */
static unsigned max_per_second(uint64_t *counted)
{
	unsigned most = 0;

	for (unsigned i = 0; i < SIM_N; i++) { /* sort */
		for (unsigned j = i + 1; j < SIM_N; j++)
			if (counted[j] < counted[i]) {
				uint64_t t = counted[i];

				counted[i] = counted[j];
				counted[j] = t;
			}
	}
	for (unsigned i = 0, j = 0; j < SIM_N; j++) {
		while (counted[j] - counted[i] >= SEC)
			i++;
		if (j - i + 1 > most)
			most = j - i + 1;
	}
	return most;
}

static uint64_t pre_steady(unsigned n)
{
	(void)n;
	return 20 * MS;
}

static uint64_t post_steady(unsigned n)
{
	(void)n;
	return 180 * MS;
}

/* A loaded cloud: most requests counted 20 ms after they arrive, some of
 * them up to 300 ms later (its queue), the reply 30 to 180 ms after. */
static uint64_t pre_jitter(unsigned n)
{
	return 20 * MS + (n % 7 == 3 ? 300 * MS : (n % 5) * 40 * MS);
}

static uint64_t post_jitter(unsigned n)
{
	return 30 * MS + (n % 6) * 30 * MS;
}

/* 200 ms round trips: the rate stays at the documented 20/s (one window plus
 * the margin per 20 requests), and no second holds more than 20. */
static void test_ratelimit_steady_rate_at_limit(void **state)
{
	struct ratelimit *rl = *state;
	uint64_t counted[SIM_N];
	uint64_t last = simulate(rl, pre_steady, post_steady, counted);
	uint64_t per20 = (last - T0) / (SIM_N / 20 - 1);

	assert_true(per20 >= SEC);
	assert_true(per20 <= rl->window_ns + RATELIMIT_SENT_MARGIN_NS + 1 * MS);
	assert_int_equal(max_per_second(counted), 20);
}

/* A cloud counting late at random is never exceeded (the 50 ms constant
 * margin was, by the requests counted 300 ms late), at a rate not far below
 * the limit. */
static void test_ratelimit_jitter_never_exceeds(void **state)
{
	struct ratelimit *rl = *state;
	uint64_t counted[SIM_N];
	uint64_t last = simulate(rl, pre_jitter, post_jitter, counted);
	uint64_t per20 = (last - T0) / (SIM_N / 20 - 1);

	assert_true(max_per_second(counted) <= 20);
	assert_true(per20 <= rl->window_ns + 400 * MS);
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
	    T20(test_ratelimit_late_reply_grows_key),
	    T20(test_ratelimit_min_rtt_forgotten),
	    T20(test_ratelimit_margin_grows_on_throttle_bounded),
	    T20(test_ratelimit_margin_decays),
	    T20(test_ratelimit_steady_rate_at_limit),
	    T20(test_ratelimit_jitter_never_exceeds),
	    T20(test_ratelimit_no_wait_once_window_passed),
	    T20(test_ratelimit_deadline_before_slot_times_out),
	    T20(test_ratelimit_oldest_in_flight_deadline_times_out),
	    T20(test_ratelimit_waits_for_oldest_to_finish),
	    cmocka_unit_test_setup_teardown(test_ratelimit_rate_zero_never_waits, setup0, teardown),
	    cmocka_unit_test(test_ratelimit_null_never_waits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
