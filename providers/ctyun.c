/*
 * ctyun.c - CTyun 一体化计算加速平台·异构计算 (cwai): the queue list.
 *
 * Signs with the EOP gateway scheme (api-docs/NOTES.md §1): Eop-date is
 * Beijing wall-clock time (UTC+8) with a literal 'Z', computed from `now`
 * plus eight hours with gmtime_r so the host's TZ never matters; the
 * signing key is HMAC(HMAC(HMAC(SK, date), AK), yyyymmdd); the signature
 * is base64. Lists queues with queue-info-list, paged by pageNo/pageSize.
 * Business errors come with HTTP 200 and statusCode != 800.
 *
 * Exports only provider_ctyun; everything else is static.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "clock.h"
#include "common.h"
#include "crypto.h"
#include "gcf_error.h"
#include "http.h"
#include "provider.h"

#define CTYUN_ENDPOINT         "https://cwai-global.ctapi.ctyun.cn"
#define CTYUN_REQUEST_ID       "ctyun-eop-request-id"
#define CTYUN_BEIJING_OFFSET_S (8 * 3600)

struct ctyun_priv {
	char *access_key;
	char *secret_key;
	char *region_id;
};

static const struct provider_key ctyun_key_table[] = {
    {"access_key", offsetof(struct ctyun_priv, access_key), "CTYUN_ACCESS_KEY", .required = true},
    {"secret_key", offsetof(struct ctyun_priv, secret_key), "CTYUN_SECRET_KEY", .required = true,
     .secret = true},
    {"region_id", offsetof(struct ctyun_priv, region_id), "CTYUN_REGION_ID", .required = true,
     .missing =
	 ", the resource pool ID such as 'region_id = 200000001852' (or set CTYUN_REGION_ID)"},
    {NULL},
};

/* ---- configuration ------------------------------------------------------ */

static int ctyun_configure(struct conn *c, const char *key, const char *val, struct gcf_error *err)
{
	return provider_keys_configure(ctyun_key_table, "ctyun", c->priv, key, val, err);
}

static int ctyun_finish(struct conn *c, struct gcf_error *err)
{
	return provider_keys_finish(ctyun_key_table, c->priv, err);
}

static void ctyun_release_priv(void *priv)
{
	provider_keys_release(ctyun_key_table, priv, sizeof(struct ctyun_priv));
}

/* ---- signing: EOP ------------------------------------------------------- */

static int ctyun_hmac(const uint8_t *key, size_t keylen, const char *msg, size_t msglen,
		      uint8_t out[SHA256_LEN])
{
	return crypto_hmac_sha256(key, keylen, msg, msglen, out);
}

static int ctyun_sign(const struct conn *c, struct http_req *rq, time_t now, struct gcf_error *err)
{
	const struct ctyun_priv *p = c->priv;
	struct buf sts = BUF_INIT(BUF_NOLIMIT), sig = BUF_INIT(BUF_NOLIMIT);
	struct buf auth = BUF_INIT(BUF_NOLIMIT);
	uint8_t k[SHA256_LEN], mac[SHA256_LEN];
	char date[32], uuid[37], body_hex[65];
	const char *rid;
	int rc;

	/* Beijing wall-clock time; the 'Z' is only a format character */
	if (clock_format_utc(date, sizeof(date), "%Y%m%dT%H%M%SZ", now + CTYUN_BEIJING_OFFSET_S) !=
	    16)
		return gcf_error_set(err, GCF_CONFIG, "ctyun: cannot format the date of %lld",
				     (long long)now);

	rid = http_req_header(rq, CTYUN_REQUEST_ID);
	if (!rid) {
		if (crypto_uuid4(uuid))
			return gcf_error_set(err, GCF_CONFIG, "ctyun: no random request id");
		if (http_req_add_header(rq, CTYUN_REQUEST_ID, uuid))
			return gcf_error_set(err, GCF_NOMEM, "out of memory");
		rid = http_req_header(rq, CTYUN_REQUEST_ID);
	}

	rc = crypto_sha256_hex(rq->body.p, rq->body.len, body_hex);
	if (!rc)
		rc = buf_printf(&sts, CTYUN_REQUEST_ID ":%s\neop-date:%s\n\n%s\n%s", rid, date,
				rq->query ? rq->query : "", body_hex);
	/* ktime = HMAC(SK, date); kAk = HMAC(ktime, AK); kdate = HMAC(kAk, yyyymmdd) */
	if (!rc)
		rc = ctyun_hmac((const uint8_t *)p->secret_key, strlen(p->secret_key), date,
				strlen(date), k);
	if (!rc)
		rc = ctyun_hmac(k, sizeof(k), p->access_key, strlen(p->access_key), k);
	if (!rc)
		rc = ctyun_hmac(k, sizeof(k), date, 8, k);
	if (!rc)
		rc = ctyun_hmac(k, sizeof(k), sts.p, sts.len, mac);
	if (!rc)
		rc = crypto_base64(mac, sizeof(mac), &sig);
	if (!rc)
		rc = buf_printf(&auth, "%s Headers=" CTYUN_REQUEST_ID ";eop-date Signature=%s",
				p->access_key, buf_str(&sig));
	if (!rc)
		rc = http_req_add_header(rq, "Eop-date", date);
	if (!rc)
		rc = http_req_add_header(rq, "Eop-Authorization", buf_str(&auth));

	crypto_wipe(k, sizeof(k));
	buf_release(&sts);
	buf_release(&sig);
	buf_release(&auth);
	if (rc == -ENOMEM)
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	if (rc)
		return gcf_error_set(err, GCF_CONFIG, "ctyun: signing failed");
	return 0;
}

