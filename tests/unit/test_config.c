/*
 * test_config.c - fs/config.c: the INI file becomes a struct config with
 * its global defaults and one connection per section (provider from the
 * section name or from `provider =`); credentials may come from the
 * environment; every error names file:line and the key; a file holding a
 * secret that group or others can read is refused; secrets never appear in
 * a message or in config_dump. The table of settings: inheritance from
 * [gpucloudfs], -o overrides, the dump, and the manual page listing every
 * row.
 *
 * Each test writes its file with mkstemp into /tmp (mode 0600 unless the
 * test says otherwise) and removes it in the teardown.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "gcf_error.h"
#include "http.h"
#include "provider.h"

#define SECRET "sEcReTkEy-file-456"

struct fx {
	char path[64];
	bool written;
	struct config cfg;
	struct gcf_error err;
};

static void clear_env(void)
{
	unsetenv("TENCENTCLOUD_SECRET_ID");
	unsetenv("TENCENTCLOUD_SECRET_KEY");
	unsetenv("TENCENTCLOUD_REGION");
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	if (!x)
		return -1;
	clear_env();
	gcf_error_init(&x->err);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	config_release(&x->cfg);
	gcf_error_release(&x->err);
	if (x->written)
		unlink(x->path);
	clear_env();
	free(x);
	return 0;
}

static void write_file(struct fx *x, const char *text, mode_t mode)
{
	size_t len = strlen(text);
	int fd;

	if (x->written) /* a test that loads twice: do not leave the first file behind */
		unlink(x->path);
	snprintf(x->path, sizeof(x->path), "/tmp/gcf-test-config-XXXXXX");
	fd = mkstemp(x->path);
	assert_true(fd >= 0);
	x->written = true;
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(x->path, mode), 0);
}

static int load_mode(struct fx *x, const char *text, mode_t mode)
{
	write_file(x, text, mode);
	return config_load(x->path, &x->cfg, &x->err);
}

static int load(struct fx *x, const char *text)
{
	return load_mode(x, text, 0600);
}

/* The load failed with -EINVAL and a message that starts "path:line:" and
 * mentions each of the words given (NULL-terminated). */
static void check_error_at(struct fx *x, int rc, int line, ...)
{
	char where[96];
	const char *word;
	va_list ap;

	assert_int_equal(rc, -EINVAL);
	assert_int_equal(x->err.errnum, EINVAL);
	assert_int_equal(x->err.cls, GCF_CONFIG);
	assert_non_null(x->err.message);
	snprintf(where, sizeof(where), "%s:%d:", x->path, line);
	if (strncmp(x->err.message, where, strlen(where)))
		fail_msg("message '%s' does not start with '%s'", x->err.message, where);
	va_start(ap, line);
	while ((word = va_arg(ap, const char *)))
		if (!strstr(x->err.message, word))
			fail_msg("message '%s' does not mention '%s'", x->err.message, word);
	va_end(ap);
	assert_null(strstr(x->err.message, SECRET));
	assert_int_equal(x->cfg.nconns, 0); /* nothing kept on failure */
}

static void check_message_has(struct fx *x, const char *word)
{
	assert_non_null(x->err.message);
	if (!strstr(x->err.message, word))
		fail_msg("message '%s' does not mention '%s'", x->err.message, word);
}

/* The Authorization and X-TC-Region a connection signs a fixed request
 * with: proves which credentials it holds without looking inside them. */
static void signed_headers(const struct conn *c, struct buf *auth, struct buf *region)
{
	const struct kind *k = &c->prov->kinds[0];
	struct page_query q = {0, 10, NULL, NULL, false};
	struct gcf_error err = GCF_ERROR_INIT;
	struct http_req rq;

	assert_int_equal(k->build_page(c, k, &q, &rq, &err), 0);
	assert_int_equal(c->prov->sign(c, &rq, (time_t)1714552200, &err), 0);
	assert_non_null(http_req_header(&rq, "Authorization"));
	assert_int_equal(buf_addstr(auth, http_req_header(&rq, "Authorization")), 0);
	assert_int_equal(buf_addstr(region, http_req_header(&rq, "X-TC-Region")), 0);
	http_req_release(&rq);
	gcf_error_release(&err);
}

