/*
 * log.c - leveled logging to stderr (foreground) or syslog (detached).
 *
 * Each stderr line is "HH:MM:SS.mmm LEVEL message" written with one call,
 * so lines from different threads do not interleave. The level and the
 * syslog switch are atomics: they are set at start-up and read from every
 * FUSE worker thread. log_is_secret_name()/log_redact() are the one place
 * that decides what may be printed of a header or config value.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "buf.h"
#include "log.h"

static atomic_int log_level = LOG_LEVEL_INFO;
static atomic_bool log_syslog = false;

void log_set_level(enum log_level lvl)
{
	atomic_store(&log_level, (int)lvl);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

void log_use_syslog(bool on)
{
	bool was = atomic_exchange(&log_syslog, on);

	if (on && !was)
		openlog("gpucloudfs", LOG_PID, LOG_DAEMON);
	else if (!on && was)
		closelog();
}

static const char *const log_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
static const int log_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	struct buf line = BUF_INIT(BUF_NOLIMIT);
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int rc;

	if ((int)lvl > atomic_load(&log_level))
		return;
	if (lvl < LOG_LEVEL_ERR || lvl > LOG_LEVEL_DEBUG)
		lvl = LOG_LEVEL_ERR;

	if (atomic_load(&log_syslog)) {
		va_start(ap, fmt);
		vsyslog(log_prio[lvl], fmt, ap);
		va_end(ap);
		return;
	}

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	rc = buf_printf(&line, "%02d:%02d:%02d.%03ld %s ", tm.tm_hour, tm.tm_min, tm.tm_sec,
			ts.tv_nsec / 1000000, log_names[lvl]);
	if (!rc) {
		va_start(ap, fmt);
		rc = buf_vprintf(&line, fmt, ap);
		va_end(ap);
	}
	if (!rc)
		rc = buf_addch(&line, '\n');
	if (!rc) {
		fputs(buf_str(&line), stderr);
	} else {
		/* Out of memory: print unadorned rather than lose the message. */
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	buf_release(&line);
}

/* Case-insensitive substring search. */
static bool log_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/*
 * Any name containing one of these is secret. "key" also catches "keys" and
 * "monkey": redacting a harmless value is cheaper than leaking a secret one.
 * "authorization" covers Eop-Authorization and Proxy-Authorization.
 */
static const char *const log_secret_words[] = {
    "authorization", "secret",     "key",       "token",  "password",
    "passwd",        "credential", "signature", "cookie", NULL,
};

bool log_is_secret_name(const char *name)
{
	if (!name)
		return false;
	for (size_t i = 0; log_secret_words[i]; i++)
		if (log_contains(name, log_secret_words[i]))
			return true;
	return false;
}

const char *log_redact(const char *name, const char *value)
{
	if (log_is_secret_name(name))
		return "<redacted>";
	return value ? value : "";
}
