/*
 * test_inode.c - fs/inode.c, the inode table of the low-level FUSE API:
 * the root is inode 1; a lookup of the same parent/name gives the same
 * number and counts a reference; forgetting the last reference frees the
 * node, and its number is never given out again; pinned nodes outlive
 * every forget; the table keeps working as it grows; callers get copies
 * that carry the parent's name. A field file's node is one version of its
 * bytes: other bytes are another node, the old one keeps serving its own
 * until forgotten, and holds no old snapshot once a refresh moved on.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "gcf_hash.h"
#include "inode.h"

static int setup(void **state)
{
	struct inodes *t = calloc(1, sizeof(*t));

	if (!t || inodes_init(t))
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	inodes_release(*state);
	free(*state);
	return 0;
}

static void test_inode_root_is_one(void **state)
{
	struct inodes *t = *state;
	struct node_info ni;

	assert_int_equal(inodes_count(t), 1);
	assert_int_equal(inodes_get(t, INODE_ROOT, &ni), 0);
	assert_int_equal(ni.ino, 1);
	assert_int_equal(ni.type, NODE_ROOT);
	assert_string_equal(ni.name, "");
	assert_string_equal(ni.parent_name, "");
	/* the kernel never forgets the root */
	inodes_forget(t, INODE_ROOT, 1);
	assert_int_equal(inodes_get(t, INODE_ROOT, &ni), 0);
	assert_int_equal(inodes_get(t, 2, &ni), -ENOENT);
	assert_int_equal(inodes_get(t, 0, &ni), -ENOENT);
}

static void test_inode_ref_twice_same_ino(void **state)
{
	struct inodes *t = *state;
	int owner;
	uint64_t a = inodes_ref(t, INODE_ROOT, "tencent", NODE_CONN, &owner);
	uint64_t b = inodes_ref(t, INODE_ROOT, "tencent", NODE_CONN, NULL);
	struct node_info ni;

	assert_true(a > INODE_ROOT);
	assert_int_equal(a, b);
	assert_int_equal(inodes_count(t), 2);
	assert_int_equal(inodes_find(t, INODE_ROOT, "tencent"), a);
	assert_int_equal(inodes_get(t, a, &ni), 0);
	assert_int_equal(ni.parent, INODE_ROOT);
	assert_int_equal(ni.type, NODE_CONN);
	assert_ptr_equal(ni.owner, &owner); /* from the creating call */
	assert_string_equal(ni.name, "tencent");
	/* the same name under another parent is another node */
	assert_int_not_equal(inodes_ref(t, a, "tencent", NODE_KIND, NULL), a);
}

static void test_inode_forget_counts_lookups(void **state)
{
	struct inodes *t = *state;
	uint64_t a = inodes_ref(t, INODE_ROOT, "x", NODE_ENTRY, NULL);
	struct node_info ni;

	assert_int_equal(inodes_ref(t, INODE_ROOT, "x", NODE_ENTRY, NULL), a); /* nlookup 2 */
	inodes_forget(t, a, 1);
	assert_int_equal(inodes_get(t, a, &ni), 0); /* one reference left */
	assert_int_equal(inodes_find(t, INODE_ROOT, "x"), a);
	inodes_forget(t, a, 1);
	assert_int_equal(inodes_get(t, a, &ni), -ENOENT);
	assert_int_equal(inodes_find(t, INODE_ROOT, "x"), 0);
	assert_int_equal(inodes_count(t), 1);
}

static void test_inode_forget_many_at_once(void **state)
{
	struct inodes *t = *state;
	uint64_t a = 0;
	struct node_info ni;

	for (int i = 0; i < 5; i++)
		a = inodes_ref(t, INODE_ROOT, "y", NODE_ENTRY, NULL);
	inodes_forget(t, a, 4);
	assert_int_equal(inodes_get(t, a, &ni), 0);
	inodes_forget(t, a, 7); /* more than held: freed, no underflow */
	assert_int_equal(inodes_get(t, a, &ni), -ENOENT);
	inodes_forget(t, a, 1); /* an unknown number is ignored */
}

static void test_inode_numbers_never_reused(void **state)
{
	struct inodes *t = *state;
	uint64_t a = inodes_ref(t, INODE_ROOT, "x", NODE_ENTRY, NULL), b, c;
	struct node_info ni;

	inodes_forget(t, a, 1);
	b = inodes_ref(t, INODE_ROOT, "x", NODE_ENTRY, NULL);
	assert_int_not_equal(b, a);
	assert_true(b > a);
	assert_int_equal(inodes_get(t, a, &ni), -ENOENT); /* the old number stays dead */
	inodes_forget(t, b, 1);
	c = inodes_ref(t, INODE_ROOT, "other", NODE_ENTRY, NULL);
	assert_int_not_equal(c, a);
	assert_int_not_equal(c, b);
}

