/*
 * test_incremental.c - the pieces of fs/incremental.c that need no cloud:
 * update times, and the choice of a full refresh without a watermark. The
 * refresh cases themselves run against the simulator
 * (tests/mount/23-incremental.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "incremental.h"
#include "provider.h"

static const struct kind *tasks(void)
{
	return provider_kind(provider_find("tencent"), "tasks");
}

static void test_update_time(void **state)
{
	cJSON *o = cJSON_Parse("{\"Id\":\"t\",\"UpdateTime\":\"2024-05-01T08:30:01Z\"}");
	cJSON *n = cJSON_Parse("{\"Id\":\"t\",\"UpdateTime\":null}");
	time_t t = 0;

	(void)state;
	assert_non_null(tasks());
	assert_string_equal(tasks()->update_field, "UpdateTime");
	assert_int_equal(incr_update_time(tasks(), o, &t), 0);
	assert_int_equal(t, 1714552201);
	assert_int_equal(incr_update_time(tasks(), n, &t), -EINVAL);
	assert_int_equal(incr_update_time(tasks(), NULL, &t), -EINVAL);
	cJSON_Delete(o);
	cJSON_Delete(n);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(incr_kind_name(INCR_DELTA), "incremental");
	assert_string_equal(incr_kind_name(INCR_FULL_ASKED), "full (asked)");
	assert_string_equal(incr_kind_name(INCR_FULL_FALLBACK), "full (fallback)");
}

/* incr_commit makes the pending watermark current; a full one stamps full_ns. */
static void test_commit(void **state)
{
	struct incr_state s;
	struct snapshot snap;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(&snap, 0, sizeof(snap));
	snap.nentries = 7;
	snap.content_hash = 42;
	s.next.full = true;
	s.next.have_mark = true;
	s.next.mark = 1714552201;
	incr_commit(&s, &snap);
	assert_ptr_equal(s.base, &snap);
	assert_int_equal(s.base_n, 7);
	assert_int_equal(s.base_hash, 42);
	assert_true(s.have_mark);
	assert_int_equal(s.mark, 1714552201);
	assert_true(s.full_ns > 0);
	/* an incremental one keeps the time of the last full refresh */
	uint64_t full = s.full_ns;
	s.next.full = false;
	s.next.mark = 1714552300;
	incr_commit(&s, &snap);
	assert_int_equal(s.full_ns, full);
	assert_int_equal(s.mark, 1714552300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_update_time),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
