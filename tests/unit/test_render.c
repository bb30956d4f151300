/*
 * test_render.c - fs/render.c and fs/snapshot.c: a listing of cloud objects
 * becomes a snapshot whose entries are sorted by name, each with info.json
 * (the object, pretty, newline-terminated), one file per top-level scalar in
 * snake_case, the kind's extra .json files, exact sizes and an mtime taken
 * from the object or else the fetch time. Also render_parse_time's formats
 * and the snapshot reference count.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "gcf_error.h"
#include "jsontext.h"
#include "provider.h"
#include "render.h"
#include "snapshot.h"

#include "file_bytes.h"

extern const struct provider provider_tencent;

#define FETCHED_WALL ((time_t)1700000000)
#define UPDATE_0830  ((time_t)1714552200) /* 2024-05-01T08:30:00Z */

/* Modelled on DescribeTrainingTasks' TrainingTaskSet items. */
static const char *const tasks_json =
    "["
    "{\"Id\":\"train-b\",\"Name\":\"bert\",\"FrameworkName\":\"PYTORCH\","
    " \"Status\":\"RUNNING\",\"RuntimeInSeconds\":3600,\"BillingPrice\":0.5,"
    " \"Preemptible\":true,\"EnableRDMA\":false,\"EndTime\":null,"
    " \"CreateTime\":\"2024-04-30T00:00:00Z\",\"UpdateTime\":\"2024-05-01T08:30:00Z\","
    " \"Tags\":[{\"TagKey\":\"team\",\"TagValue\":\"nlp\"}],"
    " \"ResourceConfigInfos\":[{\"Role\":\"WORKER\",\"Cpu\":8000,\"Memory\":32000}],"
    " \"Output\":{\"CosPathInfo\":{\"Bucket\":\"b\",\"Path\":\"/out\"}}},"
    "{\"Id\":\"train-a\",\"Name\":\"gpt\",\"Status\":\"STOPPED\","
    " \"CreateTime\":\"2024-04-01 10:00:00\"},"
    "{\"Id\":\"train-c\",\"Name\":\"llama\",\"Status\":\"FAILED\"}"
    "]";

static const struct kind *tasks_kind(void)
{
	const struct kind *k = &provider_tencent.kinds[0];

	assert_string_equal(k->dir, "tasks");
	assert_string_equal(k->id_field, "Id");
	return k;
}

/* Parses json (an array) and renders its elements with kind k. */
static struct snapshot *render_json(const struct kind *k, const char *json, cJSON **tree)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *s = NULL;
	const cJSON **items;
	const cJSON *it;
	size_t n = 0;

	*tree = cJSON_Parse(json);
	assert_non_null(*tree);
	assert_true(cJSON_IsArray(*tree));
	items = calloc((size_t)cJSON_GetArraySize(*tree) + 1, sizeof(*items));
	assert_non_null(items);
	cJSON_ArrayForEach(it, *tree) items[n++] = it;
	assert_int_equal(render_snapshot(k, (const cJSON *const *)items, n, FETCHED_WALL, &s, &err),
			 0);
	assert_int_equal(err.errnum, 0);
	assert_non_null(s);
	free(items);
	return s;
}

static const struct file *file_of(const struct snapshot *s, const char *entry, const char *name)
{
	const struct entry *e = snapshot_find(s, entry);

	if (!e)
		fail_msg("no entry '%s'", entry);
	return entry_file(e, name);
}

static void check_file(const struct snapshot *s, const char *entry, const char *name,
		       const char *want)
{
	const struct file *f = file_of(s, entry, name);

	if (!f)
		fail_msg("no file '%s/%s'", entry, name);
	assert_string_equal(file_bytes(s, f), want);
	assert_int_equal(f->size, strlen(want));
}

