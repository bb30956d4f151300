/*
 * ops.c - the FUSE low-level operations (see ops.h; docs/architecture.md
 * says why the low-level API): lookup, getattr, opendir/readdir(plus),
 * open/read, getxattr/listxattr, statfs, forget, and EROFS for everything
 * that would write. Glue only: resolve the inode, ask the cache, fill the
 * reply.
 *
 * The tree, by node type (inode.h):
 *   /                         ROOT       connections + .gpucloudfs
 *   /tencent                  CONN       kinds + <kind>.jsonl
 *   /tencent/tasks            KIND       objects (+ hidden .by-<filter> dirs)
 *   /tencent/tasks.jsonl      JSONL      one object per line, same snapshot
 *   /tencent/tasks/.by-status FILTERDIR  lists nothing; a lookup of any value works
 *   /tencent/tasks/.by-status/RUNNING    KIND of a filtered collection
 *   /tencent/tasks/<name>     ENTRY      info.json + one file per scalar field
 *   /tencent/tasks/<name>/status  FILE
 *   /.gpucloudfs              CTLDIR     config errors stats.json version refresh/
 *   /.gpucloudfs/refresh/tencent/tasks   REFRESHFILE: reading it refetches, synchronously
 *
 * Timeouts given to the kernel are the time the snapshot has left before its
 * TTL runs out, so the kernel answers repeated lookups and getattrs itself
 * while the data is fresh; when a refresh publishes a new snapshot, the
 * notifier (notify.h) drops exactly what changed from the kernel's caches.
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
#define REFRESH_NAME "refresh"
#define XATTR_STALE "user.gpucloudfs.stale"
#define XATTR_ERROR "user.gpucloudfs.error"
#define XATTR_FETCHED "user.gpucloudfs.fetched"

static const char *const ctl_files[] = {"config", "errors", "stats.json", "version", NULL};

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
	uint64_t now = http_now_ns(), age;

	if (!s || !s->fetched_ns)
		return 0;
	age = now - s->fetched_ns;
	if (age >= cr->col.ttl_ns)
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

static bool is_dir_type(enum node_type t)
{
	return t != NODE_FILE && t != NODE_CTLFILE && t != NODE_JSONL && t != NODE_REFRESHFILE;
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

/* The snapshot that holds cr's objects: an object fetched alone by its ID
 * is answered from the full listing whenever that one is fresh. */
static int entry_snap(struct daemon *d, struct coll_rt *cr, struct snapshot **s)
{
	if (cr->by_id && cr->main) {
		*s = cache_peek_fresh(&cr->main->col);
		if (*s)
			return 0;
	}
	return snap_of(d, cr, s);
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
	if (!strcmp(name, "stats.json"))
		return daemon_stats_json(d, out);
	return -ENOENT;
}

static bool is_ctl_file(const char *name)
{
	for (const char *const *f = ctl_files; *f; f++)
		if (!strcmp(*f, name))
			return true;
	return false;
}

/* The filter of main collection m whose directory is called name, or NULL. */
static const char *filter_of(const struct coll_rt *m, const char *name)
{
	for (const char *const *f = m->kind->filters; f && *f; f++) {
		struct buf b = BUF_INIT(BUF_NOLIMIT);
		bool same = !daemon_filter_dir(*f, &b) && !strcmp(b.p, name);

		buf_release(&b);
		if (same)
			return *f;
	}
	return NULL;
}

/* ---- attributes of a node -------------------------------------------- */