static void test_inode_pinned_survive_forget(void **state)
{
	struct inodes *t = *state;
	uint64_t conn = inodes_pin(t, INODE_ROOT, "tencent", NODE_CONN, NULL);
	uint64_t kind = inodes_pin(t, conn, "tasks", NODE_KIND, NULL);
	struct node_info ni;

	assert_true(conn && kind);
	assert_int_equal(inodes_pin(t, INODE_ROOT, "tencent", NODE_CONN, NULL), conn); /* once */
	/* the kernel looks it up and forgets it again */
	assert_int_equal(inodes_ref(t, conn, "tasks", NODE_KIND, NULL), kind);
	inodes_forget(t, kind, 1);
	inodes_forget(t, kind, 1);
	assert_int_equal(inodes_get(t, kind, &ni), 0);
	assert_int_equal(ni.type, NODE_KIND);
	assert_int_equal(inodes_get(t, conn, &ni), 0);
	assert_int_equal(inodes_count(t), 3);
}

static void test_inode_pin_existing_node(void **state)
{
	struct inodes *t = *state;
	uint64_t a = inodes_ref(t, INODE_ROOT, ".gpucloudfs", NODE_CTLDIR, NULL);
	struct node_info ni;

	assert_int_equal(inodes_pin(t, INODE_ROOT, ".gpucloudfs", NODE_CTLDIR, NULL), a);
	inodes_forget(t, a, 1);
	assert_int_equal(inodes_get(t, a, &ni), 0);
}

static void test_inode_growth_keeps_lookups(void **state)
{
	struct inodes *t = *state;
	enum { N = 3000 };
	uint64_t *ino = calloc(N, sizeof(*ino));
	uint64_t kind = inodes_pin(t, INODE_ROOT, "tasks", NODE_KIND, NULL);
	struct node_info ni;
	char name[32];

	assert_non_null(ino);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "train-%05d", i);
		ino[i] = inodes_ref(t, kind, name, NODE_ENTRY, NULL);
		assert_int_not_equal(ino[i], 0);
		for (int j = 0; j < i && i % 512 == 0; j += 97)
			assert_int_not_equal(ino[i], ino[j]);
	}
	assert_int_equal(inodes_count(t), N + 2);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "train-%05d", i);
		assert_int_equal(inodes_find(t, kind, name), ino[i]);
		assert_int_equal(inodes_get(t, ino[i], &ni), 0);
		assert_string_equal(ni.name, name);
		assert_int_equal(ni.parent, kind);
	}
	/* half of them go; the rest still resolve both ways */
	for (int i = 0; i < N; i += 2)
		inodes_forget(t, ino[i], 1);
	assert_int_equal(inodes_count(t), N / 2 + 2);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "train-%05d", i);
		assert_int_equal(inodes_find(t, kind, name), i % 2 ? ino[i] : 0);
		assert_int_equal(inodes_get(t, ino[i], &ni), i % 2 ? 0 : -ENOENT);
	}
	free(ino);
}

static void test_inode_parent_name_filled(void **state)
{
	struct inodes *t = *state;
	int coll;
	uint64_t kind = inodes_pin(t, INODE_ROOT, "tasks", NODE_KIND, &coll);
	uint64_t entry = inodes_ref(t, kind, "train-1", NODE_ENTRY, &coll);
	uint64_t file = inodes_ref(t, entry, "status", NODE_FILE, &coll);
	struct node_info ni;

	assert_int_equal(inodes_get(t, file, &ni), 0);
	assert_int_equal(ni.type, NODE_FILE);
	assert_string_equal(ni.name, "status");
	assert_int_equal(ni.parent, entry);
	assert_string_equal(ni.parent_name, "train-1");
	assert_ptr_equal(ni.owner, &coll);
	assert_int_equal(inodes_get(t, entry, &ni), 0);
	assert_string_equal(ni.parent_name, "tasks");
}

static void test_inode_longest_name_copied_whole(void **state)
{
	struct inodes *t = *state;
	char name[NAMES_MAX + 1];
	uint64_t a, f;
	struct node_info ni;

	memset(name, 'n', NAMES_MAX);
	name[NAMES_MAX] = '\0';
	a = inodes_ref(t, INODE_ROOT, name, NODE_ENTRY, NULL);
	f = inodes_ref(t, a, "info.json", NODE_FILE, NULL);
	assert_int_equal(inodes_get(t, f, &ni), 0);
	assert_string_equal(ni.parent_name, name);
	assert_int_equal(inodes_get(t, a, &ni), 0);
	assert_string_equal(ni.name, name);
}

