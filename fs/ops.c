/*
 * ops.c - the FUSE low-level operations (see ops.h and docs/fuse-api.md for
 * why the low-level API): lookup, getattr, opendir/readdir(plus), open/read,
 * statfs, forget, and EROFS for everything that would write.
 *
 * Timeouts given to the kernel are the time the snapshot has left before its
 * TTL runs out, so the kernel answers repeated lookups and getattrs itself
 * while the data is fresh and asks again exactly when it may have changed.
 */
#include "ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define STATIC_TIMEOUT 3600.0 /* root, connections, kinds: fixed for the mount */
#define CTL_NAME ".gpucloudfs"

static const char *const ctl_files[] = {"config", "errors", "version", NULL};

static struct daemon *D(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static uint64_t deadline(const struct daemon *d)
{
	return http_now_ns() + d->op_timeout_ns;
}

/* Seconds the snapshot stays fresh. */
static double remaining(const struct coll_rt *cr, const struct snapshot *s)
{
	uint64_t now = http_now_ns(), age = now - s->fetched_ns;

	if (!s->fetched_ns || age >= cr->col.ttl_ns)
		return 0;
	return (double)(cr->col.ttl_ns - age) / 1e9;
}

static void dir_attr(struct stat *st, uint64_t ino, time_t mtime)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_mtime = st->st_ctime = st->st_atime = mtime;
	st->st_blksize = 4096;
}

static void file_attr(struct stat *st, uint64_t ino, size_t size, time_t mtime)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	st->st_mtime = st->st_ctime = st->st_atime = mtime;
	st->st_blksize = 4096;
}

/* The collection's snapshot, fetching it if needed. 0 or a negative errno. */
static int snap_of(struct daemon *d, struct coll_rt *cr, struct snapshot **s)
{
	struct gcf_error err = GCF_ERROR_INIT;
	int rc = cache_get(&cr->col, deadline(d), s, &err);

	if (rc && err.cls == GCF_TIMEOUT && !err.conn)
		log_warn("%s/%s: %s", cr->cr->conn->name, cr->kind->dir,
			 err.message ? err.message : "timed out");
	gcf_error_release(&err);
	return rc;
}

/* The content of a control file, built when it is opened. */
static int ctl_content(struct daemon *d, const char *name, struct buf *out)
{
	if (!strcmp(name, "version"))
		return buf_printf(out, "gpucloudfs %s\n", GCF_VERSION);
	if (!strcmp(name, "errors"))
		return status_dump(&d->status, out);
	if (!strcmp(name, "config"))
		return config_dump(&d->cfg, out);
	return -ENOENT;
}

static bool is_ctl_file(const char *name)
{
	for (const char *const *f = ctl_files; *f; f++)
		if (!strcmp(*f, name))
			return true;
	return false;
}

/* ---- attributes of a resolved node ----------------------------------- */

/* Fills st and the timeout for node ni; 0 or a negative errno. Objects and
 * files need their collection's snapshot (fetched when expired). */
static int node_attr(struct daemon *d, const struct node_info *ni, struct stat *st, double *tmo)
{
	struct coll_rt *cr = ni->owner;
	struct snapshot *s = NULL;
	const struct entry *e;
	const struct file *f;
	int rc = 0;

	*tmo = STATIC_TIMEOUT;
	switch (ni->type) {
	case NODE_ROOT:
	case NODE_CONN:
	case NODE_CTLDIR:
		dir_attr(st, ni->ino, d->start_wall);
		return 0;
	case NODE_KIND:
		s = cache_peek(&cr->col);
		dir_attr(st, ni->ino, s ? s->fetched_wall : d->start_wall);
		*tmo = s ? remaining(cr, s) : 0;
		snapshot_put(s);
		return 0;
	case NODE_CTLFILE: {
		struct buf b = BUF_INIT(BUF_NOLIMIT);

		rc = ctl_content(d, ni->name, &b);
		file_attr(st, ni->ino, b.len, time(NULL));
		buf_release(&b);
		*tmo = 0;
		return rc;
	}
	case NODE_ENTRY:
	case NODE_FILE:
		break;
	}
	rc = snap_of(d, cr, &s);
	if (rc)
		return rc;
	e = snapshot_find(s, ni->type == NODE_ENTRY ? ni->name : ni->parent_name);
	if (!e) {
		rc = -ENOENT;
	} else if (ni->type == NODE_ENTRY) {
		dir_attr(st, ni->ino, e->mtime);
	} else {
		f = entry_file(e, ni->name);
		if (f)
			file_attr(st, ni->ino, f->size, e->mtime);
		else
			rc = -ENOENT;
	}
	*tmo = remaining(cr, s);
	snapshot_put(s);
	return rc;
}

