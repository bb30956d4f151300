/*
 * render.c - a listing of cloud objects becomes an immutable snapshot:
 * names, info.json, one file per scalar field, extra .json files, mtimes.
 */
#include "render.h"
#include "gcf_hash.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "jsontext.h"
#include "names.h"

int render_parse_time(const cJSON *v, time_t *out)
{
	return render_parse_time_tz(v, 0, out);
}

int render_parse_time_tz(const cJSON *v, int default_offset_s, time_t *out)
{
	int Y, M, D, h = 0, m = 0, s = 0, n = 0;
	struct tm tm = {0};
	const char *p;
	long off = default_offset_s;
	time_t t;

	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (!isfinite(d) || d < 0 || d > 1e15)
			return -EINVAL;
		*out = (time_t)(d > 1e11 ? d / 1000 : d);
		return 0;
	}
	if (!cJSON_IsString(v) || !v->valuestring)
		return -EINVAL;
	p = v->valuestring;
	if (sscanf(p, "%4d-%2d-%2d%n", &Y, &M, &D, &n) != 3 || n != 10)
		return -EINVAL;
	p += n;
	if (*p == 'T' || *p == ' ') {
		if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &m, &s, &n) != 3 || n != 8)
			return -EINVAL;
		p += 1 + n;
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		if (*p == '+' || *p == '-') {
			int oh, om;

			if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
				return -EINVAL;
			off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
		} else if (*p == 'Z' || *p == 'z') {
			off = 0;
		} else if (*p != '\0') {
			return -EINVAL;
		}
	} else if (*p != '\0') {
		return -EINVAL;
	}
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60)
		return -EINVAL;
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = s;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = t - off;
	return 0;
}

/* Files of one entry, collected before they are sorted into the arena. */
struct filelist {
	struct file *v;
	size_t n, cap;
};

static bool filelist_has(const struct filelist *fl, const char *name)
{
	for (size_t i = 0; i < fl->n; i++)
		if (!strcmp(fl->v[i].name, name))
			return true;
	return false;
}

/* Adds name -> data (copied into the arena) unless the name is taken. */
static int filelist_add(struct filelist *fl, struct arena_block **a, const char *name,
			const char *data, size_t len)
{
	struct file *f;

	if (filelist_has(fl, name))
		return 0;
	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? 2 * fl->cap : 16;
		struct file *v = realloc(fl->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		fl->v = v;
		fl->cap = cap;
	}
	f = &fl->v[fl->n];
	f->name = arena_memdup(a, name, strlen(name));
	f->data = arena_memdup(a, data, len);
	if (!f->name || !f->data)
		return -ENOMEM;
	f->size = len;
	f->hash = gcf_fnv1a(GCF_FNV1A_BASIS, data, len);
	fl->n++;
	return 0;
}

/* Appends a JSON value pretty-printed, numbers as the cloud wrote them,
 * plus a newline. */
static int add_pretty(struct buf *b, const cJSON *v)
{
	int rc = jsontext_print(v, true, b);

	return rc ? rc : buf_addch(b, '\n');
}

/* The text of a scalar field's file: the value and a newline. 1 = not a
 * scalar (or null): no file. */
static int scalar_text(const cJSON *v, struct buf *b)
{
	int rc = jsontext_scalar(v, b);

	return rc ? rc : buf_addch(b, '\n');
}

static int cmp_file_name(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->name, ((const struct file *)b)->name);
}