static void test_render_entries_sorted_by_name(void **state)
{
	cJSON *tree;
	struct snapshot *s = render_json(tasks_kind(), tasks_json, &tree);

	assert_int_equal(s->nentries, 3);
	assert_string_equal(s->entries[0].name, "train-a");
	assert_string_equal(s->entries[1].name, "train-b");
	assert_string_equal(s->entries[2].name, "train-c");
	assert_string_equal(s->entries[1].id, "train-b");
	for (size_t i = 0; i < s->nentries; i++)
		for (size_t j = 1; j < s->entries[i].nfiles; j++)
			assert_true(strcmp(s->entries[i].files[j - 1].name,
					   s->entries[i].files[j].name) < 0);
	assert_null(snapshot_find(s, "train-z"));
	assert_int_equal(s->fetched_wall, FETCHED_WALL);
	snapshot_put(s);
	cJSON_Delete(tree);
}

static void test_render_info_json_round_trips(void **state)
{
	cJSON *tree;
	struct snapshot *s = render_json(tasks_kind(), tasks_json, &tree);
	const struct file *f = file_of(s, "train-b", "info.json");
	const cJSON *obj = cJSON_GetArrayItem(tree, 0);
	char *pretty = cJSON_Print(obj);
	cJSON *back;

	assert_non_null(f);
	assert_int_equal(f->size, strlen(file_bytes(s, f)));
	assert_int_equal(file_bytes(s, f)[f->size - 1], '\n');
	assert_int_equal(f->size, strlen(pretty) + 1);
	assert_memory_equal(file_bytes(s, f), pretty, f->size - 1);
	assert_non_null(strchr(file_bytes(s, f), '\t')); /* pretty, not one line */
	back = cJSON_Parse(file_bytes(s, f));
	assert_non_null(back);
	assert_true(cJSON_IsObject(back));
	assert_true(cJSON_Compare(back, obj, 1));
	/* null fields stay in info.json: it is the object as sent */
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(back, "EndTime")));
	cJSON_Delete(back);
	cJSON_free(pretty);
	snapshot_put(s);
	cJSON_Delete(tree);
}

static void test_render_scalar_files(void **state)
{
	cJSON *tree;
	struct snapshot *s = render_json(tasks_kind(), tasks_json, &tree);

	check_file(s, "train-b", "status", "RUNNING\n");
	check_file(s, "train-b", "id", "train-b\n");
	check_file(s, "train-b", "name", "bert\n");
	check_file(s, "train-b", "framework_name", "PYTORCH\n");
	check_file(s, "train-b", "runtime_in_seconds", "3600\n");
	check_file(s, "train-b", "billing_price", "0.5\n");
	check_file(s, "train-b", "preemptible", "true\n");
	check_file(s, "train-b", "enable_rdma", "false\n");
	check_file(s, "train-b", "update_time", "2024-05-01T08:30:00Z\n");
	check_file(s, "train-a", "status", "STOPPED\n");
	snapshot_put(s);
	cJSON_Delete(tree);
}

static void test_render_null_and_nested_have_no_file(void **state)
{
	cJSON *tree;
	struct snapshot *s = render_json(tasks_kind(), tasks_json, &tree);
	const struct entry *e = snapshot_find(s, "train-b");

	assert_non_null(e);
	assert_null(entry_file(e, "end_time"));              /* null */
	assert_null(entry_file(e, "tags"));                  /* array */
	assert_null(entry_file(e, "resource_config_infos")); /* array */
	assert_null(entry_file(e, "output"));                /* object */
	/* info.json + 10 scalars: Id Name FrameworkName Status RuntimeInSeconds
	 * BillingPrice Preemptible EnableRDMA CreateTime UpdateTime */
	assert_int_equal(e->nfiles, 11);
	for (size_t i = 0; i < e->nfiles; i++)
		assert_int_equal(e->files[i].size, strlen(file_bytes(s, &e->files[i])));
	snapshot_put(s);
	cJSON_Delete(tree);
}

static void test_render_mtime_from_object_else_fetch_time(void **state)
{
	cJSON *tree;
	struct snapshot *s = render_json(tasks_kind(), tasks_json, &tree);

	/* UpdateTime first */
	assert_int_equal(snapshot_find(s, "train-b")->mtime, UPDATE_0830);
	/* then CreateTime (space separator, no zone = UTC) */
	assert_int_equal(snapshot_find(s, "train-a")->mtime, (time_t)1711965600);
	/* neither: when it was fetched */
	assert_int_equal(snapshot_find(s, "train-c")->mtime, FETCHED_WALL);
	snapshot_put(s);
	cJSON_Delete(tree);
}

