/*
 * test_fetch.c - fs/fetch.c, the generic pager, against the in-memory cloud
 * of fake_provider.h: exact request counts, every object once and in order,
 * de-duplication across (not within) pages, refetching when the total moves,
 * paging without a total, errors that fail the whole listing with their
 * class, code and context, concurrent pages, and the rate limit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_provider.h"
#include "fetch.h"
#include "jsontext.h"
#include "progress.h"
#include "ratelimit.h"

#define SEC 1000000000ull

struct fx {
	struct fake_cloud fc;
	struct fetch_io io;
	struct conn conn;
	struct listing l;
	struct fetch_stats st;
	struct gcf_error err;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	if (!x || fake_cloud_init(&x->fc, 0))
		return -1;
	x->io.perform = fake_cloud_perform;
	x->io.ctx = &x->fc;
	x->conn.prov = &fake_provider;
	x->conn.name = "fake-conn";
	x->conn.endpoint = "http://cloud.invalid";
	x->conn.concurrency = 1;
	gcf_error_init(&x->err);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	listing_release(&x->l);
	gcf_error_release(&x->err);
	fake_cloud_release(&x->fc);
	free(x);
	return 0;
}

/* Replaces the cloud's list with n objects obj-0000... */
static void cloud_objects(struct fx *x, int n)
{
	cJSON_Delete(x->fc.objects);
	x->fc.objects = cJSON_CreateArray();
	assert_non_null(x->fc.objects);
	for (int i = 0; i < n; i++)
		assert_true(cJSON_AddItemToArray(x->fc.objects, fake_object_n(i)));
}

static int list_kind(struct fx *x, const struct kind *k, struct ratelimit *rl)
{
	listing_release(&x->l);
	gcf_error_release(&x->err);
	memset(&x->st, 0, sizeof(x->st));
	return fetch_listing(&x->io, &x->conn, k, NULL, NULL, rl, 0, &x->l, &x->st, &x->err);
}

static int list(struct fx *x)
{
	return list_kind(x, &fake_kinds[0], NULL);
}

static const char *item_id(const struct listing *l, size_t i)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l->items[i], "Id"));
}

/* Asserts the listing is exactly obj-0000 .. obj-(n-1), in order. */
static void check_in_order(const struct listing *l, size_t n)
{
	char want[32];

	assert_int_equal(l->nitems, n);
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "obj-%04zu", i);
		assert_string_equal(item_id(l, i), want);
	}
}

/* Asserts no ID appears twice. */
static void check_unique(const struct listing *l)
{
	for (size_t i = 0; i < l->nitems; i++)
		for (size_t j = i + 1; j < l->nitems; j++)
			if (!strcmp(item_id(l, i), item_id(l, j)))
				fail_msg("'%s' listed at %zu and %zu", item_id(l, i), i, j);
}

static size_t count_id(const struct listing *l, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < l->nitems; i++)
		n += !strcmp(item_id(l, i), id);
	return n;
}

static void test_fetch_pages_every_object_once_in_order(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 1234);
	assert_int_equal(list(x), 0);
	assert_int_equal(fake_cloud_requests(&x->fc), 25); /* ceil(1234 / 50) */
	for (int p = 0; p < 25; p++)
		assert_int_equal(x->fc.hits[p], 1);
	check_in_order(&x->l, 1234);
	assert_int_equal(x->st.requests, 25);
	assert_int_equal(x->st.pages, 25);
	assert_int_equal(x->st.objects, 1234);
	assert_true(x->st.bytes > 0);
	assert_int_equal(x->l.json_bytes, x->st.bytes);
	assert_int_equal(x->l.ntrees, 25);
}

static void test_fetch_exact_multiple_of_page(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 100);
	assert_int_equal(list(x), 0);
	assert_int_equal(fake_cloud_requests(&x->fc), 2);
	check_in_order(&x->l, 100);
}

static void test_fetch_total_zero_one_request(void **state)
{
	struct fx *x = *state;

	assert_int_equal(list(x), 0);
	assert_int_equal(fake_cloud_requests(&x->fc), 1);
	assert_int_equal(x->l.nitems, 0);
	assert_int_equal(x->st.objects, 0);
}

