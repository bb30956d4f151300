/*
 * inode.h - the inode table of the low-level FUSE API.
 *
 * Every node the kernel knows has a number that is never reused, a parent
 * and a name. Fixed nodes (root, connections, kinds, the control directory
 * and its files) are pinned for the life of the mount. Objects and their
 * files come and go with the snapshots: a node is created by lookup (or
 * readdirplus) and freed when the kernel forgets its last reference. Callers
 * get copies (struct node_info), never pointers, so a concurrent forget
 * cannot pull a node from under them.
 */
#ifndef GCF_INODE_H
#define GCF_INODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "names.h"

#define INODE_ROOT 1

enum node_type {
	NODE_ROOT,
	NODE_CONN,        /* /tencent */
	NODE_KIND,        /* /tencent/tasks */
	NODE_ENTRY,       /* /tencent/tasks/<name> */
	NODE_FILE,        /* /tencent/tasks/<name>/status */
	NODE_CTLDIR,      /* /.gpucloudfs */
	NODE_CTLFILE,     /* /.gpucloudfs/errors */
	NODE_JSONL,       /* /tencent/tasks.jsonl */
	NODE_FILTERDIR,   /* /tencent/tasks/.by-status */
	NODE_REFRESHDIR,  /* /.gpucloudfs/refresh */
	NODE_REFRESHCONN, /* /.gpucloudfs/refresh/tencent */
	NODE_REFRESHFILE, /* /.gpucloudfs/refresh/tencent/tasks */
};

struct node;

struct node_info {
	uint64_t ino, parent;
	enum node_type type;
	void *owner; /* conn runtime (CONN), collection runtime (KIND, ENTRY, FILE) */
	char name[NAMES_MAX + 1];
	char parent_name[NAMES_MAX + 1]; /* the entry's name, for FILE nodes */
	uint64_t content_hash;           /* FILE: hash of the bytes the kernel was last told of */
};

struct inodes {
	pthread_mutex_t mu;
	struct node **by_ino, **by_name; /* hash tables, chained */
	size_t cap, n;
	uint64_t next_ino;
};

int inodes_init(struct inodes *t); /* creates the root; 0 or -ENOMEM */
void inodes_release(struct inodes *t);

/* A pinned node under parent (created once). Returns its number, 0 on ENOMEM. */
uint64_t inodes_pin(struct inodes *t, uint64_t parent, const char *name, enum node_type type,
		    void *owner);

/* The node parent/name, created when absent, with its lookup count raised
 * by one (the kernel now holds a reference). Returns its number, or 0 on
 * ENOMEM. type is used when creating; a non-NULL owner replaces the old. */
uint64_t inodes_ref(struct inodes *t, uint64_t parent, const char *name, enum node_type type,
		    void *owner);

/* The number of parent/name without creating or counting it; 0 if none. */
uint64_t inodes_find(struct inodes *t, uint64_t parent, const char *name);

/* Copies node ino into *out. Returns 0 or -ENOENT. */
int inodes_get(struct inodes *t, uint64_t ino, struct node_info *out);

/* Sets a FILE node's content hash; returns the previous one (0 = none). */
uint64_t inodes_swap_hash(struct inodes *t, uint64_t ino, uint64_t hash);

/* Records that the kernel was told of a FILE's bytes with this hash, from
 * the snapshot published at stamp_ns (monotonic). An older stamp never
 * replaces a newer one: the kernel also drops an attribute reply that
 * overtook a newer one, so the node keeps matching what it holds. */
void inodes_note_hash(struct inodes *t, uint64_t ino, uint64_t hash, uint64_t stamp_ns);

/*
 * The time a collection directory (KIND) reports: listing is a hash of the
 * names its snapshot lists (0 = no snapshot yet) and when_ns the wall time
 * (ns since the epoch) of that snapshot. The first listing seen keeps the
 * time reported before it (first_ns when none was): a first fetch is not a
 * change. A different listing moves the time to when_ns, never backwards.
 * Returns the time to report (ns since the epoch); first_ns when ino is gone.
 */
uint64_t inodes_dir_time(struct inodes *t, uint64_t ino, uint64_t listing, uint64_t when_ns,
			 uint64_t first_ns);

/* Control files are made when looked at (no open: see ops.c): their current
 * bytes are kept on the node, replaced whole, read from any offset. */
int inodes_set_content(struct inodes *t, uint64_t ino, const char *data, size_t len);
/* Copies up to size bytes at off of ino's content into out; returns the
 * count, or -ENOENT. */
ssize_t inodes_read_content(struct inodes *t, uint64_t ino, off_t off, size_t size, char *out);
/* Length and hash of ino's content (0 and 0 when none). */
void inodes_content_stat(struct inodes *t, uint64_t ino, size_t *len, uint64_t *hash);

/* The kernel dropped n references. Unpinned nodes at zero are freed. */
void inodes_forget(struct inodes *t, uint64_t ino, uint64_t n);

/* Number of nodes (for statistics and tests). */
size_t inodes_count(struct inodes *t);

#endif
