/*
 * test_ctyun.c - providers/ctyun.c through its table only.
 *
 * The EOP signer must reproduce every Eop-date and Eop-Authorization in
 * tests/sdk/vectors/ctyun.json (recorded from CTyun's official Go SDK)
 * (a missing file fails), and values derived by hand from NOTES.md §1.
 * Also: Beijing time regardless of TZ, the
 * request id, page bodies, parsing, and every error envelope.
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
#include <cjson/cJSON.h>

#include "buf.h"
#include "gcf_error.h"
#include "http.h"
#include "provider.h"

#define PROVIDER          provider_ctyun
#define PROVIDER_TEST_RID "sim-rid-1"
#include "provider_test.h"

#define K provider_kind(P, "queues")

#define VECTORS GCF_SOURCE_DIR "/tests/sdk/vectors/ctyun.json"
#define AK      "sim-ctyun-access-key-0123456789a"
#define SK      "sim-ctyun-secret-key-0123456789a"
#define RID     "27cfe4dc-e640-45f6-92ca-492ca73e8680"

static void conn_example(struct conn *c, const char *ak, const char *sk)
{
	conn_init(c, NULL);
	conn_set(c, "access_key", ak);
	conn_set(c, "secret_key", sk);
	conn_set(c, "region_id", "200000001852");
}

static void sign_request(const struct conn *c, const char *rid, const char *body, time_t now,
			 struct http_req *rq)
{
	struct gcf_error err = GCF_ERROR_INIT;

	assert_int_equal(http_req_init(rq, "POST", P->default_endpoint,
				       "/v4/cwai/central/task-service/queue/queue-info-list", NULL),
			 0);
	assert_int_equal(http_req_add_header(rq, "Content-Type", "application/json"), 0);
	if (rid)
		assert_int_equal(http_req_add_header(rq, "ctyun-eop-request-id", rid), 0);
	assert_int_equal(buf_addstr(&rq->body, body), 0);
	assert_int_equal(P->sign(c, rq, now, &err), 0);
	gcf_error_release(&err);
}

static void test_ctyun_sign_sdk_vectors(void **state)
{
	char *text = slurp(VECTORS);
	cJSON *root, *v;
	int n = 0;

	/* Recorded from the official SDK and committed: its absence is a failure. */
	if (!text)
		fail_msg("cannot read %s", VECTORS);
	root = cJSON_Parse(text);
	free(text);
	assert_non_null(root);
	assert_true(cJSON_IsArray(root));
	cJSON_ArrayForEach(v, root)
	{
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(v, "utc_epoch");
		time_t now = cJSON_IsNumber(ts) ? (time_t)ts->valuedouble
						: (time_t)strtoll(jstr(v, "utc_epoch"), NULL, 10);
		struct http_req rq;
		struct conn c;

		conn_example(&c, jstr(v, "access_key"), jstr(v, "secret_key"));
		sign_request(&c, jstr(v, "request_id"), jstr(v, "body"), now, &rq);
		if (strcmp(http_req_header(&rq, "Eop-date"), jstr(v, "eop_date")) != 0)
			fail_msg("vector \"%s\": Eop-date %s, SDK %s", jstr(v, "name"),
				 http_req_header(&rq, "Eop-date"), jstr(v, "eop_date"));
		if (strcmp(http_req_header(&rq, "Eop-Authorization"), jstr(v, "authorization")))
			fail_msg("vector \"%s\": Eop-Authorization differs from the SDK's",
				 jstr(v, "name"));
		http_req_release(&rq);
		conn_release(&c);
		n++;
	}
	cJSON_Delete(root);
	assert_true(n > 0);
}

static void test_ctyun_sign_notes_example(void **state)
{
	struct http_req rq;
	struct conn c;

	/* NOTES.md §1 step 3: 2025-03-15 08:00 UTC = 16:00 Beijing */
	conn_example(&c, AK, SK);
	sign_request(&c, RID, "{\"pageNo\":2,\"pageSize\":100,\"regionID\":\"200000001852\"}",
		     1742025600, &rq);
	assert_string_equal(http_req_header(&rq, "Eop-date"), "20250315T160000Z");
	assert_string_equal(http_req_header(&rq, "Eop-Authorization"),
			    AK " Headers=ctyun-eop-request-id;eop-date "
			       "Signature=NUbZ0wPwGzUrNIH7V3hlZ+BQbSwLdLMQVNJFQxGbnJo=");
	/* the caller's request id is kept, not doubled */
	assert_string_equal(http_req_header(&rq, "ctyun-eop-request-id"), RID);
	assert_int_equal(rq.nheaders, 4);
	http_req_release(&rq);

	/* 20:30 UTC is 04:30 the next day in Beijing: date key 20250316 */
	setenv("TZ", "America/Los_Angeles", 1); /* the host TZ must not matter */
	tzset();
	sign_request(&c, RID, "", 1742070600, &rq);
	assert_string_equal(http_req_header(&rq, "Eop-date"), "20250316T043000Z");
	assert_string_equal(http_req_header(&rq, "Eop-Authorization"),
			    AK " Headers=ctyun-eop-request-id;eop-date "
			       "Signature=9KNw2d61u+zTHzBZptzHXUKRtKXBLjfZKLT+8J1O75U=");
	http_req_release(&rq);
	unsetenv("TZ");
	tzset();
	conn_release(&c);
}

