/*
 * tree.c - the rows of the cloud part of the tree (root, connection,
 * collection, object, field file, .jsonl, filter directory) and the
 * operations that dispatch to a node's row. See tree.h; the rows of
 * /.gpucloudfs are in control.c.
 */
#include "tree.h"
#include "gcf_hash.h"
#include "clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

#define NS 1000000000ull

void tree_ctx_init(struct tree_ctx *t, struct daemon *d, const struct cache_cancel *cancel)
{
	t->d = d;
	t->deadline_ns = clock_now_ns() + d->op_timeout_ns;
	t->cancel = cancel;
}

/* ---- helpers ----------------------------------------------------------- */

double tree_remaining(const struct coll_rt *cr, const struct snapshot *s)
{
	uint64_t now = clock_now_ns(), age;

	if (!s || !s->fetched_ns)
		return 0;
	age = now - s->fetched_ns;
	if (age >= cr->col.ttl_ns)
		return 0;
	return (double)(cr->col.ttl_ns - age) / 1e9;
}

void tree_dir_attr(struct stat *st, uint64_t ino, time_t mtime, long nsec)
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

/* The kernel keeps file pages across opens (no open requests, see ops.c)
 * and drops them when an attribute reply shows another mtime or size: so
 * whatever reply tells it of a new snapshot also invalidates exactly the
 * files whose bytes changed, synchronously. */
void tree_file_attr(struct stat *st, uint64_t ino, size_t size, time_t mtime, uint64_t hash)
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
	st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = (long)(hash % NS);
	st->st_blksize = 4096;
}

int tree_static_dir_attr(const struct tree_ctx *t, const struct node_info *ni, struct stat *st,
			 double *tmo)
{
	tree_dir_attr(st, ni->ino, t->d->start_wall, 0);
	*tmo = TREE_STATIC_TIMEOUT;
	return 0;
}

int tree_empty_list(const struct tree_ctx *t, struct tree_dir *h)
{
	return 0;
}

int tree_snap(const struct tree_ctx *t, struct coll_rt *cr, struct snapshot **s)
{
	struct gcf_error err = GCF_ERROR_INIT;
	int rc = cache_get_cancel(&cr->col, t->deadline_ns, t->cancel, s, &err);

	if (rc && err.cls == GCF_TIMEOUT && !err.conn)
		log_warn("%s/%s: %s", cr->cr->conn->name, cr->kind->dir,
			 err.message ? err.message : "timed out");
	gcf_error_release(&err);
	return rc;
}

/* The snapshot that holds cr's objects: an object fetched alone by its ID
 * is answered from the full listing whenever that one is fresh. */
static int entry_snap(const struct tree_ctx *t, struct coll_rt *cr, struct snapshot **s)
{
	if (cr->by_id && cr->main) {
		*s = cache_peek_fresh(&cr->main->col);
		if (*s)
			return 0;
	}
	return tree_snap(t, cr, s);
}

/* A hash of the names s lists (never 0). */
static uint64_t listing_hash(const struct snapshot *s)
{
	uint64_t h = GCF_FNV1A_BASIS;

	for (size_t i = 0; i < s->nentries; i++) /* each name with its NUL */
		h = gcf_fnv1a(h, s->entries[i].name, strlen(s->entries[i].name) + 1);
	return h ? h : 1;
}

/* A collection directory's times (docs/architecture.md): those reported
 * before its first fetch (the mount's start) until a later snapshot
 * changes the listing, then that snapshot's fetch time, nanoseconds
 * included. So the first fetch changes nothing a stat shows (GNU tar
 * compares a directory's ctime before and after reading it), and a changed
 * listing moves the mtime, which also resets the kernel's cached listing. */
static void coll_dir_time(struct daemon *d, uint64_t ino, const struct snapshot *s, time_t *sec,
			  long *nsec)
{
	uint64_t when = s ? (uint64_t)s->fetched_wall * NS + s->fetched_ns % NS : 0;
	uint64_t at = inodes_dir_time(&d->inodes, ino, s ? listing_hash(s) : 0, when,
				      (uint64_t)d->start_wall * NS);

	*sec = (time_t)(at / NS);
	*nsec = (long)(at % NS);
}

/* The collection of connection c whose directory is dir, or NULL. */
struct coll_rt *tree_conn_kind(struct conn_rt *c, const char *dir)
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