static const char full_file[] = "; gpucloudfs test configuration\n"       /* 1 */
				"[gpucloudfs]\n"                          /* 2 */
				"ttl = 45\n"                              /* 3 */
				"timeout = 7\n"                           /* 4 */
				"\n"                                      /* 5 */
				"[tencent]\n"                             /* 6 */
				"secret_id = AKIDfile123\n"               /* 7 */
				"secret_key = " SECRET "\n"               /* 8 */
				"region = ap-guangzhou\n"                 /* 9 */
				"endpoint = https://tione.example.test\n" /* 10 */
				"ttl = 30\n";                             /* 11 */

static void test_config_full_file(void **state)
{
	struct fx *x = *state;
	struct buf auth = BUF_INIT(BUF_NOLIMIT), region = BUF_INIT(BUF_NOLIMIT);
	const struct conn *c;

	assert_int_equal(load(x, full_file), 0);
	assert_int_equal(x->err.errnum, 0);
	assert_string_equal(x->cfg.path, x->path);
	assert_int_equal(x->cfg.ttl_s, 45);
	assert_int_equal(x->cfg.timeout_s, 7);
	assert_int_equal(x->cfg.connect_timeout_s, 5); /* defaults */
	assert_int_equal(x->cfg.op_timeout_s, 30);
	assert_int_equal(x->cfg.concurrency, 4);
	assert_int_equal(x->cfg.max_body, 32u << 20);
	assert_int_equal(x->cfg.nconns, 1);
	c = x->cfg.conns[0];
	assert_string_equal(c->name, "tencent");
	assert_ptr_equal(c->prov, provider_find("tencent"));
	assert_string_equal(c->endpoint, "https://tione.example.test");
	assert_int_equal(c->ttl_s, 30);    /* its own */
	assert_int_equal(c->timeout_s, 7); /* from [gpucloudfs] */
	assert_int_equal(c->concurrency, 4);
	signed_headers(c, &auth, &region);
	assert_non_null(strstr(buf_str(&auth), "Credential=AKIDfile123/"));
	assert_string_equal(buf_str(&region), "ap-guangzhou");
	buf_release(&auth);
	buf_release(&region);
}

static void test_config_provider_by_name_and_by_key(void **state)
{
	struct fx *x = *state;
	const struct conn *a, *b;

	assert_int_equal(load(x, "[tencent]\n"
				 "secret_id = AKIDgz\n"
				 "secret_key = " SECRET "\n"
				 "region = ap-guangzhou\n"
				 "\n"
				 "[tencent-sh]\n"
				 "secret_id = AKIDsh\n"
				 "secret_key = " SECRET "\n"
				 "region = ap-shanghai\n"
				 "provider = tencent\n"
				 "ttl = 0\n"),
			 0);
	assert_int_equal(x->cfg.nconns, 2);
	a = x->cfg.conns[0];
	b = x->cfg.conns[1];
	assert_string_equal(a->name, "tencent");
	assert_string_equal(b->name, "tencent-sh");
	assert_ptr_equal(a->prov, provider_find("tencent"));
	assert_ptr_equal(b->prov, provider_find("tencent"));
	assert_string_equal(a->endpoint, "https://tione.tencentcloudapi.com"); /* default */
	assert_int_equal(a->ttl_s, 60);                                        /* global default */
	assert_int_equal(b->ttl_s, 0); /* 0 is a value, not "unset" */
}

static void test_config_unknown_key_names_line_and_key(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "[tencent]\n"
			 "secret_id = AKID\n"
			 "secret_key = " SECRET "\n"
			 "\n"
			 "regoin = ap-guangzhou\n");

	check_error_at(x, rc, 5, "regoin", "[tencent]", NULL);
}

static void test_config_unknown_global_key(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "[gpucloudfs]\nttl = 5\ncolour = blue\n");

	check_error_at(x, rc, 3, "colour", "unknown key", NULL);
}

static void test_config_bad_value_names_line_and_key(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "[gpucloudfs]\n"
			 "timeout = 3\n"
			 "[tencent]\n"
			 "secret_id = AKID\n"
			 "secret_key = " SECRET "\n"
			 "region = ap-guangzhou\n"
			 "ttl = abc\n");

	check_error_at(x, rc, 7, "ttl", "abc", NULL);
}

/* refresh_wait: default 2 s, a global value is inherited, a connection's own
 * wins (0 allowed: never wait for a refresh of an expired listing). */
