/*
 * test_collfetch.c - fs/collfetch.c with the daemon around it (daemon.c,
 * views.c, stats.c), over the fake cloud of fake_provider.h: each
 * collection's cache gets its connection's TTL, stale_if_error and
 * refresh_wait; the rate is the connection's, else the kind's, else the
 * named default; a fetch pages and renders the listing; a failure is
 * recorded once in the status ring with the outcome the cache decided
 * ("served stale" over a snapshot, "failed" without one or for an error a
 * snapshot may not cover); stats.json says
 * what the cache and the pager counted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collfetch.h"
#include "daemon.h"
#include "fake_provider.h"

#define SEC 1000000000ull

struct fx {
	struct fake_cloud fc;
	struct daemon d;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct config cfg = {0};
	struct conn *c = fake_conn_new(&fake_provider, "http://cloud.invalid");
	struct gcf_error err = GCF_ERROR_INIT;

	if (!x || !c || fake_cloud_init(&x->fc, 120))
		return -1;
	cfg.conns = calloc(1, sizeof(*cfg.conns));
	if (!cfg.conns)
		return -1;
	cfg.conns[0] = c;
	cfg.nconns = 1;
	if (daemon_init(&x->d, &cfg, &err))
		return -1;
	x->d.io_override = (struct fetch_io){.perform = fake_cloud_perform, .ctx = &x->fc};
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

static struct coll_rt *things(struct fx *x)
{
	return &x->d.conns[0].colls[0];
}

/* cache_get of coll; returns the rc, the snapshot's entries in *n. */
static int get(struct coll_rt *coll, size_t *n)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *s = NULL;
	int rc = cache_get(&coll->col, 0, &s, &err);

	*n = s ? s->nentries : 0;
	snapshot_put(s);
	gcf_error_release(&err);
	return rc;
}

/* How many lines of the status ring contain what. */
static int status_count(struct fx *x, const char *what)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int n = 0;

	assert_int_equal(status_dump(&x->d.status, &b), 0);
	for (const char *p = b.p ? b.p : ""; (p = strstr(p, what)); p++)
		n++;
	buf_release(&b);
	return n;
}

/* stats.json, parsed: the object of kind dir. */
static cJSON *stats_of(struct fx *x, cJSON **root, const char *dir)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	cJSON *o;

	assert_int_equal(stats_json(&x->d, &b), 0);
	assert_true(b.len > 0 && b.p[b.len - 1] == '\n');
	*root = cJSON_Parse(b.p);
	buf_release(&b);
	assert_non_null(*root);
	o = cJSON_GetObjectItem(cJSON_GetObjectItem(*root, "fake"), dir);
	assert_non_null(o);
	return o;
}

