/*
 * provider_test.h - the helpers every provider's unit test shares.
 *
 * A test_<cloud>.c defines PROVIDER (its table, e.g. provider_ctyun) and,
 * when its reply_error tests expect a request ID from the reply header,
 * PROVIDER_TEST_RID (its text), then includes this file after cmocka.h. It gets P (the
 * table) and:
 *   conn_init/conn_set/conn_release  a connection of P, configured key by key
 *   slurp                            a whole file (the SDK vectors), or NULL
 *   jstr                             a vector's string field (fails the test if absent)
 *   parse                            a reply text through a kind's parse_page
 *   decode                           a status and reply text through P->reply_error
 */
#ifndef GCF_PROVIDER_TEST_H
#define GCF_PROVIDER_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "gcf_error.h"
#include "http.h"
#include "provider.h"

#ifndef PROVIDER
#error "define PROVIDER (the provider table under test) before including provider_test.h"
#endif
#ifndef PROVIDER_TEST_RID
#define PROVIDER_TEST_RID "" /* none */
#endif

extern const struct provider PROVIDER;
static const struct provider *P = &PROVIDER;

/* An empty connection of P; endpoint NULL = none set. */
static inline void conn_init(struct conn *c, const char *endpoint)
{
	memset(c, 0, sizeof(*c));
	c->prov = P;
	c->endpoint = endpoint ? strdup(endpoint) : NULL;
	c->priv = calloc(1, P->sizeof_priv);
	assert_non_null(c->priv);
}

static inline void conn_set(struct conn *c, const char *key, const char *val)
{
	struct gcf_error err = GCF_ERROR_INIT;

	assert_int_equal(P->configure(c, key, val, &err), 0);
	gcf_error_release(&err);
}

static inline void conn_release(struct conn *c)
{
	P->release_priv(c->priv);
	free(c->endpoint);
	memset(c, 0, sizeof(*c));
}

/* The whole file at path, NUL-terminated (free it), or NULL if it cannot be opened. */
static inline char *slurp(const char *path)
{
	struct buf b = BUF_INIT(64 << 20);
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_add(&b, chunk, n), 0);
	fclose(f);
	return buf_detach(&b, NULL);
}

/* o[name], which must be a string. */
static inline const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsString(v))
		fail_msg("vector field \"%s\" missing or not a string", name);
	return v->valuestring;
}

/* Parses text into *tree (the caller deletes it) and runs k's parse_page on it. */
static inline int parse(const struct kind *k, const char *text, struct page *pg, cJSON **tree,
			struct gcf_error *err)
{
	*tree = cJSON_Parse(text);
	assert_non_null(*tree);
	return k->parse_page(*tree, pg, err);
}

/* P->reply_error on an HTTP status and a body (NULL or text that is not JSON:
 * no tree), with PROVIDER_TEST_RID as the reply's request-ID header. err is
 * released first. */
static inline int decode(long status, const char *text, struct gcf_error *err)
{
	static const char *const rid = PROVIDER_TEST_RID;
	struct http_resp rs;
	cJSON *body = text ? cJSON_Parse(text) : NULL;
	int rc;

	http_resp_init(&rs, 0);
	rs.status = status;
	if (*rid)
		rs.request_id = strdup(rid);
	gcf_error_release(err);
	rc = P->reply_error(&rs, body, err);
	cJSON_Delete(body);
	http_resp_release(&rs);
	return rc;
}

#endif
