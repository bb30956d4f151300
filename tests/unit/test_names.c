/*
 * test_names.c - fs/names.c: object IDs become safe, unique, stable file
 * names (percent-encoding, the 255-byte cut with a hash suffix, repeats
 * numbered by names_dedup) and field names become lower snake case.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "names.h"

/* The file name for an ID of len bytes, malloc'd. */
static char *name_of(const char *id, size_t len)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	char *s;

	assert_int_equal(names_from_id(id, len, &b), 0);
	s = buf_detach(&b, NULL);
	assert_non_null(s);
	return s;
}

static void check_name(const char *id, const char *want)
{
	char *got = name_of(id, strlen(id));

	assert_string_equal(got, want);
	free(got);
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void test_names_safe_ids_unchanged(void **state)
{
	check_name("train-20240501-abc", "train-20240501-abc");
	check_name("ins-9x_Z.v2", "ins-9x_Z.v2");
	check_name("训练任务-1", "训练任务-1"); /* valid UTF-8 stays as it is */
	check_name("a b", "a b");
	check_name("x.", "x."); /* only a leading '.' is unsafe */
	assert_true(names_id_is_safe("abc", 3));
	assert_true(names_id_is_safe("训练", strlen("训练")));
}

static void test_names_unsafe_ids_percent_encoded(void **state)
{
	check_name("a/b", "a%2Fb");
	check_name(".", "%2E");
	check_name("..", "%2E.");
	check_name(".hidden", "%2Ehidden");
	check_name("100%", "100%25");
	check_name("tab\there", "tab%09here");
	check_name("nl\n", "nl%0A");
	check_name("del\x7f", "del%7F");
	check_name("bad\xff utf8", "bad%FF utf8");
	check_name("\xe8\xae", "%E8%AE");        /* truncated 3-byte sequence */
	check_name("\xc0\xaf", "%C0%AF");        /* overlong '/' */
	check_name("\xed\xa0\x80", "%ED%A0%80"); /* UTF-16 surrogate */
	check_name("训练/任务", "训练%2F任务");
	assert_false(names_id_is_safe("a/b", 3));
	assert_false(names_id_is_safe(".x", 2));
	assert_false(names_id_is_safe("a%b", 3));
	assert_false(names_id_is_safe("\x01", 1));
}

static void test_names_embedded_nul_encoded(void **state)
{
	char *got = name_of("a\0b", 3);

	assert_string_equal(got, "a%00b");
	free(got);
}

static void test_names_empty_id(void **state)
{
	assert_false(names_id_is_safe("", 0));
	check_name("", "%");
	/* no non-empty ID can produce the name of the empty one */
	check_name("%", "%25");
}

static void test_names_mapping_injective(void **state)
{
	const char *ids[] = {"a/b",   "a%2Fb", "a%252Fb", ".",   "%2E",     "..",
			     "%2E.",  "",      "%",       "%25", ".hidden", "%2Ehidden",
			     "x\x7f", "x%7F",  "\xff",    "%FF"};
	size_t n = sizeof(ids) / sizeof(ids[0]);
	char *names[sizeof(ids) / sizeof(ids[0])];

	for (size_t i = 0; i < n; i++)
		names[i] = name_of(ids[i], strlen(ids[i]));
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (!strcmp(names[i], names[j]))
				fail_msg("'%s' and '%s' both map to '%s'", ids[i], ids[j],
					 names[i]);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
}

static void test_names_long_id_cut_with_hash(void **state)
{
	char id[301];
	char *a, *b;
	size_t len;

	memset(id, 'k', 300);
	id[300] = '\0';
	assert_false(names_id_is_safe(id, 300));
	a = name_of(id, 300);
	b = name_of(id, 300);
	len = strlen(a);
	assert_true(len <= NAMES_MAX);
	assert_true(len >= 17);
	assert_int_equal(a[len - 17], '~');
	for (size_t i = len - 16; i < len; i++)
		assert_true(is_hex(a[i]));
	assert_memory_equal(a, id, len - 17); /* keeps the ID's beginning */
	assert_string_equal(a, b);            /* stable */
	free(a);
	free(b);
}

static void test_names_long_ids_sharing_prefix_differ(void **state)
{
	char x[300], y[300];
	char *a, *b;

	memset(x, 'p', sizeof(x));
	memset(y, 'p', sizeof(y));
	x[299] = 'x';
	y[299] = 'y';
	a = name_of(x, sizeof(x));
	b = name_of(y, sizeof(y));
	assert_true(strlen(a) <= NAMES_MAX);
	assert_true(strlen(b) <= NAMES_MAX);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void test_names_long_utf8_id_cut_on_boundary(void **state)
{
	struct buf id = BUF_INIT(BUF_NOLIMIT);
	char *a;
	size_t len;

	for (int i = 0; i < 100; i++)
		assert_int_equal(buf_addstr(&id, "训"), 0); /* 300 bytes */
	a = name_of(id.p, id.len);
	len = strlen(a);
	assert_true(len <= NAMES_MAX);
	assert_int_equal(a[len - 17], '~');
	assert_int_equal((len - 17) % 3, 0); /* whole characters only */
	assert_memory_equal(a, id.p, len - 17);
	free(a);
	buf_release(&id);
}

static void test_names_exactly_255_bytes_kept(void **state)
{
	char id[NAMES_MAX + 2];
	char *a;

	memset(id, 'z', sizeof(id));
	id[NAMES_MAX] = '\0';
	assert_true(names_id_is_safe(id, NAMES_MAX));
	check_name(id, id);
	/* 256 bytes no longer fits */
	id[NAMES_MAX] = 'z';
	id[NAMES_MAX + 1] = '\0';
	a = name_of(id, NAMES_MAX + 1);
	assert_true(strlen(a) <= NAMES_MAX);
	assert_string_not_equal(a, id);
	free(a);
}

static void check_snake(const char *field, const char *want)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	assert_int_equal(names_snake(field, &b), 0);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

/* names_decode undoes names_from_id: a filter value typed as a directory
 * name (.by-name/a%2Fb) reaches the cloud as the value it stands for. */
static void test_names_decode_round_trip(void **state)
{
	const char *ids[] = {"plain",       "a/b",     "a%2Fb", "..", ".hidden",
			     "ctl\x01\x1f", "任务/一", "x%",    ""};

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct buf name = BUF_INIT(BUF_NOLIMIT), back = BUF_INIT(BUF_NOLIMIT);

		assert_int_equal(names_from_id(ids[i], strlen(ids[i]), &name), 0);
		assert_int_equal(names_decode(buf_str(&name), &back), 0);
		assert_string_equal(buf_str(&back), ids[i]);
		buf_release(&name);
		buf_release(&back);
	}
}

static void test_names_snake_case(void **state)
{
	check_snake("FrameworkName", "framework_name");
	check_snake("queueID", "queue_id");
	check_snake("RDMAConfig", "rdma_config");
	check_snake("memoryGB", "memory_gb");
	check_snake("RuntimeInSeconds", "runtime_in_seconds");
	check_snake("Id", "id");
	check_snake("gpuName", "gpu_name");
	check_snake("Status", "status");
	check_snake("status", "status");
	check_snake("already_snake", "already_snake");
}

static void test_names_snake_rejects_unsafe(void **state)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	assert_int_equal(names_snake("a/b", &b), -EINVAL);
	buf_reset(&b);
	assert_int_equal(names_snake("", &b), -EINVAL);
	buf_reset(&b);
	assert_int_equal(names_snake("x\ny", &b), -EINVAL);
	buf_reset(&b);
	assert_int_equal(names_snake("100%", &b), -EINVAL);
	buf_release(&b);
}