static void test_fetch_page_number_paging(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 1234);
	assert_int_equal(list_kind(x, &fake_kinds[1], NULL), 0);
	assert_int_equal(fake_cloud_requests(&x->fc), 25);
	check_in_order(&x->l, 1234);
}

/* After page 0 was served, obj-NEW is created at the front and the last
 * object deleted: the total stays, every later page shifts by one. */
static void shift_after_first(struct fake_cloud *fc, unsigned reqno, unsigned page)
{
	int n = cJSON_GetArraySize(fc->objects);

	if (reqno != 2)
		return;
	cJSON_DeleteItemFromArray(fc->objects, n - 1);
	cJSON_InsertItemInArray(fc->objects, 0, fake_object("obj-NEW", -1));
}

static void test_fetch_shifted_listing_deduplicated(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 120);
	x->fc.hook = shift_after_first;
	assert_int_equal(list(x), 0);
	assert_int_equal(fake_cloud_requests(&x->fc), 3); /* total unchanged: no refetch */
	/* obj-0049 came again at the top of page 1 and was dropped; obj-0119
	 * was deleted; obj-NEW (created after page 0) waits for the next refresh */
	check_in_order(&x->l, 119);
	check_unique(&x->l);
	assert_int_equal(count_id(&x->l, "obj-NEW"), 0);
}

static void test_fetch_same_id_within_page_kept(void **state)
{
	struct fx *x = *state;
	cJSON *a, *b;

	cloud_objects(x, 120);
	a = cJSON_GetArrayItem(x->fc.objects, 10);
	b = cJSON_GetArrayItem(x->fc.objects, 11);
	cJSON_ReplaceItemInObjectCaseSensitive(a, "Id", cJSON_CreateString("twin"));
	cJSON_ReplaceItemInObjectCaseSensitive(b, "Id", cJSON_CreateString("twin"));
	assert_int_equal(list(x), 0);
	assert_int_equal(x->l.nitems, 120); /* the cloud listed both */
	assert_int_equal(count_id(&x->l, "twin"), 2);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(x->l.items[10], "Seq")->valueint, 10);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(x->l.items[11], "Seq")->valueint, 11);
}

static void test_fetch_single_page_repeats_kept(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 3);
	cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(x->fc.objects, 2), "Id",
					       cJSON_CreateString("obj-0000"));
	assert_int_equal(list(x), 0);
	assert_int_equal(x->l.nitems, 3);
	assert_int_equal(count_id(&x->l, "obj-0000"), 2);
}

/* Numbers arrive with the text the cloud sent; IDs beyond 2^53 that are
 * one double apart stay two objects (not taken for a repeat across pages). */
static void test_fetch_numbers_keep_text(void **state)
{
	struct fx *x = *state;
	cJSON *a, *b;

	cloud_objects(x, 60);
	a = cJSON_GetArrayItem(x->fc.objects, 10); /* page 0 */
	b = cJSON_GetArrayItem(x->fc.objects, 55); /* page 1 */
	cJSON_ReplaceItemInObjectCaseSensitive(a, "Id", cJSON_CreateRaw("9007199254740992"));
	cJSON_ReplaceItemInObjectCaseSensitive(b, "Id", cJSON_CreateRaw("9007199254740993"));
	cJSON_ReplaceItemInObjectCaseSensitive(a, "Seq", cJSON_CreateRaw("1e1"));
	cJSON_ReplaceItemInObjectCaseSensitive(b, "Seq", cJSON_CreateRaw("-0.0"));
	assert_int_equal(list(x), 0);
	assert_int_equal(x->l.nitems, 60);
	assert_string_equal(jsontext_token(cJSON_GetObjectItem(x->l.items[10], "Id")),
			    "9007199254740992");
	assert_string_equal(jsontext_token(cJSON_GetObjectItem(x->l.items[55], "Id")),
			    "9007199254740993");
	assert_string_equal(jsontext_token(cJSON_GetObjectItem(x->l.items[10], "Seq")), "1e1");
	assert_int_equal(cJSON_GetObjectItem(x->l.items[10], "Seq")->valueint, 10);
	assert_string_equal(jsontext_token(cJSON_GetObjectItem(x->l.items[55], "Seq")), "-0.0");
	assert_string_equal(jsontext_token(cJSON_GetObjectItem(x->l.items[0], "Seq")), "0");
}

