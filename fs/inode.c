/*
 * inode.c - inode table: two chained hash tables (by number, by
 * parent+name) under one mutex. See inode.h.
 *
 * After a recursive listing the kernel may hold a node for every file of
 * every object (hundreds of thousands), so a node is one allocation with
 * its name inline, and the bytes of control files hang off a pointer that
 * is NULL everywhere else. A FILE node's bytes are borrowed from the
 * snapshot it holds (pin), or, once superseded, a copy in content.
 */
#include "inode.h"
#include "gcf_hash.h"
#include "snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* The bytes of a control file (inodes_set_content), replaced whole. */
struct content {
	size_t len;
	uint64_t fnv; /* FNV-1a of the bytes */
	char data[];  /* len bytes and a NUL */
};

/* Where an object directory (ENTRY) stands in the eviction order. */
enum lru_state {
	LRU_OUT,      /* in no list (not an ENTRY, pinned, or no cap) */
	LRU_IN,       /* in lru[0] (no child node) or lru[1] (children) */
	LRU_EVICTING, /* the kernel was asked to drop it: counted in pending */
};

/*
 * 104 bytes and the name on x86-64 (was 107). The fields of field files
 * (data, size, mtime) share their place with those of object directories
 * (the eviction lists); pin, content_hash and content_stamp stay apart, so
 * that they read NULL/0 on every node that does not set them.
 */
struct node {
	struct node *next_ino, *next_name;
	uint64_t ino, parent;
	void *owner;
	uint64_t content_hash;   /* FILE: hash of its bytes; KIND: the listing */
	uint64_t content_stamp;  /* FILE: fetched_ns of pin; KIND: the time reported */
	struct content *content; /* NULL until inodes_set_content (or detach) */
	struct snapshot *pin;    /* FILE: holds data alive (NULL once detached) */
	union {
		struct {                 /* FILE, JSONL */
			const char *data; /* its bytes (size of them) */
			size_t size;
			time_t mtime; /* its object's */
		};
		struct { /* ENTRY: the eviction order (inodes_set_cap) */
			struct node *lru_prev, *lru_next;
			uint32_t kids; /* nodes whose parent it is */
		};
	};
	uint32_t nlookup; /* saturates: a node at UINT32_MAX is never freed */
	uint8_t type;     /* enum node_type */
	uint8_t lru;      /* enum lru_state */
	bool pinned;
	bool named;  /* in by_name: the name leads to it */
	char name[]; /* NUL-terminated, allocated with the node */
};

/* Chains average at most this many nodes before the tables double. */
#define LOAD_MAX 4

static size_t h_ino(uint64_t ino, size_t cap)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 17) % cap;
}

static size_t h_name(uint64_t parent, const char *name, size_t cap)
{
	return (size_t)(gcf_fnv1a_str(GCF_FNV1A_BASIS ^ parent, name) % cap);
}

static struct node *find_ino(struct inodes *t, uint64_t ino)
{
	struct node *n = t->by_ino[h_ino(ino, t->cap)];

	while (n && n->ino != ino)
		n = n->next_ino;
	return n;
}

static struct node *find_name(struct inodes *t, uint64_t parent, const char *name)
{
	struct node *n = t->by_name[h_name(parent, name, t->cap)];

	while (n && (n->parent != parent || strcmp(n->name, name)))
		n = n->next_name;
	return n;
}

static int grow(struct inodes *t)
{
	size_t cap = t->cap ? 2 * t->cap : 1024;
	struct node **bi = calloc(cap, sizeof(*bi)), **bn = calloc(cap, sizeof(*bn));

	if (!bi || !bn) {
		free(bi);
		free(bn);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++) {
		for (struct node *n = t->by_ino[i], *next; n; n = next) {
			size_t k = h_ino(n->ino, cap);

			next = n->next_ino;
			n->next_ino = bi[k];
			bi[k] = n;
		}
		for (struct node *n = t->by_name[i], *next; n; n = next) {
			size_t k = h_name(n->parent, n->name, cap);

			next = n->next_name;
			n->next_name = bn[k];
			bn[k] = n;
		}
	}
	free(t->by_ino);
	free(t->by_name);
	t->by_ino = bi;
	t->by_name = bn;
	t->cap = cap;
	return 0;
}

/* ---- eviction order of object directories -------------------------- */

/* An ENTRY with children goes to lru[1], one without to lru[0]: an object
 * directory that was only listed costs one node, and is dropped last. */
static struct inode_lru *lru_of(struct inodes *t, const struct node *n)
{
	return &t->lru[n->kids > 0];
}

