/*
 * inode.c - inode table: two chained hash tables (by number; by
 * parent+name, but for the files of object directories, which are on
 * their directory's list) and the cap's order of object directories, under
 * one mutex. See inode.h.
 *
 * After a recursive listing the kernel may hold a node for every file of
 * every object (hundreds of thousands, or max_nodes), so a node is one
 * allocation with its name inline, and the bytes of control files hang off
 * a pointer that is NULL everywhere else. A FILE node's bytes are a file of
 * the snapshot it holds (pin), read (rendered) through it, or, once
 * superseded, a copy in content.
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
	LRU_OUT,      /* in no list: no child node (or not an ENTRY) */
	LRU_IN,       /* in t->lru: it has children */
	LRU_EVICTING, /* the kernel was asked to drop its files: counted in pending */
};

/*
 * 104 bytes and the name on x86-64 (was 107). The fields of field files
 * (data, size, mtime) share their place with those of object directories
 * (the eviction order and the list of children); pin, content_hash and
 * content_stamp stay apart, so that they read NULL/0 on every node that
 * does not set them.
 *
 * The children of an object directory (its files, hundreds of thousands
 * of nodes after a traversal) are found through their directory's list,
 * linked by next_name, not through by_name: they cost by_name nothing, and
 * the cap (inodes_set_cap) can name them to the kernel.
 */
struct node {
	struct node *next_ino;
	struct node *next_name; /* by_name chain, or the next child of its ENTRY */
	uint64_t ino, parent;
	void *owner;
	uint64_t content_hash;   /* FILE: hash of its bytes; KIND: the listing */
	uint64_t content_stamp;  /* FILE: fetched_ns of pin; KIND: the time reported */
	struct content *content; /* NULL until inodes_set_content (or detach) */
	struct snapshot *pin;    /* FILE: holds file alive (NULL once detached) */
	union {
		struct {                         /* FILE, JSONL */
			const struct file *file; /* its bytes, a file of pin */
			size_t size;
			time_t mtime; /* its object's */
		};
		struct {                                  /* ENTRY */
			struct node *lru_prev, *lru_next; /* the eviction order */
			struct node *kids;                /* its children, by next_name */
		};
	};
	uint32_t nlookup; /* saturates: a node at UINT32_MAX is never freed */
	uint8_t type;     /* enum node_type */
	uint8_t lru : 2;  /* enum lru_state (ENTRY) */
	uint8_t kid : 1;  /* in its parent's list of children, not in by_name */
	bool pinned;
	bool named;  /* the name leads to it (by_name, or its parent's list) */
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
	struct node *p = find_ino(t, parent), *n;

	if (p && p->type == NODE_ENTRY) {
		for (n = p->kids; n && (!n->named || strcmp(n->name, name)); n = n->next_name)
			;
		return n;
	}
	n = t->by_name[h_name(parent, name, t->name_cap)];
	while (n && (n->parent != parent || strcmp(n->name, name)))
		n = n->next_name;
	return n;
}

/* Doubles by_ino (or, with names, by_name): chains stay short. */
static int grow(struct inodes *t, bool names)
{
	size_t old = names ? t->name_cap : t->cap, cap = old ? 2 * old : 1024;
	struct node **b = calloc(cap, sizeof(*b)), **from = names ? t->by_name : t->by_ino;

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < old; i++) {
		for (struct node *n = from[i], *next; n; n = next) {
			size_t k = names ? h_name(n->parent, n->name, cap) : h_ino(n->ino, cap);

			if (names) {
				next = n->next_name;
				n->next_name = b[k];
			} else {
				next = n->next_ino;
				n->next_ino = b[k];
			}
			b[k] = n;
		}
	}
	free(from);
	if (names) {
		t->by_name = b;
		t->name_cap = cap;
	} else {
		t->by_ino = b;
		t->cap = cap;
	}
	return 0;
}

/* ---- eviction order of object directories -------------------------- */

static void lru_unlink(struct inodes *t, struct node *n)
{
	if (n->lru_prev)
		n->lru_prev->lru_next = n->lru_next;
	else
		t->lru.head = n->lru_next;
	if (n->lru_next)
		n->lru_next->lru_prev = n->lru_prev;
	else
		t->lru.tail = n->lru_prev;
	n->lru_prev = n->lru_next = NULL;
}

static void lru_push(struct inodes *t, struct node *n)
{
	n->lru_prev = NULL;
	n->lru_next = t->lru.head;
	if (t->lru.head)
		t->lru.head->lru_prev = n;
	else
		t->lru.tail = n;
	t->lru.head = n;
}

static size_t count_kids(const struct node *n)
{
	size_t c = 0;

	for (const struct node *k = n->kids; k; k = k->next_name)
		c++;
	return c;
}

/* n leaves its place in the order: out of the list, or no longer counted
 * as asked for. */
