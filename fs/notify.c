/*
 * notify.c - the notifier thread (see notify.h).
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

void notify_init(struct notifier *n)
{
	pthread_condattr_t ca;

	memset(n, 0, sizeof(*n));
	pthread_mutex_init(&n->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cv, &ca);
	pthread_cond_init(&n->done_cv, &ca);
	pthread_condattr_destroy(&ca);
}

static void *notify_main(void *arg)
{
	struct notifier *n = arg;

	pthread_mutex_lock(&n->mu);
	while (!n->stop) {
		struct notify_item *it = n->head;

		if (!it) {
			pthread_cond_wait(&n->cv, &n->mu);
			continue;
		}
		n->head = it->next;
		if (!n->head)
			n->tail = NULL;
		pthread_mutex_unlock(&n->mu);
		/* -ENOENT only means the kernel had nothing cached: fine. */
		if (it->parent)
			fuse_lowlevel_notify_inval_entry(n->se, it->parent, it->name,
							 strlen(it->name));
		else
			fuse_lowlevel_notify_inval_inode(n->se, it->ino, 0, 0);
		free(it);
		pthread_mutex_lock(&n->mu);
		n->processed++;
		n->sent++;
		pthread_cond_broadcast(&n->done_cv);
	}
	pthread_mutex_unlock(&n->mu);
	return NULL;
}

int notify_start(struct notifier *n, struct fuse_session *se)
{
	int rc;

	n->se = se;
	n->stop = false;
	rc = pthread_create(&n->thread, NULL, notify_main, n);
	if (!rc)
		n->running = true;
	return -rc;
}

void notify_stop(struct notifier *n)
{
	if (!n->running)
		goto out;
	pthread_mutex_lock(&n->mu);
	n->stop = true;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	pthread_join(n->thread, NULL);
	n->running = false;
out:
	while (n->head) {
		struct notify_item *it = n->head;

		n->head = it->next;
		free(it);
	}
	n->tail = NULL;
}

static int enqueue(struct notifier *n, uint64_t parent, uint64_t ino, const char *name)
{
	size_t len = name ? strlen(name) : 0;
	struct notify_item *it;

	if (!n->running || (!ino && !parent))
		return -EAGAIN;
	it = malloc(sizeof(*it) + len + 1);
	if (!it)
		return -ENOMEM; /* the kernel's timeouts still bound the staleness */
	it->next = NULL;
	it->parent = parent;
	it->ino = ino;
	memcpy(it->name, name ? name : "", len + 1);
	pthread_mutex_lock(&n->mu);
	if (n->tail)
		n->tail->next = it;
	else
		n->head = it;
	n->tail = it;
	n->queued++;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
	return 0;
}

void notify_inode(struct notifier *n, uint64_t ino)
{
	enqueue(n, 0, ino, NULL);
}

int notify_entry(struct notifier *n, uint64_t parent, const char *name)
{
	return enqueue(n, parent, 0, name);
}

int notify_flush(struct notifier *n, uint64_t deadline_ns)
{
	struct timespec ts = {.tv_sec = deadline_ns / 1000000000ull,
			      .tv_nsec = deadline_ns % 1000000000ull};
	uint64_t target;
	int rc = 0;

	if (!n->running)
		return 0;
	pthread_mutex_lock(&n->mu);
	target = n->queued;
	while (n->processed < target && !n->stop && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&n->done_cv, &n->mu, &ts);
	rc = n->processed >= target ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&n->mu);
	return rc;
}