static void test_render_unparsable_time_falls_back(void **state)
{
	cJSON *tree;
	struct snapshot *s = render_json(
	    tasks_kind(),
	    "[{\"Id\":\"x\",\"UpdateTime\":\"soon\",\"CreateTime\":\"2024-05-01T08:30:00Z\"},"
	    " {\"Id\":\"y\",\"UpdateTime\":\"never\"}]",
	    &tree);

	assert_int_equal(snapshot_find(s, "x")->mtime, UPDATE_0830);
	assert_int_equal(snapshot_find(s, "y")->mtime, FETCHED_WALL);
	snapshot_put(s);
	cJSON_Delete(tree);
}

static const struct kind_json queue_json_files[] = {
    {"quota.json", "queueQuota"},
    {"labels.json", "labels"},
    {NULL, NULL},
};

static const char *const queue_mtime[] = {"updateTime", NULL};

/* A kind of our own, in the manner of CTyun's queues. */
static const struct kind queue_kind = {
    .dir = "queues",
    .action = "ListQueues",
    .id_field = "queueID",
    .mtime_fields = queue_mtime,
    .json_files = queue_json_files,
    .paging = PAGING_PAGENO,
    .page_max = 100,
};

static void test_render_kind_json_file(void **state)
{
	cJSON *tree;
	struct snapshot *s =
	    render_json(&queue_kind,
			"[{\"queueID\":\"q-1\",\"queueName\":\"default\",\"memoryGB\":64,"
			"  \"queueQuota\":[{\"gpuName\":\"A100\",\"count\":8}],\"labels\":null,"
			"  \"updateTime\":1714552200000}]",
			&tree);
	const cJSON *quota =
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(tree, 0), "queueQuota");
	const struct file *f = file_of(s, "q-1", "quota.json");
	char *pretty = cJSON_Print(quota);
	cJSON *back;

	assert_non_null(f);
	assert_int_equal(f->size, strlen(pretty) + 1);
	assert_memory_equal(file_bytes(s, f), pretty, f->size - 1);
	assert_int_equal(file_bytes(s, f)[f->size - 1], '\n');
	back = cJSON_Parse(file_bytes(s, f));
	assert_true(cJSON_Compare(back, quota, 1));
	assert_null(file_of(s, "q-1", "labels.json")); /* null: absent */
	assert_null(file_of(s, "q-1", "queue_quota"));
	check_file(s, "q-1", "queue_id", "q-1\n");
	check_file(s, "q-1", "memory_gb", "64\n");
	assert_int_equal(snapshot_find(s, "q-1")->mtime, UPDATE_0830); /* ms epoch */
	cJSON_Delete(back);
	cJSON_free(pretty);
	snapshot_put(s);
	cJSON_Delete(tree);
}

static void test_render_non_objects_skipped(void **state)
{
	cJSON *tree;
	struct snapshot *s = render_json(
	    tasks_kind(), "[\"train-x\", 42, null, [1,2], {\"Id\":\"train-ok\"}, true]", &tree);

	assert_int_equal(s->nentries, 1);
	assert_string_equal(s->entries[0].name, "train-ok");
	snapshot_put(s);
	cJSON_Delete(tree);
}

static void test_render_duplicate_ids_both_present(void **state)
{
	cJSON *tree;
	struct snapshot *s = render_json(
	    tasks_kind(),
	    "[{\"Id\":\"dup\",\"Name\":\"first\"},{\"Id\":\"dup\",\"Name\":\"second\"}]", &tree);

	assert_int_equal(s->nentries, 2);
	assert_string_not_equal(s->entries[0].name, s->entries[1].name);
	assert_string_equal(s->entries[0].id, "dup");
	assert_string_equal(s->entries[1].id, "dup");
	/* the first listed keeps the plain name */
	check_file(s, "dup", "name", "first\n");
	check_file(s, "dup~2", "name", "second\n");
	snapshot_put(s);
	cJSON_Delete(tree);
}