/* ---- lookup, getattr, forget ----------------------------------------- */

/* Resolves name under parent: which node it would be (type and owner), or a
 * negative errno. Fetches the collection for objects and their files. */
static int child_of(struct daemon *d, const struct node_info *p, const char *name,
		    enum node_type *type, void **owner)
{
	struct coll_rt *cr = p->owner;
	struct snapshot *s = NULL;
	const struct entry *e;
	int rc;

	switch (p->type) {
	case NODE_ROOT:
		if (!strcmp(name, CTL_NAME)) {
			*type = NODE_CTLDIR;
			*owner = NULL;
			return 0;
		}
		*type = NODE_CONN;
		*owner = daemon_conn(d, name);
		return *owner ? 0 : -ENOENT;
	case NODE_CONN: {
		struct conn_rt *c = p->owner;

		for (size_t i = 0; i < c->ncolls; i++)
			if (!strcmp(c->colls[i].kind->dir, name)) {
				*type = NODE_KIND;
				*owner = &c->colls[i];
				return 0;
			}
		return -ENOENT;
	}
	case NODE_CTLDIR:
		*type = NODE_CTLFILE;
		*owner = NULL;
		return is_ctl_file(name) ? 0 : -ENOENT;
	case NODE_KIND:
	case NODE_ENTRY:
		rc = snap_of(d, cr, &s);
		if (rc)
			return rc;
		e = snapshot_find(s, p->type == NODE_KIND ? name : p->name);
		if (!e || (p->type == NODE_ENTRY && !entry_file(e, name)))
			rc = -ENOENT;
		snapshot_put(s);
		*type = p->type == NODE_KIND ? NODE_ENTRY : NODE_FILE;
		*owner = cr;
		return rc;
	case NODE_FILE:
	case NODE_CTLFILE:
		return -ENOTDIR;
	}
	return -ENOENT;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct daemon *d = D(req);
	struct fuse_entry_param e;
	struct node_info p, ni;
	enum node_type type;
	void *owner;
	double tmo;
	int rc;

