/*
 * ops.c - the FUSE low-level operations (see ops.h; docs/architecture.md
 * says why the low-level API): lookup, getattr, readdir(plus), read,
 * getxattr/listxattr, statfs, forget, and EROFS for everything that would
 * write. Each one reads its arguments, calls the tree (tree.h: the node's
 * row of handlers), and replies; nothing else happens here, but for the
 * pace the inode cap sets to requests that make nodes (evict_pace).
 */
#include "ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "tree.h"

/* The longest a request thread waits for the drops of the inode cap. */
#define EVICT_WAIT_NS (20 * 1000000ull)

/*
 * The cap on nodes (max_nodes) asks the kernel to drop files one name at a
 * time, on a thread of its own (notify.h); a traversal that makes nodes
 * faster would leave it ever further behind, and the table ever further
 * above the cap. So a request that makes nodes (lookup, readdirplus)
 * first waits while more than 1/16 of the cap is queued, at most
 * EVICT_WAIT_NS: it holds none of our locks, and the kernel holds its
 * directory's, which a drop in that same directory waits for; hence the
 * bound. Waiting before the reply (not after) holds the traversal itself
 * back, rather than making libfuse start more threads to serve it.
 */
static void evict_pace(struct daemon *d)
{
	size_t cap = d->cfg.max_nodes;

	if (cap)
		notify_evict_wait(&d->notifier, cap / 16 + 64, clock_now_ns() + EVICT_WAIT_NS);
}

/* A wait for a fetch ends when the kernel interrupts the request (Ctrl-C). */
static bool req_interrupted(void *arg)
{
	return fuse_req_interrupted(arg);
}

/* The tree's view of request req; cancel lives in the caller's frame. */
static void ctx_of(fuse_req_t req, struct tree_ctx *t, struct cache_cancel *cancel)
{
	cancel->cancelled = req_interrupted;
	cancel->arg = req;
	tree_ctx_init(t, fuse_req_userdata(req), cancel);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param fe;
	struct cache_cancel cancel;
	struct tree_ctx t;
	struct tree_entry e;
	int rc;

	ctx_of(req, &t, &cancel);
	evict_pace(t.d);
	rc = tree_lookup(&t, parent, name, &e);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	memset(&fe, 0, sizeof(fe));
	fe.ino = e.ino;
	fe.attr = e.attr;
	fe.entry_timeout = e.uncached_name ? 0 : e.tmo;
	fe.attr_timeout = e.ino ? e.tmo : 0; /* ino 0: a miss, remembered tmo seconds */
	if (fuse_reply_entry(req, &fe) && e.ino)
		inodes_forget(&t.d->inodes, e.ino, 1);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cache_cancel cancel;
	struct tree_ctx t;
	struct stat st;
	double tmo;
	int rc;

	(void)fi;
	ctx_of(req, &t, &cancel);
	rc = tree_getattr(&t, ino, &st, &tmo);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, tmo);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct daemon *d = fuse_req_userdata(req);

	inodes_forget(&d->inodes, ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct daemon *d = fuse_req_userdata(req);

	for (size_t i = 0; i < count; i++)
		inodes_forget(&d->inodes, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* Fills up to size bytes of entries from off; a plus entry hands the
 * kernel a reference, so an entry is only made once it fits. */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	struct cache_cancel cancel;
	struct tree_ctx t;
	struct tree_dir h;
	char *p = malloc(size ? size : 1);
	size_t used = 0;
	int rc;

	ctx_of(req, &t, &cancel);
	if (plus)
		evict_pace(t.d);
	rc = p ? tree_dir_open(&t, ino, &h) : -ENOMEM;
	if (rc) {
		free(p);
		fuse_reply_err(req, -rc);
		return;
	}
	for (size_t i = (size_t)off;; i++) {
		struct fuse_entry_param fe;
		struct tree_entry e;
		const char *name;
		bool is_file;
		size_t need;

		if (!tree_dir_name(&h, i, &name, &is_file))
			break;
		memset(&fe, 0, sizeof(fe));
		fe.attr.st_mode = is_file ? S_IFREG : S_IFDIR;
		need = plus ? fuse_add_direntry_plus(req, NULL, 0, name, &fe, 0)
			    : fuse_add_direntry(req, NULL, 0, name, &fe.attr, 0);
		if (used + need > size || tree_dir_entry(&t, &h, i, plus, &e))
			break;
		fe.ino = e.ino;
		fe.attr = e.attr;
		fe.attr_timeout = fe.entry_timeout = e.tmo;
		if (plus)
			fuse_add_direntry_plus(req, p + used, size - used, name, &fe, (off_t)i + 1);
		else
			fuse_add_direntry(req, p + used, size - used, name, &fe.attr, (off_t)i + 1);
		used += need;
	}
	fuse_reply_buf(req, p, used);
	tree_dir_close(&h);
	free(p);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, true);
}

