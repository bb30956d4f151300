/*
 * test_baidu.c - providers/baidu.c through its table only.
 *
 * The bce-auth-v1 signer must reproduce the Authorization of every vector
 * in tests/sdk/vectors/baidu.json (recorded from the Qianfan SDK; a missing
 * file fails), and the worked example of NOTES.md §2 (signing key 35d10e61…76a8, signature
 * 738a4822…d368). Also: host:port is signed encoded, page bodies, parsing and error envelopes.
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

#define PROVIDER          provider_baidu
#define PROVIDER_TEST_RID "hdr-rid"
#include "provider_test.h"

#define K provider_kind(P, "computeunits")

#define VECTORS   GCF_SOURCE_DIR "/tests/sdk/vectors/baidu.json"
#define AK        "AKEXAMPLE0123456789abcdef0123456"
#define SK        "SKEXAMPLE0123456789abcdef0123456"
#define BODY56    "{\"region\":\"bj\",\"paymentTiming\":\"Prepaid\",\"type\":\"gpu-1\"}"
#define T_EXAMPLE 1734006548 /* 2024-12-12T12:29:08Z */

static void conn_example(struct conn *c, const char *ak, const char *sk)
{
	conn_init(c, NULL);
	conn_set(c, "access_key", ak);
	conn_set(c, "secret_key", sk);
}

static void sign_request(const struct conn *c, const char *endpoint, const char *ctype,
			 const char *body, time_t now, struct http_req *rq)
{
	struct gcf_error err = GCF_ERROR_INIT;

	assert_int_equal(
	    http_req_init(rq, "POST", endpoint, "/v2/computeunit", "Action=DescribeComputeUnits"),
	    0);
	if (ctype)
		assert_int_equal(http_req_add_header(rq, "Content-Type", ctype), 0);
	assert_int_equal(buf_addstr(&rq->body, body), 0);
	assert_int_equal(P->sign(c, rq, now, &err), 0);
	gcf_error_release(&err);
}

static time_t parse_utc(const char *s)
{
	struct tm tm = {0};

	assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm));
	return timegm(&tm);
}

/* Keys: name, access_key, secret_key, timestamp, x_bce_date, method, url,
 * host, path, query, content_type, content_length, body, signed_headers,
 * canonical_request, signing_key, authorization. */
static void test_baidu_sign_sdk_vectors(void **state)
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
		const char *url = jstr(v, "url"), *date = jstr(v, "x_bce_date");
		const char *ts = jstr(v, "timestamp");
		const char *scheme_end = strstr(url, "://");
		struct gcf_error err = GCF_ERROR_INIT;
		struct buf ep = BUF_INIT(BUF_NOLIMIT);
		const cJSON *cl = cJSON_GetObjectItemCaseSensitive(v, "content_length");
		struct http_req rq;
		struct conn c;
		char want_len[32];

		assert_non_null(scheme_end);
		assert_int_equal(
		    buf_printf(&ep, "%.*s://%s", (int)(scheme_end - url), url, jstr(v, "host")), 0);
		conn_example(&c, jstr(v, "access_key"), jstr(v, "secret_key"));
		assert_int_equal(
		    http_req_init(&rq, "POST", buf_str(&ep), jstr(v, "path"), jstr(v, "query")), 0);
		assert_string_equal(rq.method, jstr(v, "method"));
		assert_int_equal(http_req_add_header(&rq, "Content-Type", jstr(v, "content_type")),
				 0);
		/* the SDK's own x-bce-date when it is not the auth timestamp */
		if (strcmp(date, ts) != 0)
			assert_int_equal(http_req_add_header(&rq, "x-bce-date", date), 0);
		assert_int_equal(buf_addstr(&rq.body, jstr(v, "body")), 0);
		assert_int_equal(P->sign(&c, &rq, parse_utc(ts), &err), 0);
		if (strcmp(http_req_header(&rq, "Authorization"), jstr(v, "authorization")) != 0)
			fail_msg("vector \"%s\": Authorization differs from the SDK's",
				 jstr(v, "name"));
		assert_string_equal(http_req_header(&rq, "x-bce-date"), date);
		assert_true(cJSON_IsNumber(cl));
		snprintf(want_len, sizeof(want_len), "%.0f", cl->valuedouble);
		assert_string_equal(http_req_header(&rq, "Content-Length"), want_len);
		http_req_release(&rq);
		buf_release(&ep);
		gcf_error_release(&err);
		conn_release(&c);
		n++;
	}
	cJSON_Delete(root);
	assert_true(n > 0);
}

