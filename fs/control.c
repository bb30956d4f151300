/*
 * control.c - the rows of /.gpucloudfs, refresh-by-lookup and the
 * freshness xattrs of collection directories. See control.h.
 */
#include "control.h"
#include "clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REFRESH_NAME   "refresh"
#define XATTR_STALE    "user.gpucloudfs.stale"
#define XATTR_ERROR    "user.gpucloudfs.error"
#define XATTR_FETCHED  "user.gpucloudfs.fetched"
#define XATTR_PROGRESS "user.gpucloudfs.progress"

static const char *const ctl_files[] = {"config", "errors", "stats.json", "version", NULL};

/* A file whose bytes are kept on its node: made now, never cached. */
static void content_attr(const struct tree_ctx *t, uint64_t ino, struct stat *st, double *tmo)
{
	size_t len;
	uint64_t h;

	inodes_content_stat(&t->d->inodes, ino, &len, &h);
	tree_file_attr(st, ino, len, time(NULL), h);
	*tmo = 0;
}

static int content_read(const struct tree_ctx *t, const struct node_info *ni, off_t off,
			size_t size, struct tree_data *out)
{
	ssize_t n;

	out->owned = malloc(size ? size : 1);
	if (!out->owned)
		return -ENOMEM;
	n = inodes_read_content(&t->d->inodes, ni->ino, off, size, out->owned);
	if (n < 0)
		return (int)n;
	out->p = out->owned;
	out->len = (size_t)n;
	return 0;
}

/* ---- CTLDIR, CTLFILE ------------------------------------------------------ */

static bool is_ctl_file(const char *name)
{
	for (const char *const *f = ctl_files; *f; f++)
		if (!strcmp(*f, name))
			return true;
	return false;
}

static int ctl_dir_lookup(const struct tree_ctx *t, const struct node_info *p, const char *name,
			  struct tree_child *c)
{
	if (!strcmp(name, REFRESH_NAME)) {
		c->type = NODE_REFRESHDIR;
		return 0;
	}
	c->type = NODE_CTLFILE;
	return is_ctl_file(name) ? 0 : -ENOENT;
}

static int ctl_dir_list(const struct tree_ctx *t, struct tree_dir *h)
{
	struct tree_kid k = {.type = NODE_CTLFILE, .is_file = true, .mtime = time(NULL)};
	int rc = 0;

	for (const char *const *f = ctl_files; *f && !rc; f++) {
		k.name = *f;
		rc = tree_dir_add(h, &k);
	}
	k = (struct tree_kid){.name = REFRESH_NAME,
			      .type = NODE_REFRESHDIR,
			      .mtime = t->d->start_wall,
			      .tmo = TREE_STATIC_TIMEOUT};
	return rc ? rc : tree_dir_add(h, &k);
}

/* After the errors, one line per fetch under way (newest last):
 *   2026-11-26T09:30:00Z tencent/tasks: fetching, 640 of 2,000 pages,
 *   complete in about 68 s [in progress] */