static void test_render_hostile_ids_mapped(void **state)
{
	cJSON *tree;
	struct snapshot *s =
	    render_json(tasks_kind(),
			"[{\"Id\":\"a/b\"},{\"Id\":\"..\"},{\"Id\":\".\"},{\"Id\":\"\"},"
			" {\"Id\":\"x\\u0001y\"},{\"Id\":7},{\"Name\":\"no id\"}]",
			&tree);
	const struct entry *e;

	assert_int_equal(s->nentries, 7);
	e = snapshot_find(s, "a%2Fb");
	assert_non_null(e);
	assert_string_equal(e->id, "a/b");
	assert_non_null(snapshot_find(s, "%2E."));
	assert_non_null(snapshot_find(s, "%2E"));
	assert_non_null(snapshot_find(s, "x%01y"));
	assert_non_null(snapshot_find(s, "7"));
	/* "" and a missing ID both read as "", repeated: "%" and "%~2" */
	assert_non_null(snapshot_find(s, "%"));
	assert_non_null(snapshot_find(s, "%~2"));
	for (size_t i = 0; i < s->nentries; i++) {
		assert_null(strchr(s->entries[i].name, '/'));
		assert_true(s->entries[i].name[0] != '.');
	}
	snapshot_put(s);
	cJSON_Delete(tree);
}

static void test_render_line_is_compact_json(void **state)
{
	cJSON *tree;
	struct snapshot *s = render_json(tasks_kind(), "[{\"Id\":\"l\",\"N\":1}]", &tree);
	const char *jl;
	size_t len;

	assert_int_equal(snapshot_jsonl(s, &jl, &len), 0);
	assert_int_equal(len, strlen(jl));
	assert_string_equal(jl, "{\"Id\":\"l\",\"N\":1}\n");
	snapshot_put(s);
	cJSON_Delete(tree);
}

/* Numbers reach every file with the text the cloud sent (the tree carries
 * its tokens, as fetch.c attaches them): info.json, scalar files, the kind's
 * .json files, the .jsonl line and a numeric ID. */
static void test_render_numbers_byte_for_byte(void **state)
{
	const char *json =
	    "[{\"queueID\":9007199254740993,\"big2\":12345678901234567890,"
	    "\"cnt\":1e3,\"price\":0.10,\"zero\":-0,\"e\":1E+2,"
	    "\"queueQuota\":[{\"count\":8.0,\"mem\":-1.5e-7}],\"updateTime\":1714552200000}]";
	cJSON *tree = cJSON_Parse(json);
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *s = NULL;
	const cJSON *item;
	const char *jl;
	size_t len;

	assert_non_null(tree);
	assert_int_equal(jsontext_attach(tree, json, strlen(json)), 0);
	item = cJSON_GetArrayItem(tree, 0);
	assert_int_equal(render_snapshot(&queue_kind, &item, 1, FETCHED_WALL, &s, &err), 0);
	assert_int_equal(s->nentries, 1);
	assert_string_equal(s->entries[0].id, "9007199254740993");
	assert_string_equal(s->entries[0].name, "9007199254740993");
	check_file(
	    s, "9007199254740993", "info.json",
	    "{\n\t\"queueID\":\t9007199254740993,\n\t\"big2\":\t12345678901234567890,\n"
	    "\t\"cnt\":\t1e3,\n\t\"price\":\t0.10,\n\t\"zero\":\t-0,\n\t\"e\":\t1E+2,\n"
	    "\t\"queueQuota\":\t[{\n\t\t\t\"count\":\t8.0,\n\t\t\t\"mem\":\t-1.5e-7\n\t\t}],\n"
	    "\t\"updateTime\":\t1714552200000\n}\n");
	check_file(s, "9007199254740993", "queue_id", "9007199254740993\n");
	check_file(s, "9007199254740993", "big2", "12345678901234567890\n");
	check_file(s, "9007199254740993", "cnt", "1e3\n");
	check_file(s, "9007199254740993", "price", "0.10\n");
	check_file(s, "9007199254740993", "zero", "-0\n");
	check_file(s, "9007199254740993", "e", "1E+2\n");
	check_file(s, "9007199254740993", "quota.json",
		   "[{\n\t\t\"count\":\t8.0,\n\t\t\"mem\":\t-1.5e-7\n\t}]\n");
	assert_int_equal(s->entries[0].mtime, UPDATE_0830); /* the double still serves */
	assert_int_equal(snapshot_jsonl(s, &jl, &len), 0);
	assert_string_equal(jl, "{\"queueID\":9007199254740993,\"big2\":12345678901234567890,"
				"\"cnt\":1e3,\"price\":0.10,\"zero\":-0,\"e\":1E+2,"
				"\"queueQuota\":[{\"count\":8.0,\"mem\":-1.5e-7}],"
				"\"updateTime\":1714552200000}\n");
	snapshot_put(s);
	cJSON_Delete(tree);
}

