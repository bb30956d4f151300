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
#define CTL_NAME       ".gpucloudfs"
#define REFRESH_NAME   "refresh"
#define XATTR_STALE    "user.gpucloudfs.stale"
#define XATTR_ERROR    "user.gpucloudfs.error"
#define XATTR_FETCHED  "user.gpucloudfs.fetched"

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

static void dir_attr_ns(struct stat *st, uint64_t ino, time_t mtime, long nsec)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_mtime = st->st_ctime = st->st_atime = mtime;
	st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = nsec;
	st->st_blksize = 4096;
}

static void dir_attr(struct stat *st, uint64_t ino, time_t mtime)
{
	dir_attr_ns(st, ino, mtime, 0);
}

/*
 * A file's modification time is its object's; its nanoseconds are taken
 * from a hash of its bytes. The kernel keeps file pages across opens (no
 * open requests, see op_init) and drops them when an attribute reply shows
 * another mtime or size: so whatever reply tells it of a new snapshot also
 * invalidates exactly the files whose bytes changed, synchronously.
 */
static void file_attr_ns(struct stat *st, uint64_t ino, size_t size, time_t mtime, uint64_t hash)
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
	st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = (long)(hash % 1000000000ull);
	st->st_blksize = 4096;
}

/* A collection directory changes (nanoseconds included) with every fetch,
 * which also resets the kernel's cached listing of it. */
static void kind_attr(struct stat *st, uint64_t ino, const struct snapshot *s, time_t start)
{
	dir_attr_ns(st, ino, s ? s->fetched_wall : start,
		    s ? (long)(s->fetched_ns % 1000000000ull) : 0);
}

static bool is_dir_type(enum node_type t)
{
	return t != NODE_FILE && t != NODE_CTLFILE && t != NODE_JSONL && t != NODE_REFRESHFILE;
}

/* The request this thread serves (set where an operation may wait for a
 * fetch), so that a wait ends when the kernel interrupts it (Ctrl-C). */
static _Thread_local fuse_req_t current_req;

static bool req_interrupted(void *arg)
{
	(void)arg;
	return current_req && fuse_req_interrupted(current_req);
}

/* The collection's snapshot, fetching it if needed. 0 or a negative errno
 * (-EINTR when the request was interrupted; the fetch goes on for others). */