static int progress_lines(struct daemon *d, struct buf *out)
{
	char when[32];
	int rc = 0;

	clock_format_utc(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", time(NULL));
	for (size_t i = 0; i < d->nconns && !rc; i++) {
		struct conn_rt *cr = &d->conns[i];

		for (size_t k = 0; k < cr->ncolls && !rc; k++) {
			struct coll_rt *m = &cr->colls[k];
			struct progress_view v;

			cache_progress(&m->col, &v);
			if (v.state != PROGRESS_RUNNING)
				continue;
			rc = buf_printf(out, "%s %s/%s: ", when, cr->conn->name, m->kind->dir);
			if (!rc)
				rc = progress_format(&v, m->col.fetch_idle_ns, out);
			if (!rc)
				rc = buf_addstr(out, " [in progress]\n");
		}
	}
	return rc;
}

/* The content of a control file. */
static int ctl_content(struct daemon *d, const char *name, struct buf *out)
{
	int rc;

	if (!strcmp(name, "version"))
		return buf_printf(out, "gpucloudfs %s\n", GCF_VERSION);
	if (!strcmp(name, "errors")) {
		rc = status_dump(&d->status, out);
		return rc ? rc : progress_lines(d, out);
	}
	if (!strcmp(name, "config"))
		return config_dump(&d->cfg, out);
	if (!strcmp(name, "stats.json"))
		return stats_json(d, out);
	return -ENOENT;
}

/* Made at each lookup (every open: the entry timeout is 0), each version
 * of the bytes a node of its own (inodes_ref_content): an open reads the
 * bytes its lookup made, whole, while other opens make newer ones. Never at
 * a getattr of a node that has bytes: the kernel asks for the attributes
 * again while a file is read (at its end, to see whether it grew), and new
 * bytes of another length would then mix into the read (stats.json read as
 * invalid JSON while a fetch moved its figures). */
int control_file_enter(const struct tree_ctx *t, const struct node_info *p, const char *name,
		       void *owner, struct tree_entry *e)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int rc = ctl_content(t->d, name, &b);

	if (!rc) {
		e->ino = inodes_ref_content(&t->d->inodes, p->ino, name, NODE_CTLFILE, owner,
					    buf_str(&b), b.len);
		if (e->ino)
			content_attr(t, e->ino, &e->attr, &e->tmo);
		else
			rc = -ENOMEM;
	}
	buf_release(&b);
	return rc;
}

/* A node listed (readdirplus) before any lookup made its bytes. */
static int ctl_file_make(const struct tree_ctx *t, uint64_t ino, const char *name)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int rc = ctl_content(t->d, name, &b);

	if (!rc)
		rc = inodes_set_content(&t->d->inodes, ino, buf_str(&b), b.len);
	buf_release(&b);
	return rc;
}

static int ctl_file_attr(const struct tree_ctx *t, const struct node_info *ni, struct stat *st,
			 double *tmo)
{
	size_t len;
	uint64_t h;
	int rc = 0;

	inodes_content_stat(&t->d->inodes, ni->ino, &len, &h);
	if (!h) /* no bytes yet (a node not looked up) */
		rc = ctl_file_make(t, ni->ino, ni->name);
	content_attr(t, ni->ino, st, tmo);
	return rc;
}

/* ---- REFRESHDIR, REFRESHCONN, REFRESHFILE ---------------------------------- */

static int refresh_dir_lookup(const struct tree_ctx *t, const struct node_info *p, const char *name,
			      struct tree_child *c)
{
	c->type = NODE_REFRESHCONN;
	c->owner = daemon_conn(t->d, name);
	return c->owner ? 0 : -ENOENT;
}

static int refresh_dir_list(const struct tree_ctx *t, struct tree_dir *h)
{
	struct daemon *d = t->d;
	struct tree_kid k = {
	    .type = NODE_REFRESHCONN, .mtime = d->start_wall, .tmo = TREE_STATIC_TIMEOUT};
	int rc = 0;

	for (size_t i = 0; i < d->nconns && !rc; i++) {
		k.name = d->conns[i].conn->name;
		k.owner = &d->conns[i];
		rc = tree_dir_add(h, &k);
	}
	return rc;
}

static int refresh_conn_lookup(const struct tree_ctx *t, const struct node_info *p,
			       const char *name, struct tree_child *c)
{
	c->type = NODE_REFRESHFILE;
	c->owner = tree_conn_kind(p->owner, name);
	return c->owner ? 0 : -ENOENT;
}

/* Refetches a collection now (and its filtered views at their next use),
 * waits until the kernel's caches of it are invalidated, and describes the
 * result. A failure is returned, never hidden behind the old listing. */
