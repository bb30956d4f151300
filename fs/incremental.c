/*
 * incremental.c - the incremental refresh and its merge (see incremental.h).
 */
#include "incremental.h"
#include "gcf_le.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "gcf_hash.h"
#include "jsontext.h"
#include "log.h"
#include "render.h"

/* ---- objects by ID --------------------------------------------------- */

/* The merged listing being built: objects in order, an index by ID. */
struct merge {
	const cJSON **items;
	const struct entry **reuse; /* per item: an entry taken as it is (item NULL) */
	size_t n, cap;
	struct {
		char *id; /* owned */
		size_t idx;
	} * map;
	size_t mcap, mn;
};

static void merge_release(struct merge *m)
{
	for (size_t i = 0; i < m->mcap; i++)
		free(m->map[i].id);
	free(m->map);
	free(m->items);
	free(m->reuse);
	memset(m, 0, sizeof(*m));
}

/* The slot of id in m's index (empty when absent). m->mcap > 0. */
static size_t merge_slot(const struct merge *m, const char *id)
{
	size_t i = (size_t)gcf_fnv1a_str(GCF_FNV1A_BASIS, id) % m->mcap;

	while (m->map[i].id && strcmp(m->map[i].id, id))
		i = (i + 1) % m->mcap;
	return i;
}

/* Index of the object with this ID, or -1. */
static long merge_find(const struct merge *m, const char *id)
{
	size_t i;

	if (!m->mcap)
		return -1;
	i = merge_slot(m, id);
	return m->map[i].id ? (long)m->map[i].idx : -1;
}

static int merge_grow(struct merge *m)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 256;
		const cJSON **v = realloc(m->items, cap * sizeof(*v));
		const struct entry **r;

		if (!v)
			return -ENOMEM;
		m->items = v;
		r = realloc(m->reuse, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		m->reuse = r;
		m->cap = cap;
	}
	if (2 * (m->mn + 1) > m->mcap) {
		struct merge nm = *m;

		nm.mcap = m->mcap ? 2 * m->mcap : 512;
		nm.map = calloc(nm.mcap, sizeof(*nm.map));
		if (!nm.map)
			return -ENOMEM;
		for (size_t i = 0; i < m->mcap; i++)
			if (m->map[i].id)
				nm.map[merge_slot(&nm, m->map[i].id)] = m->map[i];
		free(m->map);
		m->map = nm.map;
		m->mcap = nm.mcap;
	}
	return 0;
}

/* Adds o; an object already held under the same ID is replaced in place
 * (o is newer). id NULL: no usable ID, appended. 0 or -ENOMEM. */
/* Puts object o, or (o NULL) entry e of the previous snapshot as it is,
 * under id: in the place of the object with that ID, else last. */
static int merge_put_as(struct merge *m, const char *id, const cJSON *o, const struct entry *e)
{
	size_t i;
	long at;

	if (id && (at = merge_find(m, id)) >= 0) {
		m->items[at] = o;
		m->reuse[at] = e;
		return 0;
	}
	if (merge_grow(m))
		return -ENOMEM;
	if (id) {
		i = merge_slot(m, id);
		m->map[i].id = strdup(id);
		if (!m->map[i].id)
			return -ENOMEM;
		m->map[i].idx = m->n;
		m->mn++;
	}
	m->reuse[m->n] = e;
	m->items[m->n++] = o;
	return 0;
}

static int merge_put(struct merge *m, const char *id, const cJSON *o)
{
	return merge_put_as(m, id, o, NULL);
}

/* The object's ID as text (caller frees); NULL when it has none. *oom set
 * when memory ran out. */
