/*
 * warm.c - snapshots kept on disk for a warm restart (see warm.h): the key
 * of a collection, the load at start, and the writer thread.
 */
#include "warm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "daemon.h"
#include "log.h"

/* The value of provider key pk of c, or NULL. */
static const char *conn_key_value(const struct conn *c, const struct provider_key *pk)
{
	if (!c->priv || pk->offset + sizeof(char *) > c->prov->sizeof_priv)
		return NULL;
	return *(char *const *)((const char *)c->priv + pk->offset);
}

/* The key of kind k of connection c (warm.h says what goes in). 0 or -errno. */
static int coll_key(const struct conn *c, const struct kind *k, struct snapfile_key *key)
{
	struct buf acct = BUF_INIT(BUF_NOLIMIT);
	const char *region = NULL;
	bool named = false;
	int rc = 0;

	for (const struct provider_key *pk = c->prov->key_table; !rc && pk && pk->key; pk++) {
		const char *v;

		if (pk->secret)
			continue; /* never read */
		v = conn_key_value(c, pk);
		if (!region && !strncmp(pk->key, "region", 6)) {
			region = v;
			continue;
		}
		if (pk->required)
			named = true;
		if (v && *v)
			rc = buf_printf(&acct, "%s=%s\n", pk->key, v);
	}
	if (!rc && !named)
		rc = buf_printf(&acct, "connection=%s\n", c->name);
	if (!rc) {
		struct snapfile_identity id = {
		    .provider = c->prov->name,
		    .endpoint = c->endpoint,
		    .region = region,
		    .access_key_id = buf_str(&acct),
		    .kind = k->dir,
		    .filter = NULL,
		};

		rc = snapfile_key_init(key, &id);
	}
	buf_release(&acct);
	return rc;
}

/* Is the state a file holds (a) the one to write (b)? */
static bool same_wm(const struct incr_wm *a, const struct incr_wm *b)
{
	if (a->valid != b->valid)
		return false;
	return !a->valid || (a->mark == b->mark && a->full_wall == b->full_wall);
}

