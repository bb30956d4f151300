/*
 * snapshot.h - one immutable, reference-counted view of a collection.
 *
 * A snapshot is what one complete listing of (connection, kind) looked like:
 * its entries (one per object, sorted by name), each with its rendered files
 * (sorted by name), exact sizes and modification times. It is built once by
 * render_snapshot() and never changed; readers hold a reference
 * (snapshot_get/snapshot_put) and may keep reading it while a refresh
 * publishes a newer one. Everything it holds lives in its arena, so freeing
 * it is one call.
 */
#ifndef GCF_SNAPSHOT_H
#define GCF_SNAPSHOT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct file {
	const char *name;
	const char *data; /* size bytes (NUL-terminated for convenience) */
	size_t size;
	uint64_t hash; /* FNV-1a of data: tells an unchanged file across snapshots */
};

struct entry {
	const char *name;   /* safe, unique file name (names.h) */
	const char *id;     /* the object's ID as the cloud sent it (may be "") */
	time_t mtime;       /* from the object, else the fetch time */
	bool mtime_fetched; /* the object has no time: mtime is a fetch time */
	size_t nfiles;
	struct file *files; /* sorted by name */
};

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

	/* <kind>.jsonl, made on first use (most snapshots are never asked):
	 * the only part that changes after publication, under jsonl_mu. */
	pthread_mutex_t jsonl_mu;
	char *jsonl;
	size_t jsonl_size;
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
 * file. Made on the first call (from the info.json files), then kept.
 * Borrowed like the rest; returns 0 or -ENOMEM. */
int snapshot_jsonl(struct snapshot *s, const char **data, size_t *len);

#endif
