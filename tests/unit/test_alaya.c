/*
 * test_alaya.c - providers/alaya.c through its table only: the bearer
 * header, the GET with and without aidcId, the data array, and the body
 * status envelope (data turns into {} on error).
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

#define PROVIDER          provider_alaya
#define PROVIDER_TEST_RID "sim-rid"
#include "provider_test.h"

#define K provider_kind(P, "products")

static void test_alaya_build_and_sign(void **state)
{
	const struct kind *k = provider_kind(P, "products");
	struct page_query q = {0, 100, NULL, NULL, false};
	struct gcf_error err = GCF_ERROR_INIT;
	struct http_req rq;
	struct buf url = BUF_INIT(BUF_NOLIMIT);
	struct conn c;

	assert_non_null(k);
	assert_null(P->kinds[1].dir);
	assert_int_equal(k->paging, PAGING_NONE);
	assert_string_equal(k->id_field, "productCode");
	assert_ptr_equal(provider_find("alaya"), P);
	assert_string_equal(P->default_endpoint, "https://api.alayanew.com");

	conn_init(&c, NULL);
	conn_set(&c, "api_key", "sim-alaya-key");
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), 0);
	assert_string_equal(rq.method, "GET");
	assert_int_equal(http_req_url(&rq, &url), 0);
	assert_string_equal(buf_str(&url),
			    "https://api.alayanew.com/v1/product/list-for-training-task");
	assert_int_equal(rq.body.len, 0);
	assert_int_equal(P->sign(&c, &rq, 0, &err), 0);
	assert_string_equal(http_req_header(&rq, "Authorization"), "Bearer sim-alaya-key");
	assert_string_equal(http_req_header(&rq, "Accept"), "application/json");
	http_req_release(&rq);

	conn_set(&c, "aidc_id", "7");
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), 0);
	assert_string_equal(rq.query, "aidcId=7");
	http_req_release(&rq);
	q = (struct page_query){0, 100, "aidcId", "12", false};
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), 0);
	assert_string_equal(rq.query, "aidcId=12");
	http_req_release(&rq);

	q = (struct page_query){0, 100, "aidcId", "1&x=2", false};
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), -EINVAL);
	q = (struct page_query){0, 100, "name", "x", false};
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), -EINVAL);
	assert_int_equal(P->configure(&c, "aidc_id", "one", &err), -EINVAL);
	gcf_error_release(&err);
	buf_release(&url);
	conn_release(&c);
}

static void test_alaya_parse_page(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct page pg;
	cJSON *t;

	assert_int_equal(parse(K,
			       "{\"status\":200,\"message\":\"OK\",\"data\":["
			       "{\"productCode\":\"PRD-CCI-1\",\"cpuCores\":\"2\",\"ext\":{}},"
			       "{\"productCode\":\"PRD-TRAIN-1\",\"gpuName\":null}]}",
			       &pg, &t, &err),
			 0);
	assert_int_equal(cJSON_GetArraySize(pg.items), 2);
	assert_int_equal(pg.total, 2);
	cJSON_Delete(t);
	assert_int_equal(parse(K, "{\"status\":200,\"data\":null}", &pg, &t, &err), 0);
	assert_null(pg.items);
	cJSON_Delete(t);
	assert_int_equal(parse(K, "{\"status\":200,\"data\":{}}", &pg, &t, &err), -EIO);
	assert_int_equal(err.cls, GCF_REPLY);
	cJSON_Delete(t);
	assert_int_equal(parse(K, "{\"status\":200,\"data\":[\"x\"]}", &pg, &t, &err), -EIO);
	cJSON_Delete(t);
	assert_int_equal(parse(K, "[]", &pg, &t, &err), -EIO);
	cJSON_Delete(t);
	gcf_error_release(&err);
}

static void test_alaya_reply_error(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;

	assert_int_equal(decode(200, "{\"status\":200,\"message\":\"OK\",\"data\":[]}", &err), 0);
	assert_int_equal(err.errnum, 0);

	/* body status with HTTP 200 */
	assert_int_equal(
	    decode(200, "{\"status\":403,\"message\":\"Forbidden\",\"data\":{}}", &err), -EACCES);
	assert_string_equal(err.code, "403");
	assert_string_equal(err.message, "Forbidden");
	assert_string_equal(err.request_id, "sim-rid");
	assert_int_equal(
	    decode(200, "{\"status\":500,\"message\":\"Internal Server Error\",\"data\":{}}", &err),
	    -EIO);
	assert_int_equal(err.cls, GCF_SERVER);
	assert_int_equal(decode(200, "{\"status\":429,\"message\":\"slow\",\"data\":{}}", &err),
			 -EIO);
	assert_int_equal(err.cls, GCF_THROTTLED);

	/* HTTP status mirrors it, or not */
	assert_int_equal(
	    decode(403, "{\"status\":403,\"message\":\"Forbidden\",\"data\":{}}", &err), -EACCES);
	assert_null(err.code); /* the same number as the HTTP status: not said twice */
	assert_int_equal(decode(401, NULL, &err), -EACCES);
	assert_int_equal(decode(502, "<html/>", &err), -EIO);
	assert_int_equal(err.cls, GCF_SERVER);
	assert_int_equal(decode(500, "{\"status\":200,\"data\":[]}", &err), -EIO);

	/* unusable */
	assert_int_equal(decode(200, NULL, &err), -EIO);
	assert_string_equal(err.message, "reply is not JSON");
	assert_int_equal(decode(200, "{\"data\":[]}", &err), -EIO);
	assert_int_equal(err.cls, GCF_REPLY);
	gcf_error_release(&err);
}

static void test_alaya_configure_finish(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct conn c;

	unsetenv("ALAYA_API_KEY");
	conn_init(&c, NULL);
	assert_int_equal(P->configure(&c, "access_key", "x", &err), -EINVAL);
	assert_int_equal(P->finish(&c, &err), -EINVAL);
	assert_non_null(strstr(err.message, "ALAYA_API_KEY"));
	setenv("ALAYA_API_KEY", "sim-alaya-env-key", 1);
	assert_int_equal(P->finish(&c, &err), 0);
	struct http_req rq;
	const struct kind *k = provider_kind(P, "products");
	struct page_query q = {0, 0, NULL, NULL, false};
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), 0);
	assert_int_equal(P->sign(&c, &rq, 0, &err), 0);
	assert_string_equal(http_req_header(&rq, "Authorization"), "Bearer sim-alaya-env-key");
	http_req_release(&rq);
	conn_release(&c);
	unsetenv("ALAYA_API_KEY");
	gcf_error_release(&err);
	assert_true(provider_key_find(P, "api_key")->secret);
	assert_false(provider_key_find(P, "aidc_id")->secret);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alaya_build_and_sign),
	    cmocka_unit_test(test_alaya_parse_page),
	    cmocka_unit_test(test_alaya_reply_error),
	    cmocka_unit_test(test_alaya_configure_finish),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