/* The filter of main collection m whose directory is called name, or NULL. */
static const char *filter_of(const struct coll_rt *m, const char *name)
{
	for (const char *const *f = m->kind->filters; f && *f; f++) {
		struct buf b = BUF_INIT(BUF_NOLIMIT);
		bool same = !views_filter_dir(*f, &b) && !strcmp(b.p, name);

		buf_release(&b);
		if (same)
			return *f;
	}
	return NULL;
}

int tree_dir_add(struct tree_dir *h, const struct tree_kid *k)
{
	char *name;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		struct tree_kid *v = realloc(h->kids, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->kids = v;
		h->cap = cap;
	}
	name = strdup(k->name);
	if (!name)
		return -ENOMEM;
	h->kids[h->n] = *k;
	h->kids[h->n++].name = name;
	return 0;
}

void tree_data_slice(struct tree_data *out, const char *data, size_t len, off_t off, size_t size)
{
	if (off < 0 || (size_t)off >= len) {
		out->p = NULL;
		out->len = 0;
		return;
	}
	out->p = data + off;
	out->len = len - (size_t)off < size ? len - (size_t)off : size;
}

/* ---- ROOT: connections + .gpucloudfs ---------------------------------- */

static int root_lookup(const struct tree_ctx *t, const struct node_info *p, const char *name,
		       struct tree_child *c)
{
	if (!strcmp(name, CONTROL_DIR)) {
		c->type = NODE_CTLDIR;
		return 0;
	}
	c->type = NODE_CONN;
	c->owner = daemon_conn(t->d, name);
	return c->owner ? 0 : -ENOENT;
}

static int root_list(const struct tree_ctx *t, struct tree_dir *h)
{
	struct daemon *d = t->d;
	struct tree_kid k = {.type = NODE_CONN, .mtime = d->start_wall, .tmo = TREE_STATIC_TIMEOUT};
	int rc = 0;

	for (size_t i = 0; i < d->nconns && !rc; i++) {
		k.name = d->conns[i].conn->name;
		k.owner = &d->conns[i];
		rc = tree_dir_add(h, &k);
	}
	k.name = CONTROL_DIR;
	k.type = NODE_CTLDIR;
	k.owner = NULL;
	return rc ? rc : tree_dir_add(h, &k);
}

/* ---- CONN: kinds + <kind>.jsonl --------------------------------------- */

static int conn_lookup(const struct tree_ctx *t, const struct node_info *p, const char *name,
		       struct tree_child *c)
{
	c->type = NODE_KIND;
	c->owner = tree_conn_kind(p->owner, name);
	if (!c->owner) {
		c->type = NODE_JSONL;
		c->owner = conn_jsonl(p->owner, name);
	}
	return c->owner ? 0 : -ENOENT;
}

static int conn_list(const struct tree_ctx *t, struct tree_dir *h)
{
	struct conn_rt *c = h->self.owner;
	int rc = 0;

	for (size_t i = 0; i < c->ncolls && !rc; i++) {
		struct coll_rt *cr = &c->colls[i];
		struct snapshot *s = cache_peek(&cr->col);
		struct buf jn = BUF_INIT(BUF_NOLIMIT);
		struct tree_kid k = {.name = cr->kind->dir, .type = NODE_KIND, .owner = cr};

		coll_dir_time(t->d, cr->ino, s, &k.mtime, &k.nsec);
		k.tmo = tree_remaining(cr, s);
		rc = tree_dir_add(h, &k);
		if (!rc)
			rc = buf_printf(&jn, "%s.jsonl", cr->kind->dir);
		/* Its size needs the listing: the kernel asks when it wants it. */
		if (!rc) {
			k = (struct tree_kid){.name = jn.p,
					      .type = NODE_JSONL,
					      .owner = cr,
					      .is_file = true,
					      .size = s ? s->jsonl_size : 0,
					      .mtime = s ? s->content_wall : t->d->start_wall,
					      .hash = s ? s->content_hash : 0,
					      .tmo = s ? tree_remaining(cr, s) : 0};
			rc = tree_dir_add(h, &k);
		}
		buf_release(&jn);
		snapshot_put(s);
	}
	return rc;
}

/* ---- KIND: a collection (or a filtered view of one) -------------------- */

