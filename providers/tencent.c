/*
 * tencent.c - Tencent Cloud TI-ONE (API 3.0, version 2021-11-11).
 *
 * Signs with TC3-HMAC-SHA256 (api-docs/NOTES.md §4-5) and lists training
 * tasks (DescribeTrainingTasks) and model service groups
 * (DescribeModelServiceGroups), paged by Offset/Limit in UpdateTime DESC
 * order (most recently updated first: what an incremental refresh reads,
 * fs/incremental.h). Errors arrive with HTTP 200 inside Response.Error.
 *
 * Exports only provider_tencent; everything else is static.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "clock.h"
#include "common.h"
#include "crypto.h"
#include "gcf_error.h"
#include "http.h"
#include "provider.h"

#define TENCENT_SERVICE   "tione"
#define TENCENT_VERSION   "2021-11-11"
#define TENCENT_ALGORITHM "TC3-HMAC-SHA256"
#define TENCENT_ENDPOINT  "https://tione.tencentcloudapi.com"

struct tencent_priv {
	char *secret_id;
	char *secret_key;
	char *region;
	char *token;
};

static const struct provider_key tencent_key_table[] = {
    {"secret_id", offsetof(struct tencent_priv, secret_id), "TENCENTCLOUD_SECRET_ID",
     .required = true},
    {"secret_key", offsetof(struct tencent_priv, secret_key), "TENCENTCLOUD_SECRET_KEY",
     .required = true, .secret = true},
    {"region", offsetof(struct tencent_priv, region), "TENCENTCLOUD_REGION", .required = true,
     .missing =
	 ", e.g. 'region = ap-guangzhou' (TI-ONE needs X-TC-Region; or set TENCENTCLOUD_REGION)"},
    {"token", offsetof(struct tencent_priv, token), NULL, .secret = true},
    {NULL},
};

/* ---- configuration ------------------------------------------------------ */

static int tencent_configure(struct conn *c, const char *key, const char *val,
			     struct gcf_error *err)
{
	return provider_keys_configure(tencent_key_table, "tencent", c->priv, key, val, err);
}

static int tencent_finish(struct conn *c, struct gcf_error *err)
{
	return provider_keys_finish(tencent_key_table, c->priv, err);
}

static void tencent_release_priv(void *priv)
{
	provider_keys_release(tencent_key_table, priv, sizeof(struct tencent_priv));
}

/* ---- signing: TC3-HMAC-SHA256 ------------------------------------------- */

/* Appends s lowercased with leading and trailing blanks removed. */
static int tencent_add_canon(struct buf *b, const char *s)
{
	size_t n;
	int rc = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n && !rc; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		rc = buf_addch(b, ch);
	}
	return rc;
}

static int tencent_hmac(const uint8_t *key, size_t keylen, const char *msg, uint8_t out[SHA256_LEN])
{
	return crypto_hmac_sha256(key, keylen, msg, strlen(msg), out);
}

static int tencent_sign(const struct conn *c, struct http_req *rq, time_t now,
			struct gcf_error *err)
{
	const struct tencent_priv *p = c->priv;
	struct buf canon = BUF_INIT(BUF_NOLIMIT), sts = BUF_INIT(BUF_NOLIMIT);
	struct buf kbuf = BUF_INIT(BUF_NOLIMIT), auth = BUF_INIT(BUF_NOLIMIT);
	uint8_t k[SHA256_LEN], sig[SHA256_LEN];
	char body_hex[65], canon_hex[65], sig_hex[65], date[16], ts[32];
	const char *ctype;
	int rc;

	ctype = http_req_header(rq, "Content-Type");
	if (!ctype)
		return gcf_error_set(err, GCF_CONFIG,
				     "tencent: request has no content-type to sign");
	if (!clock_format_utc(date, sizeof(date), "%Y-%m-%d", now))
		return gcf_error_set(err, GCF_CONFIG, "tencent: cannot format the date of %lld",
				     (long long)now);
	snprintf(ts, sizeof(ts), "%lld", (long long)now);

