/*
 * snapshot.h - one immutable, reference-counted view of a collection.
 *
 * A snapshot is what one complete listing of (connection, kind) looked like:
 * its entries (one per object, sorted by name), each with its object's JSON
 * text and its files (sorted by name) with their exact sizes, hashes and
 * modification times. It is built once by render_snapshot() and never
 * changed; readers hold a reference (snapshot_get/snapshot_put) and may keep
 * reading it while a refresh publishes a newer one. Everything it holds
 * lives in its arena, so freeing it is one call.
 *
 * A file's bytes are not kept: only its size and hash are (what getattr and
 * a refresh's diff need). A read renders them again from the entry's JSON
 * (snapshot_file_read), the same bytes render_snapshot() measured, checked
 * against that size and hash; a few recently rendered entries are kept per
 * snapshot, so reading every file of an object in a row parses it once.
 */
#ifndef GCF_SNAPSHOT_H
#define GCF_SNAPSHOT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* How a file's bytes are made (struct file's how). */
enum file_how {
	FILE_STORED = 0, /* data holds them (made by hand, or a snapshot's .jsonl) */
	FILE_SOURCE = 1, /* the entry's JSON text itself: data is the entry's json */
	FILE_WHOLE = 2,  /* the entry's object pretty-printed, and a newline */
	FILE_PRETTY = 3, /* member number `member` of the object pretty-printed, and a newline */
	FILE_SCALAR = 4, /* member number `member`'s scalar text (jsontext_scalar), and a newline */
	FILE_HOW_MAX = FILE_SCALAR,
};

/* Members are counted from 0 in the order of the object's text. */
#define FILE_MEMBER_MAX ((1u << 28) - 1)

struct file {
	const char *name; /* one copy per distinct name in a rendered snapshot */
	const char *data; /* size bytes, NUL-terminated, when kept; else NULL */
	uint64_t hash;    /* FNV-1a of its bytes: tells an unchanged file across snapshots */
	uint32_t size;    /* bigger files are not made (render.c) */
	unsigned how : 4; /* enum file_how */
	unsigned member : 28;
};

/* struct entry's active. Entries read from bytes (snapfile) do not know. */
enum entry_active {
	ENTRY_ACTIVE_UNKNOWN = 0,
	ENTRY_ACTIVE_NO = 1,
	ENTRY_ACTIVE_YES = 2,
};

struct entry {
	const char *name;   /* safe, unique file name (names.h) */
	const char *id;     /* the object's ID as the cloud sent it (may be "") */
	const char *json;   /* the object as JSON text (NUL-terminated), or NULL */
	size_t json_len;    /* its bytes */
	time_t mtime;       /* from the object, else the fetch time */
	bool mtime_fetched; /* the object has no time: mtime is a fetch time */
	uint8_t active;     /* enum entry_active: is the object in one of its kind's
			     * active_values (incremental.h)? */
	size_t nfiles;
	struct file *files; /* sorted by name */
};

/* Entries whose rendered bytes a snapshot keeps for reads. */
#define SNAPSHOT_RENDERED 4

struct snapshot_render; /* one entry's files rendered (snapshot.c) */

struct arena_block;

struct snapshot {
	atomic_uint refs;
	uint64_t gen;        /* collection generation that produced it */
	uint64_t fetched_ns; /* monotonic time the fetch finished */
	time_t fetched_wall; /* wall-clock time, for mtimes */
	size_t nentries;
	struct entry *entries; /* sorted by name */
	size_t json_bytes;     /* bytes of JSON received for it (memory budget) */
	/* When the listing's content last changed, and a hash of it: the
	 * <kind>.jsonl file's mtime (seconds, nanoseconds from the hash).
	 * snapshot_seal() sets them; snapshot_carry_times() keeps them across
	 * snapshots whose content is the same. */
	time_t content_wall;
	uint64_t content_hash;
	struct arena_block *arena;

	/* <kind>.jsonl, made on first use (most snapshots are never asked),
	 * and the entries rendered last for reads: the only parts that change
	 * after publication, under jsonl_mu. */
	pthread_mutex_t jsonl_mu;
	char *jsonl;
	size_t jsonl_size;
	struct file jsonl_file;                              /* the .jsonl as a file, once made */
	struct snapshot_render *rendered[SNAPSHOT_RENDERED]; /* most recent first */
};

/* Adds a reference; returns s. NULL ok. */
struct snapshot *snapshot_get(struct snapshot *s);
/* Drops a reference; the last one frees the snapshot. NULL ok. */
void snapshot_put(struct snapshot *s);

/* Borrowed, valid while the caller holds a reference; NULL if absent. */
const struct entry *snapshot_find(const struct snapshot *s, const char *name);
const struct file *entry_file(const struct entry *e, const char *name);

/* Sets content_hash from the entries (names, mtimes, file hashes) and
 * content_wall to fetched_wall. Called once a snapshot is built. */
void snapshot_seal(struct snapshot *s);

/* A refresh of unchanged data is not a change: entries of fresh whose mtime
 * is a fetch time and whose files are byte for byte those of the same entry
 * in prev keep prev's mtime, and when the whole content is then the same,
 * fresh keeps prev's content_wall. So `rsync -a` and `find -newer` see only
 * what changed. Call before fresh is published; prev may be NULL. */
void snapshot_carry_times(const struct snapshot *prev, struct snapshot *fresh);

/* Every object as one compact JSON line, in name order: the <kind>.jsonl
 * file. Made on the first call (from the entries' JSON), then kept.
 * Borrowed like the rest; returns 0 or -ENOMEM (-EFBIG past 4 GiB). */
int snapshot_jsonl(struct snapshot *s, const char **data, size_t *len);
/* The same as a file of s (name "", hash content_hash, bytes kept), or NULL
 * with *rc set. */
const struct file *snapshot_jsonl_file(struct snapshot *s, int *rc);

/* The entry whose files f is one of, or NULL. */
const struct entry *snapshot_file_entry(const struct snapshot *s, const struct file *f);

/*
 * Up to size bytes at off of file f of s (a file of one of its entries, or
 * its .jsonl file): *p and *len. When f's bytes are kept, *p points into s
 * (valid while the caller holds s) and *owned is NULL; else they are
 * rendered from the entry's JSON and copied into *owned, which the caller
 * frees. Returns 0; -EIO when the JSON does not render to bytes of f's size
 * and hash (a snapshot read from corrupt bytes), or -ENOMEM.
 */
int snapshot_file_read(struct snapshot *s, const struct file *f, off_t off, size_t size,
		       char **owned, const char **p, size_t *len);

#endif
