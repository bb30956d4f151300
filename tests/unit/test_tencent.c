/*
 * test_tencent.c - providers/tencent.c through its table only.
 *
 * The signer must reproduce, byte for byte, every Authorization recorded
 * from the official Node SDK in tests/sdk/vectors/tencent.json (a missing
 * file fails), and the worked example of NOTES.md §4.7.
 * Also: the UTC credential date, page bodies and headers, reply parsing,
 * every error class, and configure/finish with environment fallback.
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

#define PROVIDER provider_tencent
#include "provider_test.h"

#define VECTORS GCF_SOURCE_DIR "/tests/sdk/vectors/tencent.json"

/* ---- helpers ------------------------------------------------------------ */

static void conn_example(struct conn *c, const char *id, const char *key)
{
	conn_init(c, P->default_endpoint);
	conn_set(c, "secret_id", id);
	conn_set(c, "secret_key", key);
	conn_set(c, "region", "ap-guangzhou");
}

/* Builds a signed request as an SDK would send it. */
static void sign_request(const struct conn *c, const char *endpoint, const char *ctype,
			 const char *action, const char *version, const char *region,
			 const char *body, time_t now, struct http_req *rq)
{
	struct gcf_error err = GCF_ERROR_INIT;

	assert_int_equal(http_req_init(rq, "POST", endpoint, "/", NULL), 0);
	assert_int_equal(http_req_add_header(rq, "Content-Type", ctype), 0);
	assert_int_equal(http_req_add_header(rq, "X-TC-Action", action), 0);
	assert_int_equal(http_req_add_header(rq, "X-TC-Version", version), 0);
	assert_int_equal(http_req_add_header(rq, "X-TC-Region", region), 0);
	assert_int_equal(buf_addstr(&rq->body, body), 0);
	assert_int_equal(P->sign(c, rq, now, &err), 0);
	assert_int_equal(err.errnum, 0);
	gcf_error_release(&err);
}

/* ---- signing ------------------------------------------------------------ */

static void test_tencent_sign_sdk_vectors(void **state)
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
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(v, "timestamp");
		time_t now = cJSON_IsNumber(ts) ? (time_t)ts->valuedouble
						: (time_t)strtoll(jstr(v, "timestamp"), NULL, 10);
		struct http_req rq;
		struct conn c;
		char tsbuf[32];

		conn_example(&c, jstr(v, "secret_id"), jstr(v, "secret_key"));
		sign_request(&c, jstr(v, "endpoint"), jstr(v, "content_type"), jstr(v, "action"),
			     jstr(v, "version"), jstr(v, "region"), jstr(v, "body"), now, &rq);
		if (strcmp(http_req_header(&rq, "Authorization"), jstr(v, "authorization")) != 0)
			fail_msg("vector \"%s\": Authorization differs from the SDK's",
				 jstr(v, "name"));
		snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)now);
		assert_string_equal(http_req_header(&rq, "X-TC-Timestamp"), tsbuf);
		http_req_release(&rq);
		conn_release(&c);
		n++;
	}
	cJSON_Delete(root);
	assert_true(n > 0);
}

/* NOTES.md §4 item 7, derived by hand from the algorithm. */
static void test_tencent_sign_notes_example(void **state)
{
	struct http_req rq;
	struct conn c;
	const char *auth;

	conn_example(&c, "AKIDEXAMPLE", "EXAMPLEKEY");
	sign_request(&c, "https://tione.tencentcloudapi.com", "application/json",
		     "DescribeTrainingTasks", "2021-11-11", "ap-guangzhou",
		     "{\"Offset\":0,\"Limit\":50}", 1700000000, &rq);
	auth = http_req_header(&rq, "Authorization");
	assert_non_null(auth);
	assert_string_equal(auth, "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2023-11-14/tione/"
				  "tc3_request, SignedHeaders=content-type;host, "
				  "Signature=650f090e508ee3b8984f83dc03c0eda8530081e8029518bc421df"
				  "23c1e67474e");
	assert_string_equal(http_req_header(&rq, "X-TC-Timestamp"), "1700000000");
	http_req_release(&rq);

	/* a port on the endpoint is not signed (Node SDK signs URL.hostname) */
	sign_request(&c, "https://tione.tencentcloudapi.com:443", "application/json",
		     "DescribeTrainingTasks", "2021-11-11", "ap-guangzhou",
		     "{\"Offset\":0,\"Limit\":50}", 1700000000, &rq);
	assert_non_null(strstr(http_req_header(&rq, "Authorization"), "Signature=650f090e"));
	http_req_release(&rq);

	/* one byte of body more changes the signature */
	sign_request(&c, "https://tione.tencentcloudapi.com", "application/json",
		     "DescribeTrainingTasks", "2021-11-11", "ap-guangzhou",
		     "{\"Offset\":0,\"Limit\":50} ", 1700000000, &rq);
	assert_null(strstr(http_req_header(&rq, "Authorization"), "Signature=650f090e"));
	http_req_release(&rq);
	conn_release(&c);
}

