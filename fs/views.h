/*
 * views.h - filtered views of a collection, and where a collection's
 * objects appear in the tree.
 *
 * A view is (main collection, filter, value): tasks/.by-status/RUNNING, or
 * the single object a lookup by ID fetches through the API's ID filter. It
 * is made on first use and kept until the daemon is released (at most
 * VIEWS_MAX per collection, defaults.h); it has its own cache entry and
 * shares its main collection's rate limiter and statistics. The views of m
 * are m->subs, under m->subs_mu; they are freed by views_release.
 */
#ifndef GCF_VIEWS_H
#define GCF_VIEWS_H

#include <stdint.h>

#include "buf.h"
#include "defaults.h"

struct coll_rt;
struct daemon;
struct kind;

/* The view (filter = value) of main collection m, made on first use.
 * NULL on ENOMEM or when VIEWS_MAX are in use. */
struct coll_rt *views_get(struct coll_rt *m, const char *filter, const char *value);

/* Frees every view of m (the daemon is being released: no reader left). */
void views_release(struct coll_rt *m);

/* Drops the freshness of every view of m, and the kernel's listing of each. */
void views_invalidate(struct daemon *d, struct coll_rt *m);

/* The kind's server-side filter on its ID field ("Id"), or NULL. */
const char *views_id_filter(const struct kind *k);

/* The directory whose children are coll's objects (the kind directory, or a
 * filter value's directory); 0 when the kernel has not looked it up. */
uint64_t views_dir(struct daemon *d, struct coll_rt *coll);

/* The directory name of a filter (".by-status" for "Status"). 0 or -ENOMEM. */
int views_filter_dir(const char *filter, struct buf *out);

#endif
