/*
 * inode.h - the inode table of the low-level FUSE API.
 *
 * Every node the kernel knows has a number that is never reused, a parent
 * and a name. Fixed nodes (root, connections, kinds, the control directory
 * and its files) are pinned for the life of the mount. Objects and their
 * files come and go with the snapshots: a node is created by lookup (or
 * readdirplus) and freed when the kernel forgets its last reference; above
 * a cap, the kernel is asked to forget files (inodes_set_cap). Callers
 * get copies (struct node_info), never pointers, so a concurrent forget
 * cannot pull a node from under them.
 *
 * A field file (FILE) node is one version of the file: its bytes never
 * change (docs/architecture.md, "A size and its bytes"). Other bytes under
 * the same name are another node, with another number; the old node keeps
 * its own bytes for as long as the kernel holds it. Its bytes live in a
 * snapshot it holds a reference to, moved on to each newer snapshot that
 * has the same bytes, or in a copy of its own once no current snapshot has
 * them (inodes_file_detach), so a refresh never keeps a whole old snapshot
 * alive for one changed file.
 */
#ifndef GCF_INODE_H
#define GCF_INODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "names.h"
#include "snapshot.h"

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
	uint64_t content_hash;           /* FILE: hash of the node's bytes (0 = none) */
};

/* Asks the kernel to drop the name parent/name (a file of an object
 * directory): 0 when the request is on its way, else nonzero (nothing was
 * asked). Called with the table's mutex held: it must not call back into
 * the table. */
typedef int (*inodes_evict_fn)(void *arg, uint64_t parent, const char *name);

struct inode_lru {
	struct node *head, *tail; /* most recently used first */
};