	/* CanonicalRequest; the Node SDK signs the host without the port */
	rc = crypto_sha256_hex(rq->body.p, rq->body.len, body_hex);
	if (!rc)
		rc = buf_printf(&canon, "%s\n%s\n%s\ncontent-type:", rq->method, rq->path,
				rq->query ? rq->query : "");
	if (!rc)
		rc = tencent_add_canon(&canon, ctype);
	if (!rc)
		rc = buf_addstr(&canon, "\nhost:");
	if (!rc)
		rc = tencent_add_canon(&canon, rq->hostname);
	if (!rc)
		rc = buf_printf(&canon, "\n\ncontent-type;host\n%s", body_hex);
	if (!rc)
		rc = crypto_sha256_hex(canon.p, canon.len, canon_hex);
	/* StringToSign */
	if (!rc)
		rc = buf_printf(&sts,
				TENCENT_ALGORITHM "\n%s\n%s/" TENCENT_SERVICE "/tc3_request\n%s",
				ts, date, canon_hex);
	/* kDate, kService, kSigning, Signature */
	if (!rc)
		rc = buf_printf(&kbuf, "TC3%s", p->secret_key);
	if (!rc)
		rc = crypto_hmac_sha256(kbuf.p, kbuf.len, date, strlen(date), k);
	if (!rc)
		rc = tencent_hmac(k, sizeof(k), TENCENT_SERVICE, k);
	if (!rc)
		rc = tencent_hmac(k, sizeof(k), "tc3_request", k);
	if (!rc)
		rc = crypto_hmac_sha256(k, sizeof(k), sts.p, sts.len, sig);
	if (!rc) {
		crypto_hex(sig, sizeof(sig), sig_hex);
		rc = buf_printf(&auth,
				TENCENT_ALGORITHM " Credential=%s/%s/" TENCENT_SERVICE
						  "/tc3_request, SignedHeaders=content-type;host, "
						  "Signature=%s",
				p->secret_id, date, sig_hex);
	}
	if (!rc)
		rc = http_req_add_header(rq, "X-TC-Timestamp", ts);
	if (!rc)
		rc = http_req_add_header(rq, "Authorization", buf_str(&auth));

	crypto_wipe(k, sizeof(k));
	if (kbuf.p)
		crypto_wipe(kbuf.p, kbuf.len);
	buf_release(&kbuf);
	buf_release(&canon);
	buf_release(&sts);
	buf_release(&auth);
	if (rc == -ENOMEM)
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	if (rc)
		return gcf_error_set(err, GCF_CONFIG, "tencent: signing failed");
	return 0;
}

/* ---- requests ----------------------------------------------------------- */

static int tencent_build_page(const struct conn *c, const struct kind *k,
			      const struct page_query *q, struct http_req *rq,
			      struct gcf_error *err)
{
	const struct tencent_priv *p = c->priv;
	cJSON *root = NULL, *filters, *f = NULL, *values;
	/* Full listings page in creation order, which an update does not
	 * reorder (in UpdateTime order an object updated while the pages are
	 * read jumps to page 0 and can be missed); incremental reads ask for
	 * the most recently updated first. */
	bool by_update = q->by_update && k->update_field;
	unsigned size;
	int rc;

