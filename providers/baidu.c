/*
 * baidu.c - Baidu Qianfan console v2: DescribeComputeUnits.
 *
 * Signs with bce-auth-v1 (api-docs/NOTES.md §2): the signing key is the
 * HEX TEXT of HMAC(SK, "bce-auth-v1/AK/timestamp/1800"); the canonical
 * request covers method, path, query and the headers content-length,
 * content-type, host (with its port) and x-bce-date, each value
 * percent-encoded; the body itself is not hashed. One call lists every
 * compute unit (no paging). Errors are real HTTP statuses with a
 * {requestId, code, message} body.
 *
 * Exports only provider_baidu; everything else is static.
 */
#include <ctype.h>
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

#define BAIDU_ENDPOINT     "https://qianfan.baidubce.com"
#define BAIDU_EXPIRATION_S 1800

struct baidu_priv {
	char *access_key;
	char *secret_key;
	char *region; /* optional body filters */
	char *payment_timing;
	char *type;
};

static const struct provider_key baidu_key_table[] = {
    {"access_key", offsetof(struct baidu_priv, access_key), "QIANFAN_ACCESS_KEY", .required = true},
    {"secret_key", offsetof(struct baidu_priv, secret_key), "QIANFAN_SECRET_KEY", .required = true,
     .secret = true},
    {"region", offsetof(struct baidu_priv, region), NULL, .required = false},
    {"payment_timing", offsetof(struct baidu_priv, payment_timing), NULL, .required = false},
    {"type", offsetof(struct baidu_priv, type), NULL, .required = false},
    {NULL},
};

/* ---- configuration ------------------------------------------------------ */

static int baidu_configure(struct conn *c, const char *key, const char *val, struct gcf_error *err)
{
	return provider_keys_configure(baidu_key_table, "baidu", c->priv, key, val, err);
}

static int baidu_finish(struct conn *c, struct gcf_error *err)
{
	return provider_keys_finish(baidu_key_table, c->priv, err);
}

static void baidu_release_priv(void *priv)
{
	provider_keys_release(baidu_key_table, priv, sizeof(struct baidu_priv));
}

/* ---- signing: bce-auth-v1 ----------------------------------------------- */

static int baidu_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Appends s[0..n) percent-decoded, then RFC 3986-encoded. */
static int baidu_reencode(const char *s, size_t n, struct buf *out)
{
	struct buf raw = BUF_INIT(BUF_NOLIMIT);
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n && (hi = baidu_hexval(s[i + 1])) >= 0 &&
		    (lo = baidu_hexval(s[i + 2])) >= 0) {
			rc = buf_addch(&raw, (char)(hi << 4 | lo));
			i += 2;
		} else {
			rc = buf_addch(&raw, s[i]);
		}
	}
	if (!rc)
		rc = crypto_uri_encode(buf_str(&raw), 0, out);
	buf_release(&raw);
	return rc;
}

static int baidu_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* CanonicalQuery: k=v pairs re-encoded, authorization left out, sorted. */
static int baidu_canon_query(const char *query, struct buf *out)
{
	char **pairs = NULL;
	size_t n = 0, i;
	int rc = 0;
	const char *p = query ? query : "";

	while (*p && !rc) {
		size_t len = strcspn(p, "&"), klen = strcspn(p, "=");
		struct buf one = BUF_INIT(BUF_NOLIMIT);
		char **t;

		if (klen > len)
			klen = len;
		if (len && !(klen == 13 && strncasecmp(p, "authorization", 13) == 0)) {
			rc = baidu_reencode(p, klen, &one);
			if (!rc)
				rc = buf_addch(&one, '=');
			if (!rc && klen < len)
				rc = baidu_reencode(p + klen + 1, len - klen - 1, &one);
			if (!rc) {
				t = realloc(pairs, (n + 1) * sizeof(*pairs));
				if (!t)
					rc = -ENOMEM;
				else
					pairs = t;
			}
			if (!rc) {
				pairs[n] = buf_detach(&one, NULL);
				if (!pairs[n])
					rc = -ENOMEM;
				else
					n++;
			}
		}
		buf_release(&one);
		p += len;
		if (*p == '&')
			p++;
	}
	if (!rc && n)
		qsort(pairs, n, sizeof(*pairs), baidu_cmp);
	for (i = 0; i < n; i++) {
		if (!rc && i)
			rc = buf_addch(out, '&');
		if (!rc)
			rc = buf_addstr(out, pairs[i]);
		free(pairs[i]);
	}
	free(pairs);
	return rc;
}

