/*
 * diff.h - what changed between two snapshots of one collection, told as
 * kernel cache invalidations: the names that came and went, the objects and
 * files whose attributes or bytes changed, and the listing itself. Only the
 * nodes the kernel has looked up (found in the inode table) are told.
 */
#ifndef GCF_DIFF_H
#define GCF_DIFF_H

#include <stdint.h>

#include "inode.h"
#include "snapshot.h"

/* Where the invalidations go: the notifier (notify.h) in the daemon, a
 * recorder in the tests. */
struct diff_sink {
	void (*inode)(void *arg, uint64_t ino);                      /* attributes, pages */
	void (*entry)(void *arg, uint64_t parent, const char *name); /* a name */
	void *arg;
};

/* Tells sink what changed from old (NULL: none) to fresh in the directory
 * dir, whose children are the snapshots' entries, looking nodes up in t. */
void diff_notify(struct inodes *t, uint64_t dir, const struct snapshot *old,
		 const struct snapshot *fresh, const struct diff_sink *sink);

#endif