static void test_tencent_sign_utc_date(void **state)
{
	struct http_req rq;
	struct conn c;

	/* 1551113065 = 2019-02-25 16:44:25 UTC; 1551054000 = 2019-02-25 00:20 UTC
	 * = 08:20 Beijing; 1551027600 = 2019-02-24 17:00 UTC = 01:00 Beijing on
	 * the 25th: the credential date must still be the UTC 2019-02-24. */
	conn_example(&c, "AKIDEXAMPLE", "EXAMPLEKEY");
	sign_request(&c, P->default_endpoint, "application/json", "DescribeTrainingTasks",
		     "2021-11-11", "ap-guangzhou", "{}", 1551113065, &rq);
	assert_non_null(strstr(http_req_header(&rq, "Authorization"), "/2019-02-25/tione/"));
	http_req_release(&rq);
	sign_request(&c, P->default_endpoint, "application/json", "DescribeTrainingTasks",
		     "2021-11-11", "ap-guangzhou", "{}", 1551027600, &rq);
	assert_non_null(strstr(http_req_header(&rq, "Authorization"),
			       "Credential=AKIDEXAMPLE/2019-02-24/tione/tc3_request, "));
	http_req_release(&rq);
	conn_release(&c);
}

static void test_tencent_sign_needs_content_type(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct http_req rq;
	struct conn c;

	conn_example(&c, "AKIDEXAMPLE", "EXAMPLEKEY");
	assert_int_equal(http_req_init(&rq, "POST", P->default_endpoint, "/", NULL), 0);
	assert_true(P->sign(&c, &rq, 1700000000, &err) < 0);
	assert_null(http_req_header(&rq, "Authorization"));
	gcf_error_release(&err);
	http_req_release(&rq);
	conn_release(&c);
}

/* ---- build_page --------------------------------------------------------- */

