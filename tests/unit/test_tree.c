/*
 * test_tree.c - fs/tree.c and fs/control.c without a mount: a daemon with
 * one connection to the in-memory cloud of fake_provider.h, walked through
 * the tree's operations as ops.c calls them. Lookups and their types,
 * attributes, listings (plain and plus), reads, negative entries, filter
 * directories, control files, refresh-by-lookup, and issue 13: a
 * collection directory's times do not move on its first fetch, and
 * listxattr names exactly what getxattr answers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control.h"
#include "daemon.h"
#include "fake_provider.h"
#include "tree.h"

static const char *const tree_filters[] = {"Status", NULL};

static const struct kind tree_kinds[] = {
    {
	.dir = "things",
	.action = "ListThings",
	.id_field = "Id",
	.paging = PAGING_OFFSET,
	.page_max = 50,
	.rate_per_sec = 1000,
	.filters = tree_filters,
	.build_page = fake_build_page,
	.parse_page = fake_parse_page,
    },
    {.dir = NULL},
};

static const struct provider tree_provider = {
    .name = "fake",
    .default_endpoint = "http://cloud.invalid",
    .sign = fake_sign,
    .reply_error = fake_reply_error,
    .kinds = tree_kinds,
};

struct fx {
	struct fake_cloud fc;
	struct daemon d;
	struct tree_ctx t;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct config cfg = {0};
	struct gcf_error err = GCF_ERROR_INIT;
	struct conn *c = fake_conn_new(&tree_provider, "http://cloud.invalid");

	cfg.conns = calloc(1, sizeof(*cfg.conns));
	if (!x || !c || !cfg.conns || fake_cloud_init(&x->fc, 3))
		return -1;
	c->timeout_s = 5;
	c->concurrency = 1;
	cfg.conns[0] = c;
	cfg.nconns = 1;
	cfg.op_timeout_s = 10;
	cfg.xattr = true;
	if (daemon_init(&x->d, &cfg, &err))
		return -1;
	x->d.io_override.perform = fake_cloud_perform;
	x->d.io_override.ctx = &x->fc;
	tree_ctx_init(&x->t, &x->d, NULL);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	daemon_release(&x->d);
	fake_cloud_release(&x->fc);
	free(x);
	return 0;
}

/* Looks name up under parent: the new node's number (0 on failure). */
static uint64_t look(struct fx *x, uint64_t parent, const char *name)
{
	struct tree_entry e;
	int rc = tree_lookup(&x->t, parent, name, &e);

	return rc ? 0 : e.ino;
}

static enum node_type type_of(struct fx *x, uint64_t ino)
{
	struct node_info ni;

	assert_int_equal(inodes_get(&x->d.inodes, ino, &ni), 0);
	return ni.type;
}

/* Every name a listing of ino gives, comma-separated, into out. */
static int list(struct fx *x, uint64_t ino, char *out, size_t cap)
{
	struct tree_dir h;
	const char *name;
	bool is_file;
	int rc = tree_dir_open(&x->t, ino, &h);

	out[0] = '\0';
	if (rc)
		return rc;
	for (size_t i = 0; tree_dir_name(&h, i, &name, &is_file); i++) {
		if (i)
			strncat(out, ",", cap - strlen(out) - 1);
		strncat(out, name, cap - strlen(out) - 1);
	}
	tree_dir_close(&h);
	return 0;
}

/* The whole content of file ino, read in chunks of 3 bytes. */
static int read_all(struct fx *x, uint64_t ino, char *out, size_t cap)
{
	size_t len = 0;

	for (;;) {
		struct tree_data dd;
		int rc = tree_read(&x->t, ino, (off_t)len, 3, &dd);

		if (rc) {
			tree_data_release(&dd);
			return rc;
		}
		if (!dd.len || len + dd.len >= cap) {
			tree_data_release(&dd);
			break;
		}
		memcpy(out + len, dd.p, dd.len);
		len += dd.len;
		tree_data_release(&dd);
	}
	out[len] = '\0';
	return 0;
}

