/*
 * render.h - turns a listing (cJSON objects) into a snapshot.
 *
 * For each object: its directory name from the kind's ID field (names.h),
 * info.json (the object pretty-printed, ending in a newline), one file per
 * top-level scalar in snake_case holding the value and a newline (null fields
 * are absent), the kind's extra .json files, and an mtime from the kind's
 * mtime fields (else the fetch time).
 *
 * The snapshot keeps each object's info.json text and, of every other file,
 * its size, hash and where in the object it comes from (struct file's how
 * and member); render_entry_files() makes the bytes again when they are
 * read, byte for byte those measured here.
 */
#ifndef GCF_RENDER_H
#define GCF_RENDER_H

#include <time.h>

#include <cjson/cJSON.h>

#include "gcf_error.h"
#include "provider.h"
#include "snapshot.h"

/* Builds a snapshot with one reference from n objects (borrowed; items that
 * are not objects are skipped). Returns 0 or -ENOMEM (err set). */
int render_snapshot(const struct kind *k, const cJSON *const *items, size_t n, time_t fetched_wall,
		    struct snapshot **out, struct gcf_error *err);

/* The same, where reuse (NULL, or n slots) names, for each item that is
 * NULL, an entry of another snapshot (of the same kind) whose object is
 * taken as it is: copied (its JSON, files, sizes, hashes), not parsed or
 * rendered again. An incremental refresh passes its unchanged objects so:
 * its cost then grows with what changed, not with what exists. */
int render_snapshot_reuse(const struct kind *k, const cJSON *const *items,
			  const struct entry *const *reuse, size_t n, time_t fetched_wall,
			  struct snapshot **out, struct gcf_error *err);

/* Renders the bytes of every file of e that are not kept (data NULL) from
 * e->json, one after the other into out: file j's at out->p + off[j] (off
 * has e->nfiles + 1 slots; a kept file takes no bytes). Each is checked
 * against the file's size and hash. Returns 0; -EIO when the JSON is missing
 * or does not give those bytes; or -ENOMEM. */
int render_entry_files(const struct entry *e, struct buf *out, size_t *off);

/* Parses "2024-05-01T08:30:00Z", "2024-05-01 08:30:00", optional fraction
 * and "+08:00"-style offset (no zone = UTC), or epoch seconds/ms as a number.
 * Returns 0 and sets *out, or -EINVAL. */
int render_parse_time(const cJSON *v, time_t *out);
/* The same, with the UTC offset (seconds) of times that name no zone. */
int render_parse_time_tz(const cJSON *v, int default_offset_s, time_t *out);

#endif