static int kind_attr(const struct tree_ctx *t, const struct node_info *ni, struct stat *st,
		     double *tmo)
{
	struct coll_rt *cr = ni->owner;
	struct snapshot *s = cache_peek(&cr->col);
	time_t sec;
	long nsec;

	/* Never fetched: no fetch just to stat it (ls -l tencent). Fetched and
	 * expired: refetch, so that a cached listing is not served past its TTL
	 * (the kernel asks for the mtime before using it). */
	if (s && !tree_remaining(cr, s)) {
		snapshot_put(s);
		s = NULL;
		if (tree_snap(t, cr, &s))
			s = cache_peek(&cr->col);
	}
	coll_dir_time(t->d, ni->ino, s, &sec, &nsec);
	tree_dir_attr(st, ni->ino, sec, nsec);
	*tmo = tree_remaining(cr, s);
	snapshot_put(s);
	return 0;
}

/* An object of main collection m looked up by name before m was ever
 * listed: fetched alone through the API's ID filter when it has one (one
 * request instead of the whole listing). Once m has a listing, even an
 * expired one, the listing is refreshed instead: it is what `ls` shows, and
 * it is served stale if the refresh fails. */
static struct coll_rt *lookup_view(struct coll_rt *m, const char *name)
{
	const char *idf = m->main ? NULL : views_id_filter(m->kind);
	struct snapshot *any;
	struct coll_rt *sub = NULL;

	if (!idf || !names_id_is_safe(name, strlen(name)))
		return m;
	any = cache_peek(&m->col);
	if (!any)
		sub = views_get(m, idf, name);
	snapshot_put(any);
	return sub ? sub : m;
}

static int kind_lookup(const struct tree_ctx *t, const struct node_info *p, const char *name,
		       struct tree_child *c)
{
	struct coll_rt *cr = p->owner, *view;
	struct snapshot *s = NULL;
	bool found;
	int rc;

	if (name[0] == '.') { /* objects never start with '.': filter dirs */
		c->type = NODE_FILTERDIR;
		c->owner = cr;
		return !cr->main && filter_of(cr, name) ? 0 : -ENOENT;
	}
	view = lookup_view(cr, name);
	rc = entry_snap(t, view, &s);
	if (rc)
		return rc;
	found = snapshot_find(s, name) != NULL;
	c->neg_tmo = tree_remaining(view, s);
	snapshot_put(s);
	c->type = NODE_ENTRY;
	c->owner = view;
	return found ? 0 : -ENOENT;
}

static int kind_list(const struct tree_ctx *t, struct tree_dir *h)
{
	struct coll_rt *cr = h->self.owner;
	struct tree_kid k = {.type = NODE_FILTERDIR,
			     .owner = cr,
			     .mtime = t->d->start_wall,
			     .tmo = TREE_STATIC_TIMEOUT};
	int rc = tree_snap(t, cr, &h->snap);

	for (const char *const *f = cr->kind->filters; !rc && !cr->main && f && *f; f++) {
		struct buf fd = BUF_INIT(BUF_NOLIMIT);

		rc = views_filter_dir(*f, &fd);
		k.name = fd.p;
		if (!rc)
			rc = tree_dir_add(h, &k);
		buf_release(&fd);
	}
	return rc;
}

static bool kind_kid(const struct tree_dir *h, size_t i, struct tree_kid *k, size_t *skip)
{
	const struct entry *e;

	if (i >= h->snap->nentries) {
		*skip = h->snap->nentries;
		return false;
	}
	e = &h->snap->entries[i];
	*k = (struct tree_kid){.name = e->name,
			       .type = NODE_ENTRY,
			       .owner = h->self.owner,
			       .mtime = e->mtime,
			       .tmo = tree_remaining(h->self.owner, h->snap)};
	return true;
}

/* ---- ENTRY: one object ------------------------------------------------- */

static int entry_attr(const struct tree_ctx *t, const struct node_info *ni, struct stat *st,
		      double *tmo)
{
	struct coll_rt *cr = ni->owner;
	struct snapshot *s = NULL;
	const struct entry *e;
	int rc = entry_snap(t, cr, &s);

	if (rc)
		return rc;
	e = snapshot_find(s, ni->name);
	if (e)
		tree_dir_attr(st, ni->ino, e->mtime, 0);
	*tmo = tree_remaining(cr, s);
	snapshot_put(s);
	return e ? 0 : -ENOENT;
}