/* Fills st and the timeout for node ni; 0 or a negative errno. Objects and
 * their files need their collection's snapshot (fetched when expired). */
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
	case NODE_FILTERDIR:
	case NODE_REFRESHDIR:
	case NODE_REFRESHCONN:
		dir_attr(st, ni->ino, d->start_wall);
		return 0;
	case NODE_KIND:
		s = cache_peek(&cr->col);
		dir_attr(st, ni->ino, s ? s->fetched_wall : d->start_wall);
		*tmo = remaining(cr, s);
		snapshot_put(s);
		return 0;
	case NODE_REFRESHFILE:
		file_attr(st, ni->ino, 0, time(NULL));
		*tmo = 0;
		return 0;
	case NODE_CTLFILE: {
		struct buf b = BUF_INIT(BUF_NOLIMIT);

		rc = ctl_content(d, ni->name, &b);
		file_attr(st, ni->ino, b.len, time(NULL));
		buf_release(&b);
		*tmo = 0;
		return rc;
	}
	case NODE_JSONL:
		rc = snap_of(d, cr, &s);
		if (rc)
			return rc;
		file_attr(st, ni->ino, s->jsonl_size, s->fetched_wall);
		*tmo = remaining(cr, s);
		snapshot_put(s);
		return 0;
	case NODE_ENTRY:
	case NODE_FILE:
		break;
	}
	rc = entry_snap(d, cr, &s);
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

/* ---- lookup ---------------------------------------------------------- */

static struct coll_rt *conn_kind(struct conn_rt *c, const char *dir)
{
	for (size_t i = 0; i < c->ncolls; i++)
		if (!strcmp(c->colls[i].kind->dir, dir))
			return &c->colls[i];
	return NULL;
}

/* "tasks.jsonl" -> the tasks collection of c, or NULL. */
static struct coll_rt *conn_jsonl(struct conn_rt *c, const char *name)
{
	size_t n = strlen(name);

	if (n <= 6 || strcmp(name + n - 6, ".jsonl"))
		return NULL;
	for (size_t i = 0; i < c->ncolls; i++)
		if (strlen(c->colls[i].kind->dir) == n - 6 &&
		    !strncmp(c->colls[i].kind->dir, name, n - 6))
			return &c->colls[i];
	return NULL;
}

/* An object of main collection m looked up by name while m has no fresh
 * listing: fetched alone through the API's ID filter when it has one. */
static struct coll_rt *lookup_view(struct coll_rt *m, const char *name)
{
	const char *idf = m->main ? NULL : daemon_id_filter(m->kind);
	struct snapshot *f;
	struct coll_rt *sub = NULL;

	if (!idf || !names_id_is_safe(name, strlen(name)))
		return m;
	f = cache_peek_fresh(&m->col);
	if (!f)
		sub = daemon_sub(m, idf, name);
	snapshot_put(f);
	return sub ? sub : m;
}

/* Resolves name under parent p: the child's type and owner, or a negative
 * errno; for a missing object, *neg_tmo is how long the kernel may remember
 * that. Fetches the collection for objects and their files. */
static int child_of(struct daemon *d, const struct node_info *p, const char *name,
		    enum node_type *type, void **owner, double *neg_tmo)
{
	struct coll_rt *cr = p->owner, *view;
	struct snapshot *s = NULL;
	const struct entry *e;
	int rc;