static void test_ctyun_sign_fresh_request_id(void **state)
{
	struct http_req a, b;
	struct conn c;
	const char *ra, *rb;

	conn_example(&c, AK, SK);
	sign_request(&c, NULL, "{}", 1742025600, &a);
	sign_request(&c, NULL, "{}", 1742025600, &b);
	ra = http_req_header(&a, "ctyun-eop-request-id");
	rb = http_req_header(&b, "ctyun-eop-request-id");
	assert_non_null(ra);
	assert_non_null(rb);
	assert_int_equal(strlen(ra), 36);
	assert_string_not_equal(ra, rb);
	assert_string_not_equal(http_req_header(&a, "Eop-Authorization"),
				http_req_header(&b, "Eop-Authorization"));
	http_req_release(&a);
	http_req_release(&b);
	conn_release(&c);
}

static void test_ctyun_build_page(void **state)
{
	const struct kind *k = provider_kind(P, "queues");
	struct page_query q = {0, 100, NULL, NULL, false};
	struct gcf_error err = GCF_ERROR_INIT;
	struct http_req rq;
	struct conn c;

	assert_non_null(k);
	assert_null(P->kinds[1].dir);
	assert_int_equal(k->paging, PAGING_PAGENO);
	assert_string_equal(k->id_field, "queueID");
	assert_string_equal(k->mtime_fields[0], "createTime");
	assert_string_equal(k->json_files[0].file, "quota.json");
	assert_string_equal(k->json_files[0].field, "queueQuota");
	assert_null(k->json_files[1].file);
	assert_true(k->rate_per_sec > 0);
	assert_ptr_equal(provider_find("ctyun"), P);
	assert_string_equal(P->default_endpoint, "https://cwai-global.ctapi.ctyun.cn");

	conn_example(&c, AK, SK);
	q.index = 2;
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), 0);
	assert_string_equal(rq.method, "POST");
	assert_string_equal(rq.host, "cwai-global.ctapi.ctyun.cn");
	assert_string_equal(rq.path, "/v4/cwai/central/task-service/queue/queue-info-list");
	assert_string_equal(rq.query, "");
	assert_string_equal(buf_str(&rq.body),
			    "{\"pageNo\":3,\"pageSize\":100,\"regionID\":\"200000001852\"}");
	assert_string_equal(http_req_header(&rq, "Content-Type"), "application/json");
	http_req_release(&rq);

	q = (struct page_query){0, 10, "status", "running", false};
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), 0);
	assert_string_equal(buf_str(&rq.body), "{\"pageNo\":1,\"pageSize\":10,\"regionID\":"
					       "\"200000001852\",\"status\":\"running\"}");
	http_req_release(&rq);

	q = (struct page_query){0, 10, "regionID", "x", false};
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), -EINVAL);
	q = (struct page_query){0, k->page_max + 1, NULL, NULL, false};
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), -EINVAL);
	gcf_error_release(&err);
	conn_release(&c);
}

static void test_ctyun_parse_page(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct page pg;
	cJSON *t;

	assert_int_equal(parse(K,
			       "{\"statusCode\":800,\"message\":\"成功\",\"returnObj\":{"
			       "\"currentCount\":1,\"totalCount\":11,\"totalPage\":2,"
			       "\"result\":[{\"queueID\":\"q1\",\"queueQuota\":[]}]}}",
			       &pg, &t, &err),
			 0);
	assert_int_equal(cJSON_GetArraySize(pg.items), 1);
	assert_int_equal(pg.total, 11);
	assert_int_equal(pg.pages, 2);
	cJSON_Delete(t);

	assert_int_equal(
	    parse(K, "{\"statusCode\":800,\"returnObj\":{\"result\":null}}", &pg, &t, &err), 0);
	assert_null(pg.items);
	assert_int_equal(pg.total, -1);
	assert_int_equal(pg.pages, -1);
	cJSON_Delete(t);

	const char *bad[] = {
	    "{\"statusCode\":800}",
	    "{\"statusCode\":800,\"returnObj\":[]}",
	    "{\"statusCode\":800,\"returnObj\":{\"result\":{}}}",
	    "{\"statusCode\":800,\"returnObj\":{\"result\":[\"q\"]}}",
	    "{\"statusCode\":800,\"returnObj\":{\"result\":[],\"totalCount\":\"3\"}}",
	    "{\"statusCode\":800,\"returnObj\":{\"result\":[],\"totalPage\":true}}",
	    NULL,
	};
	for (int i = 0; bad[i]; i++) {
		if (parse(K, bad[i], &pg, &t, &err) != -EIO)
			fail_msg("reply %s was accepted", bad[i]);
		assert_int_equal(err.cls, GCF_REPLY);
		cJSON_Delete(t);
	}
	gcf_error_release(&err);
}