static void test_tencent_build_page(void **state)
{
	const struct kind *tasks = provider_kind(P, "tasks");
	const struct kind *svc = provider_kind(P, "services");
	struct page_query q = {2, 50, NULL, NULL, false};
	struct gcf_error err = GCF_ERROR_INIT;
	struct http_req rq;
	struct conn c;

	assert_non_null(tasks);
	assert_non_null(svc);
	assert_string_equal(P->kinds[0].dir, "tasks");
	assert_string_equal(P->kinds[1].dir, "services");
	assert_null(P->kinds[2].dir);
	assert_int_equal(tasks->page_max, 50);
	assert_int_equal(svc->page_max, 100);
	assert_int_equal(tasks->paging, PAGING_OFFSET);
	assert_string_equal(svc->id_field, "ServiceGroupId");
	assert_string_equal(tasks->mtime_fields[0], "UpdateTime");
	assert_string_equal(tasks->mtime_fields[1], "CreateTime");
	assert_null(tasks->mtime_fields[2]);

	conn_example(&c, "AKIDEXAMPLE", "EXAMPLEKEY");
	assert_int_equal(tasks->build_page(&c, tasks, &q, &rq, &err), 0);
	assert_string_equal(rq.method, "POST");
	assert_string_equal(rq.path, "/");
	assert_string_equal(rq.host, "tione.tencentcloudapi.com");
	assert_string_equal(buf_str(&rq.body),
			    "{\"Offset\":100,\"Limit\":50,\"OrderField\":\"CreateTime\","
			    "\"Order\":\"ASC\"}");
	http_req_release(&rq);
	/* an incremental read: most recently updated first */
	q.by_update = true;
	assert_int_equal(tasks->build_page(&c, tasks, &q, &rq, &err), 0);
	assert_string_equal(buf_str(&rq.body),
			    "{\"Offset\":100,\"Limit\":50,\"OrderField\":\"UpdateTime\","
			    "\"Order\":\"DESC\"}");
	assert_string_equal(http_req_header(&rq, "Content-Type"), "application/json");
	assert_string_equal(http_req_header(&rq, "X-TC-Action"), "DescribeTrainingTasks");
	assert_string_equal(http_req_header(&rq, "X-TC-Version"), "2021-11-11");
	assert_string_equal(http_req_header(&rq, "X-TC-Region"), "ap-guangzhou");
	assert_null(http_req_header(&rq, "X-TC-Token"));
	http_req_release(&rq);

	/* filter, token, custom endpoint with a port */
	conn_set(&c, "token", "sim-tencent-token");
	free(c.endpoint);
	c.endpoint = strdup("http://127.0.0.1:18765");
	q = (struct page_query){0, 100, "Status", "RUNNING \"x\"", true};
	assert_int_equal(svc->build_page(&c, svc, &q, &rq, &err), 0);
	assert_string_equal(rq.host, "127.0.0.1:18765");
	assert_string_equal(buf_str(&rq.body),
			    "{\"Offset\":0,\"Limit\":100,\"OrderField\":\"UpdateTime\","
			    "\"Order\":\"DESC\",\"Filters\":[{\"Name\":\"Status\","
			    "\"Values\":[\"RUNNING \\\"x\\\"\"]}]}");
	assert_string_equal(http_req_header(&rq, "X-TC-Action"), "DescribeModelServiceGroups");
	assert_string_equal(http_req_header(&rq, "X-TC-Token"), "sim-tencent-token");
	http_req_release(&rq);

	/* the incremental refresh's active query, in the stable order
	 * (filter_value NULL on the active filter: every active status) */
	assert_string_equal(tasks->update_field, "UpdateTime");
	assert_string_equal(svc->update_field, "UpdateTime");
	assert_string_equal(tasks->active_filter, "Status");
	q = (struct page_query){1, 50, "Status", NULL, false};
	assert_int_equal(tasks->build_page(&c, tasks, &q, &rq, &err), 0);
	assert_string_equal(buf_str(&rq.body),
			    "{\"Offset\":50,\"Limit\":50,\"OrderField\":\"CreateTime\","
			    "\"Order\":\"ASC\",\"Filters\":[{\"Name\":\"Status\","
			    "\"Values\":[\"RUNNING\",\"STOPPING\"]}]}");
	http_req_release(&rq);
	q = (struct page_query){0, 100, "Status", NULL, false};
	assert_int_equal(svc->build_page(&c, svc, &q, &rq, &err), 0);
	assert_string_equal(buf_str(&rq.body),
			    "{\"Offset\":0,\"Limit\":100,\"OrderField\":\"CreateTime\","
			    "\"Order\":\"ASC\",\"Filters\":[{\"Name\":\"Status\","
			    "\"Values\":[\"Normal\",\"Abnormal\",\"Waiting\",\"Stopping\","
			    "\"Starting\"]}]}");
	http_req_release(&rq);
	/* a filter that is not the active one keeps its single value, even empty */
	q = (struct page_query){0, 50, "Name", NULL, false};
	assert_int_equal(tasks->build_page(&c, tasks, &q, &rq, &err), 0);
	assert_non_null(strstr(buf_str(&rq.body), "{\"Name\":\"Name\",\"Values\":[\"\"]}"));
	http_req_release(&rq);

	/* over the page limit, or a filter the API does not have */
	q = (struct page_query){0, 51, NULL, NULL, false};
	assert_int_equal(tasks->build_page(&c, tasks, &q, &rq, &err), -EINVAL);
	q = (struct page_query){0, 10, "ServiceGroupId", "x", false};
	assert_int_equal(tasks->build_page(&c, tasks, &q, &rq, &err), -EINVAL);
	gcf_error_release(&err);
	conn_release(&c);
}

/* ---- parse_page --------------------------------------------------------- */