static void test_inode_content_kept_whole(void **state)
{
	struct inodes *t = *state;
	uint64_t d = inodes_pin(t, INODE_ROOT, ".gpucloudfs", NODE_CTLDIR, NULL);
	uint64_t f = inodes_pin(t, d, "errors", NODE_CTLFILE, NULL);
	uint64_t plain = inodes_ref(t, INODE_ROOT, "status", NODE_FILE, NULL);
	char out[16];
	size_t len;
	uint64_t h;

	/* no content yet: empty, hash 0, reads nothing */
	inodes_content_stat(t, f, &len, &h);
	assert_int_equal(len, 0);
	assert_int_equal(h, 0);
	assert_int_equal(inodes_read_content(t, f, 0, sizeof(out), out), 0);
	/* set: length, FNV-1a of the bytes, reads from any offset */
	assert_int_equal(inodes_set_content(t, f, "hello world", 11), 0);
	inodes_content_stat(t, f, &len, &h);
	assert_int_equal(len, 11);
	assert_int_equal(h, 0xe1d7a701437f78f9ull);
	assert_int_equal(inodes_read_content(t, f, 0, sizeof(out), out), 11);
	assert_memory_equal(out, "hello world", 11);
	assert_int_equal(inodes_read_content(t, f, 6, 3, out), 3);
	assert_memory_equal(out, "wor", 3);
	assert_int_equal(inodes_read_content(t, f, 11, sizeof(out), out), 0);
	assert_int_equal(inodes_read_content(t, f, 99, sizeof(out), out), 0);
	assert_int_equal(inodes_read_content(t, f, -1, sizeof(out), out), 0);
	/* replaced whole, shorter */
	assert_int_equal(inodes_set_content(t, f, "ok", 2), 0);
	inodes_content_stat(t, f, &len, &h);
	assert_int_equal(len, 2);
	assert_int_equal(inodes_read_content(t, f, 0, sizeof(out), out), 2);
	assert_memory_equal(out, "ok", 2);
	/* empty content: length 0, hash of no bytes (the FNV offset basis) */
	assert_int_equal(inodes_set_content(t, f, "", 0), 0);
	inodes_content_stat(t, f, &len, &h);
	assert_int_equal(len, 0);
	assert_int_equal(h, 1469598103934665603ull);
	/* other nodes have none; unknown numbers are -ENOENT */
	inodes_content_stat(t, plain, &len, &h);
	assert_int_equal(len, 0);
	assert_int_equal(h, 0);
	assert_int_equal(inodes_set_content(t, 999999, "x", 1), -ENOENT);
	assert_int_equal(inodes_read_content(t, 999999, 0, 1, out), -ENOENT);
	inodes_content_stat(t, 999999, &len, &h);
	assert_int_equal(len, 0);
	assert_int_equal(h, 0);
	/* content and hashes are separate; a forgotten node takes its content */
	assert_int_equal(inodes_set_content(t, plain, "abc", 3), 0);
	inodes_content_stat(t, plain, &len, &h);
	assert_int_equal(len, 3);
	inodes_forget(t, plain, 1);
	assert_int_equal(inodes_read_content(t, plain, 0, 1, out), -ENOENT);
}

/* ---- FILE nodes: one per version of the bytes ------------------------- */

/* A snapshot fetched at fetched_ns with object "obj" (mtime) holding one
 * file "status" of bytes data, in its arena (freed with it). One reference. */
static struct snapshot *snap1(const char *data, uint64_t fetched_ns, time_t mtime)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	struct file *f;

	assert_non_null(s);
	atomic_init(&s->refs, 1);
	pthread_mutex_init(&s->jsonl_mu, NULL);
	s->fetched_ns = fetched_ns;
	s->nentries = 1;
	s->entries = calloc(1, sizeof(*s->entries));
	f = arena_alloc(&s->arena, sizeof(*f));
	assert_non_null(s->entries);
	assert_non_null(f);
	f->name = "status";
	f->size = strlen(data);
	f->data = arena_memdup(&s->arena, data, f->size);
	assert_non_null(f->data);
	f->hash = gcf_fnv1a(GCF_FNV1A_BASIS, data, f->size);
	s->entries[0] = (struct entry){.name = "obj", .mtime = mtime, .nfiles = 1, .files = f};
	return s;
}

static const struct file *file_of(const struct snapshot *s)
{
	return &s->entries[0].files[0];
}

static unsigned refs(struct snapshot *s)
{
	return atomic_load(&s->refs);
}

/* Reads all of ino's bytes into out (NUL-ended); returns the count. */
static size_t read_all(struct inodes *t, uint64_t ino, char *out, size_t cap)
{
	struct snapshot *hold;
	const char *p;
	char *owned;
	size_t len;

	assert_int_equal(inodes_file_read(t, ino, 0, cap - 1, &hold, &owned, &p, &len), 0);
	memcpy(out, p, len);
	out[len] = '\0';
	snapshot_put(hold);
	free(owned);
	return len;
}

