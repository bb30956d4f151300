/*
 * diskstore.c - snapshots on local disk: a private directory, one 0600 file
 * per collection key, atomic replacement, and reads that trust nothing.
 *
 * Every file operation is relative to the directory's open descriptor
 * (openat, renameat, unlinkat), and files are opened with O_NOFOLLOW, so
 * that once the directory has been checked nothing can be swapped under it.
 */
#include "diskstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

#define TMP_PREFIX  ".tmp-"
#define TMP_STALE_S 600 /* a temporary file older than this was left by a crash */
#define SUFFIX      ".snap"

/* "<hex key>.snap" into out[70]. */
static void file_name(const struct snapfile_key *key, char out[2 * SNAPFILE_KEY_LEN + 6])
{
	snapfile_key_hex(key, out);
	memcpy(out + 2 * SNAPFILE_KEY_LEN, SUFFIX, sizeof(SUFFIX));
}

int diskstore_default_dir(struct buf *out)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	/* The XDG spec: a relative value is invalid and ignored. */
	if (xdg && xdg[0] == '/')
		return buf_printf(out, "%s/gpucloudfs", xdg);
	if (home && home[0] == '/')
		return buf_printf(out, "%s/.cache/gpucloudfs", home);
	return -ENOENT;
}

/* mkdir -p with mode 0700 for every missing component. 0 or -errno. */
static int make_dirs(char *path)
{
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST) {
			int e = errno;

			*p = c;
			return -e;
		}
		*p = c;
		if (c == '\0')
			return 0;
	}
}

/* Removes temporary files a crash left behind (best effort). */
static void sweep_tmp(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	time_t now = time(NULL);

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now - st.st_mtime > TMP_STALE_S)
			unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

int diskstore_open(struct diskstore *ds, const char *dir)
{
	struct buf path = BUF_INIT(BUF_NOLIMIT);
	struct stat st;
	int rc = 0;

	ds->dirfd = -1;
	ds->path = NULL;
	ds->max_bytes = DISKSTORE_MAX_BYTES_DEFAULT;
	atomic_init(&ds->seq, 0);
	if (dir && dir[0])
		rc = buf_addstr(&path, dir);
	else
		rc = diskstore_default_dir(&path);
	if (rc == -ENOENT)
		log_warn("disk cache: off: neither XDG_CACHE_HOME nor HOME is an absolute path");
	if (rc)
		goto out;
	while (path.len > 1 && path.p[path.len - 1] == '/')
		path.p[--path.len] = '\0';
	rc = make_dirs(path.p);
	if (rc) {
		log_warn("disk cache: off: cannot create '%s': %s", path.p, strerror(-rc));
		goto out;
	}
	ds->dirfd = open(path.p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ds->dirfd < 0) {
		rc = -errno;
		log_warn("disk cache: off: cannot open '%s': %s", path.p, strerror(-rc));
		goto out;
	}
	if (fstat(ds->dirfd, &st)) {
		rc = -errno;
	} else if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		rc = -EACCES;
		log_warn("disk cache: off: '%s' is not private (mode %03o, owner %ju; it must be a "
			 "directory of uid %ju with mode 0700)",
			 path.p, (unsigned)(st.st_mode & 0777), (uintmax_t)st.st_uid,
			 (uintmax_t)geteuid());
		goto out;
	}
	if (rc) {
		log_warn("disk cache: off: cannot stat '%s': %s", path.p, strerror(-rc));
		goto out;
	}
	sweep_tmp(ds->dirfd);
	ds->path = buf_detach(&path, NULL);
	if (!ds->path)
		rc = -ENOMEM;
out:
	if (rc && ds->dirfd >= 0) {
		close(ds->dirfd);
		ds->dirfd = -1;
	}
	buf_release(&path);
	return rc;
}

void diskstore_close(struct diskstore *ds)
{
	if (!ds)
		return;
	if (ds->dirfd >= 0)
		close(ds->dirfd);
	ds->dirfd = -1;
	free(ds->path);
	ds->path = NULL;
}

int diskstore_path(const struct diskstore *ds, const struct snapfile_key *key, struct buf *out)
{
	char name[2 * SNAPFILE_KEY_LEN + 6];

	file_name(key, name);
	return buf_printf(out, "%s/%s", ds->path ? ds->path : "", name);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len > (1u << 30) ? (1u << 30) : len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int diskstore_save(struct diskstore *ds, const struct snapfile_key *key, const void *data,
		   size_t len)
{
	char name[2 * SNAPFILE_KEY_LEN + 6], tmp[2 * SNAPFILE_KEY_LEN + 64];
	int fd, rc = 0;

	if (ds->dirfd < 0)
		return -EBADF;
	file_name(key, name);
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%ld-%lu-%.16s", (long)getpid(),
		 atomic_fetch_add(&ds->seq, 1), name);
	fd = openat(ds->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* 0600 whatever the umask took away */
	if (fchmod(fd, 0600))
		rc = -errno;
	if (!rc)
		rc = write_all(fd, data, len);
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && renameat(ds->dirfd, tmp, ds->dirfd, name))
		rc = -errno;
	if (rc) {
		unlinkat(ds->dirfd, tmp, 0);
		return rc;
	}
	/* the rename itself is durable once the directory is synced */
	if (fsync(ds->dirfd))
		return -errno;
	return 0;
}