static void lru_leave(struct inodes *t, struct node *n)
{
	if (n->lru == LRU_IN)
		lru_unlink(t, n);
	else if (n->lru == LRU_EVICTING)
		t->pending -= count_kids(n);
	n->lru = LRU_OUT;
}

/* n was used (looked up, listed, its attributes or a file of it asked
 * for): it goes to the head of the order (when it has children). */
static void touch(struct inodes *t, struct node *n)
{
	if (n->type != NODE_ENTRY)
		return;
	lru_leave(t, n);
	if (n->kids) {
		n->lru = LRU_IN;
		lru_push(t, n);
	}
}

/* Child k joins the list of its directory p (an ENTRY): p is used. */
static void kid_add(struct inodes *t, struct node *p, struct node *k)
{
	k->kid = 1;
	k->next_name = p->kids;
	p->kids = k;
	if (p->lru == LRU_EVICTING)
		t->pending++;
	else
		touch(t, p);
}

/* Child k leaves the list of p (freed). */
static void kid_remove(struct inodes *t, struct node *p, struct node *k)
{
	struct node **pp;

	for (pp = &p->kids; *pp != k; pp = &(*pp)->next_name)
		;
	*pp = k->next_name;
	k->next_name = NULL;
	k->kid = 0;
	if (p->lru == LRU_EVICTING)
		t->pending--;
	if (!p->kids) {
		if (p->lru == LRU_IN)
			lru_unlink(t, p);
		p->lru = LRU_OUT;
	}
}

/*
 * Above the cap (not counting the nodes already asked for), asks the
 * kernel to drop the files of the least recently used object directories,
 * until the count would be 7/8 of the cap. What the kernel then forgets is
 * freed by inodes_forget; what it keeps (an open file) stays until it is
 * forgotten. The directories themselves stay: one of them may be some
 * process's current directory, and a dropped one would be unreachable for
 * getcwd() until its name is looked up again.
 */