	memset(&e, 0, sizeof(e));
	if (inodes_get(&d->inodes, parent, &p)) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (strlen(name) > NAMES_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	rc = child_of(d, &p, name, &type, &owner);
	if (rc == -ENOENT && (p.type == NODE_KIND || p.type == NODE_ENTRY)) {
		/* Let the kernel remember the miss while the snapshot is fresh. */
		struct snapshot *s = cache_peek(&((struct coll_rt *)p.owner)->col);

		e.entry_timeout = s ? remaining(p.owner, s) : 0;
		snapshot_put(s);
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	e.ino = inodes_ref(&d->inodes, parent, name, type, owner);
	if (!e.ino || inodes_get(&d->inodes, e.ino, &ni)) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = node_attr(d, &ni, &e.attr, &tmo);
	if (rc) {
		inodes_forget(&d->inodes, e.ino, 1);
		fuse_reply_err(req, -rc);
		return;
	}
	e.attr_timeout = e.entry_timeout = tmo;
	if (fuse_reply_entry(req, &e))
		inodes_forget(&d->inodes, e.ino, 1);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct daemon *d = D(req);
	struct node_info ni;
	struct stat st;
	double tmo;
	int rc;

	(void)fi;
	if (inodes_get(&d->inodes, ino, &ni)) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	rc = node_attr(d, &ni, &st, &tmo);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, tmo);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	inodes_forget(&D(req)->inodes, ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		inodes_forget(&D(req)->inodes, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* ---- directories ----------------------------------------------------- */

/* An open directory: its children, fixed at opendir. */
struct dirh {
	struct node_info self;
	struct snapshot *snap;    /* KIND and ENTRY directories */
	const struct entry *entry; /* ENTRY directories */
	size_t n;                 /* children, not counting . and .. */
};

/* Name and type of child i (0-based) of an open directory. */
static const char *dir_child(struct daemon *d, const struct dirh *h, size_t i,
			     enum node_type *type, void **owner)
{
	switch (h->self.type) {
	case NODE_ROOT:
		if (i < d->nconns) {
			*type = NODE_CONN;
			*owner = &d->conns[i];
			return d->conns[i].conn->name;
		}
		*type = NODE_CTLDIR;
		*owner = NULL;
		return CTL_NAME;
	case NODE_CONN: {
		struct conn_rt *c = h->self.owner;

		*type = NODE_KIND;
		*owner = &c->colls[i];
		return c->colls[i].kind->dir;
	}
	case NODE_CTLDIR:
		*type = NODE_CTLFILE;
		*owner = NULL;
		return ctl_files[i];
	case NODE_KIND:
		*type = NODE_ENTRY;
		*owner = h->self.owner;
		return h->snap->entries[i].name;
	case NODE_ENTRY:
		*type = NODE_FILE;
		*owner = h->self.owner;
		return h->entry->files[i].name;
	default:
		return NULL;
	}
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct daemon *d = D(req);
	struct dirh *h = calloc(1, sizeof(*h));
	int rc = 0;

	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (inodes_get(&d->inodes, ino, &h->self)) {
		free(h);
		fuse_reply_err(req, ESTALE);
		return;
	}
	switch (h->self.type) {
	case NODE_ROOT:
		h->n = d->nconns + 1;
		break;
	case NODE_CONN:
		h->n = ((struct conn_rt *)h->self.owner)->ncolls;
		break;
	case NODE_CTLDIR:
		for (h->n = 0; ctl_files[h->n]; h->n++)
			;
		break;
	case NODE_KIND:
	case NODE_ENTRY:
		rc = snap_of(d, h->self.owner, &h->snap);
		if (rc)
			break;
		if (h->self.type == NODE_KIND) {
			h->n = h->snap->nentries;
		} else {
			h->entry = snapshot_find(h->snap, h->self.name);
			if (!h->entry)
				rc = -ENOENT;
			else
				h->n = h->entry->nfiles;
		}
		break;
	default:
		rc = -ENOTDIR;
	}
	if (rc) {
		snapshot_put(h->snap);
		free(h);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)h;
	if (fuse_reply_open(req, fi)) {
		snapshot_put(h->snap);
		free(h);
	}
}

/* Attributes of child i without fetching: everything is in the dirh. */
static void child_attr(struct daemon *d, const struct dirh *h, size_t i, uint64_t ino,
		       enum node_type type, struct stat *st, double *tmo)
{
	*tmo = STATIC_TIMEOUT;
	if (type == NODE_ENTRY) {
		dir_attr(st, ino, h->snap->entries[i].mtime);
		*tmo = remaining(h->self.owner, h->snap);
	} else if (type == NODE_FILE) {
		file_attr(st, ino, h->entry->files[i].size, h->entry->mtime);
		*tmo = remaining(h->self.owner, h->snap);
	} else if (type == NODE_CTLFILE) {
		file_attr(st, ino, 0, time(NULL));
		*tmo = 0;
	} else {
		dir_attr(st, ino, d->start_wall);
	}
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct daemon *d = D(req);
	struct dirh *h = (struct dirh *)(uintptr_t)fi->fh;
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	char *p;
	size_t used = 0;

	p = malloc(size);
	if (!p) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = (size_t)off; i < h->n + 2; i++) {
		struct fuse_entry_param e;
		enum node_type type = NODE_FILE;
		void *owner = NULL;
		const char *name;
		size_t need;
		double tmo;

		memset(&e, 0, sizeof(e));
		if (i < 2) {
			name = i == 0 ? "." : "..";
			e.attr.st_ino = i == 0 ? ino : h->self.parent;
			e.attr.st_mode = S_IFDIR;
		} else {
			name = dir_child(d, h, i - 2, &type, &owner);
			e.attr.st_mode = (type == NODE_FILE || type == NODE_CTLFILE) ? S_IFREG : S_IFDIR;
		}
		need = plus ? fuse_add_direntry_plus(req, NULL, 0, name, &e, 0)
			    : fuse_add_direntry(req, NULL, 0, name, &e.attr, 0);
		if (used + need > size)
			break;
		if (i >= 2) {
			uint64_t cino = plus ? inodes_ref(&d->inodes, ino, name, type, owner)
					     : inodes_find(&d->inodes, ino, name);

			if (plus && !cino)
				break;
			child_attr(d, h, i - 2, cino, type, &e.attr, &tmo);
			if (plus) {
				e.ino = cino;
				e.attr_timeout = e.entry_timeout = tmo;
			} else if (!cino) {
				e.attr.st_ino = 0xffffffffu; /* not known yet: the kernel looks it up */
			}
		}
		if (plus)
			fuse_add_direntry_plus(req, p + used, size - used, name, &e, (off_t)i + 1);
		else
			fuse_add_direntry(req, p + used, size - used, name, &e.attr, (off_t)i + 1);
		used += need;
	}
	fuse_reply_buf(req, p, used);
	free(p);
	buf_release(&b);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirh *h = (struct dirh *)(uintptr_t)fi->fh;

	(void)ino;
	snapshot_put(h->snap);
	free(h);
	fuse_reply_err(req, 0);
}

/* ---- files ----------------------------------------------------------- */

/* An open file: a slice of a snapshot it keeps alive, or owned bytes. */
struct fileh {
	struct snapshot *snap;
	const char *data;
	size_t size;
	char *owned;
};

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct daemon *d = D(req);
	struct fileh *h;
	struct node_info ni;
	const struct entry *e;
	const struct file *f;
	int rc = 0;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (inodes_get(&d->inodes, ino, &ni)) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (ni.type != NODE_FILE && ni.type != NODE_CTLFILE) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (ni.type == NODE_CTLFILE) {
		struct buf b = BUF_INIT(BUF_NOLIMIT);

		rc = ctl_content(d, ni.name, &b);
		h->size = b.len;
		h->owned = buf_detach(&b, NULL);
		h->data = h->owned;
		if (!rc && !h->owned)
			rc = -ENOMEM;
		fi->direct_io = 1; /* content changes: no page cache, size not trusted */
	} else {
		rc = snap_of(d, ni.owner, &h->snap);
		if (!rc) {
			e = snapshot_find(h->snap, ni.parent_name);
			f = e ? entry_file(e, ni.name) : NULL;
			if (!f) {
				rc = -ENOENT;
			} else {
				h->data = f->data;
				h->size = f->size;
				/* Keep the kernel's pages only when they hold these bytes. */
				fi->keep_cache = inodes_swap_hash(&d->inodes, ino, f->hash) == f->hash;
			}
		}
	}
	if (rc) {
		snapshot_put(h->snap);
		free(h->owned);
		free(h);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)h;
	if (fuse_reply_open(req, fi)) {
		snapshot_put(h->snap);
		free(h->owned);
		free(h);
	}
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fileh *h = (struct fileh *)(uintptr_t)fi->fh;

	(void)ino;
	if (off < 0 || (size_t)off >= h->size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > h->size - (size_t)off)
		size = h->size - (size_t)off;
	fuse_reply_buf(req, h->data + off, size);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fileh *h = (struct fileh *)(uintptr_t)fi->fh;

	(void)ino;
	snapshot_put(h->snap);
	free(h->owned);
	free(h);
	fuse_reply_err(req, 0);
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

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	/* Answer every directory read with the plus form. */
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
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
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
};