static int entry_lookup(const struct tree_ctx *t, const struct node_info *p, const char *name,
			struct tree_child *c)
{
	struct coll_rt *cr = p->owner;
	struct snapshot *s = NULL;
	const struct entry *e;
	int rc = entry_snap(t, cr, &s);

	if (rc)
		return rc;
	e = snapshot_find(s, p->name);
	rc = e && entry_file(e, name) ? 0 : -ENOENT;
	c->neg_tmo = tree_remaining(cr, s);
	snapshot_put(s);
	c->type = NODE_FILE;
	c->owner = cr;
	return rc;
}

static int entry_list(const struct tree_ctx *t, struct tree_dir *h)
{
	int rc = entry_snap(t, h->self.owner, &h->snap);

	if (!rc && !snapshot_find(h->snap, h->self.name))
		rc = -ENOENT;
	return rc;
}

static bool entry_kid(const struct tree_dir *h, size_t i, struct tree_kid *k, size_t *skip)
{
	const struct entry *e = snapshot_find(h->snap, h->self.name);
	const struct file *f;

	if (i >= e->nfiles) {
		*skip = e->nfiles;
		return false;
	}
	f = &e->files[i];
	*k = (struct tree_kid){.name = f->name,
			       .type = NODE_FILE,
			       .owner = h->self.owner,
			       .is_file = true,
			       .size = f->size,
			       .mtime = e->mtime,
			       .hash = f->hash,
			       .tmo = tree_remaining(h->self.owner, h->snap)};
	return true;
}

/* ---- FILE: one field of an object -------------------------------------- */

/*
 * A FILE node is one version of the file (inode.h): its size and its bytes
 * never change, so no two replies can pair the size of one snapshot with
 * the bytes of another (docs/architecture.md, "A size and its bytes").
 * Other bytes under the name are another node, which a lookup or a
 * readdirplus of the latest snapshot hands out (file_enter); the notifier
 * drops the kernel's name of a changed file (diff.c), so the next lookup
 * finds them.
 */

/* A lookup of field file name of object p: the node of its bytes in the
 * latest snapshot, with one kernel reference. A miss the kernel may
 * remember is 0 with e->ino = 0 and e->tmo > 0. */
static int file_enter(const struct tree_ctx *t, const struct node_info *p, const char *name,
		      struct coll_rt *cr, struct tree_entry *e)
{
	struct snapshot *s = NULL;
	const struct entry *oe;
	const struct file *f = NULL;
	int rc = entry_snap(t, cr, &s);

	if (rc)
		return rc;
	oe = snapshot_find(s, p->name);
	if (oe)
		f = entry_file(oe, name);
	e->tmo = tree_remaining(cr, s);
	if (!f) {
		rc = e->tmo > 0 ? 0 : -ENOENT;
	} else {
		e->ino =
		    inodes_ref_file(&t->d->inodes, p->ino, name, NODE_FILE, cr, s, f, oe->mtime);
		if (e->ino)
			tree_file_attr(&e->attr, e->ino, f->size, oe->mtime, f->hash);
		else
			rc = -ENOMEM;
	}
	snapshot_put(s);
	return rc;
}

/* The node's own size and bytes' hash; the latest snapshot only lends the
 * mtime (and its bytes, when they are the node's). */
static int file_attr(const struct tree_ctx *t, const struct node_info *ni, struct stat *st,
		     double *tmo)
{
	struct coll_rt *cr = ni->owner;
	struct snapshot *s = NULL;
	const struct entry *e;
	const struct file *f = NULL;
	struct inode_file v;
	int rc = entry_snap(t, cr, &s);

	if (rc)
		return rc;
	e = snapshot_find(s, ni->parent_name);
	if (e)
		f = entry_file(e, ni->name);
	rc = inodes_file_attr(&t->d->inodes, ni->ino, s, f, e ? e->mtime : 0, &v);
	if (!rc)
		tree_file_attr(st, ni->ino, v.size, v.mtime, v.hash);
	*tmo = tree_remaining(cr, s);
	snapshot_put(s);
	return rc;
}

/* Reads come without an open (see ops.c) and serve the node's own bytes,
 * never waiting for a fetch. */