static void lru_unlink(struct inodes *t, struct node *n)
{
	struct inode_lru *l = lru_of(t, n);

	if (n->lru_prev)
		n->lru_prev->lru_next = n->lru_next;
	else
		l->head = n->lru_next;
	if (n->lru_next)
		n->lru_next->lru_prev = n->lru_prev;
	else
		l->tail = n->lru_prev;
	n->lru_prev = n->lru_next = NULL;
}

static void lru_push(struct inodes *t, struct node *n)
{
	struct inode_lru *l = lru_of(t, n);

	n->lru_prev = NULL;
	n->lru_next = l->head;
	if (l->head)
		l->head->lru_prev = n;
	else
		l->tail = n;
	l->head = n;
}

/* n was used (looked up, listed, its attributes or a file of it asked
 * for): it goes to the head of its list, back from eviction if need be. */
static void touch(struct inodes *t, struct node *n)
{
	if (n->type != NODE_ENTRY || n->pinned)
		return;
	if (n->lru == LRU_IN)
		lru_unlink(t, n);
	else if (n->lru == LRU_EVICTING)
		t->pending -= 1 + (size_t)n->kids;
	n->lru = LRU_IN;
	lru_push(t, n);
}

/* The child count of n changes by delta (+1 or -1), which may move it
 * from one list to the other. */
static void kids_add(struct inodes *t, struct node *n, int delta)
{
	if (n->lru == LRU_IN)
		lru_unlink(t, n);
	else if (n->lru == LRU_EVICTING && delta > 0)
		t->pending++;
	else if (n->lru == LRU_EVICTING)
		t->pending--;
	n->kids = delta > 0 ? n->kids + 1 : n->kids - 1;
	if (n->lru == LRU_IN)
		lru_push(t, n);
}

/* n leaves the table (or becomes pinned): out of the eviction order. */
static void lru_drop(struct inodes *t, struct node *n)
{
	if (n->type != NODE_ENTRY)
		return;
	if (n->lru == LRU_IN)
		lru_unlink(t, n);
	else if (n->lru == LRU_EVICTING)
		t->pending -= 1 + (size_t)n->kids;
	n->lru = LRU_OUT;
}

/*
 * Above the cap (not counting the nodes already asked for), asks the
 * kernel to drop least recently used object directories, those with
 * children first, until the count would be 7/8 of the cap. What the kernel
 * then forgets is freed by inodes_forget; a directory it keeps (busy: a
 * current directory, an open file under it) stays until it is used again
 * (touch) or forgotten.
 */
static void evict(struct inodes *t)
{
	size_t low;

	if (!t->max_nodes || !t->evict || t->n <= t->max_nodes + t->pending)
		return;
	low = t->max_nodes - t->max_nodes / 8;
	while (t->n > low + t->pending) {
		struct node *v = t->lru[1].tail ? t->lru[1].tail : t->lru[0].tail;

		if (!v || t->evict(t->evict_arg, v->parent, v->name))
			break;
		lru_unlink(t, v);
		v->lru = LRU_EVICTING;
		t->pending += 1 + (size_t)v->kids;
		t->evictions++;
	}
}

/* One more kernel reference to n (saturating: see struct node). */
static void ref_once(struct node *n)
{
	if (n->nlookup < UINT32_MAX)
		n->nlookup++;
}

static struct node *add(struct inodes *t, uint64_t parent, const char *name, enum node_type type,
			void *owner)
{
	struct node *n;
	size_t k, len = strlen(name);

	if (t->n + 1 > LOAD_MAX * t->cap && grow(t))
		return NULL;
	n = calloc(1, offsetof(struct node, name) + len + 1);
	if (!n)
		return NULL;
	memcpy(n->name, name, len + 1);
	n->ino = t->next_ino++;
	n->parent = parent;
	n->type = (uint8_t)type;
	n->owner = owner;
	k = h_ino(n->ino, t->cap);
	n->next_ino = t->by_ino[k];
	t->by_ino[k] = n;
	n->named = true;
	k = h_name(parent, name, t->cap);
	n->next_name = t->by_name[k];
	t->by_name[k] = n;
	t->n++;
	if (t->n > t->peak)
		t->peak = t->n;
	if (type == NODE_ENTRY) {
		n->lru = LRU_IN;
		lru_push(t, n);
	}
	if (parent) {
		struct node *p = find_ino(t, parent);

		if (p && p->type == NODE_ENTRY)
			kids_add(t, p, +1);
	}
	evict(t);
	return n;
}