/* After page 0 was served, one object is created at the end. */
static void grow_after_first(struct fake_cloud *fc, unsigned reqno, unsigned page)
{
	if (reqno == 2)
		cJSON_AddItemToArray(fc->objects, fake_object_n(cJSON_GetArraySize(fc->objects)));
}

static void test_fetch_total_moved_refetches(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 1234);
	x->fc.hook = grow_after_first;
	assert_int_equal(list(x), 0);
	/* 25 pages saying 1234 then 1235, then 25 pages all saying 1235 */
	assert_int_equal(fake_cloud_requests(&x->fc), 50);
	assert_int_equal(x->fc.hits[0], 2);
	check_in_order(&x->l, 1235);
	assert_int_equal(x->st.objects, 1235);
}

/* Every request creates an object at the front: the listing never
 * settles. */
static void insert_front_always(struct fake_cloud *fc, unsigned reqno, unsigned page)
{
	char id[32];

	snprintf(id, sizeof(id), "new-%04u", reqno);
	cJSON_InsertItemInArray(fc->objects, 0, fake_object(id, -(int)reqno));
}

static void test_fetch_total_never_settles_last_attempt_kept(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 120);
	x->fc.hook = insert_front_always;
	assert_int_equal(list(x), 0);
	assert_int_equal(fake_cloud_requests(&x->fc), 9); /* 3 attempts of 3 pages */
	assert_true(x->l.nitems > 0);
	check_unique(&x->l);
}

static void test_fetch_error_fails_whole_listing(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 1234);
	x->fc.fail_page = 7;
	assert_int_equal(list(x), -EIO);
	assert_int_equal(x->err.errnum, EIO);
	assert_int_equal(x->err.cls, GCF_THROTTLED);
	assert_string_equal(x->err.code, "Throttling");
	assert_string_equal(x->err.request_id, "req-7");
	assert_int_equal(x->err.http_status, 429);
	assert_string_equal(x->err.conn, "fake-conn");
	assert_string_equal(x->err.action, "ListThings");
	assert_non_null(x->err.message);
	assert_int_equal(fake_cloud_requests(&x->fc), 8); /* stops at the failure */
	assert_int_equal(x->l.nitems, 0);
	assert_null(x->l.items);
	assert_null(x->l.trees);
}

static void test_fetch_auth_error_on_first_page(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 10);
	x->fc.fail_page = 0;
	x->fc.fail_code = "AuthFailure.SignatureFailure";
	assert_int_equal(list(x), -EACCES);
	assert_int_equal(x->err.cls, GCF_AUTH);
	assert_string_equal(x->err.code, "AuthFailure.SignatureFailure");
	assert_string_equal(x->err.request_id, "req-0");
	assert_string_equal(x->err.conn, "fake-conn");
	assert_string_equal(x->err.action, "ListThings");
	assert_int_equal(fake_cloud_requests(&x->fc), 1);
}

static void test_fetch_reply_not_json(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 10);
	x->fc.garbage_page = 0;
	assert_int_equal(list(x), -EIO);
	assert_int_equal(x->err.cls, GCF_REPLY);
	assert_int_equal(x->err.http_status, 200);
	assert_string_equal(x->err.conn, "fake-conn");
	assert_string_equal(x->err.action, "ListThings");
}

static void test_fetch_reply_not_json_on_later_page(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 300);
	x->fc.garbage_page = 3;
	assert_int_equal(list(x), -EIO);
	assert_int_equal(x->err.cls, GCF_REPLY);
	assert_int_equal(x->l.nitems, 0);
}

static void test_fetch_no_total_pages_until_short(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 120);
	x->fc.omit_total = true;
	assert_int_equal(list(x), 0);
	assert_int_equal(fake_cloud_requests(&x->fc), 3); /* 50, 50, 20 */
	check_in_order(&x->l, 120);
}

static void test_fetch_no_total_stops_on_empty_page(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 100);
	x->fc.omit_total = true;
	assert_int_equal(list(x), 0);
	assert_int_equal(fake_cloud_requests(&x->fc), 3); /* 50, 50, 0 */
	check_in_order(&x->l, 100);
}

