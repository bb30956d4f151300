/*
 * status.h - the recent errors a person reads in MOUNT/.gpucloudfs/errors.
 *
 * A bounded ring of formatted lines, newest last:
 *   2026-11-26T09:30:00Z tencent DescribeTrainingTasks: HTTP 200: AuthFailure...: ... (RequestId
 * ...) [failed]
 */
#ifndef GCF_STATUS_H
#define GCF_STATUS_H

#include <pthread.h>
#include <stddef.h>

#include "buf.h"
#include "defaults.h" /* STATUS_LINES */
#include "gcf_error.h"

struct status {
	pthread_mutex_t mu;
	char *lines[STATUS_LINES];
	size_t next;  /* slot the next line goes to */
	size_t count; /* lines held */
};

void status_init(struct status *s);
void status_release(struct status *s);

/* Records err with what was done ("failed", "served stale"). Also logs it. */
void status_record(struct status *s, const struct gcf_error *err, const char *outcome);

/* Every held line, oldest first, each ending in '\n'. 0 or -ENOMEM. */
int status_dump(struct status *s, struct buf *out);

#endif