/* ---- requests ----------------------------------------------------------- */

static int ctyun_build_page(const struct conn *c, const struct kind *k, const struct page_query *q,
			    struct http_req *rq, struct gcf_error *err)
{
	const struct ctyun_priv *p = c->priv;
	cJSON *root = NULL;
	unsigned size;
	int rc;

	rc = provider_page_check(k, q, &size, err);
	if (!rc)
		rc = provider_req_init(c, k, "POST", NULL, rq, err);
	if (rc)
		return rc;
	root = cJSON_CreateObject();
	if (!root || !cJSON_AddNumberToObject(root, "pageNo", (double)q->index + 1) ||
	    !cJSON_AddNumberToObject(root, "pageSize", size) ||
	    !cJSON_AddStringToObject(root, "regionID", p->region_id ? p->region_id : ""))
		return provider_req_nomem(rq, root, err);
	if (q->filter_name &&
	    !cJSON_AddStringToObject(root, q->filter_name, q->filter_value ? q->filter_value : ""))
		return provider_req_nomem(rq, root, err);
	if (provider_req_json(rq, root))
		return provider_req_nomem(rq, root, err);
	cJSON_Delete(root);
	return 0;
}

/* ---- replies ------------------------------------------------------------ */

/* Every cwai list reply: returnObj holds the kind's items, totalCount and
 * totalPage (the server's count for the page size it actually applied). */
static int ctyun_parse(const struct kind *k, const cJSON *reply, struct page *out,
		       struct gcf_error *err)
{
	int rc = provider_parse_items(reply, "returnObj", k, out, err);

	if (!rc)
		rc = provider_count(reply, "returnObj", "totalCount", &out->total, err);
	if (!rc)
		rc = provider_count(reply, "returnObj", "totalPage", &out->pages, err);
	return rc;
}

/* No official list of cwai/EOP codes (NOTES.md §7): judge by their words. */
static enum gcf_class ctyun_code_class(const char *code)
{
	if (!code)
		return GCF_SERVER;
	if (strcasestr(code, "auth") || strcasestr(code, "forbidden") ||
	    strcasestr(code, "signature") || strcasestr(code, "accesskey"))
		return GCF_AUTH;
	if (strcasestr(code, "notfound") || strcasestr(code, "notexist"))
		return GCF_NOTFOUND;
	if (strcasestr(code, "limit") || strcasestr(code, "throttl") || strcasestr(code, "toomany"))
		return GCF_THROTTLED;
	if (strcasestr(code, "badrequest") || strcasestr(code, "invalid") ||
	    strcasestr(code, "param"))
		return GCF_PARAM;
	return GCF_SERVER;
}

