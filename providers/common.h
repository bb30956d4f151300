/*
 * common.h - what the cloud files share (providers/common.c); not seen by fs/.
 *
 * A cloud file is its signer, its reply_error and its kinds; the scaffolding
 * around them is here, once: the checks a build_page opens with, the request
 * line from the kind's path, a JSON body, the common shape of a list reply
 * (a container object holding the kind's array of objects), counts, JSON
 * strings, the HTTP status classes and the tail of reply_error.
 *
 * Every function that can fail returns 0 or a negative errno with err set,
 * as the provider hooks do.
 */
#ifndef GCF_PROVIDERS_COMMON_H
#define GCF_PROVIDERS_COMMON_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "gcf_error.h"
#include "http.h"
#include "provider.h"

/* ---- requests ----------------------------------------------------------- */

/* The checks every build_page opens with, from the kind's table row: a paged
 * kind's page size (q->size, 0 = k->page_max) is at most k->page_max and goes
 * to *size; a kind that does not page is asked for page 0 only (*size = 0);
 * a filter is one of k->filters. 0 or -EINVAL (GCF_CONFIG). */
int provider_page_check(const struct kind *k, const struct page_query *q, unsigned *size,
			struct gcf_error *err);

/* http_req_init for kind k: method, the connection's endpoint (or the
 * provider's default), k->path and query (NULL = none). 0, -EINVAL (a bad
 * endpoint, GCF_CONFIG) or -ENOMEM (GCF_NOMEM); rq is released on failure. */
int provider_req_init(const struct conn *c, const struct kind *k, const char *method,
		      const char *query, struct http_req *rq, struct gcf_error *err);

/* Makes root, unformatted, the body of rq, with Content-Type application/json.
 * 0 or -ENOMEM (err not touched: the caller's nomem path sets it). */
int provider_req_json(struct http_req *rq, const cJSON *root);

/* The out-of-memory exit of a build_page: deletes root (NULL ok), releases
 * rq and sets err. Returns -ENOMEM. */
int provider_req_nomem(struct http_req *rq, cJSON *root, struct gcf_error *err);

/* ---- replies ------------------------------------------------------------ */

/* The common shape of a list reply: reply[container] is an object (container
 * NULL: the reply itself must be one) that holds k->items, an array of
 * objects; an absent or null array is no items (out->items = NULL). Sets all
 * of *out: totals -1 (unknown) for a paged kind, the item count and 1 page for
 * a kind that does not page (one call returns everything). 0 or -EIO
 * (GCF_REPLY, the message names the path: "returnObj.result[2] is not an
 * object"). */
int provider_parse_items(const cJSON *reply, const char *container, const struct kind *k,
			 struct page *out, struct gcf_error *err);

/* reply[container][name] as a count: absent or null = -1; else a number in
 * 0..1e15. 0 or -EIO (GCF_REPLY "<container>.<name> is not a count"). */
int provider_count(const cJSON *reply, const char *container, const char *name, long *out,
		   struct gcf_error *err);

/* obj[name] when it is a JSON string (possibly empty), else NULL; obj NULL ok. */
const char *provider_json_str(const cJSON *obj, const char *name);
/* The same, NULL also for an empty string. */
const char *provider_json_text(const cJSON *obj, const char *name);

/* The class an HTTP status says by itself: 401/403 auth, 404 not found, 429
 * throttled, 5xx server; anything else GCF_REPLY (the caller may know more). */
enum gcf_class provider_status_class(long status);

/* reply_error for a non-2xx HTTP status: the cloud's message when it gave
 * one, else "unexpected HTTP status N". Returns the negative errno. */
int provider_http_error(struct gcf_error *err, enum gcf_class cls, long status, const char *msg);

/* The tail of every reply_error: stores the cloud's code and request ID
 * (either NULL ok) in err and returns rc, or -ENOMEM if they cannot be
 * stored. */
int provider_reply_fail(struct gcf_error *err, int rc, const char *code, const char *request_id);

/*
 * A kind's parse_page. fs/ calls parse_page with the reply alone (no kind),
 * so each kind's parse_page is this adapter, which hands the cloud's parser
 * (int parser(const struct kind *, const cJSON *, struct page *,
 * struct gcf_error *)) the kind's own table row, e.g.
 *   PROVIDER_PARSE_PAGE(ctyun_parse_queues, ctyun_parse, &ctyun_kinds[CTYUN_QUEUES])
 * The row, not the function, holds what differs (k->items).
 */
#define PROVIDER_PARSE_PAGE(name, parser, row)                                                     \
	static int name(const cJSON *reply, struct page *out, struct gcf_error *err)               \
	{                                                                                          \
		return parser(row, reply, out, err);                                               \
	}

#endif
