/*
 * test_buf.c - providers/runtime/buf.c: growth, the ceiling, printf, detach and the
 * "unchanged on failure" promise of include/buf.h.
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

static void test_buf_empty(void **state)
{
	struct buf b;

	buf_init(&b, 10);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	buf_reset(&b);
	buf_release(&b);
	buf_release(NULL);
	assert_int_equal(b.max, 10);
}

static void test_buf_grows(void **state)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_addch(&b, (char)('a' + i % 26)), 0);
	assert_int_equal(b.len, 1000);
	assert_int_equal(strlen(buf_str(&b)), 1000);
	assert_int_equal(b.p[999], 'a' + 999 % 26);
	assert_true(b.cap > b.len);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_addstr(&b, "x"), 0);
	assert_string_equal(buf_str(&b), "x");
	buf_release(&b);
	assert_null(b.p);
	assert_int_equal(b.cap, 0);
}

static void test_buf_binary(void **state)
{
	struct buf b = BUF_INIT(16);
	const char data[] = {'a', '\0', 'b'};

	assert_int_equal(buf_add(&b, data, sizeof(data)), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.p, data, 3);
	assert_int_equal(b.p[3], '\0');
	assert_int_equal(buf_add(&b, NULL, 0), 0);
	buf_release(&b);
}

static void test_buf_ceiling(void **state)
{
	struct buf b = BUF_INIT(5);

	assert_int_equal(buf_addstr(&b, "abcd"), 0);
	assert_int_equal(buf_addstr(&b, "ef"), -EFBIG);
	assert_string_equal(buf_str(&b), "abcd");
	assert_int_equal(b.len, 4);
	assert_int_equal(buf_addch(&b, 'e'), 0);
	assert_int_equal(buf_addch(&b, 'f'), -EFBIG);
	assert_int_equal(buf_printf(&b, "%d", 1), -EFBIG);
	assert_string_equal(buf_str(&b), "abcde");
	assert_true(b.cap <= 6);
	buf_release(&b);

	struct buf z = BUF_INIT(0);
	assert_int_equal(buf_addch(&z, 'x'), -EFBIG);
	assert_int_equal(buf_add(&z, "", 0), 0);
	assert_string_equal(buf_str(&z), "");
	buf_release(&z);
}

static void test_buf_printf(void **state)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	char big[300];

	assert_int_equal(buf_printf(&b, "%s=%d", "n", 42), 0);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_printf(&b, ";%s", big), 0);
	assert_int_equal(b.len, 4 + 1 + 299);
	assert_memory_equal(b.p, "n=42;zz", 7);
	assert_int_equal(b.p[b.len], '\0');
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 304);
	buf_release(&b);
}

static void test_buf_detach(void **state)
{
	struct buf b = BUF_INIT(100);
	size_t len = 99;
	char *s;

	s = buf_detach(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);

	assert_int_equal(buf_addstr(&b, "hello"), 0);
	s = buf_detach(&b, &len);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 100);
	free(s);
	s = buf_detach(&b, NULL);
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_empty),  cmocka_unit_test(test_buf_grows),
	    cmocka_unit_test(test_buf_binary), cmocka_unit_test(test_buf_ceiling),
	    cmocka_unit_test(test_buf_printf), cmocka_unit_test(test_buf_detach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
