/*
 * clock.c - the monotonic clock and UTC dates (see include/clock.h).
 */
#include "clock.h"

#include <time.h>

uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

size_t clock_format_utc(char *out, size_t size, const char *fmt, time_t t)
{
	struct tm tm;

	if (!size)
		return 0;
	out[0] = '\0';
	if (!gmtime_r(&t, &tm))
		return 0;
		/* fmt is checked at each call (clock.h declares the strftime format) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	return strftime(out, size, fmt, &tm);
#pragma GCC diagnostic pop
}
