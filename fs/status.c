/*
 * status.c - ring of recent errors for MOUNT/.gpucloudfs/errors and the log.
 */
#include "status.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

void status_init(struct status *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
}

void status_release(struct status *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < STATUS_LINES; i++)
		free(s->lines[i]);
	pthread_mutex_destroy(&s->mu);
	memset(s, 0, sizeof(*s));
}

void status_record(struct status *s, const struct gcf_error *err, const char *outcome)
{
	struct buf b = BUF_INIT(64 * 1024);
	char when[32];
	time_t now = time(NULL);
	char *line;

	clock_format_utc(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", now);
	buf_printf(&b, "%s ", when);
	gcf_error_format(err, &b);
	buf_printf(&b, " [%s]", outcome);
	log_err("%s", buf_str(&b) + strlen(when) + 1);
	line = buf_detach(&b, NULL);
	if (!line)
		return;
	pthread_mutex_lock(&s->mu);
	free(s->lines[s->next]);
	s->lines[s->next] = line;
	s->next = (s->next + 1) % STATUS_LINES;
	if (s->count < STATUS_LINES)
		s->count++;
	pthread_mutex_unlock(&s->mu);
}

int status_dump(struct status *s, struct buf *out)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->count && !rc; i++) {
		size_t slot = (s->next + STATUS_LINES - s->count + i) % STATUS_LINES;

		rc = buf_printf(out, "%s\n", s->lines[slot]);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}