static void evict(struct inodes *t)
{
	size_t low;

	if (!t->max_nodes || !t->evict || t->n <= t->max_nodes + t->pending)
		return;
	low = t->max_nodes - t->max_nodes / 8;
	while (t->n > low + t->pending && t->lru.tail) {
		struct node *v = t->lru.tail;
		size_t named = 0, asked = 0;

		for (struct node *k = v->kids; k; k = k->next_name) {
			if (!k->named)
				continue; /* superseded: its name was dropped already */
			named++;
			if (t->evict(t->evict_arg, v->ino, k->name))
				break;
			asked++;
		}
		if (named && !asked)
			return; /* the notifier refused: try again on the next add */
		lru_unlink(t, v);
		v->lru = LRU_EVICTING;
		t->pending += count_kids(v);
		if (asked) {
			t->evictions++;
			t->evicted_names += asked;
		}
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
	struct node *n, *p = parent ? find_ino(t, parent) : NULL;
	bool kid = p && p->type == NODE_ENTRY;
	size_t k, len = strlen(name);

	if (t->n + 1 > LOAD_MAX * t->cap && grow(t, false))
		return NULL;
	if (!kid && t->nnamed + 1 > LOAD_MAX * t->name_cap && grow(t, true))
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
	if (kid) {
		kid_add(t, p, n);
	} else {
		k = h_name(parent, name, t->name_cap);
		n->next_name = t->by_name[k];
		t->by_name[k] = n;
		t->nnamed++;
	}
	t->n++;
	if (t->n > t->peak)
		t->peak = t->n;
	evict(t);
	return n;
}

/* n's name no longer leads to it: its number stays, its name goes to another. */
static void unname(struct inodes *t, struct node *n)
{
	struct node **pp;

	if (!n->named)
		return;
	n->named = false;
	if (n->kid)
		return; /* stays in its directory's list, skipped by find_name */
	for (pp = &t->by_name[h_name(n->parent, n->name, t->name_cap)]; *pp != n;
	     pp = &(*pp)->next_name)
		;
	*pp = n->next_name;
	n->next_name = NULL;
	t->nnamed--;
}

/* Frees n; returns the snapshot it held, for the caller to put once the
 * table's mutex is released (the last reference frees a whole snapshot). */
static struct snapshot *unlink_node(struct inodes *t, struct node *n)
{
	struct snapshot *pin = n->pin;
	struct node **pp;

	for (pp = &t->by_ino[h_ino(n->ino, t->cap)]; *pp != n; pp = &(*pp)->next_ino)
		;
	*pp = n->next_ino;
	unname(t, n);
	if (n->kid)
		kid_remove(t, find_ino(t, n->parent), n);
	if (n->type == NODE_ENTRY) {
		lru_leave(t, n);
		/* Forgotten before its files (forgets come in any order): they
		 * can no longer be looked up (the number is never reused). */
		for (struct node *k = n->kids, *next; k; k = next) {
			next = k->next_name;
			k->next_name = NULL;
			k->kid = 0;
			k->named = false;
		}
	}
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

uint64_t inodes_ref_content(struct inodes *t, uint64_t parent, const char *name,
			    enum node_type type, void *owner, const char *data, size_t len)
{
	struct content *copy = malloc(offsetof(struct content, data) + len + 1);
	struct snapshot *gone = NULL;
	struct node *n;
	uint64_t ino = 0;

	if (!copy)
		return 0;
	memcpy(copy->data, data, len);
	copy->data[len] = '\0';
	copy->len = len;
	copy->fnv = gcf_fnv1a(GCF_FNV1A_BASIS, data, len);
	pthread_mutex_lock(&t->mu);
	n = find_name(t, parent, name);
	if (n && n->content &&
	    (n->content->len != len || n->content->fnv != copy->fnv ||
	     memcmp(n->content->data, data, len))) {
		unname(t, n); /* its bytes stay under its number */
		if (!n->nlookup && !n->pinned)
			gone = unlink_node(t, n);
		n = NULL;
	}
	if (!n)
		n = add(t, parent, name, type, owner);
	if (n) {
		if (!n->content) {
			n->content = copy;
			copy = NULL;
		}
		ref_once(n);
		ino = n->ino;
	}
	pthread_mutex_unlock(&t->mu);
	free(copy);
	snapshot_put(gone);
	return ino;
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

/* Same size and hash: the same bytes. They are compared too when both are
 * at hand (kept, not rendered on demand), which costs nothing. */
static bool same_bytes(const struct node *n, const struct file *f)
{
	const char *mine;

	if (!has_bytes(n) || n->content_hash != f->hash || n->size != f->size)
		return false;
	if (n->pin && n->file == f)
		return true;
	mine = n->pin ? n->file->data : n->content->data;
	return !mine || !f->data || !memcmp(mine, f->data, f->size);
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
	n->file = f;
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
			n->file = f;
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
	const struct file *file = NULL;
	struct node *n;
	int rc = -ENOENT;

	*hold = NULL;
	*owned = NULL;
	*p = NULL;
	*len = 0;
	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n && has_bytes(n)) {
		rc = 0;
		if (off >= 0 && (size_t)off < n->size) {
			*len = n->size - (size_t)off < size ? n->size - (size_t)off : size;
			if (n->pin) {
				*hold = snapshot_get(n->pin);
				file = n->file;
			} else if ((*owned = malloc(*len))) { /* small, and rare */
				memcpy(*owned, n->content->data + off, *len);
				*p = *owned;
			} else {
				*len = 0;
				rc = -ENOMEM;
			}
		}
	}
	pthread_mutex_unlock(&t->mu);
	/* Rendered (when not kept) outside the table's mutex: the reference
	 * holds the file. */
	if (file) {
		rc = snapshot_file_read(*hold, file, off, *len, owned, p, len);
		if (rc || !*p) {
			snapshot_put(*hold);
			*hold = NULL;
		} else if (*owned) { /* a copy: the snapshot is not needed */
			snapshot_put(*hold);
			*hold = NULL;
		}
	}
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
	struct snapshot *put = NULL, *s = NULL;
	const struct file *file = NULL;
	struct content *copy = NULL;
	struct node *n;
	const char *p;
	char *owned = NULL;
	size_t len = 0;
	int rc = -ENOENT;

	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n && n->pin) {
		s = snapshot_get(n->pin);
		file = n->file;
	}
	pthread_mutex_unlock(&t->mu);
	/* The bytes (one field) are copied, rendered if need be, without the
	 * mutex; the reference keeps them. */
	if (file) {
		rc = snapshot_file_read(s, file, 0, file->size, &owned, &p, &len);
		if (!rc && len != file->size)
			rc = -EIO;
		if (!rc) {
			copy = malloc(offsetof(struct content, data) + len + 1);
			rc = copy ? 0 : -ENOMEM;
		}
		if (!rc) {
			memcpy(copy->data, p, len);
			copy->data[len] = '\0';
			copy->len = len;
			copy->fnv = file->hash;
		}
		free(owned);
	}
	pthread_mutex_lock(&t->mu);
	n = find_ino(t, ino);
	if (n && copy && n->pin == s && n->file == file) {
		free(n->content);
		n->content = copy;
		copy = NULL;
		put = n->pin;
		n->pin = NULL;
		n->file = NULL;
	} else if (!rc && copy) { /* moved meanwhile: detach again */
		rc = -EAGAIN;
	}
	if (n && n->type == NODE_FILE)
		unname(t, n);
	pthread_mutex_unlock(&t->mu);
	free(copy);
	snapshot_put(put);
	snapshot_put(s);
	return rc == -EAGAIN ? inodes_file_detach(t, ino) : rc;
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
	out->evicted_names = t->evicted_names;
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
