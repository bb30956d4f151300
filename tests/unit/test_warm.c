/*
 * test_warm.c - fs/warm.c with the daemon around it, over the fake cloud of
 * fake_provider.h: a listing is saved in the store (0700 directory, 0600
 * file) and seeds the next daemon, which answers at once from it, marked
 * stale, before the cloud is asked, with the same names and times; its
 * revalidation clears the mark and, the content being the same, does not
 * rewrite the file. Another endpoint never reads it; cache_dir = none keeps
 * nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "fake_provider.h"

struct fx {
	char dir[64];   /* the test's temporary directory */
	char store[96]; /* dir/store */
	struct fake_cloud fc;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	if (!x || fake_cloud_init(&x->fc, 120))
		return -1;
	strcpy(x->dir, "/tmp/gcf-test-warm.XXXXXX");
	if (!mkdtemp(x->dir))
		return -1;
	snprintf(x->store, sizeof(x->store), "%s/store", x->dir);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	if (system(cmd))
		return -1;
	fake_cloud_release(&x->fc);
	free(x);
	return 0;
}

/* A daemon with one fake connection at endpoint, its store at cache_dir. */
static void daemon_up(struct fx *x, struct daemon *d, const char *endpoint, const char *cache_dir)
{
	struct config cfg = {0};
	struct conn *c = fake_conn_new(&fake_provider, endpoint);
	struct gcf_error err = GCF_ERROR_INIT;

	assert_non_null(c);
	cfg.conns = calloc(1, sizeof(*cfg.conns));
	cfg.cache_dir = strdup(cache_dir);
	assert_true(cfg.conns && cfg.cache_dir);
	cfg.conns[0] = c;
	cfg.nconns = 1;
	assert_int_equal(daemon_init(d, &cfg, &err), 0);
	d->io_override = (struct fetch_io){.perform = fake_cloud_perform, .ctx = &x->fc};
}

static struct collection *things(struct daemon *d)
{
	return &d->conns[0].colls[0].col;
}

/* cache_get of things: its snapshot (one reference). */
static struct snapshot *get(struct daemon *d)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *s = NULL;

	assert_int_equal(cache_get(things(d), 0, &s, &err), 0);
	gcf_error_release(&err);
	return s;
}

static bool stale(struct daemon *d)
{
	bool st = false;

	cache_status(things(d), &st, NULL, NULL);
	return st;
}

/* The one *.snap file of the store into path (false when not exactly one). */
static bool snap_file(struct fx *x, char *path, size_t size)
{
	DIR *dir = opendir(x->store);
	struct dirent *de;
	int n = 0;

	if (!dir)
		return false;
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);

		if (len > 5 && !strcmp(de->d_name + len - 5, ".snap")) {
			snprintf(path, size, "%s/%s", x->store, de->d_name);
			n++;
		}
	}
	closedir(dir);
	return n == 1;
}

static void test_saved_then_seeded(void **state)
{
	struct fx *x = *state;
	struct daemon a, b;
	struct snapshot *first, *s;
	char path[256];
	struct stat st, st2;
	unsigned before;

	daemon_up(x, &a, "http://cloud.invalid", x->store);
	assert_int_equal(warm_start(&a), 0); /* the writer thread */
	first = get(&a);
	assert_int_equal(first->nentries, 120);
	daemon_release(&a); /* the writer has written it when it stops */

	assert_true(snap_file(x, path, sizeof(path)));
	assert_int_equal(stat(x->store, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	before = fake_cloud_requests(&x->fc);
	daemon_up(x, &b, "http://cloud.invalid", x->store);
	assert_int_equal(warm_start(&b), 0);
	/* seeded at init: there before anyone asked, and stale */
	s = cache_peek(things(&b));
	assert_non_null(s);
	assert_int_equal(s->nentries, 120);
	snapshot_put(s);
	assert_true(stale(&b));
	assert_int_equal(fake_cloud_requests(&x->fc), before);

	/* the first reader gets it (the same names and times) */
	s = get(&b);
	assert_int_equal(s->nentries, 120);
	for (size_t i = 0; i < s->nentries; i++) {
		assert_string_equal(s->entries[i].name, first->entries[i].name);
		assert_int_equal(s->entries[i].mtime, first->entries[i].mtime);
	}
	snapshot_put(s);

	/* its revalidation clears the mark (bounded poll: 10 s) */
	for (int i = 0; i < 1000 && stale(&b); i++)
		usleep(10000);
	assert_false(stale(&b));
	assert_true(fake_cloud_requests(&x->fc) > before);
	s = get(&b);
	assert_int_equal(s->nentries, 120);
	assert_int_equal(s->content_wall, first->content_wall);
	for (size_t i = 0; i < s->nentries; i++)
		assert_int_equal(s->entries[i].mtime, first->entries[i].mtime);
	snapshot_put(s);
	daemon_release(&b);

	/* the same content is not written again */
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st2.st_ino, st.st_ino);
	snapshot_put(first);
}

static void test_refresh_asked_is_waited_for(void **state)
{
	struct fx *x = *state;
	struct daemon a, b;
	unsigned before;

	daemon_up(x, &a, "http://cloud.invalid", x->store);
	snapshot_put(get(&a));
	daemon_release(&a); /* no writer thread: the release writes it */

	daemon_up(x, &b, "http://cloud.invalid", x->store);
	before = fake_cloud_requests(&x->fc);
	cache_invalidate(things(&b)); /* SIGHUP, .gpucloudfs/refresh */
	snapshot_put(get(&b));
	assert_true(fake_cloud_requests(&x->fc) > before);
	assert_false(stale(&b));
	daemon_release(&b);
}

static void test_other_endpoint_cold(void **state)
{
	struct fx *x = *state;
	struct daemon a, c;
	struct snapshot *s;

	daemon_up(x, &a, "http://cloud.invalid", x->store);
	snapshot_put(get(&a));
	daemon_release(&a);

	daemon_up(x, &c, "http://other.invalid", x->store);
	s = cache_peek(things(&c));
	assert_null(s);
	assert_false(stale(&c));
	daemon_release(&c);
}

static void test_none_keeps_nothing(void **state)
{
	struct fx *x = *state;
	struct daemon a;
	struct stat st;

	daemon_up(x, &a, "http://cloud.invalid", "none");
	snapshot_put(get(&a));
	daemon_release(&a);
	assert_int_equal(stat(x->store, &st), -1);
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_saved_then_seeded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refresh_asked_is_waited_for, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_endpoint_cold, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_none_keeps_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