static void test_tencent_parse_page(void **state)
{
	const struct kind *tasks = provider_kind(P, "tasks");
	const struct kind *svc = provider_kind(P, "services");
	struct gcf_error err = GCF_ERROR_INIT;
	struct page pg;
	cJSON *t;

	assert_int_equal(parse(tasks,
			       "{\"Response\":{\"TrainingTaskSet\":[{\"Id\":\"train-1\"},"
			       "{\"Id\":\"train-2\"}],\"TotalCount\":7,\"RequestId\":\"r\"}}",
			       &pg, &t, &err),
			 0);
	assert_int_equal(cJSON_GetArraySize(pg.items), 2);
	assert_int_equal(pg.total, 7);
	assert_int_equal(pg.pages, -1);
	cJSON_Delete(t);

	/* null array and null total: no items, unknown total */
	assert_int_equal(parse(svc,
			       "{\"Response\":{\"ServiceGroups\":null,\"TotalCount\":null,"
			       "\"RequestId\":\"r\"}}",
			       &pg, &t, &err),
			 0);
	assert_null(pg.items);
	assert_int_equal(pg.total, -1);
	cJSON_Delete(t);

	/* absent fields */
	assert_int_equal(parse(svc, "{\"Response\":{\"RequestId\":\"r\"}}", &pg, &t, &err), 0);
	assert_null(pg.items);
	assert_int_equal(pg.total, -1);
	cJSON_Delete(t);

	/* wrong types */
	const char *bad[] = {
	    "{\"Response\":{\"TrainingTaskSet\":{},\"TotalCount\":1}}",
	    "{\"Response\":{\"TrainingTaskSet\":[1],\"TotalCount\":1}}",
	    "{\"Response\":{\"TrainingTaskSet\":[],\"TotalCount\":\"1\"}}",
	    "{\"Response\":{\"TrainingTaskSet\":[],\"TotalCount\":-1}}",
	    "{\"Response\":[]}",
	    "{\"Responsee\":{}}", /* truncated/foreign reply */
	    "[]",
	    NULL,
	};
	for (int i = 0; bad[i]; i++) {
		if (parse(tasks, bad[i], &pg, &t, &err) != -EIO)
			fail_msg("reply %s was accepted", bad[i]);
		assert_int_equal(err.cls, GCF_REPLY);
		cJSON_Delete(t);
	}
	/* the other kind's array is not this kind's */
	assert_int_equal(parse(svc, "{\"Response\":{\"ServiceGroups\":\"x\"}}", &pg, &t, &err),
			 -EIO);
	cJSON_Delete(t);
	gcf_error_release(&err);
}

/* ---- reply_error -------------------------------------------------------- */

#define TC_ERR(code, msg)                                                                          \
	"{\"Response\":{\"Error\":{\"Code\":\"" code "\",\"Message\":\"" msg "\"},"                \
	"\"RequestId\":\"6f5b8c2e-rid\"}}"

static void test_tencent_reply_error(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;

	assert_int_equal(decode(200, "{\"Response\":{\"TotalCount\":0,\"RequestId\":\"r\"}}", &err),
			 0);
	assert_int_equal(err.errnum, 0);

	assert_int_equal(decode(200,
				TC_ERR("AuthFailure.SignatureFailure",
				       "The provided credentials could not be validated."),
				&err),
			 -EACCES);
	assert_int_equal(err.cls, GCF_AUTH);
	assert_string_equal(err.code, "AuthFailure.SignatureFailure");
	assert_string_equal(err.request_id, "6f5b8c2e-rid");
	assert_string_equal(err.message, "The provided credentials could not be validated.");

	assert_int_equal(decode(200, TC_ERR("UnauthorizedOperation", "cam"), &err), -EACCES);
	assert_int_equal(decode(200, TC_ERR("RequestLimitExceeded", "slow down"), &err), -EIO);
	assert_int_equal(err.cls, GCF_THROTTLED);
	assert_int_equal(decode(200, TC_ERR("RequestLimitExceeded.UinLimitExceeded", "x"), &err),
			 -EIO);
	assert_int_equal(err.cls, GCF_THROTTLED);
	assert_int_equal(decode(200, TC_ERR("ResourceNotFound", "x"), &err), -ENOENT);
	assert_int_equal(err.cls, GCF_NOTFOUND);
	assert_int_equal(decode(200, TC_ERR("InvalidParameterValue.PageLimitExceeded", "x"), &err),
			 -EIO);
	assert_int_equal(err.cls, GCF_PARAM);
	assert_int_equal(decode(200, TC_ERR("MissingParameter", "x"), &err), -EIO);
	assert_int_equal(err.cls, GCF_PARAM);
	assert_int_equal(decode(200, TC_ERR("UnsupportedRegion", "x"), &err), -EIO);
	assert_int_equal(err.cls, GCF_PARAM);
	assert_int_equal(decode(200, TC_ERR("InternalError", "boom"), &err), -EIO);
	assert_int_equal(err.cls, GCF_SERVER);
	assert_string_equal(err.code, "InternalError");
	assert_int_equal(decode(200, TC_ERR("FailedOperation.Busy", "x"), &err), -EIO);
	assert_int_equal(err.cls, GCF_SERVER);

	/* HTTP status first */
	assert_int_equal(decode(500, "<html>oops</html>", &err), -EIO);
	assert_int_equal(err.cls, GCF_SERVER);
	assert_non_null(strstr(err.message, "500"));
	assert_int_equal(decode(403, NULL, &err), -EACCES);
	assert_int_equal(decode(404, NULL, &err), -ENOENT);
	assert_int_equal(decode(429, NULL, &err), -EIO);
	assert_int_equal(err.cls, GCF_THROTTLED);
	assert_int_equal(decode(302, NULL, &err), -EIO);
	assert_int_equal(err.cls, GCF_REPLY);

	/* not JSON, no Response, Error without a code */
	assert_int_equal(decode(200, NULL, &err), -EIO);
	assert_int_equal(err.cls, GCF_REPLY);
	assert_string_equal(err.message, "reply is not JSON");
	assert_int_equal(decode(200, "{\"error\":\"x\"}", &err), -EIO);
	assert_int_equal(err.cls, GCF_REPLY);
	assert_int_equal(decode(200, "{\"Response\":{\"Error\":{\"Message\":\"m\"}}}", &err), -EIO);
	assert_int_equal(err.cls, GCF_REPLY);
	gcf_error_release(&err);
}

