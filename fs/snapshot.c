/*
 * snapshot.c - reference counting, lookup and the arena behind a snapshot.
 */
#include "snapshot.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "gcf_hash.h"
#include "jsontext.h"

#include <errno.h>

struct snapshot *snapshot_get(struct snapshot *s)
{
	if (s)
		atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void snapshot_put(struct snapshot *s)
{
	if (!s)
		return;
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	arena_free(s->arena);
	free(s->entries);
	free(s->jsonl);
	pthread_mutex_destroy(&s->jsonl_mu);
	free(s);
	/* The reply trees and temporaries a fetch allocated are freed by now:
	 * hand the free heap tops back (glibc keeps them otherwise). */
	malloc_trim(0);
}

void snapshot_seal(struct snapshot *s)
{
	uint64_t h = GCF_FNV1A_BASIS;

	for (size_t i = 0; i < s->nentries; i++) {
		const struct entry *e = &s->entries[i];
		int64_t mt = (int64_t)e->mtime;

		h = gcf_fnv1a_str(h, e->name);
		h = gcf_fnv1a(h, &mt, sizeof(mt));
		for (size_t j = 0; j < e->nfiles; j++) {
			h = gcf_fnv1a_str(h, e->files[j].name);
			h = gcf_fnv1a(h, &e->files[j].hash, sizeof(e->files[j].hash));
		}
	}
	s->content_hash = h;
	s->content_wall = s->fetched_wall;
}

static bool same_files(const struct entry *a, const struct entry *b)
{
	if (a->nfiles != b->nfiles)
		return false;
	for (size_t j = 0; j < a->nfiles; j++)
		if (a->files[j].hash != b->files[j].hash || a->files[j].size != b->files[j].size ||
		    strcmp(a->files[j].name, b->files[j].name))
			return false;
	return true;
}

void snapshot_carry_times(const struct snapshot *prev, struct snapshot *fresh)
{
	if (!prev || !fresh)
		return;
	for (size_t i = 0; i < fresh->nentries; i++) {
		struct entry *e = &fresh->entries[i];
		const struct entry *o;

		if (!e->mtime_fetched)
			continue;
		o = snapshot_find(prev, e->name);
		if (o && same_files(o, e))
			e->mtime = o->mtime;
	}
	snapshot_seal(fresh);
	if (fresh->content_hash == prev->content_hash)
		fresh->content_wall = prev->content_wall;
}

static int cmp_entry(const void *key, const void *elem)
{
	return strcmp(key, ((const struct entry *)elem)->name);
}

static int cmp_file(const void *key, const void *elem)
{
	return strcmp(key, ((const struct file *)elem)->name);
}

const struct entry *snapshot_find(const struct snapshot *s, const char *name)
{
	if (!s || !s->nentries)
		return NULL;
	return bsearch(name, s->entries, s->nentries, sizeof(*s->entries), cmp_entry);
}

const struct file *entry_file(const struct entry *e, const char *name)
{
	if (!e || !e->nfiles)
		return NULL;
	return bsearch(name, e->files, e->nfiles, sizeof(*e->files), cmp_file);
}

int snapshot_jsonl(struct snapshot *s, const char **data, size_t *len)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int rc = 0;

	pthread_mutex_lock(&s->jsonl_mu);
	for (size_t i = 0; !s->jsonl && !rc && i < s->nentries; i++) {
		const struct file *f = entry_file(&s->entries[i], "info.json");

		/* info.json less its whitespace: every token kept as rendered */
		if (f)
			rc = jsontext_compact(f->data, f->size, &b);
		if (f && !rc)
			rc = buf_addch(&b, '\n');
	}
	if (!s->jsonl && !rc) {
		s->jsonl_size = b.len;
		s->jsonl = buf_detach(&b, NULL);
		if (!s->jsonl)
			rc = -ENOMEM;
	}
	*data = s->jsonl;
	*len = s->jsonl ? s->jsonl_size : 0;
	pthread_mutex_unlock(&s->jsonl_mu);
	buf_release(&b);
	return rc;
}

/* ---- arena ---------------------------------------------------------- */

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

/* Blocks at least as large as the mmap threshold (main.c pins it at 128 KiB)
 * are mapped on their own and go back to the system when a snapshot is freed,
 * instead of fragmenting the heaps of the threads that built it. */
#define ARENA_BLOCK (256 * 1024)

void *arena_alloc(struct arena_block **a, size_t n)
{
	return arena_alloc_aligned(a, n, sizeof(max_align_t));
}

void *arena_alloc_aligned(struct arena_block **a, size_t n, size_t align)
{
	struct arena_block *b = *a;
	size_t pad;

	pad = b ? (align - b->used % align) % align : 0;
	if (!b || b->cap - b->used < n + pad) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		/* A large single allocation goes behind the current block so the
		 * current one keeps filling. */
		if (*a && n > ARENA_BLOCK) {
			b->next = (*a)->next;
			(*a)->next = b;
		} else {
			b->next = *a;
			*a = b;
		}
		pad = 0;
	}
	void *p = (char *)b->data + b->used + pad;
	b->used += pad + n;
	return p;
}

char *arena_memdup(struct arena_block **a, const void *p, size_t n)
{
	char *d = arena_alloc_aligned(a, n + 1, 1); /* text: no padding */

	if (!d)
		return NULL;
	memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

void arena_free(struct arena_block *a)
{
	while (a) {
		struct arena_block *next = a->next;

		free(a);
		a = next;
	}
}
