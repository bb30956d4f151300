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

/* File names, one copy each per snapshot: open addressing over FNV-1a. */
struct interner {
	const char **v;
	size_t cap, n; /* cap: a power of two, or 0 */
};

static int intern_grow(struct interner *in)
{
	size_t cap = in->cap ? 2 * in->cap : 64;
	const char **v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < in->cap; i++) {
		size_t k;

		if (!in->v[i])
			continue;
		k = gcf_fnv1a_str(GCF_FNV1A_BASIS, in->v[i]) & (cap - 1);
		while (v[k])
			k = (k + 1) & (cap - 1);
		v[k] = in->v[i];
	}
	free(in->v);
	in->v = v;
	in->cap = cap;
	return 0;
}

/* The snapshot's copy of name (made in the arena on first use), or NULL. */
static const char *intern(struct interner *in, struct arena_block **a, const char *name)
{
	size_t k;

	if (2 * (in->n + 1) > in->cap && intern_grow(in))
		return NULL;
	k = gcf_fnv1a_str(GCF_FNV1A_BASIS, name) & (in->cap - 1);
	while (in->v[k]) {
		if (!strcmp(in->v[k], name))
			return in->v[k];
		k = (k + 1) & (in->cap - 1);
	}
	in->v[k] = arena_memdup(a, name, strlen(name));
	if (in->v[k])
		in->n++;
	return in->v[k];
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

/* Adds name, whose len bytes are made by (how, member), unless the name is
 * taken; keep: the bytes themselves when the snapshot keeps them (a
 * FILE_SOURCE file), else NULL. A file past the limits of struct file (4 GiB,
 * 2^28 members) is not made. */
static int filelist_add(struct filelist *fl, struct interner *in, struct arena_block **a,
			const char *name, enum file_how how, size_t member, const char *bytes,
			size_t len, const char *keep)
{
	struct file *f;

	if (filelist_has(fl, name) || len > UINT32_MAX || member > FILE_MEMBER_MAX)
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
	f->name = intern(in, a, name);
	if (!f->name)
		return -ENOMEM;
	f->data = keep;
	f->size = (uint32_t)len;
	f->how = how;
	f->member = (unsigned)member;
	f->hash = gcf_fnv1a(GCF_FNV1A_BASIS, bytes, len);
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

/* The first member of obj named key (as cJSON_GetObjectItemCaseSensitive
 * finds it) and its number, or NULL. */
static const cJSON *member_of(const cJSON *obj, const char *key, size_t *ord)
{
	size_t i = 0;

	for (const cJSON *c = obj->child; c && c->string; c = c->next, i++)
		if (!strcmp(c->string, key)) {
			*ord = i;
			return c;
		}
	return NULL;
}

static int cmp_file_name(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->name, ((const struct file *)b)->name);
}

/* Whether obj is in one of k's active statuses (incremental.h), as the
 * incremental refresh asks of the previous snapshot's objects. */
static uint8_t entry_active_of(const struct kind *k, const cJSON *obj)
{
	const cJSON *v;

	if (!k->active_filter || !k->active_values)
		return ENTRY_ACTIVE_NO;
	v = cJSON_GetObjectItemCaseSensitive(obj, k->active_filter);
	if (!cJSON_IsString(v))
		return ENTRY_ACTIVE_NO;
	for (const char *const *a = k->active_values; *a; a++)
		if (!strcmp(*a, v->valuestring))
			return ENTRY_ACTIVE_YES;
	return ENTRY_ACTIVE_NO;
}

/* e as a copy of src, an entry of another snapshot whose object is the
 * same (its JSON taken as it is): nothing is parsed or rendered again.
 * Names are this snapshot's; an mtime that was a fetch time is now's (as
 * render_entry makes it; snapshot_carry_times keeps the old one). */
static int copy_entry(const struct entry *src, const char *name, time_t fetched_wall,
		      struct arena_block **a, struct interner *in, struct entry *e)
{
	e->mtime = src->mtime_fetched ? fetched_wall : src->mtime;
	e->mtime_fetched = src->mtime_fetched;
	e->active = src->active;
	e->json_len = src->json_len;
	e->json = src->json ? arena_memdup(a, src->json, src->json_len) : NULL;
	e->name = arena_memdup(a, name, strlen(name));
	e->files = malloc((src->nfiles ? src->nfiles : 1) * sizeof(*e->files));
	if ((src->json && !e->json) || !e->name || !e->files)
		return -ENOMEM;
	for (size_t j = 0; j < src->nfiles; j++) {
		struct file *f = &e->files[j];

		*f = src->files[j];
		f->name = intern(in, a, src->files[j].name);
		if (!f->name)
			return -ENOMEM;
		if (f->how == FILE_SOURCE)
			f->data = e->json;
		else if (f->data && !(f->data = arena_memdup(a, f->data, f->size)))
			return -ENOMEM;
		e->nfiles = j + 1;
	}
	return 0;
}

/* Fills e from obj; e->files is a malloc'd list the caller moves into the
 * arena (render_snapshot lays every entry's files out in entry order). */
static int render_entry(const struct kind *k, const cJSON *obj, const char *name,
			time_t fetched_wall, struct arena_block **a, struct interner *in,
			struct entry *e)
{
	struct filelist fl = {0};
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	cJSON *back = NULL;
	const cJSON *f;
	size_t ord;
	int rc;

	e->mtime = fetched_wall;
	e->mtime_fetched = true;
	for (const char *const *m = k->mtime_fields; m && *m; m++)
		if (!render_parse_time_tz(cJSON_GetObjectItemCaseSensitive(obj, *m),
					  k->mtime_utc_offset_s, &e->mtime)) {
			e->mtime_fetched = false;
			break;
		}

	/* The entry keeps its object as compact JSON (the <kind>.jsonl line,
	 * about the bytes the cloud sent); every file, info.json included, is
	 * measured from that text read back, as a read renders it
	 * (render_entry_files): the same bytes by construction, even where
	 * printing and parsing are not inverses (a number past the double
	 * range without its token prints as null). */
	rc = add_pretty(&b, obj);
	if (!rc) {
		struct buf c = BUF_INIT(BUF_NOLIMIT);

		rc = jsontext_compact(b.p, b.len, &c);
		if (!rc) {
			e->json = arena_memdup(a, c.p, c.len);
			e->json_len = c.len;
			rc = e->json ? 0 : -ENOMEM;
		}
		buf_release(&c);
	}
	if (!rc) {
		back = cJSON_ParseWithLength(e->json, e->json_len);
		if (back && jsontext_attach(back, e->json, e->json_len) == -ENOMEM)
			rc = -ENOMEM;
		obj = back; /* NULL cannot happen with cJSON's own output */
	}
	if (!rc && obj)
		e->active = entry_active_of(k, obj);
	if (!rc && obj) {
		buf_reset(&b);
		rc = add_pretty(&b, obj);
		if (!rc)
			rc = filelist_add(&fl, in, a, "info.json", FILE_WHOLE, 0, b.p, b.len, NULL);
	}
	for (const struct kind_json *j = k->json_files; obj && !rc && j && j->file; j++) {
		f = member_of(obj, j->field, &ord);
		if (!f || cJSON_IsNull(f))
			continue;
		buf_reset(&b);
		rc = add_pretty(&b, f);
		if (!rc)
			rc = filelist_add(&fl, in, a, j->file, FILE_PRETTY, ord, b.p, b.len, NULL);
	}
	ord = 0;
	for (f = obj ? obj->child : NULL; f && !rc; f = f->next, ord++) {
		struct buf fname = BUF_INIT(BUF_NOLIMIT);
		int st;

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
			rc = filelist_add(&fl, in, a, fname.p, FILE_SCALAR, ord, b.p, b.len, NULL);
		buf_release(&fname);
	}
	if (!rc) {
		qsort(fl.v, fl.n, sizeof(*fl.v), cmp_file_name);
		e->files = fl.v;
		e->nfiles = fl.n;
		fl.v = NULL;
		e->name = arena_memdup(a, name, strlen(name));
		if (!e->name)
			rc = -ENOMEM;
	}
	free(fl.v);
	buf_release(&b);
	cJSON_Delete(back);
	return rc;
}

int render_entry_files(const struct entry *e, struct buf *out, size_t *off)
{
	cJSON *obj = NULL;
	bool need = false;
	int rc = 0;

	for (size_t j = 0; j < e->nfiles; j++)
		need |= !e->files[j].data;
	if (need) {
		if (!e->json)
			return -EIO;
		obj = cJSON_ParseWithLength(e->json, e->json_len);
		if (!obj)
			return -EIO;
		if (jsontext_attach(obj, e->json, e->json_len) == -ENOMEM)
			rc = -ENOMEM;
	}
	for (size_t j = 0; j < e->nfiles && !rc; j++) {
		const struct file *f = &e->files[j];
		size_t start = out->len;
		const cJSON *m = NULL;

		off[j] = start;
		if (f->data)
			continue;
		if (f->how == FILE_PRETTY || f->how == FILE_SCALAR)
			m = cJSON_IsObject(obj) ? cJSON_GetArrayItem(obj, (int)f->member) : NULL;
		if (f->how == FILE_WHOLE)
			rc = add_pretty(out, obj);
		else if (f->how == FILE_PRETTY && m)
			rc = add_pretty(out, m);
		else if (f->how == FILE_SCALAR && m)
			rc = scalar_text(m, out);
		else
			rc = -EIO;
		if (rc > 0 ||
		    (!rc && (out->len - start != f->size ||
			     gcf_fnv1a(GCF_FNV1A_BASIS, out->p + start, f->size) != f->hash)))
			rc = -EIO;
	}
	off[e->nfiles] = out->len;
	cJSON_Delete(obj);
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

/* Moves every entry's files (malloc'd lists) into one arena array, in entry
 * order: snapshot_file_entry() finds a file's entry by its address. On
 * failure the lists stay with their entries. */
static int files_to_arena(struct snapshot *s, size_t nfiles)
{
	struct file *all = arena_alloc(&s->arena, (nfiles ? nfiles : 1) * sizeof(*all));
	size_t at = 0;

	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < s->nentries; i++) {
		struct entry *e = &s->entries[i];

		if (e->nfiles)
			memcpy(all + at, e->files, e->nfiles * sizeof(*all));
		free(e->files);
		e->files = all + at;
		at += e->nfiles;
	}
	return 0;
}

int render_snapshot(const struct kind *k, const cJSON *const *items, size_t n, time_t fetched_wall,
		    struct snapshot **out, struct gcf_error *err)
{
	return render_snapshot_reuse(k, items, NULL, n, fetched_wall, out, err);
}

int render_snapshot_reuse(const struct kind *k, const cJSON *const *items,
			  const struct entry *const *reuse, size_t n, time_t fetched_wall,
			  struct snapshot **out, struct gcf_error *err)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	char **names = calloc(n ? n : 1, sizeof(*names));
	char **ids = calloc(n ? n : 1, sizeof(*ids));
	const cJSON **objs = calloc(n ? n : 1, sizeof(*objs));
	const struct entry **srcs = calloc(n ? n : 1, sizeof(*srcs));
	struct interner in = {0};
	size_t m = 0, nfiles = 0;
	int rc = 0;

	*out = NULL;
	if (!s || !names || !ids || !objs || !srcs) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct buf id = BUF_INIT(BUF_NOLIMIT), name = BUF_INIT(BUF_NOLIMIT);
		const struct entry *src = reuse ? reuse[i] : NULL;

		if (!src && !cJSON_IsObject(items[i]))
			continue;
		/* the ID as render_entry stored it: the same name as from the object */
		rc = src ? buf_addstr(&id, src->id ? src->id : "") : id_text(k, items[i], &id);
		if (!rc)
			rc = names_from_id(id.p ? id.p : "", id.len, &name);
		if (!rc) {
			ids[m] = buf_detach(&id, NULL);
			names[m] = buf_detach(&name, NULL);
			objs[m] = src ? NULL : items[i];
			srcs[m] = src;
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
		if (srcs[i])
			rc = copy_entry(srcs[i], names[i], fetched_wall, &s->arena, &in,
					&s->entries[i]);
		else
			rc = render_entry(k, objs[i], names[i], fetched_wall, &s->arena, &in,
					  &s->entries[i]);
		if (!rc)
			nfiles += s->entries[i].nfiles;
		if (!rc) {
			s->entries[i].id = arena_memdup(&s->arena, ids[i], strlen(ids[i]));
			if (!s->entries[i].id)
				rc = -ENOMEM;
		}
	}
	if (!rc) {
		s->nentries = m;
		qsort(s->entries, m, sizeof(*s->entries), cmp_entry_name);
		rc = files_to_arena(s, nfiles);
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
	free(srcs);
	free(in.v);
	if (s) {
		for (size_t i = 0; s->entries && i < m; i++)
			free(s->entries[i].files);
		arena_free(s->arena);
		free(s->entries);
		free(s);
	}
	if (rc)
		gcf_error_set(err, GCF_NOMEM, "out of memory while rendering '%s'", k->dir);
	return rc;
}