static int refresh(const struct tree_ctx *t, struct coll_rt *m, struct buf *out)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *s = NULL;
	uint64_t t0 = clock_now_ns();
	bool stale = false;
	int rc;

	cache_invalidate(&m->col);
	pthread_mutex_lock(&m->subs_mu);
	for (size_t i = 0; i < m->nsubs; i++)
		cache_invalidate(&m->subs[i]->col);
	pthread_mutex_unlock(&m->subs_mu);
	rc = cache_get(&m->col, t->deadline_ns, &s, &err);
	if (!rc) {
		cache_status(&m->col, &stale, NULL, NULL);
		if (stale) {
			cache_status(&m->col, NULL, &err, NULL);
			rc = err.errnum ? -err.errnum : -EIO;
		}
	}
	if (!rc) {
		notify_flush(&t->d->notifier, t->deadline_ns);
		rc = buf_printf(out, "%s/%s: %zu objects, fetched in %.3f s\n", m->cr->conn->name,
				m->kind->dir, s->nentries, (double)(clock_now_ns() - t0) / 1e9);
	}
	snapshot_put(s);
	gcf_error_release(&err);
	return rc;
}

/* Looking at .gpucloudfs/refresh/<conn>/<kind> refetches it (there are no
 * open requests); the read that follows gets the outcome. */
static int refresh_file_looked_up(const struct tree_ctx *t, uint64_t ino, void *owner)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int rc = refresh(t, owner, &b);

	if (!rc)
		rc = inodes_set_content(&t->d->inodes, ino, buf_str(&b), b.len);
	buf_release(&b);
	return rc;
}

static int refresh_file_attr(const struct tree_ctx *t, const struct node_info *ni, struct stat *st,
			     double *tmo)
{
	content_attr(t, ni->ino, st, tmo);
	return 0;
}

/* ---- xattrs of a collection directory -------------------------------------- */

const char *const control_coll_xattrs[] = {XATTR_STALE, XATTR_ERROR, XATTR_FETCHED, XATTR_PROGRESS,
					   NULL};

int control_coll_getxattr(const struct tree_ctx *t, const struct node_info *ni, const char *name,
			  struct buf *out)
{
	struct coll_rt *cr = ni->owner;
	struct gcf_error le = GCF_ERROR_INIT;
	struct snapshot *s;
	bool stale = false;
	int rc = -ENODATA;

	if (!strcmp(name, XATTR_STALE)) {
		cache_status(&cr->col, &stale, NULL, NULL);
		rc = buf_addstr(out, stale ? "1" : "0");
	} else if (!strcmp(name, XATTR_ERROR)) {
		cache_status(&cr->col, NULL, &le, NULL);
		if (le.errnum)
			rc = gcf_error_format(&le, out);
		gcf_error_release(&le);
	} else if (!strcmp(name, XATTR_FETCHED)) {
		s = cache_peek(&cr->col);
		if (s) {
			char when[32];

			clock_format_utc(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", s->fetched_wall);
			rc = buf_addstr(out, when);
		}
		snapshot_put(s);
	} else if (!strcmp(name, XATTR_PROGRESS)) {
		struct progress_view v;

		cache_progress(&cr->col, &v); /* only while a fetch is under way */
		if (v.state == PROGRESS_RUNNING)
			rc = progress_format(&v, cr->col.fetch_idle_ns, out);
	}
	return rc;
}

/* ---- the rows ----------------------------------------------------------------- */

const struct node_row control_dir_row = {
    .attr = tree_static_dir_attr, .lookup = ctl_dir_lookup, .list = ctl_dir_list};
const struct node_row control_file_row = {.attr = ctl_file_attr, .read = content_read};
const struct node_row refresh_dir_row = {
    .attr = tree_static_dir_attr, .lookup = refresh_dir_lookup, .list = refresh_dir_list};
/* Lists nothing on purpose: a listed refresh file would be read, and so
 * refetched, by every grep -r, cp -r, tar or rsync of the mount.
 * refresh/<conn>/<kind> is looked up by name only. */
const struct node_row refresh_conn_row = {
    .attr = tree_static_dir_attr, .lookup = refresh_conn_lookup, .list = tree_empty_list};
const struct node_row refresh_file_row = {
    .attr = refresh_file_attr, .looked_up = refresh_file_looked_up, .read = content_read};
