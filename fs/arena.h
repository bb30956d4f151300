/*
 * arena.h - bump allocator for a snapshot: many small allocations, one free.
 */
#ifndef GCF_ARENA_H
#define GCF_ARENA_H

#include <stddef.h>

struct arena_block;

/* n bytes, max_align_t-aligned, from *a (NULL = empty arena). NULL on ENOMEM. */
void *arena_alloc(struct arena_block **a, size_t n);
/* n bytes aligned to align (a power of two, at most max_align_t). */
void *arena_alloc_aligned(struct arena_block **a, size_t n, size_t align);
/* A NUL-terminated copy of n bytes. NULL on ENOMEM. */
char *arena_memdup(struct arena_block **a, const void *p, size_t n);
/* Frees every block. NULL ok. */
void arena_free(struct arena_block *a);

#endif
