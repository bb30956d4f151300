/*
 * fake_provider.h - a fake cloud for unit tests of the engine (fs/fetch.c).
 *
 * fake_provider is a provider table with two kinds over one in-memory list:
 *   things  (ListThings, id "Id", offset paging, page_max 50): the reply has
 *           "total" unless the cloud omits it;
 *   pthings (ListPagedThings, page-number paging): the reply has "pages".
 * build_page puts "offset=O&limit=L" in the query; fake_cloud_perform (a
 * struct fetch_io perform) answers it from fc->objects:
 *   {"items":[...], "total":N, "pages":P}
 * or, for the page numbered fail_page, HTTP 429 with
 *   {"error":{"code":...,"message":...,"request_id":"req-<page>"}}
 * and, for garbage_page, a body that is not JSON. A hook runs before each
 * reply under the cloud's mutex, so a test can change the listing while it
 * is being paged. Thread-safe: the pager may call perform from many threads.
 *
 * Header-only; every function is static. Ownership: fake_cloud_init makes
 * fc->objects, fake_cloud_release frees it.
 */
#ifndef GCF_TEST_FAKE_PROVIDER_H
#define GCF_TEST_FAKE_PROVIDER_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "gcf_error.h"
#include "http.h"
#include "provider.h"

#define FAKE_MAX_PAGES 256

struct fake_cloud {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	cJSON *objects;                /* what the cloud lists, in order (owned) */
	unsigned requests;             /* requests answered */
	unsigned hits[FAKE_MAX_PAGES]; /* requests per page index */
	bool omit_total;               /* reply without "total" (and "pages") */
	int fail_page;                 /* page answered with an error; -1 = none */
	const char *fail_code;         /* its error code ("Throttling", "AuthFailure"...) */
	int garbage_page;              /* page answered with a body that is not JSON; -1 = none */
	/* Called under mu before each reply; reqno counts from 1. */
	void (*hook)(struct fake_cloud *fc, unsigned reqno, unsigned page);
	/* Overlap check: the first request for a page > 0 waits (bounded) until
	 * another request is in flight, proving requests run concurrently. */
	bool want_overlap;
	unsigned in_flight, max_in_flight;
};

/* An object {"Id":"obj-NNNN","Seq":i,"Status":"RUNNING"}. */
static inline cJSON *fake_object(const char *id, int seq)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddStringToObject(o, "Id", id) ||
	    !cJSON_AddNumberToObject(o, "Seq", seq) ||
	    !cJSON_AddStringToObject(o, "Status", "RUNNING")) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static inline cJSON *fake_object_n(int i)
{
	char id[32];

	snprintf(id, sizeof(id), "obj-%04d", i);
	return fake_object(id, i);
}

/* A cloud listing n objects obj-0000 .. obj-(n-1). 0 or -ENOMEM. */
static inline int fake_cloud_init(struct fake_cloud *fc, int n)
{
	memset(fc, 0, sizeof(*fc));
	pthread_mutex_init(&fc->mu, NULL);
	pthread_cond_init(&fc->cv, NULL);
	fc->fail_page = -1;
	fc->garbage_page = -1;
	fc->fail_code = "Throttling";
	fc->objects = cJSON_CreateArray();
	if (!fc->objects)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		cJSON *o = fake_object_n(i);

		if (!o || !cJSON_AddItemToArray(fc->objects, o))
			return -ENOMEM;
	}
	return 0;
}

static inline void fake_cloud_release(struct fake_cloud *fc)
{
	cJSON_Delete(fc->objects);
	fc->objects = NULL;
	pthread_cond_destroy(&fc->cv);
	pthread_mutex_destroy(&fc->mu);
}

static inline unsigned fake_cloud_requests(struct fake_cloud *fc)
{
	unsigned n;

	pthread_mutex_lock(&fc->mu);
	n = fc->requests;
	pthread_mutex_unlock(&fc->mu);
	return n;
}

/* ---- the provider side ---------------------------------------------- */

static inline int fake_build_page(const struct conn *c, const struct kind *k,
				  const struct page_query *q, struct http_req *rq,
				  struct gcf_error *err)
{
	char query[64];

	snprintf(query, sizeof(query), "offset=%u&limit=%u", q->index * q->size, q->size);
	if (http_req_init(rq, "GET", c->endpoint, "/things", query))
		return gcf_error_set(err, GCF_CONFIG, "bad endpoint '%s'", c->endpoint);
	return 0;
}

static inline int fake_sign(const struct conn *c, struct http_req *rq, time_t now,
			    struct gcf_error *err)
{
	if (http_req_add_header(rq, "Authorization", "Fake signed"))
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	return 0;
}

/* Lenient about a body that is not JSON, so that the pager's own check is
 * what catches it. */
static inline int fake_reply_error(const struct http_resp *rs, const cJSON *body,
				   struct gcf_error *err)
{
	const cJSON *e = body ? cJSON_GetObjectItemCaseSensitive(body, "error") : NULL;
	const char *code, *rid;
	enum gcf_class cls = GCF_SERVER;

	if (!cJSON_IsObject(e))
		return rs->status == 200 ? 0
					 : gcf_error_set(err, GCF_SERVER, "HTTP %ld", rs->status);
	code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
	rid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "request_id"));
	if (code && !strncmp(code, "Auth", 4))
		cls = GCF_AUTH;
	else if (code && !strcmp(code, "Throttling"))
		cls = GCF_THROTTLED;
	gcf_error_set_code(err, code);
	gcf_error_set_request_id(err, rid);
	return gcf_error_set(err, cls, "%s",
			     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message")));
}