/* ---- configure / finish ------------------------------------------------- */

static void clear_env(void)
{
	unsetenv("TENCENTCLOUD_SECRET_ID");
	unsetenv("TENCENTCLOUD_SECRET_KEY");
	unsetenv("TENCENTCLOUD_REGION");
}

static void test_tencent_configure_finish(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct conn c;

	assert_non_null(provider_find("tencent"));
	assert_ptr_equal(provider_find("tencent"), P);
	assert_string_equal(P->default_endpoint, "https://tione.tencentcloudapi.com");

	clear_env();
	/* nothing at all */
	conn_init(&c, NULL);
	assert_int_equal(P->finish(&c, &err), -EINVAL);
	assert_int_equal(err.cls, GCF_CONFIG);
	assert_non_null(strstr(err.message, "secret_id"));
	assert_int_equal(P->configure(&c, "nonsense", "x", &err), -EINVAL);
	conn_release(&c);

	/* id and key but no region */
	conn_init(&c, NULL);
	conn_set(&c, "secret_id", "sim-tencent-id");
	conn_set(&c, "secret_key", "sim-tencent-key");
	assert_int_equal(P->finish(&c, &err), -EINVAL);
	assert_non_null(strstr(err.message, "region"));
	conn_set(&c, "region", "ap-shanghai");
	assert_int_equal(P->finish(&c, &err), 0);
	conn_release(&c);

	/* everything from the environment */
	setenv("TENCENTCLOUD_SECRET_ID", "sim-env-id", 1);
	setenv("TENCENTCLOUD_SECRET_KEY", "sim-env-key", 1);
	setenv("TENCENTCLOUD_REGION", "ap-beijing", 1);
	conn_init(&c, NULL);
	gcf_error_release(&err);
	assert_int_equal(P->finish(&c, &err), 0);
	struct page_query q = {0, 10, NULL, NULL, false};
	struct http_req rq;
	const struct kind *k = provider_kind(P, "tasks");
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), 0);
	assert_string_equal(http_req_header(&rq, "X-TC-Region"), "ap-beijing");
	assert_int_equal(P->sign(&c, &rq, 1700000000, &err), 0);
	assert_non_null(strstr(http_req_header(&rq, "Authorization"), "Credential=sim-env-id/"));
	http_req_release(&rq);
	conn_release(&c);

	/* the file wins over the environment */
	conn_init(&c, NULL);
	conn_set(&c, "region", "ap-guangzhou");
	assert_int_equal(P->finish(&c, &err), 0);
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), 0);
	assert_string_equal(http_req_header(&rq, "X-TC-Region"), "ap-guangzhou");
	http_req_release(&rq);
	conn_release(&c);

	/* empty key in the environment does not count */
	setenv("TENCENTCLOUD_SECRET_KEY", "", 1);
	conn_init(&c, NULL);
	assert_int_equal(P->finish(&c, &err), -EINVAL);
	assert_non_null(strstr(err.message, "secret_key"));
	conn_release(&c);
	clear_env();
	gcf_error_release(&err);

	/* the key table marks the secrets */
	assert_true(provider_key_find(P, "secret_key")->secret);
	assert_true(provider_key_find(P, "token")->secret);
	assert_false(provider_key_find(P, "secret_id")->secret);
	assert_false(provider_key_find(P, "region")->secret);
	assert_null(provider_key_find(P, "endpoint"));
	P->release_priv(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tencent_sign_sdk_vectors),
	    cmocka_unit_test(test_tencent_sign_notes_example),
	    cmocka_unit_test(test_tencent_sign_utc_date),
	    cmocka_unit_test(test_tencent_sign_needs_content_type),
	    cmocka_unit_test(test_tencent_build_page),
	    cmocka_unit_test(test_tencent_parse_page),
	    cmocka_unit_test(test_tencent_reply_error),
	    cmocka_unit_test(test_tencent_configure_finish),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