static void test_baidu_sign_notes_example(void **state)
{
	struct http_req rq;
	struct conn c;

	conn_example(&c, AK, SK);
	sign_request(&c, "https://qianfan.baidubce.com", "application/json", BODY56, T_EXAMPLE,
		     &rq);
	assert_string_equal(http_req_header(&rq, "Authorization"),
			    "bce-auth-v1/" AK "/2024-12-12T12:29:08Z/1800/"
			    "content-length;content-type;host;x-bce-date/"
			    "738a4822024c681106034fc7d65ad73cbe52bcb306477b8c9b1accf142e1d368");
	assert_string_equal(http_req_header(&rq, "x-bce-date"), "2024-12-12T12:29:08Z");
	assert_string_equal(http_req_header(&rq, "Content-Length"), "56");
	http_req_release(&rq);

	/* host with a port is signed as host%3Aport; body "{}" is 2 bytes */
	sign_request(&c, "http://127.0.0.1:18765", "application/json", "{}", T_EXAMPLE, &rq);
	assert_string_equal(http_req_header(&rq, "Authorization"),
			    "bce-auth-v1/" AK "/2024-12-12T12:29:08Z/1800/"
			    "content-length;content-type;host;x-bce-date/"
			    "fdfbfefcf7b94070843fb91f17d8eed69da909f320bdf4fc911c0e6c96facfdd");
	http_req_release(&rq);

	/* the body is not hashed: same length, other bytes, same signature */
	sign_request(&c, "https://qianfan.baidubce.com", "application/json",
		     "{\"region\":\"bd\",\"paymentTiming\":\"Prepaid\",\"type\":\"gpu-1\"}",
		     T_EXAMPLE, &rq);
	assert_non_null(strstr(http_req_header(&rq, "Authorization"), "/738a4822"));
	http_req_release(&rq);
	conn_release(&c);
}

static void test_baidu_build_page(void **state)
{
	const struct kind *k = provider_kind(P, "computeunits");
	struct page_query q = {0, 100, NULL, NULL, false};
	struct gcf_error err = GCF_ERROR_INIT;
	struct http_req rq;
	struct conn c;

	assert_non_null(k);
	assert_null(P->kinds[1].dir);
	assert_int_equal(k->paging, PAGING_NONE);
	assert_string_equal(k->id_field, "instanceId");
	assert_string_equal(k->mtime_fields[0], "startTime");
	assert_ptr_equal(provider_find("baidu"), P);
	assert_string_equal(P->default_endpoint, "https://qianfan.baidubce.com");

	conn_example(&c, AK, SK);
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), 0);
	assert_string_equal(rq.method, "POST");
	assert_string_equal(rq.path, "/v2/computeunit");
	assert_string_equal(rq.query, "Action=DescribeComputeUnits");
	assert_string_equal(buf_str(&rq.body), "{}");
	assert_string_equal(http_req_header(&rq, "Content-Type"), "application/json");
	http_req_release(&rq);

	conn_set(&c, "region", "bj");
	conn_set(&c, "payment_timing", "Prepaid");
	conn_set(&c, "type", "gpu-1");
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), 0);
	assert_string_equal(buf_str(&rq.body), BODY56);
	/* and it signs to the worked example */
	assert_int_equal(P->sign(&c, &rq, T_EXAMPLE, &err), 0);
	assert_non_null(strstr(http_req_header(&rq, "Authorization"), "/738a4822024c6811"));
	http_req_release(&rq);

	/* a query filter overrides the configured one */
	q = (struct page_query){0, 100, "region", "bd", false};
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), 0);
	assert_string_equal(buf_str(&rq.body),
			    "{\"region\":\"bd\",\"paymentTiming\":\"Prepaid\",\"type\":\"gpu-1\"}");
	http_req_release(&rq);
	q = (struct page_query){1, 100, NULL, NULL, false};
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), -EINVAL);
	q = (struct page_query){0, 100, "instanceId", "x", false};
	assert_int_equal(k->build_page(&c, k, &q, &rq, &err), -EINVAL);
	gcf_error_release(&err);
	conn_release(&c);
}

