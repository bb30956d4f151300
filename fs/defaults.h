/*
 * defaults.h - the engine's fixed figures in one place: the limits and
 * timings of fs/ that are not settings (config.h holds those). Each is named
 * for the module that uses it; change one here, and say why in its comment.
 */
#ifndef GCF_DEFAULTS_H
#define GCF_DEFAULTS_H

/* Requests per second to one list API when neither the connection (max_rps)
 * nor the provider's kind table (rate_per_sec) gives a rate: a documented
 * limit common to the clouds' list APIs, so an unknown one is not flooded. */
#define COLLFETCH_DEFAULT_RATE_PER_S 20

/* Filtered views (tasks/.by-status/RUNNING, lookups by ID) kept per
 * collection: each holds a cache entry for the life of the mount, so a
 * script walking many values cannot grow memory without bound. */
#define VIEWS_MAX 4096

/* A failed fetch is repeated to readers (or its stale snapshot served) this
 * long before the cloud is asked again: a burst of reads after an error
 * costs one request, not one each. */
#define CACHE_ERROR_HOLD_NS 1000000000ull

/* How often a reader that may give up (an interrupted FUSE request) looks
 * whether it was cancelled while it waits for a fetch. */
#define CACHE_CANCEL_POLL_NS 50000000ull

/* Lines kept in MOUNT/.gpucloudfs/errors (a ring, newest last). */
#define STATUS_LINES 200

#endif