static void test_ctyun_reply_error(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;

	/* success: statusCode 800 as a number or a string */
	assert_int_equal(decode(200, "{\"statusCode\":800,\"returnObj\":{}}", &err), 0);
	assert_int_equal(decode(200, "{\"statusCode\":\"800\",\"returnObj\":{}}", &err), 0);
	assert_int_equal(err.errnum, 0);

	/* business failures with HTTP 200 */
	assert_int_equal(decode(200,
				"{\"statusCode\":900,\"errorCode\":\"Cwai.Api.BadRequest\","
				"\"message\":\"bad pageSize\"}",
				&err),
			 -EIO);
	assert_int_equal(err.cls, GCF_PARAM);
	assert_string_equal(err.code, "Cwai.Api.BadRequest");
	assert_string_equal(err.message, "bad pageSize");
	assert_string_equal(err.request_id, "sim-rid-1");

	assert_int_equal(decode(200,
				"{\"statusCode\":\"900\",\"error\":\"Cwai.Task.UnAuthorized\","
				"\"message\":\"没有任务操作权限\"}",
				&err),
			 -EACCES);
	assert_string_equal(err.code, "Cwai.Task.UnAuthorized");

	assert_int_equal(
	    decode(200,
		   "{\"statusCode\":900,\"errorCode\":\"Cwai.Api.InternalServerError\","
		   "\"message\":\"boom\"}",
		   &err),
	    -EIO);
	assert_int_equal(err.cls, GCF_SERVER);

	/* no code at all: the statusCode stands in */
	assert_int_equal(decode(200, "{\"statusCode\":900,\"message\":\"failed\"}", &err), -EIO);
	assert_string_equal(err.code, "900");

	/* HTTP status decides first */
	assert_int_equal(decode(401, "{\"message\":\"signature mismatch\"}", &err), -EACCES);
	assert_string_equal(err.message, "signature mismatch");
	assert_int_equal(decode(403, NULL, &err), -EACCES);
	assert_int_equal(decode(429, NULL, &err), -EIO);
	assert_int_equal(err.cls, GCF_THROTTLED);
	assert_int_equal(decode(502, "<html/>", &err), -EIO);
	assert_int_equal(err.cls, GCF_SERVER);
	assert_int_equal(decode(404, NULL, &err), -ENOENT);

	/* unusable replies */
	assert_int_equal(decode(200, NULL, &err), -EIO);
	assert_string_equal(err.message, "reply is not JSON");
	assert_int_equal(decode(200, "{\"returnObj\":{}}", &err), -EIO);
	assert_int_equal(err.cls, GCF_REPLY);
	gcf_error_release(&err);
}

static void test_ctyun_configure_finish(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct conn c;

	unsetenv("CTYUN_ACCESS_KEY");
	unsetenv("CTYUN_SECRET_KEY");
	unsetenv("CTYUN_REGION_ID");
	conn_init(&c, NULL);
	assert_int_equal(P->configure(&c, "region", "x", &err), -EINVAL);
	assert_int_equal(P->finish(&c, &err), -EINVAL);
	assert_non_null(strstr(err.message, "access_key"));
	conn_set(&c, "access_key", AK);
	conn_set(&c, "secret_key", SK);
	assert_int_equal(P->finish(&c, &err), -EINVAL);
	assert_non_null(strstr(err.message, "region_id"));
	setenv("CTYUN_REGION_ID", "200000001852", 1);
	assert_int_equal(P->finish(&c, &err), 0);
	conn_release(&c);

	setenv("CTYUN_ACCESS_KEY", AK, 1);
	setenv("CTYUN_SECRET_KEY", SK, 1);
	conn_init(&c, NULL);
	assert_int_equal(P->finish(&c, &err), 0);
	struct http_req rq;
	sign_request(&c, RID, "{\"pageNo\":2,\"pageSize\":100,\"regionID\":\"200000001852\"}",
		     1742025600, &rq);
	assert_non_null(strstr(http_req_header(&rq, "Eop-Authorization"),
			       "Signature=NUbZ0wPwGzUrNIH7V3hlZ+BQbSwLdLMQVNJFQxGbnJo="));
	http_req_release(&rq);
	conn_release(&c);
	unsetenv("CTYUN_ACCESS_KEY");
	unsetenv("CTYUN_SECRET_KEY");
	unsetenv("CTYUN_REGION_ID");
	gcf_error_release(&err);
	assert_true(provider_key_find(P, "secret_key")->secret);
	assert_false(provider_key_find(P, "access_key")->secret);
	assert_false(provider_key_find(P, "region_id")->secret);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctyun_sign_sdk_vectors),
	    cmocka_unit_test(test_ctyun_sign_notes_example),
	    cmocka_unit_test(test_ctyun_sign_fresh_request_id),
	    cmocka_unit_test(test_ctyun_build_page),
	    cmocka_unit_test(test_ctyun_parse_page),
	    cmocka_unit_test(test_ctyun_reply_error),
	    cmocka_unit_test(test_ctyun_configure_finish),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