/* n malloc'd copies of the given names. */
static char **dup_names(const char *const *in, size_t n)
{
	char **v = calloc(n, sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(in[i]);
		assert_non_null(v[i]);
	}
	return v;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void test_names_dedup_repeats_unique(void **state)
{
	const char *in[] = {"x", "x", "x~2", "y", "x"};
	size_t n = sizeof(in) / sizeof(in[0]);
	char **a = dup_names(in, n), **b = dup_names(in, n);

	assert_int_equal(names_dedup(a, n), 0);
	assert_string_equal(a[0], "x");   /* the first keeps its name */
	assert_string_equal(a[2], "x~2"); /* a listed name is never taken from it */
	assert_string_equal(a[3], "y");
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(a[i], a[j]);
	assert_int_equal(names_dedup(b, n), 0);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(a[i], b[i]); /* stable */
	free_names(a, n);
	free_names(b, n);
}

static void test_names_dedup_without_repeats_unchanged(void **state)
{
	const char *in[] = {"c", "a", "b"};
	char **a = dup_names(in, 3);

	assert_int_equal(names_dedup(a, 3), 0);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(a[i], in[i]);
	free_names(a, 3);
	assert_int_equal(names_dedup(NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_safe_ids_unchanged),
	    cmocka_unit_test(test_names_unsafe_ids_percent_encoded),
	    cmocka_unit_test(test_names_embedded_nul_encoded),
	    cmocka_unit_test(test_names_empty_id),
	    cmocka_unit_test(test_names_mapping_injective),
	    cmocka_unit_test(test_names_long_id_cut_with_hash),
	    cmocka_unit_test(test_names_long_ids_sharing_prefix_differ),
	    cmocka_unit_test(test_names_long_utf8_id_cut_on_boundary),
	    cmocka_unit_test(test_names_exactly_255_bytes_kept),
	    cmocka_unit_test(test_names_snake_case),
	    cmocka_unit_test(test_names_snake_rejects_unsafe),
	    cmocka_unit_test(test_names_decode_round_trip),
	    cmocka_unit_test(test_names_dedup_repeats_unique),
	    cmocka_unit_test(test_names_dedup_without_repeats_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