static inline int fake_parse_page(const cJSON *reply, struct page *out, struct gcf_error *err)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(reply, "items");
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(reply, "total");
	const cJSON *pages = cJSON_GetObjectItemCaseSensitive(reply, "pages");

	if (!cJSON_IsArray(items))
		return gcf_error_set(err, GCF_REPLY, "reply has no items");
	out->items = items;
	out->total = cJSON_IsNumber(total) ? (long)total->valuedouble : -1;
	out->pages = cJSON_IsNumber(pages) ? (long)pages->valuedouble : -1;
	return 0;
}

static const struct kind fake_kinds[] = {
    {
	.dir = "things",
	.action = "ListThings",
	.id_field = "Id",
	.paging = PAGING_OFFSET,
	.page_max = 50,
	.rate_per_sec = 20,
	.build_page = fake_build_page,
	.parse_page = fake_parse_page,
    },
    {
	.dir = "pthings",
	.action = "ListPagedThings",
	.id_field = "Id",
	.paging = PAGING_PAGENO,
	.page_max = 50,
	.rate_per_sec = 20,
	.build_page = fake_build_page,
	.parse_page = fake_parse_page,
    },
    {.dir = NULL},
};

static const struct provider fake_provider = {
    .name = "fake",
    .default_endpoint = "http://cloud.invalid",
    .sign = fake_sign,
    .reply_error = fake_reply_error,
    .kinds = fake_kinds,
};

/* A connection "fake" of prov at endpoint with the daemon tests' settings
 * (ttl 60 s, timeout 10 s, concurrency 2, stale_if_error 600 s,
 * refresh_wait 2 s); the caller changes what its test needs. NULL when out
 * of memory. Freed by the daemon that takes it (config_conn_free). */
static inline struct conn *fake_conn_new(const struct provider *prov, const char *endpoint)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->prov = prov;
	c->name = strdup("fake");
	c->endpoint = strdup(endpoint);
	c->ttl_s = 60;
	c->timeout_s = 10;
	c->connect_timeout_s = 5;
	c->concurrency = 2;
	c->stale_if_error_s = 600;
	c->refresh_wait_s = 2;
	if (!c->name || !c->endpoint) {
		free(c->name);
		free(c->endpoint);
		free(c);
		return NULL;
	}
	return c;
}

/* ---- the cloud side: a struct fetch_io perform ----------------------- */

/* Waits (mu held, bounded by 5 s) until another request has been in flight
 * at the same time as this one. */
static inline void fake_wait_overlap(struct fake_cloud *fc)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	while (fc->max_in_flight < 2)
		if (pthread_cond_timedwait(&fc->cv, &fc->mu, &ts) == ETIMEDOUT)
			break;
}

static inline int fake_cloud_perform(void *ctx, const struct http_req *rq, struct http_resp *rs,
				     uint64_t deadline_ns, struct gcf_error *err)
{
	struct fake_cloud *fc = ctx;
	unsigned offset = 0, limit = 0, page, reqno;
	cJSON *reply = NULL, *items;
	char *text = NULL;
	int n, rc = 0;

	if (sscanf(rq->query, "offset=%u&limit=%u", &offset, &limit) != 2 || !limit ||
	    !http_req_header(rq, "Authorization"))
		return gcf_error_set(err, GCF_TRANSPORT, "fake cloud: bad request '%s'", rq->query);
	page = offset / limit;

	pthread_mutex_lock(&fc->mu);
	reqno = ++fc->requests;
	if (page < FAKE_MAX_PAGES)
		fc->hits[page]++;
	fc->in_flight++;
	if (fc->in_flight > fc->max_in_flight)
		fc->max_in_flight = fc->in_flight;
	pthread_cond_broadcast(&fc->cv);
	if (fc->want_overlap && page > 0 && fc->max_in_flight < 2)
		fake_wait_overlap(fc);
	if (fc->hook)
		fc->hook(fc, reqno, page);
	rs->status = 200;
	if ((int)page == fc->garbage_page) {
		rc = buf_addstr(&rs->body, "<html>502 Bad Gateway</html>");
	} else if ((int)page == fc->fail_page) {
		char rid[32];

		snprintf(rid, sizeof(rid), "req-%u", page);
		rs->status = 429;
		reply = cJSON_CreateObject();
		items = cJSON_AddObjectToObject(reply, "error");
		cJSON_AddStringToObject(items, "code", fc->fail_code);
		cJSON_AddStringToObject(items, "message", "the fake cloud says no");
		cJSON_AddStringToObject(items, "request_id", rid);
	} else {
		n = cJSON_GetArraySize(fc->objects);
		reply = cJSON_CreateObject();
		items = cJSON_AddArrayToObject(reply, "items");
		for (int i = (int)offset; i < n && i < (int)(offset + limit); i++)
			cJSON_AddItemToArray(
			    items, cJSON_Duplicate(cJSON_GetArrayItem(fc->objects, i), 1));
		if (!fc->omit_total) {
			cJSON_AddNumberToObject(reply, "total", n);
			cJSON_AddNumberToObject(reply, "pages", (n + limit - 1) / limit);
		}
	}
	fc->in_flight--;
	pthread_mutex_unlock(&fc->mu);

	if (reply) {
		text = cJSON_PrintUnformatted(reply);
		rc = text ? buf_addstr(&rs->body, text) : -ENOMEM;
	}
	cJSON_free(text);
	cJSON_Delete(reply);
	if (rc)
		return gcf_error_set(err, GCF_NOMEM, "fake cloud: out of memory");
	return 0;
}

#endif