/* Reads come without an open (see op_init): never waiting for a fetch. */
static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct tree_ctx t;
	struct tree_data data;
	int rc;

	(void)fi;
	tree_ctx_init(&t, fuse_req_userdata(req), NULL);
	rc = tree_read(&t, ino, off, size, &data);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, data.p, data.len);
	tree_data_release(&data);
}

/* ENOSYS tells the kernel, once and for all, that opens need no request:
 * it then keeps pages and listings across opens (see op_init). */
static void op_open_enosys(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino, (void)fi;
	fuse_reply_err(req, ENOSYS);
}

/* ---- extended attributes: a collection's freshness -------------------- */

/* Replies with b (or its size, or ERANGE), or with the error rc. */
static void reply_xattr(fuse_req_t req, int rc, const struct buf *b, size_t size)
{
	if (rc)
		fuse_reply_err(req, -rc);
	else if (!size)
		fuse_reply_xattr(req, b->len);
	else if (size < b->len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf_str(b), b->len);
}

/*
 * xattr = no: ENOSYS makes the kernel stop asking for every file's
 * security.selinux (ls -l), at the price of the freshness xattrs.
 * Only user.* exists here. EOPNOTSUPP (not ENODATA) for the other
 * namespaces: ls -l asks every file for security.selinux, and on that
 * answer it stops asking for the rest of the mount (coreutils keeps the
 * device it found unsupported), so ls -lR costs one request, not one per
 * file. With FUSE_CAP_POSIX_ACL the kernel itself answers
 * system.posix_acl_* from its own cache: no ACLs anywhere.
 */
static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct tree_ctx t;
	int rc;

	tree_ctx_init(&t, fuse_req_userdata(req), NULL);
	if (!t.d->cfg.xattr)
		rc = -ENOSYS;
	else if (strncmp(name, "user.", 5))
		rc = -EOPNOTSUPP;
	else
		rc = tree_getxattr(&t, ino, name, &b);
	reply_xattr(req, rc, &b, size);
	buf_release(&b);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct tree_ctx t;

	tree_ctx_init(&t, fuse_req_userdata(req), NULL);
	reply_xattr(req, t.d->cfg.xattr ? tree_listxattr(&t, ino, &b) : -ENOSYS, &b, size);
	buf_release(&b);
}

/* ---- the rest -------------------------------------------------------- */

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_namemax = NAMES_MAX;
	sv.f_flag = ST_RDONLY;
	fuse_reply_statfs(req, &sv);
}

/*
 * The settings that let the kernel answer a warm traversal from its own
 * caches (docs/architecture.md has the figures):
 * - no OPEN and no OPENDIR requests (the first is answered ENOSYS): the
 *   kernel then keeps file pages and cached listings across opens until an
 *   attribute reply or an invalidation says they changed;
 * - READDIRPLUS for every listing, so a listing also answers the lookups;
 * - AUTO_INVAL_DATA: a new mtime or size in any attribute reply drops the
 *   cached pages (file mtimes carry a hash of the bytes: see tree_file_attr).
 */
static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	if (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT)
		conn->want |= FUSE_CAP_NO_OPEN_SUPPORT;
	if (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT)
		conn->want |= FUSE_CAP_NO_OPENDIR_SUPPORT;
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	/* The kernel then answers ls -l's ACL queries from its own cache
	 * instead of asking for two xattrs per file. */
	if (conn->capable & FUSE_CAP_POSIX_ACL)
		conn->want |= FUSE_CAP_POSIX_ACL;
}

static void erofs(fuse_req_t req)
{
	fuse_reply_err(req, EROFS);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	(void)ino, (void)attr, (void)to_set, (void)fi;
	erofs(req);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	erofs(req);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	erofs(req);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	erofs(req);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	erofs(req);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	(void)parent, (void)name, (void)mode, (void)fi;
	erofs(req);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)ino, (void)buf, (void)size, (void)off, (void)fi;
	erofs(req);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	(void)ino, (void)name, (void)value, (void)size, (void)flags;
	erofs(req);
}

const struct fuse_lowlevel_ops ops_table = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_unlink,
    .rename = op_rename,
    .create = op_create,
    .write = op_write,
    .open = op_open_enosys,
    .opendir = op_open_enosys,
    .read = op_read,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
    .statfs = op_statfs,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .setxattr = op_setxattr,
    .removexattr = op_unlink,
};