/* Each version of a control file's bytes is a node of its own: an open
 * (a lookup) never changes the bytes another open reads. */
static void test_inode_content_versions(void **state)
{
	struct inodes *t = *state;
	uint64_t d = inodes_pin(t, INODE_ROOT, ".gpucloudfs", NODE_CTLDIR, NULL);
	uint64_t pinned = inodes_pin(t, d, "stats.json", NODE_CTLFILE, NULL);
	uint64_t a, b, c;
	size_t n0 = inodes_count(t);
	char out[16];

	/* the pinned node takes the first bytes */
	a = inodes_ref_content(t, d, "stats.json", NODE_CTLFILE, NULL, "one", 3);
	assert_int_equal(a, pinned);
	/* the same bytes again: the same node */
	assert_int_equal(inodes_ref_content(t, d, "stats.json", NODE_CTLFILE, NULL, "one", 3), a);
	/* other bytes: a new node with the name; the old keeps its bytes */
	b = inodes_ref_content(t, d, "stats.json", NODE_CTLFILE, NULL, "second", 6);
	assert_true(b > a);
	assert_int_equal(inodes_find(t, d, "stats.json"), b);
	assert_int_equal(inodes_read_content(t, a, 0, sizeof(out), out), 3);
	assert_memory_equal(out, "one", 3);
	assert_int_equal(inodes_read_content(t, b, 0, sizeof(out), out), 6);
	assert_memory_equal(out, "second", 6);
	/* a third version while b is still held; b is freed once forgotten */
	c = inodes_ref_content(t, d, "stats.json", NODE_CTLFILE, NULL, "3", 1);
	assert_true(c > b);
	assert_int_equal(inodes_count(t), n0 + 2);
	inodes_forget(t, b, 1);
	assert_int_equal(inodes_count(t), n0 + 1);
	assert_int_equal(inodes_read_content(t, b, 0, sizeof(out), out), -ENOENT);
	/* the named version is freed when forgotten; the next is a new number */
	inodes_forget(t, c, 1);
	assert_int_equal(inodes_count(t), n0);
	assert_true(inodes_ref_content(t, d, "stats.json", NODE_CTLFILE, NULL, "4", 1) > c);
	assert_int_equal(inodes_count(t), n0 + 1);
	/* the pinned first node stays, with its bytes */
	inodes_forget(t, a, 2);
	assert_int_equal(inodes_read_content(t, a, 0, sizeof(out), out), 3);
}

static void test_inode_file_same_bytes_keep_their_node(void **state)
{
	struct inodes *t = *state;
	struct snapshot *s1 = snap1("RUNNING\n", 100, 5), *s2 = snap1("RUNNING\n", 200, 6);
	struct inode_file v;
	uint64_t a, b;

	a = inodes_ref_file(t, INODE_ROOT, "status", NODE_FILE, NULL, s1, file_of(s1), 5);
	assert_int_not_equal(a, 0);
	assert_int_equal(refs(s1), 2); /* the node holds it */
	b = inodes_ref_file(t, INODE_ROOT, "status", NODE_FILE, NULL, s2, file_of(s2), 6);
	assert_int_equal(a, b);        /* same bytes, same number (tar, rsync) */
	assert_int_equal(refs(s1), 1); /* moved on to the newer snapshot */
	assert_int_equal(refs(s2), 2);
	/* an older snapshot's reply does not move it back */
	assert_int_equal(
	    inodes_ref_file(t, INODE_ROOT, "status", NODE_FILE, NULL, s1, file_of(s1), 5), a);
	assert_int_equal(refs(s1), 1);
	assert_int_equal(inodes_file_attr(t, a, s2, file_of(s2), 6, &v), 0);
	assert_int_equal(v.size, 8);
	assert_int_equal(v.mtime, 6);
	inodes_forget(t, a, 3);
	assert_int_equal(refs(s2), 1); /* a forgotten node lets its snapshot go */
	snapshot_put(s1);
	snapshot_put(s2);
}