/* Takes n out of by_name: its number stays, its name goes to another. */
static void unname(struct inodes *t, struct node *n)
{
	struct node **pp;

	if (!n->named)
		return;
	for (pp = &t->by_name[h_name(n->parent, n->name, t->cap)]; *pp != n; pp = &(*pp)->next_name)
		;
	*pp = n->next_name;
	n->next_name = NULL;
	n->named = false;
}

/* Frees n; returns the snapshot it held, for the caller to put once the
 * table's mutex is released (the last reference frees a whole snapshot). */
static struct snapshot *unlink_node(struct inodes *t, struct node *n)
{
	struct snapshot *pin = n->pin;
	struct node **pp, *p;

	for (pp = &t->by_ino[h_ino(n->ino, t->cap)]; *pp != n; pp = &(*pp)->next_ino)
		;
	*pp = n->next_ino;
	unname(t, n);
	lru_drop(t, n);
	p = find_ino(t, n->parent);
	if (p && p->type == NODE_ENTRY)
		kids_add(t, p, -1);
	t->n--;
	free(n->content);
	free(n);
	return pin;
}

int inodes_init(struct inodes *t)
{
	struct node *root;

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	t->next_ino = INODE_ROOT;
	root = add(t, 0, "", NODE_ROOT, NULL);
	if (!root)
		return -ENOMEM;
	root->pinned = true;
	return 0;
}

void inodes_release(struct inodes *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		for (struct node *n = t->by_ino[i], *next; n; n = next) {
			next = n->next_ino;
			snapshot_put(n->pin);
			free(n->content);
			free(n);
		}
	free(t->by_ino);
	free(t->by_name);
	pthread_mutex_destroy(&t->mu);
	memset(t, 0, sizeof(*t));
}

uint64_t inodes_pin(struct inodes *t, uint64_t parent, const char *name, enum node_type type,
		    void *owner)
{
	struct node *n;
	uint64_t ino = 0;

	pthread_mutex_lock(&t->mu);
	n = find_name(t, parent, name);
	if (!n)
		n = add(t, parent, name, type, owner);
	if (n) {
		lru_drop(t, n);
		n->pinned = true;
		ino = n->ino;
	}
	pthread_mutex_unlock(&t->mu);
	return ino;
}

uint64_t inodes_ref(struct inodes *t, uint64_t parent, const char *name, enum node_type type,
		    void *owner)
{
	struct node *n;
	uint64_t ino = 0;

	pthread_mutex_lock(&t->mu);
	n = find_name(t, parent, name);
	if (!n)
		n = add(t, parent, name, type, owner);
	if (n) {
		ref_once(n);
		touch(t, n);
		if (owner) /* the object may now come from another collection view */
			n->owner = owner;
		ino = n->ino;
	}
	pthread_mutex_unlock(&t->mu);
	return ino;
}

uint64_t inodes_find(struct inodes *t, uint64_t parent, const char *name)
{
	struct node *n;
	uint64_t ino;

	pthread_mutex_lock(&t->mu);
	n = find_name(t, parent, name);
	ino = n ? n->ino : 0;
	pthread_mutex_unlock(&t->mu);
	return ino;
}

int inodes_get(struct inodes *t, uint64_t ino, struct node_info *out)
{
	struct node *n, *p;
	int rc = -ENOENT;

	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n) {
		out->ino = n->ino;
		out->parent = n->parent;
		out->type = (enum node_type)n->type;
		out->owner = n->owner;
		out->content_hash = n->content_hash;
		snprintf(out->name, sizeof(out->name), "%s", n->name);
		out->parent_name[0] = '\0';
		p = find_ino(t, n->parent);
		if (p)
			snprintf(out->parent_name, sizeof(out->parent_name), "%s", p->name);
		/* Using an object's file uses its directory. */
		touch(t, n->type == NODE_FILE && p ? p : n);
		rc = 0;
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int inodes_set_content(struct inodes *t, uint64_t ino, const char *data, size_t len)
{
	struct content *copy = malloc(offsetof(struct content, data) + len + 1);
	struct node *n;

	if (!copy)
		return -ENOMEM;
	memcpy(copy->data, data, len);
	copy->data[len] = '\0';
	copy->len = len;
	copy->fnv = gcf_fnv1a(GCF_FNV1A_BASIS, data, len);
	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n) {
		struct content *old = n->content;

		n->content = copy;
		copy = old; /* freed below, outside the lock */
	}
	pthread_mutex_unlock(&t->mu);
	free(copy);
	return n ? 0 : -ENOENT;
}