static int snap_of(struct daemon *d, struct coll_rt *cr, struct snapshot **s)
{
	static const struct cache_cancel cancel = {req_interrupted, NULL};
	struct gcf_error err = GCF_ERROR_INIT;
	int rc = cache_get_cancel(&cr->col, deadline(d), &cancel, s, &err);

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
		/* Never fetched: no fetch just to stat it (ls -l tencent). Fetched
		 * and expired: refetch, so that a cached listing is not served
		 * past its TTL (the kernel asks for the mtime before using it). */
		s = cache_peek(&cr->col);
		if (s && !remaining(cr, s)) {
			snapshot_put(s);
			s = NULL;
			if (snap_of(d, cr, &s))
				s = cache_peek(&cr->col);
		}
		kind_attr(st, ni->ino, s, d->start_wall);
		*tmo = remaining(cr, s);
		snapshot_put(s);
		return 0;
	case NODE_REFRESHFILE: {
		size_t len;
		uint64_t h;

		inodes_content_stat(&d->inodes, ni->ino, &len, &h);
		file_attr_ns(st, ni->ino, len, time(NULL), h);
		*tmo = 0;
		return 0;
	}
	case NODE_CTLFILE: {
		struct buf b = BUF_INIT(BUF_NOLIMIT);
		size_t len;
		uint64_t h;

		/* Made now and kept on the node: reads serve these bytes. */
		rc = ctl_content(d, ni->name, &b);
		if (!rc)
			rc = inodes_set_content(&d->inodes, ni->ino, buf_str(&b), b.len);
		buf_release(&b);
		inodes_content_stat(&d->inodes, ni->ino, &len, &h);
		file_attr_ns(st, ni->ino, len, time(NULL), h);
		*tmo = 0;
		return rc;
	}
	case NODE_JSONL: {
		const char *jl;
		size_t jlen;

		rc = snap_of(d, cr, &s);
		if (!rc)
			rc = snapshot_jsonl(s, &jl, &jlen);
		if (rc) {
			snapshot_put(s);
			return rc;
		}
		file_attr_ns(st, ni->ino, jlen, s->fetched_wall, s->fetched_ns);
		*tmo = remaining(cr, s);
		snapshot_put(s);
		return 0;
	}
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
		if (f) {
			file_attr_ns(st, ni->ino, f->size, e->mtime, f->hash);
			/* What the kernel now believes: reads serve these bytes. */
			inodes_note_hash(&d->inodes, ni->ino, f->hash, s->fetched_ns);
		} else
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

/* An object of main collection m looked up by name before m was ever
 * listed: fetched alone through the API's ID filter when it has one (one
 * request instead of the whole listing). Once m has a listing, even an
 * expired one, the listing is refreshed instead: it is what `ls` shows, and
 * it is served stale if the refresh fails. */
static struct coll_rt *lookup_view(struct coll_rt *m, const char *name)
{
	const char *idf = m->main ? NULL : daemon_id_filter(m->kind);
	struct snapshot *any;
	struct coll_rt *sub = NULL;

	if (!idf || !names_id_is_safe(name, strlen(name)))
		return m;
	any = cache_peek(&m->col);
	if (!any)
		sub = daemon_sub(m, idf, name);
	snapshot_put(any);
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

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct daemon *d = D(req);
	struct fuse_entry_param e;
	struct node_info p, ni;
	enum node_type type;
	void *owner;
	double tmo;
	int rc;

	current_req = req;
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
	if (type == NODE_REFRESHFILE) {
		/* Looking at .gpucloudfs/refresh/<conn>/<kind> refetches it
		 * (there are no open requests: see op_init); the read that
		 * follows gets the outcome. */
		struct buf b = BUF_INIT(BUF_NOLIMIT);

		rc = refresh(d, owner, &b);
		if (!rc)
			rc = inodes_set_content(&d->inodes, e.ino, buf_str(&b), b.len);
		buf_release(&b);
	}
	if (!rc)
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
	current_req = req;
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
	struct buf names; /* every child's name, NUL-separated */
};

static int dir_add(struct dirh *h, const char *name, enum node_type type, void *owner, bool is_file,
		   size_t size, time_t mtime, double tmo)
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

/* Fills h's children, for the directories with a few fixed children
 * (collections and objects are indexed in place: see dir_kid). */
static int list_dir(struct daemon *d, struct dirh *h)
{
	int rc = 0;

	switch (h->self.type) {
	case NODE_ROOT:
		for (size_t i = 0; i < d->nconns && !rc; i++)
			rc = dir_add(h, d->conns[i].conn->name, NODE_CONN, &d->conns[i], false, 0,
				     d->start_wall, STATIC_TIMEOUT);
		return rc ? rc
			  : dir_add(h, CTL_NAME, NODE_CTLDIR, NULL, false, 0, d->start_wall,
				    STATIC_TIMEOUT);
	case NODE_CONN: {
		struct conn_rt *c = h->self.owner;

		for (size_t i = 0; i < c->ncolls && !rc; i++) {
			struct snapshot *s = cache_peek(&c->colls[i].col);
			struct buf jn = BUF_INIT(BUF_NOLIMIT);

			rc = dir_add(h, c->colls[i].kind->dir, NODE_KIND, &c->colls[i], false, 0,
				     s ? s->fetched_wall : d->start_wall,
				     remaining(&c->colls[i], s));
			if (!rc)
				rc = buf_printf(&jn, "%s.jsonl", c->colls[i].kind->dir);
			/* Its size needs the listing: the kernel asks when it wants it. */
			if (!rc)
				rc = dir_add(h, jn.p, NODE_JSONL, &c->colls[i], true,
					     s ? s->jsonl_size : 0,
					     s ? s->fetched_wall : d->start_wall,
					     s ? remaining(&c->colls[i], s) : 0);
			buf_release(&jn);
			snapshot_put(s);
		}
		return rc;
	}
	case NODE_CTLDIR:
		for (const char *const *f = ctl_files; *f && !rc; f++)
			rc = dir_add(h, *f, NODE_CTLFILE, NULL, true, 0, time(NULL), 0);
		return rc ? rc
			  : dir_add(h, REFRESH_NAME, NODE_REFRESHDIR, NULL, false, 0, d->start_wall,
				    STATIC_TIMEOUT);
	case NODE_REFRESHDIR:
		for (size_t i = 0; i < d->nconns && !rc; i++)
			rc = dir_add(h, d->conns[i].conn->name, NODE_REFRESHCONN, &d->conns[i],
				     false, 0, d->start_wall, STATIC_TIMEOUT);
		return rc;
	case NODE_REFRESHCONN:
		/* Empty on purpose: a listed refresh file would be read, and so
		 * refetched, by every grep -r, cp -r, tar or rsync of the mount.
		 * refresh/<conn>/<kind> is looked up by name only. */
		return 0;
	case NODE_FILTERDIR:
		/* Empty on purpose: any value can be looked up (.by-status/RUNNING),
		 * but a listing here would make find and grep -r walk every filtered
		 * view and ask the cloud for each. */
		return 0;
	default:
		return -ENOTDIR;
	}
}

/* What readdir needs of a directory: its snapshot (collections and
 * objects) or its small list of fixed children. Built for each readdir
 * call (there are no opendir requests: see op_init); the kernel caches the
 * listing, so this runs once per directory per refresh. */
static int dir_prepare(struct daemon *d, struct dirh *h)
{
	struct coll_rt *cr = h->self.owner;
	int rc = 0;

	if (h->self.type == NODE_KIND) {
		rc = snap_of(d, cr, &h->snap);
		for (const char *const *f = cr->kind->filters; !rc && !cr->main && f && *f; f++) {
			struct buf fd = BUF_INIT(BUF_NOLIMIT);

			rc = daemon_filter_dir(*f, &fd);
			if (!rc)
				rc = dir_add(h, fd.p, NODE_FILTERDIR, cr, false, 0, d->start_wall,
					     STATIC_TIMEOUT);
			buf_release(&fd);
		}
		return rc;
	}
	if (h->self.type == NODE_ENTRY) {
		rc = entry_snap(d, cr, &h->snap);
		if (!rc && !snapshot_find(h->snap, h->self.name))
			rc = -ENOENT;
		return rc;
	}
	return list_dir(d, h);
}

/* Child i of a prepared directory: name, type, owner and attributes. */
struct kid {
	const char *name;
	enum node_type type;
	void *owner;
	bool is_file;
	size_t size;
	time_t mtime;
	uint64_t hash;
	double tmo;
};

static bool dir_kid(const struct dirh *h, size_t i, struct kid *k)
{
	struct coll_rt *cr = h->self.owner;
	const struct child *c;

	if (h->self.type == NODE_KIND) {
		if (i < h->snap->nentries) {
			const struct entry *e = &h->snap->entries[i];

			*k = (struct kid){e->name, NODE_ENTRY, cr, false,
					  0,       e->mtime,   0,  remaining(cr, h->snap)};
			return true;
		}
		i -= h->snap->nentries;
	} else if (h->self.type == NODE_ENTRY) {
		const struct entry *e = snapshot_find(h->snap, h->self.name);

		if (i >= e->nfiles)
			return false;
		*k = (struct kid){e->files[i].name,
				  NODE_FILE,
				  cr,
				  true,
				  e->files[i].size,
				  e->mtime,
				  e->files[i].hash,
				  remaining(cr, h->snap)};
		return true;
	}
	if (i >= h->n)
		return false;
	c = &h->kids[i];
	*k = (struct kid){
	    h->names.p + c->name_off, c->type, c->owner, c->is_file, c->size, c->mtime, 0, c->tmo};
	return true;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	struct daemon *d = D(req);
	struct dirh h;
	char *p = malloc(size);
	size_t used = 0;
	int rc;

	current_req = req;
	memset(&h, 0, sizeof(h));
	buf_init(&h.names, BUF_NOLIMIT);
	if (!p || inodes_get(&d->inodes, ino, &h.self)) {
		free(p);
		fuse_reply_err(req, p ? ESTALE : ENOMEM);
		return;
	}
	if (!is_dir_type(h.self.type)) {
		free(p);
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	rc = dir_prepare(d, &h);
	if (rc) {
		snapshot_put(h.snap);
		free(h.kids);
		buf_release(&h.names);
		free(p);
		fuse_reply_err(req, -rc);
		return;
	}
	for (size_t i = (size_t)off;; i++) {
		struct fuse_entry_param e;
		struct kid k = {0};
		const char *name;
		size_t need;

		memset(&e, 0, sizeof(e));
		if (i < 2) {
			name = i == 0 ? "." : "..";
			e.attr.st_ino = i == 0 ? ino : h.self.parent ? h.self.parent : ino;
			e.attr.st_mode = S_IFDIR;
		} else if (dir_kid(&h, i - 2, &k)) {
			name = k.name;
			e.attr.st_mode = k.is_file ? S_IFREG : S_IFDIR;
		} else {
			break;
		}
		need = plus ? fuse_add_direntry_plus(req, NULL, 0, name, &e, 0)
			    : fuse_add_direntry(req, NULL, 0, name, &e.attr, 0);
		if (used + need > size)
			break;
		if (i >= 2) {
			uint64_t cino = plus ? inodes_ref(&d->inodes, ino, name, k.type, k.owner)
					     : inodes_find(&d->inodes, ino, name);

			if (plus && !cino)
				break;
			if (k.is_file && k.type == NODE_FILE && plus)
				inodes_note_hash(&d->inodes, cino, k.hash, h.snap->fetched_ns);
			if (k.is_file)
				file_attr_ns(&e.attr, cino, k.size, k.mtime, k.hash);
			else if (k.type == NODE_KIND)
				kind_attr(&e.attr, cino, NULL, k.mtime);
			else
				dir_attr(&e.attr, cino, k.mtime);
			if (plus) {
				e.ino = cino;
				e.attr_timeout = e.entry_timeout = k.tmo;
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
	snapshot_put(h.snap);
	free(h.kids);
	buf_release(&h.names);
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

/* ---- files ----------------------------------------------------------- */

/*
 * Reads come without an open (see op_init) and are served from the latest
 * published snapshot, never waiting for a fetch: the attributes the kernel
 * holds came from a lookup or getattr that already fetched what was due.
 */
static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct daemon *d = D(req);
	struct node_info ni;
	struct snapshot *s = NULL;
	struct coll_rt *cr;
	const char *data = NULL;
	size_t len = 0;

	(void)fi;
	if (inodes_get(&d->inodes, ino, &ni)) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	cr = ni.owner;
	switch (ni.type) {
	case NODE_CTLFILE:
	case NODE_REFRESHFILE: {
		char *p = malloc(size ? size : 1);
		ssize_t n = p ? inodes_read_content(&d->inodes, ino, off, size, p) : -ENOMEM;

		if (n < 0)
			fuse_reply_err(req, (int)-n);
		else
			fuse_reply_buf(req, p, (size_t)n);
		free(p);
		return;
	}
	case NODE_JSONL:
		s = cache_peek(&cr->col);
		if (s && snapshot_jsonl(s, &data, &len))
			data = NULL;
		break;
	case NODE_FILE: {
		const struct entry *e;
		const struct file *f;

		if (cr->by_id && cr->main)
			s = cache_peek_fresh(&cr->main->col);
		if (!s)
			s = cache_peek(&cr->col);
		e = snapshot_find(s, ni.parent_name);
		f = e ? entry_file(e, ni.name) : NULL;
		if (ni.content_hash && (!f || f->hash != ni.content_hash)) {
			/* A refresh published since the kernel took this file's size:
			 * serve the bytes that size belongs to, if still held. */
			struct snapshot *p = cache_peek_prev(&cr->col);
			const struct entry *pe = snapshot_find(p, ni.parent_name);
			const struct file *pf = pe ? entry_file(pe, ni.name) : NULL;

			if (pf && pf->hash == ni.content_hash) {
				snapshot_put(s);
				s = p;
				f = pf;
			} else {
				snapshot_put(p);
			}
		}
		if (f) {
			data = f->data;
			len = f->size;
		}
		break;
	}
	default:
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (!data) {
		snapshot_put(s);
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (off < 0 || (size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, data + off,
			       len - (size_t)off < size ? len - (size_t)off : size);
	snapshot_put(s);
}

/* ---- no open, no opendir --------------------------------------------- */

/* ENOSYS tells the kernel, once and for all, that opens need no request:
 * it then keeps pages and listings across opens (see op_init). */
static void op_open_enosys(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino, (void)fi;
	fuse_reply_err(req, ENOSYS);
}

/* ---- extended attributes: a collection's freshness -------------------- */

static const char xattr_names[] = XATTR_STALE "\0" XATTR_ERROR "\0" XATTR_FETCHED;

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct daemon *d = D(req);

	/* xattr = no: ENOSYS makes the kernel stop asking for every file's
	 * security.selinux (ls -l), at the price of the freshness xattrs. */
	if (!d->cfg.xattr) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	struct node_info ni;
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct gcf_error le = GCF_ERROR_INIT;
	struct snapshot *s;
	bool stale = false;
	int rc = 0;

	/* Only user.* exists here. EOPNOTSUPP (not ENODATA) for the other
	 * namespaces: ls -l asks every file for security.selinux, and on that
	 * answer it stops asking for the rest of the mount (coreutils keeps
	 * the device it found unsupported), so ls -lR costs one request, not
	 * one per file. With FUSE_CAP_POSIX_ACL the kernel itself answers
	 * system.posix_acl_* from its own cache: no ACLs anywhere. */
	if (strncmp(name, "user.", 5)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
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

	if (!d->cfg.xattr) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
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

/*
 * The settings that let the kernel answer a warm traversal from its own
 * caches (docs/architecture.md has the figures):
 * - no OPEN and no OPENDIR requests (the first is answered ENOSYS): the
 *   kernel then keeps file pages and cached listings across opens until an
 *   attribute reply or an invalidation says they changed;
 * - READDIRPLUS for every listing, so a listing also answers the lookups;
 * - AUTO_INVAL_DATA: a new mtime or size in any attribute reply drops the
 *   cached pages (file mtimes carry a hash of the bytes: see file_attr_ns).
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
