/*
 * provider.h - THE SPINE: what fs/ knows of clouds.
 *
 * Each cloud is one `struct provider` table (providers/<cloud>.c exports
 * only that table), in the spirit of curl's `struct Curl_ssl`: a name, its
 * configuration keys, a signer, a reply-error decoder and a list of resource
 * kinds. A kind is one directory under a connection (tencent/tasks) backed by
 * one paginated list API. Adding an API is adding one `struct kind` entry
 * (its URL path and items key included); its build_page/parse_page are the
 * cloud's shared ones unless the API's request or reply differs. Nothing in
 * fs/ names a cloud; the clouds' shared scaffolding is providers/common.h.
 *
 * Ownership: tables are static and const. A `struct conn` is built by
 * fs/config.c; its `priv` block (secrets) belongs to the provider and is
 * released by prov->release_priv. Pointers handed to parse_page point into
 * the reply's cJSON tree, owned by the caller (fs/fetch.c).
 */
#ifndef GCF_PROVIDER_H
#define GCF_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "gcf_error.h"
#include "http.h"

struct conn;
struct provider_key;

/* How a list API pages. */
enum paging {
	PAGING_NONE,   /* one call returns everything */
	PAGING_OFFSET, /* Offset/Limit; the reply carries a total item count */
	PAGING_PAGENO, /* pageNo/pageSize (1-based on the wire); reply carries page count */
};

/* What one page of a list reply holds. Borrowed from the reply tree. */
struct page {
	const cJSON *items; /* the array of objects; NULL = no items (e.g. a null array) */
	long total;         /* total number of objects, -1 = unknown */
	long pages;         /* total number of pages, -1 = unknown */
};

/* Which page to ask for, and an optional server-side filter. */
struct page_query {
	unsigned index;           /* 0-based page index (PAGING_PAGENO sends index+1) */
	unsigned size;            /* page size, <= kind->page_max */
	const char *filter_name;  /* server-side filter (e.g. "Id", "Status"), or NULL */
	const char *filter_value; /* its value; NULL with filter_name = the kind's
				   * active_filter: any of the kind's active_values */
	bool by_update;           /* most recently updated first (kind->update_field
				   * DESC: incremental reads); otherwise the API's
				   * stable order (by creation), for full listings */
};

/* A field rendered as its own pretty-printed JSON file. */
struct kind_json {
	const char *file;  /* "quota.json" */
	const char *field; /* "queueQuota" */
};

struct kind {
	const char *dir;      /* "tasks": directory under the connection */
	const char *action;   /* "DescribeTrainingTasks": in logs, errors, status files (and,
			       * where the cloud takes it so, the action it sends) */
	const char *path;     /* URL path under the endpoint: "/", "/v2/computeunit" */
	const char *items;    /* key of the array of objects in the reply: "TrainingTaskSet" */
	const char *id_field; /* "Id": names the object's directory */
	const char *const *mtime_fields; /* tried in order ("UpdateTime", ...); NULL-terminated;
					    NULL = fetch time */
	int mtime_utc_offset_s; /* zone of times that carry none ("2024-05-01 16:30:00"): 0 = UTC,
				 * 28800 = Beijing (CTyun) */
	const struct kind_json *json_files; /* extra .json files; ends with { NULL }; NULL = none */
	enum paging paging;
	unsigned page_max;     /* largest page the API accepts (50) */
	unsigned rate_per_sec; /* documented request limit per second (20); 0 = unknown */
	const char *const
	    *filters; /* server-side filter names it supports; NULL-terminated; NULL = none */

	/* Incremental refresh (fs/incremental.h). update_field names the
	 * object's update time ("UpdateTime"): when set, build_page asks for
	 * every page in that field's order, most recently updated first, so a
	 * refresh can stop at the objects not updated since the last one.
	 * NULL = the API cannot order by update time: full refreshes only. */
	const char *update_field;
	/* The objects whose fields change without update_field moving (a
	 * running task's RuntimeInSeconds) are those whose active_filter
	 * ("Status", one of `filters`) is one of active_values (NULL-terminated);
	 * an incremental refresh fetches them all with that filter, asked as
	 * page_query filter_name = active_filter, filter_value = NULL (build_page
	 * then sends every active value, OR-ed). NULL = none. */
	const char *active_filter;
	const char *const *active_values;

	/* Fills rq (method, URL from c->endpoint, body, Content-Type) for page q.
	 * The signer runs afterwards. Returns 0 or a negative errno with err set. */
	int (*build_page)(const struct conn *c, const struct kind *k, const struct page_query *q,
			  struct http_req *rq, struct gcf_error *err);
	/* Finds the items and totals in a reply that reply_error found clean.
	 * Returns 0, or a negative errno (GCF_REPLY) with err set when the shape
	 * is wrong. */
	int (*parse_page)(const cJSON *reply, struct page *out, struct gcf_error *err);
};

