/*
 * notify.c - the notifier threads (see notify.h).
 */
#define FUSE_USE_VERSION 34
#include "notify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fuse_lowlevel.h>

#include "http.h"

struct notify_item {
	struct notify_item *next;
	uint64_t parent; /* 0 = inode invalidation of ino */
	uint64_t ino;
	char name[];
};

static void queue_init(struct notify_queue *q)
{
	pthread_condattr_t ca;

	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_cond_init(&q->done_cv, &ca);
	pthread_condattr_destroy(&ca);
}

void notify_init(struct notifier *n)
{
	memset(n, 0, sizeof(*n));
	queue_init(&n->q);
	queue_init(&n->evict);
}

static void *notify_main(void *arg)
{
	struct notify_queue *q = arg;

	pthread_mutex_lock(&q->mu);
	while (!q->stop) {
		struct notify_item *it = q->head;

		if (!it) {
			pthread_cond_wait(&q->cv, &q->mu);
			continue;
		}
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->mu);
		/* -ENOENT only means the kernel had nothing cached: fine. */
		if (it->parent)
			fuse_lowlevel_notify_inval_entry(q->se, it->parent, it->name,
							 strlen(it->name));
		else
			fuse_lowlevel_notify_inval_inode(q->se, it->ino, 0, 0);
		free(it);
		pthread_mutex_lock(&q->mu);
		q->processed++;
		q->sent++;
		pthread_cond_broadcast(&q->done_cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

static int queue_start(struct notify_queue *q, struct fuse_session *se)
{
	int rc;

	q->se = se;
	q->stop = false;
	rc = pthread_create(&q->thread, NULL, notify_main, q);
	if (!rc) {
		pthread_mutex_lock(&q->mu);
		q->running = true;
		pthread_mutex_unlock(&q->mu);
	}
	return -rc;
}

int notify_start(struct notifier *n, struct fuse_session *se)
{
	int rc = queue_start(&n->q, se);

	if (!rc)
		rc = queue_start(&n->evict, se);
	if (!rc)
		n->running = true;
	return rc;
}

static void queue_stop(struct notify_queue *q)
{
	bool running;

	pthread_mutex_lock(&q->mu);
	running = q->running;
	q->stop = true;
	q->running = false; /* nothing more is queued */
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	if (running)
		pthread_join(q->thread, NULL);
	while (q->head) {
		struct notify_item *it = q->head;

		q->head = it->next;
		free(it);
	}
	q->tail = NULL;
}

void notify_stop(struct notifier *n)
{
	queue_stop(&n->evict);
	queue_stop(&n->q);
	n->running = false;
}

static int enqueue(struct notify_queue *q, uint64_t parent, uint64_t ino, const char *name)
{
	size_t len = name ? strlen(name) : 0;
	struct notify_item *it;

	if (!ino && !parent)
		return -EINVAL;
	it = malloc(sizeof(*it) + len + 1);
	if (!it)
		return -ENOMEM; /* the kernel's timeouts still bound the staleness */
	it->next = NULL;
	it->parent = parent;
	it->ino = ino;
	memcpy(it->name, name ? name : "", len + 1);
	pthread_mutex_lock(&q->mu);
	if (!q->running) {
		pthread_mutex_unlock(&q->mu);
		free(it);
		return -EAGAIN;
	}
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->queued++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

void notify_inode(struct notifier *n, uint64_t ino)
{
	enqueue(&n->q, 0, ino, NULL);
}

int notify_entry(struct notifier *n, uint64_t parent, const char *name)
{
	return enqueue(&n->q, parent, 0, name);
}

int notify_evict(struct notifier *n, uint64_t parent, const char *name)
{
	return enqueue(&n->evict, parent, 0, name);
}

int notify_evict_wait(struct notifier *n, uint64_t max_backlog, uint64_t deadline_ns)
{
	struct notify_queue *q = &n->evict;
	struct timespec ts = {.tv_sec = deadline_ns / 1000000000ull,
			      .tv_nsec = deadline_ns % 1000000000ull};
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	while (q->running && q->queued - q->processed > max_backlog && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&q->done_cv, &q->mu, &ts);
	rc = !q->running || q->queued - q->processed <= max_backlog ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int notify_flush(struct notifier *n, uint64_t deadline_ns)
{
	struct notify_queue *q = &n->q;
	struct timespec ts = {.tv_sec = deadline_ns / 1000000000ull,
			      .tv_nsec = deadline_ns % 1000000000ull};
	uint64_t target;
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	if (!q->running) {
		pthread_mutex_unlock(&q->mu);
		return 0;
	}
	target = q->queued;
	while (q->processed < target && !q->stop && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&q->done_cv, &q->mu, &ts);
	rc = q->processed >= target ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&q->mu);
	return rc;
}