static uint64_t things(struct fx *x)
{
	uint64_t conn = look(x, INODE_ROOT, "fake");

	assert_true(conn);
	return look(x, conn, "things");
}

static void test_root_and_connection(void **state)
{
	struct fx *x = *state;
	char names[256];
	struct stat st;
	double tmo;
	uint64_t conn;

	assert_int_equal(list(x, INODE_ROOT, names, sizeof(names)), 0);
	assert_string_equal(names, ".,..,fake,.gpucloudfs");
	assert_int_equal(tree_getattr(&x->t, INODE_ROOT, &st, &tmo), 0);
	assert_int_equal(st.st_mode, S_IFDIR | 0555);
	assert_true(tmo == TREE_STATIC_TIMEOUT);

	conn = look(x, INODE_ROOT, "fake");
	assert_true(conn);
	assert_int_equal(type_of(x, conn), NODE_CONN);
	assert_int_equal(list(x, conn, names, sizeof(names)), 0);
	assert_string_equal(names, ".,..,things,things.jsonl");
	assert_int_equal(look(x, INODE_ROOT, "nope"), 0);
	assert_int_equal(fake_cloud_requests(&x->fc), 0); /* nothing fetched yet */
}

/* Issue 13: the first fetch is not a change; a changed listing is. */
static void test_collection_times(void **state)
{
	struct fx *x = *state;
	uint64_t k = things(x);
	struct stat before, after, again;
	char names[512];
	double tmo;

	assert_true(k);
	assert_int_equal(type_of(x, k), NODE_KIND);
	assert_int_equal(tree_getattr(&x->t, k, &before, &tmo), 0);
	assert_int_equal(fake_cloud_requests(&x->fc), 0); /* a stat does not fetch */
	assert_int_equal(before.st_mtime, x->d.start_wall);

	assert_int_equal(list(x, k, names, sizeof(names)), 0);
	assert_string_equal(names, ".,..,obj-0000,obj-0001,obj-0002,.by-status");
	assert_int_equal(fake_cloud_requests(&x->fc), 1);
	assert_int_equal(tree_getattr(&x->t, k, &after, &tmo), 0);
	assert_int_equal(after.st_mtime, before.st_mtime);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	assert_int_equal(after.st_ctime, before.st_ctime);
	assert_int_equal(after.st_ctim.tv_nsec, before.st_ctim.tv_nsec);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_nlink, before.st_nlink);
	assert_true(tmo > 0);

	/* A refetch of the same listing changes nothing either. */
	cache_invalidate(&x->d.conns[0].colls[0].col);
	assert_int_equal(list(x, k, names, sizeof(names)), 0);
	assert_int_equal(fake_cloud_requests(&x->fc), 2);
	assert_int_equal(tree_getattr(&x->t, k, &again, &tmo), 0);
	assert_int_equal(again.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	assert_int_equal(again.st_mtime, before.st_mtime);

	/* A new object: the times move to that snapshot's fetch. */
	pthread_mutex_lock(&x->fc.mu);
	cJSON_AddItemToArray(x->fc.objects, fake_object_n(3));
	pthread_mutex_unlock(&x->fc.mu);
	cache_invalidate(&x->d.conns[0].colls[0].col);
	assert_int_equal(list(x, k, names, sizeof(names)), 0);
	assert_string_equal(names, ".,..,obj-0000,obj-0001,obj-0002,obj-0003,.by-status");
	assert_int_equal(tree_getattr(&x->t, k, &again, &tmo), 0);
	assert_true(again.st_mtime != before.st_mtime ||
		    again.st_mtim.tv_nsec != before.st_mtim.tv_nsec);
	assert_true(again.st_mtime >= before.st_mtime);
	assert_int_equal(again.st_ctime, again.st_mtime);
}