	rc = provider_page_check(k, q, &size, err);
	if (!rc)
		rc = provider_req_init(c, k, "POST", NULL, rq, err);
	if (rc)
		return rc;
	root = cJSON_CreateObject();
	if (!root || !cJSON_AddNumberToObject(root, "Offset", (double)q->index * size) ||
	    !cJSON_AddNumberToObject(root, "Limit", size) ||
	    !cJSON_AddStringToObject(root, "OrderField",
				     by_update ? k->update_field : "CreateTime") ||
	    !cJSON_AddStringToObject(root, "Order", by_update ? "DESC" : "ASC"))
		goto nomem;
	if (q->filter_name) {
		filters = cJSON_AddArrayToObject(root, "Filters");
		f = cJSON_CreateObject();
		if (!filters || !f)
			goto nomem_f;
		cJSON_AddItemToArray(filters, f);
		if (!cJSON_AddStringToObject(f, "Name", q->filter_name))
			goto nomem;
		values = cJSON_AddArrayToObject(f, "Values");
		if (!values)
			goto nomem;
		/* filter_value NULL on the active filter: every active value */
		const char *const *many = !q->filter_value && k->active_filter &&
						  !strcmp(q->filter_name, k->active_filter)
					      ? k->active_values
					      : NULL;

		for (size_t i = 0; many ? many[i] != NULL : i < 1; i++) {
			const char *val = many ? many[i] : q->filter_value;
			cJSON *v = cJSON_CreateString(val ? val : "");

			if (!v)
				goto nomem;
			cJSON_AddItemToArray(values, v);
		}
	}
	rc = provider_req_json(rq, root);
	if (!rc)
		rc = http_req_add_header(rq, "X-TC-Action", k->action);
	if (!rc)
		rc = http_req_add_header(rq, "X-TC-Version", TENCENT_VERSION);
	if (!rc)
		rc = http_req_add_header(rq, "X-TC-Region", p->region ? p->region : "");
	if (!rc && p->token && *p->token)
		rc = http_req_add_header(rq, "X-TC-Token", p->token);
	if (rc)
		goto nomem;
	cJSON_Delete(root);
	return 0;

nomem_f:
	cJSON_Delete(f);
nomem:
	return provider_req_nomem(rq, root, err);
}

/* ---- replies ------------------------------------------------------------ */

/* Every TI-ONE list reply: Response holds the kind's items and TotalCount. */
static int tencent_parse(const struct kind *k, const cJSON *reply, struct page *out,
			 struct gcf_error *err)
{
	int rc = provider_parse_items(reply, "Response", k, out, err);

	if (!rc)
		rc = provider_count(reply, "Response", "TotalCount", &out->total, err);
	return rc;
}

static bool tencent_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The class of a Tencent API 3.0 error code (公共错误码). */
static enum gcf_class tencent_code_class(const char *code)
{
	if (tencent_prefix(code, "AuthFailure") || tencent_prefix(code, "UnauthorizedOperation"))
		return GCF_AUTH;
	if (tencent_prefix(code, "RequestLimitExceeded"))
		return GCF_THROTTLED;
	if (tencent_prefix(code, "ResourceNotFound"))
		return GCF_NOTFOUND;
	if (tencent_prefix(code, "InvalidParameter") || tencent_prefix(code, "MissingParameter") ||
	    tencent_prefix(code, "UnknownParameter") || tencent_prefix(code, "UnsupportedRegion") ||
	    tencent_prefix(code, "InvalidAction"))
		return GCF_PARAM;
	return GCF_SERVER;
}

static int tencent_reply_error(const struct http_resp *rs, const cJSON *body, struct gcf_error *err)
{
	const cJSON *resp = NULL, *e = NULL;
	const char *code = NULL, *msg = NULL, *rid = rs ? rs->request_id : NULL;
	long status = rs ? rs->status : 200;
	int rc;

	if (body) {
		resp = cJSON_GetObjectItemCaseSensitive(body, "Response");
		if (cJSON_IsObject(resp)) {
			e = cJSON_GetObjectItemCaseSensitive(resp, "Error");
			if (provider_json_str(resp, "RequestId"))
				rid = provider_json_str(resp, "RequestId");
		} else {
			resp = NULL;
		}
		if (cJSON_IsObject(e)) {
			code = provider_json_str(e, "Code");
			msg = provider_json_str(e, "Message");
		}
	}

	if (status != 200) {
		enum gcf_class cls = provider_status_class(status);

		rc = provider_http_error(err, cls, status, msg);
	} else if (!body) {
		rc = gcf_error_set(err, GCF_REPLY, "reply is not JSON");
	} else if (!resp) {
		rc = gcf_error_set(err, GCF_REPLY, "reply has no Response object");
	} else if (e && !cJSON_IsNull(e)) {
		if (!cJSON_IsObject(e) || !code)
			rc = gcf_error_set(err, GCF_REPLY, "Response.Error has no Code");
		else
			rc = gcf_error_set(err, tencent_code_class(code), "%s",
					   msg ? msg : "no message");
	} else {
		return 0;
	}
	return provider_reply_fail(err, rc, code, rid);
}