static void test_config_refresh_wait(void **state)
{
	struct fx *x = *state;

	assert_int_equal(load(x, full_file), 0);
	assert_int_equal(x->cfg.refresh_wait_s, 2);
	assert_int_equal(x->cfg.conns[0]->refresh_wait_s, 2);
	config_release(&x->cfg);
	assert_int_equal(load(x, "[gpucloudfs]\nrefresh_wait = 5\n[tencent]\nsecret_id = a\n"
				 "secret_key = b\nregion = ap-guangzhou\n[t2]\nprovider = tencent\n"
				 "secret_id = a\nsecret_key = b\nregion = ap-guangzhou\n"
				 "refresh_wait = 0\n"),
			 0);
	assert_int_equal(x->cfg.refresh_wait_s, 5);
	assert_int_equal(x->cfg.conns[0]->refresh_wait_s, 5);
	assert_int_equal(x->cfg.conns[1]->refresh_wait_s, 0);
	config_release(&x->cfg);
	check_error_at(x, load(x, "[gpucloudfs]\nrefresh_wait = 4000\n"), 2, "refresh_wait", "3600",
		       NULL);
}

static void test_config_bad_global_values(void **state)
{
	struct fx *x = *state;

	check_error_at(x, load(x, "[gpucloudfs]\nttl = -1\n"), 2, "ttl", NULL);
	config_release(&x->cfg);
	unlink(x->path);
	check_error_at(x, load(x, "[gpucloudfs]\n\nconcurrency = 99\n"), 3, "concurrency", NULL);
	config_release(&x->cfg);
	unlink(x->path);
	check_error_at(x, load(x, "[gpucloudfs]\ntimeout = 10s\n"), 2, "timeout", NULL);
}

static void test_config_bad_endpoint(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "[tencent]\nendpoint = ftp://example.test\n");

	check_error_at(x, rc, 2, "endpoint", "ftp://example.test", NULL);
}

static void test_config_unknown_provider(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "[mycloud]\napi_key = k\nprovider = nimbus\n");

	check_error_at(x, rc, 3, "nimbus", "provider", NULL);
}

static void test_config_section_without_provider(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "[gpucloudfs]\nttl = 5\n[mycloud]\nregion = x\n");

	check_error_at(x, rc, 4, "mycloud", "provider =", NULL);
}

static void test_config_unsafe_section_name(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "[../etc]\nprovider = tencent\n");

	check_error_at(x, rc, 2, "../etc", NULL);
}

static void test_config_key_outside_section(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "ttl = 5\n[tencent]\nregion = ap-guangzhou\n");

	check_error_at(x, rc, 1, "ttl", "outside", NULL);
}

static void test_config_duplicate_key(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "[tencent]\n"
			 "secret_id = AKID\n"
			 "region = ap-guangzhou\n"
			 "secret_key = " SECRET "\n"
			 "region = ap-shanghai\n");

	check_error_at(x, rc, 5, "region", "line 3", NULL);
}

static void test_config_syntax_error_line(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "[tencent]\n"
			 "secret_id = AKID\n"
			 "; a comment\n"
			 "this line is not ini\n"
			 "region = ap-guangzhou\n");

	check_error_at(x, rc, 4, "syntax", NULL);
}

static void test_config_readable_secret_refused(void **state)
{
	struct fx *x = *state;
	int rc = load_mode(x, full_file, 0644);

	check_error_at(x, rc, 8, "chmod 600", "secret_key", NULL);
	assert_null(strstr(x->err.message, "AKIDfile123"));
}

static void test_config_group_readable_secret_refused(void **state)
{
	struct fx *x = *state;
	int rc = load_mode(x, full_file, 0640);

	check_error_at(x, rc, 8, "chmod 600", NULL);
}

static void test_config_readable_without_secret_accepted(void **state)
{
	struct fx *x = *state;

	setenv("TENCENTCLOUD_SECRET_KEY", SECRET, 1);
	assert_int_equal(load_mode(x, "[tencent]\nsecret_id = AKID\nregion = ap-guangzhou\n", 0644),
			 0);
	assert_int_equal(x->cfg.nconns, 1);
}