static void test_inode_file_new_bytes_new_node(void **state)
{
	struct inodes *t = *state;
	struct snapshot *s1 = snap1("RUNNING\n", 100, 5), *s2 = snap1("SUBMIT_FAILED\n", 200, 6);
	struct inode_file v;
	char out[64];
	uint64_t a, b;

	a = inodes_ref_file(t, INODE_ROOT, "status", NODE_FILE, NULL, s1, file_of(s1), 5);
	b = inodes_ref_file(t, INODE_ROOT, "status", NODE_FILE, NULL, s2, file_of(s2), 6);
	assert_int_not_equal(a, 0);
	assert_int_not_equal(b, 0);
	assert_int_not_equal(a, b);
	assert_int_equal(inodes_find(t, INODE_ROOT, "status"), b); /* the name leads to b */
	/* a keeps its own size and bytes whatever the latest snapshot says */
	assert_int_equal(inodes_file_attr(t, a, s2, file_of(s2), 6, &v), 0);
	assert_int_equal(v.size, 8);
	assert_int_equal(v.mtime, 5);
	assert_int_equal(read_all(t, a, out, sizeof(out)), 8);
	assert_string_equal(out, "RUNNING\n");
	assert_int_equal(inodes_file_attr(t, b, s2, file_of(s2), 6, &v), 0);
	assert_int_equal(v.size, 14);
	assert_int_equal(read_all(t, b, out, sizeof(out)), 14);
	assert_string_equal(out, "SUBMIT_FAILED\n");
	/* same size, other bytes: still another node */
	{
		struct snapshot *s3 = snap1("SUBMIT_FAILEX\n", 300, 7);
		uint64_t c =
		    inodes_ref_file(t, INODE_ROOT, "status", NODE_FILE, NULL, s3, file_of(s3), 7);

		assert_int_not_equal(c, b);
		inodes_forget(t, c, 1);
		snapshot_put(s3);
	}
	inodes_forget(t, a, 1);
	assert_int_equal(refs(s1), 1);
	assert_int_equal(inodes_file_attr(t, a, s2, file_of(s2), 6, &v), -ENOENT);
	inodes_forget(t, b, 1);
	snapshot_put(s1);
	snapshot_put(s2);
}

static void test_inode_file_older_reply_gets_no_name(void **state)
{
	struct inodes *t = *state;
	struct snapshot *s1 = snap1("RUNNING\n", 100, 5), *s2 = snap1("SUBMIT_FAILED\n", 200, 6);
	uint64_t a, b;
	size_t unnamed, copies, bytes;

	b = inodes_ref_file(t, INODE_ROOT, "status", NODE_FILE, NULL, s2, file_of(s2), 6);
	/* a lookup computed from the snapshot before: a node of its own */
	a = inodes_ref_file(t, INODE_ROOT, "status", NODE_FILE, NULL, s1, file_of(s1), 5);
	assert_int_not_equal(a, b);
	assert_int_equal(inodes_find(t, INODE_ROOT, "status"), b);
	inodes_file_stats(t, &unnamed, &copies, &bytes);
	assert_int_equal(unnamed, 1);
	assert_int_equal(copies, 0);
	inodes_forget(t, a, 1);
	inodes_forget(t, b, 1);
	assert_int_equal(inodes_count(t), 1);
	snapshot_put(s1);
	snapshot_put(s2);
}

static void test_inode_file_detach_keeps_bytes_not_snapshot(void **state)
{
	struct inodes *t = *state;
	struct snapshot *s1 = snap1("RUNNING\n", 100, 5), *s2 = snap1("SUBMIT_FAILED\n", 200, 6);
	struct inode_file v;
	char out[64];
	size_t unnamed, copies, bytes;
	uint64_t a, b;

	a = inodes_ref_file(t, INODE_ROOT, "status", NODE_FILE, NULL, s1, file_of(s1), 5);
	/* a refresh changed the bytes: the node copies its own, lets s1 go */
	assert_int_equal(inodes_file_detach(t, a), 0);
	assert_int_equal(refs(s1), 1);
	snapshot_put(s1); /* freed: the node must not borrow from it any more */
	assert_int_equal(inodes_find(t, INODE_ROOT, "status"), 0);
	assert_int_equal(read_all(t, a, out, sizeof(out)), 8);
	assert_string_equal(out, "RUNNING\n");
	assert_int_equal(inodes_file_attr(t, a, s2, file_of(s2), 6, &v), 0);
	assert_int_equal(v.size, 8);
	inodes_file_stats(t, &unnamed, &copies, &bytes);
	assert_int_equal(unnamed, 1);
	assert_int_equal(copies, 1);
	assert_int_equal(bytes, 8);
	/* partial reads of the copy */
	{
		struct snapshot *hold;
		const char *p;
		char *owned;
		size_t len;

		assert_int_equal(inodes_file_read(t, a, 3, 2, &hold, &owned, &p, &len), 0);
		assert_int_equal(len, 2);
		assert_memory_equal(p, "NI", 2);
		assert_null(hold);
		free(owned);
		assert_int_equal(inodes_file_read(t, a, 8, 2, &hold, &owned, &p, &len), 0);
		assert_int_equal(len, 0);
	}
	b = inodes_ref_file(t, INODE_ROOT, "status", NODE_FILE, NULL, s2, file_of(s2), 6);
	assert_int_not_equal(a, b);
	inodes_forget(t, a, 1); /* the copy goes with the node */
	inodes_file_stats(t, &unnamed, &copies, &bytes);
	assert_int_equal(unnamed, 0);
	assert_int_equal(copies, 0);
	inodes_forget(t, b, 1);
	snapshot_put(s2);
}