static int file_read(const struct tree_ctx *t, const struct node_info *ni, off_t off, size_t size,
		     struct tree_data *out)
{
	return inodes_file_read(&t->d->inodes, ni->ino, off, size, &out->hold, &out->owned, &out->p,
				&out->len);
}

/* ---- JSONL: <kind>.jsonl ------------------------------------------------ */

/*
 * Like a field file, a .jsonl node is one version of its bytes (those of one
 * snapshot's listing, held from it). Its name is never cached (entry timeout
 * 0): each open looks it up, and so finds the latest listing's node, without
 * an invalidation; listings do not hand it out (readdirplus), so `ls -l`
 * looks it up too, and the size it shows is that node's.
 */

static int jsonl_enter(const struct tree_ctx *t, const struct node_info *p, const char *name,
		       struct coll_rt *cr, struct tree_entry *e)
{
	struct snapshot *s = NULL;
	const struct file *f = NULL;
	int rc = tree_snap(t, cr, &s);

	if (!rc) /* s's .jsonl as a file (its hash: the listing's content hash) */
		f = snapshot_jsonl_file(s, &rc);
	if (!rc) {
		e->ino = inodes_ref_file(&t->d->inodes, p->ino, name, NODE_JSONL, cr, s, f,
					 s->content_wall);
		if (e->ino)
			tree_file_attr(&e->attr, e->ino, f->size, s->content_wall, f->hash);
		else
			rc = -ENOMEM;
		e->tmo = tree_remaining(cr, s);
	}
	snapshot_put(s);
	return rc;
}

static int jsonl_attr(const struct tree_ctx *t, const struct node_info *ni, struct stat *st,
		      double *tmo)
{
	struct coll_rt *cr = ni->owner;
	struct snapshot *s = NULL;
	struct inode_file v;
	const struct file *f = NULL;
	int rc = tree_snap(t, cr, &s);

	if (!rc)
		f = snapshot_jsonl_file(s, &rc);
	if (!rc)
		rc = inodes_file_attr(&t->d->inodes, ni->ino, s, f, s->content_wall, &v);
	if (!rc) {
		tree_file_attr(st, ni->ino, v.size, v.mtime, v.hash);
		*tmo = tree_remaining(cr, s);
	}
	snapshot_put(s);
	return rc;
}

static int jsonl_read(const struct tree_ctx *t, const struct node_info *ni, off_t off, size_t size,
		      struct tree_data *out)
{
	return inodes_file_read(&t->d->inodes, ni->ino, off, size, &out->hold, &out->owned, &out->p,
				&out->len);
}

/* ---- FILTERDIR: tasks/.by-status ---------------------------------------- */

static int filterdir_lookup(const struct tree_ctx *t, const struct node_info *p, const char *name,
			    struct tree_child *c)
{
	const char *filter = filter_of(p->owner, p->name);
	struct buf v = BUF_INIT(4096);
	int rc;

	if (!filter || names_decode(name, &v))
		rc = -ENOENT;
	else
		rc = (c->owner = views_get(p->owner, filter, buf_str(&v))) ? 0 : -ENOSPC;
	buf_release(&v);
	c->type = NODE_KIND;
	return rc;
}

/* ---- the table ------------------------------------------------------------ */

static const struct node_row root_row = {
    .attr = tree_static_dir_attr, .lookup = root_lookup, .list = root_list};
static const struct node_row conn_row = {
    .attr = tree_static_dir_attr, .lookup = conn_lookup, .list = conn_list};
static const struct node_row kind_row = {.attr = kind_attr,
					 .lookup = kind_lookup,
					 .list = kind_list,
					 .kid = kind_kid,
					 .getxattr = control_coll_getxattr,
					 .xattrs = control_coll_xattrs};
static const struct node_row entry_row = {
    .attr = entry_attr, .lookup = entry_lookup, .list = entry_list, .kid = entry_kid};
static const struct node_row file_row = {.attr = file_attr, .read = file_read};
static const struct node_row jsonl_row = {.attr = jsonl_attr, .read = jsonl_read};
/* Lists nothing on purpose: any value can be looked up (.by-status/RUNNING),
 * but a listing here would make find and grep -r walk every filtered view
 * and ask the cloud for each. */