	*neg_tmo = 0;
	*owner = NULL;
	switch (p->type) {
	case NODE_ROOT:
		if (!strcmp(name, CTL_NAME)) {
			*type = NODE_CTLDIR;
			return 0;
		}
		*type = NODE_CONN;
		*owner = daemon_conn(d, name);
		return *owner ? 0 : -ENOENT;
	case NODE_CONN:
	case NODE_REFRESHCONN:
		*owner = conn_kind(p->owner, name);
		*type = p->type == NODE_CONN ? NODE_KIND : NODE_REFRESHFILE;
		if (!*owner && p->type == NODE_CONN) {
			*owner = conn_jsonl(p->owner, name);
			*type = NODE_JSONL;
		}
		return *owner ? 0 : -ENOENT;
	case NODE_CTLDIR:
		if (!strcmp(name, REFRESH_NAME)) {
			*type = NODE_REFRESHDIR;
			return 0;
		}
		*type = NODE_CTLFILE;
		return is_ctl_file(name) ? 0 : -ENOENT;
	case NODE_REFRESHDIR:
		*type = NODE_REFRESHCONN;
		*owner = daemon_conn(d, name);
		return *owner ? 0 : -ENOENT;
	case NODE_FILTERDIR: {
		const char *filter = filter_of(cr, p->name);
		struct buf v = BUF_INIT(4096);

		if (!filter || names_decode(name, &v))
			rc = -ENOENT;
		else
			rc = (*owner = daemon_sub(cr, filter, buf_str(&v))) ? 0 : -ENOSPC;
		buf_release(&v);
		*type = NODE_KIND;
		return rc;
	}
	case NODE_KIND:
		if (name[0] == '.') { /* objects never start with '.': filter dirs */
			*type = NODE_FILTERDIR;
			*owner = cr;
			return !cr->main && filter_of(cr, name) ? 0 : -ENOENT;
		}
		view = lookup_view(cr, name);
		rc = entry_snap(d, view, &s);
		if (rc)
			return rc;
		e = snapshot_find(s, name);
		*neg_tmo = remaining(view, s);
		snapshot_put(s);
		*type = NODE_ENTRY;
		*owner = view;
		return e ? 0 : -ENOENT;
	case NODE_ENTRY:
		rc = entry_snap(d, cr, &s);
		if (rc)
			return rc;
		e = snapshot_find(s, p->name);
		rc = e && entry_file(e, name) ? 0 : -ENOENT;
		*neg_tmo = remaining(cr, s);
		snapshot_put(s);
		*type = NODE_FILE;
		*owner = cr;
		return rc;
	case NODE_FILE:
	case NODE_CTLFILE:
	case NODE_JSONL:
	case NODE_REFRESHFILE:
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
	rc = child_of(d, &p, name, &type, &owner, &tmo);
	if (rc == -ENOENT && tmo > 0) {
		/* The kernel remembers the miss while the snapshot is fresh. */
		e.entry_timeout = tmo;
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

/* One child of an open directory, with what its attributes need. */
struct child {
	size_t name_off; /* into dirh.names */
	enum node_type type;
	void *owner;
	bool is_file;
	size_t size;
	time_t mtime;
	double tmo;
};

/* An open directory: its children, fixed at opendir. */
struct dirh {
	struct node_info self;
	struct snapshot *snap; /* holds the entries' names alive */
	struct child *kids;
	size_t n, cap;
	struct buf names;      /* every child's name, NUL-separated */
};

static int dir_add(struct dirh *h, const char *name, enum node_type type, void *owner,
		   bool is_file, size_t size, time_t mtime, double tmo)
{
	struct child *k;
	size_t off = h->names.len;
	int rc;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		struct child *v = realloc(h->kids, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->kids = v;
		h->cap = cap;
	}
	rc = buf_add(&h->names, name, strlen(name) + 1);
	if (rc)
		return rc;
	k = &h->kids[h->n++];
	k->name_off = off;
	k->type = type;
	k->owner = owner;
	k->is_file = is_file;
	k->size = size;
	k->mtime = mtime;
	k->tmo = tmo;
	return 0;
}

static void dirh_free(struct dirh *h)
{
	if (!h)
		return;
	snapshot_put(h->snap);
	free(h->kids);
	buf_release(&h->names);
	free(h);
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct values of a filter's field in m's current listing (no
 * fetch). Not listed by readdir: `find` and `grep -r` would then walk every
 * filtered view and ask the cloud for each; kept for a future index file. */
static __attribute__((unused)) int list_filter_values(struct dirh *h, struct coll_rt *m)
{
	struct snapshot *s = cache_peek(&m->col);
	const char *filter = filter_of(m, h->self.name);
	struct buf field = BUF_INIT(BUF_NOLIMIT);
	char **vals = NULL;
	size_t n = 0;
	int rc = 0;

	if (!s || !filter || names_snake(filter, &field))
		goto out;
	vals = calloc(s->nentries + 1, sizeof(*vals));
	if (!vals) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->nentries; i++) {
		const struct file *f = entry_file(&s->entries[i], field.p);

		if (!f || f->size < 2) /* scalar files end in a newline */
			continue;
		vals[n] = strndup(f->data, f->size - 1);
		if (!vals[n]) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	qsort(vals, n, sizeof(*vals), cmp_strp);
	for (size_t i = 0; i < n && !rc; i++) {
		struct buf name = BUF_INIT(BUF_NOLIMIT);
		struct coll_rt *sub;

		if (i && !strcmp(vals[i], vals[i - 1]))
			continue;
		rc = names_from_id(vals[i], strlen(vals[i]), &name);
		sub = rc ? NULL : daemon_sub(m, filter, vals[i]);
		if (sub)
			rc = dir_add(h, name.p, NODE_KIND, sub, false, 0, s->fetched_wall, 0);
		buf_release(&name);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(vals[i]);
	free(vals);
	buf_release(&field);
	snapshot_put(s);
	return rc;
}

/* Fills h's children. Fetches for collections and objects. */
static int list_dir(struct daemon *d, struct dirh *h)
{
	struct coll_rt *cr = h->self.owner;
	const struct entry *e;
	int rc = 0;

	switch (h->self.type) {
	case NODE_ROOT:
		for (size_t i = 0; i < d->nconns && !rc; i++)
			rc = dir_add(h, d->conns[i].conn->name, NODE_CONN, &d->conns[i], false, 0,
				     d->start_wall, STATIC_TIMEOUT);
		return rc ? rc : dir_add(h, CTL_NAME, NODE_CTLDIR, NULL, false, 0, d->start_wall,
					 STATIC_TIMEOUT);
	case NODE_CONN: {
		struct conn_rt *c = h->self.owner;

		for (size_t i = 0; i < c->ncolls && !rc; i++) {
			struct snapshot *s = cache_peek(&c->colls[i].col);
			struct buf jn = BUF_INIT(BUF_NOLIMIT);

			rc = dir_add(h, c->colls[i].kind->dir, NODE_KIND, &c->colls[i], false, 0,
				     s ? s->fetched_wall : d->start_wall, remaining(&c->colls[i], s));
			if (!rc)
				rc = buf_printf(&jn, "%s.jsonl", c->colls[i].kind->dir);
			/* Its size needs the listing: the kernel asks when it wants it. */
			if (!rc)
				rc = dir_add(h, jn.p, NODE_JSONL, &c->colls[i], true,
					     s ? s->jsonl_size : 0, s ? s->fetched_wall : d->start_wall,
					     s ? remaining(&c->colls[i], s) : 0);
			buf_release(&jn);
			snapshot_put(s);
		}
		return rc;
	}
	case NODE_CTLDIR:
		for (const char *const *f = ctl_files; *f && !rc; f++)
			rc = dir_add(h, *f, NODE_CTLFILE, NULL, true, 0, time(NULL), 0);
		return rc ? rc : dir_add(h, REFRESH_NAME, NODE_REFRESHDIR, NULL, false, 0,
					 d->start_wall, STATIC_TIMEOUT);
	case NODE_REFRESHDIR:
		for (size_t i = 0; i < d->nconns && !rc; i++)
			rc = dir_add(h, d->conns[i].conn->name, NODE_REFRESHCONN, &d->conns[i],
				     false, 0, d->start_wall, STATIC_TIMEOUT);
		return rc;
	case NODE_REFRESHCONN: {
		struct conn_rt *c = h->self.owner;

		for (size_t i = 0; i < c->ncolls && !rc; i++)
			rc = dir_add(h, c->colls[i].kind->dir, NODE_REFRESHFILE, &c->colls[i], true,
				     0, time(NULL), 0);
		return rc;
	}
	case NODE_FILTERDIR:
		/* Empty on purpose: any value can be looked up (.by-status/RUNNING),
		 * but a listing here would make find and grep -r walk every filtered
		 * view and ask the cloud for each. */
		return 0;
	case NODE_KIND:
		rc = snap_of(d, cr, &h->snap);
		for (size_t i = 0; !rc && i < h->snap->nentries; i++)
			rc = dir_add(h, h->snap->entries[i].name, NODE_ENTRY, cr, false, 0,
				     h->snap->entries[i].mtime, remaining(cr, h->snap));
		for (const char *const *f = cr->kind->filters; !rc && !cr->main && f && *f; f++) {
			struct buf fd = BUF_INIT(BUF_NOLIMIT);

			rc = daemon_filter_dir(*f, &fd);
			if (!rc)
				rc = dir_add(h, fd.p, NODE_FILTERDIR, cr, false, 0, d->start_wall,
					     STATIC_TIMEOUT);
			buf_release(&fd);
		}
		return rc;
	case NODE_ENTRY:
		rc = entry_snap(d, cr, &h->snap);
		if (rc)
			return rc;
		e = snapshot_find(h->snap, h->self.name);
		if (!e)
			return -ENOENT;
		for (size_t i = 0; i < e->nfiles && !rc; i++)
			rc = dir_add(h, e->files[i].name, NODE_FILE, cr, true, e->files[i].size,
				     e->mtime, remaining(cr, h->snap));
		return rc;
	default:
		return -ENOTDIR;
	}
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct daemon *d = D(req);
	struct dirh *h = calloc(1, sizeof(*h));
	int rc;

	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	buf_init(&h->names, BUF_NOLIMIT);
	if (inodes_get(&d->inodes, ino, &h->self)) {
		dirh_free(h);
		fuse_reply_err(req, ESTALE);
		return;
	}
	rc = list_dir(d, h);
	if (rc) {
		dirh_free(h);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)h;
	if (fuse_reply_open(req, fi))
		dirh_free(h);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct daemon *d = D(req);
	struct dirh *h = (struct dirh *)(uintptr_t)fi->fh;
	char *p = malloc(size);
	size_t used = 0;

	if (!p) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = (size_t)off; i < h->n + 2; i++) {
		struct fuse_entry_param e;
		const struct child *k = i >= 2 ? &h->kids[i - 2] : NULL;
		const char *name = k ? h->names.p + k->name_off : i == 0 ? "." : "..";
		size_t need;

		memset(&e, 0, sizeof(e));
		e.attr.st_ino = i == 0 ? ino : h->self.parent ? h->self.parent : ino;
		e.attr.st_mode = k && k->is_file ? S_IFREG : S_IFDIR;
		need = plus ? fuse_add_direntry_plus(req, NULL, 0, name, &e, 0)
			    : fuse_add_direntry(req, NULL, 0, name, &e.attr, 0);
		if (used + need > size)
			break;
		if (k) {
			uint64_t cino = plus ? inodes_ref(&d->inodes, ino, name, k->type, k->owner)
					     : inodes_find(&d->inodes, ino, name);

			if (plus && !cino)
				break;
			if (k->is_file)
				file_attr(&e.attr, cino, k->size, k->mtime);
			else
				dir_attr(&e.attr, cino, k->mtime);
			if (plus) {
				e.ino = cino;
				e.attr_timeout = e.entry_timeout = k->tmo;
			} else if (!cino) {
				e.attr.st_ino = 0xffffffffu; /* not known yet: looked up on use */
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
	(void)ino;
	dirh_free((struct dirh *)(uintptr_t)fi->fh);
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

/* Refetches a collection now (and its filtered views at their next use),
 * waits until the kernel's caches of it are invalidated, and describes the
 * result. A failure is returned, never hidden behind the old listing. */
static int refresh(struct daemon *d, struct coll_rt *m, struct buf *out)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *s = NULL;
	uint64_t dl = deadline(d), t0 = http_now_ns();
	bool stale = false;
	int rc;

	cache_invalidate(&m->col);
	pthread_mutex_lock(&m->subs_mu);
	for (size_t i = 0; i < m->nsubs; i++)
		cache_invalidate(&m->subs[i]->col);
	pthread_mutex_unlock(&m->subs_mu);
	rc = cache_get(&m->col, dl, &s, &err);
	if (!rc) {
		cache_status(&m->col, &stale, NULL, NULL);
		if (stale) {
			cache_status(&m->col, NULL, &err, NULL);
			rc = err.errnum ? -err.errnum : -EIO;
		}
	}
	if (!rc) {
		notify_flush(&d->notifier, dl);
		rc = buf_printf(out, "%s/%s: %zu objects, fetched in %.3f s\n", m->cr->conn->name,
				m->kind->dir, s->nentries, (double)(http_now_ns() - t0) / 1e9);
	}
	snapshot_put(s);
	gcf_error_release(&err);
	return rc;
}

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
	if (is_dir_type(ni.type)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (ni.type == NODE_CTLFILE || ni.type == NODE_REFRESHFILE) {
		struct buf b = BUF_INIT(BUF_NOLIMIT);

		rc = ni.type == NODE_CTLFILE ? ctl_content(d, ni.name, &b)
					     : refresh(d, ni.owner, &b);
		h->size = b.len;
		h->owned = buf_detach(&b, NULL);
		h->data = h->owned;
		if (!rc && !h->owned)
			rc = -ENOMEM;
		fi->direct_io = 1; /* made at open: no page cache, size not known before */
	} else if (ni.type == NODE_JSONL) {
		rc = snap_of(d, ni.owner, &h->snap);
		if (!rc) {
			h->data = h->snap->jsonl;
			h->size = h->snap->jsonl_size;
		}
	} else {
		rc = entry_snap(d, ni.owner, &h->snap);
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

/* ---- extended attributes: a collection's freshness -------------------- */

static const char xattr_names[] = XATTR_STALE "\0" XATTR_ERROR "\0" XATTR_FETCHED;

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct daemon *d = D(req);
	struct node_info ni;
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct gcf_error le = GCF_ERROR_INIT;
	struct snapshot *s;
	bool stale = false;
	int rc = 0;

	if (inodes_get(&d->inodes, ino, &ni) || ni.type != NODE_KIND) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	cache_status(&((struct coll_rt *)ni.owner)->col, &stale, &le, NULL);
	if (!strcmp(name, XATTR_STALE)) {
		rc = buf_addstr(&b, stale ? "1" : "0");
	} else if (!strcmp(name, XATTR_ERROR)) {
		rc = le.errnum ? gcf_error_format(&le, &b) : -ENODATA;
	} else if (!strcmp(name, XATTR_FETCHED)) {
		s = cache_peek(&((struct coll_rt *)ni.owner)->col);
		if (s) {
			char when[32];
			struct tm tm;

			gmtime_r(&s->fetched_wall, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			rc = buf_addstr(&b, when);
		} else {
			rc = -ENODATA;
		}
		snapshot_put(s);
	} else {
		rc = -ENODATA;
	}
	if (rc)
		fuse_reply_err(req, -rc);
	else if (!size)
		fuse_reply_xattr(req, b.len);
	else if (size < b.len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf_str(&b), b.len);
	buf_release(&b);
	gcf_error_release(&le);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct daemon *d = D(req);
	struct node_info ni;
	size_t n = sizeof(xattr_names);

	if (inodes_get(&d->inodes, ino, &ni) || ni.type != NODE_KIND)
		n = 0;
	if (!size)
		fuse_reply_xattr(req, n);
	else if (size < n)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, xattr_names, n);
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
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.setxattr = op_setxattr,
	.removexattr = op_unlink,
};
