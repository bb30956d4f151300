/*
 * test_diff.c - fs/diff.c, the invalidations a new snapshot sends the
 * kernel: a first snapshot names every entry and the listing; an identical
 * one sends nothing; changed bytes drop only that file's node; an object or
 * file that came or went drops its name (and, for objects, the listing);
 * nodes the kernel never looked up are not told.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diff.h"

#define DIR_NAME "tasks"

struct rec {
	char log[4096]; /* "i<ino> " and "e<parent>/<name> ", in order */
	struct inodes t;
	uint64_t dir;
};

static void rec_inode(void *arg, uint64_t ino)
{
	struct rec *r = arg;
	size_t n = strlen(r->log);

	snprintf(r->log + n, sizeof(r->log) - n, "i%llu ", (unsigned long long)ino);
}

static void rec_entry(void *arg, uint64_t parent, const char *name)
{
	struct rec *r = arg;
	size_t n = strlen(r->log);

	snprintf(r->log + n, sizeof(r->log) - n, "e%llu/%s ", (unsigned long long)parent, name);
}

static int setup(void **state)
{
	struct rec *r = calloc(1, sizeof(*r));

	if (!r || inodes_init(&r->t))
		return -1;
	r->dir = inodes_pin(&r->t, INODE_ROOT, DIR_NAME, NODE_KIND, NULL);
	*state = r;
	return r->dir ? 0 : -1;
}

static int teardown(void **state)
{
	struct rec *r = *state;

	inodes_release(&r->t);
	free(r);
	return 0;
}

/* Runs the diff from old to fresh and returns what was told. */
static const char *diff(struct rec *r, const struct snapshot *old, const struct snapshot *fresh)
{
	struct diff_sink sink = {rec_inode, rec_entry, r};

	r->log[0] = '\0';
	diff_notify(&r->t, r->dir, old, fresh, &sink);
	return r->log;
}

/* Snapshots are built on the stack: entries and files sorted by name. */
#define FILES(...)  ((struct file[]){__VA_ARGS__})
#define NFILES(...) (sizeof((struct file[]){__VA_ARGS__}) / sizeof(struct file))
#define ENTRY(nm, mt, ...)                                                                         \
	{                                                                                          \
		.name = nm, .mtime = mt, .nfiles = NFILES(__VA_ARGS__),                            \
		.files = FILES(__VA_ARGS__)                                                        \
	}
#define SNAP(...)                                                                                  \
	{                                                                                          \
		.nentries = sizeof((struct entry[]){__VA_ARGS__}) / sizeof(struct entry),          \
		.entries = (struct entry[])                                                        \
		{                                                                                  \
			__VA_ARGS__                                                                \
		}                                                                                  \
	}

static void test_diff_first_snapshot_names_everything(void **state)
{
	struct rec *r = *state;
	struct snapshot s =
	    SNAP(ENTRY("a", 1, {.name = "status", .data = "x", .size = 1, .hash = 11}),
		 ENTRY("b", 1, {.name = "status", .data = "y", .size = 1, .hash = 12}));
	char want[128];

	snprintf(want, sizeof(want), "e%llu/a e%llu/b i%llu ", (unsigned long long)r->dir,
		 (unsigned long long)r->dir, (unsigned long long)r->dir);
	assert_string_equal(diff(r, NULL, &s), want);
}

static void test_diff_identical_sends_nothing(void **state)
{
	struct rec *r = *state;
	struct snapshot o = SNAP(ENTRY("a", 1, {.name = "name", .data = "n", .size = 1, .hash = 5},
				       {.name = "status", .data = "x", .size = 1, .hash = 11}));
	struct snapshot n = SNAP(ENTRY("a", 1, {.name = "name", .data = "n", .size = 1, .hash = 5},
				       {.name = "status", .data = "x", .size = 1, .hash = 11}));

	inodes_ref(&r->t, r->dir, "a", NODE_ENTRY, NULL);
	assert_string_equal(diff(r, &o, &n), "");
}

