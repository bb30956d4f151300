/*
 * names.h - object IDs and field names to safe file names.
 *
 * IDs: an ID is used as is when it is a safe file name. Otherwise it is
 * percent-encoded, which keeps the mapping one-to-one (so unique) and
 * stable: every byte that is '/', '%', a control byte (< 0x20, 0x7f), part of
 * invalid UTF-8, or a leading '.' becomes %XX (uppercase hex). "" becomes
 * "%00"-free "%". A name still longer than NAMES_MAX bytes keeps its first
 * bytes and ends in "~" + 16 hex digits of the ID's SHA-256. A repeated ID
 * (the same object listed twice) gets "~2", "~3"... in listing order
 * (names_dedup). docs/names.md documents the rule.
 *
 * Fields: lower snake case (FrameworkName -> framework_name, queueID ->
 * queue_id, RDMAConfig -> rdma_config, memoryGB -> memory_gb).
 */
#ifndef GCF_NAMES_H
#define GCF_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define NAMES_MAX 255

/* True when id can be a file name as it is. */
bool names_id_is_safe(const char *id, size_t len);

/* Appends the file name for ID (len bytes, may hold NULs) to out.
 * Returns 0 or -ENOMEM. */
int names_from_id(const char *id, size_t len, struct buf *out);

/* Appends the snake_case form of a field name to out; an empty result or a
 * field that would not be a safe name (contains '/', control bytes...) gives
 * -EINVAL. Returns 0, -EINVAL or -ENOMEM. */
int names_snake(const char *field, struct buf *out);

/* The ID a name stands for: undoes the percent-encoding of names_from_id.
 * A name cut to NAMES_MAX with a hash cannot be undone: -EINVAL. */
int names_decode(const char *name, struct buf *out);

/* Given n names in listing order, rewrites repeats in place so all are
 * unique: the second "x" becomes "x~2" (or "x~3"... if "x~2" is taken).
 * names[i] are malloc'd and may be replaced (old one freed).
 * Returns 0 or -ENOMEM. */
int names_dedup(char **names, size_t n);

#endif