/* An entry taken from another snapshot as it is (an incremental refresh's
 * unchanged objects) is the entry render_entry makes: same name, JSON,
 * files, sizes, hashes and bytes; the active status is known. */
static void test_render_reuse_same_as_rendered(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;
	const struct kind *k = tasks_kind();
	cJSON *tree;
	struct snapshot *a = render_json(k, tasks_json, &tree), *b = NULL;
	const struct entry *reuse[3];
	const cJSON *items[3] = {NULL, NULL, NULL};

	(void)state;
	assert_int_equal(a->nentries, 3);
	/* train-b RUNNING (an active status), the others final */
	assert_int_equal(snapshot_find(a, "train-b")->active, ENTRY_ACTIVE_YES);
	assert_int_equal(snapshot_find(a, "train-a")->active, ENTRY_ACTIVE_NO);
	for (size_t i = 0; i < 3; i++)
		reuse[i] = &a->entries[2 - i]; /* any order: the snapshot sorts */
	/* one object rendered again beside two taken as they are */
	items[0] = cJSON_GetArrayItem(tree, 2); /* train-c, read again */
	reuse[0] = NULL;
	assert_int_equal(render_snapshot_reuse(k, items, reuse, 3, FETCHED_WALL + 60, &b, &err), 0);
	assert_non_null(b);
	assert_int_equal(b->nentries, a->nentries);
	for (size_t i = 0; i < a->nentries; i++) {
		const struct entry *x = &a->entries[i], *y = &b->entries[i];

		assert_string_equal(x->name, y->name);
		assert_string_equal(x->id, y->id);
		assert_int_equal(x->json_len, y->json_len);
		assert_memory_equal(x->json, y->json, x->json_len);
		assert_true(x->json != y->json); /* b's own copy */
		assert_int_equal(x->active, y->active);
		assert_int_equal(x->nfiles, y->nfiles);
		/* a time from the object stays; a fetch time is b's */
		assert_int_equal(y->mtime, x->mtime_fetched ? FETCHED_WALL + 60 : x->mtime);
		for (size_t j = 0; j < x->nfiles; j++) {
			assert_string_equal(x->files[j].name, y->files[j].name);
			assert_int_equal(x->files[j].size, y->files[j].size);
			assert_int_equal(x->files[j].hash, y->files[j].hash);
			assert_string_equal(file_bytes(a, &x->files[j]),
					    file_bytes(b, &y->files[j]));
		}
	}
	snapshot_put(a);
	/* b holds nothing of a */
	check_file(b, "train-b", "status", "RUNNING\n");
	check_file(b, "train-a", "name", "gpt\n");
	snapshot_put(b);
	cJSON_Delete(tree);
}

static void test_render_empty_listing(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *s = NULL;

	assert_int_equal(render_snapshot(tasks_kind(), NULL, 0, FETCHED_WALL, &s, &err), 0);
	assert_non_null(s);
	assert_int_equal(s->nentries, 0);
	assert_null(snapshot_find(s, "x"));
	snapshot_put(s);
}

static void check_time(const char *text, time_t want)
{
	cJSON *v = cJSON_CreateString(text);
	time_t t = 0;

	assert_int_equal(render_parse_time(v, &t), 0);
	if (t != want)
		fail_msg("'%s' parsed as %lld, want %lld", text, (long long)t, (long long)want);
	cJSON_Delete(v);
}

static void check_bad_time(cJSON *v)
{
	time_t t = 12345;

	assert_int_equal(render_parse_time(v, &t), -EINVAL);
	cJSON_Delete(v);
}