static void test_objects_and_files(void **state)
{
	struct fx *x = *state;
	uint64_t k = things(x), obj, f;
	struct tree_entry e;
	char names[512], data[64];
	struct stat st;
	double tmo;

	obj = look(x, k, "obj-0001");
	assert_true(obj);
	assert_int_equal(type_of(x, obj), NODE_ENTRY);
	assert_int_equal(list(x, obj, names, sizeof(names)), 0);
	assert_string_equal(names, ".,..,id,info.json,seq,status");

	f = look(x, obj, "status");
	assert_true(f);
	assert_int_equal(type_of(x, f), NODE_FILE);
	assert_int_equal(tree_getattr(&x->t, f, &st, &tmo), 0);
	assert_int_equal(st.st_mode, S_IFREG | 0444);
	assert_int_equal(st.st_size, 8);
	assert_int_equal(read_all(x, f, data, sizeof(data)), 0);
	assert_string_equal(data, "RUNNING\n");
	assert_int_equal(fake_cloud_requests(&x->fc), 1);

	/* A missing object: a negative entry for the snapshot's lifetime. */
	assert_int_equal(tree_lookup(&x->t, k, "obj-9999", &e), 0);
	assert_int_equal(e.ino, 0);
	assert_true(e.tmo > 0);
	assert_int_equal(tree_lookup(&x->t, obj, "nope", &e), 0);
	assert_int_equal(e.ino, 0);

	/* Wrong kinds of node. */
	assert_int_equal(tree_lookup(&x->t, f, "x", &e), -ENOTDIR);
	assert_int_equal(list(x, f, names, sizeof(names)), -ENOTDIR);
	{
		struct tree_data dd;

		assert_int_equal(tree_read(&x->t, obj, 0, 10, &dd), -EISDIR);
		tree_data_release(&dd);
		assert_int_equal(tree_read(&x->t, 999999, 0, 10, &dd), -ESTALE);
		tree_data_release(&dd);
	}
	assert_int_equal(tree_getattr(&x->t, 999999, &st, &tmo), -ESTALE);
}

/* A FILE node is one version of its bytes (inode.h): changed bytes are a
 * new node, and the old one keeps its size and bytes, after its snapshot
 * left the cache; unchanged files keep their number. */
static void test_changed_file_is_a_new_node(void **state)
{
	struct fx *x = *state;
	uint64_t k = things(x), obj, f, g, id, id2, conn = look(x, INODE_ROOT, "fake"), j1, j2;
	char data[4096];
	struct stat st;
	double tmo;
	size_t j1size;

	obj = look(x, k, "obj-0001");
	f = look(x, obj, "status");
	id = look(x, obj, "id");
	j1 = look(x, conn, "things.jsonl");
	assert_true(f && id && j1);
	assert_int_equal(tree_getattr(&x->t, j1, &st, &tmo), 0);
	j1size = (size_t)st.st_size;
	pthread_mutex_lock(&x->fc.mu);
	cJSON_ReplaceItemInObject(cJSON_GetArrayItem(x->fc.objects, 1), "Status",
				  cJSON_CreateString("SUBMIT_FAILED"));
	pthread_mutex_unlock(&x->fc.mu);
	for (int i = 0; i < 2; i++) { /* twice: the first snapshot leaves the cache */
		cache_invalidate(&x->d.conns[0].colls[0].col);
		assert_int_equal(list(x, k, data, sizeof(data)), 0);
	}
	/* the old node: its own size and bytes, whole */
	assert_int_equal(tree_getattr(&x->t, f, &st, &tmo), 0);
	assert_int_equal(st.st_size, 8);
	assert_int_equal(read_all(x, f, data, sizeof(data)), 0);
	assert_string_equal(data, "RUNNING\n");
	/* the name now leads to a new node with the new bytes */
	g = look(x, obj, "status");
	assert_true(g);
	assert_true(g != f);
	assert_int_equal(tree_getattr(&x->t, g, &st, &tmo), 0);
	assert_int_equal(st.st_size, 14);
	assert_int_equal(read_all(x, g, data, sizeof(data)), 0);
	assert_string_equal(data, "SUBMIT_FAILED\n");
	/* an unchanged file keeps its number */
	id2 = look(x, obj, "id");
	assert_int_equal(id2, id);
	/* .jsonl: the same, one node per listing */
	j2 = look(x, conn, "things.jsonl");
	assert_true(j2 && j2 != j1);
	assert_int_equal(tree_getattr(&x->t, j1, &st, &tmo), 0);
	assert_int_equal(st.st_size, j1size);
	assert_int_equal(read_all(x, j1, data, sizeof(data)), 0);
	assert_int_equal(strlen(data), j1size);
	assert_null(strstr(data, "SUBMIT_FAILED"));
	assert_int_equal(tree_getattr(&x->t, j2, &st, &tmo), 0);
	assert_int_equal(read_all(x, j2, data, sizeof(data)), 0);
	assert_int_equal(strlen(data), (size_t)st.st_size);
	assert_non_null(strstr(data, "SUBMIT_FAILED"));
	/* a forgotten old node is gone, and its snapshot with it */
	inodes_forget(&x->d.inodes, f, 1);
	assert_int_equal(tree_read(&x->t, f, 0, 1, &(struct tree_data){0}), -ESTALE);
}