static char *object_id(const struct kind *k, const cJSON *o, bool *oom)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int rc = jsontext_id(o, k->id_field, &b);

	if (rc) {
		if (rc < 0)
			*oom = true;
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* Puts every item of l into m, in order. 0 or -ENOMEM. */
static int merge_listing(struct merge *m, const struct kind *k, const struct listing *l)
{
	for (size_t i = 0; i < l->nitems; i++) {
		bool oom = false;
		char *id = object_id(k, l->items[i], &oom);
		int rc = oom ? -ENOMEM : merge_put(m, id, l->items[i]);

		free(id);
		if (rc)
			return rc;
	}
	return 0;
}

/* Moves src's reply trees to the end of dst's (src is left empty; its item
 * array is dropped: the merge holds the items). 0 or -ENOMEM (nothing moved). */
static int listing_take(struct listing *dst, struct listing *src)
{
	cJSON **t;

	if (!src->ntrees) {
		listing_release(src);
		return 0;
	}
	t = realloc(dst->trees, (dst->ntrees + src->ntrees) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	dst->trees = t;
	memcpy(dst->trees + dst->ntrees, src->trees, src->ntrees * sizeof(*t));
	dst->ntrees += src->ntrees;
	dst->json_bytes += src->json_bytes;
	src->ntrees = 0;
	listing_release(src);
	return 0;
}

/* Makes m's objects the items of out (which owns the trees they live in). */
static void merge_finish(struct merge *m, struct listing *out)
{
	free(out->items);
	out->items = m->items;
	out->nitems = m->n;
	m->items = NULL;
	free(out->reuse);
	out->reuse = m->reuse;
	m->reuse = NULL;
	m->n = m->cap = 0;
	merge_release(m);
}

/* ---- update times ----------------------------------------------------- */

int incr_update_time(const struct kind *k, const cJSON *o, time_t *out)
{
	const cJSON *v;

	if (!k->update_field || !cJSON_IsObject(o))
		return -EINVAL;
	v = cJSON_GetObjectItemCaseSensitive(o, k->update_field);
	if (!v || cJSON_IsNull(v))
		return -EINVAL;
	return render_parse_time_tz(v, k->mtime_utc_offset_s, out);
}

/* The newest update time among items (an array); false when none has one. */
static bool newest(const struct kind *k, const cJSON *items, time_t *out)
{
	const cJSON *o;
	bool have = false;

	cJSON_ArrayForEach(o, items)
	{
		time_t t;

		if (!incr_update_time(k, o, &t) && (!have || t > *out)) {
			*out = t;
			have = true;
		}
	}
	return have;
}

/* Page 0's items in a listing: the first reply tree, as the kind parses it;
 * *total (may be NULL) gets its total. */
static const cJSON *first_page(const struct kind *k, const struct listing *l, long *total)
{
	struct page pg = {NULL, -1, -1};
	struct gcf_error e = GCF_ERROR_INIT;

	if (!l->ntrees || k->parse_page(l->trees[0], &pg, &e))
		pg.items = NULL;
	gcf_error_release(&e);
	if (total)
		*total = pg.total;
	return pg.items;
}

struct delta_arg {
	const struct kind *k;
	time_t mark;
};

/* fetch_pages_while's test: go on while every object of the page was
 * updated at or after the watermark (same second included). */
static bool delta_more(void *arg, const cJSON *items)
{
	const struct delta_arg *a = arg;
	const cJSON *o;

	cJSON_ArrayForEach(o, items)
	{
		time_t t;

		if (incr_update_time(a->k, o, &t) || t < a->mark)
			return false;
	}
	return true;
}

/* ---- full refresh ------------------------------------------------------- */

/* fetch_pages_while's test for the probe: page 0 only. */
static bool page0_only(void *arg, const cJSON *items)
{
	(void)arg;
	(void)items;
	return false;
}

/* A full listing, in the API's stable order (creation: an update does not
 * move an object between pages while they are read, so none is missed).
 * With probe, it is dated first: page 0 in update order (one request)
 * gives the watermark, the newest update time before the pages are read,
 * so that anything updated while or after they are read is at or after it
 * and the next incremental refresh reads it again. Without probe (the
 * first listing, costing its pages only; a refresh asked for; a
 * collection of one page) there is no watermark, and the next refresh is
 * full again. */
static int full(struct incr_state *s, bool probe, const struct fetch_io *io, const struct conn *c,
		const struct kind *k, struct ratelimit *rl, uint64_t deadline_ns,
		struct listing *out, struct fetch_stats *st, struct gcf_error *err)
{
	struct listing p0;
	long total;
	int rc;

	memset(out, 0, sizeof(*out));
	s->next.full = true;
	s->next.have_mark = false;
	if (probe && k->update_field) {
		rc = fetch_pages_while(io, c, k, page0_only, NULL, rl, deadline_ns, &p0, &total, st,
				       err);
		if (rc)
			return rc;
		s->next.have_mark = newest(k, first_page(k, &p0, NULL), &s->next.mark);
		listing_release(&p0);
	}
	return fetch_listing(io, c, k, NULL, NULL, rl, deadline_ns, out, st, err);
}

/* ---- incremental refresh ------------------------------------------------ */

/* Is s a value of the NULL-terminated list? */
static bool in_list(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

/* The merge of an incremental refresh. Returns 0, 1 (fall back to a full
 * refresh, *why set) or a negative errno with err set. */
static int delta(struct incr_state *s, const struct snapshot *prev, const struct fetch_io *io,
		 const struct conn *c, const struct kind *k, struct ratelimit *rl,
		 uint64_t deadline_ns, struct listing *out, struct fetch_stats *st,
		 const char **why, struct gcf_error *err)
{
	struct delta_arg a = {k, s->mark};
	struct listing act = {0}, dl = {0};
	struct merge m = {0};
	size_t kept = 0, reused = 0, fresh;
	long total, at;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (k->active_filter && k->active_values)
		rc = fetch_listing(io, c, k, k->active_filter, NULL, rl, deadline_ns, &act, st,
				   err); /* NULL: any of k->active_values (provider.h) */
	if (!rc)
		rc = fetch_pages_while(io, c, k, delta_more, &a, rl, deadline_ns, &dl, &total, st,
				       err);
	if (rc)
		goto out;
	s->next.full = false;
	s->next.have_mark = newest(k, first_page(k, &dl, NULL), &s->next.mark);
	if (!s->next.have_mark) {
		*why = "page 0 carries no update time";
		rc = 1;
		goto out;
	}
	/* the active objects, then the delta over them (read last: newest) */
	rc = merge_listing(&m, k, &act);
	if (!rc)
		rc = merge_listing(&m, k, &dl);
	if (!rc)
		rc = listing_take(out, &act);
	if (!rc)
		rc = listing_take(out, &dl);
	fresh = m.n;
	/* every other object as the previous snapshot has it */
	for (size_t i = 0; i < prev->nentries && !rc; i++) {
		const struct entry *e = &prev->entries[i];
		const cJSON *v;
		cJSON *o, **t;

		if (!e->id || !*e->id) {
			*why = "an object has no ID";
			rc = 1;
			break;
		}
		at = merge_find(&m, e->id);
		if (at >= (long)fresh) {
			*why = "an ID appears twice";
			rc = 1;
			break;
		}
		if (at >= 0)
			continue; /* read again in this refresh */
		if (e->active == ENTRY_ACTIVE_YES) {
			*why = "an object in an active status is gone from the active query";
			rc = 1;
			break;
		}
		if (e->active == ENTRY_ACTIVE_NO) {
			/* taken as it is: not parsed, not rendered again */
			rc = merge_put_as(&m, e->id, NULL, e);
			kept++;
			reused++;
			continue;
		}
		/* a snapshot read from bytes does not know: the object is read back */
		o = e->json ? cJSON_ParseWithLength(e->json, e->json_len) : NULL;
		if (!o || jsontext_attach(o, e->json, e->json_len) == -ENOMEM) {
			cJSON_Delete(o);
			*why = "an object's info.json cannot be read back";
			rc = 1;
			break;
		}
		t = realloc(out->trees, (out->ntrees + 1) * sizeof(*t));
		if (!t) {
			cJSON_Delete(o);
			rc = -ENOMEM;
			break;
		}
		out->trees = t;
		out->trees[out->ntrees++] = o;
		if (k->active_filter &&
		    (v = cJSON_GetObjectItemCaseSensitive(o, k->active_filter)) &&
		    cJSON_IsString(v) && in_list(k->active_values, v->valuestring)) {
			*why = "an object in an active status is gone from the active query";
			rc = 1;
			break;
		}
		rc = merge_put(&m, e->id, o);
		kept++;
	}
	if (!rc && total >= 0 && (size_t)total != m.n) {
		*why = "the total count differs from the merged count (a deletion)";
		rc = 1;
	}
	if (!rc) {
		if (prev->nentries)
			out->json_bytes += prev->json_bytes / prev->nentries * kept;
		merge_finish(&m, out);
		if (reused) /* the entries taken as they are live in prev */
			out->reuse_snap = snapshot_get((struct snapshot *)prev);
		return 0;
	}
out:
	if (rc < 0 && !err->message)
		gcf_error_set(err, GCF_NOMEM, "out of memory while merging a listing");
	merge_release(&m);
	listing_release(&act);
	listing_release(&dl);
	listing_release(out);
	return rc;
}

/* ---- the choice --------------------------------------------------------- */

/* Was this fetch asked for (cache_invalidate), rather than a TTL expiry of
 * the current snapshot? cache.c marks the fetch in flight `soft` exactly
 * when it refreshes an expired snapshot that nobody invalidated. */
static bool asked(struct collection *col)
{
	bool soft;

	pthread_mutex_lock(&col->mu);
	soft = col->soft;
	pthread_mutex_unlock(&col->mu);
	return !soft;
}

const char *incr_kind_name(enum incr_kind kind)
{
	switch (kind) {
	case INCR_FULL_FIRST:
		return "full (first)";
	case INCR_FULL_ASKED:
		return "full (asked)";
	case INCR_FULL_INTERVAL:
		return "full (interval)";
	case INCR_FULL_SMALL:
		return "full (one page)";
	case INCR_FULL_UNORDERED:
		return "full";
	case INCR_FULL_FALLBACK:
		return "full (fallback)";
	case INCR_DELTA:
		return "incremental";
	}
	return "?";
}

int incr_fetch(struct incr_state *s, struct collection *col, const struct fetch_io *io,
	       const struct conn *c, const struct kind *k, struct ratelimit *rl,
	       uint64_t deadline_ns, struct listing *out, struct fetch_stats *st,
	       struct gcf_error *err)
{
	struct snapshot *prev = cache_peek(col);
	uint64_t now = clock_now_ns(), every = (uint64_t)c->full_refresh_s * 1000000000ull;
	enum incr_kind kind = INCR_DELTA;
	const char *why = NULL;
	int rc = 1;

	if (!k->update_field)
		kind = INCR_FULL_UNORDERED;
	else if (!prev || prev != s->base || prev->content_hash != s->base_hash ||
		 prev->nentries != s->base_n || !s->have_mark || !s->have_full)
		kind = INCR_FULL_FIRST;
	else if (asked(col))
		kind = INCR_FULL_ASKED;
	else if (now - s->full_ns >= every)
		kind = INCR_FULL_INTERVAL;
	else if (prev->nentries < (k->page_max ? k->page_max : 100))
		kind = INCR_FULL_SMALL;
	if (kind == INCR_DELTA) {
		rc = delta(s, prev, io, c, k, rl, deadline_ns, out, st, &why, err);
		if (rc == 1) {
			log_info("%s/%s: incremental refresh not trusted (%s): full refresh",
				 c->name, k->dir, why);
			kind = INCR_FULL_FALLBACK;
			s->counts.fallback++;
		}
	}
	if (rc == 1)
		rc = full(s,
			  prev && kind != INCR_FULL_ASKED && c->full_refresh_s &&
			      prev->nentries >= (k->page_max ? k->page_max : 100),
			  io, c, k, rl, deadline_ns, out, st, err);
	snapshot_put(prev);
	if (!rc) {
		s->last = kind;
		if (kind == INCR_DELTA)
			s->counts.delta++;
		else
			s->counts.full++;
		log_debug("%s/%s: %s refresh, %zu objects", c->name, k->dir, incr_kind_name(kind),
			  out->nitems);
	}
	return rc;
}

static void lock(struct collection *col)
{
	if (col)
		pthread_mutex_lock(&col->mu);
}

static void unlock(struct collection *col)
{
	if (col)
		pthread_mutex_unlock(&col->mu);
}

void incr_commit(struct incr_state *s, struct collection *col, const struct snapshot *snap)
{
	lock(col);
	s->base = snap;
	s->base_hash = snap->content_hash;
	s->base_n = snap->nentries;
	s->have_mark = s->next.have_mark;
	s->mark = s->next.mark;
	if (s->next.full) {
		s->full_ns = clock_now_ns();
		s->full_wall = time(NULL);
		s->have_full = true;
	}
	unlock(col);
}

/* ---- the state a snapshot carries ---------------------------------------- */

static const unsigned char wm_magic[8] = "GCFINCR";
#define WM_LAYOUT    1u
#define WM_HAVE_MARK 1u
#define WM_HAVE_FULL 2u

void incr_export(struct incr_state *s, struct collection *col, const struct snapshot *snap,
		 struct incr_wm *out)
{
	memset(out, 0, sizeof(*out));
	if (!snap)
		return;
	lock(col);
	if (s->base == snap && s->base_hash == snap->content_hash && s->base_n == snap->nentries &&
	    s->have_mark && s->have_full) {
		out->valid = true;
		out->have_mark = true;
		out->have_full = true;
		out->mark = s->mark;
		out->full_wall = s->full_wall;
		out->content_hash = snap->content_hash;
		out->nentries = snap->nentries;
	}
	unlock(col);
}

void incr_wm_meta(struct incr_wm *w, struct snapfile_meta *m)
{
	m->wm_time_s = 0;
	m->wm_count = 0;
	m->wm_total = -1;
	m->extra = NULL;
	m->extra_len = 0;
	if (!w->valid)
		return;
	memcpy(w->extra, wm_magic, sizeof(wm_magic));
	gcf_put_le32(w->extra + 8, WM_LAYOUT);
	gcf_put_le32(w->extra + 12,
		     (w->have_mark ? WM_HAVE_MARK : 0) | (w->have_full ? WM_HAVE_FULL : 0));
	gcf_put_le64(w->extra + 16, (uint64_t)(int64_t)w->full_wall);
	gcf_put_le64(w->extra + 24, w->content_hash);
	gcf_put_le64(w->extra + 32, w->nentries);
	m->wm_time_s = (int64_t)w->mark;
	m->extra = w->extra;
	m->extra_len = INCR_WM_EXTRA_LEN;
}

int incr_wm_read(const struct snapfile_meta *m, const struct snapshot *snap, struct incr_wm *out,
		 const char **why)
{
	const unsigned char *x = m ? m->extra : NULL;
	uint32_t flags;

	memset(out, 0, sizeof(*out));
	if (!x || !m->extra_len) {
		*why = "no watermark";
		return -EINVAL;
	}
	if (m->extra_len != INCR_WM_EXTRA_LEN || memcmp(x, wm_magic, sizeof(wm_magic)) ||
	    gcf_get_le32(x + 8) != WM_LAYOUT) {
		*why = "a watermark of another layout";
		return -EINVAL;
	}
	flags = gcf_get_le32(x + 12);
	if (!(flags & WM_HAVE_MARK) || !(flags & WM_HAVE_FULL)) {
		*why = "no watermark";
		return -EINVAL;
	}
	if (gcf_get_le64(x + 24) != snap->content_hash ||
	    gcf_get_le64(x + 32) != (uint64_t)snap->nentries) {
		*why = "a watermark of another content";
		return -EINVAL;
	}
	out->valid = out->have_mark = out->have_full = true;
	out->mark = (time_t)m->wm_time_s;
	out->full_wall = (time_t)(int64_t)gcf_get_le64(x + 16);
	out->content_hash = snap->content_hash;
	out->nentries = snap->nentries;
	return 0;
}

int incr_adopt(struct incr_state *s, struct collection *col, const struct snapshot *snap,
	       const struct snapfile_meta *m, const char **why)
{
	const char *reason = NULL;
	struct incr_wm w;
	int rc = incr_wm_read(m, snap, &w, &reason);

	lock(col);
	if (rc && s->base && s->have_mark && s->base_hash == snap->content_hash &&
	    s->base_n == snap->nentries) {
		/* no watermark with it, but ours is of the same content: keep it */
		s->base = snap;
	} else if (rc) {
		/* the current watermark is of another snapshot: forget it */
		s->base = NULL;
		s->have_mark = false;
	} else {
		time_t wall = time(NULL);
		uint64_t age = wall > w.full_wall ? (uint64_t)(wall - w.full_wall) : 0;

		s->base = snap;
		s->base_hash = snap->content_hash;
		s->base_n = snap->nentries;
		s->have_mark = true;
		s->mark = w.mark;
		s->have_full = true;
		s->full_wall = w.full_wall;
		/* modulo 2^64: now - full_ns is the age, even past the boot */
		s->full_ns = clock_now_ns() - age * 1000000000ull;
		s->adopted++;
	}
	unlock(col);
	if (why)
		*why = reason;
	return rc;
}