ssize_t inodes_read_content(struct inodes *t, uint64_t ino, off_t off, size_t size, char *out)
{
	struct node *n;
	ssize_t got = -ENOENT;

	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n) {
		const struct content *c = n->content;

		got = 0;
		if (c && off >= 0 && (size_t)off < c->len) {
			got = (ssize_t)(c->len - (size_t)off < size ? c->len - (size_t)off : size);
			memcpy(out, c->data + off, (size_t)got);
		}
	}
	pthread_mutex_unlock(&t->mu);
	return got;
}

void inodes_content_stat(struct inodes *t, uint64_t ino, size_t *len, uint64_t *hash)
{
	struct node *n;

	*len = 0;
	*hash = 0;
	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n && n->content) {
		*len = n->content->len;
		*hash = n->content->fnv;
	}
	pthread_mutex_unlock(&t->mu);
}

uint64_t inodes_dir_time(struct inodes *t, uint64_t ino, uint64_t listing, uint64_t when_ns,
			 uint64_t first_ns)
{
	struct node *n;
	uint64_t at = first_ns;

	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n) {
		if (!n->content_stamp)
			n->content_stamp = first_ns;
		if (listing && !n->content_hash) {
			n->content_hash = listing;
		} else if (listing && listing != n->content_hash && when_ns > n->content_stamp) {
			n->content_hash = listing;
			n->content_stamp = when_ns;
		}
		at = n->content_stamp;
	}
	pthread_mutex_unlock(&t->mu);
	return at;
}

void inodes_forget(struct inodes *t, uint64_t ino, uint64_t count)
{
	struct snapshot *gone = NULL;
	struct node *n;

	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n) {
		if (n->nlookup < UINT32_MAX) /* else saturated: kept */
			n->nlookup = n->nlookup > count ? n->nlookup - (uint32_t)count : 0;
		if (!n->nlookup && !n->pinned)
			gone = unlink_node(t, n);
	}
	pthread_mutex_unlock(&t->mu);
	snapshot_put(gone);
}

/* ---- FILE nodes ------------------------------------------------------------ */

static bool has_bytes(const struct node *n)
{
	return (n->type == NODE_FILE || n->type == NODE_JSONL) && (n->pin || n->content);
}

static bool same_bytes(const struct node *n, const struct file *f)
{
	if (!has_bytes(n) || n->content_hash != f->hash || n->size != f->size)
		return false;
	if (n->pin && n->data == f->data)
		return true;
	return !memcmp(n->pin ? n->data : n->content->data, f->data, f->size);
}

/* n (whose bytes are f's) holds them from s when s is at least as new as
 * its snapshot, and takes mtime; returns the reference to put after the
 * mutex (n's old snapshot, or NULL). */
static struct snapshot *carry(struct node *n, struct snapshot *s, const struct file *f,
			      time_t mtime)
{
	struct snapshot *old;

	if (!s || s->fetched_ns < n->content_stamp)
		return NULL;
	n->mtime = mtime;
	if (n->pin == s)
		return NULL;
	old = n->pin;
	n->pin = snapshot_get(s);
	n->data = f->data;
	n->content_stamp = s->fetched_ns;
	if (n->content) { /* a detached node whose bytes came back */
		free(n->content);
		n->content = NULL;
	}
	return old;
}

uint64_t inodes_ref_file(struct inodes *t, uint64_t parent, const char *name, enum node_type type,
			 void *owner, struct snapshot *s, const struct file *f, time_t mtime)
{
	struct snapshot *put = NULL;
	struct node *n, *named;
	uint64_t ino = 0;

	pthread_mutex_lock(&t->mu);
	n = named = find_name(t, parent, name);
	if (n && same_bytes(n, f)) {
		put = carry(n, s, f, mtime);
	} else {
		/* A newer snapshot's bytes take the name; an older one's (a
		 * reply computed before a refresh published) get a number only. */
		bool newer = !named || !has_bytes(named) || s->fetched_ns >= named->content_stamp;

		n = add(t, parent, name, type, owner);
		if (n) {
			if (named && newer)
				unname(t, named);
			else if (named)
				unname(t, n);
			n->pin = snapshot_get(s);
			n->data = f->data;
			n->size = f->size;
			n->content_hash = f->hash;
			n->content_stamp = s->fetched_ns;
			n->mtime = mtime;
		}
	}
	if (n) {
		ref_once(n);
		if (owner)
			n->owner = owner;
		ino = n->ino;
	}
	pthread_mutex_unlock(&t->mu);
	snapshot_put(put);
	return ino;
}

