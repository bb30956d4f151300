/*
 * snap_helpers.h - snapshots for the snapfile and diskstore tests: rendered
 * from TI-ONE-like task objects (render_snapshot, as the daemon makes them)
 * or synthesized by hand at any size, plus a deep comparison.
 * Include after <cmocka.h>.
 */
#ifndef GCF_TEST_SNAP_HELPERS_H
#define GCF_TEST_SNAP_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "provider.h"
#include "render.h"
#include "snapfile.h"
#include "snapshot.h"

#include "file_bytes.h"

extern const struct provider provider_tencent;

#define SNAP_FETCHED_WALL ((time_t)1700000000)

static const char *const snap_tasks_json =
    "["
    "{\"Id\":\"train-b\",\"Name\":\"bert\",\"FrameworkName\":\"PYTORCH\","
    " \"Status\":\"RUNNING\",\"RuntimeInSeconds\":3600,\"BillingPrice\":0.5,"
    " \"Preemptible\":true,\"EnableRDMA\":false,\"EndTime\":null,"
    " \"CreateTime\":\"2024-04-30T00:00:00Z\",\"UpdateTime\":\"2024-05-01T08:30:00Z\","
    " \"Tags\":[{\"TagKey\":\"team\",\"TagValue\":\"nlp\"}],"
    " \"ResourceConfigInfos\":[{\"Role\":\"WORKER\",\"Cpu\":8000,\"Memory\":32000}]},"
    "{\"Id\":\"train-a\",\"Name\":\"gpt\",\"Status\":\"STOPPED\","
    " \"CreateTime\":\"2024-04-01 10:00:00\"},"
    "{\"Id\":\"train/c\",\"Name\":\"llama\",\"Status\":\"FAILED\"},"
    "{\"Id\":\"train-a\",\"Name\":\"dup\",\"Status\":\"FAILED\"}"
    "]";

/* The tasks above rendered as the daemon would. One reference. */
static inline struct snapshot *snap_rendered(void)
{
	struct gcf_error err = GCF_ERROR_INIT;
	const struct kind *k = provider_kind(&provider_tencent, "tasks");
	cJSON *tree = cJSON_Parse(snap_tasks_json);
	const cJSON *items[8], *it;
	struct snapshot *s = NULL;
	size_t n = 0;

	assert_non_null(k);
	assert_non_null(tree);
	cJSON_ArrayForEach(it, tree) items[n++] = it;
	assert_int_equal(render_snapshot(k, items, n, SNAP_FETCHED_WALL, &s, &err), 0);
	s->json_bytes = strlen(snap_tasks_json);
	cJSON_Delete(tree);
	gcf_error_release(&err);
	return s;
}

/*
 * n entries "task-%07zu" (sorted), each with an info.json of info_bytes and
 * nscalar small files "f00".."fNN" of about 20 bytes: a synthetic listing of
 * any size, built directly in an arena. One reference.
 */
static inline struct snapshot *snap_synthetic(size_t n, size_t info_bytes, size_t nscalar)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	char name[32], val[64];

	assert_non_null(s);
	s->entries = calloc(n ? n : 1, sizeof(*s->entries));
	assert_non_null(s->entries);
	for (size_t i = 0; i < n; i++) {
		struct entry *e = &s->entries[i];
		struct file *f = arena_alloc(&s->arena, (nscalar + 1) * sizeof(*f));
		char *info = arena_alloc_aligned(&s->arena, info_bytes + 1, 1);

		assert_non_null(f);
		assert_non_null(info);
		snprintf(name, sizeof(name), "ID-%07zu", i);
		e->id = arena_memdup(&s->arena, name, strlen(name));
		snprintf(name, sizeof(name), "task-%07zu", i);
		e->name = arena_memdup(&s->arena, name, strlen(name));
		e->mtime = (time_t)(1714552200 + i);
		e->nfiles = nscalar + 1;
		e->files = f;
		for (size_t j = 0; j < nscalar; j++) {
			int len;

			snprintf(name, sizeof(name), "f%02zu", j);
			len = snprintf(val, sizeof(val), "value-%zu-%zu\n", i, j);
			f[j].name = arena_memdup(&s->arena, name, strlen(name));
			f[j].data = arena_memdup(&s->arena, val, (size_t)len);
			f[j].size = (uint32_t)len;
			f[j].hash = i * 131 + j;
			f[j].how = FILE_STORED;
			f[j].member = 0;
		}
		for (size_t b = 0; b < info_bytes; b++)
			info[b] = (char)('a' + (i + b) % 26);
		info[info_bytes] = '\0';
		f[nscalar].name = "info.json"; /* sorts after "fNN" */
		f[nscalar].data = info;
		f[nscalar].size = (uint32_t)info_bytes;
		f[nscalar].hash = i;
		f[nscalar].how = FILE_STORED;
		f[nscalar].member = 0;
	}
	s->nentries = n;
	s->fetched_wall = SNAP_FETCHED_WALL;
	s->json_bytes = n * info_bytes;
	pthread_mutex_init(&s->jsonl_mu, NULL);
	atomic_init(&s->refs, 1);
	return s;
}

/* Asserts that a and b hold the same entries, files, bytes and times. */
static inline void snap_assert_equal(const struct snapshot *a, const struct snapshot *b)
{
	assert_int_equal(a->nentries, b->nentries);
	assert_int_equal(a->fetched_wall, b->fetched_wall);
	assert_int_equal(a->json_bytes, b->json_bytes);
	for (size_t i = 0; i < a->nentries; i++) {
		const struct entry *x = &a->entries[i], *y = &b->entries[i];

		assert_string_equal(x->name, y->name);
		assert_string_equal(x->id, y->id);
		assert_int_equal(x->mtime, y->mtime);
		assert_int_equal(x->nfiles, y->nfiles);
		assert_int_equal(x->json_len, y->json_len);
		assert_int_equal(!x->json, !y->json);
		if (x->json)
			assert_memory_equal(x->json, y->json, x->json_len + 1);
		for (size_t j = 0; j < x->nfiles; j++) {
			const struct file *fx = &x->files[j], *fy = &y->files[j];

			assert_string_equal(fx->name, fy->name);
			assert_int_equal(fx->size, fy->size);
			assert_int_equal(fx->hash, fy->hash);
			assert_int_equal(fx->how, fy->how);
			assert_int_equal(fx->member, fy->member);
			assert_int_equal(!fx->data, !fy->data);
			assert_memory_equal(file_bytes(a, fx), file_bytes(b, fy), fx->size);
		}
	}
}

/* A meta for kind "tasks" of a test identity, with a watermark. */
static inline void snap_meta(struct snapfile_meta *m, const char *access_key_id)
{
	struct snapfile_identity id = {.provider = "tencent",
				       .endpoint = "https://tione.tencentcloudapi.com",
				       .region = "ap-shanghai",
				       .access_key_id = access_key_id,
				       .kind = "tasks"};

	snapfile_meta_init(m);
	assert_int_equal(snapfile_key_init(&m->key, &id), 0);
	m->kind = (char *)"tasks";
	m->wm_time_s = 1714552200;
	m->wm_count = 2;
	m->wm_total = 4;
}

#endif
