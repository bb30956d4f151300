/*
 * test_clock.c - providers/runtime/clock.c: the monotonic clock and UTC
 * dates, whatever the host's TZ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"
#include "http.h"

static void test_clock_now_ns(void **state)
{
	uint64_t a = clock_now_ns(), b = clock_now_ns(), c = clock_now_ns();

	assert_true(a > 0);
	assert_true(b >= a);
	assert_true(c >= b);
}

static void test_clock_format_utc(void **state)
{
	char out[32];

	/* a TZ far from UTC must not matter */
	setenv("TZ", "Asia/Kathmandu", 1);
	tzset();
	assert_int_equal(clock_format_utc(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", 1714552200), 20);
	assert_string_equal(out, "2024-05-01T08:30:00Z");
	assert_int_equal(clock_format_utc(out, sizeof(out), "%Y-%m-%d", 0), 10);
	assert_string_equal(out, "1970-01-01");
	/* CTyun's Beijing date: the caller shifts t */
	assert_int_equal(
	    clock_format_utc(out, sizeof(out), "%Y%m%dT%H%M%SZ", 1714552200 + 8 * 3600), 16);
	assert_string_equal(out, "20240501T163000Z");
	/* too small: 0 and no text */
	assert_int_equal(clock_format_utc(out, 5, "%Y-%m-%d", 0), 0);
	assert_int_equal(clock_format_utc(out, 0, "%Y", 0), 0);
	unsetenv("TZ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clock_now_ns),
	    cmocka_unit_test(test_clock_format_utc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
