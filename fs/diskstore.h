/*
 * diskstore.h - snapshots kept on local disk for a warm restart.
 *
 * One private directory ($XDG_CACHE_HOME/gpucloudfs/, else
 * ~/.cache/gpucloudfs/, or the caller's cache_dir) holding one file per
 * collection, named by the hex of its snapfile key plus ".snap", so two
 * connections, regions, accounts or filters never share a file. The
 * directory is created 0700 and refused (with a log line) when it exists
 * with group or other access or belongs to another user; files are written
 * 0600 and atomically (a temporary file in the same directory, fsync,
 * rename, fsync of the directory), so a reader sees the old file or the new
 * one, never half of one.
 *
 * Reading never trusts a file: a missing file is a quiet miss; one that is
 * not a regular 0600 file of ours, too large, truncated, of another format
 * version, of another key or (for the _snapshot calls) corrupt is ignored
 * with one log line (log.h, WARN) and is a miss too. The caller handles
 * `cache_dir = none` by not opening a store at all.
 *
 * Thread safety: after diskstore_open, every call may run from any thread at
 * the same time (saves of one key race harmlessly: the last rename wins).
 */
#ifndef GCF_DISKSTORE_H
#define GCF_DISKSTORE_H

#include <stdatomic.h>
#include <stddef.h>

#include "snapfile.h"
#include "snapshot.h"

#define DISKSTORE_MAX_BYTES_DEFAULT ((size_t)4 << 30) /* largest file read back: 4 GiB */

struct diskstore {
	int dirfd;        /* the open directory; -1 when closed */
	char *path;       /* its path, for log lines */
	size_t max_bytes; /* files larger than this are ignored (set after open) */
	atomic_ulong seq; /* temporary file names */
};

/* The default directory ($XDG_CACHE_HOME/gpucloudfs when XDG_CACHE_HOME is
 * an absolute path, else $HOME/.cache/gpucloudfs) appended to out.
 * 0, -ENOENT (neither is an absolute path) or -ENOMEM. */
int diskstore_default_dir(struct buf *out);

/*
 * Opens (creating it, and missing parents, 0700) the cache directory: dir,
 * or NULL for the default ($XDG_CACHE_HOME/gpucloudfs when XDG_CACHE_HOME is
 * an absolute path, else $HOME/.cache/gpucloudfs). Removes temporary files
 * older than ten minutes left by a crash. Returns 0, or a negative errno
 * after one log line: -EACCES when the directory is not private (mode with
 * group/other bits, another owner, not a directory), -ENOENT when no
 * default can be found (no HOME), or the errno of mkdir/open.
 */
int diskstore_open(struct diskstore *ds, const char *dir);
/* Closes the directory and frees the path; ds is left closed. NULL ok. */
void diskstore_close(struct diskstore *ds);

/* Path of the file for key into out (appended). 0 or -ENOMEM. */
int diskstore_path(const struct diskstore *ds, const struct snapfile_key *key, struct buf *out);

/*
 * Stores len bytes for key, atomically replacing any earlier file. On any
 * failure the earlier file (if any) is left as it was, the temporary file is
 * removed and a negative errno is returned (the caller may log it).
 */
int diskstore_save(struct diskstore *ds, const struct snapfile_key *key, const void *data,
		   size_t len);

/*
 * The bytes stored for key, checked as far as the header goes (magic,
 * version, key, total length = file size, file mode and owner, size at most
 * ds->max_bytes). Returns 0 with *data (malloc'd, free() it) and *len set;
 * -ENOENT when there is no file (no log line); -EINVAL when a file exists
 * but is ignored (one log line); -ENOMEM or -EIO (one log line).
 */
int diskstore_load(struct diskstore *ds, const struct snapfile_key *key, void **data, size_t *len);

/* Removes the file for key. 0 (also when there was none) or -errno. */
int diskstore_remove(struct diskstore *ds, const struct snapfile_key *key);

/* snapfile_encode + diskstore_save. 0 or a negative errno. */
int diskstore_save_snapshot(struct diskstore *ds, const struct snapshot *s,
			    const struct snapfile_meta *m);

/*
 * diskstore_load + snapfile_decode: the snapshot stored for key (one
 * reference) and its meta (snapfile_meta_release it). A file that fails to
 * decode (corrupt, checksum, bad records) is ignored with one log line.
 * Returns 0, -ENOENT (no file, or one that was ignored) or -ENOMEM.
 */
int diskstore_load_snapshot(struct diskstore *ds, const struct snapfile_key *key,
			    struct snapshot **out, struct snapfile_meta *m);

#endif
