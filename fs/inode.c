/*
 * inode.c - inode table: two chained hash tables (by number, by
 * parent+name) under one mutex. See inode.h.
 */
#include "inode.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct node {
	uint64_t ino, parent;
	enum node_type type;
	void *owner;
	char *name;
	uint64_t nlookup;
	bool pinned;
	uint64_t content_hash;
	uint64_t content_stamp;
	char *content;
	size_t content_len;
	uint64_t content_fnv;
	struct node *next_ino, *next_name;
};

static size_t h_ino(uint64_t ino, size_t cap)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 17) % cap;
}

static size_t h_name(uint64_t parent, const char *name, size_t cap)
{
	uint64_t h = 1469598103934665603ull ^ parent;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211ull;
	return (size_t)(h % cap);
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
	size_t k;

	if (t->n + 1 > t->cap && grow(t))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name) {
		free(n);
		return NULL;
	}
	n->ino = t->next_ino++;
	n->parent = parent;
	n->type = type;
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
	free(n->name);
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
			free(n->name);
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
		out->type = n->type;
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
	char *copy = malloc(len + 1);
	uint64_t h = 1469598103934665603ull;
	struct node *n;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	copy[len] = '\0';
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)data[i]) * 1099511628211ull;
	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n) {
		free(n->content);
		n->content = copy;
		n->content_len = len;
		n->content_fnv = h;
		copy = NULL;
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
		got = 0;
		if (off >= 0 && (size_t)off < n->content_len) {
			got = (ssize_t)(n->content_len - (size_t)off < size
					    ? n->content_len - (size_t)off
					    : size);
			memcpy(out, n->content + off, (size_t)got);
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
	if (n) {
		*len = n->content_len;
		*hash = n->content_fnv;
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
