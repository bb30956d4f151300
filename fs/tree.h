/*
 * tree.h - the virtual tree as a table: one row of handlers per node type.
 *
 *   /                         ROOT       connections + .gpucloudfs
 *   /tencent                  CONN       kinds + <kind>.jsonl
 *   /tencent/tasks            KIND       objects (+ hidden .by-<filter> dirs)
 *   /tencent/tasks.jsonl      JSONL      one object per line, same snapshot
 *   /tencent/tasks/.by-status FILTERDIR  lists nothing; a lookup of any value works
 *   /tencent/tasks/.by-status/RUNNING    KIND of a filtered collection
 *   /tencent/tasks/<name>     ENTRY      info.json + one file per scalar field
 *   /tencent/tasks/<name>/status  FILE
 *   /.gpucloudfs              CTLDIR, CTLFILE, REFRESHDIR, REFRESHCONN, REFRESHFILE
 *                             (control.h)
 *
 * Each FUSE operation (ops.c) calls one tree_* function below, which
 * resolves the inode and dispatches to the node's row, then replies. Nothing here knows
 * of FUSE requests: what an operation needs travels in struct tree_ctx, so
 * the tree is tested without a mount (tests/unit/test_tree.c).
 *
 * Timeouts handed back are the time the snapshot has left before its TTL
 * runs out, so the kernel answers repeated lookups and getattrs itself while
 * the data is fresh; when a refresh publishes a new snapshot, the notifier
 * (notify.h) drops exactly what changed from the kernel's caches.
 */
#ifndef GCF_TREE_H
#define GCF_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"
#include "daemon.h"

#define TREE_STATIC_TIMEOUT 3600.0 /* root, connections, kinds: fixed for the mount */

/* What one operation carries: the daemon, its deadline, and how to tell
 * that the caller gave up (NULL: never; a fetch then runs in the caller). */
struct tree_ctx {
	struct daemon *d;
	uint64_t deadline_ns; /* monotonic */
	const struct cache_cancel *cancel;
};

/* Fills t for one operation starting now. */
void tree_ctx_init(struct tree_ctx *t, struct daemon *d, const struct cache_cancel *cancel);

/* A node as the kernel is told of it (lookup, readdirplus). */
struct tree_entry {
	uint64_t ino; /* 0: a negative entry (remembered for tmo seconds) */
	struct stat attr;
	double tmo;         /* entry and attribute timeout */
	bool uncached_name; /* entry timeout 0: the name is looked up on each use */
};

/* A child resolved by a row's lookup handler. */
struct tree_child {
	enum node_type type;
	void *owner;
	double neg_tmo; /* for -ENOENT: how long the kernel may remember the miss */
};

/* One child of a directory being listed. */
struct tree_kid {
	const char *name;
	enum node_type type;
	void *owner;
	bool is_file;
	size_t size;
	time_t mtime;
	long nsec;     /* directories */
	uint64_t hash; /* files: nanoseconds of the mtime */
	double tmo;
};

/* A directory being listed: its node, the snapshot its children come from
 * (collections and objects) and/or its small list of fixed children. */
struct tree_dir {
	struct node_info self;
	const struct node_row *row;
	struct snapshot *snap; /* holds the entries' names alive */
	struct tree_kid *kids; /* the fixed children (names owned) */
	size_t n, cap;
};

/* Bytes to reply to a read: p/len, held alive by hold or owned. */
struct tree_data {
	const char *p;
	size_t len;
	struct snapshot *hold;
	char *owned;
};

/*
 * One row per node type. A NULL handler means the operation does not apply:
 * lookup and list answer ENOTDIR (a directory has both), read EISDIR,
 * getxattr ENODATA. attr is never NULL.
 */