static void test_inode_file_carry_moves_to_fresh(void **state)
{
	struct inodes *t = *state;
	struct snapshot *s1 = snap1("RUNNING\n", 100, 5), *s2 = snap1("RUNNING\n", 200, 9);
	struct inode_file v;
	uint64_t a = inodes_ref_file(t, INODE_ROOT, "status", NODE_FILE, NULL, s1, file_of(s1), 5);

	inodes_file_carry(t, INODE_ROOT, "status", s2, file_of(s2), 9);
	assert_int_equal(refs(s1), 1);
	assert_int_equal(refs(s2), 2);
	assert_int_equal(inodes_file_attr(t, a, NULL, NULL, 0, &v), 0);
	assert_int_equal(v.mtime, 9);
	/* nothing for a name without a node, or for a plain node */
	inodes_file_carry(t, INODE_ROOT, "other", s2, file_of(s2), 9);
	assert_int_equal(inodes_file_detach(t, 999999), -ENOENT);
	inodes_forget(t, a, 1);
	snapshot_put(s1);
	snapshot_put(s2);
}

/* ---- the cap on nodes (inodes_set_cap) ---------------------------------- */

/* What the cap asked the kernel to drop, in order. */
struct drops {
	size_t n;
	uint64_t parent[4096];
	char name[4096][16];
	bool fail; /* the notifier refuses (not running, no memory) */
};

static int record_drop(void *arg, uint64_t parent, const char *name)
{
	struct drops *d = arg;

	if (d->fail)
		return -EAGAIN;
	assert_true(d->n < 4096);
	d->parent[d->n] = parent;
	snprintf(d->name[d->n], sizeof(d->name[0]), "%s", name);
	d->n++;
	return 0;
}

/* The kernel drops every name asked for since drop `from` (none open):
 * it forgets every lookup of each. */
static void kernel_drops(struct inodes *t, struct drops *d, size_t from)
{
	for (size_t i = from; i < d->n; i++) {
		uint64_t ino = inodes_find(t, d->parent[i], d->name[i]);

		if (ino)
			inodes_forget(t, ino, UINT64_MAX);
	}
}

/* Object directory "o<i>" under parent with files f0..f<nfiles-1>, as a
 * lookup of each makes them; returns the directory's number. */
static uint64_t object(struct inodes *t, uint64_t parent, int i, int nfiles)
{
	char name[16];
	uint64_t e;

	snprintf(name, sizeof(name), "o%d", i);
	e = inodes_ref(t, parent, name, NODE_ENTRY, NULL);
	assert_true(e != 0);
	for (int k = 0; k < nfiles; k++) {
		snprintf(name, sizeof(name), "f%d", k);
		assert_true(inodes_ref(t, e, name, NODE_FILE, NULL) != 0);
	}
	return e;
}

static void test_inode_cap_drops_files_of_least_recent(void **state)
{
	struct inodes *t = *state;
	struct drops *d = calloc(1, sizeof(*d));
	struct inodes_cap_stats st;
	uint64_t kind = inodes_pin(t, INODE_ROOT, "tasks", NODE_KIND, NULL), e[10];

	assert_non_null(d);
	inodes_set_cap(t, 50, record_drop, d);
	for (int i = 0; i < 10; i++)
		e[i] = object(t, kind, i, 9); /* 10 nodes each */
	/* Above 50: the oldest directories' files were asked for, by name
	 * under their directory, never a directory itself. */
	assert_true(d->n > 0);
	assert_int_equal(d->parent[0], e[0]);
	for (size_t i = 0; i < d->n; i++) {
		assert_true(d->parent[i] != kind);
		assert_int_equal(d->name[i][0], 'f');
	}
	for (size_t i = 0; i < 9; i++)
		assert_int_equal(d->parent[i], e[0]);
	inodes_cap_stats(t, &st);
	assert_true(st.evictions >= 1);
	assert_int_equal(st.evicted_names, d->n);
	/* Not counting what was asked for, the table is within the cap. */
	assert_true(st.nodes - st.pending <= 50);
	assert_int_equal(st.nodes, inodes_count(t));
	kernel_drops(t, d, 0);
	inodes_cap_stats(t, &st);
	assert_int_equal(st.pending, 0);
	assert_true(st.nodes <= 50);
	assert_int_equal(st.peak, 102); /* the kernel forgot nothing meanwhile */
	/* With a kernel that keeps up, the count stays within the cap and one
	 * directory. */
	for (int i = 10; i < 30; i++) {
		size_t from = d->n;

		e[9] = object(t, kind, i, 9);
		assert_true(inodes_count(t) <= 50 + 10);
		kernel_drops(t, d, from);
		assert_true(inodes_count(t) <= 50);
	}
	/* The directories stay: every one is still found by name. */
	for (int i = 0; i < 9; i++) {
		char name[16];

		snprintf(name, sizeof(name), "o%d", i);
		assert_int_equal(inodes_find(t, kind, name), e[i]);
	}
	/* The most recent directory (o29) kept its files. */
	assert_true(inodes_find(t, e[9], "f8") != 0);
	free(d);
}