/* ---- the table ---------------------------------------------------------- */

enum { TENCENT_TASKS, TENCENT_SERVICES, TENCENT_NKINDS };
static const struct kind tencent_kinds[TENCENT_NKINDS + 1];

PROVIDER_PARSE_PAGE(tencent_parse_tasks, tencent_parse, &tencent_kinds[TENCENT_TASKS])
PROVIDER_PARSE_PAGE(tencent_parse_services, tencent_parse, &tencent_kinds[TENCENT_SERVICES])

static const char *const tencent_mtime[] = {"UpdateTime", "CreateTime", NULL};
static const char *const tencent_task_filters[] = {
    "Id", "Name", "Status", "ResourceGroupId", "Creator", "ChargeType", NULL,
};
/* Statuses in which fields change without UpdateTime moving: a running
 * (or stopping) task's RuntimeInSeconds and billing grow; a service group
 * that is up (or going up or down) changes its replica counts. A move
 * between statuses is an update and moves UpdateTime. */
static const char *const tencent_task_active[] = {"RUNNING", "STOPPING", NULL};
static const char *const tencent_service_active[] = {"Normal",   "Abnormal", "Waiting",
						     "Stopping", "Starting", NULL};
static const char *const tencent_service_filters[] = {
    "ServiceGroupId", "ServiceGroupName", "Status", "ClusterId", "CreatedBy", NULL,
};

static const struct kind tencent_kinds[TENCENT_NKINDS + 1] = {
    [TENCENT_TASKS] =
	{
	    .dir = "tasks",
	    .action = "DescribeTrainingTasks",
	    .path = "/",
	    .items = "TrainingTaskSet",
	    .id_field = "Id",
	    .mtime_fields = tencent_mtime,
	    .json_files = NULL,
	    .paging = PAGING_OFFSET,
	    .page_max = 50,
	    .rate_per_sec = 20,
	    .filters = tencent_task_filters,
	    .update_field = "UpdateTime",
	    .active_filter = "Status",
	    .active_values = tencent_task_active,
	    .build_page = tencent_build_page,
	    .parse_page = tencent_parse_tasks,
	},
    [TENCENT_SERVICES] =
	{
	    .dir = "services",
	    .action = "DescribeModelServiceGroups",
	    .path = "/",
	    .items = "ServiceGroups",
	    .id_field = "ServiceGroupId",
	    .mtime_fields = tencent_mtime,
	    .json_files = NULL,
	    .paging = PAGING_OFFSET,
	    .page_max = 100,
	    .rate_per_sec = 20,
	    .filters = tencent_service_filters,
	    .update_field = "UpdateTime",
	    .active_filter = "Status",
	    .active_values = tencent_service_active,
	    .build_page = tencent_build_page,
	    .parse_page = tencent_parse_services,
	},
    [TENCENT_NKINDS] = {.dir = NULL},
};

const struct provider provider_tencent = {
    .name = "tencent",
    .default_endpoint = TENCENT_ENDPOINT,
    .key_table = tencent_key_table,
    .sizeof_priv = sizeof(struct tencent_priv),
    .configure = tencent_configure,
    .finish = tencent_finish,
    .sign = tencent_sign,
    .reply_error = tencent_reply_error,
    .release_priv = tencent_release_priv,
    .kinds = tencent_kinds,
};