struct node_row {
	/* Fills st and the timeout; may fetch. 0 or a negative errno. */
	int (*attr)(const struct tree_ctx *t, const struct node_info *ni, struct stat *st,
		    double *tmo);
	/* Resolves name under the directory p. 0 or a negative errno. */
	int (*lookup)(const struct tree_ctx *t, const struct node_info *p, const char *name,
		      struct tree_child *c);
	/* Runs after a lookup made (or found) node ino of this type. */
	int (*looked_up)(const struct tree_ctx *t, uint64_t ino, void *owner);
	/* Prepares a listing of h->self: h->snap and/or fixed children. */
	int (*list)(const struct tree_ctx *t, struct tree_dir *h);
	/* Child i of the snapshot part of a listing, before the fixed ones;
	 * false past its end (*skip then says how many it has). */
	bool (*kid)(const struct tree_dir *h, size_t i, struct tree_kid *k, size_t *skip);
	/* up to size bytes at off. 0 or a negative errno. */
	int (*read)(const struct tree_ctx *t, const struct node_info *ni, off_t off, size_t size,
		    struct tree_data *out);
	/* The value of xattr name, appended to out; -ENODATA when it has none
	 * now. xattrs lists every name it may answer (NULL-terminated). */
	int (*getxattr)(const struct tree_ctx *t, const struct node_info *ni, const char *name,
			struct buf *out);
	const char *const *xattrs;
};

/* The row of node type type (never NULL). */
const struct node_row *tree_row(enum node_type type);

/* ---- the operations (ops.c calls these, then replies) ----------------- */

/* lookup: on success e->ino holds one new kernel reference. A miss the
 * kernel may remember is 0 with e->ino = 0 and e->tmo > 0. */
int tree_lookup(const struct tree_ctx *t, uint64_t parent, const char *name, struct tree_entry *e);
int tree_getattr(const struct tree_ctx *t, uint64_t ino, struct stat *st, double *tmo);

/* readdir: open (no handle is kept between calls: there is no opendir),
 * then entries 0, 1, ... ("." and ".." first) until tree_dir_name says no. */
int tree_dir_open(const struct tree_ctx *t, uint64_t ino, struct tree_dir *h);
/* Name and whether entry i is a file; false past the end. */
bool tree_dir_name(const struct tree_dir *h, size_t i, const char **name, bool *is_file);
/* Attributes of entry i; with plus, the kernel gets a reference (e->ino
 * holds it). Without plus e->ino is the known number or 0. 0 or -ENOMEM. */
int tree_dir_entry(const struct tree_ctx *t, const struct tree_dir *h, size_t i, bool plus,
		   struct tree_entry *e);
void tree_dir_close(struct tree_dir *h);

/* read: *out holds the bytes to reply; tree_data_release it after. */
int tree_read(const struct tree_ctx *t, uint64_t ino, off_t off, size_t size,
	      struct tree_data *out);
void tree_data_release(struct tree_data *d);

/* getxattr of a user.* name: the value appended to out, or -ENODATA. */
int tree_getxattr(const struct tree_ctx *t, uint64_t ino, const char *name, struct buf *out);
/* listxattr: exactly the names tree_getxattr answers now, each NUL-ended. */
int tree_listxattr(const struct tree_ctx *t, uint64_t ino, struct buf *out);

/* ---- helpers the rows share (tree.c, control.c) ----------------------- */

/* Seconds snapshot s of cr stays fresh (0 when none). */
double tree_remaining(const struct coll_rt *cr, const struct snapshot *s);
/* cr's snapshot, fetching it if needed. 0 or a negative errno (-EINTR when
 * t->cancel said so; the fetch goes on for others). */
int tree_snap(const struct tree_ctx *t, struct coll_rt *cr, struct snapshot **s);
/* The attributes of a directory fixed for the mount (root, connections, ...). */
int tree_static_dir_attr(const struct tree_ctx *t, const struct node_info *ni, struct stat *st,
			 double *tmo);
/* The listing of a directory that lists nothing. */
int tree_empty_list(const struct tree_ctx *t, struct tree_dir *h);
void tree_dir_attr(struct stat *st, uint64_t ino, time_t mtime, long nsec);
/* A file's mtime is its object's; its nanoseconds a hash of its bytes (so
 * that any reply telling the kernel of new bytes drops its pages). */
void tree_file_attr(struct stat *st, uint64_t ino, size_t size, time_t mtime, uint64_t hash);
/* The collection of connection c whose directory is dir, or NULL. */
struct coll_rt *tree_conn_kind(struct conn_rt *c, const char *dir);
/* Adds a fixed child (its name copied) to a listing. 0 or -ENOMEM. */
int tree_dir_add(struct tree_dir *h, const struct tree_kid *k);
/* A byte slice of data for a read. */
void tree_data_slice(struct tree_data *out, const char *data, size_t len, off_t off, size_t size);

#endif