static void test_inode_cap_use_keeps_a_directory(void **state)
{
	struct inodes *t = *state;
	struct drops *d = calloc(1, sizeof(*d));
	uint64_t kind = inodes_pin(t, INODE_ROOT, "tasks", NODE_KIND, NULL), e0, e1, f;
	struct node_info ni;

	assert_non_null(d);
	inodes_set_cap(t, 35, record_drop, d);
	e0 = object(t, kind, 0, 9);
	e1 = object(t, kind, 1, 9);
	object(t, kind, 2, 9);
	assert_int_equal(d->n, 0);
	/* A getattr of one of o0's files uses o0: o1 is now the least recent. */
	f = inodes_find(t, e0, "f3");
	assert_int_equal(inodes_get(t, f, &ni), 0);
	object(t, kind, 3, 9);
	assert_true(d->n > 0);
	for (size_t i = 0; i < d->n; i++)
		assert_int_equal(d->parent[i], e1);
	assert_true(inodes_find(t, e0, "f3") == f);
	free(d);
}

static void test_inode_cap_open_file_stays(void **state)
{
	struct inodes *t = *state;
	struct drops *d = calloc(1, sizeof(*d));
	uint64_t kind = inodes_pin(t, INODE_ROOT, "tasks", NODE_KIND, NULL), e0, open;
	struct inodes_cap_stats st;
	struct node_info ni;

	assert_non_null(d);
	inodes_set_cap(t, 25, record_drop, d);
	e0 = object(t, kind, 0, 9);
	open = inodes_find(t, e0, "f4");
	object(t, kind, 1, 9);
	object(t, kind, 2, 9);
	assert_true(d->n >= 9);
	/* The kernel drops every name of o0 but f4, which a process holds open. */
	for (size_t i = 0; i < d->n; i++) {
		uint64_t ino = inodes_find(t, d->parent[i], d->name[i]);

		if (ino && ino != open)
			inodes_forget(t, ino, 1);
	}
	inodes_cap_stats(t, &st);
	assert_int_equal(st.pending, 1); /* f4, asked for, not forgotten */
	/* It still reads by number, and its name still leads to it. */
	assert_int_equal(inodes_get(t, open, &ni), 0);
	assert_string_equal(ni.name, "f4");
	assert_string_equal(ni.parent_name, "o0");
	/* That use put o0 back in order, no longer counted as asked for. */
	inodes_cap_stats(t, &st);
	assert_int_equal(st.pending, 0);
	inodes_forget(t, open, 1);
	assert_int_equal(inodes_get(t, open, &ni), -ENOENT);
	assert_int_equal(inodes_find(t, e0, "f4"), 0);
	free(d);
}

static void test_inode_cap_directory_forgotten_first(void **state)
{
	struct inodes *t = *state;
	struct drops *d = calloc(1, sizeof(*d));
	uint64_t kind = inodes_pin(t, INODE_ROOT, "tasks", NODE_KIND, NULL), e0, f, e0b;
	size_t before = inodes_count(t);
	struct inodes_cap_stats st;
	struct node_info ni;

	assert_non_null(d);
	inodes_set_cap(t, 1000, record_drop, d);
	e0 = object(t, kind, 0, 3);
	f = inodes_find(t, e0, "f1");
	/* Forgets come in any order: the directory goes first. */
	inodes_forget(t, e0, 1);
	assert_int_equal(inodes_get(t, e0, &ni), -ENOENT);
	assert_int_equal(inodes_get(t, f, &ni), 0); /* still served by number */
	assert_int_equal(inodes_find(t, e0, "f1"), 0);
	/* A new lookup of the name: a new directory, with files of its own. */
	e0b = object(t, kind, 0, 3);
	assert_true(e0b > e0);
	assert_true(inodes_find(t, e0b, "f1") > f);
	inodes_forget(t, f, 1);
	inodes_forget(t, inodes_find(t, e0b, "f0"), 1);
	inodes_forget(t, inodes_find(t, e0b, "f1"), 1);
	inodes_forget(t, inodes_find(t, e0b, "f2"), 1);
	inodes_forget(t, e0b, 1);
	inodes_forget(t, f - 1, 1); /* o0's f0 and f2, numbered around f1 */
	inodes_forget(t, f + 1, 1);
	assert_int_equal(inodes_count(t), before);
	inodes_cap_stats(t, &st);
	assert_int_equal(st.pending, 0);
	assert_int_equal(d->n, 0);
	free(d);
}

