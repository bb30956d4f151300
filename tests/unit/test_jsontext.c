/*
 * test_jsontext.c - fs/jsontext.c: after cJSON parses a reply, every number
 * keeps the token the cloud wrote (64-bit integers, exponents, trailing
 * zeros, negative zero), printing puts the tokens back with cJSON's layout,
 * text cJSON accepts but JSON does not keeps no token, and the compact form
 * of cJSON_Print's output is cJSON_PrintUnformatted's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "jsontext.h"

/* Parses text and attaches its tokens; asserts the attach result. */
static cJSON *parse(const char *text, int want_rc)
{
	cJSON *t = cJSON_ParseWithLength(text, strlen(text));

	assert_non_null(t);
	assert_int_equal(jsontext_attach(t, text, strlen(text)), want_rc);
	return t;
}

static char *print(const cJSON *v, bool pretty)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	assert_int_equal(jsontext_print(v, pretty, &b), 0);
	return buf_detach(&b, NULL);
}

static const char *const numbers[] = {
    "9007199254740993",
    "12345678901234567890",
    "1e3",
    "0.10",
    "-0",
    "1E+2",
    "-1.5e-7",
    "0",
    "-0.0",
    "1e999",
    "3",
    "2.50",
    "1e-400",
};

static void test_jsontext_tokens_kept(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(numbers) / sizeof(*numbers); i++) {
		struct buf text = BUF_INIT(BUF_NOLIMIT);
		cJSON *t;
		char *s;

		assert_true(buf_printf(&text, "{\"n\": %s, \"a\": [%s, {\"m\":%s}]}", numbers[i],
				       numbers[i], numbers[i]) == 0);
		t = parse(buf_str(&text), 0);
		assert_string_equal(jsontext_token(cJSON_GetObjectItem(t, "n")), numbers[i]);
		s = print(t, false);
		buf_reset(&text);
		assert_true(buf_printf(&text, "{\"n\":%s,\"a\":[%s,{\"m\":%s}]}", numbers[i],
				       numbers[i], numbers[i]) == 0);
		assert_string_equal(s, buf_str(&text));
		free(s);
		buf_release(&text);
		cJSON_Delete(t);
	}
}

static void test_jsontext_values_still_doubles(void **state)
{
	cJSON *t = parse("{\"big\":9007199254740993,\"cnt\":1e3,\"z\":-0}", 0);

	(void)state;
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(t, "big")));
	assert_true(cJSON_GetObjectItem(t, "cnt")->valuedouble == 1000.0);
	assert_int_equal(cJSON_GetObjectItem(t, "cnt")->valueint, 1000);
	assert_null(cJSON_GetStringValue(cJSON_GetObjectItem(t, "cnt")));
	cJSON_Delete(t);
}

/* The pretty form is cJSON_Print's layout with the tokens in place. */
static void test_jsontext_pretty_layout(void **state)
{
	const char *text = "{\"a\":1e3,\"b\":[0.10,-0],\"c\":{\"d\":\"x\"},\"e\":[]}";
	cJSON *t = parse(text, 0);
	char *s = print(t, true);

	(void)state;
	assert_string_equal(
	    s, "{\n\t\"a\":\t1e3,\n\t\"b\":\t[0.10, -0],\n\t\"c\":\t{\n\t\t\"d\":\t\"x\"\n"
	       "\t},\n\t\"e\":\t[]\n}");
	free(s);
	cJSON_Delete(t);
}

/* Whitespace, strings holding digits, escapes, a BOM and literals do not
 * move the tokens onto other numbers. */
static void test_jsontext_scanner_alignment(void **state)
{
	const char *text =
	    "\xEF\xBB\xBF \t\r\n[ \"1.0\" , \"\\\"2\\\\\" ,true,false,null, {\"3e3\" : "
	    "4.40 , \"k\\\"5\":[ 6E0 ] } , 7.0 ]  ";
	cJSON *t = parse(text, 0);
	char *s = print(t, false);

	(void)state;
	assert_string_equal(
	    s, "[\"1.0\",\"\\\"2\\\\\",true,false,null,{\"3e3\":4.40,\"k\\\"5\":[6E0]},7.0]");
	free(s);
	cJSON_Delete(t);
}

/* Text cJSON reads although JSON forbids it keeps no token at all. */
static void test_jsontext_non_json_keeps_nothing(void **state)
{
	const char *const bad[] = {"[1.50, 01]", "[2.0, 1.]", "[3.0, -.5]", "{\"a\":1.0,\"b\":+1}"};
	unsigned parsed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cJSON *t = cJSON_ParseWithLength(bad[i], strlen(bad[i]));
		const cJSON *first;

		if (!t)
			continue; /* cJSON refuses it too */
		parsed++;
		assert_int_equal(jsontext_attach(t, bad[i], strlen(bad[i])), -EINVAL);
		first = cJSON_IsArray(t) ? t->child : cJSON_GetObjectItem(t, "a");
		assert_null(jsontext_token(first));
		cJSON_Delete(t);
	}
	assert_int_equal(parsed, 3); /* cJSON 1.7.15 reads all but "+1" */
}

/* A text that is not the tree's keeps no token (no wrong text, no crash). */
static void test_jsontext_wrong_text(void **state)
{
	cJSON *t = cJSON_Parse("[1, 2, [3]]");

	(void)state;
	assert_int_equal(jsontext_attach(t, "[1, 5, [3]]", 11), -EINVAL);
	assert_int_equal(jsontext_attach(t, "[1, 2]", 6), -EINVAL);
	assert_int_equal(jsontext_attach(t, "[1, 2, [3", 9), -EINVAL);
	assert_int_equal(jsontext_attach(t, NULL, 0), -EINVAL);
	assert_null(jsontext_token(t->child));
	assert_int_equal(jsontext_attach(NULL, "1", 1), 0);
	/* the same text twice: the tokens are replaced, not leaked */
	assert_int_equal(jsontext_attach(t, "[1.0, 2, [3]]", 13), 0);
	assert_int_equal(jsontext_attach(t, "[1.00, 2, [3]]", 14), 0);
	assert_string_equal(jsontext_token(t->child), "1.00");
	cJSON_Delete(t);
}

