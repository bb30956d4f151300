/*
 * inode.c - inode table: two chained hash tables (by number, by
 * parent+name) under one mutex. See inode.h.
 *
 * After a recursive listing the kernel may hold a node for every file of
 * every object (hundreds of thousands), so a node is one allocation with
 * its name inline, and the bytes of control files hang off a pointer that
 * is NULL everywhere else.
 */
#include "inode.h"
#include "gcf_hash.h"

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

struct node {
	uint64_t ino, parent;
	void *owner;
	uint64_t nlookup;
	uint64_t content_hash;   /* FILE: see inodes_note_hash; KIND: the listing */
	uint64_t content_stamp;  /* FILE: see inodes_note_hash; KIND: the time reported */
	struct content *content; /* NULL until inodes_set_content */
	struct node *next_ino, *next_name;
	uint8_t type; /* enum node_type */
	bool pinned;
	char name[]; /* NUL-terminated, allocated with the node */
};

/* Chains average at most this many nodes before the tables double. */
#define LOAD_MAX 2

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
	k = h_name(parent, name, t->cap);
	n->next_name = t->by_name[k];
	t->by_name[k] = n;
	t->n++;
	return n;
}

static void unlink_node(struct inodes *t, struct node *n)
{
	struct node **pp;

	for (pp = &t->by_ino[h_ino(n->ino, t->cap)]; *pp != n; pp = &(*pp)->next_ino)
		;
	*pp = n->next_ino;
	for (pp = &t->by_name[h_name(n->parent, n->name, t->cap)]; *pp != n; pp = &(*pp)->next_name)
		;
	*pp = n->next_name;
	t->n--;
	free(n->content);
	free(n);
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
		n->nlookup++;
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
		rc = 0;
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

uint64_t inodes_swap_hash(struct inodes *t, uint64_t ino, uint64_t hash)
{
	struct node *n;
	uint64_t old = 0;

	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n) {
		old = n->content_hash;
		n->content_hash = hash;
	}
	pthread_mutex_unlock(&t->mu);
	return old;
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

void inodes_note_hash(struct inodes *t, uint64_t ino, uint64_t hash, uint64_t stamp_ns)
{
	struct node *n;

	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n && stamp_ns >= n->content_stamp) {
		n->content_hash = hash;
		n->content_stamp = stamp_ns;
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
	struct node *n;

	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n) {
		n->nlookup = n->nlookup > count ? n->nlookup - count : 0;
		if (!n->nlookup && !n->pinned)
			unlink_node(t, n);
	}
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