static void test_config_credentials_from_env(void **state)
{
	struct fx *x = *state;
	struct fx *y = calloc(1, sizeof(*y));
	struct buf auth_env = BUF_INIT(BUF_NOLIMIT), region_env = BUF_INIT(BUF_NOLIMIT);
	struct buf auth_file = BUF_INIT(BUF_NOLIMIT), region_file = BUF_INIT(BUF_NOLIMIT);

	assert_non_null(y);
	/* the same credentials written in the file ... */
	assert_int_equal(load(y, "[tencent]\n"
				 "secret_id = AKIDenv789\n"
				 "secret_key = " SECRET "\n"
				 "region = ap-beijing\n"),
			 0);
	signed_headers(y->cfg.conns[0], &auth_file, &region_file);
	/* ... or given by the environment sign identically */
	setenv("TENCENTCLOUD_SECRET_ID", "AKIDenv789", 1);
	setenv("TENCENTCLOUD_SECRET_KEY", SECRET, 1);
	setenv("TENCENTCLOUD_REGION", "ap-beijing", 1);
	assert_int_equal(load(x, "[tencent]\nttl = 10\n"), 0);
	signed_headers(x->cfg.conns[0], &auth_env, &region_env);
	assert_non_null(strstr(buf_str(&auth_env), "Credential=AKIDenv789/"));
	assert_string_equal(buf_str(&region_env), "ap-beijing");
	assert_string_equal(buf_str(&auth_env), buf_str(&auth_file));
	buf_release(&auth_env);
	buf_release(&region_env);
	buf_release(&auth_file);
	buf_release(&region_file);
	teardown((void **)&y);
}

static void test_config_file_wins_over_env(void **state)
{
	struct fx *x = *state;
	struct buf auth = BUF_INIT(BUF_NOLIMIT), region = BUF_INIT(BUF_NOLIMIT);

	setenv("TENCENTCLOUD_SECRET_ID", "AKIDfromenv", 1);
	setenv("TENCENTCLOUD_REGION", "ap-beijing", 1);
	assert_int_equal(load(x, full_file), 0);
	signed_headers(x->cfg.conns[0], &auth, &region);
	assert_non_null(strstr(buf_str(&auth), "Credential=AKIDfile123/"));
	assert_string_equal(buf_str(&region), "ap-guangzhou");
	buf_release(&auth);
	buf_release(&region);
}

/*
 * Lines longer than the system libinih's fixed 200-byte buffer (a Tencent
 * STS `token` is typically 600+ characters) load whole, on the right line
 * numbers, and never leak a piece of a secret into a message.
 */
static void test_config_long_value_loads(void **state)
{
	struct fx *x = *state;
	struct buf text = BUF_INIT(BUF_NOLIMIT), tok = BUF_INIT(BUF_NOLIMIT);
	struct page_query q = {0, 10, NULL, NULL, false};
	struct gcf_error err = GCF_ERROR_INIT;
	const struct conn *c;
	struct http_req rq;

	for (int i = 0; i < 1200; i++)
		assert_int_equal(buf_addch(&tok, (char)('A' + i % 26)), 0);
	assert_int_equal(buf_printf(&text,
				    "[tencent]\nsecret_id = AKID\nsecret_key = " SECRET
				    "\nregion = ap-guangzhou\ntoken = %s\nttl = 5\n",
				    tok.p),
			 0);
	assert_int_equal(load(x, text.p), 0);
	c = x->cfg.conns[0];
	assert_int_equal(c->ttl_s, 5);
	assert_int_equal(c->prov->kinds[0].build_page(c, &c->prov->kinds[0], &q, &rq, &err), 0);
	assert_string_equal(http_req_header(&rq, "X-TC-Token"), tok.p); /* whole */
	http_req_release(&rq);
	buf_release(&text);
	buf_release(&tok);
}

static void test_config_long_line_never_leaks_secret(void **state)
{
	struct fx *x = *state;
	struct buf text = BUF_INIT(BUF_NOLIMIT);
	int rc;

	assert_int_equal(buf_addstr(&text, "[tencent]\nsecret_id = AKID\nsecret_key = k\n"
					   "region = ap-guangzhou\ntoken = "),
			 0);
	for (int i = 0; i < 191; i++)
		assert_int_equal(buf_addch(&text, 'A'), 0);
	assert_int_equal(buf_addstr(&text, "SECRETPART==\n"), 0);
	rc = load(x, text.p);
	/* either the long token is taken whole, or the error names line 5 and
	 * holds no piece of the token */
	if (rc) {
		char where[96];

		snprintf(where, sizeof(where), "%s:5:", x->path);
		assert_non_null(x->err.message);
		assert_null(strstr(x->err.message, "SECRETPART"));
		assert_non_null(strstr(x->err.message, where));
	}
	buf_release(&text);
}