static double num(cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItem(o, key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static void test_collfetch_rate(void **state)
{
	struct fx *x = *state;
	struct conn c = {.max_rps = 5};
	struct kind k = {.rate_per_sec = 7};

	assert_int_equal(collfetch_rate(&c, &k), 5);
	c.max_rps = 0;
	assert_int_equal(collfetch_rate(&c, &k), 7);
	k.rate_per_sec = 0;
	assert_int_equal(collfetch_rate(&c, &k), COLLFETCH_DEFAULT_RATE_PER_S);
	assert_int_equal(ratelimit_rate(&things(x)->rl), fake_kinds[0].rate_per_sec);
}

static void test_collfetch_cache_settings_from_conn(void **state)
{
	struct fx *x = *state;
	struct coll_rt *m = things(x), *sub = views_get(m, "Id", "obj-0001");

	assert_int_equal(m->col.ttl_ns, 60 * SEC);
	assert_int_equal(m->col.stale_if_error_ns, 600 * SEC);
	assert_int_equal(m->col.refresh_wait_ns, 2 * SEC);
	assert_non_null(m->col.on_failure);
	assert_non_null(sub);
	assert_true(sub->by_id);
	assert_ptr_equal(sub->main, m);
	assert_ptr_equal(views_get(m, "Id", "obj-0001"), sub);
	assert_int_equal(sub->col.ttl_ns, m->col.ttl_ns);
	assert_int_equal(sub->col.stale_if_error_ns, m->col.stale_if_error_ns);
	assert_int_equal(sub->col.refresh_wait_ns, m->col.refresh_wait_ns);
	assert_ptr_equal(sub->col.on_failure, m->col.on_failure);
}

static void test_collfetch_fetch_and_stats(void **state)
{
	struct fx *x = *state;
	cJSON *root, *o;
	size_t n;

	assert_int_equal(get(things(x), &n), 0);
	assert_int_equal(n, 120);
	assert_int_equal(fake_cloud_requests(&x->fc), 3); /* 50, 50, 20 */
	assert_non_null(views_get(things(x), "Status", "RUNNING"));

	o = stats_of(x, &root, "things");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "action")), "ListThings");
	assert_int_equal(num(o, "objects"), 120);
	assert_int_equal(num(o, "api_requests"), 3);
	assert_int_equal(num(o, "pages"), 3);
	assert_int_equal(num(o, "fetches"), 1);
	assert_int_equal(num(o, "cache_misses"), 1);
	assert_int_equal(num(o, "failed_fetches"), 0);
	assert_int_equal(num(o, "rate_limit_per_s"), 20);
	assert_int_equal(num(o, "filtered_views"), 1);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "stale")));
	assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "last_fetch")));
	assert_null(cJSON_GetObjectItem(o, "last_error"));
	cJSON_Delete(root);

	o = stats_of(x, &root, "pthings"); /* never fetched */
	assert_int_equal(num(o, "objects"), 0);
	assert_int_equal(num(o, "fetches"), 0);
	assert_null(cJSON_GetObjectItem(o, "last_fetch"));
	cJSON_Delete(root);
}

static void test_collfetch_failure_recorded_once(void **state)
{
	struct fx *x = *state;
	struct coll_rt *sub;
	cJSON *root, *o;
	size_t n;

	assert_int_equal(get(things(x), &n), 0);
	assert_int_equal(status_count(x, "\n"), 0);

	/* a server error on a refresh over a snapshot: served stale, one line */
	cache_invalidate(&things(x)->col);
	x->fc.fail_page = 0;
	x->fc.fail_code = "InternalError";
	assert_int_equal(get(things(x), &n), 0);
	assert_int_equal(n, 120);
	assert_int_equal(status_count(x, "\n"), 1);
	assert_int_equal(status_count(x, "ListThings"), 1);
	assert_int_equal(status_count(x, "[served stale]"), 1);
	o = stats_of(x, &root, "things");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "stale")));
	assert_int_equal(num(o, "failed_fetches"), 1);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "last_error")));
	cJSON_Delete(root);

	/* a view with no snapshot yet: failed */
	sub = views_get(things(x), "Id", "obj-0001");
	assert_non_null(sub);
	assert_true(get(sub, &n) < 0);
	assert_int_equal(status_count(x, "\n"), 2);
	assert_int_equal(status_count(x, "[failed]"), 1);
	assert_int_equal(status_count(x, "[served stale]"), 1);

	/* revoked credentials over a snapshot: failed, not served stale */
	cache_invalidate(&things(x)->col);
	x->fc.fail_code = "AuthFailure";
	assert_int_equal(get(things(x), &n), -EACCES);
	assert_int_equal(status_count(x, "\n"), 3);
	assert_int_equal(status_count(x, "AuthFailure"), 1);
	assert_int_equal(status_count(x, "[failed]"), 2);
	assert_int_equal(status_count(x, "[served stale]"), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_collfetch_rate),
	    T(test_collfetch_cache_settings_from_conn),
	    T(test_collfetch_fetch_and_stats),
	    T(test_collfetch_failure_recorded_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
