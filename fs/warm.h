/*
 * warm.h - a warm restart: every main collection's snapshot kept on local
 * disk (diskstore.h, in the format of snapfile.h) and loaded at start.
 *
 * warm_open (daemon_init) opens the store of the `cache_dir` setting (none:
 * nothing happens), keys each main collection (below) and installs the
 * snapshot found for it with cache_seed: the first reader gets it at once,
 * marked stale, while a fetch revalidates it. After each fetch that
 * published a new snapshot of a main collection (collfetch's publish
 * callback calls warm_published), a writer thread of its own saves it
 * atomically, so that no reader waits for the disk; a snapshot whose content
 * is that of the file already written is not written again (its file keeps
 * the time the content last changed). A failed write is one log line per
 * collection until a write succeeds again, never a reader's error. Filtered
 * views are never stored.
 *
 * A snapshot is saved with the incremental refresh's state that belongs to
 * it (incremental.h: the watermark and the time of the last full listing,
 * captured when it is published), and a seeded snapshot adopts it: the
 * first revalidation after a restart is incremental (a handful of
 * requests, not a full listing), and the interval full refresh keeps its
 * schedule. A file whose content is unchanged is written again when that
 * state changed (a watermark found, a new full listing).
 *
 * The key of a collection is snapfile_key_init of: the provider's name; the
 * endpoint; the region (the first non-secret provider key whose name starts
 * with "region"); as the access key ID, every other non-secret provider key
 * that is set, as "name=value\n" lines in key_table order (the account's key
 * ID, and settings such as a filter that change the listing), plus
 * "connection=<section>\n" when the provider has no required non-secret key
 * (its account is named by a secret alone); the kind's directory; no
 * filter. A secret key (key_table .secret) is never read.
 */
#ifndef GCF_WARM_H
#define GCF_WARM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "diskstore.h"
#include "incremental.h"
#include "snapfile.h"

struct daemon;
struct coll_rt;
struct snapshot;

/* What a main collection keeps for the store. */
struct warm_coll {
	bool keyed; /* key is set: the collection is stored */
	struct snapfile_key key;
	struct snapshot *pending;  /* the next to write (warm.mu) */
	struct incr_wm pending_wm; /* its incremental state (warm.mu) */
	/* the writer thread's (warm_open's before it runs): */
	bool saved;              /* the file holds content saved_hash */
	uint64_t saved_hash;     /* snapshot content_hash of the file */
	struct incr_wm saved_wm; /* and this incremental state */
	bool failing;            /* the last write failed (logged once) */
};

/* The daemon's store and its writer thread. */
struct warm {
	bool on; /* the store is open */
	struct diskstore ds;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t tid;
	bool running;      /* mu: the writer thread runs */
	bool quit;         /* mu: the writer writes what is queued and ends */
	bool closed;       /* mu: no writer; a fetch thread writes its own snapshot */
	unsigned npending; /* mu */
};

/* Opens d->cfg.cache_dir's store and seeds every main collection (every one
 * already through cache_init) from it. Never fails: a store that cannot be
 * opened, or a file that cannot be used, is a log line and a cold start. */
void warm_open(struct daemon *d);

/* Starts the writer thread (after fuse_daemonize). 0 or -errno (then
 * snapshots are written when the daemon is released). */
int warm_start(struct daemon *d);

/* Told that coll published fresh (any thread, no lock held): queues it for
 * the writer when coll is a stored main collection. */
void warm_published(struct coll_rt *coll, struct snapshot *fresh);

/* Writes what is queued and stops the writer; a snapshot published later is
 * written by its fetch thread (which cache_release waits for). Call before
 * the collections are released (a store that is off: nothing happens). */
void warm_close(struct daemon *d);
/* Then (once every fetch has ended) frees the rest and closes the store;
 * the collections may be gone by then. */
void warm_release(struct daemon *d);

#endif