static void test_fetch_no_total_error_fails(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 200);
	x->fc.omit_total = true;
	x->fc.fail_page = 2;
	assert_int_equal(list(x), -EIO);
	assert_int_equal(x->err.cls, GCF_THROTTLED);
	assert_string_equal(x->err.action, "ListThings");
	assert_int_equal(fake_cloud_requests(&x->fc), 3);
}

static void test_fetch_concurrent_same_result(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 1234);
	x->conn.concurrency = 4;
	x->fc.want_overlap = true;
	assert_int_equal(list(x), 0);
	assert_true(x->fc.max_in_flight >= 2); /* pages really overlapped */
	assert_int_equal(fake_cloud_requests(&x->fc), 25);
	for (int p = 0; p < 25; p++)
		assert_int_equal(x->fc.hits[p], 1);
	check_in_order(&x->l, 1234);
	assert_int_equal(x->st.requests, 25);
	assert_int_equal(x->st.pages, 25);
}

static void test_fetch_concurrent_error_fails(void **state)
{
	struct fx *x = *state;

	cloud_objects(x, 1234);
	x->conn.concurrency = 8;
	x->fc.fail_page = 7;
	assert_int_equal(list(x), -EIO);
	assert_int_equal(x->err.cls, GCF_THROTTLED);
	assert_string_equal(x->err.request_id, "req-7");
	assert_string_equal(x->err.conn, "fake-conn");
	assert_int_equal(x->l.nitems, 0);
}

/* ---- with the rate limiter on a fake clock -------------------------- */

static uint64_t rl_clock;
static unsigned rl_sleeps;
static uint64_t rl_slept_until;

static uint64_t rl_now(void)
{
	return __atomic_load_n(&rl_clock, __ATOMIC_SEQ_CST);
}

static int rl_sleep(uint64_t t)
{
	rl_sleeps++;
	rl_slept_until = t;
	if (t > rl_now())
		__atomic_store_n(&rl_clock, t, __ATOMIC_SEQ_CST);
	return 0;
}

static void fake_ratelimit(struct ratelimit *rl, unsigned rate)
{
	assert_int_equal(ratelimit_init(rl, rate), 0);
	rl_clock = 5000 * SEC;
	rl_sleeps = 0;
	rl_slept_until = 0;
	rl->now_ns = rl_now;
	rl->sleep_until = rl_sleep;
}

static void test_fetch_respects_rate_limit(void **state)
{
	struct fx *x = *state;
	struct ratelimit rl;

	cloud_objects(x, 1234);
	fake_ratelimit(&rl, 20);
	assert_int_equal(list_kind(x, &fake_kinds[0], &rl), 0);
	check_in_order(&x->l, 1234);
	/* requests 1-20 at once, the 21st one window after the 1st finished,
	 * and 22-25 are then due too */
	assert_int_equal(rl_sleeps, 1);
	assert_int_equal(rl_slept_until, 5000 * SEC + rl.window_ns);
	ratelimit_release(&rl);
}

static void test_fetch_rate_limit_past_deadline_times_out(void **state)
{
	struct fx *x = *state;
	struct ratelimit rl;
	int rc;

	cloud_objects(x, 1234);
	fake_ratelimit(&rl, 20);
	rc = fetch_listing(&x->io, &x->conn, &fake_kinds[0], NULL, NULL, &rl, 5000 * SEC + SEC / 2,
			   &x->l, &x->st, &x->err);
	assert_int_equal(rc, -ETIMEDOUT);
	assert_int_equal(x->err.cls, GCF_TIMEOUT);
	assert_string_equal(x->err.conn, "fake-conn");
	assert_int_equal(fake_cloud_requests(&x->fc), 20);
	assert_int_equal(rl_sleeps, 0);
	ratelimit_release(&rl);
}

/* ---- a listing that outlives op_timeout (progress.h) ----------------- */

/* Each request takes 4 s of the fake clock; the reply to request 11 (page
 * 10, pages 0-9 done in 40 s) also notes what progress says. */
static struct fetch_progress *slow_progress;
static char slow_text[128];

