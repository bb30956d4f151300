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
#include "render.h"

#include <errno.h>

/* One entry's files rendered for reads: file j's bytes at bytes + off[j]. */
struct snapshot_render {
	const struct entry *e;
	char *bytes;
	size_t off[]; /* e->nfiles + 1 */
};

static void render_free(struct snapshot_render *r)
{
	if (r) {
		free(r->bytes);
		free(r);
	}
}

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
	for (size_t i = 0; i < SNAPSHOT_RENDERED; i++)
		render_free(s->rendered[i]);
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

/* The text an entry's .jsonl line is made from: its JSON, else (a snapshot
 * made by hand) its info.json's kept bytes. */
static bool entry_json(const struct entry *e, const char **p, size_t *len)
{
	const struct file *f;

	if (e->json) {
		*p = e->json;
		*len = e->json_len;
		return true;
	}
	f = entry_file(e, "info.json");
	if (!f || !f->data)
		return false;
	*p = f->data;
	*len = f->size;
	return true;
}

int snapshot_jsonl(struct snapshot *s, const char **data, size_t *len)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int rc = 0;

	pthread_mutex_lock(&s->jsonl_mu);
	for (size_t i = 0; !s->jsonl && !rc && i < s->nentries; i++) {
		const char *j;
		size_t jl;

		/* the JSON less its whitespace: every token kept as rendered */
		if (!entry_json(&s->entries[i], &j, &jl))
			continue;
		rc = jsontext_compact(j, jl, &b);
		if (!rc)
			rc = buf_addch(&b, '\n');
	}
	if (!s->jsonl && !rc && b.len > UINT32_MAX)
		rc = -EFBIG;
	if (!s->jsonl && !rc) {
		s->jsonl_size = b.len;
		s->jsonl = buf_detach(&b, NULL);
		if (!s->jsonl)
			rc = -ENOMEM;
		else
			s->jsonl_file = (struct file){.name = "",
						      .data = s->jsonl,
						      .hash = s->content_hash,
						      .size = (uint32_t)s->jsonl_size,
						      .how = FILE_STORED};
	}
	*data = s->jsonl;
	*len = s->jsonl ? s->jsonl_size : 0;
	pthread_mutex_unlock(&s->jsonl_mu);
	buf_release(&b);
	return rc;
}

const struct file *snapshot_jsonl_file(struct snapshot *s, int *rc)
{
	const char *p;
	size_t len;

	*rc = snapshot_jsonl(s, &p, &len);
	return *rc ? NULL : &s->jsonl_file;
}

const struct entry *snapshot_file_entry(const struct snapshot *s, const struct file *f)
{
	uintptr_t at = (uintptr_t)f;
	size_t lo = 0, hi = s ? s->nentries : 0;

	/* render_snapshot and snapfile_decode lay files out in entry order */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct entry *e = &s->entries[mid];

		if (at < (uintptr_t)e->files)
			hi = mid;
		else if (at >= (uintptr_t)(e->files + e->nfiles))
			lo = mid + 1;
		else
			return e;
	}
	for (size_t i = 0; s && i < s->nentries; i++) /* a snapshot made otherwise */
		if (at >= (uintptr_t)s->entries[i].files &&
		    at < (uintptr_t)(s->entries[i].files + s->entries[i].nfiles))
			return &s->entries[i];
	return NULL;
}

/* Renders e's files (outside any lock); NULL with *rc set on failure. */
static struct snapshot_render *render_new(const struct entry *e, int *rc)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct snapshot_render *r = malloc(sizeof(*r) + (e->nfiles + 1) * sizeof(r->off[0]));

	*rc = r ? render_entry_files(e, &b, r->off) : -ENOMEM;
	if (!*rc) {
		r->e = e;
		r->bytes = buf_detach(&b, NULL);
		if (!r->bytes)
			*rc = -ENOMEM;
	}
	if (*rc) {
		free(r);
		r = NULL;
	}
	buf_release(&b);
	return r;
}

/* Under jsonl_mu: e's rendering, moved to the front, or NULL. */
static struct snapshot_render *rendered_find(struct snapshot *s, const struct entry *e)
{
	for (size_t i = 0; i < SNAPSHOT_RENDERED && s->rendered[i]; i++)
		if (s->rendered[i]->e == e) {
			struct snapshot_render *r = s->rendered[i];

			memmove(&s->rendered[1], &s->rendered[0], i * sizeof(r));
			s->rendered[0] = r;
			return r;
		}
	return NULL;
}

int snapshot_file_read(struct snapshot *s, const struct file *f, off_t off, size_t size,
		       char **owned, const char **p, size_t *len)
{
	struct snapshot_render *r, *drop = NULL;
	const struct entry *e;
	size_t n, j;
	int rc = 0;

	*owned = NULL;
	*p = NULL;
	*len = 0;
	if (off < 0 || (uint64_t)off >= f->size)
		return 0;
	n = f->size - (size_t)off < size ? f->size - (size_t)off : size;
	if (f->data) {
		*p = f->data + off;
		*len = n;
		return 0;
	}
	e = snapshot_file_entry(s, f);
	if (!e)
		return -EIO;
	j = (size_t)(f - e->files);
	/* f->size is trusted only once rendered bytes have it (decoded
	 * snapshots may lie): the copy is made from them. */
	pthread_mutex_lock(&s->jsonl_mu);
	r = rendered_find(s, e);
	if (r && (*owned = malloc(n)))
		memcpy(*owned, r->bytes + r->off[j] + off, n);
	else if (r)
		rc = -ENOMEM;
	pthread_mutex_unlock(&s->jsonl_mu);
	if (!r) {
		/* Rendered without the lock: readers of other entries go on. */
		r = render_new(e, &rc);
		if (r && !(*owned = malloc(n)))
			rc = -ENOMEM;
		if (r) {
			if (*owned)
				memcpy(*owned, r->bytes + r->off[j] + off, n);
			pthread_mutex_lock(&s->jsonl_mu);
			if (rendered_find(s, e)) { /* another reader was quicker */
				drop = r;
			} else {
				drop = s->rendered[SNAPSHOT_RENDERED - 1];
				memmove(&s->rendered[1], &s->rendered[0],
					(SNAPSHOT_RENDERED - 1) * sizeof(r));
				s->rendered[0] = r;
			}
			pthread_mutex_unlock(&s->jsonl_mu);
			render_free(drop);
		}
	}
	if (rc) {
		free(*owned);
		*owned = NULL;
		return rc;
	}
	*p = *owned;
	*len = n;
	return 0;
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
