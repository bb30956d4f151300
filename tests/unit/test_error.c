/*
 * test_error.c - providers/runtime/error.c and log.c: the class -> errno
 * table, setting/copying/moving the record, the one-line format, and the
 * secret-name rules of log_is_secret_name()/log_redact().
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
#include "gcf_error.h"
#include "log.h"

static void test_error_class_errno(void **state)
{
	assert_int_equal(gcf_class_errno(GCF_OK), 0);
	assert_int_equal(gcf_class_errno(GCF_AUTH), EACCES);
	assert_int_equal(gcf_class_errno(GCF_NOTFOUND), ENOENT);
	assert_int_equal(gcf_class_errno(GCF_THROTTLED), EIO);
	assert_int_equal(gcf_class_errno(GCF_PARAM), EIO);
	assert_int_equal(gcf_class_errno(GCF_SERVER), EIO);
	assert_int_equal(gcf_class_errno(GCF_TRANSPORT), EIO);
	assert_int_equal(gcf_class_errno(GCF_TIMEOUT), ETIMEDOUT);
	assert_int_equal(gcf_class_errno(GCF_REPLY), EIO);
	assert_int_equal(gcf_class_errno(GCF_CONFIG), EINVAL);
	assert_int_equal(gcf_class_errno(GCF_NOMEM), ENOMEM);
}

static void test_error_set_and_release(void **state)
{
	struct gcf_error e = GCF_ERROR_INIT;

	assert_int_equal(gcf_error_set(&e, GCF_AUTH, "bad key '%s'", "x"), -EACCES);
	assert_int_equal(e.errnum, EACCES);
	assert_int_equal(e.cls, GCF_AUTH);
	assert_string_equal(e.message, "bad key 'x'");
	assert_int_equal(gcf_error_set(&e, GCF_TIMEOUT, "late"), -ETIMEDOUT);
	assert_string_equal(e.message, "late");
	assert_int_equal(gcf_error_set_code(&e, "C"), 0);
	assert_int_equal(gcf_error_set_request_id(&e, "R"), 0);
	assert_int_equal(gcf_error_set_context(&e, "tencent", "A"), 0);
	assert_int_equal(gcf_error_set_code(&e, NULL), 0);
	assert_null(e.code);
	gcf_error_release(&e);
	assert_int_equal(e.errnum, 0);
	assert_null(e.message);
	assert_null(e.conn);
	gcf_error_release(NULL);
	assert_int_equal(gcf_error_set(NULL, GCF_REPLY, "x"), -EIO);
}

static void test_error_copy_move(void **state)
{
	struct gcf_error a = GCF_ERROR_INIT, b = GCF_ERROR_INIT, c = GCF_ERROR_INIT;

	gcf_error_set(&a, GCF_SERVER, "boom");
	gcf_error_set_code(&a, "InternalError");
	a.http_status = 500;
	gcf_error_set(&b, GCF_AUTH, "old");
	assert_int_equal(gcf_error_copy(&b, &a), 0);
	assert_int_equal(b.errnum, EIO);
	assert_int_equal(b.http_status, 500);
	assert_string_equal(b.code, "InternalError");
	assert_ptr_not_equal(b.code, a.code);
	gcf_error_move(&c, &a);
	assert_null(a.message);
	assert_int_equal(a.errnum, 0);
	assert_string_equal(c.message, "boom");
	gcf_error_release(&b);
	gcf_error_release(&c);
}

static void check_format(const struct gcf_error *e, const char *want)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	assert_int_equal(gcf_error_format(e, &b), 0);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

static void test_error_format(void **state)
{
	struct gcf_error e = GCF_ERROR_INIT;

	gcf_error_set(&e, GCF_AUTH, "the signature is wrong");
	check_format(&e, "the signature is wrong");
	gcf_error_set_context(&e, "tencent", "DescribeTrainingTasks");
	e.http_status = 200;
	gcf_error_set_code(&e, "AuthFailure.SignatureFailure");
	gcf_error_set_request_id(&e, "1f2e");
	check_format(&e, "tencent: DescribeTrainingTasks: HTTP 200: AuthFailure.SignatureFailure: "
			 "the signature is wrong (RequestId 1f2e)");
	gcf_error_set_context(&e, NULL, NULL);
	e.http_status = 0;
	gcf_error_set_code(&e, NULL);
	check_format(&e, "the signature is wrong (RequestId 1f2e)");
	gcf_error_release(&e);
	/* no message: the errno text stands in */
	e.errnum = ENOENT;
	e.cls = GCF_NOTFOUND;
	check_format(&e, strerror(ENOENT));
}

static void test_log_secret_names(void **state)
{
	const char *secret[] = {"Authorization", "authorization", "Eop-Authorization", "secret_key",
				"SECRET_ID",     "api_key",       "access_key",        "X-TC-Token",
				"token",         "password",      "ClientSecret",      NULL};
	const char *plain[] = {"Content-Type", "host",     "region",
			       "X-TC-Action",  "eop-date", "ctyun-eop-request-id",
			       "endpoint",     "",         NULL};

	for (int i = 0; secret[i]; i++) {
		assert_true(log_is_secret_name(secret[i]));
		assert_string_equal(log_redact(secret[i], "v"), "<redacted>");
	}
	for (int i = 0; plain[i]; i++) {
		assert_false(log_is_secret_name(plain[i]));
		assert_string_equal(log_redact(plain[i], "v"), "v");
	}
	assert_false(log_is_secret_name(NULL));
	assert_string_equal(log_redact("host", NULL), "");
}

static void test_log_level(void **state)
{
	enum log_level old = log_get_level();

	log_set_level(LOG_LEVEL_DEBUG);
	assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
	log_debug("test_error: debug line %d", 1); /* goes to stderr */
	log_set_level(LOG_LEVEL_ERR);
	assert_int_equal(log_get_level(), LOG_LEVEL_ERR);
	log_set_level(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_class_errno), cmocka_unit_test(test_error_set_and_release),
	    cmocka_unit_test(test_error_copy_move),   cmocka_unit_test(test_error_format),
	    cmocka_unit_test(test_log_secret_names),  cmocka_unit_test(test_log_level),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