/* cJSON reads at most 63 bytes of a number: a longer one keeps no token. */
static void test_jsontext_long_number(void **state)
{
	char text[80];
	cJSON *t;

	(void)state;
	memset(text, '1', 70);
	text[70] = '\0';
	t = cJSON_Parse(text); /* a whole document: cJSON reads 63 digits */
	assert_non_null(t);
	assert_int_equal(jsontext_attach(t, text, 70), -EINVAL);
	assert_null(jsontext_token(t));
	cJSON_Delete(t);
}

static void test_jsontext_scalar_and_id(void **state)
{
	cJSON *t = parse("{\"id\":12345678901234567890,\"s\":\"x\",\"b\":true,\"n\":null,"
			 "\"o\":{},\"f\":0.10}",
			 0);
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	(void)state;
	assert_int_equal(jsontext_id(t, "id", &b), 0);
	assert_string_equal(buf_str(&b), "12345678901234567890");
	buf_reset(&b);
	assert_int_equal(jsontext_id(t, "s", &b), 0);
	assert_string_equal(buf_str(&b), "x");
	buf_reset(&b);
	assert_int_equal(jsontext_id(t, "b", &b), 1);
	assert_int_equal(jsontext_id(t, "missing", &b), 1);
	assert_int_equal(jsontext_scalar(cJSON_GetObjectItem(t, "b"), &b), 0);
	assert_int_equal(jsontext_scalar(cJSON_GetObjectItem(t, "f"), &b), 0);
	assert_string_equal(buf_str(&b), "true0.10");
	assert_int_equal(jsontext_scalar(cJSON_GetObjectItem(t, "n"), &b), 1);
	assert_int_equal(jsontext_scalar(cJSON_GetObjectItem(t, "o"), &b), 1);
	assert_int_equal(jsontext_number(cJSON_GetObjectItem(t, "s"), &b), -EINVAL);
	buf_release(&b);
	cJSON_Delete(t);
}

/* Without tokens (a tree built in code), numbers print as cJSON prints. */
static void test_jsontext_no_token_prints_like_cjson(void **state)
{
	cJSON *t = cJSON_CreateObject();
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	char *want;

	(void)state;
	cJSON_AddNumberToObject(t, "x", 0.5);
	assert_int_equal(jsontext_number(cJSON_GetObjectItem(t, "x"), &b), 0);
	assert_string_equal(buf_str(&b), "0.5");
	buf_reset(&b);
	assert_int_equal(jsontext_print(t, true, &b), 0);
	want = cJSON_Print(t);
	assert_string_equal(buf_str(&b), want);
	cJSON_free(want);
	buf_release(&b);
	cJSON_Delete(t);
}

/* A duplicated tree keeps the tokens; a deleted one frees them (ASan). */
static void test_jsontext_duplicate(void **state)
{
	cJSON *t = parse("[1e3,{\"a\":0.10}]", 0);
	cJSON *d = cJSON_Duplicate(t, 1);
	char *s;

	(void)state;
	cJSON_Delete(t);
	s = print(d, false);
	assert_string_equal(s, "[1e3,{\"a\":0.10}]");
	free(s);
	cJSON_Delete(d);
}

static void test_jsontext_compact(void **state)
{
	const char *text =
	    "{\"a\": [1, 2, {\"b c\": \"x \\\" y\\t\"}], \"d\": {}, \"e\": [], \"f\": "
	    "\"\\\\\", \"g\": 1e3}";
	cJSON *t = parse(text, 0);
	char *pretty = print(t, true), *flat = print(t, false);
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	(void)state;
	assert_int_equal(jsontext_compact(pretty, strlen(pretty), &b), 0);
	assert_string_equal(buf_str(&b), flat);
	free(pretty);
	free(flat);
	buf_release(&b);
	cJSON_Delete(t);
}

/* Deep nesting (cJSON's limit) walks without trouble. */
static void test_jsontext_deep(void **state)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	cJSON *t, *v;

	(void)state;
	for (int i = 0; i < 999; i++)
		assert_int_equal(buf_addch(&b, '['), 0);
	assert_int_equal(buf_addstr(&b, "1.0"), 0);
	for (int i = 0; i < 999; i++)
		assert_int_equal(buf_addch(&b, ']'), 0);
	t = cJSON_ParseWithLength(b.p, b.len);
	assert_non_null(t);
	assert_int_equal(jsontext_attach(t, b.p, b.len), 0);
	for (v = t; cJSON_IsArray(v); v = v->child)
		;
	assert_string_equal(jsontext_token(v), "1.0");
	cJSON_Delete(t);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jsontext_tokens_kept),
	    cmocka_unit_test(test_jsontext_values_still_doubles),
	    cmocka_unit_test(test_jsontext_pretty_layout),
	    cmocka_unit_test(test_jsontext_scanner_alignment),
	    cmocka_unit_test(test_jsontext_non_json_keeps_nothing),
	    cmocka_unit_test(test_jsontext_wrong_text),
	    cmocka_unit_test(test_jsontext_long_number),
	    cmocka_unit_test(test_jsontext_scalar_and_id),
	    cmocka_unit_test(test_jsontext_no_token_prints_like_cjson),
	    cmocka_unit_test(test_jsontext_duplicate),
	    cmocka_unit_test(test_jsontext_compact),
	    cmocka_unit_test(test_jsontext_deep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