static void test_readdirplus_refs(void **state)
{
	struct fx *x = *state;
	uint64_t k = things(x);
	struct tree_dir h;
	struct tree_entry e;
	const char *name;
	bool is_file;

	assert_int_equal(tree_dir_open(&x->t, k, &h), 0);
	assert_true(tree_dir_name(&h, 2, &name, &is_file));
	assert_string_equal(name, "obj-0000");
	assert_false(is_file);
	/* Plain: not known yet. */
	assert_int_equal(tree_dir_entry(&x->t, &h, 2, false, &e), 0);
	assert_int_equal(e.ino, 0);
	assert_int_equal(e.attr.st_ino, 0xffffffffu);
	/* Plus: a node the kernel now holds, with a timeout. */
	assert_int_equal(tree_dir_entry(&x->t, &h, 2, true, &e), 0);
	assert_true(e.ino);
	assert_int_equal(e.attr.st_ino, e.ino);
	assert_true(e.tmo > 0);
	assert_int_equal(type_of(x, e.ino), NODE_ENTRY);
	assert_int_equal(inodes_find(&x->d.inodes, k, "obj-0000"), e.ino);
	assert_false(tree_dir_name(&h, 6, &name, &is_file)); /* 3 objects + .by-status */
	tree_dir_close(&h);
}

static void test_jsonl_and_filters(void **state)
{
	struct fx *x = *state;
	uint64_t conn = look(x, INODE_ROOT, "fake"), jl, fd, view;
	char data[1024], names[256];
	struct stat st;
	double tmo;

	jl = look(x, conn, "things.jsonl");
	assert_true(jl);
	assert_int_equal(type_of(x, jl), NODE_JSONL);
	assert_int_equal(tree_getattr(&x->t, jl, &st, &tmo), 0);
	assert_int_equal(read_all(x, jl, data, sizeof(data)), 0);
	assert_int_equal((size_t)st.st_size, strlen(data));
	assert_non_null(strstr(data, "\"obj-0002\""));

	fd = look(x, look(x, conn, "things"), ".by-status");
	assert_true(fd);
	assert_int_equal(type_of(x, fd), NODE_FILTERDIR);
	assert_int_equal(list(x, fd, names, sizeof(names)), 0);
	assert_string_equal(names, ".,.."); /* lists nothing on purpose */
	view = look(x, fd, "RUNNING");
	assert_true(view);
	assert_int_equal(type_of(x, view), NODE_KIND);
	assert_int_equal(look(x, look(x, conn, "things"), ".by-nothing"), 0);
}