static const struct node_row filterdir_row = {
    .attr = tree_static_dir_attr, .lookup = filterdir_lookup, .list = tree_empty_list};

/* The table: node type -> row. */
static const struct node_row *const rows[] = {
    [NODE_ROOT] = &root_row,
    [NODE_CONN] = &conn_row,
    [NODE_KIND] = &kind_row,
    [NODE_ENTRY] = &entry_row,
    [NODE_FILE] = &file_row,
    [NODE_JSONL] = &jsonl_row,
    [NODE_FILTERDIR] = &filterdir_row,
    [NODE_CTLDIR] = &control_dir_row,
    [NODE_CTLFILE] = &control_file_row,
    [NODE_REFRESHDIR] = &refresh_dir_row,
    [NODE_REFRESHCONN] = &refresh_conn_row,
    [NODE_REFRESHFILE] = &refresh_file_row,
};

const struct node_row *tree_row(enum node_type type)
{
	static const struct node_row none = {.attr = tree_static_dir_attr}; /* not reached */

	if ((size_t)type >= sizeof(rows) / sizeof(rows[0]) || !rows[type])
		return &none;
	return rows[type];
}

/* ---- the operations ------------------------------------------------------- */

int tree_lookup(const struct tree_ctx *t, uint64_t parent, const char *name, struct tree_entry *e)
{
	struct inodes *in = &t->d->inodes;
	struct tree_child c = {0};
	struct node_info p, ni;
	const struct node_row *row;
	int rc;

	memset(e, 0, sizeof(*e));
	if (inodes_get(in, parent, &p))
		return -ESTALE;
	if (strlen(name) > NAMES_MAX)
		return -ENAMETOOLONG;
	row = tree_row(p.type);
	if (!row->lookup)
		return -ENOTDIR;
	rc = row->lookup(t, &p, name, &c);
	if (rc == -ENOENT && c.neg_tmo > 0) {
		/* The kernel remembers the miss while the snapshot is fresh. */
		e->tmo = c.neg_tmo;
		return 0;
	}
	if (rc)
		return rc;
	if (c.type == NODE_FILE)
		return file_enter(t, &p, name, c.owner, e);
	if (c.type == NODE_CTLFILE)
		return control_file_enter(t, &p, name, c.owner, e);
	if (c.type == NODE_JSONL) {
		rc = jsonl_enter(t, &p, name, c.owner, e);
		e->uncached_name = true;
		return rc;
	}
	e->ino = inodes_ref(in, parent, name, c.type, c.owner);
	if (!e->ino)
		return -ENOMEM;
	row = tree_row(c.type);
	rc = inodes_get(in, e->ino, &ni) ? -ENOMEM : 0;
	if (!rc && row->looked_up)
		rc = row->looked_up(t, e->ino, c.owner);
	if (!rc)
		rc = row->attr(t, &ni, &e->attr, &e->tmo);
	if (rc) {
		inodes_forget(in, e->ino, 1);
		e->ino = 0;
	}
	return rc;
}

int tree_getattr(const struct tree_ctx *t, uint64_t ino, struct stat *st, double *tmo)
{
	struct node_info ni;

	if (inodes_get(&t->d->inodes, ino, &ni))
		return -ESTALE;
	*tmo = TREE_STATIC_TIMEOUT;
	return tree_row(ni.type)->attr(t, &ni, st, tmo);
}

/* What readdir needs of a directory: its snapshot (collections and objects)
 * or its small list of fixed children. Built for each readdir call (there
 * are no opendir requests); the kernel caches the listing, so this runs
 * once per directory per refresh. */
int tree_dir_open(const struct tree_ctx *t, uint64_t ino, struct tree_dir *h)
{
	int rc;

	memset(h, 0, sizeof(*h));
	if (inodes_get(&t->d->inodes, ino, &h->self))
		return -ESTALE;
	h->row = tree_row(h->self.type);
	if (!h->row->list)
		return -ENOTDIR;
	rc = h->row->list(t, h);
	if (rc)
		tree_dir_close(h);
	return rc;
}

void tree_dir_close(struct tree_dir *h)
{
	for (size_t i = 0; i < h->n; i++)
		free((char *)h->kids[i].name);
	free(h->kids);
	snapshot_put(h->snap);
	h->kids = NULL;
	h->snap = NULL;
	h->n = h->cap = 0;
}

