/*
 * common.c - the scaffolding the cloud files share (see common.h).
 */
#include "common.h"

#include <errno.h>
#include <stdlib.h>

#include "buf.h"

int provider_page_check(const struct kind *k, const struct page_query *q, unsigned *size,
			struct gcf_error *err)
{
	*size = 0;
	if (k->paging == PAGING_NONE) {
		if (q->index > 0)
			return gcf_error_set(err, GCF_CONFIG, "%s does not page", k->action);
	} else {
		*size = q->size ? q->size : k->page_max;
		if (*size > k->page_max)
			return gcf_error_set(err, GCF_CONFIG,
					     "page size %u over the limit %u of %s", *size,
					     k->page_max, k->action);
	}
	if (q->filter_name && !provider_in_list(k->filters, q->filter_name))
		return gcf_error_set(err, GCF_CONFIG, "%s cannot filter on '%s'", k->action,
				     q->filter_name);
	return 0;
}

int provider_req_init(const struct conn *c, const struct kind *k, const char *method,
		      const char *query, struct http_req *rq, struct gcf_error *err)
{
	int rc = http_req_init(rq, method, c->endpoint ? c->endpoint : c->prov->default_endpoint,
			       k->path, query);

	if (rc == -EINVAL)
		return gcf_error_set(err, GCF_CONFIG, "bad endpoint '%s'", c->endpoint);
	if (rc)
		return provider_req_nomem(rq, NULL, err);
	return 0;
}

int provider_req_json(struct http_req *rq, const cJSON *root)
{
	char *json = cJSON_PrintUnformatted(root);
	int rc = json ? buf_addstr(&rq->body, json) : -ENOMEM;

	if (!rc)
		rc = http_req_add_header(rq, "Content-Type", "application/json");
	free(json);
	return rc;
}

int provider_req_nomem(struct http_req *rq, cJSON *root, struct gcf_error *err)
{
	cJSON_Delete(root);
	http_req_release(rq);
	return gcf_error_set(err, GCF_NOMEM, "out of memory");
}

int provider_parse_items(const cJSON *reply, const char *container, const struct kind *k,
			 struct page *out, struct gcf_error *err)
{
	const char *dot = container ? "." : "", *where = container ? container : "";
	const cJSON *obj = reply, *items, *it;
	long n = 0;

	out->items = NULL;
	out->total = -1;
	out->pages = -1;
	if (container)
		obj = cJSON_GetObjectItemCaseSensitive(reply, container);
	if (!cJSON_IsObject(obj))
		return container
			   ? gcf_error_set(err, GCF_REPLY, "reply has no %s object", container)
			   : gcf_error_set(err, GCF_REPLY, "reply is not a JSON object");
	items = cJSON_GetObjectItemCaseSensitive(obj, k->items);
	if (items && !cJSON_IsNull(items)) {
		if (!cJSON_IsArray(items))
			return gcf_error_set(err, GCF_REPLY, "%s%s%s is not an array", where, dot,
					     k->items);
		cJSON_ArrayForEach(it, items)
		{
			if (!cJSON_IsObject(it))
				return gcf_error_set(err, GCF_REPLY, "%s%s%s[%ld] is not an object",
						     where, dot, k->items, n);
			n++;
		}
		out->items = items;
	}
	if (k->paging == PAGING_NONE) {
		out->total = n;
		out->pages = 1;
	}
	return 0;
}

int provider_count(const cJSON *reply, const char *container, const char *name, long *out,
		   struct gcf_error *err)
{
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(reply, container);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = -1;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15)
		return gcf_error_set(err, GCF_REPLY, "%s.%s is not a count", container, name);
	*out = (long)v->valuedouble;
	return 0;
}

const char *provider_json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *provider_json_text(const cJSON *obj, const char *name)
{
	const char *s = provider_json_str(obj, name);

	return s && *s ? s : NULL;
}

enum gcf_class provider_status_class(long status)
{
	if (status == 401 || status == 403)
		return GCF_AUTH;
	if (status == 404)
		return GCF_NOTFOUND;
	if (status == 429)
		return GCF_THROTTLED;
	if (status >= 500 && status <= 599)
		return GCF_SERVER;
	return GCF_REPLY;
}

int provider_http_error(struct gcf_error *err, enum gcf_class cls, long status, const char *msg)
{
	return msg ? gcf_error_set(err, cls, "%s", msg)
		   : gcf_error_set(err, cls, "unexpected HTTP status %ld", status);
}

int provider_reply_fail(struct gcf_error *err, int rc, const char *code, const char *request_id)
{
	if (gcf_error_set_code(err, code) || gcf_error_set_request_id(err, request_id))
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	return rc;
}
