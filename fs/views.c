/*
 * views.c - filtered views of a collection (see views.h).
 */
#include "views.h"

#include <stdlib.h>
#include <string.h>

#include "collfetch.h"
#include "daemon.h"
#include "names.h"

int views_filter_dir(const char *filter, struct buf *out)
{
	int rc = buf_addstr(out, ".by-");

	return rc ? rc : names_snake(filter, out);
}

uint64_t views_dir(struct daemon *d, struct coll_rt *coll)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	uint64_t fdir, ino = 0;

	if (!coll->main || coll->by_id)
		return coll->main ? coll->main->ino : coll->ino;
	if (views_filter_dir(coll->filter_name, &b))
		goto out;
	fdir = inodes_find(&d->inodes, coll->main->ino, b.p);
	buf_reset(&b);
	if (fdir && !names_from_id(coll->filter_value, strlen(coll->filter_value), &b))
		ino = inodes_find(&d->inodes, fdir, b.p);
out:
	buf_release(&b);
	return ino;
}

const char *views_id_filter(const struct kind *k)
{
	for (const char *const *f = k->filters; f && *f; f++)
		if (!strcmp(*f, k->id_field))
			return *f;
	return NULL;
}

static void view_free(struct coll_rt *sub)
{
	free(sub->filter_name);
	free(sub->filter_value);
	free(sub);
}

/* m->subs_mu held: a new view of m, or NULL on ENOMEM. */
static struct coll_rt *view_new(struct coll_rt *m, const char *filter, const char *value)
{
	struct coll_rt *sub = calloc(1, sizeof(*sub));

	if (!sub)
		return NULL;
	sub->d = m->d;
	sub->cr = m->cr;
	sub->kind = m->kind;
	sub->main = m;
	sub->ino = m->ino;
	sub->filter_name = strdup(filter);
	sub->filter_value = strdup(value);
	sub->by_id = !strcmp(filter, m->kind->id_field);
	if (!sub->filter_name || !sub->filter_value || collfetch_init(sub)) {
		view_free(sub);
		return NULL;
	}
	return sub;
}

struct coll_rt *views_get(struct coll_rt *m, const char *filter, const char *value)
{
	struct coll_rt *sub = NULL, **v;

	pthread_mutex_lock(&m->subs_mu);
	for (size_t i = 0; i < m->nsubs; i++)
		if (!strcmp(m->subs[i]->filter_name, filter) &&
		    !strcmp(m->subs[i]->filter_value, value)) {
			sub = m->subs[i];
			goto out;
		}
	if (m->nsubs >= VIEWS_MAX)
		goto out;
	v = realloc(m->subs, (m->nsubs + 1) * sizeof(*v));
	if (!v)
		goto out;
	m->subs = v;
	sub = view_new(m, filter, value);
	if (sub)
		m->subs[m->nsubs++] = sub;
out:
	pthread_mutex_unlock(&m->subs_mu);
	return sub;
}

void views_release(struct coll_rt *m)
{
	for (size_t j = 0; j < m->nsubs; j++) {
		cache_release(&m->subs[j]->col);
		view_free(m->subs[j]);
	}
	free(m->subs);
	m->subs = NULL;
	m->nsubs = 0;
}

void views_invalidate(struct daemon *d, struct coll_rt *m)
{
	pthread_mutex_lock(&m->subs_mu);
	for (size_t j = 0; j < m->nsubs; j++) {
		cache_invalidate(&m->subs[j]->col);
		notify_inode(&d->notifier, views_dir(d, m->subs[j]));
	}
	pthread_mutex_unlock(&m->subs_mu);
}