/* Loads and seeds main collection m of cr. */
static void seed(struct warm *w, struct conn_rt *cr, struct coll_rt *m)
{
	struct snapfile_meta meta;
	struct snapshot *s = NULL;
	const char *why = NULL;
	char when[32], mark[48] = "";

	snapfile_meta_init(&meta);
	if (coll_key(cr->conn, m->kind, &m->warm.key)) {
		log_warn("disk cache: %s/%s: no key (out of memory), not stored", cr->conn->name,
			 m->kind->dir);
		return;
	}
	m->warm.keyed = true;
	if (diskstore_load_snapshot(&w->ds, &m->warm.key, &s, &meta))
		return; /* none, or ignored with its log line */
	if (!meta.kind || strcmp(meta.kind, m->kind->dir)) {
		log_warn("disk cache: %s/%s: ignoring a snapshot of '%s'", cr->conn->name,
			 m->kind->dir, meta.kind ? meta.kind : "?");
		snapshot_put(s);
		snapfile_meta_release(&meta);
		return;
	}
	m->warm.saved = true;
	m->warm.saved_hash = s->content_hash;
	/* Its watermark, when it is exactly this snapshot's: the first
	 * revalidation is incremental. No fetch runs yet. */
	if (!incr_adopt(&m->incr, &m->col, s, &meta, &why)) {
		incr_wm_read(&meta, s, &m->warm.saved_wm, &why);
		strcpy(mark, ", incremental from ");
		clock_format_utc(mark + strlen(mark), sizeof(mark) - strlen(mark),
				 "%Y-%m-%dT%H:%M:%SZ", m->incr.mark);
	} else {
		snprintf(mark, sizeof(mark), " (%s: full)", why ? why : "no watermark");
	}
	clock_format_utc(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", s->fetched_wall);
	log_info("disk cache: %s/%s: %zu objects of %s, served stale until revalidated%s",
		 cr->conn->name, m->kind->dir, s->nentries, when, mark);
	cache_seed(&m->col, s);
	snapfile_meta_release(&meta);
}

void warm_open(struct daemon *d)
{
	struct warm *w = &d->warm;
	const char *dir = d->cfg.cache_dir;

	if (!dir || !strcmp(dir, "none"))
		return;
	if (diskstore_open(&w->ds, dir))
		return; /* logged */
	if (pthread_mutex_init(&w->mu, NULL)) {
		diskstore_close(&w->ds);
		return;
	}
	if (pthread_cond_init(&w->cv, NULL)) {
		pthread_mutex_destroy(&w->mu);
		diskstore_close(&w->ds);
		return;
	}
	w->on = true;
	for (size_t i = 0; i < d->nconns; i++)
		for (size_t k = 0; k < d->conns[i].ncolls; k++)
			seed(w, &d->conns[i], &d->conns[i].colls[k]);
}

/* Writes snapshot s of main collection m with its incremental state wm
 * (writer thread, no lock held). */
static void save(struct warm *w, struct coll_rt *m, struct snapshot *s, struct incr_wm *wm)
{
	const char *name = m->cr->conn->name, *dir = m->kind->dir;
	struct snapfile_meta meta;
	int rc;

	if (m->warm.saved && m->warm.saved_hash == s->content_hash &&
	    same_wm(&m->warm.saved_wm, wm))
		return; /* the file holds this content and state */
	snapfile_meta_init(&meta);
	meta.key = m->warm.key;
	meta.kind = (char *)dir; /* only read by the encoder */
	incr_wm_meta(wm, &meta);
	rc = diskstore_save_snapshot(&w->ds, s, &meta);
	if (rc) {
		if (!m->warm.failing)
			log_warn("disk cache: %s/%s: cannot save %zu objects in '%s': %s "
				 "(the mount goes on; a restart will be cold)",
				 name, dir, s->nentries, w->ds.path, strerror(-rc));
		m->warm.failing = true;
		return;
	}
	if (m->warm.failing)
		log_info("disk cache: %s/%s: saved again", name, dir);
	m->warm.failing = false;
	m->warm.saved = true;
	m->warm.saved_hash = s->content_hash;
	m->warm.saved_wm = *wm;
	log_debug("disk cache: %s/%s: saved %zu objects%s", name, dir, s->nentries,
		  wm->valid ? " with its watermark" : "");
}

/* mu held: takes the next queued snapshot and its state, or returns NULL. */
static struct snapshot *take(struct daemon *d, struct coll_rt **owner, struct incr_wm *wm)
{
	for (size_t i = 0; d->warm.npending && i < d->nconns; i++)
		for (size_t k = 0; k < d->conns[i].ncolls; k++) {
			struct coll_rt *m = &d->conns[i].colls[k];
			struct snapshot *s = m->warm.pending;

			if (!s)
				continue;
			m->warm.pending = NULL;
			*wm = m->warm.pending_wm;
			d->warm.npending--;
			*owner = m;
			return s;
		}
	return NULL;
}

/* Writes everything queued, mu held on entry and exit. */
static void drain(struct daemon *d)
{
	struct warm *w = &d->warm;
	struct coll_rt *m;
	struct snapshot *s;
	struct incr_wm wm;

	while ((s = take(d, &m, &wm))) {
		pthread_mutex_unlock(&w->mu);
		save(w, m, s, &wm);
		snapshot_put(s);
		pthread_mutex_lock(&w->mu);
	}
}

static void *writer_main(void *arg)
{
	struct daemon *d = arg;
	struct warm *w = &d->warm;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		drain(d);
		if (w->quit)
			break;
		pthread_cond_wait(&w->cv, &w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int warm_start(struct daemon *d)
{
	struct warm *w = &d->warm;
	int rc;

	if (!w->on)
		return 0;
	pthread_mutex_lock(&w->mu);
	rc = pthread_create(&w->tid, NULL, writer_main, d);
	w->running = rc == 0;
	pthread_mutex_unlock(&w->mu);
	if (rc)
		log_warn("disk cache: no writer thread (%s): snapshots are saved at unmount",
			 strerror(rc));
	return -rc;
}

void warm_published(struct coll_rt *coll, struct snapshot *fresh)
{
	struct warm *w = &coll->d->warm;
	struct snapshot *old = NULL;
	struct incr_wm wm;
	bool closed;

	if (coll->main || !w->on || !coll->warm.keyed)
		return;
	/* the state of exactly this snapshot (none if a later fetch moved on) */
	incr_export(&coll->incr, &coll->col, fresh, &wm);
	pthread_mutex_lock(&w->mu);
	closed = w->closed;
	if (!closed) {
		old = coll->warm.pending;
		coll->warm.pending = snapshot_get(fresh);
		coll->warm.pending_wm = wm;
		if (!old)
			w->npending++;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	snapshot_put(old);
	/* No writer any more (unmount): this fetch thread writes it, and
	 * cache_release waits for it. One fetch per collection at a time. */
	if (closed)
		save(w, coll, fresh, &wm);
}

void warm_close(struct daemon *d)
{
	struct warm *w = &d->warm;
	bool running;

	if (!w->on)
		return;
	pthread_mutex_lock(&w->mu);
	if (w->closed) {
		pthread_mutex_unlock(&w->mu);
		return;
	}
	w->quit = true;
	running = w->running;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (running)
		pthread_join(w->tid, NULL);
	pthread_mutex_lock(&w->mu);
	drain(d); /* what was queued after the writer's last look */
	w->closed = true;
	pthread_mutex_unlock(&w->mu);
}

void warm_release(struct daemon *d)
{
	struct warm *w = &d->warm;

	if (!w->on)
		return;
	warm_close(d); /* nothing is queued after it */
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	diskstore_close(&w->ds);
	w->on = false;
}