static void test_control_files(void **state)
{
	struct fx *x = *state;
	uint64_t ctl = look(x, INODE_ROOT, CONTROL_DIR), f, rf;
	char names[256], data[256], want[64];
	struct stat st;
	double tmo;

	assert_true(ctl);
	assert_int_equal(list(x, ctl, names, sizeof(names)), 0);
	assert_string_equal(names, ".,..,config,errors,stats.json,version,refresh");
	f = look(x, ctl, "version");
	assert_true(f);
	assert_int_equal(type_of(x, f), NODE_CTLFILE);
	assert_int_equal(tree_getattr(&x->t, f, &st, &tmo), 0);
	assert_true(tmo == 0);
	snprintf(want, sizeof(want), "gpucloudfs %s\n", GCF_VERSION);
	assert_int_equal(st.st_size, strlen(want));
	assert_int_equal(read_all(x, f, data, sizeof(data)), 0);
	assert_string_equal(data, want);
	assert_int_equal(look(x, ctl, "nope"), 0);

	/* refresh/<conn> lists nothing; a lookup of <kind> refetches. */
	rf = look(x, look(x, ctl, "refresh"), "fake");
	assert_true(rf);
	assert_int_equal(list(x, rf, names, sizeof(names)), 0);
	assert_string_equal(names, ".,..");
	assert_true(look(x, rf, "things"));
	assert_int_equal(fake_cloud_requests(&x->fc), 1);
	f = look(x, rf, "things");
	assert_int_equal(fake_cloud_requests(&x->fc), 2);
	assert_int_equal(read_all(x, f, data, sizeof(data)), 0);
	assert_non_null(strstr(data, "fake/things: 3 objects, fetched in"));
	assert_int_equal(look(x, rf, "nope"), 0);
}

/* listxattr names exactly what getxattr answers, at each moment. */
static void check_xattrs(struct fx *x, uint64_t ino, const char *want)
{
	struct buf names = BUF_INIT(BUF_NOLIMIT), v = BUF_INIT(BUF_NOLIMIT);
	char got[256] = "";

	assert_int_equal(tree_listxattr(&x->t, ino, &names), 0);
	for (size_t off = 0; off < names.len; off += strlen(names.p + off) + 1) {
		buf_reset(&v);
		assert_int_equal(tree_getxattr(&x->t, ino, names.p + off, &v), 0);
		if (*got)
			strcat(got, ",");
		strcat(got, names.p + off);
	}
	assert_string_equal(got, want);
	for (const char *const *n = control_coll_xattrs; *n; n++)
		if (!strstr(want, *n)) {
			buf_reset(&v);
			assert_int_equal(tree_getxattr(&x->t, ino, *n, &v), -ENODATA);
		}
	buf_release(&names);
	buf_release(&v);
}

static void test_xattrs(void **state)
{
	struct fx *x = *state;
	uint64_t k = things(x);
	struct buf v = BUF_INIT(BUF_NOLIMIT);
	char names[512];

	check_xattrs(x, k, "user.gpucloudfs.stale");
	assert_int_equal(list(x, k, names, sizeof(names)), 0);
	check_xattrs(x, k, "user.gpucloudfs.stale,user.gpucloudfs.fetched");
	assert_int_equal(tree_getxattr(&x->t, k, "user.gpucloudfs.stale", &v), 0);
	assert_string_equal(buf_str(&v), "0");

	/* A refresh that fails is served stale, with its error. */
	x->fc.fail_page = 0;
	cache_invalidate(&x->d.conns[0].colls[0].col);
	assert_int_equal(list(x, k, names, sizeof(names)), 0);
	check_xattrs(x, k, "user.gpucloudfs.stale,user.gpucloudfs.error,user.gpucloudfs.fetched");
	buf_reset(&v);
	assert_int_equal(tree_getxattr(&x->t, k, "user.gpucloudfs.stale", &v), 0);
	assert_string_equal(buf_str(&v), "1");

	/* Other nodes have none. */
	check_xattrs(x, INODE_ROOT, "");
	buf_reset(&v);
	assert_int_equal(tree_getxattr(&x->t, k, "user.other", &v), -ENODATA);
	buf_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_root_and_connection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_collection_times, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_objects_and_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changed_file_is_a_new_node, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readdirplus_refs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_jsonl_and_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_xattrs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