/* xattr = yes|no, default yes; anything else names file:line:key. */
static void test_config_xattr_switch(void **state)
{
	struct fx *x = *state;

	assert_int_equal(load(x, "[tencent]\nsecret_id = AKID\nsecret_key = " SECRET
				 "\nregion = ap-guangzhou\n"),
			 0);
	assert_true(x->cfg.xattr);
	config_release(&x->cfg);
	assert_int_equal(load(x, "[gpucloudfs]\nxattr = no\n[tencent]\nsecret_id = AKID\n"
				 "secret_key = " SECRET "\nregion = ap-guangzhou\n"),
			 0);
	assert_false(x->cfg.xattr);
	config_release(&x->cfg);
	check_error_at(x, load(x, "[gpucloudfs]\nxattr = maybe\n[tencent]\nregion = x\n"), 2,
		       "xattr", "maybe", NULL);
}

static void test_config_missing_region(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "[gpucloudfs]\nttl = 5\n[tencent]\nsecret_id = AKID\nsecret_key = " SECRET
			 "\n");

	assert_int_equal(rc, -EINVAL);
	assert_int_equal(x->err.cls, GCF_CONFIG);
	check_message_has(x, x->path);
	check_message_has(x, "[tencent]");
	check_message_has(x, "region");
	check_message_has(x, "line 4"); /* the section's first key */
	assert_null(strstr(x->err.message, SECRET));
	assert_int_equal(x->cfg.nconns, 0);
}

static void test_config_missing_secret_key(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "[tencent]\nsecret_id = AKID\nregion = ap-guangzhou\n");

	assert_int_equal(rc, -EINVAL);
	check_message_has(x, "secret_key");
	check_message_has(x, "TENCENTCLOUD_SECRET_KEY");
}

static void test_config_no_sections(void **state)
{
	struct fx *x = *state;
	int rc = load(x, "[gpucloudfs]\nttl = 5\n");

	assert_int_equal(rc, -EINVAL);
	check_message_has(x, x->path);
	check_message_has(x, "no connection");
	config_release(&x->cfg);
	gcf_error_release(&x->err);
	unlink(x->path);
	rc = load(x, "; nothing here\n");
	assert_int_equal(rc, -EINVAL);
	check_message_has(x, "no connection");
}

static void test_config_missing_file(void **state)
{
	struct fx *x = *state;

	assert_int_equal(config_load("/nonexistent/gpucloudfs/config.ini", &x->cfg, &x->err),
			 -ENOENT);
	check_message_has(x, "/nonexistent/gpucloudfs/config.ini");
}

static void test_config_dump_never_shows_secret(void **state)
{
	struct fx *x = *state;
	struct buf out = BUF_INIT(BUF_NOLIMIT);

	assert_int_equal(load(x, full_file), 0);
	assert_int_equal(config_dump(&x->cfg, &out), 0);
	assert_non_null(strstr(buf_str(&out), "[tencent]"));
	assert_non_null(strstr(buf_str(&out), "provider = tencent"));
	assert_non_null(strstr(buf_str(&out), "endpoint = https://tione.example.test"));
	assert_non_null(strstr(buf_str(&out), "ttl = 30"));
	assert_non_null(strstr(buf_str(&out), "secret_key = <redacted>"));
	assert_null(strstr(buf_str(&out), SECRET));
	buf_release(&out);
}

/* A connection that does not set a [gpucloudfs] setting inherits it; one
 * that does keeps its own; global-only settings stay global. */
static void test_config_inheritance(void **state)
{
	struct fx *x = *state;
	const struct conn *a, *b;
	char text[1024];

	snprintf(text, sizeof(text),
		 "[gpucloudfs]\nttl = 45\ntimeout = 7\nconnect_timeout = 3\nconcurrency = 8\n"
		 "max_rps = 50\nretries = 5\nstale_if_error = 100\nrefresh_wait = 4\n"
		 "op_timeout = 40\nca_file = %s\n"
		 "[tencent]\nsecret_id = a\nsecret_key = b\nregion = ap-guangzhou\n"
		 "[t2]\nprovider = tencent\nsecret_id = a\nsecret_key = b\nregion = ap-guangzhou\n"
		 "ttl = 9\ntimeout = 11\nconnect_timeout = 12\nconcurrency = 2\nmax_rps = 7\n"
		 "retries = 0\nstale_if_error = 0\nrefresh_wait = 0\n",
		 GCF_SOURCE_DIR "/CMakeLists.txt");
	assert_int_equal(load(x, text), 0);
	assert_int_equal(x->cfg.op_timeout_s, 40);
	a = x->cfg.conns[0];
	b = x->cfg.conns[1];
	assert_int_equal(a->ttl_s, 45);
	assert_int_equal(a->timeout_s, 7);
	assert_int_equal(a->connect_timeout_s, 3);
	assert_int_equal(a->concurrency, 8);
	assert_int_equal(a->max_rps, 50);
	assert_int_equal(a->retries, 5);
	assert_int_equal(a->stale_if_error_s, 100);
	assert_int_equal(a->refresh_wait_s, 4);
	assert_string_equal(a->ca_file, GCF_SOURCE_DIR "/CMakeLists.txt");
	assert_int_equal(b->ttl_s, 9);
	assert_int_equal(b->timeout_s, 11);
	assert_int_equal(b->connect_timeout_s, 12);
	assert_int_equal(b->concurrency, 2);
	assert_int_equal(b->max_rps, 7);
	assert_int_equal(b->retries, 0);
	assert_int_equal(b->stale_if_error_s, 0);
	assert_int_equal(b->refresh_wait_s, 0);
	assert_string_equal(b->ca_file, GCF_SOURCE_DIR "/CMakeLists.txt");
	config_release(&x->cfg);
	/* a global-only setting is not a connection key */
	check_error_at(x, load(x, "[tencent]\nsecret_id = a\nsecret_key = b\nop_timeout = 5\n"), 4,
		       "op_timeout", "unknown key for provider", NULL);
}