static void test_inode_cap_off_or_refused(void **state)
{
	struct inodes *t = *state;
	struct drops *d = calloc(1, sizeof(*d));
	uint64_t kind = inodes_pin(t, INODE_ROOT, "tasks", NODE_KIND, NULL);
	struct inodes_cap_stats st;

	assert_non_null(d);
	/* No cap: nothing is ever asked. */
	inodes_set_cap(t, 0, record_drop, d);
	for (int i = 0; i < 10; i++)
		object(t, kind, i, 9);
	assert_int_equal(d->n, 0);
	/* A notifier that cannot take it: nothing counted as asked for... */
	d->fail = true;
	inodes_set_cap(t, 50, record_drop, d);
	object(t, kind, 10, 9);
	inodes_cap_stats(t, &st);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.pending, 0);
	/* ...and asked on a later growth once it can. */
	d->fail = false;
	object(t, kind, 11, 9);
	assert_true(d->n > 0);
	inodes_cap_stats(t, &st);
	assert_true(st.evictions > 0);
	assert_int_equal(st.max_nodes, 50);
	free(d);
}

/* A directory whose only file is a superseded version (no name) has
 * nothing to ask for: the cap moves on to the next one. */
static void test_inode_cap_skips_unnamed_files(void **state)
{
	struct inodes *t = *state;
	struct drops *d = calloc(1, sizeof(*d));
	struct snapshot *s = snap1("RUNNING\n", 100, 5);
	uint64_t kind = inodes_pin(t, INODE_ROOT, "tasks", NODE_KIND, NULL), e0, e1, old;

	assert_non_null(d);
	inodes_set_cap(t, 30, record_drop, d);
	e0 = inodes_ref(t, kind, "obj", NODE_ENTRY, NULL);
	old = inodes_ref_file(t, e0, "status", NODE_FILE, NULL, s, file_of(s), 5);
	assert_int_equal(inodes_file_detach(t, old), 0);
	e1 = object(t, kind, 1, 9);
	object(t, kind, 2, 9);
	object(t, kind, 3, 9);
	assert_true(d->n > 0);
	for (size_t i = 0; i < d->n; i++)
		assert_true(d->parent[i] != e0);
	assert_int_equal(d->parent[0], e1);
	inodes_forget(t, old, 1);
	snapshot_put(s);
	free(d);
}

/* Many directories, files looked up and forgotten in random order with a
 * small cap: the counts stay consistent and nothing leaks (ASan). */
static void test_inode_cap_churn(void **state)
{
	struct inodes *t = *state;
	struct drops *d = calloc(1, sizeof(*d));
	uint64_t kind = inodes_pin(t, INODE_ROOT, "tasks", NODE_KIND, NULL);
	struct inodes_cap_stats st;
	unsigned seed = 7;

	assert_non_null(d);
	inodes_set_cap(t, 200, record_drop, d);
	for (int round = 0; round < 200; round++) {
		int i = (int)(rand_r(&seed) % 60);
		size_t from = d->n;

		object(t, kind, i, 1 + (int)(rand_r(&seed) % 12));
		if (rand_r(&seed) % 3 == 0) { /* the kernel catches up */
			kernel_drops(t, d, 0);
			d->n = 0;
		} else if (d->n > 3000) {
			kernel_drops(t, d, from);
			d->n = from;
		}
	}
	kernel_drops(t, d, 0);
	inodes_cap_stats(t, &st);
	assert_int_equal(st.pending, 0);
	assert_true(st.nodes <= 200 + 60);
	assert_int_equal(st.nodes, inodes_count(t));
	free(d);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_inode_root_is_one),
	    T(test_inode_ref_twice_same_ino),
	    T(test_inode_forget_counts_lookups),
	    T(test_inode_forget_many_at_once),
	    T(test_inode_numbers_never_reused),
	    T(test_inode_pinned_survive_forget),
	    T(test_inode_pin_existing_node),
	    T(test_inode_growth_keeps_lookups),
	    T(test_inode_parent_name_filled),
	    T(test_inode_longest_name_copied_whole),
	    T(test_inode_content_kept_whole),
	    T(test_inode_content_versions),
	    T(test_inode_file_same_bytes_keep_their_node),
	    T(test_inode_file_new_bytes_new_node),
	    T(test_inode_file_older_reply_gets_no_name),
	    T(test_inode_file_detach_keeps_bytes_not_snapshot),
	    T(test_inode_file_carry_moves_to_fresh),
	    T(test_inode_cap_drops_files_of_least_recent),
	    T(test_inode_cap_use_keeps_a_directory),
	    T(test_inode_cap_open_file_stays),
	    T(test_inode_cap_directory_forgotten_first),
	    T(test_inode_cap_off_or_refused),
	    T(test_inode_cap_skips_unnamed_files),
	    T(test_inode_cap_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