static void test_render_parse_time_formats(void **state)
{
	cJSON *v;
	time_t t = 0;

	check_time("2024-05-01T08:30:00Z", UPDATE_0830);
	check_time("2024-05-01T16:30:00+08:00", UPDATE_0830);
	check_time("2024-05-01T03:30:00-05:00", UPDATE_0830);
	check_time("2024-05-01 08:30:00", UPDATE_0830);
	check_time("2024-05-01T08:30:00", UPDATE_0830);
	check_time("2024-05-01T08:30:00.123456Z", UPDATE_0830);
	check_time("2024-05-01T16:30:00.5+08:00", UPDATE_0830);
	check_time("2024-05-01", (time_t)1714521600);

	v = cJSON_CreateNumber(1714552200);
	assert_int_equal(render_parse_time(v, &t), 0);
	assert_int_equal(t, UPDATE_0830);
	cJSON_Delete(v);
	v = cJSON_CreateNumber(1714552200123.0); /* milliseconds */
	assert_int_equal(render_parse_time(v, &t), 0);
	assert_int_equal(t, UPDATE_0830);
	cJSON_Delete(v);
}

static void test_render_parse_time_garbage(void **state)
{
	check_bad_time(cJSON_CreateString("yesterday"));
	check_bad_time(cJSON_CreateString(""));
	check_bad_time(cJSON_CreateString("2024-13-01T00:00:00Z"));
	check_bad_time(cJSON_CreateString("2024-05-01T25:00:00Z"));
	check_bad_time(cJSON_CreateString("2024-05-01T08:30:00X"));
	check_bad_time(cJSON_CreateString("2024-05-01T08:30"));
	check_bad_time(cJSON_CreateString("2024-05-01T08:30:00+08"));
	check_bad_time(cJSON_CreateString("2024/05/01"));
	check_bad_time(cJSON_CreateNumber(-1));
	check_bad_time(cJSON_CreateNull());
	check_bad_time(cJSON_CreateTrue());
	check_bad_time(cJSON_CreateObject());
	assert_int_equal(render_parse_time(NULL, &(time_t){0}), -EINVAL);
}

static void test_snapshot_refcount(void **state)
{
	cJSON *tree;
	struct snapshot *s = render_json(tasks_kind(), tasks_json, &tree);
	const struct file *f;

	cJSON_Delete(tree); /* the snapshot copied what it keeps */
	assert_int_equal(atomic_load(&s->refs), 1);
	assert_ptr_equal(snapshot_get(s), s);
	assert_int_equal(atomic_load(&s->refs), 2);
	snapshot_put(s);
	assert_int_equal(atomic_load(&s->refs), 1);
	/* still readable after the other reference went */
	f = file_of(s, "train-b", "status");
	assert_non_null(f);
	assert_string_equal(file_bytes(s, f), "RUNNING\n");
	snapshot_put(s); /* the last put frees it: valgrind reports a leak otherwise */
	assert_null(snapshot_get(NULL));
	snapshot_put(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render_entries_sorted_by_name),
	    cmocka_unit_test(test_render_info_json_round_trips),
	    cmocka_unit_test(test_render_scalar_files),
	    cmocka_unit_test(test_render_null_and_nested_have_no_file),
	    cmocka_unit_test(test_render_mtime_from_object_else_fetch_time),
	    cmocka_unit_test(test_render_unparsable_time_falls_back),
	    cmocka_unit_test(test_render_kind_json_file),
	    cmocka_unit_test(test_render_non_objects_skipped),
	    cmocka_unit_test(test_render_duplicate_ids_both_present),
	    cmocka_unit_test(test_render_hostile_ids_mapped),
	    cmocka_unit_test(test_render_line_is_compact_json),
	    cmocka_unit_test(test_render_numbers_byte_for_byte),
	    cmocka_unit_test(test_render_reuse_same_as_rendered),
	    cmocka_unit_test(test_render_empty_listing),
	    cmocka_unit_test(test_render_parse_time_formats),
	    cmocka_unit_test(test_render_parse_time_garbage),
	    cmocka_unit_test(test_snapshot_refcount),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