static int render_entry(const struct kind *k, const cJSON *obj, const char *name,
			time_t fetched_wall, struct arena_block **a, struct entry *e)
{
	struct filelist fl = {0};
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	const cJSON *f;
	int rc;

	e->mtime = fetched_wall;
	e->mtime_fetched = true;
	for (const char *const *m = k->mtime_fields; m && *m; m++)
		if (!render_parse_time_tz(cJSON_GetObjectItemCaseSensitive(obj, *m),
					  k->mtime_utc_offset_s, &e->mtime)) {
			e->mtime_fetched = false;
			break;
		}

	rc = add_pretty(&b, obj);
	if (!rc)
		rc = filelist_add(&fl, a, "info.json", b.p, b.len);
	for (const struct kind_json *j = k->json_files; !rc && j && j->file; j++) {
		f = cJSON_GetObjectItemCaseSensitive(obj, j->field);
		if (!f || cJSON_IsNull(f))
			continue;
		buf_reset(&b);
		rc = add_pretty(&b, f);
		if (!rc)
			rc = filelist_add(&fl, a, j->file, b.p, b.len);
	}
	cJSON_ArrayForEach(f, obj)
	{
		struct buf fname = BUF_INIT(BUF_NOLIMIT);
		int st;

		if (rc)
			break;
		if (!f->string)
			continue;
		buf_reset(&b);
		st = scalar_text(f, &b);
		if (st < 0) {
			rc = st;
			break;
		}
		if (st > 0)
			continue;
		st = names_snake(f->string, &fname);
		if (st == -ENOMEM)
			rc = st;
		else if (!st)
			rc = filelist_add(&fl, a, fname.p, b.p, b.len);
		buf_release(&fname);
	}
	if (!rc) {
		qsort(fl.v, fl.n, sizeof(*fl.v), cmp_file_name);
		e->files = arena_alloc(a, fl.n * sizeof(*fl.v) + 1);
		if (!e->files) {
			rc = -ENOMEM;
		} else {
			memcpy(e->files, fl.v, fl.n * sizeof(*fl.v));
			e->nfiles = fl.n;
			e->name = arena_memdup(a, name, strlen(name));
			if (!e->name)
				rc = -ENOMEM;
		}
	}
	free(fl.v);
	buf_release(&b);
	return rc;
}

/* The object's ID as text ("" when missing or not a string or number). */
static int id_text(const struct kind *k, const cJSON *obj, struct buf *b)
{
	int rc = jsontext_id(obj, k->id_field, b);

	return rc > 0 ? buf_addstr(b, "") : rc;
}

static int cmp_entry_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

int render_snapshot(const struct kind *k, const cJSON *const *items, size_t n, time_t fetched_wall,
		    struct snapshot **out, struct gcf_error *err)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	char **names = calloc(n ? n : 1, sizeof(*names));
	char **ids = calloc(n ? n : 1, sizeof(*ids));
	const cJSON **objs = calloc(n ? n : 1, sizeof(*objs));
	size_t m = 0;
	int rc = 0;

	*out = NULL;
	if (!s || !names || !ids || !objs) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct buf id = BUF_INIT(BUF_NOLIMIT), name = BUF_INIT(BUF_NOLIMIT);

		if (!cJSON_IsObject(items[i]))
			continue;
		rc = id_text(k, items[i], &id);
		if (!rc)
			rc = names_from_id(id.p ? id.p : "", id.len, &name);
		if (!rc) {
			ids[m] = buf_detach(&id, NULL);
			names[m] = buf_detach(&name, NULL);
			objs[m] = items[i];
			if (!ids[m] || !names[m])
				rc = -ENOMEM;
			m++;
		}
		buf_release(&id);
		buf_release(&name);
	}
	if (!rc)
		rc = names_dedup(names, m);
	if (!rc) {
		s->entries = calloc(m ? m : 1, sizeof(*s->entries));
		if (!s->entries)
			rc = -ENOMEM;
	}
	for (size_t i = 0; i < m && !rc; i++) {
		rc = render_entry(k, objs[i], names[i], fetched_wall, &s->arena, &s->entries[i]);
		if (!rc) {
			s->entries[i].id = arena_memdup(&s->arena, ids[i], strlen(ids[i]));
			if (!s->entries[i].id)
				rc = -ENOMEM;
		}
	}
	if (!rc) {
		s->nentries = m;
		qsort(s->entries, m, sizeof(*s->entries), cmp_entry_name);
	}
	if (!rc) {
		s->fetched_wall = fetched_wall;
		snapshot_seal(s);
		pthread_mutex_init(&s->jsonl_mu, NULL);
		atomic_init(&s->refs, 1);
		*out = s;
		s = NULL;
	}
out:
	for (size_t i = 0; names && ids && i < n; i++) {
		free(names[i]);
		free(ids[i]);
	}
	free(names);
	free(ids);
	free(objs);
	if (s) {
		arena_free(s->arena);
		free(s->entries);
		free(s);
	}
	if (rc)
		gcf_error_set(err, GCF_NOMEM, "out of memory while rendering '%s'", k->dir);
	return rc;
}