static void test_diff_changed_bytes_drop_that_file(void **state)
{
	struct rec *r = *state;
	struct snapshot o = SNAP(ENTRY("a", 1, {.name = "name", .data = "n", .size = 1, .hash = 5},
				       {.name = "status", .data = "x", .size = 1, .hash = 11}));
	struct snapshot n = SNAP(ENTRY("a", 1, {.name = "name", .data = "n", .size = 1, .hash = 5},
				       {.name = "status", .data = "yy", .size = 2, .hash = 13}));
	uint64_t ea = inodes_ref(&r->t, r->dir, "a", NODE_ENTRY, NULL);
	uint64_t fs = inodes_ref(&r->t, ea, "status", NODE_FILE, NULL);
	char want[64];

	inodes_ref(&r->t, ea, "name", NODE_FILE, NULL);
	(void)fs; /* its node keeps its bytes (inode.h): the kernel drops the name */
	snprintf(want, sizeof(want), "e%llu/status ", (unsigned long long)ea);
	assert_string_equal(diff(r, &o, &n), want);
	/* same size, other bytes: the hash tells (the name, given up by the
	 * node above, was looked up again) */
	n.entries[0].files[1] = (struct file){.name = "status", .data = "z", .size = 1, .hash = 14};
	inodes_ref(&r->t, ea, "status", NODE_FILE, NULL);
	assert_string_equal(diff(r, &o, &n), want);
}

static void test_diff_object_gone_and_came(void **state)
{
	struct rec *r = *state;
	struct snapshot o =
	    SNAP(ENTRY("a", 1, {.name = "status", .data = "x", .size = 1, .hash = 11}),
		 ENTRY("b", 1, {.name = "status", .data = "x", .size = 1, .hash = 11}));
	struct snapshot n =
	    SNAP(ENTRY("b", 1, {.name = "status", .data = "x", .size = 1, .hash = 11}),
		 ENTRY("c", 1, {.name = "status", .data = "x", .size = 1, .hash = 11}));
	unsigned long long d = r->dir;
	char want[128];

	/* a was never looked up: only the names that came, and the listing */
	snprintf(want, sizeof(want), "e%llu/c i%llu ", d, d);
	assert_string_equal(diff(r, &o, &n), want);
	inodes_ref(&r->t, r->dir, "a", NODE_ENTRY, NULL);
	snprintf(want, sizeof(want), "e%llu/a e%llu/c i%llu ", d, d, d);
	assert_string_equal(diff(r, &o, &n), want);
}

static void test_diff_files_that_came_and_went(void **state)
{
	struct rec *r = *state;
	struct snapshot o = SNAP(ENTRY("a", 1, {.name = "gone", .data = "g", .size = 1, .hash = 3},
				       {.name = "status", .data = "x", .size = 1, .hash = 11}));
	struct snapshot n = SNAP(ENTRY("a", 2, {.name = "new", .data = "w", .size = 1, .hash = 4},
				       {.name = "status", .data = "x", .size = 1, .hash = 11}));
	unsigned long long ea = inodes_ref(&r->t, r->dir, "a", NODE_ENTRY, NULL);
	unsigned long long fg = inodes_ref(&r->t, ea, "gone", NODE_FILE, NULL);
	char want[128];

	/* the object's attributes (mtime), the gone file's name, the new name */
	(void)fg;
	snprintf(want, sizeof(want), "i%llu e%llu/gone e%llu/new ", ea, ea, ea);
	assert_string_equal(diff(r, &o, &n), want);
}

static void test_diff_unseen_object_sends_nothing(void **state)
{
	struct rec *r = *state;
	struct snapshot o =
	    SNAP(ENTRY("a", 1, {.name = "status", .data = "x", .size = 1, .hash = 11}));
	struct snapshot n =
	    SNAP(ENTRY("a", 2, {.name = "status", .data = "yy", .size = 2, .hash = 12},
		       {.name = "zz", .data = "z", .size = 1, .hash = 9}));

	assert_string_equal(diff(r, &o, &n), "");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_diff_first_snapshot_names_everything), T(test_diff_identical_sends_nothing),
	    T(test_diff_changed_bytes_drop_that_file),    T(test_diff_object_gone_and_came),
	    T(test_diff_files_that_came_and_went),        T(test_diff_unseen_object_sends_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