/* Child i of a listed directory (after "." and ".."). */
static bool dir_kid(const struct tree_dir *h, size_t i, struct tree_kid *k)
{
	size_t skip = 0;

	if (h->row->kid && h->row->kid(h, i, k, &skip))
		return true;
	i -= skip;
	if (i >= h->n)
		return false;
	*k = h->kids[i];
	return true;
}

bool tree_dir_name(const struct tree_dir *h, size_t i, const char **name, bool *is_file)
{
	struct tree_kid k;

	if (i < 2) {
		*name = i == 0 ? "." : "..";
		*is_file = false;
		return true;
	}
	if (!dir_kid(h, i - 2, &k))
		return false;
	*name = k.name;
	*is_file = k.is_file;
	return true;
}

int tree_dir_entry(const struct tree_ctx *t, const struct tree_dir *h, size_t i, bool plus,
		   struct tree_entry *e)
{
	struct inodes *in = &t->d->inodes;
	struct tree_kid k;
	uint64_t cino;

	memset(e, 0, sizeof(*e));
	if (i < 2) {
		e->attr.st_ino = i == 0 || !h->self.parent ? h->self.ino : h->self.parent;
		e->attr.st_mode = S_IFDIR;
		return 0;
	}
	if (!dir_kid(h, i - 2, &k))
		return -ENOENT;
	if (k.type == NODE_JSONL)
		plus = false;              /* looked up on use (jsonl_enter) */
	if (plus && k.type == NODE_FILE) { /* the node of these bytes (file_enter) */
		const struct entry *oe = snapshot_find(h->snap, h->self.name);
		const struct file *f = oe ? entry_file(oe, k.name) : NULL;

		cino = f ? inodes_ref_file(in, h->self.ino, k.name, NODE_FILE, k.owner, h->snap, f,
					   k.mtime)
			 : 0;
	} else {
		cino = plus ? inodes_ref(in, h->self.ino, k.name, k.type, k.owner)
			    : inodes_find(in, h->self.ino, k.name);
	}
	if (plus && !cino)
		return -ENOMEM;
	if (k.is_file)
		tree_file_attr(&e->attr, cino, k.size, k.mtime, k.hash);
	else
		tree_dir_attr(&e->attr, cino, k.mtime, k.nsec);
	if (plus) {
		e->ino = cino;
		e->tmo = k.tmo;
	} else if (!cino) {
		e->attr.st_ino = 0xffffffffu; /* not known yet: looked up on use */
	}
	return 0;
}

int tree_read(const struct tree_ctx *t, uint64_t ino, off_t off, size_t size, struct tree_data *out)
{
	struct node_info ni;
	const struct node_row *row;

	memset(out, 0, sizeof(*out));
	if (inodes_get(&t->d->inodes, ino, &ni))
		return -ESTALE;
	row = tree_row(ni.type);
	return row->read ? row->read(t, &ni, off, size, out) : -EISDIR;
}

void tree_data_release(struct tree_data *d)
{
	snapshot_put(d->hold);
	free(d->owned);
	memset(d, 0, sizeof(*d));
}

int tree_getxattr(const struct tree_ctx *t, uint64_t ino, const char *name, struct buf *out)
{
	struct node_info ni;
	const struct node_row *row;

	if (inodes_get(&t->d->inodes, ino, &ni))
		return -ENODATA;
	row = tree_row(ni.type);
	return row->getxattr ? row->getxattr(t, &ni, name, out) : -ENODATA;
}

/* Each name is asked for its value, so that the list never names an
 * attribute getxattr would then answer ENODATA (rsync -aX, getfattr -d). */
int tree_listxattr(const struct tree_ctx *t, uint64_t ino, struct buf *out)
{
	struct node_info ni;
	const struct node_row *row;
	int rc = 0;

	if (inodes_get(&t->d->inodes, ino, &ni))
		return 0;
	row = tree_row(ni.type);
	for (const char *const *x = row->xattrs; x && *x && !rc; x++) {
		struct buf v = BUF_INIT(BUF_NOLIMIT);

		rc = row->getxattr(t, &ni, *x, &v);
		if (!rc)
			rc = buf_add(out, *x, strlen(*x) + 1);
		else if (rc == -ENODATA)
			rc = 0;
		buf_release(&v);
	}
	return rc;
}