/* max_rps = 0 in a connection means "the API's documented limit" even when
 * [gpucloudfs] sets another value (the consumer reads 0 that way). */
static void test_config_max_rps_zero_in_connection(void **state)
{
	struct fx *x = *state;

	assert_int_equal(load(x, "[gpucloudfs]\nmax_rps = 50\n"
				 "[tencent]\nsecret_id = a\nsecret_key = b\nregion = ap-guangzhou\n"
				 "max_rps = 0\n"
				 "[t2]\nprovider = tencent\nsecret_id = a\nsecret_key = b\n"
				 "region = ap-guangzhou\n"),
			 0);
	assert_int_equal(x->cfg.max_rps, 50);
	assert_int_equal(x->cfg.conns[0]->max_rps, 0);
	assert_int_equal(x->cfg.conns[1]->max_rps, 50);
}

/* -o name=value: only the settings the table marks, applied to the global
 * value and to every connection, checked like the file's values. */
static void test_config_override(void **state)
{
	struct fx *x = *state;

	assert_true(config_is_override("ttl=5"));
	assert_true(config_is_override("ttl="));
	assert_false(config_is_override("ttl"));
	assert_false(config_is_override("timeout=5"));
	assert_false(config_is_override("allow_other"));
	assert_false(config_is_override("config=/x"));
	assert_false(config_is_override("ttlx=5"));
	assert_int_equal(load(x, full_file), 0);
	assert_int_equal(x->cfg.conns[0]->ttl_s, 30);
	assert_int_equal(config_override(&x->cfg, "ttl=0", &x->err), 0);
	assert_int_equal(x->cfg.ttl_s, 0);
	assert_int_equal(x->cfg.conns[0]->ttl_s, 0);     /* wins over the section's own */
	assert_int_equal(x->cfg.conns[0]->timeout_s, 7); /* nothing else moves */
	assert_int_equal(config_override(&x->cfg, "ttl=soon", &x->err), -EINVAL);
	assert_int_equal(x->err.cls, GCF_CONFIG);
	check_message_has(x, "-o ttl: 'soon' is not a whole number of seconds");
	gcf_error_release(&x->err);
	assert_int_equal(config_override(&x->cfg, "ttl=2592001", &x->err), -EINVAL);
	gcf_error_release(&x->err);
	assert_int_equal(config_override(&x->cfg, "timeout=5", &x->err), -EINVAL);
	check_message_has(x, "-o timeout:");
	assert_int_equal(x->cfg.timeout_s, 7);
	assert_int_equal(x->cfg.ttl_s, 0);
}

/* .gpucloudfs/config: every setting, the provider keys that are set with
 * their values (region, region_id, aidc_id ...), never a secret. */
