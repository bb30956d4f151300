/*
 * notify.h - kernel cache invalidation, off the request threads.
 *
 * When a refresh publishes a new snapshot, exactly what changed is told to
 * the kernel (fuse_lowlevel_notify_inval_inode / _entry) so that it drops
 * those cached pages, attributes and names and keeps everything else. The
 * calls are made from one notifier thread: an invalidation of a name needs
 * the directory's lock, which a request thread (a lookup in that directory
 * waiting for the same refresh) may hold. For the same reason a second
 * thread asks the kernel to drop the files the inode table's cap evicts: the
 * lookup that made the table grow holds its directory's lock.
 */
#ifndef GCF_NOTIFY_H
#define GCF_NOTIFY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct fuse_session;
struct notify_item;

/* One queue and the thread that empties it. */
struct notify_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* work queued or stop */
	pthread_cond_t done_cv; /* work processed */
	struct notify_item *head, *tail;
	uint64_t queued, processed;
	unsigned long sent; /* invalidations the kernel was told (statistics) */
	bool stop, running;
	pthread_t thread;
	struct fuse_session *se;
};

/* What refreshes changed (q, which notify_flush waits for), and what the
 * inode table's cap drops (evict: a thread of its own, so that a backlog
 * of drops never delays a refresh's invalidations, nor the reverse). */
struct notifier {
	struct notify_queue q, evict;
	bool running; /* between notify_start and notify_stop */
};

void notify_init(struct notifier *n);
/* Starts the threads; until then (and in unit tests) nothing is queued. */
int notify_start(struct notifier *n, struct fuse_session *se);
/* Stops the threads, dropping what is still queued. */
void notify_stop(struct notifier *n);

/* Drop the kernel's attributes and pages of ino (a directory: its listing). */
void notify_inode(struct notifier *n, uint64_t ino);
/* Drop the kernel's name parent/name (positive or negative). 0 when
 * queued; -EAGAIN when the thread is not running, -ENOMEM. */
int notify_entry(struct notifier *n, uint64_t parent, const char *name);
/* The same, on the queue of the inode table's cap (inodes_set_cap): the
 * kernel forgets the file unless it is open. */
int notify_evict(struct notifier *n, uint64_t parent, const char *name);

/* Waits while more than max_backlog drops (notify_evict) are queued, or
 * until the deadline (monotonic ns). The inode table's cap uses it to hold
 * a traversal to the pace at which the kernel is told (see ops.c). 0 or
 * -ETIMEDOUT. */
int notify_evict_wait(struct notifier *n, uint64_t max_backlog, uint64_t deadline_ns);

/* Waits until every invalidation queued before the call (not the drops of
 * notify_evict) was processed, or the
 * deadline (monotonic ns) passes. 0 or -ETIMEDOUT. */
int notify_flush(struct notifier *n, uint64_t deadline_ns);

#endif
