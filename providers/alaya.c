/*
 * alaya.c - Alaya NeW: resource products for distributed training.
 *
 * No request signing: the Open API key is sent as a bearer token
 * (api-docs/NOTES.md §3). One GET lists every product (no paging),
 * optionally for one AIDC (aidcId). The reply carries a business status in
 * the body; success is HTTP 2xx AND status 200, and on error `data` turns
 * into an object.
 *
 * Exports only provider_alaya; everything else is static.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "common.h"
#include "crypto.h"
#include "gcf_error.h"
#include "http.h"
#include "provider.h"

#define ALAYA_ENDPOINT "https://api.alayanew.com"

struct alaya_priv {
	char *api_key;
	char *aidc_id; /* optional filter, digits only */
};

static const struct provider_key alaya_key_table[] = {
    {"api_key", offsetof(struct alaya_priv, api_key), "ALAYA_API_KEY", .required = true,
     .secret = true},
    {"aidc_id", offsetof(struct alaya_priv, aidc_id), NULL, .required = false},
    {NULL},
};

/* ---- configuration ------------------------------------------------------ */

static bool alaya_is_id(const char *s)
{
	if (!s || !*s || strlen(s) > 18)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int alaya_configure(struct conn *c, const char *key, const char *val, struct gcf_error *err)
{
	if (!strcmp(key, "aidc_id") && val && *val && !alaya_is_id(val))
		return gcf_error_set(err, GCF_CONFIG, "aidc_id must be a number, not '%s'", val);
	return provider_keys_configure(alaya_key_table, "alaya", c->priv, key, val, err);
}

static int alaya_finish(struct conn *c, struct gcf_error *err)
{
	struct alaya_priv *p = c->priv;
	int rc = provider_keys_finish(alaya_key_table, p, err);

	if (!rc && strpbrk(p->api_key, "\r\n"))
		return gcf_error_set(err, GCF_CONFIG, "api_key holds a line break");
	return rc;
}

static void alaya_release_priv(void *priv)
{
	provider_keys_release(alaya_key_table, priv, sizeof(struct alaya_priv));
}

/* ---- "signing": a bearer token ------------------------------------------ */

static int alaya_sign(const struct conn *c, struct http_req *rq, time_t now, struct gcf_error *err)
{
	const struct alaya_priv *p = c->priv;
	struct buf auth = BUF_INIT(BUF_NOLIMIT);
	int rc;

	rc = buf_printf(&auth, "Bearer %s", p->api_key ? p->api_key : "");
	if (!rc)
		rc = http_req_add_header(rq, "Authorization", buf_str(&auth));
	if (!rc && !http_req_header(rq, "accept"))
		rc = http_req_add_header(rq, "accept", "application/json");
	if (auth.p)
		crypto_wipe(auth.p, auth.len);
	buf_release(&auth);
	if (rc)
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	return 0;
}

/* ---- requests ----------------------------------------------------------- */

static int alaya_build_page(const struct conn *c, const struct kind *k, const struct page_query *q,
			    struct http_req *rq, struct gcf_error *err)
{
	const struct alaya_priv *p = c->priv;
	const char *aidc = p->aidc_id;
	struct buf query = BUF_INIT(BUF_NOLIMIT);
	unsigned size;
	int rc;

	rc = provider_page_check(k, q, &size, err);
	if (rc)
		return rc;
	if (q->filter_name) { /* aidcId, the one filter */
		if (!alaya_is_id(q->filter_value))
			return gcf_error_set(err, GCF_CONFIG, "aidcId must be a number");
		aidc = q->filter_value;
	}
	if (aidc && *aidc && buf_printf(&query, "aidcId=%s", aidc))
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	rc = provider_req_init(c, k, "GET", buf_str(&query), rq, err);
	buf_release(&query);
	return rc;
}

/* ---- replies ------------------------------------------------------------ */

/* Alaya's body status takes the HTTP numbers, and 422 is a parameter too. */
static enum gcf_class alaya_class(long status)
{
	if (status == 400 || status == 422)
		return GCF_PARAM;
	return provider_status_class(status);
}

static int alaya_reply_error(const struct http_resp *rs, const cJSON *body, struct gcf_error *err)
{
	const cJSON *st = body ? cJSON_GetObjectItemCaseSensitive(body, "status") : NULL;
	const char *msg = provider_json_text(body, "message");
	long http = rs ? rs->status : 200, bstatus = -1;
	char code[32] = "";
	int rc;

	if (cJSON_IsNumber(st) && st->valuedouble >= 0 && st->valuedouble < 1e9)
		bstatus = (long)st->valuedouble; /* a status out of range is no status */
	else if (cJSON_IsString(st) && alaya_is_id(st->valuestring))
		bstatus = strtol(st->valuestring, NULL, 10);
	/* the body's status is Alaya's code; the same number as the HTTP status
	 * would only repeat it ("HTTP 403: 403: Forbidden") */
	if (bstatus >= 0 && bstatus != http)
		snprintf(code, sizeof(code), "%ld", bstatus);

	if (http < 200 || http > 299) {
		/* the HTTP status says more than a body that may be a proxy page */
		rc = provider_http_error(err, alaya_class(http), http, msg);
	} else if (!body) {
		rc = gcf_error_set(err, GCF_REPLY, "reply is not JSON");
	} else if (bstatus < 0) {
		rc = gcf_error_set(err, GCF_REPLY, "reply has no status");
	} else if (bstatus == 200) {
		return 0;
	} else {
		rc = msg ? gcf_error_set(err, alaya_class(bstatus), "%s", msg)
			 : gcf_error_set(err, alaya_class(bstatus), "status %ld", bstatus);
	}
	return provider_reply_fail(err, rc, *code ? code : NULL, rs ? rs->request_id : NULL);
}

/* ---- the table ---------------------------------------------------------- */

enum { ALAYA_PRODUCTS, ALAYA_NKINDS };
static const struct kind alaya_kinds[ALAYA_NKINDS + 1];

/* An Alaya reply: the kind's items at the top level (one call, no paging). */
static int alaya_parse(const struct kind *k, const cJSON *reply, struct page *out,
		       struct gcf_error *err)
{
	return provider_parse_items(reply, NULL, k, out, err);
}

PROVIDER_PARSE_PAGE(alaya_parse_products, alaya_parse, &alaya_kinds[ALAYA_PRODUCTS])

static const char *const alaya_filters[] = {"aidcId", NULL};

static const struct kind alaya_kinds[ALAYA_NKINDS + 1] = {
    [ALAYA_PRODUCTS] =
	{
	    .dir = "products",
	    .action = "list-for-training-task",
	    .path = "/v1/product/list-for-training-task",
	    .items = "data",
	    .id_field = "productCode",
	    .mtime_fields = NULL, /* products carry no time: fetch time */
	    .json_files = NULL,
	    .paging = PAGING_NONE,
	    .page_max = 0,
	    .rate_per_sec = 0, /* not documented */
	    .filters = alaya_filters,
	    .build_page = alaya_build_page,
	    .parse_page = alaya_parse_products,
	},
    [ALAYA_NKINDS] = {.dir = NULL},
};

const struct provider provider_alaya = {
    .name = "alaya",
    .default_endpoint = ALAYA_ENDPOINT,
    .key_table = alaya_key_table,
    .sizeof_priv = sizeof(struct alaya_priv),
    .configure = alaya_configure,
    .finish = alaya_finish,
    .sign = alaya_sign,
    .reply_error = alaya_reply_error,
    .release_priv = alaya_release_priv,
    .kinds = alaya_kinds,
};