static void slow_pages(struct fake_cloud *fc, unsigned reqno, unsigned page)
{
	__atomic_add_fetch(&rl_clock, 4 * SEC, __ATOMIC_SEQ_CST);
	if (reqno == 11 && slow_progress) {
		struct buf b = BUF_INIT(BUF_NOLIMIT);
		struct progress_view v;

		rl_clock -= 4 * SEC; /* as the request went out */
		progress_read(slow_progress, &v);
		rl_clock += 4 * SEC;
		assert_int_equal(progress_format(&v, slow_progress->idle_ns, &b), 0);
		snprintf(slow_text, sizeof(slow_text), "%s", buf_str(&b));
		buf_release(&b);
	}
}

/* 25 pages at 4 s each (100 s) with an idle limit of 10 s: each page moves
 * the deadline, so the listing completes, every page fetched once; the
 * progress counts pages and objects and estimates the time left from the
 * rate observed. */
static void test_fetch_progress_outlives_idle_limit(void **state)
{
	struct fx *x = *state;
	struct fetch_progress p = {.now_ns = rl_now};
	struct ratelimit rl;
	struct progress_view v;
	uint64_t start;

	cloud_objects(x, 1234);
	fake_ratelimit(&rl, 20);
	start = rl_now();
	x->fc.hook = slow_pages;
	x->io.progress = &p;
	slow_progress = &p;
	slow_text[0] = 0;
	assert_int_equal(progress_start(&p, 10 * SEC, 0), start + 10 * SEC);
	assert_int_equal(list_kind(x, &fake_kinds[0], &rl), 0);
	slow_progress = NULL;
	check_in_order(&x->l, 1234);
	assert_int_equal(fake_cloud_requests(&x->fc), 25);
	for (int i = 0; i < 25; i++) /* no page fetched twice */
		assert_int_equal(x->fc.hits[i], 1);
	assert_string_equal(slow_text, "fetching, 10 of 25 pages, complete in about 60 s");
	assert_int_equal(progress_deadline(&p), start + 100 * SEC + 10 * SEC);
	progress_end(&p, 0);
	progress_read(&p, &v);
	assert_int_equal(v.state, PROGRESS_DONE);
	assert_int_equal(v.pages_done, 25);
	assert_int_equal(v.pages_total, 25);
	assert_int_equal(v.objects, 1234);
	assert_true(v.elapsed_s > 99.9 && v.elapsed_s < 100.1);
	ratelimit_release(&rl);
}

/* The same listing bounded by a fixed deadline (no progress record, the
 * behaviour of old) stops at the deadline: the cliff the record removes. */
static void test_fetch_fixed_deadline_cuts_slow_listing(void **state)
{
	struct fx *x = *state;
	struct ratelimit rl;
	int rc;

	cloud_objects(x, 1234);
	fake_ratelimit(&rl, 20);
	x->fc.hook = slow_pages;
	rc = fetch_listing(&x->io, &x->conn, &fake_kinds[0], NULL, NULL, &rl, rl_now() + 10 * SEC,
			   &x->l, &x->st, &x->err);
	assert_int_equal(rc, -ETIMEDOUT);
	assert_int_equal(fake_cloud_requests(&x->fc), 3); /* at 4, 8 s; the 4th after 12 s */
	ratelimit_release(&rl);
}

/* Request 5 stalls 11 s and fails (transient): no page for longer than the
 * idle limit, so it is not retried and the listing is abandoned with what
 * it got: pages 0-3, nothing fetched again. */
static void stall_at_5(struct fake_cloud *fc, unsigned reqno, unsigned page)
{
	__atomic_add_fetch(&rl_clock, (reqno == 5 ? 11 : 4) * SEC, __ATOMIC_SEQ_CST);
}