/* Appends "\nname:" + encoded trimmed value (names arrive sorted). */
static int baidu_canon_header(struct buf *canon, struct buf *names, const char *name,
			      const char *value)
{
	struct buf v = BUF_INIT(BUF_NOLIMIT);
	size_t n;
	int rc = 0;

	while (*value == ' ' || *value == '\t')
		value++;
	n = strlen(value);
	while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
		n--;
	if (!n)
		return 0; /* empty values are not signed */
	rc = buf_add(&v, value, n);
	if (!rc)
		rc = buf_printf(canon, "\n%s:", name);
	if (!rc)
		rc = crypto_uri_encode(buf_str(&v), 0, canon);
	if (!rc && names->len)
		rc = buf_addch(names, ';');
	if (!rc)
		rc = buf_addstr(names, name);
	buf_release(&v);
	return rc;
}

static int baidu_sign(const struct conn *c, struct http_req *rq, time_t now, struct gcf_error *err)
{
	const struct baidu_priv *p = c->priv;
	struct buf canon = BUF_INIT(BUF_NOLIMIT), names = BUF_INIT(BUF_NOLIMIT);
	struct buf prefix = BUF_INIT(BUF_NOLIMIT), auth = BUF_INIT(BUF_NOLIMIT);
	uint8_t mac[SHA256_LEN];
	char ts[32], key_hex[65], sig_hex[65], clen[32];
	const char *ctype = http_req_header(rq, "Content-Type"), *date;
	bool has_body = strcmp(rq->method, "GET") != 0;
	int rc;

	if (!clock_format_utc(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", now))
		return gcf_error_set(err, GCF_CONFIG, "baidu: cannot format the date of %lld",
				     (long long)now);
	snprintf(clen, sizeof(clen), "%zu", rq->body.len);

	/* The headers we sign must be the ones sent. A caller's x-bce-date is
	 * kept and signed as is (the SDK's may be a second off the auth
	 * timestamp, NOTES.md §2.8). */
	date = http_req_header(rq, "x-bce-date");
	rc = date ? 0 : http_req_add_header(rq, "x-bce-date", ts);
	if (!rc)
		date = http_req_header(rq, "x-bce-date");
	if (!rc && has_body && !http_req_header(rq, "Content-Length"))
		rc = http_req_add_header(rq, "Content-Length", clen);

	if (!rc)
		rc = buf_printf(&canon, "%s\n", rq->method);
	if (!rc)
		rc = crypto_uri_encode(rq->path, 1, &canon);
	if (!rc)
		rc = buf_addch(&canon, '\n');
	if (!rc)
		rc = baidu_canon_query(rq->query, &canon);
	/* content-length < content-type < host < x-bce-date */
	if (!rc && has_body)
		rc = baidu_canon_header(&canon, &names, "content-length",
					http_req_header(rq, "Content-Length"));
	if (!rc && ctype)
		rc = baidu_canon_header(&canon, &names, "content-type", ctype);
	if (!rc)
		rc = baidu_canon_header(&canon, &names, "host", rq->host);
	if (!rc)
		rc = baidu_canon_header(&canon, &names, "x-bce-date", date);

	if (!rc)
		rc = buf_printf(&prefix, "bce-auth-v1/%s/%s/%d", p->access_key, ts,
				BAIDU_EXPIRATION_S);
	if (!rc)
		rc = crypto_hmac_sha256(p->secret_key, strlen(p->secret_key), prefix.p, prefix.len,
					mac);
	if (!rc) {
		crypto_hex(mac, sizeof(mac), key_hex);
		/* the key of the second HMAC is the hex text, not the bytes */
		rc = crypto_hmac_sha256(key_hex, 64, canon.p, canon.len, mac);
	}
	if (!rc) {
		crypto_hex(mac, sizeof(mac), sig_hex);
		rc = buf_printf(&auth, "%s/%s/%s", buf_str(&prefix), buf_str(&names), sig_hex);
	}
	if (!rc)
		rc = http_req_add_header(rq, "Authorization", buf_str(&auth));

	crypto_wipe(key_hex, sizeof(key_hex));
	crypto_wipe(mac, sizeof(mac));
	buf_release(&canon);
	buf_release(&names);
	buf_release(&prefix);
	buf_release(&auth);
	if (rc == -ENOMEM)
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	if (rc)
		return gcf_error_set(err, GCF_CONFIG, "baidu: signing failed");
	return 0;
}

/* ---- requests ----------------------------------------------------------- */

static int baidu_build_page(const struct conn *c, const struct kind *k, const struct page_query *q,
			    struct http_req *rq, struct gcf_error *err)
{
	const struct baidu_priv *p = c->priv;
	const char *names[] = {"region", "paymentTiming", "type"};
	const char *vals[] = {p->region, p->payment_timing, p->type};
	struct buf query = BUF_INIT(BUF_NOLIMIT);
	cJSON *root = NULL;
	unsigned size;
	int rc;

	rc = provider_page_check(k, q, &size, err);
	if (rc)
		return rc;
	/* the console v2 API names its action in the query */
	if (buf_printf(&query, "Action=%s", k->action))
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	rc = provider_req_init(c, k, "POST", buf_str(&query), rq, err);
	buf_release(&query);
	if (rc)
		return rc;
	root = cJSON_CreateObject();
	if (!root)
		return provider_req_nomem(rq, root, err);
	for (size_t i = 0; i < 3; i++) {
		const char *v = vals[i];

		if (q->filter_name && strcmp(q->filter_name, names[i]) == 0)
			v = q->filter_value ? q->filter_value : "";
		if (v && *v && !cJSON_AddStringToObject(root, names[i], v))
			return provider_req_nomem(rq, root, err);
	}
	rc = provider_req_json(rq, root);
	if (!rc)
		rc = http_req_add_header(rq, "Accept", "application/json");
	if (rc)
		return provider_req_nomem(rq, root, err);
	cJSON_Delete(root);
	return 0;
}

/* ---- replies ------------------------------------------------------------ */

static const char *const baidu_auth_codes[] = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "InvalidHTTPAuthHeader",
    "SignatureDoesNotMatch",
    "RequestExpired",
    "InvalidSessionToken",
    NULL,
};

static enum gcf_class baidu_class(long status, const char *code)
{
	enum gcf_class cls = provider_status_class(status);

	if (code && provider_in_list(baidu_auth_codes, code))
		return GCF_AUTH;
	if (cls == GCF_AUTH || cls == GCF_NOTFOUND)
		return cls;
	if (code && strstr(code, "NotFound"))
		return GCF_NOTFOUND;
	if (cls == GCF_THROTTLED || (code && strstr(code, "Throttl")))
		return GCF_THROTTLED;
	if (cls == GCF_SERVER)
		return cls;
	if (status == 400)
		return GCF_PARAM;
	if (status >= 200 && status <= 299)
		return code && (strstr(code, "Invalid") || strstr(code, "Parameter") ||
				strstr(code, "Malformed"))
			   ? GCF_PARAM
			   : GCF_SERVER;
	return GCF_REPLY;
}

static int baidu_reply_error(const struct http_resp *rs, const cJSON *body, struct gcf_error *err)
{
	long status = rs ? rs->status : 200;
	const char *code = provider_json_text(body, "code");
	const char *msg = provider_json_text(body, "message");
	const char *rid = provider_json_text(body, "requestId");
	int rc;

	if (!rid && rs)
		rid = rs->request_id;
	if (status < 200 || status > 299) {
		rc = provider_http_error(err, baidu_class(status, code), status, msg);
	} else if (!body) {
		rc = gcf_error_set(err, GCF_REPLY, "reply is not JSON");
	} else if (code && !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(body, "result"))) {
		/* an error envelope that came with a 2xx status */
		rc = gcf_error_set(err, baidu_class(status, code), "%s", msg ? msg : code);
	} else {
		return 0;
	}
	return provider_reply_fail(err, rc, code, rid);
}