static int ctyun_reply_error(const struct http_resp *rs, const cJSON *body, struct gcf_error *err)
{
	const cJSON *sc = body ? cJSON_GetObjectItemCaseSensitive(body, "statusCode") : NULL;
	const char *code = NULL, *msg = NULL;
	long status = rs ? rs->status : 200;
	char scbuf[32] = "";
	bool ok = false;
	int rc;

	if (cJSON_IsNumber(sc)) {
		ok = sc->valuedouble == 800;
		snprintf(scbuf, sizeof(scbuf), "%.0f", sc->valuedouble);
	} else if (cJSON_IsString(sc)) {
		ok = strcmp(sc->valuestring, "800") == 0 || strcmp(sc->valuestring, "800.0") == 0;
	}
	if (body) {
		code = provider_json_text(body, "errorCode");
		if (!code)
			code = provider_json_text(body, "error");
		msg = provider_json_text(body, "message");
	}

	if (status < 200 || status > 299) {
		enum gcf_class cls = provider_status_class(status);

		if (cls == GCF_REPLY && code)
			cls = ctyun_code_class(code);
		rc = provider_http_error(err, cls, status, msg);
	} else if (!body) {
		rc = gcf_error_set(err, GCF_REPLY, "reply is not JSON");
	} else if (!sc || cJSON_IsNull(sc)) {
		rc = gcf_error_set(err, GCF_REPLY, "reply has no statusCode");
	} else if (ok) {
		return 0;
	} else {
		rc = gcf_error_set(err, ctyun_code_class(code), "%s", msg ? msg : "request failed");
		if (!code)
			code = cJSON_IsString(sc) ? sc->valuestring : scbuf;
	}
	return provider_reply_fail(err, rc, code, rs ? rs->request_id : NULL);
}

/* ---- the table ---------------------------------------------------------- */

enum { CTYUN_QUEUES, CTYUN_NKINDS };
static const struct kind ctyun_kinds[CTYUN_NKINDS + 1];

PROVIDER_PARSE_PAGE(ctyun_parse_queues, ctyun_parse, &ctyun_kinds[CTYUN_QUEUES])

static const char *const ctyun_mtime[] = {"createTime", NULL};
static const char *const ctyun_queue_filters[] = {"status", "name", NULL};
static const struct kind_json ctyun_queue_json[] = {
    {"quota.json", "queueQuota"},
    {NULL, NULL},
};

static const struct kind ctyun_kinds[CTYUN_NKINDS + 1] = {
    [CTYUN_QUEUES] =
	{
	    .dir = "queues",
	    .action = "queue-info-list",
	    /* the URI-section path, not the abridged example path (NOTES.md §1) */
	    .path = "/v4/cwai/central/task-service/queue/queue-info-list",
	    .items = "result",
	    .id_field = "queueID",
	    .mtime_fields = ctyun_mtime,
	    .mtime_utc_offset_s = 8 * 3600, /* createTime is Beijing wall-clock time */
	    .json_files = ctyun_queue_json,
	    .paging = PAGING_PAGENO,
	    /* Not documented (NOTES.md §7); sibling cwai APIs default to
	     * 10 per page. 100 is our choice: a common EOP ceiling, one
	     * call for most accounts. The reply's totalPage is the
	     * server's count for the size it actually applied. */
	    .page_max = 100,
	    /* Not documented; siblings say "1000" with no unit. 20/s is
	     * a conservative guess, as for the other clouds. */
	    .rate_per_sec = 20,
	    .filters = ctyun_queue_filters,
	    .build_page = ctyun_build_page,
	    .parse_page = ctyun_parse_queues,
	},
    [CTYUN_NKINDS] = {.dir = NULL},
};

const struct provider provider_ctyun = {
    .name = "ctyun",
    .default_endpoint = CTYUN_ENDPOINT,
    .key_table = ctyun_key_table,
    .sizeof_priv = sizeof(struct ctyun_priv),
    .configure = ctyun_configure,
    .finish = ctyun_finish,
    .sign = ctyun_sign,
    .reply_error = ctyun_reply_error,
    .release_priv = ctyun_release_priv,
    .kinds = ctyun_kinds,
};