static void test_config_dump_provider_keys(void **state)
{
	struct fx *x = *state;
	struct buf out = BUF_INIT(BUF_NOLIMIT);
	const char *d;

	assert_int_equal(load(x, "[gpucloudfs]\nmax_rps = 50\n"
				 "[tencent]\nsecret_id = AKIDdump\nsecret_key = " SECRET "\n"
				 "region = ap-guangzhou\ntoken = " SECRET "tok\nmax_rps = 0\n"
				 "[ctyun]\naccess_key = ak\nsecret_key = " SECRET "\n"
				 "region_id = 200000001852\n"
				 "[baidu]\naccess_key = ak\nsecret_key = " SECRET "\n"
				 "region = bj\npayment_timing = Postpaid\n"
				 "[alaya]\napi_key = " SECRET "\naidc_id = 42\n"),
			 0);
	assert_int_equal(config_dump(&x->cfg, &out), 0);
	d = buf_str(&out);
	for (const struct config_setting *s = config_settings; s->name; s++)
		if (s->type != CONFIG_PATH && s->type != CONFIG_REDIS && s->type != CONFIG_TEXT &&
		    !strstr(d, s->name))
			fail_msg("dump lacks %s:\n%s", s->name, d);
	/* connection-only settings are not in [gpucloudfs] */
	assert_true(strstr(d, "provider =") > strstr(d, "\n[tencent]\n"));
	assert_true(strstr(d, "endpoint =") > strstr(d, "\n[tencent]\n"));
	assert_non_null(strstr(d, "\n[tencent]\nprovider = tencent\nendpoint = https://"));
	assert_non_null(strstr(d, "max_rps = 50\n"));
	assert_non_null(strstr(d, "max_rps = 0\n"));
	assert_non_null(strstr(d, "xattr = yes\n"));
	assert_non_null(strstr(d, "region = ap-guangzhou\n"));
	assert_non_null(strstr(d, "region_id = 200000001852\n"));
	assert_non_null(strstr(d, "region = bj\n"));
	assert_non_null(strstr(d, "payment_timing = Postpaid\n"));
	assert_non_null(strstr(d, "aidc_id = 42\n"));
	assert_non_null(strstr(d, "secret_key = <redacted>\n"));
	assert_non_null(strstr(d, "token = <redacted>\n"));
	assert_non_null(strstr(d, "api_key = <redacted>\n"));
	assert_null(strstr(d, SECRET));
	/* a key the log calls secret by its name is redacted too */
	assert_null(strstr(d, "AKIDdump"));
	buf_release(&out);
}

/* Each row of the table is coherent: its scope has its fields, the fields'
 * C types fit its type, no secret may come from the command line. */
static void test_config_table_coherent(void **state)
{
	(void)state;
	for (const struct config_setting *s = config_settings; s->name; s++) {
		enum config_store want = s->global.store ? s->global.store : s->conn.store;

		if (s->type == CONFIG_PROVIDER) {
			assert_int_equal(s->scope, CONFIG_CONN);
			continue;
		}
		if (!!(s->scope & CONFIG_GLOBAL) != (s->global.store != CONFIG_STORE_NONE) ||
		    !!(s->scope & CONFIG_CONN) != (s->conn.store != CONFIG_STORE_NONE))
			fail_msg("%s: scope and fields disagree", s->name);
		if (s->scope == CONFIG_BOTH && s->global.store != s->conn.store)
			fail_msg("%s: fields of two C types", s->name);
		switch (s->type) {
		case CONFIG_BOOL:
			assert_int_equal(want, CONFIG_STORE_BOOL);
			break;
		case CONFIG_PATH:
		case CONFIG_URL:
		case CONFIG_REDIS:
		case CONFIG_TEXT:
		case CONFIG_DIR:
			assert_int_equal(want, CONFIG_STORE_STR);
			break;
		default:
			assert_true(want == CONFIG_STORE_UINT || want == CONFIG_STORE_SIZE);
			assert_true(s->lo <= s->hi);
			assert_true(s->def >= s->lo && s->def <= s->hi);
		}
		assert_false(s->secret && s->cli);
	}
}

/* The text of the man page from ".BI name" up to the next ".TP" or ".SS". */
static const char *man_entry(const char *man, const char *name, size_t *len)
{
	char head[64];
	const char *p, *end;

	snprintf(head, sizeof(head), "\n.BI %s \" = ", name);
	p = strstr(man, head);
	if (!p)
		return NULL;
	p++;
	end = p + 1;
	while (*end && strncmp(end, "\n.TP", 4) && strncmp(end, "\n.SS", 4))
		end++;
	*len = (size_t)(end - p);
	return p;
}

/* The line ".B name" or ".BR name ..." between from and to, or NULL. */
static const char *man_bold(const char *from, const char *to, const char *name)
{
	char b[64], br[64];
	const char *p;

	snprintf(b, sizeof(b), "\n.B %s\n", name);
	snprintf(br, sizeof(br), "\n.BR %s ", name);
	p = strstr(from, b);
	if (p && p < to)
		return p;
	p = strstr(from, br);
	return p && p < to ? p : NULL;
}