/* ---- the table ---------------------------------------------------------- */

enum { BAIDU_COMPUTEUNITS, BAIDU_NKINDS };
static const struct kind baidu_kinds[BAIDU_NKINDS + 1];

/* A Qianfan console reply: result holds the kind's items (one call, no paging). */
static int baidu_parse(const struct kind *k, const cJSON *reply, struct page *out,
		       struct gcf_error *err)
{
	return provider_parse_items(reply, "result", k, out, err);
}

PROVIDER_PARSE_PAGE(baidu_parse_units, baidu_parse, &baidu_kinds[BAIDU_COMPUTEUNITS])

static const char *const baidu_mtime[] = {"startTime", NULL};
static const char *const baidu_filters[] = {"region", "paymentTiming", "type", NULL};

static const struct kind baidu_kinds[BAIDU_NKINDS + 1] = {
    [BAIDU_COMPUTEUNITS] =
	{
	    .dir = "computeunits",
	    .action = "DescribeComputeUnits",
	    .path = "/v2/computeunit",
	    .items = "computeUnitInstanceList",
	    .id_field = "instanceId",
	    .mtime_fields = baidu_mtime,
	    .json_files = NULL,
	    .paging = PAGING_NONE,
	    .page_max = 0,     /* no paging: one call returns the whole list */
	    .rate_per_sec = 0, /* not documented */
	    .filters = baidu_filters,
	    .build_page = baidu_build_page,
	    .parse_page = baidu_parse_units,
	},
    [BAIDU_NKINDS] = {.dir = NULL},
};

const struct provider provider_baidu = {
    .name = "baidu",
    .default_endpoint = BAIDU_ENDPOINT,
    .key_table = baidu_key_table,
    .sizeof_priv = sizeof(struct baidu_priv),
    .configure = baidu_configure,
    .finish = baidu_finish,
    .sign = baidu_sign,
    .reply_error = baidu_reply_error,
    .release_priv = baidu_release_priv,
    .kinds = baidu_kinds,
};