struct provider {
	const char *name;             /* "tencent": `provider =` value and default section name */
	const char *default_endpoint; /* "https://tione.tencentcloudapi.com" */
	/* INI keys it accepts besides the common ones, and which of them hold
	 * secrets (see struct provider_key below); ends with { NULL } */
	const struct provider_key *key_table;
	size_t sizeof_priv; /* size of the per-connection private block (zeroed) */

	/* Takes one provider key from the config. Returns 0, or -EINVAL with a
	 * message in err (the caller adds file:line:key). */
	int (*configure)(struct conn *c, const char *key, const char *val, struct gcf_error *err);
	/* Called once after the section is read: takes credentials from the
	 * environment when the file gave none, checks that the required keys are
	 * there. Returns 0 or -EINVAL with err set. */
	int (*finish)(struct conn *c, struct gcf_error *err);
	/* Adds the authentication headers to a built request, as of wall-clock
	 * time `now`. Returns 0 or a negative errno with err set. */
	int (*sign)(const struct conn *c, struct http_req *rq, time_t now, struct gcf_error *err);
	/* Decides whether a reply is a cloud error. body is the parsed reply, or
	 * NULL when it was not JSON. Returns 0 when it is a success reply, else a
	 * negative errno with err's class, code, message and request_id set
	 * (http_status is set by the caller). */
	int (*reply_error)(const struct http_resp *rs, const cJSON *body, struct gcf_error *err);
	/* Wipes and frees priv (secrets). NULL = plain free(). */
	void (*release_priv)(void *priv);

	const struct kind *kinds; /* ends with { .dir = NULL } */
};

/* One configured connection: a section of the config file. */
struct conn {
	const struct provider *prov;
	char *name;         /* section name = top-level directory */
	char *endpoint;     /* base URL; prov->default_endpoint unless configured */
	unsigned ttl_s;     /* seconds a snapshot is fresh */
	unsigned timeout_s; /* total seconds one HTTP request may take */
	unsigned connect_timeout_s;
	unsigned max_rps;     /* request limit per second and action; 0 = kind's documented limit */
	unsigned concurrency; /* pages fetched at once */
	unsigned retries;     /* extra attempts for a transient failure; 0 = none */
	bool prefetch;        /* fetch every collection in the background at mount time */
	unsigned refresh_wait_s;   /* seconds a slow refresh holds readers of the old snapshot */
	unsigned stale_if_error_s; /* seconds past the TTL a snapshot may be served when refreshes
				      fail */
	unsigned full_refresh_s;   /* longest time between full refreshes of a collection that
				      refreshes incrementally (fs/incremental.h) */
	char *ca_file;             /* extra CA bundle or NULL */
	void *priv;                /* provider-private block (holds the secrets) */
};

/* NULL-terminated array of every provider table. */
extern const struct provider *const provider_registry[];

/* The provider called name, or NULL. */
const struct provider *provider_find(const char *name);

/* The kind of p whose dir is dir, or NULL. */
const struct kind *provider_kind(const struct provider *p, const char *dir);

/* The entry of p->key_table for INI key `key`, or NULL when p takes no such key. */
const struct provider_key *provider_key_find(const struct provider *p, const char *key);

/* Helpers the providers share (providers/registry.c); the rest of their
 * scaffolding is in providers/common.h, which fs/ does not see. */

/* Copies val into *slot (freeing the old value). 0 or -ENOMEM. */
int provider_set_string(char **slot, const char *val);
/* If *slot is NULL or empty, copies getenv(var) into it. 0 or -ENOMEM. */
int provider_env_default(char **slot, const char *var);
/* True when s is one of the strings of a NULL-terminated list (NULL list ok). */
bool provider_in_list(const char *const *list, const char *s);

/* Wipes and frees a secret string; NULL ok. */
void provider_free_secret(char *s);

/*
 * The string keys of a provider's private block, as a table: its INI key,
 * where it lives in the block (offsetof a char *), the environment variable
 * that supplies it when the file does not, whether it is required (with
 * the text that follows "missing <key>" when it is absent) and whether it
 * holds a secret. Ends with { NULL }. It is also the provider's
 * prov->key_table: fs/config.c accepts exactly these keys, refuses a secret
 * one in a file readable by group or others, and shows secret ones redacted.
 * The three functions below are a provider's configure, finish and
 * release_priv for such a block; a provider with extra checks calls them
 * from its own.
 */
struct provider_key {
	const char *key;
	size_t offset;
	const char *env; /* or NULL */
	bool required;
	const char *missing; /* or NULL: "(set it in the section or in ENV)" */
	bool secret;         /* holds a credential: 0600 file, redacted in dumps */
};

/* Stores val in the slot of key. 0, -EINVAL (unknown key, err set) or -ENOMEM. */
int provider_keys_configure(const struct provider_key *keys, const char *prov, void *priv,
			    const char *key, const char *val, struct gcf_error *err);
/* Fills unset slots from the environment, then checks the required ones. */
int provider_keys_finish(const struct provider_key *keys, void *priv, struct gcf_error *err);
/* Wipes every slot and the block, then frees it. NULL ok. */
void provider_keys_release(const struct provider_key *keys, void *priv, size_t sizeof_priv);

#endif