/* docs/gpucloudfs.1 names every setting (".BI name \" = ...\"") with its
 * default, and says which ones a connection may not set. */
static void test_config_settings_in_man_page(void **state)
{
	FILE *f = fopen(GCF_SOURCE_DIR "/docs/gpucloudfs.1", "r");
	struct buf man = BUF_INIT(BUF_NOLIMIT);
	const char *global, *conns;
	char line[512];

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		assert_int_equal(buf_addstr(&man, line), 0);
	fclose(f);
	global = strstr(buf_str(&man), ".SS \"Global settings");
	conns = strstr(buf_str(&man), ".SS \"Connections");
	assert_non_null(global);
	assert_non_null(conns);
	for (const struct config_setting *s = config_settings; s->name; s++) {
		char def[64];
		size_t len = 0;
		const char *e = man_entry(buf_str(&man), s->name, &len);
		const char *first_tp = strstr(global, "\n.TP");

		if (!e)
			fail_msg("docs/gpucloudfs.1 does not list the setting '%s'", s->name);
		/* global settings under "Global settings", connection-only ones
		 * under "Connections" */
		if (((s->scope & CONFIG_GLOBAL) != 0) != (e > global && e < conns))
			fail_msg("docs/gpucloudfs.1 lists '%s' in the wrong section", s->name);
		/* the global-only ones are named in the sentence before the list */
		if ((s->scope == CONFIG_GLOBAL) != (man_bold(global, first_tp, s->name) != NULL))
			fail_msg("docs/gpucloudfs.1: '%s' %s be named among the keys a "
				 "connection may not set",
				 s->name, s->scope == CONFIG_GLOBAL ? "must" : "must not");
		if (s->type == CONFIG_PATH || s->type == CONFIG_URL || s->type == CONFIG_PROVIDER ||
		    s->type == CONFIG_REDIS || s->type == CONFIG_TEXT || s->type == CONFIG_DIR)
			continue;
		if (s->type == CONFIG_BOOL)
			snprintf(def, sizeof(def), "(default %s", s->def ? "yes" : "no");
		else if (s->def)
			snprintf(def, sizeof(def), "(default %lu", s->def);
		else
			snprintf(def, sizeof(def), "0 (the default)");
		if (!memmem(e, len, def, strlen(def)))
			fail_msg("docs/gpucloudfs.1: '%s' does not say '%s'", s->name, def);
	}
	buf_release(&man);
}

static void test_config_default_path(void **state)
{
	struct buf out = BUF_INIT(BUF_NOLIMIT);
	char *xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;

	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	assert_int_equal(config_default_path(&out), 0);
	assert_string_equal(buf_str(&out), "/xdg/gpucloudfs/config.ini");
	if (xdg)
		setenv("XDG_CONFIG_HOME", xdg, 1);
	else
		unsetenv("XDG_CONFIG_HOME");
	free(xdg);
	buf_release(&out);
	config_release(NULL);
	config_conn_free(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_config_full_file),
	    T(test_config_provider_by_name_and_by_key),
	    T(test_config_unknown_key_names_line_and_key),
	    T(test_config_unknown_global_key),
	    T(test_config_bad_value_names_line_and_key),
	    T(test_config_refresh_wait),
	    T(test_config_bad_global_values),
	    T(test_config_bad_endpoint),
	    T(test_config_unknown_provider),
	    T(test_config_section_without_provider),
	    T(test_config_unsafe_section_name),
	    T(test_config_key_outside_section),
	    T(test_config_duplicate_key),
	    T(test_config_syntax_error_line),
	    T(test_config_readable_secret_refused),
	    T(test_config_group_readable_secret_refused),
	    T(test_config_readable_without_secret_accepted),
	    T(test_config_credentials_from_env),
	    T(test_config_file_wins_over_env),
	    T(test_config_long_value_loads),
	    T(test_config_long_line_never_leaks_secret),
	    T(test_config_xattr_switch),
	    T(test_config_missing_region),
	    T(test_config_missing_secret_key),
	    T(test_config_no_sections),
	    T(test_config_missing_file),
	    T(test_config_dump_never_shows_secret),
	    T(test_config_inheritance),
	    T(test_config_max_rps_zero_in_connection),
	    T(test_config_override),
	    T(test_config_dump_provider_keys),
	    cmocka_unit_test(test_config_table_coherent),
	    cmocka_unit_test(test_config_settings_in_man_page),
	    cmocka_unit_test(test_config_default_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