static void test_fetch_progress_stall_abandons(void **state)
{
	struct fx *x = *state;
	struct fetch_progress p = {.now_ns = rl_now};
	struct ratelimit rl;
	struct progress_view v;
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int rc;

	cloud_objects(x, 1234);
	fake_ratelimit(&rl, 20);
	x->fc.hook = stall_at_5;
	x->fc.fail_page = 4;
	x->io.progress = &p;
	progress_start(&p, 10 * SEC, 0);
	rc = list_kind(x, &fake_kinds[0], &rl);
	assert_int_equal(rc, -EIO);
	assert_int_equal(x->err.cls, GCF_THROTTLED);
	assert_int_equal(fake_cloud_requests(&x->fc), 5);
	progress_end(&p, rc);
	progress_read(&p, &v);
	assert_int_equal(v.state, PROGRESS_ABANDONED);
	assert_int_equal(v.pages_done, 4);
	assert_int_equal(progress_format(&v, p.idle_ns, &b), 0);
	assert_string_equal(buf_str(&b), "abandoned after 4 of 25 pages: no page for 10 s");
	buf_release(&b);
	ratelimit_release(&rl);
}

/* Concurrent workers count every page once and never move the deadline
 * back. */
static void test_fetch_progress_concurrent_counts(void **state)
{
	struct fx *x = *state;
	struct fetch_progress p = {0};
	struct progress_view v;

	cloud_objects(x, 1234);
	x->conn.concurrency = 4;
	x->fc.want_overlap = true;
	x->io.progress = &p;
	progress_start(&p, 3600 * SEC, 0);
	assert_int_equal(list(x), 0);
	progress_read(&p, &v);
	assert_int_equal(v.pages_done, 25);
	assert_int_equal(v.pages_total, 25);
	assert_int_equal(v.objects, 1234);
	for (int i = 0; i < 25; i++)
		assert_int_equal(x->fc.hits[i], 1);
	assert_true(progress_deadline(&p) >= p.last_page_ns + 3600 * SEC);
}

/* Without a total the count of pages is open: "N pages so far". */
static void test_fetch_progress_without_total(void **state)
{
	struct fx *x = *state;
	struct fetch_progress p = {0};
	struct progress_view v;
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	cloud_objects(x, 120);
	x->fc.omit_total = true;
	x->io.progress = &p;
	progress_start(&p, 0, 0);
	assert_int_equal(progress_deadline(&p), 0); /* idle 0: no deadline */
	assert_int_equal(list(x), 0);
	progress_read(&p, &v);
	assert_int_equal(v.pages_total, 0);
	assert_int_equal(v.pages_done, 3);
	assert_true(v.eta_s < 0);
	assert_int_equal(progress_format(&v, 0, &b), 0);
	assert_string_equal(buf_str(&b), "fetching, 3 pages so far");
	buf_release(&b);
	assert_int_equal(progress_deadline(&p), 0);
}

static void test_fetch_listing_release_null_ok(void **state)
{
	struct listing l;

	listing_release(NULL);
	memset(&l, 0, sizeof(l));
	listing_release(&l);
	assert_int_equal(l.nitems, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_fetch_pages_every_object_once_in_order),
	    T(test_fetch_exact_multiple_of_page),
	    T(test_fetch_total_zero_one_request),
	    T(test_fetch_page_number_paging),
	    T(test_fetch_shifted_listing_deduplicated),
	    T(test_fetch_same_id_within_page_kept),
	    T(test_fetch_single_page_repeats_kept),
	    T(test_fetch_numbers_keep_text),
	    T(test_fetch_total_moved_refetches),
	    T(test_fetch_total_never_settles_last_attempt_kept),
	    T(test_fetch_error_fails_whole_listing),
	    T(test_fetch_auth_error_on_first_page),
	    T(test_fetch_reply_not_json),
	    T(test_fetch_reply_not_json_on_later_page),
	    T(test_fetch_no_total_pages_until_short),
	    T(test_fetch_no_total_stops_on_empty_page),
	    T(test_fetch_no_total_error_fails),
	    T(test_fetch_concurrent_same_result),
	    T(test_fetch_concurrent_error_fails),
	    T(test_fetch_respects_rate_limit),
	    T(test_fetch_rate_limit_past_deadline_times_out),
	    T(test_fetch_progress_outlives_idle_limit),
	    T(test_fetch_fixed_deadline_cuts_slow_listing),
	    T(test_fetch_progress_stall_abandons),
	    T(test_fetch_progress_concurrent_counts),
	    T(test_fetch_progress_without_total),
	    cmocka_unit_test(test_fetch_listing_release_null_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