static void test_baidu_parse_page(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct page pg;
	cJSON *t;

	assert_int_equal(parse(K,
			       "{\"requestId\":\"r\",\"result\":{\"computeUnitInstanceList\":["
			       "{\"instanceId\":\"unit-1\"},{\"instanceId\":\"unit-2\"}]}}",
			       &pg, &t, &err),
			 0);
	assert_int_equal(cJSON_GetArraySize(pg.items), 2);
	assert_int_equal(pg.total, 2);
	cJSON_Delete(t);
	assert_int_equal(parse(K, "{\"result\":{\"computeUnitInstanceList\":null}}", &pg, &t, &err),
			 0);
	assert_null(pg.items);
	assert_int_equal(pg.total, 0);
	cJSON_Delete(t);

	const char *bad[] = {
	    "{\"requestId\":\"r\"}",
	    "{\"result\":[]}",
	    "{\"result\":{\"computeUnitInstanceList\":{}}}",
	    "{\"result\":{\"computeUnitInstanceList\":[null]}}",
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

#define BCE_ERR(code, msg)                                                                         \
	"{\"requestId\":\"bce-rid-9\",\"code\":\"" code "\",\"message\":\"" msg "\"}"

static void test_baidu_reply_error(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;

	assert_int_equal(decode(200, "{\"requestId\":\"r\",\"result\":{}}", &err), 0);
	assert_int_equal(err.errnum, 0);

	assert_int_equal(decode(403, BCE_ERR("AccessDenied", "Access denied."), &err), -EACCES);
	assert_string_equal(err.code, "AccessDenied");
	assert_string_equal(err.request_id, "bce-rid-9");
	assert_string_equal(err.message, "Access denied.");
	assert_int_equal(decode(400, BCE_ERR("SignatureDoesNotMatch", "x"), &err), -EACCES);
	assert_int_equal(decode(400, BCE_ERR("RequestExpired", "x"), &err), -EACCES);
	assert_int_equal(decode(400, BCE_ERR("InvalidHTTPAuthHeader", "x"), &err), -EACCES);
	assert_int_equal(decode(400, BCE_ERR("MalformedJSON", "x"), &err), -EIO);
	assert_int_equal(err.cls, GCF_PARAM);
	assert_int_equal(decode(429, BCE_ERR("RateLimit", "x"), &err), -EIO);
	assert_int_equal(err.cls, GCF_THROTTLED);
	assert_int_equal(decode(500, BCE_ERR("InternalError", "x"), &err), -EIO);
	assert_int_equal(err.cls, GCF_SERVER);
	assert_int_equal(decode(404, NULL, &err), -ENOENT);
	assert_string_equal(err.request_id, "hdr-rid"); /* from the header */
	assert_int_equal(decode(503, "<html/>", &err), -EIO);
	assert_int_equal(err.cls, GCF_SERVER);

	/* an error envelope with a 200 status */
	assert_int_equal(decode(200, BCE_ERR("InvalidParameter", "bad type"), &err), -EIO);
	assert_int_equal(err.cls, GCF_PARAM);
	assert_string_equal(err.code, "InvalidParameter");

	assert_int_equal(decode(200, NULL, &err), -EIO);
	assert_string_equal(err.message, "reply is not JSON");
	gcf_error_release(&err);
}

static void test_baidu_configure_finish(void **state)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct conn c;

	unsetenv("QIANFAN_ACCESS_KEY");
	unsetenv("QIANFAN_SECRET_KEY");
	conn_init(&c, NULL);
	assert_int_equal(P->configure(&c, "region_id", "x", &err), -EINVAL);
	assert_int_equal(P->finish(&c, &err), -EINVAL);
	assert_non_null(strstr(err.message, "access_key"));
	conn_set(&c, "access_key", "sim-baidu-ak");
	assert_int_equal(P->finish(&c, &err), -EINVAL);
	assert_non_null(strstr(err.message, "QIANFAN_SECRET_KEY"));
	setenv("QIANFAN_SECRET_KEY", "sim-baidu-key", 1);
	assert_int_equal(P->finish(&c, &err), 0);
	conn_release(&c);
	unsetenv("QIANFAN_SECRET_KEY");
	gcf_error_release(&err);
	assert_true(provider_key_find(P, "secret_key")->secret);
	assert_false(provider_key_find(P, "access_key")->secret);
	assert_false(provider_key_find(P, "region")->secret);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_baidu_sign_sdk_vectors),
	    cmocka_unit_test(test_baidu_sign_notes_example),
	    cmocka_unit_test(test_baidu_build_page),
	    cmocka_unit_test(test_baidu_parse_page),
	    cmocka_unit_test(test_baidu_reply_error),
	    cmocka_unit_test(test_baidu_configure_finish),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
