/*
 * test_inode.c - fs/inode.c, the inode table of the low-level FUSE API:
 * the root is inode 1; a lookup of the same parent/name gives the same
 * number and counts a reference; forgetting the last reference frees the
 * node, and its number is never given out again; pinned nodes outlive
 * every forget; the table keeps working as it grows; callers get copies
 * that carry the parent's name.
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

static void test_inode_content_hash_swap(void **state)
{
	struct inodes *t = *state;
	uint64_t f = inodes_ref(t, INODE_ROOT, "status", NODE_FILE, NULL);
	struct node_info ni;

	assert_int_equal(inodes_swap_hash(t, f, 0x1111), 0);
	assert_int_equal(inodes_swap_hash(t, f, 0x2222), 0x1111);
	assert_int_equal(inodes_get(t, f, &ni), 0);
	assert_int_equal(ni.content_hash, 0x2222);
	assert_int_equal(inodes_swap_hash(t, 999999, 1), 0); /* unknown: nothing */
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
	inodes_note_hash(t, plain, 0x42, 100);
	inodes_note_hash(t, plain, 0x41, 99); /* older: ignored */
	assert_int_equal(inodes_swap_hash(t, plain, 0x43), 0x42);
	inodes_content_stat(t, plain, &len, &h);
	assert_int_equal(len, 3);
	inodes_forget(t, plain, 1);
	assert_int_equal(inodes_read_content(t, plain, 0, 1, out), -ENOENT);
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
	    T(test_inode_content_hash_swap),
	    T(test_inode_longest_name_copied_whole),
	    T(test_inode_content_kept_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