/* One log line for an ignored file; returns -EINVAL. */
static int ignored(const struct diskstore *ds, const char *name, const char *why)
{
	log_warn("disk cache: ignoring '%s/%s': %s", ds->path, name, why);
	return -EINVAL;
}

static int read_at(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len > (1u << 30) ? (1u << 30) : len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA; /* shorter than fstat said */
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

int diskstore_load(struct diskstore *ds, const struct snapfile_key *key, void **data, size_t *len)
{
	char name[2 * SNAPFILE_KEY_LEN + 6], why[160];
	unsigned char hdr[SNAPFILE_HEADER_LEN];
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapfile_header h;
	struct stat st;
	char *p = NULL;
	size_t size;
	int fd, rc;

	*data = NULL;
	*len = 0;
	if (ds->dirfd < 0)
		return -ENOENT;
	file_name(key, name);
	fd = openat(ds->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return -ENOENT;
	if (fd < 0) {
		snprintf(why, sizeof(why), "cannot open it: %s", strerror(errno));
		return ignored(ds, name, why);
	}
	if (fstat(fd, &st)) {
		snprintf(why, sizeof(why), "cannot stat it: %s", strerror(errno));
		rc = ignored(ds, name, why);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		snprintf(why, sizeof(why),
			 "not a private file of ours (mode %03o, owner %ju; it must be a regular "
			 "file of uid %ju with mode 0600)",
			 (unsigned)(st.st_mode & 0777), (uintmax_t)st.st_uid, (uintmax_t)geteuid());
		rc = ignored(ds, name, why);
		goto out;
	}
	size = (size_t)st.st_size;
	if ((uintmax_t)st.st_size > ds->max_bytes) {
		snprintf(why, sizeof(why), "%jd bytes, more than the limit of %zu",
			 (intmax_t)st.st_size, ds->max_bytes);
		rc = ignored(ds, name, why);
		goto out;
	}
	if (size < SNAPFILE_HEADER_LEN) {
		snprintf(why, sizeof(why), "truncated: %zu bytes, a header alone has %d", size,
			 SNAPFILE_HEADER_LEN);
		rc = ignored(ds, name, why);
		goto out;
	}
	rc = read_at(fd, hdr, sizeof(hdr), 0);
	if (!rc)
		rc = snapfile_peek(hdr, sizeof(hdr), key, &h, &err);
	if (rc) {
		rc = ignored(ds, name, err.message ? err.message : strerror(-rc));
		goto out;
	}
	if (h.total_len != size) {
		snprintf(why, sizeof(why), "%zu bytes where its header says %" PRIu64 "%s", size,
			 h.total_len, size < h.total_len ? " (truncated)" : "");
		rc = ignored(ds, name, why);
		goto out;
	}
	p = malloc(size);
	if (!p) {
		log_warn("disk cache: no memory for '%s/%s' (%zu bytes)", ds->path, name, size);
		rc = -ENOMEM;
		goto out;
	}
	rc = read_at(fd, p, size, 0);
	if (rc) {
		snprintf(why, sizeof(why), "cannot read it: %s", strerror(-rc));
		rc = ignored(ds, name, why);
		goto out;
	}
	*data = p;
	*len = size;
	p = NULL;
out:
	free(p);
	close(fd);
	gcf_error_release(&err);
	return rc;
}

int diskstore_remove(struct diskstore *ds, const struct snapfile_key *key)
{
	char name[2 * SNAPFILE_KEY_LEN + 6];

	if (ds->dirfd < 0)
		return -EBADF;
	file_name(key, name);
	if (unlinkat(ds->dirfd, name, 0) && errno != ENOENT)
		return -errno;
	return 0;
}

int diskstore_save_snapshot(struct diskstore *ds, const struct snapshot *s,
			    const struct snapfile_meta *m)
{
	struct buf b = BUF_INIT(ds->max_bytes);
	int rc = snapfile_encode(s, m, &b);

	if (!rc)
		rc = diskstore_save(ds, &m->key, b.p, b.len);
	buf_release(&b);
	return rc;
}

int diskstore_load_snapshot(struct diskstore *ds, const struct snapfile_key *key,
			    struct snapshot **out, struct snapfile_meta *m)
{
	struct gcf_error err = GCF_ERROR_INIT;
	char name[2 * SNAPFILE_KEY_LEN + 6];
	void *data;
	size_t len;
	int rc;

	*out = NULL;
	rc = diskstore_load(ds, key, &data, &len);
	if (rc == -EINVAL)
		return -ENOENT; /* ignored, logged */
	if (rc)
		return rc;
	rc = snapfile_decode(data, len, key, out, m, &err);
	free(data);
	if (rc == -EINVAL) {
		file_name(key, name);
		ignored(ds, name, err.message ? err.message : "not a valid snapshot");
		rc = -ENOENT;
	}
	gcf_error_release(&err);
	return rc;
}