int inodes_file_attr(struct inodes *t, uint64_t ino, struct snapshot *s, const struct file *f,
		     time_t mtime, struct inode_file *out)
{
	struct snapshot *put = NULL;
	struct node *n;
	int rc = -ENOENT;

	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n && has_bytes(n)) {
		if (f && same_bytes(n, f))
			put = carry(n, s, f, mtime);
		out->size = n->size;
		out->hash = n->content_hash;
		out->mtime = n->mtime;
		rc = 0;
	}
	pthread_mutex_unlock(&t->mu);
	snapshot_put(put);
	return rc;
}

int inodes_file_read(struct inodes *t, uint64_t ino, off_t off, size_t size, struct snapshot **hold,
		     char **owned, const char **p, size_t *len)
{
	struct node *n;
	int rc = -ENOENT;

	*hold = NULL;
	*owned = NULL;
	*p = NULL;
	*len = 0;
	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n && has_bytes(n)) {
		const char *data = n->pin ? n->data : n->content->data;

		rc = 0;
		if (off >= 0 && (size_t)off < n->size) {
			*len = n->size - (size_t)off < size ? n->size - (size_t)off : size;
			if (n->pin) {
				*hold = snapshot_get(n->pin);
				*p = data + off;
			} else if ((*owned = malloc(*len))) { /* small, and rare */
				memcpy(*owned, data + off, *len);
				*p = *owned;
			} else {
				*len = 0;
				rc = -ENOMEM;
			}
		}
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void inodes_file_carry(struct inodes *t, uint64_t parent, const char *name, struct snapshot *fresh,
		       const struct file *f, time_t mtime)
{
	struct snapshot *put = NULL;
	struct node *n;

	pthread_mutex_lock(&t->mu);
	n = find_name(t, parent, name);
	if (n && n->pin && n->pin != fresh && same_bytes(n, f))
		put = carry(n, fresh, f, mtime);
	pthread_mutex_unlock(&t->mu);
	snapshot_put(put);
}

int inodes_file_detach(struct inodes *t, uint64_t ino)
{
	struct snapshot *put = NULL;
	struct content *copy = NULL;
	struct node *n;
	size_t len = 0;
	int rc = -ENOENT;

	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n && n->pin) {
		len = n->size;
		/* Copied under the mutex: the snapshot cannot go meanwhile,
		 * and the bytes of one field are small. */
		copy = malloc(offsetof(struct content, data) + len + 1);
		rc = -ENOMEM;
		if (copy) {
			memcpy(copy->data, n->data, len);
			copy->data[len] = '\0';
			copy->len = len;
			copy->fnv = n->content_hash;
			free(n->content);
			n->content = copy;
			put = n->pin;
			n->pin = NULL;
			n->data = NULL;
			rc = 0;
		}
	}
	if (n && n->type == NODE_FILE)
		unname(t, n);
	pthread_mutex_unlock(&t->mu);
	snapshot_put(put);
	return rc;
}

void inodes_file_stats(struct inodes *t, size_t *unnamed, size_t *copies, size_t *copy_bytes)
{
	*unnamed = *copies = *copy_bytes = 0;
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->cap; i++)
		for (struct node *n = t->by_ino[i]; n; n = n->next_ino) {
			if (n->type != NODE_FILE && n->type != NODE_JSONL)
				continue;
			*unnamed += !n->named;
			if (!n->pin && n->content) {
				(*copies)++;
				*copy_bytes += n->content->len;
			}
		}
	pthread_mutex_unlock(&t->mu);
}

void inodes_set_cap(struct inodes *t, size_t max_nodes, inodes_evict_fn fn, void *arg)
{
	pthread_mutex_lock(&t->mu);
	t->max_nodes = max_nodes;
	t->evict = fn;
	t->evict_arg = arg;
	evict(t);
	pthread_mutex_unlock(&t->mu);
}

void inodes_cap_stats(struct inodes *t, struct inodes_cap_stats *out)
{
	pthread_mutex_lock(&t->mu);
	out->nodes = t->n;
	out->peak = t->peak;
	out->max_nodes = t->max_nodes;
	out->evictions = t->evictions;
	out->pending = t->pending;
	pthread_mutex_unlock(&t->mu);
}

size_t inodes_count(struct inodes *t)
{
	size_t n;

	pthread_mutex_lock(&t->mu);
	n = t->n;
	pthread_mutex_unlock(&t->mu);
	return n;
}
