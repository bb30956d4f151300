/*
 * clock.h - the clocks every layer reads.
 *
 * clock_now_ns() is the monotonic clock that deadlines, rate limits and
 * latencies count in (CLOCK_MONOTONIC nanoseconds; never goes back, means
 * nothing across boots). clock_format_utc() writes a wall-clock second as
 * UTC text whatever the host's TZ, which is how the signers and the status
 * files print dates.
 */
#ifndef GCF_CLOCK_H
#define GCF_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t clock_now_ns(void);

/* Writes t as UTC with the strftime format fmt into out[size]. Returns the
 * length written (as strftime: 0 when it does not fit or t has no UTC
 * calendar date, out then holds no usable text). A zone other than UTC is
 * the caller's shift of t (CTyun signs Beijing time as t + 8 h). */
size_t clock_format_utc(char *out, size_t size, const char *fmt, time_t t)
    __attribute__((format(strftime, 3, 0)));

#endif
