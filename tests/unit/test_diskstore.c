/*
 * test_diskstore.c - fs/diskstore.c: the cache directory is created 0700
 * (and refused when it is not private), files are 0600 and named by the key,
 * a save replaces the old file atomically (a failed save leaves it intact
 * and no temporary file behind), and a truncated, corrupted, wrong-version,
 * foreign-key, non-private or symlinked file is ignored with exactly one log
 * line and is a miss. The stored bytes hold no identity string in clear.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto.h"
#include "diskstore.h"
#include "log.h"
#include "snap_helpers.h"

struct fixture {
	char root[64];
	char dir[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->root, "/tmp/gcf-diskstore-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/a/b/gpucloudfs", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Runs fn(arg) with stderr going to a file; returns how many lines it got. */
static int log_lines(void (*fn)(void *), void *arg)
{
	FILE *tmp = tmpfile();
	int saved = dup(2), lines = 0, c;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fileno(tmp), 2), 2);
	fn(arg);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	rewind(tmp);
	while ((c = fgetc(tmp)) != EOF)
		lines += c == '\n';
	fclose(tmp);
	return lines;
}

static void write_file(const char *dir, const char *name, const void *p, size_t n, mode_t mode)
{
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* Names in dir that start with prefix. */
static int count_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

static void test_diskstore_dir_is_created_private(void **state)
{
	struct fixture *f = *state;
	struct diskstore ds;
	struct stat st;
	mode_t old = umask(0);

	assert_int_equal(diskstore_open(&ds, f->dir), 0);
	umask(old);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(st.st_uid, geteuid());
	assert_string_equal(ds.path, f->dir);
	diskstore_close(&ds);
	assert_int_equal(ds.dirfd, -1);
	/* opening it again is fine */
	assert_int_equal(diskstore_open(&ds, f->dir), 0);
	diskstore_close(&ds);
}

static void test_diskstore_default_dir(void **state)
{
	struct fixture *f = *state;
	char *xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char want[200], val[200];
	struct diskstore ds;

	snprintf(val, sizeof(val), "%s/xdg", f->root);
	setenv("XDG_CACHE_HOME", val, 1);
	assert_int_equal(diskstore_open(&ds, NULL), 0);
	snprintf(want, sizeof(want), "%s/xdg/gpucloudfs", f->root);
	assert_string_equal(ds.path, want);
	diskstore_close(&ds);

	setenv("XDG_CACHE_HOME", "relative/is/ignored", 1);
	snprintf(val, sizeof(val), "%s/home", f->root);
	setenv("HOME", val, 1);
	assert_int_equal(diskstore_open(&ds, NULL), 0);
	snprintf(want, sizeof(want), "%s/home/.cache/gpucloudfs", f->root);
	assert_string_equal(ds.path, want);
	diskstore_close(&ds);

	/* what config_load takes as cache_dir's default: the same path */
	{
		struct buf b = BUF_INIT(BUF_NOLIMIT);

		assert_int_equal(diskstore_default_dir(&b), 0);
		assert_string_equal(buf_str(&b), want);
		buf_release(&b);
		unsetenv("XDG_CACHE_HOME");
		setenv("HOME", "relative", 1);
		assert_int_equal(diskstore_default_dir(&b), -ENOENT);
		buf_release(&b);
	}

	if (xdg)
		setenv("XDG_CACHE_HOME", xdg, 1);
	else
		unsetenv("XDG_CACHE_HOME");
	if (home)
		setenv("HOME", home, 1);
	free(xdg);
	free(home);
}

struct open_call {
	const char *dir;
	int rc;
};

static void call_open(void *arg)
{
	struct open_call *c = arg;
	struct diskstore ds;

	c->rc = diskstore_open(&ds, c->dir);
	diskstore_close(&ds);
}

static void test_diskstore_refuses_a_shared_dir(void **state)
{
	struct fixture *f = *state;
	struct open_call c = {f->dir, 0};
	struct diskstore ds;
	char file[300];

	assert_int_equal(diskstore_open(&ds, f->dir), 0); /* creates it */
	diskstore_close(&ds);
	assert_int_equal(chmod(f->dir, 0750), 0);
	assert_int_equal(log_lines(call_open, &c), 1);
	assert_int_equal(c.rc, -EACCES);
	assert_int_equal(chmod(f->dir, 0703), 0);
	assert_int_equal(log_lines(call_open, &c), 1);
	assert_int_equal(c.rc, -EACCES);
	/* a file where the directory should be */
	snprintf(file, sizeof(file), "%s/plainfile", f->root);
	write_file(f->root, "plainfile", "x", 1, 0600);
	c.dir = file;
	assert_int_equal(log_lines(call_open, &c), 1);
	assert_true(c.rc < 0);
}

static void test_diskstore_save_load_private_file(void **state)
{
	struct fixture *f = *state;
	struct snapfile_meta m;
	struct diskstore ds;
	struct buf path = BUF_INIT(BUF_NOLIMIT);
	char hex[65], want[300];
	struct stat st;
	void *data;
	size_t len;
	mode_t old;

	snap_meta(&m, "AKIDtest");
	assert_int_equal(diskstore_open(&ds, f->dir), 0);
	assert_int_equal(diskstore_load(&ds, &m.key, &data, &len), -ENOENT);
	old = umask(0);
	assert_int_equal(diskstore_save(&ds, &m.key, "hello", 5), 0);
	umask(old);
	assert_int_equal(diskstore_path(&ds, &m.key, &path), 0);
	snapfile_key_hex(&m.key, hex);
	snprintf(want, sizeof(want), "%s/%s.snap", f->dir, hex);
	assert_string_equal(path.p, want);
	assert_int_equal(stat(path.p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 5);
	/* not a snapshot: refused by the header check */
	assert_int_equal(diskstore_load(&ds, &m.key, &data, &len), -EINVAL);
	assert_null(data);
	assert_int_equal(diskstore_remove(&ds, &m.key), 0);
	assert_int_equal(stat(path.p, &st), -1);
	assert_int_equal(diskstore_remove(&ds, &m.key), 0);
	assert_int_equal(count_prefixed(f->dir, ".tmp-"), 0);
	buf_release(&path);
	diskstore_close(&ds);
}

static void test_diskstore_snapshot_round_trip_holds_no_identity(void **state)
{
	struct fixture *f = *state;
	struct snapshot *s = snap_rendered(), *d = NULL;
	struct snapfile_meta m, got;
	struct snapfile_identity id = {.provider = "tencent",
				       .endpoint = "https://tione.secret-endpoint.invalid",
				       .region = "ap-testregion-7",
				       .access_key_id = "AKIDtestACCESSKEYID0123456789",
				       .kind = "tasks",
				       .filter = "Status=TESTFILTER"};
	const char *needles[] = {id.endpoint, id.region, id.access_key_id, "TESTFILTER",
				 "secret-endpoint"};
	struct diskstore ds;
	void *data;
	size_t len;

	snapfile_meta_init(&m);
	assert_int_equal(snapfile_key_init(&m.key, &id), 0);
	m.kind = (char *)"tasks";
	assert_int_equal(diskstore_open(&ds, f->dir), 0);
	assert_int_equal(diskstore_save_snapshot(&ds, s, &m), 0);
	snapfile_meta_init(&got);
	assert_int_equal(diskstore_load_snapshot(&ds, &m.key, &d, &got), 0);
	snap_assert_equal(s, d);
	assert_string_equal(got.kind, "tasks");
	assert_int_equal(diskstore_load(&ds, &m.key, &data, &len), 0);
	for (size_t i = 0; i < sizeof(needles) / sizeof(*needles); i++)
		assert_null(memmem(data, len, needles[i], strlen(needles[i])));
	free(data);
	snapfile_meta_release(&got);
	snapshot_put(d);
	snapshot_put(s);
	diskstore_close(&ds);
}

static void test_diskstore_failed_save_keeps_the_old_file(void **state)
{
	struct fixture *f = *state;
	struct snapfile_meta m;
	struct diskstore ds;
	struct rlimit saved, small;
	size_t big_len = 1 << 20, len;
	char *big = calloc(1, big_len);
	void *data;
	int rc;

	assert_non_null(big);
	snap_meta(&m, "AKIDtest");
	assert_int_equal(diskstore_open(&ds, f->dir), 0);
	assert_int_equal(diskstore_save(&ds, &m.key, "old", 3), 0);

	/* the new file cannot be written past 64 KiB: write() fails with EFBIG */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small = saved;
	small.rlim_cur = 65536;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	rc = diskstore_save(&ds, &m.key, big, big_len);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, -EFBIG);

	assert_int_equal(count_prefixed(f->dir, ".tmp-"), 0);
	ds.max_bytes = 1 << 30;
	/* the old bytes are there, whole (refused only because "old" is no snapshot) */
	{
		char path[300], hex[65], buf[8] = {0};
		int fd;

		snapfile_key_hex(&m.key, hex);
		snprintf(path, sizeof(path), "%s/%s.snap", f->dir, hex);
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(read(fd, buf, sizeof(buf)), 3);
		assert_string_equal(buf, "old");
		close(fd);
	}
	/* and a save that works replaces them */
	assert_int_equal(diskstore_save(&ds, &m.key, big, big_len), 0);
	assert_int_equal(diskstore_load(&ds, &m.key, &data, &len), -EINVAL);
	free(big);
	diskstore_close(&ds);
}

struct load_call {
	struct diskstore *ds;
	const struct snapfile_key *key;
	int rc;
};

static void call_load(void *arg)
{
	struct load_call *c = arg;
	struct snapshot *s = NULL;
	struct snapfile_meta m;

	snapfile_meta_init(&m);
	c->rc = diskstore_load_snapshot(c->ds, c->key, &s, &m);
	snapshot_put(s);
	snapfile_meta_release(&m);
}

/* Writes bytes as the file of key with mode, then expects a miss with one
 * log line. */
static void expect_ignored(struct fixture *f, struct diskstore *ds, const struct snapfile_key *key,
			   const void *p, size_t n, mode_t mode)
{
	struct load_call c = {ds, key, 0};
	char name[80];

	snapfile_key_hex(key, name);
	strcat(name, ".snap");
	write_file(f->dir, name, p, n, mode);
	assert_int_equal(log_lines(call_load, &c), 1);
	assert_int_equal(c.rc, -ENOENT);
}

static void test_diskstore_ignores_bad_files(void **state)
{
	struct fixture *f = *state;
	struct snapshot *s = snap_rendered();
	struct snapfile_meta m, other;
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct load_call c;
	struct diskstore ds;
	char hex[65], target[300], link[300];

	snap_meta(&m, "AKIDtest");
	snap_meta(&other, "AKIDother");
	assert_int_equal(snapfile_encode(s, &m, &b), 0);
	assert_int_equal(diskstore_open(&ds, f->dir), 0);

	/* missing: a quiet miss */
	c = (struct load_call){&ds, &m.key, 0};
	assert_int_equal(log_lines(call_load, &c), 0);
	assert_int_equal(c.rc, -ENOENT);
	/* the good file loads, silently */
	assert_int_equal(diskstore_save(&ds, &m.key, b.p, b.len), 0);
	assert_int_equal(log_lines(call_load, &c), 0);
	assert_int_equal(c.rc, 0);

	/* truncated, at the header and in the records */
	expect_ignored(f, &ds, &m.key, b.p, 100, 0600);
	expect_ignored(f, &ds, &m.key, b.p, b.len - 1, 0600);
	/* corrupted in the middle: the checksum */
	b.p[b.len / 2] ^= 1;
	expect_ignored(f, &ds, &m.key, b.p, b.len, 0600);
	b.p[b.len / 2] ^= 1;
	/* another format version */
	b.p[8] = 9;
	expect_ignored(f, &ds, &m.key, b.p, b.len, 0600);
	b.p[8] = SNAPFILE_VERSION;
	/* another key's snapshot under this key's name */
	expect_ignored(f, &ds, &other.key, b.p, b.len, 0600);
	/* readable by others */
	expect_ignored(f, &ds, &m.key, b.p, b.len, 0644);
	/* over the size limit */
	ds.max_bytes = b.len - 1;
	expect_ignored(f, &ds, &m.key, b.p, b.len, 0600);
	ds.max_bytes = DISKSTORE_MAX_BYTES_DEFAULT;
	/* a symlink to a good file */
	write_file(f->dir, "target", b.p, b.len, 0600);
	snapfile_key_hex(&m.key, hex);
	snprintf(target, sizeof(target), "%s/target", f->dir);
	snprintf(link, sizeof(link), "%s/%s.snap", f->dir, hex);
	unlink(link);
	assert_int_equal(symlink(target, link), 0);
	c = (struct load_call){&ds, &m.key, 0};
	assert_int_equal(log_lines(call_load, &c), 1);
	assert_int_equal(c.rc, -ENOENT);

	/* and a good one again after all that */
	unlink(link);
	assert_int_equal(diskstore_save(&ds, &m.key, b.p, b.len), 0);
	assert_int_equal(log_lines(call_load, &c), 0);
	assert_int_equal(c.rc, 0);
	buf_release(&b);
	snapshot_put(s);
	diskstore_close(&ds);
}

static void test_diskstore_open_sweeps_stale_temporaries(void **state)
{
	struct fixture *f = *state;
	struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
	char path[300];
	struct diskstore ds;

	assert_int_equal(diskstore_open(&ds, f->dir), 0);
	diskstore_close(&ds);
	write_file(f->dir, ".tmp-1-0-crashed", "x", 1, 0600);
	write_file(f->dir, ".tmp-2-0-writing", "x", 1, 0600);
	snprintf(path, sizeof(path), "%s/.tmp-1-0-crashed", f->dir);
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	assert_int_equal(diskstore_open(&ds, f->dir), 0);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/.tmp-2-0-writing", f->dir);
	assert_int_equal(access(path, F_OK), 0);
	diskstore_close(&ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_diskstore_dir_is_created_private, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diskstore_default_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diskstore_refuses_a_shared_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diskstore_save_load_private_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diskstore_snapshot_round_trip_holds_no_identity,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diskstore_failed_save_keeps_the_old_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_diskstore_ignores_bad_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diskstore_open_sweeps_stale_temporaries, setup,
					    teardown),
	};

	log_set_level(LOG_LEVEL_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