struct inodes {
	pthread_mutex_t mu;
	struct node **by_ino, **by_name; /* hash tables, chained */
	size_t cap, n, peak;             /* by_ino: every node */
	size_t name_cap, nnamed;         /* by_name: all but object directories' files */
	uint64_t next_ino;
	/* The cap on nodes (inodes_set_cap): object directories that have
	 * children, in order of use. */
	struct inode_lru lru;
	size_t max_nodes; /* 0 = no cap */
	size_t pending;   /* files the kernel was asked to drop, not yet forgotten */
	uint64_t evictions, evicted_names;
	inodes_evict_fn evict;
	void *evict_arg;
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

/* ---- FILE (and JSONL) nodes: one node per version of a file's bytes --- */

/* What a FILE node tells of itself: the size and hash of its bytes (fixed
 * for the node's life) and its object's mtime. */
struct inode_file {
	size_t size;
	uint64_t hash;
	time_t mtime;
};

/*
 * The node parent/name of type (NODE_FILE or NODE_JSONL) whose bytes are f's
 * (file f with mtime mtime in snapshot s), its lookup count raised by one. The node that
 * has the name keeps it when its bytes are f's (it then holds them from s
 * if s is newer). Otherwise a new node (a new number) is made for f: it
 * takes the name when s is at least as new as the old node's snapshot,
 * which keeps its bytes under its number only; else (a reply computed from
 * an older snapshot) the new node has no name. Returns its number, or 0 on
 * ENOMEM.
 */
uint64_t inodes_ref_file(struct inodes *t, uint64_t parent, const char *name, enum node_type type,
			 void *owner, struct snapshot *s, const struct file *f, time_t mtime);

/* The attributes of FILE node ino into *out. s (may be NULL) is the latest
 * snapshot of its collection and f (may be NULL) the file of that name in
 * it: when f has the node's bytes, the node holds them from s (if newer) and
 * takes mtime. Either way *out tells of the node's own bytes. 0, or -ENOENT
 * when ino is not (or no longer) a FILE node with bytes. */
int inodes_file_attr(struct inodes *t, uint64_t ino, struct snapshot *s, const struct file *f,
		     time_t mtime, struct inode_file *out);

/* Up to size bytes at off of FILE node ino's own bytes: *p and *len, held
 * alive either by *hold (a snapshot reference) or by *owned (a copy); the
 * caller drops both. 0, -ENOENT or -ENOMEM. */
int inodes_file_read(struct inodes *t, uint64_t ino, off_t off, size_t size, struct snapshot **hold,
		     char **owned, const char **p, size_t *len);

/* A refresh published fresh, whose file f under parent/name (object mtime
 * mtime) has the same bytes as before: the node holds them from fresh (so
 * the old snapshot can go). Nothing when there is no such node. */
void inodes_file_carry(struct inodes *t, uint64_t parent, const char *name, struct snapshot *fresh,
		       const struct file *f, time_t mtime);

/* A refresh changed (or removed) FILE node ino's bytes: the node takes a
 * copy of its own bytes, lets its snapshot go and gives up its name (the
 * next lookup makes the node of the new bytes). It stays, serving those
 * bytes, until the kernel forgets it. 0, -ENOENT or -ENOMEM (the node then
 * keeps its snapshot: still right, only bigger). */
int inodes_file_detach(struct inodes *t, uint64_t ino);

/* The number of FILE nodes with no name any more (superseded versions the
 * kernel still holds), and of those with a copy of their own bytes, with
 * those bytes' total (for statistics and tests). */
void inodes_file_stats(struct inodes *t, size_t *unnamed, size_t *copies, size_t *copy_bytes);

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
/* The node parent/name whose content is these bytes, its lookup count
 * raised by one: the named node when it has them (or none yet), else a new
 * node (a new number) that takes the name, while the old one keeps its
 * bytes under its number until the kernel forgets it. So each open of a
 * control file reads one version of it, whole, even while another open
 * makes the next (an open is a lookup: the entry timeout is 0). Returns its
 * number, or 0 on ENOMEM. */
uint64_t inodes_ref_content(struct inodes *t, uint64_t parent, const char *name,
			    enum node_type type, void *owner, const char *data, size_t len);
/* Copies up to size bytes at off of ino's content into out; returns the
 * count, or -ENOENT. */
ssize_t inodes_read_content(struct inodes *t, uint64_t ino, off_t off, size_t size, char *out);
/* Length and hash of ino's content (0 and 0 when none). */
void inodes_content_stat(struct inodes *t, uint64_t ino, size_t *len, uint64_t *hash);

/* The kernel dropped n references. Unpinned nodes at zero are freed. */
void inodes_forget(struct inodes *t, uint64_t ino, uint64_t n);

/*
 * The cap on nodes. The kernel holds a node for every name it has looked
 * up, and only forgets under its own memory pressure (which counts its own
 * ~1 KB per node, not ours). With max_nodes > 0, once the table holds more
 * than max_nodes nodes (not counting those already asked for), fn is asked
 * to have the kernel drop the files of the least recently used object
 * directories (ENTRY nodes: used = looked up, listed, or asked for the
 * attributes of them or their files), one name at a time, down to 7/8 of
 * the cap. The kernel then forgets those files (the nodes are freed as
 * usual, by inodes_forget), except one that is open: that it keeps,
 * unhashed, and goes on reading by number, and its node stays until it is
 * forgotten. The directories stay, so a process's current directory is
 * never dropped (getcwd would fail in it), and the nodes are bounded by
 * max_nodes or the number of object directories the kernel holds, the
 * larger. Pinned nodes are never dropped, and a freed node's number is
 * never reused. 0 = no cap.
 */
void inodes_set_cap(struct inodes *t, size_t max_nodes, inodes_evict_fn fn, void *arg);

struct inodes_cap_stats {
	size_t nodes, peak, max_nodes;
	size_t pending;         /* files asked for, not yet forgotten */
	uint64_t evictions;     /* object directories whose files were dropped */
	uint64_t evicted_names; /* the names of files asked for */
};
void inodes_cap_stats(struct inodes *t, struct inodes_cap_stats *out);

/* Number of nodes (for statistics and tests). */
size_t inodes_count(struct inodes *t);

#endif
