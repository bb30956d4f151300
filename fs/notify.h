/*
 * notify.h - kernel cache invalidation, off the request threads.
 *
 * When a refresh publishes a new snapshot, exactly what changed is told to
 * the kernel (fuse_lowlevel_notify_inval_inode / _entry) so that it drops
 * those cached pages, attributes and names and keeps everything else. The
 * calls are made from one notifier thread: an invalidation of a name needs
 * the directory's lock, which a request thread (a lookup in that directory
 * waiting for the same refresh) may hold. The same thread asks the kernel
 * to drop the object directories the inode table's cap evicts: the lookup
 * that made the table grow holds its directory's lock while it runs.
 */
#ifndef GCF_NOTIFY_H
#define GCF_NOTIFY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct fuse_session;
struct notify_item;

struct notifier {
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

void notify_init(struct notifier *n);
/* Starts the thread; until then (and in unit tests) nothing is queued. */
int notify_start(struct notifier *n, struct fuse_session *se);
/* Stops the thread, dropping what is still queued. */
void notify_stop(struct notifier *n);

/* Drop the kernel's attributes and pages of ino (a directory: its listing). */
void notify_inode(struct notifier *n, uint64_t ino);
/* Drop the kernel's name parent/name (positive or negative); a directory's
 * whole subtree goes with it, except what is busy (the inode table's cap
 * uses this: inodes_set_cap). 0 when queued; -EAGAIN when the thread is
 * not running, -ENOMEM. */
int notify_entry(struct notifier *n, uint64_t parent, const char *name);

/* Waits until everything queued before the call was processed, or the
 * deadline (monotonic ns) passes. 0 or -ETIMEDOUT. */
int notify_flush(struct notifier *n, uint64_t deadline_ns);

#endif
